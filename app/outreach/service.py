"""Service calls: open or merge, the queue, assignment, attempts and their outcomes, and
the maintenance that keeps the queue honest.

Every path that creates a call (the playbook job, the lapse trigger, manual `POST
/calls`, a no-show) goes through `call_service.open_or_merge`, which

- merges into the member's open call when there is one (a member has at most one open
  call; the call takes the most important kind, the higher priority and the wider due
  window), so a retried job or two replicas never open a second call - the partial
  unique index `ix_service_calls_member_id_open` is the last word under a race;
- otherwise asks the contact policy (`app.policy.contact.decide`, the one policy
  function) whether a call may be made: "not yet" (silence days, quiet hours, a freeze,
  the cap freeing up) schedules the call at the next allowed instant when that is
  inside the due window; anything else refuses with 409 `contact_not_allowed`;
- assigns a new call round-robin to the club's active callers (fewest open calls first).

An attempt is checked by the same policy at the moment of dialling (quiet hours in the
club's local time, the member's window, consent, do-not-contact, caps other than this
call's own retries...). Its outcome moves the call on: a meeting booked (the only
positive outcome - DESIGN principle 2), a callback, a retry at another time of day on a
later day, a recorded decline, a wrong number, an opt-out, or a complaint case.
"""

from __future__ import annotations

import builtins
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Perm, Principal, Role
from app.complaints.service import ComplaintSource, complaint_service
from app.core.clock import utcnow
from app.core.etags import check_if_match
from app.core.ids import new_id
from app.core.pagination import PageParams, SortKey, paginate
from app.core.timezones import local_date, local_midnight_utc, local_now, local_to_utc
from app.errors import Conflict, NotFound, RuleViolation
from app.events.service import emit
from app.meetings.schemas import MeetingCreate
from app.meetings.service import meeting_service
from app.members.consents import ConsentPurpose
from app.members.privacy import REDACTED, register_erasure, register_export_section, row_dict
from app.members.repository import MEMBER_ENTITY
from app.members.service import member_service
from app.models import CallAttempt, ConsentEvent, Member, ServiceCall
from app.models.meeting import MeetingPurpose
from app.models.outreach import KIND_PRECEDENCE, CallKind, CallOutcome, CallStatus
from app.outreach import repository
from app.outreach.schemas import CallAttemptCreate, CallCreate, CallUpdate
from app.policy.contact import (
    Category,
    Channel,
    ContactRequest,
    Decision,
    Reason,
    next_contact_time,
)
from app.policy.service import Subject, contact_policy_service

CALL_ENTITY = "service_call"
# A manual call without `due_until` may be made within this long.
DEFAULT_WINDOW = timedelta(days=7)
# Unanswered attempts (no answer, voicemail) after which a call expires.
MAX_UNANSWERED = 3
# A requested callback keeps the call open at least this long after the callback time.
CALLBACK_GRACE = timedelta(days=1)
# Maintenance marks scheduled calls due in batches of this many rows.
DUE_BATCH = 500

# Club-local parts of the day a no-answer retry rotates through (start, end).
DAY_PARTS: tuple[tuple[time, time | None], ...] = (
    (time(0), time(12)),  # morning
    (time(12), time(17)),  # afternoon
    (time(17), None),  # evening (to midnight)
)

CLOSED = frozenset({CallStatus.COMPLETED, CallStatus.CANCELLED, CallStatus.EXPIRED})
RETRYABLE = frozenset({CallOutcome.NO_ANSWER, CallOutcome.VOICEMAIL})

# The meeting a call books by default, by call kind (the attempt may name another).
DEFAULT_PURPOSE: dict[CallKind, MeetingPurpose] = {
    CallKind.RENEWAL: MeetingPurpose.RENEWAL,
    CallKind.LAPSE: MeetingPurpose.RENEWAL,
    CallKind.NO_SHOW: MeetingPurpose.RENEWAL,
    CallKind.POST_FREEZE: MeetingPurpose.RENEWAL,
    CallKind.WELCOME: MeetingPurpose.ONBOARDING,
    CallKind.ONBOARDING: MeetingPurpose.ONBOARDING,
    CallKind.FEEDBACK: MeetingPurpose.FEEDBACK,
    CallKind.COMPLAINT_FOLLOW_UP: MeetingPurpose.FEEDBACK,
    CallKind.BIRTHDAY: MeetingPurpose.FEEDBACK,
}

# The field each outcome needs (and that no other outcome may carry).
_NEEDS: dict[CallOutcome, str] = {
    CallOutcome.MEETING_BOOKED: "meeting",
    CallOutcome.CALLBACK_REQUESTED: "callback_at",
    CallOutcome.DECLINED: "decline_reason",
    CallOutcome.COMPLAINT: "complaint",
}


class ContactNotAllowed(Conflict):
    """409 `contact_not_allowed`: the contact policy refused; `reason` says why and
    `retry_after` (an instant) when it may be tried again, if known."""

    code = "contact_not_allowed"

    def __init__(self, decision: Decision) -> None:
        retry = decision.next_allowed_at
        super().__init__(
            f"The member may not be called now: {decision.detail}.",
            reason=decision.reason.value if decision.reason else None,
            retry_after=retry.isoformat() if retry else None,
        )


class CallClosed(Conflict):
    code = "call_closed"

    def __init__(self, call: ServiceCall) -> None:
        super().__init__(
            f"This call is {call.status} ({call.close_reason or call.outcome}); "
            "it cannot be changed or attempted.",
            status_of_call=call.status,
        )


def reason(kind: CallKind | str, code: str, text: str, source: str, at: datetime) -> dict[str, Any]:
    """One entry of `ServiceCall.reasons`: why the call exists, from where."""
    return {"kind": str(kind), "code": code, "text": text, "source": source, "at": at.isoformat()}


def more_important(a: str, b: str) -> str:
    """The kind a merged call takes (DESIGN §2 precedence)."""
    order = [k.value for k in KIND_PRECEDENCE]
    return a if order.index(a) <= order.index(b) else b


def _invalid(field: str, detail: str, code: str = "validation_error") -> RuleViolation:
    return RuleViolation(
        f"`{field}` {detail}.", code=code, errors=[{"pointer": f"/{field}", "detail": detail}]
    )


def _day_part(at: time) -> int:
    return next(i for i, (_, end) in enumerate(DAY_PARTS) if end is None or at < end)


def retry_time(subject: Subject, as_of: datetime) -> datetime | None:
    """When to try again after no answer: on the next club-local day, in another part of
    the day (morning -> afternoon -> evening -> morning), inside the club's quiet hours
    and the member's window. If no other part of that day is open, the same part; if
    nothing that day, the first allowed instant after it."""
    tz, policy, facts = subject.policy.timezone, subject.policy, subject.facts
    now = local_now(tz, as_of)
    current = _day_part(now.time())
    day = now.date() + timedelta(days=1)
    for step in (1, 2, 0):
        start, end = DAY_PARTS[(current + step) % len(DAY_PARTS)]
        lo = local_to_utc(tz, day, start)
        hi = (
            local_to_utc(tz, day, end)
            if end is not None
            else local_midnight_utc(tz, day + timedelta(days=1))
        )
        at = next_contact_time(policy, facts, lo)
        if at is not None and at < hi:
            return at
    return next_contact_time(policy, facts, local_midnight_utc(tz, day))


def _parse(at: object) -> datetime | None:
    if not isinstance(at, str):
        return None
    try:
        value = datetime.fromisoformat(at)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Opened:
    call: ServiceCall
    created: bool  # False: the reason merged into the member's open call


class CallService:
    def call_request(
        self, kind: CallKind | str, call_id: uuid.UUID | None = None
    ) -> ContactRequest:
        return ContactRequest(Channel.CALL, Category.SERVICE, str(kind), call_id=call_id)

    async def subject(
        self,
        session: AsyncSession,
        member_id: uuid.UUID,
        as_of: datetime,
        *,
        exclude_call_id: uuid.UUID | None = None,
    ) -> Subject:
        subjects = await contact_policy_service.subjects(
            session,
            [member_id],
            as_of,
            exclude_call_ids=[exclude_call_id] if exclude_call_id else (),
        )
        return subjects[member_id]

    # ---- opening and merging -----------------------------------------------------------

    async def open_or_merge(
        self,
        session: AsyncSession,
        member: Member,
        *,
        kind: CallKind,
        reasons: list[dict[str, Any]],
        priority: int,
        due_from: datetime,
        due_until: datetime,
        as_of: datetime,
        source: str,
        membership_id: uuid.UUID | None = None,
        created_by_id: uuid.UUID | None = None,
        notes: str | None = None,
    ) -> Opened:
        existing = await repository.open_call_for_update(session, member.id)
        if existing is not None:
            self.merge(existing, kind, reasons, priority, due_from, due_until, membership_id)
            return Opened(existing, created=False)

        subject = await self.subject(session, member.id, as_of)
        decision = subject.decide(self.call_request(kind), as_of)
        if decision.reason is Reason.OPEN_CALL:
            # Another transaction opened the member's call after our look above (it
            # committed in between): merge into it like any other open call.
            existing = await repository.open_call_for_update(session, member.id)
            if existing is not None:
                self.merge(existing, kind, reasons, priority, due_from, due_until, membership_id)
                return Opened(existing, created=False)
        next_at = max(due_from, as_of)
        if not decision.allowed:
            later = decision.next_allowed_at
            if later is None or later >= due_until or decision.reason is Reason.OPEN_CALL:
                raise ContactNotAllowed(decision)
            next_at = max(next_at, later)
        call = ServiceCall(
            club_id=member.club_id,
            member_id=member.id,
            membership_id=membership_id,
            kind=kind.value,
            reasons=list(reasons),
            priority=priority,
            due_from=due_from,
            due_until=due_until,
            next_attempt_at=next_at,
            status=CallStatus.SCHEDULED.value,
            attempts=0,
            source=source,
            created_by_id=created_by_id,
            assignee_id=await self.next_caller(session, member.club_id),
            notes=notes,
            created_at=as_of,
            updated_at=as_of,
        )
        try:
            async with session.begin_nested():
                session.add(call)
                await session.flush()
        except IntegrityError:
            # Another transaction opened this member's call first: merge into it.
            existing = await repository.open_call_for_update(session, member.id)
            if existing is None:
                raise
            self.merge(existing, kind, reasons, priority, due_from, due_until, membership_id)
            return Opened(existing, created=False)
        if next_at <= as_of:
            await self.mark_due(session, call, as_of)
        return Opened(call, created=True)

    @staticmethod
    def merge(
        call: ServiceCall,
        kind: CallKind,
        reasons: list[dict[str, Any]],
        priority: int,
        due_from: datetime,
        due_until: datetime,
        membership_id: uuid.UUID | None,
    ) -> None:
        known = {(r.get("code"), r.get("kind")) for r in call.reasons}
        fresh = [r for r in reasons if (r.get("code"), r.get("kind")) not in known]
        if fresh:
            call.reasons = [*call.reasons, *fresh]
        call.kind = more_important(call.kind, kind.value)
        call.priority = max(call.priority, priority)
        call.due_from = min(call.due_from, due_from)
        call.due_until = max(call.due_until, due_until)
        if call.membership_id is None and membership_id is not None:
            call.membership_id = membership_id

    async def next_caller(self, session: AsyncSession, club_id: uuid.UUID) -> uuid.UUID | None:
        """Round-robin: the club's active caller with the fewest open calls; ties go to
        whoever was given a call least recently (never first), then by id."""
        callers = [
            s
            for s in await repository.active_club_staff(session, club_id)
            if Role.CALLER.value in (s.roles or [])
        ]
        if not callers:
            return None
        loads = await repository.workloads(session, club_id, [s.id for s in callers])

        def order(staff_id: uuid.UUID) -> tuple[int, bool, datetime, str]:
            open_calls, last = loads.get(staff_id, (0, None))
            return (
                open_calls,
                last is not None,
                last or datetime.min.replace(tzinfo=UTC),
                str(staff_id),
            )

        return min((s.id for s in callers), key=order)

    async def mark_due(self, session: AsyncSession, call: ServiceCall, as_of: datetime) -> None:
        """scheduled -> due, with `call.due` emitted once per call (`due_notified_at`)."""
        if call.status == CallStatus.SCHEDULED.value:
            call.status = CallStatus.DUE.value
        if call.due_notified_at is None:
            call.due_notified_at = as_of
            await emit(
                session,
                "call.due",
                {
                    "call_id": call.id,
                    "member_id": call.member_id,
                    "membership_id": call.membership_id,
                    "kind": call.kind,
                    "priority": call.priority,
                    "due_until": call.due_until,
                    "assignee_id": call.assignee_id,
                },
                club_id=call.club_id,
            )

    # ---- reading -----------------------------------------------------------------------

    async def get(
        self, session: AsyncSession, actor: Principal, call_id: uuid.UUID, *, lock: bool = False
    ) -> ServiceCall:
        call = await repository.get(session, call_id, lock=lock)
        if (
            call is None
            or not actor.sees_club(call.club_id)
            or (actor.member_id is not None and actor.member_id != call.member_id)
        ):
            raise NotFound("Call not found.", code="call_not_found")
        return call

    async def list(
        self,
        session: AsyncSession,
        actor: Principal,
        page: PageParams,
        *,
        club_id: uuid.UUID | None = None,
        statuses: Sequence[CallStatus] = (),
        kinds: Sequence[CallKind] = (),
        assignee_id: uuid.UUID | None = None,
        member_id: uuid.UUID | None = None,
        due_before: datetime | None = None,
    ) -> tuple[list[ServiceCall], str | None]:
        """The queue, most urgent first: priority, then when it may be dialled next."""
        actor.require(Perm.CALLS_READ)
        if club_id is not None:
            actor.require_club(club_id, "club")
        if actor.member_id is not None:
            if member_id not in (None, actor.member_id):
                return [], None
            member_id = actor.member_id
        stmt = repository.listing(
            actor.club_ids,
            club_id=club_id,
            statuses=[s.value for s in statuses],
            kinds=[k.value for k in kinds],
            assignee_id=assignee_id,
            member_id=member_id,
            due_before=due_before,
        )
        return await paginate(
            session,
            stmt,
            [
                SortKey(ServiceCall.priority, descending=True),
                SortKey(repository.next_at),
                SortKey(ServiceCall.id),
            ],
            page,
            scope="calls",
            key_of=lambda c: [c.priority, c.next_attempt_at or c.due_from, c.id],
        )

    # ---- staff's changes ---------------------------------------------------------------

    async def create(
        self, session: AsyncSession, actor: Principal, data: CallCreate, *, as_of: datetime
    ) -> Opened:
        """A manual call, through `open_or_merge`: merged into the member's open call if
        there is one (its notes appended), else opened if the policy allows."""
        actor.require(Perm.CALLS_WRITE)
        member = await member_service.get(session, actor, data.member_id)
        due_from = data.due_from or as_of
        due_until = data.due_until or max(due_from, as_of) + DEFAULT_WINDOW
        if due_until <= due_from:
            raise _invalid("due_until", "must be after due_from")
        if due_until <= as_of:
            raise _invalid("due_until", "must be in the future")
        opened = await self.open_or_merge(
            session,
            member,
            kind=data.kind,
            reasons=[reason(data.kind, "manual", "Added by staff", "manual", as_of)],
            priority=data.priority,
            due_from=due_from,
            due_until=due_until,
            as_of=as_of,
            source="manual",
            created_by_id=actor.staff_id,
            notes=data.notes,
        )
        call = opened.call
        if not opened.created and data.notes:
            call.notes = f"{call.notes}\n{data.notes}" if call.notes else data.notes
        if not opened.created:
            call.updated_at = as_of
        await session.flush()
        return opened

    async def update(
        self,
        session: AsyncSession,
        actor: Principal,
        call: ServiceCall,
        data: CallUpdate,
        *,
        if_match: str | None,
        require_if_match: bool,
        as_of: datetime,
    ) -> ServiceCall:
        """Assign, re-prioritise, annotate or cancel an open call."""
        actor.require(Perm.CALLS_WRITE)
        check_if_match(if_match, call.id, call.version, required=require_if_match)
        self._check_open(call)
        sent = data.model_fields_set
        for field in ("priority", "status", "close_reason"):
            if field in sent and getattr(data, field) is None:
                raise _invalid(field, "cannot be null")
        if data.status == "cancelled" and not data.close_reason:
            raise _invalid(
                "close_reason", "is required to cancel a call", code="close_reason_required"
            )
        if data.close_reason is not None and data.status != "cancelled":
            raise _invalid("close_reason", "goes only with `status: cancelled`")
        if "assignee_id" in sent and data.assignee_id is not None:
            await self._check_assignee(session, call.club_id, data.assignee_id)

        fields = ("assignee_id", "priority", "notes", "status", "close_reason")
        before = {f: getattr(call, f) for f in fields}
        if "assignee_id" in sent:
            call.assignee_id = data.assignee_id
        if data.priority is not None:
            call.priority = data.priority
        if "notes" in sent:
            call.notes = data.notes
        if data.status == "cancelled":
            assert data.close_reason is not None
            self._close(call, CallStatus.CANCELLED, data.close_reason, as_of)
        changes = audit_service.diff(before, {f: getattr(call, f) for f in fields})
        if changes:
            call.updated_at = as_of
            audit_service.record(
                session,
                actor,
                entity=CALL_ENTITY,
                entity_id=call.id,
                action="cancelled" if data.status == "cancelled" else "updated",
                changes={k: v for k, v in changes.items() if k != "notes"},
                club_id=call.club_id,
            )
        await session.flush()
        return call

    async def _check_assignee(
        self, session: AsyncSession, club_id: uuid.UUID, staff_id: uuid.UUID
    ) -> None:
        staff = await repository.active_club_staff(session, club_id)
        if not any(s.id == staff_id and Role.CALLER.value in (s.roles or []) for s in staff):
            raise _invalid(
                "assignee_id",
                "must be an active staff member of the call's club with the caller role",
                code="assignee_not_eligible",
            )

    @staticmethod
    def _check_open(call: ServiceCall) -> None:
        if CallStatus(call.status) in CLOSED:
            raise CallClosed(call)

    @staticmethod
    def _close(call: ServiceCall, status: CallStatus, why: str, as_of: datetime) -> None:
        call.status = status.value
        call.close_reason = why
        call.closed_at = as_of
        call.next_attempt_at = None

    # ---- attempts ----------------------------------------------------------------------

    async def attempt(
        self,
        session: AsyncSession,
        actor: Principal,
        call: ServiceCall,
        data: CallAttemptCreate,
        *,
        as_of: datetime,
    ) -> CallAttempt:
        """Record one dial and move the call on by its outcome. Refused (nothing written)
        when the call is closed, the payload does not fit the outcome, or the contact
        policy does not allow calling the member now."""
        actor.require(Perm.CALLS_WRITE)
        self._check_open(call)
        self._check_payload(data, as_of)
        subject = await self.subject(session, call.member_id, as_of, exclude_call_id=call.id)
        decision = subject.decide(self.call_request(call.kind, call.id), as_of)
        if not decision.allowed:
            raise ContactNotAllowed(decision)
        member = subject.member
        outcome = data.outcome
        if outcome is CallOutcome.CALLBACK_REQUESTED:
            assert data.callback_at is not None
            allowed_at = next_contact_time(subject.policy, subject.facts, data.callback_at)
            if allowed_at != data.callback_at:
                raise RuleViolation(
                    "The callback time is outside the club's call hours or the member's "
                    "preferred window.",
                    code="callback_outside_contact_hours",
                    errors=[{"pointer": "/callback_at", "detail": "not an allowed call time"}],
                    next_allowed_at=allowed_at.isoformat() if allowed_at else None,
                )

        attempt = CallAttempt(
            call_id=call.id,
            club_id=call.club_id,
            member_id=call.member_id,
            staff_id=actor.staff_id,
            call_kind=call.kind,
            outcome=outcome.value,
            decline_reason=data.decline_reason.value if data.decline_reason else None,
            notes=data.notes,
            callback_at=data.callback_at,
            attempted_at=as_of,
        )
        # Everything that can still refuse (a booking conflict) runs before the call
        # changes; the request's transaction is rolled back on any refusal anyway.
        if outcome is CallOutcome.MEETING_BOOKED:
            assert data.meeting is not None
            purpose = data.meeting.purpose or DEFAULT_PURPOSE[CallKind(call.kind)]
            meeting = await meeting_service.book(
                session,
                actor,
                MeetingCreate(
                    member_id=call.member_id,
                    club_id=call.club_id,
                    consultant_id=data.meeting.consultant_id,
                    starts_at=data.meeting.starts_at,
                    purpose=purpose,
                    call_id=call.id,
                ),
                as_of=as_of,
            )
            attempt.meeting_id = call.meeting_id = meeting.id
            self._close(call, CallStatus.COMPLETED, outcome.value, as_of)
        elif outcome in RETRYABLE:
            unanswered = await repository.unanswered_attempts(session, call.id) + 1
            retry = retry_time(subject, as_of)
            if unanswered >= MAX_UNANSWERED:
                self._close(call, CallStatus.EXPIRED, "no_answer_limit", as_of)
            elif retry is None or retry >= call.due_until:
                self._close(call, CallStatus.EXPIRED, "window_passed", as_of)
            else:
                call.status = CallStatus.IN_PROGRESS.value
                call.next_attempt_at = retry
        elif outcome is CallOutcome.CALLBACK_REQUESTED:
            assert data.callback_at is not None
            call.status = CallStatus.SCHEDULED.value
            call.callback_at = call.next_attempt_at = data.callback_at
            call.due_until = max(call.due_until, data.callback_at + CALLBACK_GRACE)
        elif outcome is CallOutcome.DECLINED:
            self._close(call, CallStatus.COMPLETED, outcome.value, as_of)
        elif outcome is CallOutcome.WRONG_NUMBER:
            self._mark_phone_invalid(session, actor, member, as_of)
            self._close(call, CallStatus.COMPLETED, outcome.value, as_of)
        elif outcome is CallOutcome.DO_NOT_CALL:
            self._opt_out(session, actor, member, call, as_of)
            self._close(call, CallStatus.COMPLETED, outcome.value, as_of)
        elif outcome is CallOutcome.COMPLAINT:
            assert data.complaint is not None
            complaint = await complaint_service.open(
                session,
                actor,
                member,
                category=data.complaint.category,
                description=data.complaint.description,
                severity=data.complaint.severity,
                source=ComplaintSource.CALL,
                as_of=as_of,
                membership_id=call.membership_id,
                call_id=call.id,
            )
            attempt.complaint_id = complaint.id
            self._close(call, CallStatus.COMPLETED, outcome.value, as_of)

        call.attempts += 1
        call.outcome = outcome.value
        call.updated_at = as_of
        session.add(attempt)
        await session.flush()
        return attempt

    @staticmethod
    def _check_payload(data: CallAttemptCreate, as_of: datetime) -> None:
        needed = _NEEDS.get(data.outcome)
        for field in _NEEDS.values():
            given = getattr(data, field) is not None
            if field == needed and not given:
                raise _invalid(
                    field, f"is required for the `{data.outcome}` outcome", code=f"{field}_required"
                )
            if field != needed and given:
                raise _invalid(field, f"does not go with the `{data.outcome}` outcome")
        if data.callback_at is not None and data.callback_at <= as_of:
            raise _invalid("callback_at", "must be in the future", code="callback_in_past")

    @staticmethod
    def _mark_phone_invalid(
        session: AsyncSession, actor: Principal, member: Member, as_of: datetime
    ) -> None:
        before = member.phone_invalid_at
        member.phone_invalid_at = as_of
        member.updated_at = as_of
        audit_service.record(
            session,
            actor,
            entity=MEMBER_ENTITY,
            entity_id=member.id,
            action="phone_marked_invalid",
            changes=audit_service.diff(
                {"phone_invalid_at": before}, {"phone_invalid_at": member.phone_invalid_at}
            ),
            club_id=member.club_id,
        )

    @staticmethod
    def _opt_out(
        session: AsyncSession,
        actor: Principal,
        member: Member,
        call: ServiceCall,
        as_of: datetime,
    ) -> None:
        """`do_not_call`: the member's flag, and the calls consent withdrawn (source
        `call`), both audited."""
        before = member.do_not_contact
        member.do_not_contact = True
        member.updated_at = as_of
        event = ConsentEvent(
            id=new_id(),
            club_id=member.club_id,
            member_id=member.id,
            purpose=ConsentPurpose.CALLS.value,
            granted=False,
            source="call",
            note=f"do_not_call on service call {call.id}",
            recorded_by_staff_id=actor.staff_id,
            recorded_at=as_of,
        )
        session.add(event)
        audit_service.record(
            session,
            actor,
            entity=MEMBER_ENTITY,
            entity_id=member.id,
            action="updated",
            changes=audit_service.diff({"do_not_contact": before}, {"do_not_contact": True}),
            club_id=member.club_id,
        )
        audit_service.record(
            session,
            actor,
            entity=MEMBER_ENTITY,
            entity_id=member.id,
            action="consent_recorded",
            changes={
                "event_id": event.id,
                "purpose": ConsentPurpose.CALLS.value,
                "granted": False,
                "source": "call",
                "recorded_at": as_of,
                "call_id": call.id,
            },
            club_id=member.club_id,
        )

    # ---- maintenance -------------------------------------------------------------------

    async def maintain(self, session: AsyncSession, as_of: datetime) -> dict[str, int]:
        """The `call_maintenance` job: close moot calls (with why), expire calls whose
        window passed, and mark scheduled calls due. Set-based and idempotent: only open
        calls change, so a second or concurrent run changes nothing twice."""
        skip = session.get_bind().dialect.name == "postgresql"

        async def close(condition: Any, why: str, status: CallStatus = CallStatus.CANCELLED) -> int:
            return await repository.close_where(
                session, condition, status=status, close_reason=why, as_of=as_of, skip_locked=skip
            )

        counts: dict[str, int] = {}
        counts["opted_out"] = await close(repository.opted_out(), "opted_out")
        by_day: dict[Any, list[uuid.UUID]] = defaultdict(list)
        zones: dict[uuid.UUID, str] = {}
        for club in await repository.clubs_with_open_calls(session):
            by_day[local_date(club.timezone, as_of)].append(club.id)
            zones[club.id] = club.timezone
        counts["frozen"] = counts["deferred_frozen"] = 0
        for day, club_ids in by_day.items():
            counts["frozen"] += await close(repository.frozen(club_ids, day), "frozen")
            counts["deferred_frozen"] += await self._defer_frozen(
                session, club_ids, day, zones, as_of, skip_locked=skip
            )
        counts["renewed"] = await close(repository.renewed(), "renewed")
        counts["renewal_meeting_booked"] = await close(
            repository.renewal_meeting_booked(), "renewal_meeting_booked"
        )
        counts["visits_resumed"] = 0
        resumed = await self._visits_resumed(session, as_of)
        if resumed:
            counts["visits_resumed"] = await close(ServiceCall.id.in_(resumed), "visits_resumed")
        counts["expired"] = await close(
            repository.past_window(as_of), "window_passed", CallStatus.EXPIRED
        )
        counts["due"] = 0
        while True:
            batch = await repository.claim_scheduled_due(
                session, as_of, DUE_BATCH, skip_locked=skip
            )
            for call in batch:
                await self.mark_due(session, call, as_of)
            await session.flush()
            counts["due"] += len(batch)
            if len(batch) < DUE_BATCH:
                break
        return counts

    @staticmethod
    async def _defer_frozen(
        session: AsyncSession,
        club_ids: builtins.list[uuid.UUID],
        today: Any,
        zones: dict[uuid.UUID, str],
        as_of: datetime,
        *,
        skip_locked: bool,
    ) -> int:
        """Renewal and lapse calls of a frozen member move to the club-local day after the
        freeze (DESIGN §3), keeping the length of their window. Idempotent: a call already
        moved past the freeze is not moved again."""
        moved = 0
        rows = await repository.frozen_calls_to_defer(
            session, club_ids, today, skip_locked=skip_locked
        )
        for call, last_day in rows:
            resume = local_midnight_utc(zones[call.club_id], last_day + timedelta(days=1))
            if call.next_attempt_at is not None and call.next_attempt_at >= resume:
                continue
            window = max(call.due_until - call.due_from, timedelta(days=1))
            call.status = CallStatus.SCHEDULED.value
            call.next_attempt_at = resume
            call.due_from = max(call.due_from, resume)
            call.due_until = max(call.due_until, call.due_from + window)
            call.updated_at = as_of
            moved += 1
        await session.flush()
        return moved

    @staticmethod
    async def _visits_resumed(session: AsyncSession, as_of: datetime) -> builtins.list[uuid.UUID]:
        """Open lapse calls whose member visited after the lapse was flagged: after the
        latest lapse reason was added (a call merged into lapse later than it was opened
        must not be closed by a visit from before)."""
        candidates = await repository.lapse_calls_with_visits(session, as_of)
        if not candidates:
            return []
        last = await repository.last_visits(session, {m for _, m, _, _ in candidates}, as_of)
        out = []
        for call_id, member_id, created_at, reasons in candidates:
            flagged = [
                at
                for r in reasons
                if isinstance(r, dict) and r.get("kind") == CallKind.LAPSE.value
                for at in [_parse(r.get("at"))]
                if at is not None
            ]
            since = max([created_at, *flagged])
            visit = last.get(member_id)
            if visit is not None and visit > since:
                out.append(call_id)
        return out

    # ---- privacy -----------------------------------------------------------------------

    async def forget_member(
        self, session: AsyncSession, member: Member, *, as_of: datetime
    ) -> None:
        """Erasure: call and attempt notes go (the rows stay for the counts), and the
        member's open call is cancelled (`opted_out`)."""
        await repository.blank_notes(session, member, REDACTED)
        await repository.close_where(
            session,
            and_(ServiceCall.club_id == member.club_id, ServiceCall.member_id == member.id),
            status=CallStatus.CANCELLED,
            close_reason="opted_out",
            as_of=as_of,
            skip_locked=False,
        )


call_service = CallService()


async def _export_calls(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    return [row_dict(c) for c in await repository.calls_of(session, member)]


async def _export_attempts(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    return [row_dict(a) for a in await repository.attempts_of(session, member)]


async def _erase_calls(session: AsyncSession, member: Member) -> None:
    await call_service.forget_member(session, member, as_of=utcnow())


register_export_section("service_calls", _export_calls)
register_export_section("call_attempts", _export_attempts)
register_erasure(_erase_calls)
