from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.models import Club, Staff, staff_clubs


async def get(session: AsyncSession, staff_id: uuid.UUID) -> Staff | None:
    stmt = select(Staff).where(Staff.id == staff_id).options(selectinload(Staff.clubs))
    return (await session.scalars(stmt)).one_or_none()


async def clubs_by_ids(session: AsyncSession, ids: list[uuid.UUID]) -> list[Club]:
    if not ids:
        return []
    return list((await session.scalars(select(Club).where(Club.id.in_(ids)))).all())


def listing(
    club_ids: frozenset[uuid.UUID] | None,
    *,
    club_id: uuid.UUID | None,
    active: bool | None,
) -> Select[Any]:
    stmt = select(Staff).options(selectinload(Staff.clubs))
    if club_ids is not None:
        visible = select(staff_clubs.c.staff_id).where(staff_clubs.c.club_id.in_(club_ids))
        stmt = stmt.where(Staff.id.in_(visible))
    if club_id is not None:
        stmt = stmt.where(
            Staff.id.in_(select(staff_clubs.c.staff_id).where(staff_clubs.c.club_id == club_id))
        )
    if active is not None:
        stmt = stmt.where(Staff.active == active)
    return stmt
