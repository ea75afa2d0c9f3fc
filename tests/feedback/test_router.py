"""POST /feedback and GET /feedback: scores 0-10, one answer per call or meeting,
club scope, unhappy paths that change nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.clock import freeze
from app.db import Database
from app.models import AuditEntry, Feedback, Member
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member
from tests.fixtures.meetings import make_meeting
from tests.fixtures.outreach import make_call
from tests.fixtures.retention import problem, rows

URL = "/api/v1/feedback"


@pytest.fixture
async def caller(db: Database, club: dict[str, Any]) -> str:
    return await make_token(db, "caller", club_ids=[uuid.UUID(club["id"])], name="Cleo Caller")


@pytest.fixture
async def member_id(db: Database, club: dict[str, Any]) -> str:
    return str((await make_member(db, club["id"])).id)


async def meeting_of(db: Database, member_id: str) -> Any:
    async with db.sessionmaker() as s:
        member = await s.get(Member, uuid.UUID(member_id))
    assert member is not None
    return await make_meeting(db, member, starts_at=datetime(2026, 3, 1, 9, tzinfo=UTC))


async def give(client: AsyncClient, token: str, **body: Any) -> dict[str, Any]:
    r = await client.post(URL, json=body, headers=bearer(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


class TestCreate:
    async def test_records_score_comment_and_who(
        self, client: AsyncClient, caller: str, member_id: str, club: dict[str, Any]
    ) -> None:
        fb = await give(client, caller, member_id=member_id, score=9, comment="Great trainers")
        assert (fb["score"], fb["comment"]) == (9, "Great trainers")
        assert fb["club_id"] == club["id"]
        assert fb["recorded_by_id"] is not None

    @pytest.mark.parametrize("score", [0, 10])
    async def test_scale_ends_are_accepted(
        self, client: AsyncClient, caller: str, member_id: str, score: int
    ) -> None:
        fb = await give(client, caller, member_id=member_id, score=score)
        assert fb["score"] == score

    @pytest.mark.parametrize("score", [-1, 11, 7.5, "9"])
    async def test_a_score_outside_0_to_10_is_refused(
        self, client: AsyncClient, db: Database, caller: str, member_id: str, score: Any
    ) -> None:
        before = await rows(db, Feedback)
        r = await client.post(
            URL, json={"member_id": member_id, "score": score}, headers=bearer(caller)
        )
        body = problem(r, 422, "validation_error")
        assert body["errors"][0]["pointer"] == "/score"
        assert await rows(db, Feedback) == before

    async def test_a_second_answer_for_one_call_is_a_conflict(
        self, client: AsyncClient, db: Database, caller: str, member_id: str
    ) -> None:
        member = uuid.UUID(member_id)
        club_id = (await db_member(db, member)).club_id
        call_id = str((await make_call(db, member, club_id)).id)
        await give(client, caller, member_id=member_id, score=8, call_id=call_id)
        before = await rows(db, Feedback)
        r = await client.post(
            URL,
            json={"member_id": member_id, "score": 3, "call_id": call_id},
            headers=bearer(caller),
        )
        problem(r, 409, "feedback_exists")
        assert await rows(db, Feedback) == before

    async def test_a_second_answer_for_one_meeting_is_a_conflict(
        self, client: AsyncClient, db: Database, caller: str, member_id: str
    ) -> None:
        meeting_id = str((await meeting_of(db, member_id)).id)
        await give(client, caller, member_id=member_id, score=8, meeting_id=meeting_id)
        before = await rows(db, Feedback)
        r = await client.post(
            URL,
            json={"member_id": member_id, "score": 3, "meeting_id": meeting_id},
            headers=bearer(caller),
        )
        problem(r, 409, "feedback_exists")
        assert await rows(db, Feedback) == before

    async def test_an_unknown_meeting_is_not_found(
        self, client: AsyncClient, db: Database, caller: str, member_id: str
    ) -> None:
        before = await rows(db, Feedback)
        r = await client.post(
            URL,
            json={"member_id": member_id, "score": 3, "meeting_id": str(uuid.uuid4())},
            headers=bearer(caller),
        )
        problem(r, 404, "meeting_not_found")
        assert await rows(db, Feedback) == before

    async def test_another_members_or_an_unknown_call_is_refused(
        self, client: AsyncClient, db: Database, caller: str, member_id: str, club: dict
    ) -> None:
        other = await make_member(db, club["id"])
        foreign = await make_call(db, other.id, other.club_id)
        before = await rows(db, Feedback)
        for call_id in (str(foreign.id), str(uuid.uuid4())):
            r = await client.post(
                URL,
                json={"member_id": member_id, "score": 3, "call_id": call_id},
                headers=bearer(caller),
            )
            body = problem(r, 422, "call_mismatch")
            assert body["errors"][0]["pointer"] == "/call_id"
        assert await rows(db, Feedback) == before

    async def test_another_members_meeting_is_refused(
        self, client: AsyncClient, db: Database, caller: str, member_id: str, club: dict
    ) -> None:
        other = await make_member(db, club["id"])
        meeting = await meeting_of(db, str(other.id))
        before = await rows(db, Feedback)
        r = await client.post(
            URL,
            json={"member_id": member_id, "score": 3, "meeting_id": str(meeting.id)},
            headers=bearer(caller),
        )
        body = problem(r, 422, "meeting_mismatch")
        assert body["errors"][0]["pointer"] == "/meeting_id"
        assert await rows(db, Feedback) == before

    async def test_feedback_from_a_meeting_names_it(
        self, client: AsyncClient, db: Database, caller: str, member_id: str
    ) -> None:
        meeting = await meeting_of(db, member_id)
        fb = await give(client, caller, member_id=member_id, score=9, meeting_id=str(meeting.id))
        assert fb["meeting_id"] == str(meeting.id)

    async def test_another_clubs_member_is_not_found(
        self, client: AsyncClient, db: Database, caller: str, admin_token: str
    ) -> None:
        other = await make_club(client, admin_token, name="Elsewhere")
        stranger = await make_member(db, other["id"])
        before = await rows(db, Feedback)
        r = await client.post(
            URL, json={"member_id": str(stranger.id), "score": 5}, headers=bearer(caller)
        )
        problem(r, 404, "member_not_found")
        assert await rows(db, Feedback) == before

    async def test_an_erased_member_cannot_give_feedback(
        self, client: AsyncClient, db: Database, caller: str, admin_token: str, member_id: str
    ) -> None:
        r = await client.delete(f"/api/v1/members/{member_id}", headers=bearer(admin_token))
        assert r.status_code == 204
        before = await rows(db, Feedback)
        r = await client.post(
            URL, json={"member_id": member_id, "score": 5}, headers=bearer(caller)
        )
        problem(r, 409, "member_erased")
        assert await rows(db, Feedback) == before

    async def test_a_trainer_may_not_record_feedback(
        self, client: AsyncClient, db: Database, club: dict[str, Any], member_id: str
    ) -> None:
        trainer = await make_token(db, "trainer", club_ids=[uuid.UUID(club["id"])])
        r = await client.post(
            URL, json={"member_id": member_id, "score": 5}, headers=bearer(trainer)
        )
        problem(r, 403, "forbidden")

    async def test_unknown_fields_are_refused(
        self, client: AsyncClient, caller: str, member_id: str
    ) -> None:
        r = await client.post(
            URL, json={"member_id": member_id, "score": 5, "club_id": "x"}, headers=bearer(caller)
        )
        problem(r, 422, "validation_error")

    async def test_a_nul_in_the_comment_is_refused(
        self, client: AsyncClient, db: Database, caller: str, member_id: str
    ) -> None:
        r = await client.post(
            URL,
            json={"member_id": member_id, "score": 5, "comment": "a\x00b"},
            headers=bearer(caller),
        )
        problem(r, 422, "validation_error")

    async def test_a_retried_post_with_the_same_key_records_once(
        self, client: AsyncClient, db: Database, caller: str, member_id: str
    ) -> None:
        headers = {**bearer(caller), "Idempotency-Key": "fb-1"}
        body = {"member_id": member_id, "score": 10}
        first = await client.post(URL, json=body, headers=headers)
        second = await client.post(URL, json=body, headers=headers)
        assert first.status_code == second.status_code == 201
        assert first.json()["id"] == second.json()["id"]
        assert len((await rows(db, Feedback))["feedback"]) == 1

    async def test_feedback_is_not_audited(
        self, client: AsyncClient, db: Database, caller: str, member_id: str
    ) -> None:
        """A score is no money, date, consent or flag: the audit trail stays lean."""
        before = await rows(db, AuditEntry)
        await give(client, caller, member_id=member_id, score=6)
        assert await rows(db, AuditEntry) == before


class TestList:
    async def test_newest_first_and_filtered_by_member(
        self, client: AsyncClient, db: Database, caller: str, member_id: str, club: dict[str, Any]
    ) -> None:
        other = str((await make_member(db, club["id"])).id)
        t0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
        for i, (who, score) in enumerate([(member_id, 3), (other, 9), (member_id, 7)]):
            with freeze(t0 + timedelta(hours=i)):
                await give(client, caller, member_id=who, score=score)
        r = await client.get(URL, params={"member_id": member_id}, headers=bearer(caller))
        assert [f["score"] for f in r.json()["items"]] == [7, 3]

    async def test_since_and_until_bound_the_period(
        self, client: AsyncClient, caller: str, member_id: str
    ) -> None:
        t0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
        for i in range(3):
            with freeze(t0 + timedelta(days=i)):
                await give(client, caller, member_id=member_id, score=i)
        params = {
            "since": (t0 + timedelta(days=1)).isoformat(),
            "until": (t0 + timedelta(days=2)).isoformat(),
        }
        r = await client.get(URL, params=params, headers=bearer(caller))
        assert [f["score"] for f in r.json()["items"]] == [1]

    async def test_a_club_token_sees_only_its_club(
        self, client: AsyncClient, db: Database, caller: str, admin_token: str, member_id: str
    ) -> None:
        other = await make_club(client, admin_token, name="Elsewhere")
        stranger = await make_member(db, other["id"])
        await give(client, admin_token, member_id=str(stranger.id), score=1)
        await give(client, caller, member_id=member_id, score=9)
        r = await client.get(URL, headers=bearer(caller))
        assert [f["score"] for f in r.json()["items"]] == [9]
        problem(
            await client.get(URL, params={"club_id": other["id"]}, headers=bearer(caller)),
            404,
            "club_not_found",
        )

    async def test_pages_follow_the_cursor(
        self, client: AsyncClient, caller: str, member_id: str
    ) -> None:
        for score in range(5):
            await give(client, caller, member_id=member_id, score=score)
        first = await client.get(URL, params={"limit": 3}, headers=bearer(caller))
        second = await client.get(
            URL, params={"limit": 3, "cursor": first.json()["next_cursor"]}, headers=bearer(caller)
        )
        ids = [f["id"] for f in first.json()["items"] + second.json()["items"]]
        assert len(ids) == len(set(ids)) == 5
        assert second.json()["next_cursor"] is None

    async def test_since_after_until_is_refused(self, client: AsyncClient, caller: str) -> None:
        params = {"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}
        problem(
            await client.get(URL, params=params, headers=bearer(caller)), 422, "validation_error"
        )


async def test_the_database_allows_one_answer_per_call(db: Database, member_id: str) -> None:
    """What holds when two requests race past the service's check."""
    from sqlalchemy.exc import IntegrityError

    member = uuid.UUID(member_id)
    club_id = (await db_member(db, member)).club_id
    call_id = (await make_call(db, member, club_id)).id
    async with db.sessionmaker() as s:
        for score in (1, 2):
            s.add(
                Feedback(
                    club_id=club_id,
                    member_id=member,
                    score=score,
                    call_id=call_id,
                    created_at=datetime.now(UTC),
                )
            )
        with pytest.raises(IntegrityError):
            await s.flush()
        await s.rollback()


async def test_the_database_refuses_a_score_outside_0_to_10(db: Database, member_id: str) -> None:
    from sqlalchemy.exc import IntegrityError

    async with db.sessionmaker() as s:
        member = uuid.UUID(member_id)
        club_id = (await s.get(Member, member)).club_id  # type: ignore[union-attr]
        s.add(Feedback(club_id=club_id, member_id=member, score=11, created_at=datetime.now(UTC)))
        with pytest.raises(IntegrityError):
            await s.flush()
        await s.rollback()


async def db_member(db: Database, member_id: uuid.UUID) -> Member:
    async with db.sessionmaker() as s:
        member = await s.get(Member, member_id)
    assert member is not None
    return member
