from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.models import ApiToken, Staff


async def get_by_hash(session: AsyncSession, token_hash: str) -> ApiToken | None:
    stmt = (
        select(ApiToken)
        .where(ApiToken.token_hash == token_hash)
        .options(selectinload(ApiToken.staff).selectinload(Staff.clubs))
    )
    return (await session.scalars(stmt)).one_or_none()


async def get(session: AsyncSession, token_id: uuid.UUID) -> ApiToken | None:
    return await session.get(ApiToken, token_id)


async def touch(session: AsyncSession, token_id: uuid.UUID, at: datetime) -> None:
    await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at))


async def list_for_staff(session: AsyncSession, staff_id: uuid.UUID) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.staff_id == staff_id).order_by(ApiToken.created_at)
    return list((await session.scalars(stmt)).all())


async def list_all(session: AsyncSession, club_ids: frozenset[uuid.UUID] | None) -> list[ApiToken]:
    stmt = select(ApiToken).options(selectinload(ApiToken.staff).selectinload(Staff.clubs))
    if club_ids is not None:
        stmt = stmt.where(ApiToken.club_id.in_(club_ids))
    return list((await session.scalars(stmt.order_by(ApiToken.created_at))).all())
