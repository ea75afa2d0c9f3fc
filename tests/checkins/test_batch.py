"""POST /checkins/batch: formats, per-row outcomes, limits, events, and the two paths."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.auth.permissions import Perm, Principal
from app.checkins import repository
from app.checkins.parsing import Format
from app.checkins.service import IngestReport, checkin_service
from app.core.clock import freeze
from app.db import Database
from tests.checkins.conftest import World
from tests.checkins.helpers import (
    NOW,
    checkin_events,
    count_checkins,
    fixture_text,
    post_batch,
    post_checkin,
    rolled_back,
    stored_rows,
)
from tests.fixtures.factories import bearer

FORMATS = ["csv", "ndjson", "json"]

# The fixture files hold one record per outcome; index -> expected rejection code.
REJECTED = {
    4: "device_event_conflict",  # gate-1/e1 again, another member
    6: "device_event_conflict",  # gate-2/e0 (stored before the batch), another instant
    7: "naive_instant",
    8: "checkin_in_future",
    9: "member_not_found",  # unknown member id
    10: "member_not_found",  # unknown card
    11: "member_not_found",  # another club's member, our club id
    12: "member_not_found",  # another club (not visible to this token)
    13: "missing_field",  # no source
    14: "invalid_field",  # member_id and card_number
    15: {"csv": "malformed_csv", "ndjson": "malformed_json", "json": "invalid_row"},
    17: "invalid_field",  # unknown source
}
ACCEPTED = [0, 1, 2, 16]
DUPLICATES = [3, 5]  # exact replay of row 0; the stored gate-2/e0 event


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with freeze(NOW):
        yield


async def seed_stored_event(client: AsyncClient, world: World) -> None:
    """gate-2/e0 is recorded before the batch arrives."""
    r = await post_checkin(
        client,
        world.turnstile,
        club_id=world.club_id,
        member_id=world.alice.id,
        checked_in_at="2026-03-08T10:00:00Z",
        source="turnstile",
        device_id="gate-2",
        device_event_id="e0",
    )
    assert r.status_code == 201, r.text


def expected_rejections(fmt: str) -> list[tuple[int, str]]:
    out = []
    for index, code in REJECTED.items():
        out.append((index, code[fmt] if isinstance(code, dict) else code))
    return out


class TestFixtureFiles:
    @pytest.mark.parametrize("fmt", FORMATS)
    async def test_good_rows_are_kept_and_bad_rows_reported(
        self, client: AsyncClient, world: World, db: Database, fmt: str
    ) -> None:
        await seed_stored_event(client, world)
        r = await post_batch(client, world.turnstile, fmt, fixture_text(world, fmt))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["accepted"] == len(ACCEPTED)
        assert body["duplicates"] == len(DUPLICATES)
        assert [(x["index"], x["code"]) for x in body["rejected"]] == expected_rejections(fmt)
        assert body["rejected_count"] == len(REJECTED)
        assert await count_checkins(db, club_id=world.club_id) == 1 + len(ACCEPTED)
        assert await count_checkins(db, club_id=world.other_club_id) == 0

    @pytest.mark.parametrize("fmt", ["csv", "ndjson"])
    async def test_rejections_name_the_line_of_the_body(
        self, client: AsyncClient, world: World, fmt: str
    ) -> None:
        r = await post_batch(client, world.turnstile, fmt, fixture_text(world, fmt))
        header = 1 if fmt == "csv" else 0
        assert all(x["line"] == x["index"] + 1 + header for x in r.json()["rejected"])

    async def test_every_format_stores_the_same_rows(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        await seed_stored_event(client, world)
        results = []
        for fmt in FORMATS:
            async with rolled_back(db):
                r = await post_batch(client, world.turnstile, fmt, fixture_text(world, fmt))
                assert r.status_code == 200
                results.append(await stored_rows(db, world.club_id))
        assert results[0] == results[1] == results[2]
        assert len(results[0]) == 1 + len(ACCEPTED)


def principal_for(world: World) -> Principal:
    return Principal(
        token_id=uuid.uuid4(),
        kind="integration",
        name="turnstile",
        staff_id=None,
        roles=frozenset(),
        permissions=frozenset({Perm.CHECKINS_WRITE}),
        club_ids=frozenset({world.club_id}),
    )


async def _body(text: str, size: int = 97) -> AsyncIterator[bytes]:
    data = text.encode()
    for i in range(0, len(data), size):  # odd-sized pieces: lines split across chunks
        yield data[i : i + size]


async def run_ingest(
    db: Database, world: World, fmt: str, *, fast: bool, chunk_rows: int = 5
) -> tuple[IngestReport, list[tuple[Any, ...]], list[dict[str, Any]]]:
    """Ingest a fixture file through the service and undo it; report, rows, events."""
    async with rolled_back(db) as s:
        report = await checkin_service.ingest_upload(
            s,
            principal_for(world),
            Format(fmt),
            _body(fixture_text(world, fmt)),
            as_of=NOW,
            max_rows=1000,
            chunk_rows=chunk_rows,
            fast_path=fast,
        )
        await s.flush()
        rows = await stored_rows(db, world.club_id)
        events = [{k: v for k, v in e.items() if k != "batch_id"} for e in await checkin_events(db)]
    return report, rows, events


def _summary(report: IngestReport) -> tuple[Any, ...]:
    return (
        report.accepted,
        report.duplicates,
        report.rejected_count,
        [(r.index, r.code, r.detail, r.line) for r in report.rejected],
    )


class TestTwoPaths:
    """The PostgreSQL COPY path and the portable path give identical results."""

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize("chunk_rows", [5, 1000])
    async def test_copy_path_and_portable_path_agree(
        self,
        client: AsyncClient,
        world: World,
        db: Database,
        dialect: str,
        fmt: str,
        chunk_rows: int,
    ) -> None:
        await seed_stored_event(client, world)
        fast = await run_ingest(db, world, fmt, fast=True, chunk_rows=chunk_rows)
        portable = await run_ingest(db, world, fmt, fast=False, chunk_rows=chunk_rows)
        assert _summary(fast[0]) == _summary(portable[0])
        assert fast[1] == portable[1]  # the same rows stored
        assert fast[2] == portable[2]  # the same events
        assert fast[0].accepted == len(ACCEPTED)
        if dialect == "postgresql":  # on SQLite both calls take the portable path
            assert len(fast[1]) == 1 + len(ACCEPTED)

    @pytest.mark.postgres_only
    async def test_postgresql_takes_the_copy_path(
        self, db: Database, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async def portable(*args: Any, **kwargs: Any) -> None:
            raise AssertionError("the portable path ran")

        monkeypatch.setattr(repository, "_ingest_chunk_portable", portable)
        report, rows, _ = await run_ingest(db, world, "csv", fast=True)
        assert report.accepted == 5  # rows 0, 1, 2, 5 (nothing stored before) and 16
        assert len(rows) == 5

    @pytest.mark.postgres_only
    async def test_copy_path_detects_duplicates_inside_one_chunk_and_across_chunks(
        self, db: Database, world: World
    ) -> None:
        lines = ["club_id,member_id,checked_in_at,source,device_id,device_event_id"]
        for i in range(300):
            event = i % 120  # every event id three times, far apart
            lines.append(
                f"{world.club_id},{world.alice.id},2026-03-09T10:{event // 60:02d}:"
                f"{event % 60:02d}Z,turnstile,gate-x,{event}"
            )
        text = "\n".join(lines) + "\n"
        results = []
        for fast in (True, False):
            async with rolled_back(db) as s:
                report = await checkin_service.ingest_upload(
                    s,
                    principal_for(world),
                    Format.CSV,
                    _body(text, 1000),
                    as_of=NOW,
                    max_rows=1000,
                    chunk_rows=100,
                    fast_path=fast,
                )
                results.append(_summary(report))
        assert results[0] == results[1]
        assert results[0][:3] == (120, 180, 0)


class TestWholeRequestFailures:
    async def test_more_rows_than_the_limit_is_413_and_writes_nothing(
        self, app: FastAPI, client: AsyncClient, world: World, db: Database
    ) -> None:
        app.state.settings = app.state.settings.model_copy(
            update={"checkin_batch_max_rows": 5, "checkin_batch_chunk_rows": 100}
        )
        rows = [
            {"club_id": str(world.club_id), "member_id": str(world.alice.id), "source": "app"}
            for _ in range(6)
        ]
        r = await post_batch(client, world.turnstile, "json", json.dumps(rows))
        assert r.status_code == 413
        assert r.json()["code"] == "batch_too_large"
        assert await count_checkins(db) == 0
        assert await checkin_events(db) == []

    async def test_rows_written_before_the_limit_is_hit_are_rolled_back(
        self, app: FastAPI, client: AsyncClient, world: World, db: Database
    ) -> None:
        app.state.settings = app.state.settings.model_copy(
            update={"checkin_batch_max_rows": 250, "checkin_batch_chunk_rows": 100}
        )
        line = json.dumps(
            {"club_id": str(world.club_id), "member_id": str(world.alice.id), "source": "app"}
        )
        r = await post_batch(client, world.turnstile, "ndjson", (line + "\n") * 251)
        assert r.status_code == 413
        assert r.json()["code"] == "batch_too_large"
        assert await count_checkins(db) == 0

    async def test_exactly_the_limit_is_accepted(
        self, app: FastAPI, client: AsyncClient, world: World, db: Database
    ) -> None:
        app.state.settings = app.state.settings.model_copy(update={"checkin_batch_max_rows": 3})
        line = json.dumps(
            {"club_id": str(world.club_id), "member_id": str(world.alice.id), "source": "app"}
        )
        r = await post_batch(client, world.turnstile, "ndjson", (line + "\n") * 3)
        assert r.status_code == 200
        assert r.json()["accepted"] == 3

    async def test_csv_without_required_columns_is_422_missing_columns(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        body = f"club_id,member_id,checked_in_at\n{world.club_id},{world.alice.id},\n"
        r = await post_batch(client, world.turnstile, "csv", body)
        assert r.status_code == 422
        assert r.json()["code"] == "missing_columns"
        assert "source" in r.json()["detail"]
        assert await count_checkins(db) == 0

    async def test_csv_without_a_member_column_is_422_missing_columns(
        self, client: AsyncClient, world: World
    ) -> None:
        r = await post_batch(client, world.turnstile, "csv", "club_id,source\nx,app\n")
        assert r.status_code == 422
        assert r.json()["code"] == "missing_columns"

    async def test_csv_with_an_unknown_column_is_422_unknown_columns(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        # A misspelt instant column must not silently default every visit to "now".
        body = (
            "club_id,member_id,source,checkedin_at\n"
            f"{world.club_id},{world.alice.id},app,2026-03-09T10:00:00Z\n"
        )
        r = await post_batch(client, world.turnstile, "csv", body)
        assert r.status_code == 422
        assert r.json()["code"] == "unknown_columns"
        assert await count_checkins(db) == 0

    async def test_empty_csv_is_422_missing_columns(
        self, client: AsyncClient, world: World
    ) -> None:
        r = await post_batch(client, world.turnstile, "csv", "")
        assert r.status_code == 422
        assert r.json()["code"] == "missing_columns"

    async def test_truncated_json_array_is_422_and_writes_nothing(
        self, app: FastAPI, client: AsyncClient, world: World, db: Database
    ) -> None:
        app.state.settings = app.state.settings.model_copy(update={"checkin_batch_chunk_rows": 100})
        row = json.dumps(
            {"club_id": str(world.club_id), "member_id": str(world.alice.id), "source": "app"}
        )
        body = "[" + ",".join([row] * 250) + ', {"club_id": '
        r = await post_batch(client, world.turnstile, "json", body)
        assert r.status_code == 422
        assert r.json()["code"] == "malformed_json"
        assert await count_checkins(db) == 0

    async def test_json_body_that_is_not_an_array_is_422(
        self, client: AsyncClient, world: World
    ) -> None:
        r = await post_batch(client, world.turnstile, "json", '{"club_id": "x"}')
        assert r.status_code == 422
        assert r.json()["code"] == "malformed_json"

    async def test_other_content_types_are_415(self, client: AsyncClient, world: World) -> None:
        r = await client.post(
            "/api/v1/checkins/batch",
            content=b"<checkins/>",
            headers={**bearer(world.turnstile), "Content-Type": "application/xml"},
        )
        assert r.status_code == 415
        assert r.json()["code"] == "unsupported_media_type"

    async def test_a_token_without_checkins_write_is_403(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        from tests.fixtures.factories import make_token

        trainer = await make_token(db, "trainer", club_ids=[world.club_id])
        r = await post_batch(client, trainer, "ndjson", "")
        assert r.status_code == 403

    async def test_body_over_the_batch_byte_limit_is_413(
        self, settings: Any, db: Database, world: World
    ) -> None:
        from httpx import ASGITransport

        from app.main import create_app, shutdown, startup

        small = settings.model_copy(update={"batch_max_body_bytes": 2048})
        application = create_app(small, db=db, run_scheduler=False)
        await startup(application)
        try:
            transport = ASGITransport(app=application)
            async with AsyncClient(transport=transport, base_url="http://test") as c:
                r = await post_batch(c, world.turnstile, "ndjson", "x" * 5000)
        finally:
            await shutdown(application)
        assert r.status_code == 413
        assert r.json()["code"] == "payload_too_large"


class TestRows:
    async def test_ndjson_line_that_is_not_json_is_rejected_and_others_kept(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        good = json.dumps(
            {"club_id": str(world.club_id), "member_id": str(world.alice.id), "source": "app"}
        )
        r = await post_batch(client, world.turnstile, "ndjson", f"{good}\n{{oops\n\n{good}\n")
        assert r.json()["accepted"] == 2
        assert r.json()["rejected"] == [
            {"index": 1, "code": "malformed_json", "detail": "line is not valid JSON", "line": 2}
        ]
        assert await count_checkins(db) == 2

    async def test_malformed_csv_quoting_is_rejected_and_others_kept(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        body = (
            "club_id,member_id,source\n"
            f'{world.club_id},"{world.alice.id}"x,app\n'
            f'{world.club_id},"{world.alice.id},app\n'
            f"{world.club_id},{world.bob.id},app\n"
        )
        r = await post_batch(client, world.turnstile, "csv", body)
        assert r.json()["accepted"] == 1
        assert [x["code"] for x in r.json()["rejected"]] == ["malformed_csv", "malformed_csv"]
        assert await count_checkins(db, member_id=world.bob.id) == 1
        assert await count_checkins(db, member_id=world.alice.id) == 0

    async def test_csv_accepts_quotes_bom_crlf_and_no_final_newline(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        body = (
            "\ufeffCLUB_ID, Member_Id ,source\r\n"
            f'"{world.club_id}","{world.alice.id}",app\r\n'
            f"{world.club_id},{world.bob.id},front_desk"
        )
        r = await post_batch(client, world.turnstile, "csv", body)
        assert r.json()["accepted"] == 2, r.text

    async def test_an_overlong_line_is_rejected_without_losing_the_next(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        good = json.dumps(
            {"club_id": str(world.club_id), "member_id": str(world.alice.id), "source": "app"}
        )
        body = f'{{"x": "{"y" * 70_000}"}}\n{good}\n'
        r = await post_batch(client, world.turnstile, "ndjson", body)
        assert r.json()["accepted"] == 1
        assert r.json()["rejected"][0]["code"] == "malformed_row"

    async def test_rows_for_another_club_through_a_club_scoped_token_are_member_not_found(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        row = {"club_id": str(world.club_id), "member_id": str(world.alice.id), "source": "app"}
        r = await post_batch(client, world.other_turnstile, "json", json.dumps([row]))
        assert r.json()["accepted"] == 0
        assert r.json()["rejected"][0]["code"] == "member_not_found"
        assert r.json()["rejected"][0]["detail"] == "Member not found in this club."
        assert await count_checkins(db) == 0

    async def test_a_replayed_batch_records_nothing_twice(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        text = fixture_text(world, "csv")
        first = (await post_batch(client, world.turnstile, "csv", text)).json()
        again = (await post_batch(client, world.turnstile, "csv", text)).json()
        # Keyed rows come back as duplicates; the one row without device ids (carol,
        # default instant) is recorded again: such clients use Idempotency-Key.
        assert again["accepted"] == 1
        assert again["duplicates"] == first["duplicates"] + first["accepted"] - 1
        assert await count_checkins(db, member_id=world.carol.id) == 2

    async def test_idempotency_key_replays_a_batch_response(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        row = {"club_id": str(world.club_id), "member_id": str(world.alice.id), "source": "app"}
        body = json.dumps([row, row])
        first = await post_batch(client, world.turnstile, "json", body, **{"Idempotency-Key": "k1"})
        again = await post_batch(client, world.turnstile, "json", body, **{"Idempotency-Key": "k1"})
        assert (
            again.json()
            == first.json()
            == {
                "accepted": 2,
                "duplicates": 0,
                "rejected": [],
                "rejected_count": 0,
            }
        )
        assert again.headers.get("idempotent-replayed") == "true"
        assert await count_checkins(db) == 2

    async def test_rejected_rows_are_listed_up_to_a_thousand_and_all_counted(
        self, client: AsyncClient, world: World
    ) -> None:
        r = await post_batch(client, world.turnstile, "ndjson", "{oops\n" * 1500)
        body = r.json()
        assert body["rejected_count"] == 1500
        assert [x["index"] for x in body["rejected"]] == list(range(1000))

    async def test_a_member_pinned_token_cannot_upload_batches(
        self, client: AsyncClient, admin_token: str, world: World
    ) -> None:
        r = await client.post(
            "/api/v1/tokens",
            json={
                "name": "member app",
                "club_id": str(world.club_id),
                "scopes": ["checkins:write"],
                "member_id": str(world.alice.id),
            },
            headers=bearer(admin_token),
        )
        r = await post_batch(client, r.json()["token"], "ndjson", "")
        assert r.status_code == 403


class TestEvents:
    async def test_a_batch_emits_one_summary_event_per_club(
        self, client: AsyncClient, admin_token: str, world: World, db: Database
    ) -> None:
        from tests.fixtures.ledger import make_member

        visitor = await make_member(db, world.other_club_id)
        rows = [
            {
                "club_id": str(world.club_id),
                "member_id": str(world.alice.id),
                "checked_in_at": f"2026-03-09T1{i}:00:00Z",
                "source": "turnstile",
            }
            for i in range(3)
        ] + [{"club_id": str(world.other_club_id), "member_id": str(visitor.id), "source": "app"}]
        r = await post_batch(client, admin_token, "json", json.dumps(rows))
        assert r.json()["accepted"] == 4
        events = await checkin_events(db)
        assert len(events) == 2
        by_club = {e["club_id"]: e for e in events}
        ours = by_club[str(world.club_id)]
        assert ours["kind"] == "batch"
        assert ours["count"] == 3
        assert ours["first_checked_in_at"] == "2026-03-09T10:00:00+00:00"
        assert ours["last_checked_in_at"] == "2026-03-09T12:00:00+00:00"
        assert by_club[str(world.other_club_id)]["count"] == 1
        assert ours["batch_id"] == by_club[str(world.other_club_id)]["batch_id"]

    async def test_a_batch_with_nothing_accepted_emits_nothing(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        await post_batch(client, world.turnstile, "ndjson", "{oops\n")
        assert await checkin_events(db) == []
