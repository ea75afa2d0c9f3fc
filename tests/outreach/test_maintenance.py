"""The `call_maintenance` job: due calls (call.due once), expiry, moot calls closed with
why - set-based and idempotent."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from httpx import AsyncClient

from app.db import Database
from app.models import Checkin, ConsentEvent, Member
from app.outreach.jobs import call_maintenance
from app.outreach.service import reason
from tests.fixtures.factories import bearer, make_club
from tests.fixtures.ledger import make_freeze, make_member, make_membership, make_plan
from tests.fixtures.meetings import make_meeting
from tests.fixtures.outreach import make_call
from tests.outreach.helpers import NOW, call_row, events, utc
from tests.outreach.test_attempts import set_call, set_member

LATER = NOW + timedelta(minutes=5)
QUIET = {
    "due": 0,
    "expired": 0,
    "opted_out": 0,
    "frozen": 0,
    "deferred_frozen": 0,
    "renewed": 0,
    "renewal_meeting_booked": 0,
    "visits_resumed": 0,
}


async def run(db: Database, as_of: datetime = LATER) -> dict[str, int]:
    return dict(await call_maintenance(db, as_of))


async def visit(db: Database, member: Member, at: datetime) -> None:
    async with db.session_scope() as s:
        s.add(Checkin(club_id=member.club_id, member_id=member.id, checked_in_at=at, source="app"))


async def assert_closed(db: Database, call_id: uuid.UUID, status: str, why: str) -> None:
    call = await call_row(db, call_id)
    assert (call.status, call.close_reason) == (status, why)
    assert call.closed_at == LATER
    assert call.next_attempt_at is None


async def assert_open(db: Database, call_id: uuid.UUID) -> None:
    assert (await call_row(db, call_id)).status in {"scheduled", "due", "in_progress"}


class TestDue:
    async def test_scheduled_calls_become_due_once_with_one_event(
        self, db: Database, member: Member, club_id: uuid.UUID
    ) -> None:
        call = await make_call(db, member.id, club_id, status="scheduled", due_from=NOW)
        later = await make_call(
            db,
            (await make_member(db, club_id)).id,
            club_id,
            status="scheduled",
            due_from=NOW + timedelta(hours=2),
        )
        assert await run(db) == {**QUIET, "due": 1}
        row = await call_row(db, call.id)
        assert row.status == "due"
        assert row.due_notified_at == LATER
        assert row.version == 2  # the ETag moves
        assert (await call_row(db, later.id)).status == "scheduled"
        assert await run(db) == QUIET
        (event,) = await events(db, "call.due")
        assert event.data["call_id"] == str(call.id)
        assert event.club_id == club_id

    async def test_a_callback_coming_due_emits_no_second_event(
        self, db: Database, member: Member, club_id: uuid.UUID
    ) -> None:
        call = await make_call(db, member.id, club_id, status="scheduled", due_from=NOW)
        await set_call(db, call.id, due_notified_at=NOW - timedelta(days=1))
        assert (await run(db))["due"] == 1
        assert (await call_row(db, call.id)).status == "due"
        assert await events(db, "call.due") == []

    async def test_a_callback_attempt_then_maintenance_keeps_call_due_once(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        r = await client.post(
            "/api/v1/calls",
            json={"member_id": str(member.id), "kind": "renewal"},
            headers=bearer(caller),
        )
        call_id = r.json()["id"]
        callback = NOW + timedelta(hours=3)
        r = await client.post(
            f"/api/v1/calls/{call_id}/attempts",
            json={"outcome": "callback_requested", "callback_at": callback.isoformat()},
            headers=bearer(caller),
        )
        assert r.json()["call"]["status"] == "scheduled"
        assert (await run(db, NOW + timedelta(hours=1)))["due"] == 0
        assert (await run(db, callback))["due"] == 1
        assert (await call_row(db, call_id)).status == "due"
        assert len(await events(db, "call.due")) == 1


class TestExpiry:
    async def test_calls_past_their_window_expire(
        self, db: Database, member: Member, club_id: uuid.UUID
    ) -> None:
        call = await make_call(db, member.id, club_id, status="in_progress")
        await set_call(db, call.id, due_until=LATER)
        assert (await run(db))["expired"] == 1
        await assert_closed(db, call.id, "expired", "window_passed")
        assert await run(db) == QUIET

    async def test_closed_calls_are_left_alone(
        self, db: Database, member: Member, club_id: uuid.UUID
    ) -> None:
        call = await make_call(
            db, member.id, club_id, status="completed", due_from=NOW - timedelta(days=9)
        )
        assert await run(db) == QUIET
        assert (await call_row(db, call.id)).close_reason is None


class TestMoot:
    async def test_a_lapse_call_closes_when_the_member_visits_after_it(
        self, db: Database, member: Member, club_id: uuid.UUID
    ) -> None:
        call = await make_call(db, member.id, club_id, kind="lapse")
        await set_call(db, call.id, created_at=NOW - timedelta(days=2))
        await visit(db, member, NOW - timedelta(days=3))  # before: still lapsing
        assert await run(db) == QUIET
        await visit(db, member, NOW - timedelta(days=1))
        assert (await run(db))["visits_resumed"] == 1
        await assert_closed(db, call.id, "cancelled", "visits_resumed")

    async def test_a_visit_before_the_lapse_reason_merged_in_does_not_count(
        self, db: Database, member: Member, club_id: uuid.UUID
    ) -> None:
        call = await make_call(db, member.id, club_id, kind="lapse")
        flagged = NOW - timedelta(days=1)
        await set_call(
            db,
            call.id,
            created_at=NOW - timedelta(days=5),
            reasons=[
                reason("birthday", "birthday", "Birthday", "playbook", NOW - timedelta(days=5)),
                reason("lapse", "at_risk", "No visit for 18 days", "lapse_scan", flagged),
            ],
        )
        await visit(db, member, NOW - timedelta(days=3))
        assert await run(db) == QUIET
        await assert_open(db, call.id)

    async def test_a_visit_does_not_close_other_kinds(
        self, db: Database, member: Member, club_id: uuid.UUID
    ) -> None:
        call = await make_call(db, member.id, club_id, kind="renewal")
        await set_call(db, call.id, created_at=NOW - timedelta(days=2))
        await visit(db, member, NOW - timedelta(days=1))
        assert await run(db) == QUIET

    async def test_a_renewal_call_closes_when_the_membership_is_renewed(
        self, db: Database, member: Member, club_id: uuid.UUID
    ) -> None:
        plan = await make_plan(db, club_id)
        old = await make_membership(db, member, plan, start_date=date(2026, 1, 1))
        call = await make_call(db, member.id, club_id, kind="renewal", membership_id=old.id)
        assert await run(db) == QUIET
        await make_membership(
            db, member, plan, start_date=date(2027, 1, 1), renews_id=old.id, source="renewal"
        )
        assert (await run(db))["renewed"] == 1
        await assert_closed(db, call.id, "cancelled", "renewed")

    async def test_a_renewal_call_closes_when_a_renewal_meeting_is_booked(
        self, db: Database, member: Member, club_id: uuid.UUID
    ) -> None:
        call = await make_call(db, member.id, club_id, kind="renewal")
        await make_meeting(db, member, starts_at=NOW + timedelta(days=2), status="cancelled")
        assert await run(db) == QUIET
        await make_meeting(db, member, starts_at=NOW + timedelta(days=3))
        assert (await run(db))["renewal_meeting_booked"] == 1
        await assert_closed(db, call.id, "cancelled", "renewal_meeting_booked")

    async def test_the_meeting_this_call_booked_does_not_cancel_it(
        self, db: Database, member: Member, club_id: uuid.UUID
    ) -> None:
        call = await make_call(db, member.id, club_id, kind="renewal")
        await make_meeting(db, member, starts_at=NOW + timedelta(days=3), call_id=call.id)
        assert await run(db) == QUIET

    async def test_a_freeze_closes_calls_but_moves_renewal_and_lapse_calls_after_it(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        plan = await make_plan(db, club_id)
        ids = {}
        for kind in ("welcome", "lapse", "renewal", "post_freeze"):
            m = await make_member(db, club_id, consents={"calls": True})
            ms = await make_membership(db, m, plan, start_date=date(2026, 6, 1))
            await make_freeze(db, ms, start_date=date(2026, 11, 28), end_date=date(2026, 12, 5))
            ids[kind] = (await make_call(db, m.id, club_id, kind=kind)).id
        counts = await run(db)
        assert (counts["frozen"], counts["deferred_frozen"]) == (1, 2)
        await assert_closed(db, ids["welcome"], "cancelled", "frozen")
        await assert_open(db, ids["post_freeze"])
        # DESIGN §3: renewal and lapse calls move to the first Moscow day after the freeze,
        # keeping their 7-day window.
        for kind in ("lapse", "renewal"):
            call = await call_row(db, ids[kind])
            assert call.status == "scheduled"
            assert call.next_attempt_at == utc("2026-12-05T21:00:00+00:00")
            assert call.due_from == call.next_attempt_at
            assert call.due_until == call.due_from + timedelta(days=7)
        assert await run(db) == QUIET  # moved once, not again

    async def test_frozen_is_judged_on_each_clubs_local_date(
        self, client: AsyncClient, db: Database, admin_token: str, club_id: uuid.UUID
    ) -> None:
        # 20:30Z on 1 December: already 2 December in Auckland, still 1 December in Moscow.
        as_of = utc("2026-12-01T20:30:00+00:00")
        auckland = await make_club(
            client, admin_token, name="Auckland", timezone="Pacific/Auckland", currency="NZD"
        )
        plan_msk = await make_plan(db, club_id)
        plan_akl = await make_plan(db, auckland["id"])
        calls = {}
        for name, cid, plan in (("msk", club_id, plan_msk), ("akl", auckland["id"], plan_akl)):
            m = await make_member(db, cid, consents={"calls": True})
            ms = await make_membership(db, m, plan, start_date=date(2026, 6, 1))
            await make_freeze(db, ms, start_date=date(2026, 12, 2), end_date=date(2026, 12, 9))
            calls[name] = (await make_call(db, m.id, m.club_id, kind="welcome")).id
        assert (await run(db, as_of))["frozen"] == 1
        assert (await call_row(db, calls["akl"])).close_reason == "frozen"
        await assert_open(db, calls["msk"])

    @pytest.mark.parametrize("how", ["do_not_contact", "consent_withdrawn", "erased"])
    async def test_calls_close_when_the_member_opts_out(
        self, db: Database, member: Member, club_id: uuid.UUID, how: str
    ) -> None:
        call = await make_call(db, member.id, club_id)
        assert await run(db) == QUIET
        if how == "do_not_contact":
            await set_member(db, member.id, do_not_contact=True)
        elif how == "erased":
            await set_member(db, member.id, erased_at=NOW)
        else:
            async with db.session_scope() as s:
                s.add(
                    ConsentEvent(
                        club_id=club_id,
                        member_id=member.id,
                        purpose="calls",
                        granted=False,
                        source="app",
                        recorded_at=NOW + timedelta(seconds=1),
                    )
                )
        assert (await run(db))["opted_out"] == 1
        await assert_closed(db, call.id, "cancelled", "opted_out")
        assert await run(db) == QUIET

    async def test_a_consent_granted_again_keeps_the_call(
        self, db: Database, member: Member, club_id: uuid.UUID
    ) -> None:
        call = await make_call(db, member.id, club_id)
        async with db.session_scope() as s:
            for seconds, granted in ((1, False), (2, True)):
                s.add(
                    ConsentEvent(
                        club_id=club_id,
                        member_id=member.id,
                        purpose="calls",
                        granted=granted,
                        source="app",
                        recorded_at=NOW + timedelta(seconds=seconds),
                    )
                )
        assert await run(db) == QUIET
        await assert_open(db, call.id)


async def test_the_job_is_registered_and_runs_over_the_api(
    client: AsyncClient, db: Database, admin_token: str, member: Member, club_id: uuid.UUID
) -> None:
    call = await make_call(db, member.id, club_id, status="scheduled", due_from=NOW)
    r = await client.post(
        "/api/v1/jobs/call_maintenance/run",
        json={"as_of": LATER.isoformat()},
        headers=bearer(admin_token),
    )
    assert r.status_code == 200, r.text
    assert r.json()["counts"]["due"] == 1
    assert (await call_row(db, call.id)).status == "due"
    listed = await client.get("/api/v1/jobs", headers=bearer(admin_token))
    assert "call_maintenance" in listed.text
