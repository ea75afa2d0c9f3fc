"""The `campaigns` job: send scheduled campaigns whose time has come, each exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import structlog

from app.campaigns.service import campaign_service
from app.db import Database

log = structlog.get_logger(__name__)


async def campaigns(db: Database, as_of: datetime) -> dict[str, int]:
    """Each due campaign in its own transaction: a failure leaves it scheduled for the
    next run and does not hold up the others."""
    async with db.session_scope() as s:
        due = await campaign_service.due(s, as_of)
    counts: Counter[str] = Counter()
    for campaign_id in due:
        try:
            async with db.session_scope() as s:
                result = await campaign_service.send_due(s, campaign_id, as_of=as_of)
        except Exception:
            log.exception("campaign_send_failed", campaign_id=str(campaign_id))
            counts["failed"] += 1
            continue
        if result is None:
            counts["skipped"] += 1  # sent meanwhile by another worker or by hand
            continue
        counts["sent"] += 1
        counts["queued"] += result.queued
        counts["suppressed"] += sum(result.suppressed.values())
    return {k: counts[k] for k in ("sent", "queued", "suppressed", "skipped", "failed")}
