from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Club, Plan


async def get(session: AsyncSession, plan_id: uuid.UUID) -> Plan | None:
    return await session.get(Plan, plan_id)


async def by_ids(session: AsyncSession, ids: list[uuid.UUID]) -> list[Plan]:
    if not ids:
        return []
    return list((await session.scalars(select(Plan).where(Plan.id.in_(ids)))).all())


async def club(session: AsyncSession, club_id: uuid.UUID) -> Club | None:
    return await session.get(Club, club_id)


def listing(
    visible_club_ids: frozenset[uuid.UUID] | None,
    *,
    club_id: uuid.UUID | None,
    active: bool | None,
) -> Select[Any]:
    """Plans a caller may see; a club's list includes the chain-wide plans."""
    stmt = select(Plan)
    if club_id is not None:
        stmt = stmt.where(or_(Plan.club_id == club_id, Plan.club_id.is_(None)))
    elif visible_club_ids is not None:
        stmt = stmt.where(or_(Plan.club_id.in_(visible_club_ids), Plan.club_id.is_(None)))
    if active is not None:
        stmt = stmt.where(Plan.active == active)
    return stmt
