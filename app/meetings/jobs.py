"""The `meeting_reminders` job: the day before (club-local), remind members of meetings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

import structlog

from app.db import Database
from app.meetings.service import meeting_service

log = structlog.get_logger(__name__)


async def meeting_reminders(db: Database, as_of: datetime) -> Mapping[str, int]:
    """One short transaction per meeting: a member whose reminder cannot be queued never
    holds back the others, and is tried again on the next run."""
    async with db.sessionmaker() as s:
        due = await meeting_service.reminders_due(s, as_of=as_of)
    counts: Counter[str] = Counter()
    for meeting_id in due:
        try:
            async with db.session_scope() as s:
                status = await meeting_service.remind(s, meeting_id, as_of=as_of)
        except Exception:
            log.exception("meeting_reminder_failed", meeting_id=str(meeting_id))
            counts["failed"] += 1
            continue
        counts[
            "skipped" if status is None else "suppressed" if status == "suppressed" else "queued"
        ] += 1
    return {
        "due": len(due),
        **{k: counts[k] for k in ("queued", "suppressed", "skipped", "failed")},
    }
