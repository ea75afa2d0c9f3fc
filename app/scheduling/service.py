"""Run a job's per-club work once per club-local day, at a local hour."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, time

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.scheduling import repository
from app.scheduling.club_days import ClubDay, due_club_days

log = structlog.get_logger(__name__)

ClubDayWork = Callable[[AsyncSession, ClubDay], Awaitable[None]]


async def for_each_club_day(
    db: Database,
    job_name: str,
    as_of: datetime,
    *,
    at: time,
    work: ClubDayWork,
    catch_up_days: int = 0,
) -> dict[str, int]:
    """Call `work(session, club_day)` once for every active club whose local `at` has
    come today (and, with `catch_up_days`, for missed earlier days). Each club-day runs
    in its own transaction together with its claim, so it happens exactly once: a
    failure rolls the claim back and the next run retries that club-day, while the
    other clubs go on."""
    async with db.sessionmaker() as s:
        clubs = await repository.active_clubs(s)
    counts = {"done": 0, "already_done": 0, "failed": 0}
    for day in due_club_days(list(clubs), at, as_of, catch_up_days=catch_up_days):
        club_id = day.club_id
        try:
            async with db.session_scope() as s:
                if not await repository.claim_club_day(s, job_name, club_id, day.local_date, as_of):
                    counts["already_done"] += 1
                    continue
                await work(s, day)
            counts["done"] += 1
        except Exception:
            log.exception("club_day_failed", job=job_name, club_id=str(club_id))
            counts["failed"] += 1
    return counts
