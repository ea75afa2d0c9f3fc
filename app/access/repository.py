from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.rules import Term
from app.memberships.status import MembershipStatus, status_case
from app.models import Checkin, Club, Member, Membership, Plan


async def resolve_member(
    session: AsyncSession,
    club_id: uuid.UUID,
    *,
    member_id: uuid.UUID | None,
    card_number: str | None,
) -> tuple[uuid.UUID, str] | None:
    """(member id, club time zone) of a member of `club_id` by id or card, or None."""
    stmt = select(Member.id, Club.timezone).join(Club, Club.id == Member.club_id)
    stmt = stmt.where(Member.club_id == club_id)
    if member_id is not None:
        stmt = stmt.where(Member.id == member_id)
    else:
        stmt = stmt.where(Member.card_number == card_number)
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else (row[0], row[1])


async def terms(
    session: AsyncSession, *, club_id: uuid.UUID, member_id: uuid.UUID, on: date
) -> list[Term]:
    """Every membership of the member in the club, with its derived status on `on`."""
    stmt = (
        select(
            Membership.id,
            Membership.start_date,
            Membership.end_date,
            status_case(on).label("status"),
            Plan.visit_limit,
            Plan.access_hours,
        )
        .join(Plan, Plan.id == Membership.plan_id)
        .where(Membership.club_id == club_id, Membership.member_id == member_id)
    )
    return [
        Term(r[0], r[1], r[2], MembershipStatus(r[3]), r[4], r[5])
        for r in (await session.execute(stmt)).all()
    ]


async def count_visits(
    session: AsyncSession,
    *,
    club_id: uuid.UUID,
    member_id: uuid.UUID,
    since: datetime,
    until: datetime,
    exclude_id: int | None,
) -> int:
    """Check-ins of the member in [since, until] (inclusive), not counting `exclude_id`."""
    stmt = select(func.count()).where(
        Checkin.member_id == member_id,
        Checkin.club_id == club_id,
        Checkin.checked_in_at >= since,
        Checkin.checked_in_at <= until,
    )
    if exclude_id is not None:
        stmt = stmt.where(Checkin.id != exclude_id)
    return int(await session.scalar(stmt) or 0)
