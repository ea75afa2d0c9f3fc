"""The contact policy's inputs, gathered set-wise: a fixed number of queries for any
number of members (no per-member round trips)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    CallAttempt,
    Club,
    Freeze,
    Meeting,
    Member,
    Membership,
    Message,
    ServiceCall,
)
from app.models.meeting import OPEN as OPEN_MEETING
from app.models.meeting import MeetingPurpose
from app.models.outreach import OPEN_CALL_STATUSES


async def members(session: AsyncSession, member_ids: Sequence[uuid.UUID]) -> list[Member]:
    if not member_ids:
        return []
    return list((await session.scalars(select(Member).where(Member.id.in_(member_ids)))).all())


async def clubs(session: AsyncSession, club_ids: Collection[uuid.UUID]) -> list[Club]:
    if not club_ids:
        return []
    return list((await session.scalars(select(Club).where(Club.id.in_(club_ids)))).all())


async def latest_purchases(
    session: AsyncSession, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, datetime]:
    """When each member last bought a membership (the sale instant, renewals included)."""
    if not member_ids:
        return {}
    rows = await session.execute(
        select(Membership.member_id, func.max(Membership.created_at))
        .where(Membership.member_id.in_(member_ids))
        .group_by(Membership.member_id)
    )
    # max() keeps the column's type, so values come back as aware UTC instants.
    return {member_id: at for member_id, at in rows if at is not None}


async def recent_messages(
    session: AsyncSession,
    member_ids: Sequence[uuid.UUID],
    as_of: datetime,
    window: timedelta,
    exclude: Collection[uuid.UUID] = (),
) -> dict[uuid.UUID, list[datetime]]:
    """Messages that count toward the caps: sent inside the window, or admitted and
    still queued (they will be sent, so they count as of now)."""
    if not member_ids:
        return {}
    stmt = select(Message.member_id, Message.status, Message.sent_at).where(
        Message.member_id.in_(member_ids),
        Message.exempt_from_caps.is_(False),
        or_(
            Message.status == "queued",
            and_(Message.status == "sent", Message.sent_at > as_of - window),
        ),
    )
    if exclude:
        stmt = stmt.where(Message.id.not_in(list(exclude)))
    out: dict[uuid.UUID, list[datetime]] = {}
    for member_id, status, sent_at in await session.execute(stmt):
        out.setdefault(member_id, []).append(sent_at if status == "sent" and sent_at else as_of)
    return out


async def recent_calls(
    session: AsyncSession,
    member_ids: Sequence[uuid.UUID],
    as_of: datetime,
    window: timedelta,
    exclude: Collection[uuid.UUID] = (),
) -> dict[uuid.UUID, list[datetime]]:
    """Service calls dialled inside the window, one instant each (its first attempt):
    a call's retries are one contact."""
    if not member_ids:
        return {}
    first = func.min(CallAttempt.attempted_at)
    stmt = (
        select(CallAttempt.member_id, first)
        .where(CallAttempt.member_id.in_(member_ids))
        .group_by(CallAttempt.member_id, CallAttempt.call_id)
        .having(first > as_of - window)
    )
    if exclude:
        stmt = stmt.where(CallAttempt.call_id.not_in(list(exclude)))
    out: dict[uuid.UUID, list[datetime]] = {}
    for member_id, at in await session.execute(stmt):
        out.setdefault(member_id, []).append(at)
    return out


async def frozen_until(
    session: AsyncSession, member_ids: Sequence[uuid.UUID], today_by_member: dict[uuid.UUID, date]
) -> dict[uuid.UUID, date]:
    """The last day of the live freeze covering each member's club-local today."""
    if not member_ids:
        return {}
    days = set(today_by_member.values())
    earliest, latest = min(days), max(days)
    rows = await session.execute(
        select(Membership.member_id, Freeze.start_date, Freeze.end_date)
        .join(Freeze, Freeze.membership_id == Membership.id)
        .where(
            Membership.member_id.in_(member_ids),
            Membership.cancelled_at.is_(None),
            Freeze.cancelled_at.is_(None),
            Freeze.start_date <= latest,
            Freeze.end_date >= earliest,
        )
    )
    out: dict[uuid.UUID, date] = {}
    for member_id, start, end in rows:
        today = today_by_member.get(member_id)
        if today is not None and start <= today <= end:
            out[member_id] = max(end, out.get(member_id, end))
    return out


async def renewal_meetings_booked(
    session: AsyncSession, member_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    if not member_ids:
        return set()
    rows = await session.scalars(
        select(Meeting.member_id).where(
            Meeting.member_id.in_(member_ids),
            Meeting.purpose == MeetingPurpose.RENEWAL.value,
            Meeting.status.in_([s.value for s in OPEN_MEETING]),
        )
    )
    return set(rows)


async def open_calls(
    session: AsyncSession, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    if not member_ids:
        return {}
    rows = await session.execute(
        select(ServiceCall.member_id, ServiceCall.id).where(
            ServiceCall.member_id.in_(member_ids),
            ServiceCall.status.in_([s.value for s in OPEN_CALL_STATUSES]),
        )
    )
    return dict(rows.all())
