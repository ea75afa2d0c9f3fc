"""The `lapse_scan` job and the `club-renewal scan` command: thin wrappers that give
each club its own transaction and call the service with `as_of`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

import structlog

from app.db import Database
from app.risk.service import ScanCounts, risk_service

log = structlog.get_logger(__name__)

# The club-local hour from which a club's day is scanned (before the desk opens).
SCAN_LOCAL_HOUR = 5


async def run_scan(
    db: Database, as_of: datetime, *, club_id: uuid.UUID | None = None, force: bool = False
) -> ScanCounts:
    """Scan every due club (or `club_id`), one transaction per club. A failing club is
    logged and retried by the next run (it is still due); the others go on."""
    async with db.sessionmaker() as s:
        clubs = await risk_service.clubs_to_scan(
            s, as_of, local_hour=SCAN_LOCAL_HOUR, club_id=club_id, force=force
        )
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


async def lapse_scan(db: Database, as_of: datetime) -> Mapping[str, int]:
    """Hourly: scan each club once per local day from SCAN_LOCAL_HOUR on."""
    return (await run_scan(db, as_of)).as_dict()
