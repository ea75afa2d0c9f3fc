"""Service-call SQL."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import (
    CallAttempt,
    Checkin,
    Club,
    ConsentEvent,
    Freeze,
    Meeting,
    Member,
    Membership,
    ServiceCall,
    Staff,
    staff_clubs,
)
from app.models.meeting import OPEN as OPEN_MEETING
from app.models.meeting import MeetingPurpose
from app.models.outreach import OPEN_CALL_STATUSES, CallKind, CallOutcome, CallStatus

OPEN_VALUES = [s.value for s in OPEN_CALL_STATUSES]
UNANSWERED = [CallOutcome.NO_ANSWER.value, CallOutcome.VOICEMAIL.value]

# When a call may be dialled next: the queue's time order (closed calls: their window).
next_at = func.coalesce(ServiceCall.next_attempt_at, ServiceCall.due_from)


async def open_call_for_update(session: AsyncSession, member_id: uuid.UUID) -> ServiceCall | None:
    """The member's open call, row-locked on PostgreSQL (SQLite serialises writers)."""
    stmt = (
        select(ServiceCall)
        .where(ServiceCall.member_id == member_id, ServiceCall.status.in_(OPEN_VALUES))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def get(
    session: AsyncSession, call_id: uuid.UUID, *, lock: bool = False
) -> ServiceCall | None:
    stmt = select(ServiceCall).where(ServiceCall.id == call_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one_or_none()


def listing(
    club_ids: frozenset[uuid.UUID] | None,
    *,
    club_id: uuid.UUID | None,
    statuses: Sequence[str],
    kinds: Sequence[str],
    assignee_id: uuid.UUID | None,
    member_id: uuid.UUID | None,
    due_before: datetime | None,
) -> Select[Any]:
    stmt = select(ServiceCall)
    if club_ids is not None:
        stmt = stmt.where(ServiceCall.club_id.in_(club_ids))
    if club_id is not None:
        stmt = stmt.where(ServiceCall.club_id == club_id)
    if statuses:
        stmt = stmt.where(ServiceCall.status.in_(list(statuses)))
    if kinds:
        stmt = stmt.where(ServiceCall.kind.in_(list(kinds)))
    if assignee_id is not None:
        stmt = stmt.where(ServiceCall.assignee_id == assignee_id)
    if member_id is not None:
        stmt = stmt.where(ServiceCall.member_id == member_id)
    if due_before is not None:
        stmt = stmt.where(next_at < due_before)
    return stmt


async def unanswered_attempts(session: AsyncSession, call_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(CallAttempt)
            .where(CallAttempt.call_id == call_id, CallAttempt.outcome.in_(UNANSWERED))
        )
        or 0
    )


# ---- assignment -----------------------------------------------------------------------


async def active_club_staff(session: AsyncSession, club_id: uuid.UUID) -> list[Staff]:
    """Active staff of the club (roles are a JSON list: the caller filters them)."""
    stmt = (
        select(Staff)
        .join(staff_clubs, staff_clubs.c.staff_id == Staff.id)
        .where(staff_clubs.c.club_id == club_id, Staff.active.is_(True))
    )
    return list((await session.scalars(stmt)).all())


async def workloads(
    session: AsyncSession, club_id: uuid.UUID, staff_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, datetime | None]]:
    """Per staff member of `staff_ids`: open calls assigned to them in the club, and when
    the latest call assigned to them was created (None: never assigned one here)."""
    if not staff_ids:
        return {}
    open_count = func.sum(case((ServiceCall.status.in_(OPEN_VALUES), 1), else_=0))
    rows = await session.execute(
        select(ServiceCall.assignee_id, open_count, func.max(ServiceCall.created_at))
        .where(ServiceCall.club_id == club_id, ServiceCall.assignee_id.in_(list(staff_ids)))
        .group_by(ServiceCall.assignee_id)
    )
    return {sid: (int(n or 0), last) for sid, n, last in rows}


# ---- maintenance ----------------------------------------------------------------------


async def claim_scheduled_due(
    session: AsyncSession, as_of: datetime, limit: int, *, skip_locked: bool
) -> list[ServiceCall]:
    """Scheduled calls whose next attempt time has come, locked for this transaction
    (PostgreSQL: SKIP LOCKED, so concurrent runs take disjoint rows; SQLite serialises
    writers, which already makes the claim exclusive)."""
    stmt = (
        select(ServiceCall)
        .where(
            ServiceCall.status == CallStatus.SCHEDULED.value,
            ServiceCall.next_attempt_at <= as_of,
        )
        .order_by(ServiceCall.next_attempt_at, ServiceCall.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if skip_locked:
        stmt = stmt.with_for_update(skip_locked=True)
    return list((await session.scalars(stmt)).all())


async def close_where(
    session: AsyncSession,
    condition: ColumnElement[bool],
    *,
    status: CallStatus,
    close_reason: str,
    as_of: datetime,
    skip_locked: bool,
) -> int:
    """Close every open call matching `condition` in one statement. Idempotent: only open
    calls change, so a second (or concurrent) run finds nothing. On PostgreSQL the rows
    are claimed with SKIP LOCKED: a call a caller is recording an attempt on right now is
    left for the next run instead of waiting for (or overriding) that request."""
    is_open = ServiceCall.status.in_(OPEN_VALUES)
    target: ColumnElement[bool] = and_(is_open, condition)
    if skip_locked:
        claimed = select(ServiceCall.id).where(is_open, condition).with_for_update(skip_locked=True)
        target = and_(is_open, ServiceCall.id.in_(claimed.scalar_subquery()))
    result = await session.execute(
        update(ServiceCall)
        .where(target)
        .values(
            status=status.value,
            close_reason=close_reason,
            closed_at=as_of,
            next_attempt_at=None,
            updated_at=as_of,
            version=ServiceCall.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def past_window(as_of: datetime) -> ColumnElement[bool]:
    return ServiceCall.due_until <= as_of


def renewed() -> ColumnElement[bool]:
    """A renewal call whose membership has been renewed (the renewing membership stands)."""
    return and_(
        ServiceCall.kind == CallKind.RENEWAL.value,
        ServiceCall.membership_id.is_not(None),
        exists(
            select(Membership.id).where(
                Membership.renews_id == ServiceCall.membership_id,
                Membership.cancelled_at.is_(None),
            )
        ),
    )


def renewal_meeting_booked() -> ColumnElement[bool]:
    """A renewal call when a renewal meeting is booked (not one this call booked: that
    completes the call)."""
    return and_(
        ServiceCall.kind == CallKind.RENEWAL.value,
        exists(
            select(Meeting.id).where(
                Meeting.member_id == ServiceCall.member_id,
                Meeting.purpose == MeetingPurpose.RENEWAL.value,
                Meeting.status.in_([s.value for s in OPEN_MEETING]),
                or_(Meeting.call_id.is_(None), Meeting.call_id != ServiceCall.id),
            )
        ),
    )


def _freeze_covering_today(today: date) -> Select[Any]:
    """Live freezes covering `today` of the call's member's membership - the call's, or
    any when the call names none (correlated to `ServiceCall`)."""
    return (
        select(Freeze.end_date)
        .join(Membership, Membership.id == Freeze.membership_id)
        .where(
            Membership.member_id == ServiceCall.member_id,
            or_(
                ServiceCall.membership_id.is_(None),
                Membership.id == ServiceCall.membership_id,
            ),
            Membership.cancelled_at.is_(None),
            Membership.start_date <= today,
            Membership.end_date >= today,
            Freeze.cancelled_at.is_(None),
            Freeze.start_date <= today,
            Freeze.end_date >= today,
        )
    )


# Renewal and lapse calls wait for the end of a freeze (DESIGN §3) instead of closing.
FREEZE_DEFERRED_KINDS = (CallKind.RENEWAL.value, CallKind.LAPSE.value)


def frozen(club_ids: Collection[uuid.UUID], today: date) -> ColumnElement[bool]:
    """Calls made moot by a freeze: of clubs whose local date is `today`, whose member's
    membership is frozen today - except post-freeze calls, and renewal and lapse calls,
    which move to after the freeze (`frozen_calls_to_defer`)."""
    return and_(
        ServiceCall.club_id.in_(list(club_ids)),
        ServiceCall.kind.not_in([CallKind.POST_FREEZE.value, *FREEZE_DEFERRED_KINDS]),
        exists(_freeze_covering_today(today)),
    )


async def frozen_calls_to_defer(
    session: AsyncSession,
    club_ids: Collection[uuid.UUID],
    today: date,
    *,
    skip_locked: bool,
) -> list[tuple[ServiceCall, date]]:
    """Open renewal/lapse calls of these clubs whose member is frozen today, with the last
    day of the freeze (the latest, if several cover today); row-locked."""
    last_day = _freeze_covering_today(today).with_only_columns(func.max(Freeze.end_date))
    until = last_day.scalar_subquery()
    stmt = (
        select(ServiceCall, until)
        .where(
            ServiceCall.club_id.in_(list(club_ids)),
            ServiceCall.status.in_(OPEN_VALUES),
            ServiceCall.kind.in_(FREEZE_DEFERRED_KINDS),
            exists(_freeze_covering_today(today)),
        )
        .order_by(ServiceCall.id)
        .with_for_update(skip_locked=skip_locked, of=ServiceCall)
    )
    return [(call, end) for call, end in await session.execute(stmt) if end]


def opted_out() -> ColumnElement[bool]:
    """The member is erased, flagged do-not-contact, or their latest `calls` consent
    event is a withdrawal."""
    newer = aliased(ConsentEvent)
    withdrawn = exists(
        select(ConsentEvent.id).where(
            ConsentEvent.member_id == ServiceCall.member_id,
            ConsentEvent.purpose == "calls",
            ConsentEvent.granted.is_(False),
            ~exists(
                select(newer.id).where(
                    newer.member_id == ConsentEvent.member_id,
                    newer.purpose == "calls",
                    or_(
                        newer.recorded_at > ConsentEvent.recorded_at,
                        and_(
                            newer.recorded_at == ConsentEvent.recorded_at,
                            newer.id > ConsentEvent.id,
                        ),
                    ),
                )
            ),
        )
    )
    flagged = exists(
        select(Member.id).where(
            Member.id == ServiceCall.member_id,
            or_(Member.do_not_contact.is_(True), Member.erased_at.is_not(None)),
        )
    )
    return or_(flagged, withdrawn)


async def lapse_calls_with_visits(
    session: AsyncSession, as_of: datetime
) -> list[tuple[uuid.UUID, uuid.UUID, datetime, list[Any]]]:
    """Open lapse calls whose member checked in after the call was created: (id,
    member_id, created_at, reasons). The service narrows them to visits after the lapse reason."""
    visited = exists(
        select(Checkin.id).where(
            Checkin.member_id == ServiceCall.member_id,
            Checkin.checked_in_at > ServiceCall.created_at,
            Checkin.checked_in_at <= as_of,
        )
    )
    rows = await session.execute(
        select(ServiceCall.id, ServiceCall.member_id, ServiceCall.created_at, ServiceCall.reasons)
        .where(
            ServiceCall.status.in_(OPEN_VALUES),
            ServiceCall.kind == CallKind.LAPSE.value,
            visited,
        )
        .order_by(ServiceCall.id)
    )
    return [(c, m, at, list(reasons or [])) for c, m, at, reasons in rows]


async def last_visits(
    session: AsyncSession, member_ids: Collection[uuid.UUID], as_of: datetime
) -> dict[uuid.UUID, datetime]:
    if not member_ids:
        return {}
    rows = await session.execute(
        select(Checkin.member_id, func.max(Checkin.checked_in_at))
        .where(Checkin.member_id.in_(list(member_ids)), Checkin.checked_in_at <= as_of)
        .group_by(Checkin.member_id)
    )
    return {m: at for m, at in rows if at is not None}


async def clubs_with_open_calls(session: AsyncSession) -> list[Club]:
    stmt = select(Club).where(
        exists(
            select(ServiceCall.id).where(
                ServiceCall.club_id == Club.id, ServiceCall.status.in_(OPEN_VALUES)
            )
        )
    )
    return list((await session.scalars(stmt)).all())


# ---- privacy --------------------------------------------------------------------------


async def calls_of(session: AsyncSession, member: Member) -> list[ServiceCall]:
    stmt = (
        select(ServiceCall)
        .where(ServiceCall.club_id == member.club_id, ServiceCall.member_id == member.id)
        .order_by(ServiceCall.created_at, ServiceCall.id)
    )
    return list((await session.scalars(stmt)).all())


async def attempts_of(session: AsyncSession, member: Member) -> list[CallAttempt]:
    stmt = (
        select(CallAttempt)
        .where(CallAttempt.club_id == member.club_id, CallAttempt.member_id == member.id)
        .order_by(CallAttempt.attempted_at, CallAttempt.id)
    )
    return list((await session.scalars(stmt)).all())


async def blank_notes(session: AsyncSession, member: Member, redacted: str) -> None:
    """Free text about the member goes; the rows (kinds, outcomes, times) stay."""
    await session.execute(
        update(ServiceCall)
        .where(
            ServiceCall.club_id == member.club_id,
            ServiceCall.member_id == member.id,
            ServiceCall.notes.is_not(None),
            ServiceCall.notes != redacted,
        )
        .values(notes=redacted, version=ServiceCall.version + 1)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(CallAttempt)
        .where(
            CallAttempt.club_id == member.club_id,
            CallAttempt.member_id == member.id,
            CallAttempt.notes.is_not(None),
            CallAttempt.notes != redacted,
        )
        .values(notes=redacted)
        .execution_options(synchronize_session=False)
    )
