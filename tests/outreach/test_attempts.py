"""Call attempts: the contact policy at the moment of dialling, and every outcome."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from app.core.clock import freeze
from app.db import Database
from app.models import CallAttempt, Complaint, ConsentEvent, Meeting, Member, ServiceCall
from tests.fixtures.factories import bearer, make_club
from tests.fixtures.ledger import make_freeze, make_member, make_membership, make_plan
from tests.fixtures.meetings import add_staff, make_meeting
from tests.fixtures.outreach import make_call
from tests.outreach.helpers import (
    NOW,
    attempts_of,
    audits,
    call_row,
    count,
    events,
    msk,
    post_attempt,
    post_call,
    staff_id,
    utc,
)

UTC_ = "+00:00"


async def set_call(db: Database, call_id: uuid.UUID, **values: Any) -> None:
    async with db.session_scope() as s:
        call = await s.get(ServiceCall, call_id)
        assert call is not None
        for k, v in values.items():
            setattr(call, k, v)


async def set_member(db: Database, member_id: uuid.UUID, **values: Any) -> None:
    async with db.session_scope() as s:
        member = await s.get(Member, member_id)
        assert member is not None
        for k, v in values.items():
            setattr(member, k, v)


async def dialled_call(db: Database, member: Member, at: datetime) -> None:
    """Another (closed) call of the member, first dialled at `at`."""
    call = await make_call(db, member.id, member.club_id, status="completed", due_from=at)
    async with db.session_scope() as s:
        s.add(
            CallAttempt(
                call_id=call.id,
                club_id=member.club_id,
                member_id=member.id,
                call_kind="renewal",
                outcome="declined",
                decline_reason="price",
                attempted_at=at,
            )
        )


async def assert_untouched(db: Database, call_id: uuid.UUID, status: str = "due") -> None:
    call = await call_row(db, call_id)
    assert call.attempts == 0
    assert call.status == status
    assert call.outcome is None
    assert await attempts_of(db, call_id) == []


class TestPolicyAtAttempt:
    async def test_quiet_hours_refuse_with_retry_after_and_nothing_is_written(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        with freeze(msk(1, 21, 30)):
            r = await post_attempt(client, caller, call.id, "no_answer")
        assert r.status_code == 409, r.text
        body = r.json()
        assert body["code"] == "contact_not_allowed"
        assert body["reason"] == "quiet_hours"
        assert utc(body["retry_after"]) == msk(2, 9)
        await assert_untouched(db, call.id)

    async def test_the_members_preferred_window(
        self, client: AsyncClient, db: Database, caller: str, club_id: uuid.UUID
    ) -> None:
        member = await make_member(
            db,
            club_id,
            consents={"calls": True},
            contact_window_start=time(18),
            contact_window_end=time(20),
        )
        call = await make_call(db, member.id, club_id)
        r = await post_attempt(client, caller, call.id, "no_answer")
        assert r.status_code == 409
        assert r.json()["reason"] == "outside_contact_window"
        assert utc(r.json()["retry_after"]) == msk(1, 18)
        await assert_untouched(db, call.id)
        with freeze(msk(1, 18, 30)):
            assert (await post_attempt(client, caller, call.id, "no_answer")).status_code == 201

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            ({"do_not_contact": True}, "do_not_contact"),
            ({"phone_invalid_at": NOW - timedelta(days=1)}, "no_address"),
            ({"erased_at": NOW - timedelta(days=1)}, "member_erased"),
        ],
    )
    async def test_member_flags_block(
        self,
        client: AsyncClient,
        db: Database,
        caller: str,
        member: Member,
        change: dict,
        reason: str,
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        await set_member(db, member.id, **change)
        r = await post_attempt(client, caller, call.id, "no_answer")
        assert r.status_code == 409
        assert r.json()["reason"] == reason
        assert r.json().get("retry_after") is None
        await assert_untouched(db, call.id)

    async def test_withdrawn_calls_consent_blocks(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        async with db.session_scope() as s:
            s.add(
                ConsentEvent(
                    club_id=member.club_id,
                    member_id=member.id,
                    purpose="calls",
                    granted=False,
                    source="app",
                    recorded_at=NOW + timedelta(seconds=1),
                )
            )
        r = await post_attempt(client, caller, call.id, "no_answer")
        assert r.status_code == 409
        assert r.json()["reason"] == "no_consent"
        await assert_untouched(db, call.id)

    async def test_the_cap_counts_other_calls_but_not_this_calls_retries(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        await dialled_call(db, member, NOW - timedelta(days=10))
        # This call's own earlier attempts never count against it.
        r = await post_attempt(client, caller, call.id, "no_answer")
        assert r.status_code == 201, r.text
        with freeze(msk(2, 12)):
            assert (await post_attempt(client, caller, call.id, "no_answer")).status_code == 201

        other = await make_member(db, member.club_id, consents={"calls": True})
        second = await make_call(db, other.id, other.club_id)
        await dialled_call(db, other, NOW - timedelta(days=10))
        await dialled_call(db, other, NOW - timedelta(days=5))
        r = await post_attempt(client, caller, second.id, "no_answer")
        assert r.status_code == 409
        assert r.json()["reason"] == "cap_reached"
        # Frees up when the older of the two leaves the 30-day window.
        assert utc(r.json()["retry_after"]) == NOW + timedelta(days=20)
        await assert_untouched(db, second.id)

    async def test_a_renewal_call_once_a_renewal_meeting_is_booked(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id, kind="renewal")
        await make_meeting(db, member, starts_at=msk(5, 12))
        r = await post_attempt(client, caller, call.id, "no_answer")
        assert r.status_code == 409
        assert r.json()["reason"] == "renewal_meeting_booked"
        await assert_untouched(db, call.id)

    async def test_frozen_membership_defers_renewal_calls_to_after_the_freeze(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        plan = await make_plan(db, member.club_id)
        ms = await make_membership(
            db, member, plan, start_date=date(2026, 6, 1), created_at=NOW - timedelta(days=180)
        )
        await make_freeze(db, ms, start_date=date(2026, 11, 25), end_date=date(2026, 12, 10))
        call = await make_call(db, member.id, member.club_id, kind="renewal")
        r = await post_attempt(client, caller, call.id, "no_answer")
        assert r.status_code == 409
        assert r.json()["reason"] == "frozen"
        assert utc(r.json()["retry_after"]) == msk(11, 9)
        await assert_untouched(db, call.id)

    async def test_days_of_silence_after_a_purchase(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        plan = await make_plan(db, member.club_id)
        await make_membership(
            db, member, plan, start_date=date(2026, 11, 30), created_at=NOW - timedelta(days=1)
        )
        call = await make_call(db, member.id, member.club_id, kind="welcome")
        r = await post_attempt(client, caller, call.id, "no_answer")
        assert r.status_code == 409
        assert r.json()["reason"] == "silence_period"
        assert utc(r.json()["retry_after"]) == msk(3, 9)
        await assert_untouched(db, call.id)


class TestClubLocalTime:
    """Quiet hours are the club's wall clock, DST-correct, whatever UTC says."""

    async def _setup(
        self, client: AsyncClient, db: Database, admin: str, tz: str, due_from: datetime
    ) -> uuid.UUID:
        club = await make_club(client, admin, name=tz, timezone=tz, currency="EUR")
        member = await make_member(db, club["id"], consents={"calls": True})
        return (await make_call(db, member.id, member.club_id, due_from=due_from)).id

    @pytest.mark.parametrize(
        ("at", "allowed", "retry_after"),
        [
            # Saturday before the spring change: CET (UTC+1), 07:30Z is 08:30 local.
            ("2026-03-28T07:30:00Z", False, "2026-03-28T08:00:00" + UTC_),
            # Sunday 29 March, after 02:00 became 03:00: CEST (UTC+2), 07:30Z is 09:30.
            ("2026-03-29T07:30:00Z", True, None),
            # 21:30 CEST on the Saturday before the autumn change...
            ("2026-10-24T19:30:00Z", False, "2026-10-25T08:00:00" + UTC_),
            # ... retries at 09:00 CET on Sunday 25 October (08:00Z, not 07:00Z).
            ("2026-10-25T07:30:00Z", False, "2026-10-25T08:00:00" + UTC_),
            ("2026-10-25T08:00:00Z", True, None),
        ],
    )
    async def test_berlin_across_dst_changes(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        at: str,
        allowed: bool,
        retry_after: str | None,
    ) -> None:
        instant = utc(at)
        call_id = await self._setup(
            client, db, admin_token, "Europe/Berlin", instant - timedelta(hours=12)
        )
        with freeze(instant):
            r = await post_attempt(client, admin_token, call_id, "no_answer")
        if allowed:
            assert r.status_code == 201, r.text
        else:
            assert r.status_code == 409, r.text
            assert r.json()["reason"] == "quiet_hours"
            assert utc(r.json()["retry_after"]) == utc(retry_after or "")
            await assert_untouched(db, call_id)

    @pytest.mark.parametrize(
        ("at", "allowed", "retry_after"),
        [
            # 20:30Z on 1 December is 09:30 on 2 December in Auckland (NZDT, UTC+13).
            ("2026-12-01T20:30:00Z", True, None),
            ("2026-12-01T07:30:00Z", True, None),  # 20:30 local
            # 21:30 local on 1 December: next allowed is 09:00 on the 2nd, 20:00Z the 1st.
            ("2026-12-01T08:30:00Z", False, "2026-12-01T20:00:00" + UTC_),
        ],
    )
    async def test_auckland_whose_day_differs_from_utcs(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        at: str,
        allowed: bool,
        retry_after: str | None,
    ) -> None:
        instant = utc(at)
        call_id = await self._setup(
            client, db, admin_token, "Pacific/Auckland", instant - timedelta(hours=12)
        )
        with freeze(instant):
            r = await post_attempt(client, admin_token, call_id, "no_answer")
        if allowed:
            assert r.status_code == 201, r.text
        else:
            assert r.status_code == 409, r.text
            assert utc(r.json()["retry_after"]) == utc(retry_after or "")

    async def test_no_answer_retries_on_the_next_auckland_day(
        self, client: AsyncClient, db: Database, admin_token: str
    ) -> None:
        instant = utc("2026-12-01T20:30:00Z")  # 09:30 on 2 Dec, morning
        call_id = await self._setup(client, db, admin_token, "Pacific/Auckland", instant)
        with freeze(instant):
            r = await post_attempt(client, admin_token, call_id, "no_answer")
        # 12:00 on 3 Dec in Auckland: the afternoon of the next local day.
        assert utc(r.json()["call"]["next_attempt_at"]) == utc("2026-12-02T23:00:00Z")

    async def test_a_retry_over_the_spring_change_keeps_the_wall_clock(
        self, client: AsyncClient, db: Database, admin_token: str
    ) -> None:
        instant = utc("2026-03-28T17:00:00Z")  # 18:00 CET Saturday, evening
        call_id = await self._setup(client, db, admin_token, "Europe/Berlin", instant)
        with freeze(instant):
            r = await post_attempt(client, admin_token, call_id, "no_answer")
        # 09:00 CEST on Sunday (the morning; another part of the day) is 07:00Z.
        assert utc(r.json()["call"]["next_attempt_at"]) == utc("2026-03-29T07:00:00Z")


class TestRetries:
    async def test_no_answer_retries_next_day_at_another_time_then_expires_after_three(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id, status="scheduled")
        r = await post_attempt(client, caller, call.id, "no_answer", notes="Rang out")
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["outcome"] == "no_answer"
        assert body["notes"] == "Rang out"
        assert body["call"]["status"] == "in_progress"
        assert body["call"]["attempts"] == 1
        assert utc(body["call"]["next_attempt_at"]) == msk(2, 12)  # morning -> afternoon

        with freeze(msk(2, 12)):
            r = await post_attempt(client, caller, call.id, "voicemail")
        assert utc(r.json()["call"]["next_attempt_at"]) == msk(3, 17)  # -> evening

        with freeze(msk(3, 17)):
            r = await post_attempt(client, caller, call.id, "no_answer")
        call_body = r.json()["call"]
        assert call_body["status"] == "expired"
        assert call_body["close_reason"] == "no_answer_limit"
        assert call_body["attempts"] == 3
        assert call_body["next_attempt_at"] is None

        with freeze(msk(4, 10)):
            r = await post_attempt(client, caller, call.id, "no_answer")
        assert r.status_code == 409
        assert r.json()["code"] == "call_closed"
        assert len(await attempts_of(db, call.id)) == 3

    async def test_a_retry_stays_inside_the_members_window(
        self, client: AsyncClient, db: Database, caller: str, club_id: uuid.UUID
    ) -> None:
        member = await make_member(
            db,
            club_id,
            consents={"calls": True},
            contact_window_start=time(9),
            contact_window_end=time(13),
        )
        call = await make_call(db, member.id, club_id)
        with freeze(msk(1, 12, 30)):  # afternoon; no evening in the window
            r = await post_attempt(client, caller, call.id, "no_answer")
        assert utc(r.json()["call"]["next_attempt_at"]) == msk(2, 9)

    async def test_a_retry_after_the_window_expires_the_call(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        await set_call(db, call.id, due_until=msk(1, 20))
        r = await post_attempt(client, caller, call.id, "no_answer")
        assert r.json()["call"]["status"] == "expired"
        assert r.json()["call"]["close_reason"] == "window_passed"


class TestCallback:
    async def test_callback_schedules_the_call_at_the_requested_time(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        r = await post_attempt(
            client, caller, call.id, "callback_requested", callback_at=msk(2, 19).isoformat()
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert utc(body["callback_at"]) == msk(2, 19)
        assert body["call"]["status"] == "scheduled"
        assert utc(body["call"]["next_attempt_at"]) == msk(2, 19)
        assert utc(body["call"]["due_until"]) == NOW + timedelta(days=7)

    async def test_a_callback_after_the_window_extends_it(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        r = await post_attempt(
            client, caller, call.id, "callback_requested", callback_at=msk(20, 12).isoformat()
        )
        assert utc(r.json()["call"]["due_until"]) == msk(21, 12)

    @pytest.mark.parametrize(
        ("callback_at", "code"),
        [
            (None, "callback_at_required"),
            (msk(1, 9).isoformat(), "callback_in_past"),
            (msk(2, 22).isoformat(), "callback_outside_contact_hours"),
        ],
    )
    async def test_a_callback_needs_a_future_allowed_time(
        self,
        client: AsyncClient,
        db: Database,
        caller: str,
        member: Member,
        callback_at: str | None,
        code: str,
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        extra = {"callback_at": callback_at} if callback_at else {}
        r = await post_attempt(client, caller, call.id, "callback_requested", **extra)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == code
        await assert_untouched(db, call.id)


class TestOutcomes:
    async def test_the_attempt_records_who_when_and_the_calls_kind(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id, kind="lapse")
        r = await post_attempt(client, caller, call.id, "no_answer")
        assert r.status_code == 201
        (attempt,) = await attempts_of(db, call.id)
        assert attempt.staff_id == await staff_id(db, "Cora Caller")
        assert attempt.call_kind == "lapse"
        assert attempt.attempted_at == NOW
        assert r.json()["id"] == str(attempt.id)
        assert r.json()["staff_id"] == str(attempt.staff_id)

    @pytest.mark.parametrize(
        ("kind", "purpose", "expected"),
        [
            ("renewal", None, "renewal"),
            ("lapse", None, "renewal"),
            ("feedback", None, "feedback"),
            ("renewal", "plan_change", "plan_change"),
        ],
    )
    async def test_meeting_booked_books_the_meeting_and_completes_the_call(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        caller: str,
        club: dict,
        member: Member,
        kind: str,
        purpose: str | None,
        expected: str,
    ) -> None:
        consultant = await add_staff(client, admin_token, club, "consultant")
        call = await make_call(db, member.id, member.club_id, kind=kind)
        meeting: dict[str, Any] = {"starts_at": msk(2, 10).isoformat(), "consultant_id": consultant}
        if purpose:
            meeting["purpose"] = purpose
        r = await post_attempt(client, caller, call.id, "meeting_booked", meeting=meeting)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["call"]["status"] == "completed"
        assert body["call"]["outcome"] == "meeting_booked"
        assert body["call"]["meeting_id"] == body["meeting_id"]
        async with db.sessionmaker() as s:
            booked = await s.get(Meeting, uuid.UUID(body["meeting_id"]))
        assert booked is not None
        assert booked.call_id == call.id
        assert booked.purpose == expected
        assert booked.starts_at == msk(2, 10)
        assert booked.booked_by_id == await staff_id(db, "Cora Caller")
        assert len(await events(db, "meeting.booked")) == 1

    async def test_a_booking_conflict_leaves_nothing_written(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        caller: str,
        club: dict,
        member: Member,
    ) -> None:
        consultant = await add_staff(client, admin_token, club, "consultant")
        someone = await make_member(db, member.club_id)
        await make_meeting(db, someone, starts_at=msk(2, 10), consultant_id=uuid.UUID(consultant))
        call = await make_call(db, member.id, member.club_id)
        r = await post_attempt(
            client,
            caller,
            call.id,
            "meeting_booked",
            meeting={"starts_at": msk(2, 10).isoformat(), "consultant_id": consultant},
        )
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "slot_taken"
        await assert_untouched(db, call.id)
        assert await count(db, Meeting) == 1
        assert await events(db, "meeting.booked") == []

    async def test_meeting_booked_needs_the_meeting(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        r = await post_attempt(client, caller, call.id, "meeting_booked")
        assert r.status_code == 422
        assert r.json()["code"] == "meeting_required"
        await assert_untouched(db, call.id)

    async def test_declined_needs_a_reason_from_the_taxonomy(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        r = await post_attempt(client, caller, call.id, "declined")
        assert r.status_code == 422
        assert r.json()["code"] == "decline_reason_required"
        r = await post_attempt(client, caller, call.id, "declined", decline_reason="too_pricey")
        assert r.status_code == 422
        await assert_untouched(db, call.id)
        r = await post_attempt(
            client, caller, call.id, "declined", decline_reason="moved", notes="Kazan"
        )
        assert r.status_code == 201, r.text
        assert r.json()["decline_reason"] == "moved"
        assert r.json()["call"]["status"] == "completed"
        assert r.json()["call"]["close_reason"] == "declined"

    async def test_wrong_number_marks_the_phone_invalid_audited_and_closes(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        r = await post_attempt(client, caller, call.id, "wrong_number")
        assert r.status_code == 201, r.text
        assert r.json()["call"]["status"] == "completed"
        async with db.sessionmaker() as s:
            stored = await s.get(Member, member.id)
        assert stored is not None
        assert stored.phone_invalid_at == NOW
        (entry,) = await audits(db, member.id, "phone_marked_invalid")
        assert entry.changes["phone_invalid_at"][0] is None
        # No number, no new call.
        r = await post_call(client, caller, member.id)
        assert r.status_code == 409
        assert r.json()["reason"] == "no_address"

    async def test_do_not_call_sets_the_flag_and_withdraws_the_consent(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        r = await post_attempt(client, caller, call.id, "do_not_call")
        assert r.status_code == 201, r.text
        assert r.json()["call"]["status"] == "completed"
        async with db.sessionmaker() as s:
            stored = await s.get(Member, member.id)
            consent = (
                await s.scalars(
                    select(ConsentEvent)
                    .where(ConsentEvent.member_id == member.id, ConsentEvent.purpose == "calls")
                    .order_by(ConsentEvent.recorded_at.desc())
                )
            ).first()
        assert stored is not None
        assert stored.do_not_contact is True
        assert consent is not None
        assert (consent.granted, consent.source) == (False, "call")
        assert consent.recorded_by_staff_id == await staff_id(db, "Cora Caller")
        assert len(await audits(db, member.id, "consent_recorded")) == 1
        (flag,) = await audits(db, member.id, "updated")
        assert flag.changes["do_not_contact"] == [False, True]
        r = await post_call(client, caller, member.id)
        assert r.status_code == 409
        assert r.json()["reason"] == "do_not_contact"

    async def test_complaint_opens_a_case_and_completes_the_call(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id, kind="feedback")
        r = await post_attempt(
            client,
            caller,
            call.id,
            "complaint",
            complaint={
                "category": "cleanliness",
                "description": "Dirty showers",
                "severity": "high",
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["call"]["status"] == "completed"
        async with db.sessionmaker() as s:
            (case,) = (await s.scalars(select(Complaint))).all()
        assert str(case.id) == r.json()["complaint_id"]
        assert (case.call_id, case.source, case.category) == (call.id, "call", "cleanliness")
        assert case.due_at == NOW + timedelta(hours=24)
        assert len(await events(db, "complaint.opened")) == 1

    async def test_complaint_needs_the_case(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        r = await post_attempt(client, caller, call.id, "complaint")
        assert r.status_code == 422
        assert r.json()["code"] == "complaint_required"
        await assert_untouched(db, call.id)
        assert await count(db, Complaint) == 0

    @pytest.mark.parametrize("outcome", ["sold", "renewed_by_phone", "", "NO_ANSWER"])
    async def test_an_unknown_outcome_is_422_and_nothing_is_written(
        self, client: AsyncClient, db: Database, caller: str, member: Member, outcome: str
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        r = await post_attempt(client, caller, call.id, outcome)
        assert r.status_code == 422
        assert r.json()["errors"][0]["pointer"] == "/outcome"
        await assert_untouched(db, call.id)
        assert await count(db, CallAttempt) == 0

    async def test_a_field_of_another_outcome_is_422(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        r = await post_attempt(client, caller, call.id, "no_answer", decline_reason="price")
        assert r.status_code == 422
        assert r.json()["errors"][0]["pointer"] == "/decline_reason"
        await assert_untouched(db, call.id)

    @pytest.mark.parametrize("status", ["completed", "cancelled", "expired"])
    async def test_a_closed_call_is_409(
        self, client: AsyncClient, db: Database, caller: str, member: Member, status: str
    ) -> None:
        call = await make_call(db, member.id, member.club_id, status=status)
        r = await post_attempt(client, caller, call.id, "no_answer")
        assert r.status_code == 409
        assert r.json()["code"] == "call_closed"
        await assert_untouched(db, call.id, status)


async def test_a_replayed_attempt_is_recorded_once(
    client: AsyncClient, db: Database, caller: str, member: Member
) -> None:
    call = await make_call(db, member.id, member.club_id)
    url = f"/api/v1/calls/{call.id}/attempts"
    headers = bearer(caller) | {"Idempotency-Key": "dial-1"}
    first = await client.post(url, json={"outcome": "no_answer"}, headers=headers)
    again = await client.post(url, json={"outcome": "no_answer"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert (await call_row(db, call.id)).attempts == 1
    assert len(await attempts_of(db, call.id)) == 1
