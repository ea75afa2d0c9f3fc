from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Club, ClubDayRun


async def active_clubs(session: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    rows = await session.execute(
        select(Club.id, Club.timezone).where(Club.active.is_(True)).order_by(Club.id)
    )
    return [(club_id, tz) for club_id, tz in rows]


async def claim_club_day(
    session: AsyncSession, job_name: str, club_id: uuid.UUID, day: date, now: datetime
) -> bool:
    """Claim (job, club, day) in the caller's transaction; False if already done."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    res = await session.execute(
        insert(ClubDayRun)
        .values(job_name=job_name, club_id=club_id, local_date=day, done_at=now)
        .on_conflict_do_nothing()
    )
    return bool(getattr(res, "rowcount", 0))
