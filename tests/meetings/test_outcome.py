"""Outcomes: renewed (with the membership sold at the meeting), switched plan, declined
(with a reason from the taxonomy), postponed; attendance follows; recorded once."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from app.core.clock import freeze
from app.db import Database
from app.models import AuditEntry, Meeting, Member, Membership
from tests.fixtures.factories import bearer
from tests.fixtures.ledger import make_member, make_membership, make_plan
from tests.fixtures.meetings import MSK, at, book
from tests.fixtures.outreach import make_call

DURING = datetime(2026, 12, 2, 10, 20, tzinfo=MSK)  # the meeting runs 10:00-10:30


@pytest.fixture
async def meeting(
    client: AsyncClient,
    db: Database,
    admin_token: str,
    club: dict,
    consultant: str,
    member: Member,
) -> dict[str, Any]:
    call = await make_call(db, member.id, member.club_id)
    r = await book(client, admin_token, club, member, consultant, at(2, 10), call_id=str(call.id))
    assert r.status_code == 201
    return dict(r.json())


async def renewal_for(db: Database, member: Member, meeting_id: str | None) -> Membership:
    plan = await make_plan(db, member.club_id)
    return await make_membership(
        db,
        member,
        plan,
        start_date=date(2027, 1, 1),
        source="renewal",
        meeting_id=None if meeting_id is None else uuid.UUID(meeting_id),
    )


async def outcome(client: AsyncClient, token: str, meeting_id: str, body: dict[str, Any]) -> Any:
    with freeze(DURING):
        return await client.post(
            f"/api/v1/meetings/{meeting_id}/outcome", json=body, headers=bearer(token)
        )


class TestRenewed:
    async def test_renewed_links_the_membership_and_marks_attended(
        self, client: AsyncClient, admin_token: str, meeting: dict, member: Member, db: Database
    ) -> None:
        membership = await renewal_for(db, member, meeting["id"])
        r = await outcome(
            client,
            admin_token,
            meeting["id"],
            {"result": "renewed", "membership_id": str(membership.id), "notes": "12 months"},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "attended"
        assert body["attended_at"] == "2026-12-02T10:20:00+03:00"
        assert body["outcome"]["result"] == "renewed"
        assert body["outcome"]["membership_id"] == str(membership.id)
        assert body["outcome"]["notes"] == "12 months"
        assert body["outcome"]["recorded_at"] == "2026-12-02T10:20:00+03:00"
        assert r.headers["etag"].endswith('-2"')

    async def test_the_chain_call_meeting_renewal_can_be_followed(
        self, client: AsyncClient, admin_token: str, meeting: dict, member: Member, db: Database
    ) -> None:
        membership = await renewal_for(db, member, meeting["id"])
        await outcome(
            client,
            admin_token,
            meeting["id"],
            {"result": "renewed", "membership_id": str(membership.id)},
        )
        async with db.sessionmaker() as s:
            row = (
                await s.execute(
                    select(Meeting.call_id, Membership.id)
                    .join(Membership, Membership.meeting_id == Meeting.id)
                    .where(Meeting.outcome_membership_id == Membership.id)
                )
            ).one()
        assert row == (uuid.UUID(meeting["call_id"]), membership.id)

    async def test_a_membership_not_sold_at_this_meeting_is_a_mismatch(
        self, client: AsyncClient, admin_token: str, meeting: dict, member: Member, db: Database
    ) -> None:
        unlinked = await renewal_for(db, member, None)
        r = await outcome(
            client,
            admin_token,
            meeting["id"],
            {"result": "renewed", "membership_id": str(unlinked.id)},
        )
        assert (r.status_code, r.json()["code"]) == (422, "membership_mismatch")
        await self._unchanged(client, admin_token, meeting)

    async def test_another_members_membership_is_a_mismatch(
        self, client: AsyncClient, admin_token: str, meeting: dict, club: dict, db: Database
    ) -> None:
        stranger = await make_member(db, club["id"])
        theirs = await renewal_for(db, stranger, meeting["id"])
        r = await outcome(
            client,
            admin_token,
            meeting["id"],
            {"result": "renewed", "membership_id": str(theirs.id)},
        )
        assert (r.status_code, r.json()["code"]) == (422, "membership_mismatch")

    async def test_renewed_needs_a_membership(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        for membership_id in (None, str(uuid.uuid4())):
            body = {"result": "renewed", "membership_id": membership_id}
            r = await outcome(client, admin_token, meeting["id"], body)
            assert (r.status_code, r.json()["code"]) == (422, "membership_mismatch")
        await self._unchanged(client, admin_token, meeting)

    @staticmethod
    async def _unchanged(client: AsyncClient, token: str, meeting: dict) -> None:
        got = await client.get(f"/api/v1/meetings/{meeting['id']}", headers=bearer(token))
        assert (got.json()["status"], got.json()["outcome"]) == ("booked", None)


class TestOtherResults:
    async def test_switched_plan_takes_a_membership_of_the_member(
        self, client: AsyncClient, admin_token: str, meeting: dict, member: Member, db: Database
    ) -> None:
        upgrade = await renewal_for(db, member, None)
        r = await outcome(
            client,
            admin_token,
            meeting["id"],
            {"result": "switched_plan", "membership_id": str(upgrade.id)},
        )
        assert r.status_code == 200
        assert r.json()["outcome"]["membership_id"] == str(upgrade.id)

    async def test_switched_plan_refuses_one_sold_at_another_meeting(
        self,
        client: AsyncClient,
        admin_token: str,
        meeting: dict,
        member: Member,
        consultant: str,
        club: dict,
        db: Database,
    ) -> None:
        other = await book(
            client, admin_token, club, member, consultant, at(3, 10), purpose="feedback"
        )
        sold_there = await renewal_for(db, member, other.json()["id"])
        r = await outcome(
            client,
            admin_token,
            meeting["id"],
            {"result": "switched_plan", "membership_id": str(sold_there.id)},
        )
        assert (r.status_code, r.json()["code"]) == (422, "membership_mismatch")

    async def test_declined_needs_a_reason(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        r = await outcome(client, admin_token, meeting["id"], {"result": "declined"})
        assert (r.status_code, r.json()["code"]) == (422, "decline_reason_required")
        assert r.json()["errors"][0]["pointer"] == "/decline_reason"

    async def test_declined_with_a_reason_from_the_taxonomy(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        r = await outcome(
            client,
            admin_token,
            meeting["id"],
            {"result": "declined", "decline_reason": "expensive"},
        )
        assert (r.status_code, r.json()["code"]) == (422, "validation_error")
        r = await outcome(
            client,
            admin_token,
            meeting["id"],
            {"result": "declined", "decline_reason": "competitor", "notes": "Gym next door"},
        )
        assert r.status_code == 200
        assert r.json()["outcome"]["decline_reason"] == "competitor"
        assert r.json()["outcome"]["notes"] == "Gym next door"

    async def test_postponed_needs_nothing_more(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        r = await outcome(client, admin_token, meeting["id"], {"result": "postponed"})
        assert r.status_code == 200
        assert r.json()["outcome"]["result"] == "postponed"

    @pytest.mark.parametrize(
        "body",
        [
            {"result": "postponed", "decline_reason": "price"},
            {"result": "declined", "decline_reason": "price", "membership_id": str(uuid.uuid4())},
            {"result": "sold"},
        ],
    )
    async def test_fields_that_do_not_go_with_the_result_are_refused(
        self, client: AsyncClient, admin_token: str, meeting: dict, body: dict
    ) -> None:
        r = await outcome(client, admin_token, meeting["id"], body)
        assert (r.status_code, r.json()["code"]) == (422, "validation_error")


class TestWhen:
    async def test_an_outcome_before_the_meeting_is_refused(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        r = await client.post(
            f"/api/v1/meetings/{meeting['id']}/outcome",
            json={"result": "postponed"},
            headers=bearer(admin_token),
        )  # now: the day before
        assert (r.status_code, r.json()["code"]) == (422, "meeting_not_started")

    async def test_an_outcome_is_recorded_once(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        await outcome(client, admin_token, meeting["id"], {"result": "postponed"})
        r = await outcome(
            client, admin_token, meeting["id"], {"result": "declined", "decline_reason": "price"}
        )
        assert (r.status_code, r.json()["code"]) == (409, "outcome_already_recorded")

    @pytest.mark.parametrize("status", ["cancelled", "no_show"])
    async def test_a_cancelled_or_missed_meeting_has_no_outcome(
        self, client: AsyncClient, admin_token: str, meeting: dict, status: str
    ) -> None:
        with freeze(DURING):
            await client.patch(
                f"/api/v1/meetings/{meeting['id']}",
                json={"status": status},
                headers=bearer(admin_token),
            )
        r = await outcome(client, admin_token, meeting["id"], {"result": "postponed"})
        assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")

    async def test_an_attended_meeting_keeps_its_attendance_time(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        with freeze(datetime(2026, 12, 2, 9, 55, tzinfo=MSK)):
            await client.patch(
                f"/api/v1/meetings/{meeting['id']}",
                json={"status": "attended"},
                headers=bearer(admin_token),
            )
        r = await outcome(client, admin_token, meeting["id"], {"result": "postponed"})
        assert r.json()["attended_at"] == "2026-12-02T09:55:00+03:00"

    async def test_a_retry_with_the_same_idempotency_key_replays(
        self, client: AsyncClient, admin_token: str, meeting: dict, db: Database
    ) -> None:
        h = bearer(admin_token) | {"Idempotency-Key": "outcome-1"}
        url = f"/api/v1/meetings/{meeting['id']}/outcome"
        with freeze(DURING):
            first = await client.post(url, json={"result": "postponed"}, headers=h)
            second = await client.post(url, json={"result": "postponed"}, headers=h)
        assert first.status_code == second.status_code == 200
        assert second.json() == first.json()
        async with db.sessionmaker() as s:
            audits = (
                await s.scalars(select(AuditEntry).where(AuditEntry.action == "outcome_recorded"))
            ).all()
        assert len(audits) == 1

    async def test_the_front_desk_records_outcomes_a_reader_cannot(
        self, client: AsyncClient, desk_token: str, meeting: dict, db: Database, club: dict
    ) -> None:
        from tests.fixtures.factories import make_token

        reader = await make_token(
            db, "consultant", club_ids=[uuid.UUID(club["id"])], scopes=["meetings:read"]
        )
        r = await outcome(client, reader, meeting["id"], {"result": "postponed"})
        assert r.status_code == 403
        r = await outcome(client, desk_token, meeting["id"], {"result": "postponed"})
        assert r.status_code == 200
