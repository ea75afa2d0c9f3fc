"""A renewal agreed at a meeting: the chain call -> meeting -> renewal, checked at both
ends (the renewal names a real meeting of the member; the meeting's `renewed` outcome
names that renewal)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from app.models import Membership
from tests.fixtures.desk import Desk
from tests.fixtures.ledger import make_member
from tests.fixtures.meetings import meeting_for
from tests.fixtures.outreach import make_call
from tests.memberships.helpers import problem

AT_TEN = "2026-03-10T10:00:00+03:00"  # NOW is 09:00: attendance may be recorded already


async def memberships(desk: Desk) -> int:
    async with desk.db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Membership)) or 0)


async def outcome(desk: Desk, meeting_id: str, body: dict[str, Any]) -> Any:
    return await desk.client.post(
        f"/api/v1/meetings/{meeting_id}/outcome", json=body, headers=desk.headers
    )


async def test_a_renewal_at_a_meeting_is_its_renewed_outcome(desk: Desk) -> None:
    call_id = str((await make_call(desk.db, desk.member.id, desk.member.club_id)).id)
    meeting = await meeting_for(
        desk.client, desk.manager, desk.club_id, desk.member, AT_TEN, call_id=call_id
    )
    renewal = await desk.renew(meeting_id=meeting["id"])
    assert renewal.status_code == 201, renewal.text
    assert renewal.json()["meeting_id"] == meeting["id"]
    r = await outcome(
        desk, meeting["id"], {"result": "renewed", "membership_id": renewal.json()["id"]}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["call_id"]) == ("attended", call_id)
    assert r.json()["outcome"]["membership_id"] == renewal.json()["id"]


async def test_a_renewal_at_another_meeting_is_not_this_meetings_outcome(desk: Desk) -> None:
    there = await meeting_for(desk.client, desk.manager, desk.club_id, desk.member, AT_TEN)
    here = await meeting_for(
        desk.client,
        desk.manager,
        desk.club_id,
        desk.member,
        "2026-03-10T09:30:00+03:00",
        purpose="feedback",
    )
    renewal = await desk.renew(meeting_id=there["id"])
    r = await outcome(
        desk, here["id"], {"result": "renewed", "membership_id": renewal.json()["id"]}
    )
    problem(r, 422, "membership_mismatch")


async def test_an_unknown_meeting_is_404_and_nothing_is_sold(desk: Desk) -> None:
    before = await memberships(desk)
    problem(await desk.renew(meeting_id=str(uuid.uuid4())), 404, "meeting_not_found")
    assert await memberships(desk) == before


async def test_another_members_meeting_is_a_mismatch(desk: Desk) -> None:
    stranger = await make_member(desk.db, desk.club_id)
    theirs = await meeting_for(desk.client, desk.manager, desk.club_id, stranger, AT_TEN)
    before = await memberships(desk)
    problem(await desk.renew(meeting_id=theirs["id"]), 422, "meeting_mismatch")
    assert await memberships(desk) == before


async def test_a_cancelled_meeting_is_a_mismatch(desk: Desk) -> None:
    meeting = await meeting_for(desk.client, desk.manager, desk.club_id, desk.member, AT_TEN)
    await desk.client.patch(
        f"/api/v1/meetings/{meeting['id']}", json={"status": "cancelled"}, headers=desk.headers
    )
    problem(await desk.renew(meeting_id=meeting["id"]), 422, "meeting_mismatch")
