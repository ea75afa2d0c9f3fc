"""SQL for member value: one aggregate over the member's memberships."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Club, Membership


async def get_club(session: AsyncSession, club_id: uuid.UUID) -> Club | None:
    return await session.get(Club, club_id)


async def revenue(
    session: AsyncSession, *, club_id: uuid.UUID, member_id: uuid.UUID, since: datetime
) -> tuple[int, int]:
    """(lifetime, sold at or after `since`) sums of `price_paid`, in one query."""
    recent = case((Membership.created_at >= since, Membership.price_paid), else_=0)
    stmt = select(
        func.coalesce(func.sum(Membership.price_paid), 0),
        func.coalesce(func.sum(recent), 0),
    ).where(Membership.club_id == club_id, Membership.member_id == member_id)
    lifetime, trailing = (await session.execute(stmt)).one()
    return int(lifetime), int(trailing)
