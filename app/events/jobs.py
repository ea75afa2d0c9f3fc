"""The `event_retention` job: purge events (and their deliveries) past retention."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from app.db import Database
from app.events.service import purge
from app.integrations import runtime


async def event_retention(db: Database, as_of: datetime) -> Mapping[str, int]:
    days = runtime.current().settings.events_retention_days
    async with db.session_scope() as s:
        purged = await purge(s, as_of, timedelta(days=days))
    return {"events_purged": purged}
