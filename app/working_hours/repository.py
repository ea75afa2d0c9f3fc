from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.clock import utcnow
from app.core.ids import new_id
from app.models import Staff, WorkingHours, WorkingHoursException, staff_clubs


async def get(
    session: AsyncSession, staff_id: uuid.UUID, club_id: uuid.UUID
) -> WorkingHours | None:
    stmt = (
        select(WorkingHours)
        .where(WorkingHours.staff_id == staff_id, WorkingHours.club_id == club_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def upsert_pattern(
    session: AsyncSession, staff_id: uuid.UUID, club_id: uuid.UUID, weekly: dict[str, Any] | None
) -> None:
    """Insert or replace the pattern in one statement. It also locks the row, so two
    replacements of one person's hours run one after the other (exceptions included)."""
    now = utcnow()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(WorkingHours).values(
        id=new_id(),
        staff_id=staff_id,
        club_id=club_id,
        weekly=weekly,
        created_at=now,
        updated_at=now,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[WorkingHours.staff_id, WorkingHours.club_id],
            set_={"weekly": stmt.excluded.weekly, "updated_at": now},
        )
    )


async def exceptions_from(
    session: AsyncSession, staff_id: uuid.UUID, club_id: uuid.UUID, first: date
) -> list[WorkingHoursException]:
    stmt = (
        select(WorkingHoursException)
        .where(
            WorkingHoursException.staff_id == staff_id,
            WorkingHoursException.club_id == club_id,
            WorkingHoursException.on_date >= first,
        )
        .order_by(WorkingHoursException.on_date)
    )
    return list((await session.scalars(stmt)).all())


async def delete_exceptions_from(
    session: AsyncSession, staff_id: uuid.UUID, club_id: uuid.UUID, first: date
) -> None:
    await session.execute(
        delete(WorkingHoursException).where(
            WorkingHoursException.staff_id == staff_id,
            WorkingHoursException.club_id == club_id,
            WorkingHoursException.on_date >= first,
        )
    )


async def delete_pattern(session: AsyncSession, staff_id: uuid.UUID, club_id: uuid.UUID) -> None:
    await session.execute(
        delete(WorkingHours).where(
            WorkingHours.staff_id == staff_id, WorkingHours.club_id == club_id
        )
    )


async def for_day(
    session: AsyncSession, club_id: uuid.UUID, staff_ids: Sequence[uuid.UUID], day: date
) -> tuple[dict[uuid.UUID, dict[str, Any] | None], dict[uuid.UUID, list[Any]]]:
    """Weekly patterns (staff with a row) and `day`'s exceptions of these staff."""
    if not staff_ids:
        return {}, {}
    weekly = await session.execute(
        select(WorkingHours.staff_id, WorkingHours.weekly).where(
            WorkingHours.club_id == club_id, WorkingHours.staff_id.in_(staff_ids)
        )
    )
    exceptions = await session.execute(
        select(WorkingHoursException.staff_id, WorkingHoursException.hours).where(
            WorkingHoursException.club_id == club_id,
            WorkingHoursException.staff_id.in_(staff_ids),
            WorkingHoursException.on_date == day,
        )
    )
    return (
        dict(weekly.all()),
        dict(exceptions.all()),
    )


async def active_club_staff(session: AsyncSession, club_id: uuid.UUID) -> list[Staff]:
    """Active staff of a club, with their clubs loaded, in a stable order."""
    stmt = (
        select(Staff)
        .join(staff_clubs, staff_clubs.c.staff_id == Staff.id)
        .where(staff_clubs.c.club_id == club_id, Staff.active.is_(True))
        .options(selectinload(Staff.clubs))
        .order_by(Staff.id)
    )
    return list((await session.scalars(stmt)).all())
