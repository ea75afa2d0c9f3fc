"""POST /checkins: one visit, replays, conflicts, scoping, bad input, events, two paths."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from app.auth.permissions import Perm, Principal
from app.checkins.schemas import CheckinCreate
from app.checkins.service import checkin_service
from app.config import Settings
from app.core.clock import freeze
from app.db import Database
from app.main import create_app, shutdown, startup
from tests.checkins.conftest import World, integration_token
from tests.checkins.helpers import (
    NOW,
    checkin_events,
    count_checkins,
    post_checkin,
    rolled_back,
)
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_freeze, make_member, make_membership, make_plan


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with freeze(NOW):
        yield


def turnstile_event(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "club_id": world.club_id,
        "card_number": world.alice.card_number,
        "checked_in_at": "2026-03-10T08:59:30+03:00",
        "source": "turnstile",
        "device_id": "gate-1",
        "device_event_id": "184467",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


class TestRecord:
    async def test_records_a_visit_with_its_access_decision(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        r = await post_checkin(client, world.turnstile, **turnstile_event(world))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["member_id"] == str(world.alice.id)  # resolved from the card
        assert body["club_id"] == str(world.club_id)
        assert body["checked_in_at"] == "2026-03-10T05:59:30Z"
        assert body["source"] == "turnstile"
        assert (body["device_id"], body["device_event_id"]) == ("gate-1", "184467")
        assert body["access"]["allowed"] is True
        assert body["access"]["reason"] == "ok"
        assert isinstance(body["id"], int)
        assert await count_checkins(db) == 1

    async def test_instant_defaults_to_now(self, client: AsyncClient, world: World) -> None:
        r = await post_checkin(
            client, world.desk, club_id=world.club_id, member_id=world.bob.id, source="front_desk"
        )
        assert r.status_code == 201
        assert r.json()["checked_in_at"] == "2026-03-10T06:00:00Z"

    async def test_a_visit_access_would_deny_is_recorded_anyway(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        r = await post_checkin(
            client, world.turnstile, **turnstile_event(world, card_number=world.carol.card_number)
        )
        assert r.status_code == 201
        assert r.json()["access"] == {
            "allowed": False,
            "reason": "no_membership",
            "membership_id": None,
        }
        assert await count_checkins(db, member_id=world.carol.id) == 1

    async def test_up_to_five_minutes_ahead_is_accepted(
        self, client: AsyncClient, world: World
    ) -> None:
        r = await post_checkin(
            client, world.turnstile, **turnstile_event(world, checked_in_at="2026-03-10T06:05:00Z")
        )
        assert r.status_code == 201


class TestReplays:
    async def test_a_replayed_device_event_returns_the_same_checkin_with_200(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        first = await post_checkin(client, world.turnstile, **turnstile_event(world))
        again = await post_checkin(client, world.turnstile, **turnstile_event(world))
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        assert await count_checkins(db) == 1

    async def test_a_replay_by_member_id_of_a_card_event_is_the_same_event(
        self, client: AsyncClient, world: World
    ) -> None:
        first = await post_checkin(client, world.turnstile, **turnstile_event(world))
        again = await post_checkin(
            client,
            world.turnstile,
            **turnstile_event(world, card_number=None, member_id=world.alice.id),
        )
        assert again.status_code == 200
        assert again.json()["id"] == first.json()["id"]

    async def test_a_replay_without_an_instant_compares_the_member_only(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        # A device that lets the server stamp the time cannot resend the same instant.
        event = turnstile_event(world, checked_in_at=None)
        first = await post_checkin(client, world.turnstile, **event)
        with freeze(NOW.replace(minute=1)):
            again = await post_checkin(client, world.turnstile, **event)
        assert again.status_code == 200
        assert again.json()["checked_in_at"] == first.json()["checked_in_at"]
        assert await count_checkins(db) == 1

    async def test_same_device_event_with_another_member_is_422_device_event_conflict(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        await post_checkin(client, world.turnstile, **turnstile_event(world))
        r = await post_checkin(
            client, world.turnstile, **turnstile_event(world, card_number=world.bob.card_number)
        )
        assert r.status_code == 422
        assert r.json()["code"] == "device_event_conflict"
        assert await count_checkins(db) == 1
        assert len(await checkin_events(db)) == 1

    async def test_same_device_event_with_another_instant_is_422_device_event_conflict(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        await post_checkin(client, world.turnstile, **turnstile_event(world))
        r = await post_checkin(
            client, world.turnstile, **turnstile_event(world, checked_in_at="2026-03-10T05:00:00Z")
        )
        assert r.status_code == 422
        assert r.json()["code"] == "device_event_conflict"
        assert await count_checkins(db) == 1

    async def test_the_same_event_id_on_another_device_is_another_visit(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        await post_checkin(client, world.turnstile, **turnstile_event(world))
        r = await post_checkin(client, world.turnstile, **turnstile_event(world, device_id="g2"))
        assert r.status_code == 201
        assert await count_checkins(db) == 2

    async def test_visits_without_device_ids_are_not_deduplicated(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        body = {"club_id": world.club_id, "member_id": world.bob.id, "source": "front_desk"}
        for _ in range(2):
            assert (await post_checkin(client, world.desk, **body)).status_code == 201
        assert await count_checkins(db) == 2

    async def test_idempotency_key_deduplicates_visits_without_device_ids(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        body = {"club_id": str(world.club_id), "member_id": str(world.bob.id), "source": "app"}
        headers = {**bearer(world.desk), "Idempotency-Key": "visit-1"}
        first = await client.post("/api/v1/checkins", json=body, headers=headers)
        again = await client.post("/api/v1/checkins", json=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert await count_checkins(db) == 1


class TestNotFound:
    async def test_unknown_member_is_404_member_not_found(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        r = await post_checkin(
            client,
            world.turnstile,
            **turnstile_event(world, card_number=None, member_id=uuid.uuid4()),
        )
        assert r.status_code == 404
        assert r.json()["code"] == "member_not_found"
        assert await count_checkins(db) == 0

    async def test_unknown_card_is_404_member_not_found(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        r = await post_checkin(
            client, world.turnstile, **turnstile_event(world, card_number="NO-SUCH-CARD")
        )
        assert r.status_code == 404
        assert r.json()["code"] == "member_not_found"
        assert await count_checkins(db) == 0

    async def test_another_clubs_member_is_404_like_an_unknown_one(
        self, client: AsyncClient, world: World, admin_token: str, db: Database
    ) -> None:
        unknown = await post_checkin(
            client, admin_token, **turnstile_event(world, card_number=None, member_id=uuid.uuid4())
        )
        foreign = await post_checkin(
            client,
            admin_token,
            **turnstile_event(world, card_number=None, member_id=world.stranger.id),
        )
        assert foreign.status_code == unknown.status_code == 404
        assert foreign.json() == unknown.json()
        assert await count_checkins(db) == 0

    async def test_a_club_scoped_turnstile_cannot_post_for_another_club(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        # The other club's turnstile, with our club id and our member: nothing leaks.
        r = await post_checkin(client, world.other_turnstile, **turnstile_event(world))
        assert r.status_code == 404
        assert r.json()["code"] == "member_not_found"
        assert await count_checkins(db) == 0

    async def test_a_member_pinned_token_checks_in_only_its_member(
        self, client: AsyncClient, world: World, admin_token: str, db: Database
    ) -> None:
        r = await client.post(
            "/api/v1/tokens",
            json={
                "name": "Alice's app",
                "club_id": str(world.club_id),
                "scopes": ["checkins:write"],
                "member_id": str(world.alice.id),
            },
            headers=bearer(admin_token),
        )
        app_token = r.json()["token"]
        own = await post_checkin(
            client, app_token, club_id=world.club_id, member_id=world.alice.id, source="app"
        )
        other = await post_checkin(
            client, app_token, club_id=world.club_id, member_id=world.bob.id, source="app"
        )
        by_card = await post_checkin(
            client,
            app_token,
            club_id=world.club_id,
            card_number=world.bob.card_number,
            source="app",
        )
        assert own.status_code == 201
        assert (other.status_code, by_card.status_code) == (404, 404)
        assert await count_checkins(db) == 1

    async def test_a_token_without_checkins_write_is_403(
        self, client: AsyncClient, world: World, admin_token: str, db: Database
    ) -> None:
        reader = await integration_token(client, admin_token, world.club_id, ["access:check"])
        r = await post_checkin(client, reader, **turnstile_event(world))
        assert r.status_code == 403
        assert await count_checkins(db) == 0


class TestBadInput:
    async def _rejected(
        self, client: AsyncClient, world: World, db: Database, **overrides: Any
    ) -> dict[str, Any]:
        r = await post_checkin(client, world.turnstile, **turnstile_event(world, **overrides))
        assert r.status_code == 422, r.text
        assert await count_checkins(db) == 0
        return dict(r.json())

    async def test_a_naive_instant_is_422(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        body = await self._rejected(client, world, db, checked_in_at="2026-03-10T08:59:30")
        assert body["code"] == "validation_error"
        assert body["errors"][0]["pointer"] == "/checked_in_at"
        assert "offset" in body["errors"][0]["detail"]

    @pytest.mark.parametrize("value", [1773122370, "2026-03-10", "10.03.2026 08:59", "yesterday"])
    async def test_anything_but_rfc3339_is_422(
        self, client: AsyncClient, world: World, db: Database, value: Any
    ) -> None:
        body = await self._rejected(client, world, db, checked_in_at=value)
        assert body["code"] == "validation_error"

    async def test_more_than_five_minutes_ahead_is_422_checkin_in_future(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        body = await self._rejected(client, world, db, checked_in_at="2026-03-10T06:05:01Z")
        assert body["code"] == "checkin_in_future"

    async def test_both_member_id_and_card_number_is_422(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        body = await self._rejected(client, world, db, member_id=world.alice.id)
        assert body["code"] == "validation_error"

    async def test_neither_member_id_nor_card_number_is_422(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        body = await self._rejected(client, world, db, card_number=None)
        assert body["code"] == "validation_error"

    async def test_a_device_event_id_without_a_device_id_is_422(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        body = await self._rejected(client, world, db, device_id=None)
        assert body["code"] == "validation_error"

    async def test_an_unknown_source_is_422(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        body = await self._rejected(client, world, db, source="kiosk")
        assert body["code"] == "validation_error"

    async def test_unknown_fields_are_422(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        body = await self._rejected(client, world, db, allowed=True)
        assert body["code"] == "validation_error"


class TestEvents:
    async def test_a_new_checkin_emits_checkin_recorded(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        r = await post_checkin(client, world.turnstile, **turnstile_event(world))
        assert await checkin_events(db) == [
            {
                "kind": "single",
                "id": r.json()["id"],
                "club_id": str(world.club_id),
                "member_id": str(world.alice.id),
                "checked_in_at": "2026-03-10T05:59:30+00:00",
                "source": "turnstile",
                "device_id": "gate-1",
                "device_event_id": "184467",
            }
        ]

    async def test_a_replay_emits_nothing_more(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        for _ in range(3):
            await post_checkin(client, world.turnstile, **turnstile_event(world))
        assert len(await checkin_events(db)) == 1


def principal_of(world: World) -> Principal:
    return Principal(
        token_id=uuid.uuid4(),
        kind="integration",
        name="turnstile",
        staff_id=None,
        roles=frozenset(),
        permissions=frozenset({Perm.CHECKINS_WRITE}),
        club_ids=frozenset({world.club_id}),
    )


class TestTwoPaths:
    """The one-statement PostgreSQL path and the portable path agree, events included."""

    @pytest.mark.parametrize(
        "scenario",
        ["new", "replay", "conflict", "unknown", "denied", "limited", "frozen", "no_key"],
    )
    async def test_fast_and_portable_paths_agree(
        self, world: World, db: Database, scenario: str
    ) -> None:
        member_id = None
        if scenario in ("limited", "frozen"):
            plan = await make_plan(db, world.club_id, visit_limit=1)
            member = await make_member(db, world.club_id)
            member_id = member.id
            m = await make_membership(db, member, plan, start_date=date(2026, 3, 1))
            if scenario == "frozen":
                await make_freeze(db, m, start_date=date(2026, 3, 10), end_date=date(2026, 3, 20))
        outcomes = []
        for fast in (True, False):
            async with rolled_back(db) as s:
                outcomes.append(await _run(s, world, scenario, fast, db, member_id))
        assert outcomes[0] == outcomes[1]


async def _run(
    s: Any, world: World, scenario: str, fast: bool, db: Database, member_id: uuid.UUID | None
) -> Any:
    """Record the scenario's check-ins; what came back (or the error) and the events."""

    def create(**overrides: Any) -> CheckinCreate:
        return CheckinCreate.model_validate(turnstile_event(world, **overrides))

    record = checkin_service.record
    p = principal_of(world)
    out: list[Any] = []
    try:
        if scenario == "unknown":
            await record(s, p, create(card_number="NOPE"), as_of=NOW, fast_path=fast)
        if scenario in ("replay", "conflict"):
            await record(s, p, create(), as_of=NOW, fast_path=fast)
        if scenario == "conflict":
            await record(s, p, create(card_number=world.bob.card_number), as_of=NOW, fast_path=fast)
        if member_id is not None:
            for i in range(2):
                c, d, created = await record(
                    s,
                    p,
                    create(card_number=None, member_id=member_id, device_event_id=f"v{i}"),
                    as_of=NOW,
                    fast_path=fast,
                )
                out.append((c.member_id, c.checked_in_at, d.allowed, d.reason, created))
        overrides: dict[str, Any] = {}
        if scenario == "denied":
            overrides = {"card_number": world.carol.card_number}
        if scenario == "no_key":
            overrides = {"device_id": None, "device_event_id": None}
        c, d, created = await record(s, p, create(**overrides), as_of=NOW, fast_path=fast)
        out.append((c.member_id, c.checked_in_at, c.source, d.allowed, d.reason, created))
    except Exception as exc:  # the same problem from both paths
        out.append((type(exc).__name__, getattr(exc, "code", None)))
    await s.flush()
    events = [{k: v for k, v in e.items() if k != "id"} for e in await checkin_events(db)]
    return out, events


class TestConcurrency:
    async def test_concurrent_posts_of_one_device_event_record_it_once(
        self, isolated_db: Database, settings: Settings
    ) -> None:
        application = create_app(
            settings.model_copy(update={"database_url": str(isolated_db.engine.url)}),
            db=isolated_db,
            run_scheduler=False,
        )
        await startup(application)
        try:
            transport = ASGITransport(app=application)
            async with AsyncClient(transport=transport, base_url="http://test") as client:
                admin = await make_token(isolated_db, "admin")
                club = await make_club(client, admin)
                club_id = uuid.UUID(club["id"])
                member = await make_member(isolated_db, club_id)
                token = await integration_token(client, admin, club_id, ["checkins:write"])
                body = {
                    "club_id": str(club_id),
                    "member_id": str(member.id),
                    "checked_in_at": "2026-03-10T05:00:00Z",
                    "source": "turnstile",
                    "device_id": "gate-1",
                    "device_event_id": "race",
                }
                results = await asyncio.gather(
                    *(
                        client.post("/api/v1/checkins", json=body, headers=bearer(token))
                        for _ in range(8)
                    )
                )
        finally:
            await shutdown(application)
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200] * 7 + [201]
        assert len({r.json()["id"] for r in results}) == 1
        assert await count_checkins(isolated_db) == 1
        assert len(await checkin_events(isolated_db)) == 1
