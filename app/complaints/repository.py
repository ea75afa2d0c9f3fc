"""All SQL of complaints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, not_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Club, Complaint, Meeting, Membership, ServiceCall, Staff, staff_clubs
from app.models.outreach import ComplaintStatus


async def get(session: AsyncSession, complaint_id: uuid.UUID) -> Complaint | None:
    return await session.get(Complaint, complaint_id)


async def lock(session: AsyncSession, complaint_id: uuid.UUID) -> Complaint | None:
    """The complaint row for update: a second resolve waits, then sees it resolved."""
    stmt = (
        select(Complaint)
        .where(Complaint.id == complaint_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def owner_of(
    session: AsyncSession, table: Any, row_id: uuid.UUID
) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(member_id, club_id) of a membership, call or meeting."""
    stmt = select(table.member_id, table.club_id).where(table.id == row_id)
    row = (await session.execute(stmt)).first()
    return (row[0], row[1]) if row else None


OWNED_TABLES: dict[str, Any] = {
    "membership": Membership,
    "call": ServiceCall,
    "meeting": Meeting,
}


async def active_staff_of_club(
    session: AsyncSession, staff_id: uuid.UUID, club_id: uuid.UUID
) -> bool:
    """Active staff who work for the club (or admins, who act for every club)."""
    stmt = select(Staff.roles, staff_clubs.c.club_id).outerjoin(
        staff_clubs, and_(staff_clubs.c.staff_id == Staff.id, staff_clubs.c.club_id == club_id)
    )
    stmt = stmt.where(Staff.id == staff_id, Staff.active.is_(True))
    row = (await session.execute(stmt)).first()
    if row is None:
        return False
    roles, in_club = row
    return in_club is not None or "admin" in (roles or [])


async def club_timezone(session: AsyncSession, club_id: uuid.UUID) -> str:
    return (await session.execute(select(Club.timezone).where(Club.id == club_id))).scalar_one()


def _overdue(as_of: datetime) -> Any:
    return and_(Complaint.status != ComplaintStatus.RESOLVED.value, Complaint.due_at < as_of)


def listing(
    club_ids: frozenset[uuid.UUID] | None,
    *,
    club_id: uuid.UUID | None,
    status: str | None,
    member_id: uuid.UUID | None,
    owner_id: uuid.UUID | None,
    overdue: bool | None,
    as_of: datetime,
) -> Select[Any]:
    stmt = select(Complaint)
    if club_ids is not None:
        stmt = stmt.where(Complaint.club_id.in_(club_ids))
    if club_id is not None:
        stmt = stmt.where(Complaint.club_id == club_id)
    if status is not None:
        stmt = stmt.where(Complaint.status == status)
    if member_id is not None:
        stmt = stmt.where(Complaint.member_id == member_id)
    if owner_id is not None:
        stmt = stmt.where(Complaint.owner_id == owner_id)
    if overdue is True:
        stmt = stmt.where(_overdue(as_of))
    elif overdue is False:
        stmt = stmt.where(not_(_overdue(as_of)))
    return stmt


async def of_member(session: AsyncSession, member_id: uuid.UUID) -> list[Complaint]:
    stmt = (
        select(Complaint)
        .where(Complaint.member_id == member_id)
        .order_by(Complaint.created_at, Complaint.id)
    )
    return list((await session.scalars(stmt)).all())


async def redact_texts(session: AsyncSession, member_id: uuid.UUID, text: str) -> None:
    """Blank what the member and staff wrote; categories, dates and compensation stay."""
    await session.execute(
        update(Complaint)
        .where(Complaint.member_id == member_id)
        .values(description=text)
        .execution_options(synchronize_session="fetch")
    )
    await session.execute(
        update(Complaint)
        .where(Complaint.member_id == member_id, Complaint.resolution.is_not(None))
        .values(resolution=text)
        .execution_options(synchronize_session="fetch")
    )
