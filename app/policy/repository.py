"""The contact policy's inputs, gathered set-wise: a fixed number of queries for any
number of members (no per-member round trips)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Club, Member, Membership, Message


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
