"""Meetings: free slots, booking without double booking, the meeting's life, outcomes.

A meeting lasts the club's `slot_minutes` and keeps `buffer_minutes` free after it. Its
consultant's meetings never overlap on `[starts_at, blocked_until)`, a member is never
in two meetings at once and has at most one open renewal meeting. Each of these is
checked here under a lock (clean 409s) and enforced by the database as well (exclusion
constraints and a partial unique index; see app/models/meeting.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Perm, Principal, Role
from app.clubs.schemas import MeetingSettings
from app.clubs.service import club_service
from app.core.clock import utcnow
from app.core.etags import check_if_match
from app.core.pagination import PageParams, SortKey, paginate
from app.core.timezones import local_date, local_day_bounds_utc, local_to_utc, zone
from app.errors import Conflict, Forbidden, NotFound, RuleViolation
from app.events.service import emit
from app.meetings import calendar as ics
from app.meetings import hooks, repository
from app.meetings.schemas import (
    MeetingCreate,
    MeetingSlot,
    MeetingSlots,
    MeetingUpdate,
    OutcomeCreate,
)
from app.meetings.slots import free_starts
from app.members.privacy import REDACTED, register_erasure, register_export_section, row_dict
from app.members.service import member_service
from app.messaging.service import messaging_service
from app.models import Club, Meeting, Member, ServiceCall, Staff
from app.models.meeting import (
    HOLDS_TIME,
    OPEN,
    MeetingPurpose,
    MeetingResult,
    MeetingStatus,
)
from app.policy.contact import Category
from app.staff.service import staff_service
from app.working_hours.service import working_hours_service

# Attendance (and so an outcome) can be recorded from this long before the start.
MARKABLE_BEFORE_START = timedelta(minutes=60)
# The day-before reminder goes out from this club-local time (later bookings for the next
# day are reminded on the job's next run).
REMINDER_AT = time(10)
REMINDER_TEMPLATE = "meeting_reminder"

_S = MeetingStatus
TRANSITIONS: dict[MeetingStatus, frozenset[MeetingStatus]] = {
    _S.BOOKED: frozenset({_S.CONFIRMED, _S.ATTENDED, _S.NO_SHOW, _S.CANCELLED}),
    _S.CONFIRMED: frozenset({_S.ATTENDED, _S.NO_SHOW, _S.CANCELLED}),
    # A member who turns up late after being marked a no-show.
    _S.NO_SHOW: frozenset({_S.ATTENDED}),
    _S.ATTENDED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def roles_for(purpose: MeetingPurpose) -> frozenset[str]:
    """Who may take a meeting: consultants; an onboarding meeting (the new member's first
    session) is a trainer's."""
    if purpose == MeetingPurpose.ONBOARDING:
        return frozenset({Role.TRAINER.value})
    return frozenset({Role.CONSULTANT.value})


@dataclass(frozen=True)
class _Slot:
    """Where a meeting sits: its consultant and `[starts_at, blocked_until)`."""

    consultant_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    blocked_until: datetime

    @classmethod
    def of(cls, meeting: Meeting) -> _Slot:
        return cls(meeting.consultant_id, meeting.starts_at, meeting.ends_at, meeting.blocked_until)


def _slot(club: Club, consultant_id: uuid.UUID, starts_at: datetime) -> _Slot:
    """A new slot: the club's meeting length, then its buffer."""
    settings = MeetingSettings.model_validate(club.meeting_settings)
    start = starts_at.astimezone(UTC)
    end = start + timedelta(minutes=settings.slot_minutes)
    return _Slot(consultant_id, start, end, end + timedelta(minutes=settings.buffer_minutes))


class MeetingService:
    # ---- reading -----------------------------------------------------------------------

    async def get(
        self, session: AsyncSession, actor: Principal, meeting_id: uuid.UUID, *, lock: bool = False
    ) -> Meeting:
        meeting = await repository.get(session, meeting_id, lock=lock)
        if (
            meeting is None
            or not actor.sees_club(meeting.club_id)
            or (actor.member_id is not None and actor.member_id != meeting.member_id)
        ):
            raise NotFound("Meeting not found.", code="meeting_not_found")
        return meeting

    async def list(
        self,
        session: AsyncSession,
        actor: Principal,
        page: PageParams,
        *,
        club_id: uuid.UUID | None = None,
        consultant_id: uuid.UUID | None = None,
        member_id: uuid.UUID | None = None,
        starts_from: datetime | None = None,
        starts_before: datetime | None = None,
        statuses: Sequence[MeetingStatus] | None = None,
    ) -> tuple[list[Meeting], str | None]:
        if club_id is not None:
            actor.require_club(club_id, "club")
        if actor.member_id is not None:
            if member_id not in (None, actor.member_id):
                return [], None
            member_id = actor.member_id
        stmt = repository.listing(
            actor.club_ids,
            club_id=club_id,
            consultant_id=consultant_id,
            member_id=member_id,
            starts_from=starts_from,
            starts_before=starts_before,
            statuses=[s.value for s in statuses or []],
        )
        return await paginate(
            session,
            stmt,
            [SortKey(Meeting.starts_at), SortKey(Meeting.id)],
            page,
            scope="meetings",
            key_of=lambda m: [m.starts_at, m.id],
        )

    async def sold_at(
        self,
        session: AsyncSession,
        actor: Principal,
        meeting_id: uuid.UUID,
        *,
        member_id: uuid.UUID,
    ) -> Meeting:
        """The meeting a sale (a renewal) says it was agreed at: visible to `actor`, the
        same member's, and not called off or missed. 404 `meeting_not_found`, else 422
        `meeting_mismatch`."""
        meeting = await self.get(session, actor, meeting_id)
        if meeting.member_id != member_id or MeetingStatus(meeting.status) not in HOLDS_TIME:
            raise RuleViolation(
                "That meeting is not this member's, or it was cancelled or missed.",
                code="meeting_mismatch",
                errors=[{"pointer": "/meeting_id", "detail": "not a meeting of this member"}],
            )
        return meeting

    async def slots(
        self,
        session: AsyncSession,
        actor: Principal,
        club: Club,
        *,
        day: date | None,
        consultant_id: uuid.UUID | None,
        purpose: MeetingPurpose,
        as_of: datetime,
    ) -> MeetingSlots:
        """Free slots on a club-local day, for one consultant or every eligible one."""
        actor.require(Perm.MEETINGS_READ)
        day = day or local_date(club.timezone, as_of)
        settings = MeetingSettings.model_validate(club.meeting_settings)
        roles = roles_for(purpose)
        if consultant_id is not None:
            staff = [await self._consultant(session, actor, club, consultant_id, purpose)]
        else:
            staff = await working_hours_service.club_staff(session, club, roles)
        ids = [s.id for s in staff]
        windows = await working_hours_service.windows(session, club, ids, day)
        day_start, day_end = local_day_bounds_utc(club.timezone, day)
        busy = await repository.busy(session, ids, day_start, day_end)
        length = timedelta(minutes=settings.slot_minutes)
        buffer = timedelta(minutes=settings.buffer_minutes)
        free = sorted(
            (t, str(sid))
            for sid in ids
            for t in free_starts(
                windows[sid], busy[sid], length=length, buffer=buffer, not_before=as_of
            )
        )
        # Sorted on UTC instants: aware datetimes sharing a tzinfo compare by wall time,
        # which would put 01:00 EST before 01:30 EDT on a fall-back day.
        tz = zone(club.timezone)
        items = [
            MeetingSlot(
                starts_at=t.astimezone(tz),
                ends_at=(t + length).astimezone(tz),
                consultant_id=uuid.UUID(sid),
            )
            for t, sid in free
        ]
        return MeetingSlots(
            club_id=club.id,
            date=day,
            timezone=club.timezone,
            purpose=purpose,
            slot_minutes=settings.slot_minutes,
            buffer_minutes=settings.buffer_minutes,
            items=items,
        )

    async def calendar(
        self, session: AsyncSession, actor: Principal, staff: Staff, *, as_of: datetime
    ) -> bytes:
        """The staff member's meetings in the clubs `actor` sees, as an .ics feed."""
        actor.require(Perm.MEETINGS_READ)
        if actor.member_id is not None:
            raise Forbidden("A member's token cannot read staff calendars.")
        meetings = await repository.calendar(
            session,
            staff.id,
            actor.club_ids,
            since=as_of - ics.LOOKBACK,
            until=as_of + ics.HORIZON,
            limit=ics.MAX_EVENTS,
        )
        return ics.render(meetings, calendar_name=f"{staff.name}: meetings", as_of=as_of)

    # ---- booking -----------------------------------------------------------------------

    async def book(
        self, session: AsyncSession, actor: Principal, data: MeetingCreate, *, as_of: datetime
    ) -> Meeting:
        actor.require(Perm.MEETINGS_WRITE)
        club = await club_service.get(session, actor, data.club_id)
        member = await self._member(session, actor, data.member_id)
        if member.club_id != club.id:
            raise RuleViolation(
                "The member belongs to another club; book the meeting in their home club.",
                code="member_in_another_club",
                errors=[{"pointer": "/club_id", "detail": "not the member's club"}],
            )
        consultant = await self._consultant(session, actor, club, data.consultant_id, data.purpose)
        if data.call_id is not None:
            await self._check_call(session, data.call_id, member)
        meeting = Meeting(
            club_id=club.id,
            member_id=member.id,
            consultant_id=consultant.id,
            call_id=data.call_id,
            booked_by_id=actor.staff_id,
            purpose=data.purpose.value,
            status=MeetingStatus.BOOKED.value,
        )
        meeting.club, meeting.member = club, member
        await self._place(session, meeting, club, consultant.id, data.starts_at, as_of=as_of)
        session.add(meeting)
        await self._flush(session)
        await emit(
            session,
            "meeting.booked",
            {
                "meeting_id": meeting.id,
                "member_id": member.id,
                "consultant_id": consultant.id,
                "call_id": meeting.call_id,
                "purpose": meeting.purpose,
                "starts_at": meeting.starts_at,
                "ends_at": meeting.ends_at,
            },
            club_id=club.id,
        )
        audit_service.record(
            session,
            actor,
            entity="meeting",
            entity_id=meeting.id,
            action="booked",
            changes={
                "member_id": member.id,
                "consultant_id": consultant.id,
                "starts_at": meeting.starts_at,
                "purpose": meeting.purpose,
                "call_id": meeting.call_id,
            },
            club_id=club.id,
        )
        return meeting

    @staticmethod
    async def _check_call(session: AsyncSession, call_id: uuid.UUID, member: Member) -> None:
        """A meeting's source call must be a service call of the same member."""
        call = await session.get(ServiceCall, call_id)
        if call is None or call.member_id != member.id:
            raise RuleViolation(
                "No service call of this member has that id.",
                code="call_mismatch",
                errors=[{"pointer": "/call_id", "detail": "not a call of this member"}],
            )

    async def _member(
        self, session: AsyncSession, actor: Principal, member_id: uuid.UUID
    ) -> Member:
        member = await member_service.get(session, actor, member_id)
        if member.erased_at is not None:
            raise Conflict(
                "This member's personal data was erased; no meeting can be booked.",
                code="member_erased",
            )
        return member

    async def _consultant(
        self,
        session: AsyncSession,
        actor: Principal,
        club: Club,
        staff_id: uuid.UUID,
        purpose: MeetingPurpose,
    ) -> Staff:
        staff = await staff_service.get(session, actor, staff_id)
        working_hours_service.check_takes_meetings(staff, club, roles_for(purpose))
        return staff

    async def _place(
        self,
        session: AsyncSession,
        meeting: Meeting,
        club: Club,
        consultant_id: uuid.UUID,
        starts_at: datetime,
        *,
        as_of: datetime,
    ) -> None:
        """Put `meeting` at `starts_at` with `consultant_id`, or raise why it cannot go there."""
        slot = _slot(club, consultant_id, starts_at)
        if slot.starts_at < as_of:
            raise RuleViolation(
                "A meeting cannot start in the past.",
                code="starts_in_past",
                errors=[{"pointer": "/starts_at", "detail": "in the past"}],
            )
        day = local_date(club.timezone, slot.starts_at)
        windows = (await working_hours_service.windows(session, club, [consultant_id], day))[
            consultant_id
        ]
        if not any(w.covers(slot.starts_at, slot.ends_at) for w in windows):
            raise RuleViolation(
                "The consultant does not work then, or the club is closed "
                "(see meeting-slots for free times).",
                code="outside_working_hours",
                errors=[{"pointer": "/starts_at", "detail": "outside working hours"}],
            )
        await self._check_free(session, meeting, slot, status=MeetingStatus(meeting.status))
        meeting.consultant_id = slot.consultant_id
        meeting.starts_at, meeting.ends_at = slot.starts_at, slot.ends_at
        meeting.blocked_until = slot.blocked_until

    async def _check_free(
        self, session: AsyncSession, meeting: Meeting, slot: _Slot, *, status: MeetingStatus
    ) -> None:
        """409 unless the member and the consultant are free for `meeting` in `slot` with
        `status`. Runs before the meeting is changed: a query would flush the change."""
        await repository.lock_calendars(
            session, consultant_id=slot.consultant_id, member_id=meeting.member_id
        )
        exclude = meeting.id  # an existing meeting never conflicts with itself
        if meeting.purpose == MeetingPurpose.RENEWAL.value and status in OPEN:
            other = await repository.open_renewal(session, meeting.member_id, exclude_id=exclude)
            if other is not None:
                raise self._member_busy(other, "already has an upcoming renewal meeting")
        other = await repository.member_overlap(
            session, meeting.member_id, slot.starts_at, slot.ends_at, exclude_id=exclude
        )
        if other is not None:
            raise self._member_busy(other, "has another meeting at that time")
        clash = await repository.consultant_overlap(
            session, slot.consultant_id, slot.starts_at, slot.blocked_until, exclude_id=exclude
        )
        if clash is not None:
            raise Conflict(
                "The consultant is already booked then (the club's buffer between meetings "
                "included); pick another slot.",
                code="slot_taken",
            )

    @staticmethod
    def _member_busy(other: Meeting, why: str) -> Conflict:
        return Conflict(
            f"The member {why} ({other.starts_at.isoformat()}); move or cancel that one first.",
            code="member_has_meeting",
            meeting_id=str(other.id),
        )

    async def _flush(self, session: AsyncSession) -> None:
        try:
            await session.flush()
        except IntegrityError as exc:
            # The database's guarantees caught what the checks could not see.
            code = repository.broken_guarantee(exc)
            if code == "slot_taken":
                raise Conflict("The consultant is already booked then.", code=code) from exc
            if code == "member_has_meeting":
                raise Conflict("The member already has a meeting then.", code=code) from exc
            raise

    # ---- changing ----------------------------------------------------------------------

    async def update(
        self,
        session: AsyncSession,
        actor: Principal,
        meeting: Meeting,
        data: MeetingUpdate,
        *,
        if_match: str | None,
        require_if_match: bool,
        as_of: datetime,
    ) -> Meeting:
        """Reschedule, hand over, confirm, mark attended / no-show, or cancel."""
        actor.require(Perm.MEETINGS_WRITE)
        check_if_match(if_match, meeting.id, meeting.version, required=require_if_match)
        before = self._snapshot(meeting)
        starts_at = data.starts_at.astimezone(UTC) if data.starts_at else meeting.starts_at
        consultant_id = data.consultant_id or meeting.consultant_id
        if starts_at != meeting.starts_at or consultant_id != meeting.consultant_id:
            if MeetingStatus(meeting.status) not in OPEN:
                raise Conflict(
                    f"A meeting that is {meeting.status} cannot be moved.",
                    code="invalid_transition",
                )
            if consultant_id != meeting.consultant_id:
                await self._consultant(
                    session, actor, meeting.club, consultant_id, MeetingPurpose(meeting.purpose)
                )
            await self._place(session, meeting, meeting.club, consultant_id, starts_at, as_of=as_of)
            if starts_at != before["starts_at"]:
                # Confirmed for another time is not confirmed for this one.
                meeting.status, meeting.confirmed_at = MeetingStatus.BOOKED.value, None
        if data.status is not None:
            await self._transition(session, meeting, data.status, as_of=as_of)
            if data.status == MeetingStatus.CANCELLED:
                meeting.cancel_reason = data.cancel_reason
        after = self._snapshot(meeting)
        diff = audit_service.diff(before, after)
        if not diff:
            return meeting
        await self._flush(session)
        if "status" in diff and meeting.status == MeetingStatus.NO_SHOW.value:
            await emit(
                session,
                "meeting.no_show",
                {
                    "meeting_id": meeting.id,
                    "member_id": meeting.member_id,
                    "consultant_id": meeting.consultant_id,
                    "call_id": meeting.call_id,
                    "purpose": meeting.purpose,
                    "starts_at": meeting.starts_at,
                    "no_show_at": meeting.no_show_at,
                },
                club_id=meeting.club_id,
            )
        audit_service.record(
            session,
            actor,
            entity="meeting",
            entity_id=meeting.id,
            action="updated",
            changes=diff,
            club_id=meeting.club_id,
        )
        return meeting

    @staticmethod
    def _snapshot(meeting: Meeting) -> dict[str, Any]:
        return {
            "status": meeting.status,
            "starts_at": meeting.starts_at,
            "consultant_id": meeting.consultant_id,
        }

    async def _transition(
        self, session: AsyncSession, meeting: Meeting, to: MeetingStatus, *, as_of: datetime
    ) -> None:
        current = MeetingStatus(meeting.status)
        if to == current:
            return
        if to not in TRANSITIONS[current]:
            final = "" if TRANSITIONS[current] else " (final)"
            raise Conflict(
                f"A meeting that is {current}{final} cannot become {to}.",
                code="invalid_transition",
            )
        if to in (MeetingStatus.ATTENDED, MeetingStatus.NO_SHOW):
            opens = meeting.starts_at - MARKABLE_BEFORE_START
            if as_of < opens:
                raise RuleViolation(
                    f"Attendance can be recorded from 60 minutes before the start "
                    f"({opens.isoformat()}).",
                    code="meeting_not_started",
                )
        if current not in HOLDS_TIME and to in HOLDS_TIME:
            # Its time was free while it was a no-show; it may have been taken since.
            await self._check_free(session, meeting, _Slot.of(meeting), status=to)
        meeting.status = to.value
        if to == MeetingStatus.CONFIRMED:
            meeting.confirmed_at = as_of
        elif to == MeetingStatus.ATTENDED:
            meeting.attended_at, meeting.no_show_at = as_of, None
            await hooks.attended(session, meeting, as_of)
        elif to == MeetingStatus.NO_SHOW:
            meeting.no_show_at = as_of
        elif to == MeetingStatus.CANCELLED:
            meeting.cancelled_at = as_of

    # ---- outcome -----------------------------------------------------------------------

    async def record_outcome(
        self,
        session: AsyncSession,
        actor: Principal,
        meeting: Meeting,
        data: OutcomeCreate,
        *,
        as_of: datetime,
    ) -> Meeting:
        """What came of the meeting. Marks an unmarked meeting attended."""
        actor.require(Perm.MEETINGS_WRITE)
        if data.result == MeetingResult.DECLINED and data.decline_reason is None:
            raise RuleViolation(
                "A declined renewal needs a reason: price, schedule, moved, health, "
                "dissatisfied, competitor, no_time or other.",
                code="decline_reason_required",
                errors=[{"pointer": "/decline_reason", "detail": "required for declined"}],
            )
        if meeting.outcome is not None:
            raise Conflict(
                f"The outcome ({meeting.outcome}) is already recorded.",
                code="outcome_already_recorded",
            )
        status = MeetingStatus(meeting.status)
        if status in (MeetingStatus.CANCELLED, MeetingStatus.NO_SHOW):
            raise Conflict(f"A meeting that is {status} has no outcome.", code="invalid_transition")
        if data.result in (MeetingResult.RENEWED, MeetingResult.SWITCHED_PLAN):
            await self._check_membership(session, meeting, data)
        if status in OPEN:
            await self._transition(session, meeting, MeetingStatus.ATTENDED, as_of=as_of)
        meeting.outcome = data.result.value
        meeting.outcome_membership_id = data.membership_id
        meeting.decline_reason = None if data.decline_reason is None else data.decline_reason.value
        meeting.outcome_notes = data.notes
        meeting.outcome_at = as_of
        meeting.outcome_by_id = actor.staff_id
        await self._flush(session)
        audit_service.record(
            session,
            actor,
            entity="meeting",
            entity_id=meeting.id,
            action="outcome_recorded",
            changes={
                "status": [status.value, meeting.status],
                "outcome": data.result.value,
                "membership_id": data.membership_id,
                "decline_reason": meeting.decline_reason,
            },
            club_id=meeting.club_id,
        )
        return meeting

    async def _check_membership(
        self, session: AsyncSession, meeting: Meeting, data: OutcomeCreate
    ) -> None:
        """`renewed` needs the membership sold at this meeting (`meeting_id` links back);
        `switched_plan` a membership of the member not sold at another meeting."""
        membership = (
            None
            if data.membership_id is None
            else await repository.get_membership(session, data.membership_id)
        )
        linked = membership is not None and (
            membership.meeting_id == meeting.id
            or (data.result == MeetingResult.SWITCHED_PLAN and membership.meeting_id is None)
        )
        if membership is None or membership.member_id != meeting.member_id or not linked:
            raise RuleViolation(
                f"`{data.result.value}` needs the membership sold to this member at this "
                "meeting (create the renewal with this meeting_id).",
                code="membership_mismatch",
                errors=[{"pointer": "/membership_id", "detail": "not this meeting's membership"}],
            )

    # ---- reminders ---------------------------------------------------------------------

    async def reminders_due(self, session: AsyncSession, *, as_of: datetime) -> Sequence[uuid.UUID]:
        """Meetings on their club's tomorrow, once the club's day has reached
        `REMINDER_AT`, not yet reminded of their current start time."""
        rows = await repository.reminder_candidates(
            session, since=as_of, until=as_of + timedelta(days=2)
        )
        due = []
        for meeting_id, starts_at, tz in rows:
            today = local_date(tz, as_of)
            if as_of >= local_to_utc(tz, today, REMINDER_AT) and local_date(
                tz, starts_at
            ) == today + timedelta(days=1):
                due.append(meeting_id)
        return due

    async def remind(
        self, session: AsyncSession, meeting_id: uuid.UUID, *, as_of: datetime
    ) -> str | None:
        """Queue the reminder of one meeting through the messages outbox (a service
        message in the member's channel, with consent, outside the caps), once per start
        time. Returns the message's status, or None if there is nothing to remind of."""
        meeting = await repository.for_reminder(session, meeting_id)
        if (
            meeting is None
            or MeetingStatus(meeting.status) not in OPEN
            or meeting.reminded_for == meeting.starts_at
        ):
            return None
        local = meeting.starts_at.astimezone(zone(meeting.club.timezone))
        message = await messaging_service.queue(
            session,
            meeting.member,
            template=REMINDER_TEMPLATE,
            category=Category.SERVICE,
            # Per meeting and start: a rescheduled meeting is reminded of its new time.
            dedupe_key=f"meeting_reminder:{meeting.id}:{meeting.starts_at:%Y%m%dT%H%MZ}",
            as_of=as_of,
            context={"meeting_time": f"{local:%A} {local.day} {local:%B} at {local:%H:%M}"},
            exempt_from_caps=True,
        )
        await repository.mark_reminded(session, meeting.id, meeting.starts_at)
        return message.status

    # ---- privacy -----------------------------------------------------------------------

    async def forget_member(
        self, session: AsyncSession, member: Member, *, as_of: datetime
    ) -> None:
        """Erasure of `member`: free text about them goes, times and outcomes stay, and
        their upcoming meetings are called off (nobody is left to meet or remind)."""
        for m in await repository.of_member(session, member.club_id, member.id):
            if m.outcome_notes is not None:
                m.outcome_notes = REDACTED
            if m.cancel_reason is not None:
                m.cancel_reason = REDACTED
            if MeetingStatus(m.status) in OPEN and m.starts_at >= as_of:
                m.status, m.cancelled_at, m.cancel_reason = _S.CANCELLED.value, as_of, REDACTED


meeting_service = MeetingService()


async def _export_meetings(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    return [row_dict(m) for m in await repository.of_member(session, member.club_id, member.id)]


async def _erase_meetings(session: AsyncSession, member: Member) -> None:
    await meeting_service.forget_member(session, member, as_of=utcnow())


register_export_section("meetings", _export_meetings)
register_erasure(_erase_meetings)
