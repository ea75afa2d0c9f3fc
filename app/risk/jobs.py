"""The `lapse_scan` job and the `club-renewal scan` command: thin wrappers that give
each club its own transaction and call the service with `as_of`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, time

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.risk.service import ClubToScan, ScanCounts, risk_service
from app.scheduling.club_days import ClubDay
from app.scheduling.service import for_each_club_day

log = structlog.get_logger(__name__)

# The club-local hour from which a club's day is scanned (before the desk opens).
SCAN_LOCAL_HOUR = 5
JOB_NAME = "lapse_scan"


async def lapse_scan(db: Database, as_of: datetime) -> Mapping[str, int]:
    """Hourly: each active club once per local day, from SCAN_LOCAL_HOUR club time
    (DST-correct; the shared club-day helper claims each (club, day) once, in the same
    transaction as the scan, so a failed club is retried by the next run)."""
    total = ScanCounts()

    async def work(session: AsyncSession, day: ClubDay) -> None:
        club = ClubToScan(day.club_id, day.timezone, day.local_date)
        total.add(await risk_service.scan_club(session, club, as_of=as_of))

    runs = await for_each_club_day(db, JOB_NAME, as_of, at=time(SCAN_LOCAL_HOUR), work=work)
    return total.as_dict() | {f"club_days_{k}": v for k, v in runs.items()}


async def run_scan(
    db: Database, as_of: datetime, *, club_id: uuid.UUID | None = None
) -> ScanCounts:
    """Scan every active club (or `club_id`) for its local day at `as_of`, now, whatever
    the hour: `club-renewal scan` and the quality harness. One transaction per club; a
    failing club is logged, the others go on, and the run then fails."""
    async with db.sessionmaker() as s:
        clubs = await risk_service.clubs_to_scan(s, as_of, club_id=club_id)
    total = ScanCounts()
    failed: list[str] = []
    for club in clubs:
        try:
            async with db.session_scope() as s:
                total.add(await risk_service.scan_club(s, club, as_of=as_of))
        except Exception:
            log.exception("lapse_scan_club_failed", club_id=str(club.club_id))
            failed.append(str(club.club_id))
    if failed:
        raise RuntimeError(f"lapse scan failed for {len(failed)} club(s): {', '.join(failed)}")
    return total
