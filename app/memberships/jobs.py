"""Scheduled wrappers: open a session scope, call the service with `as_of`, commit."""

from __future__ import annotations

from datetime import datetime

from app.db import Database
from app.memberships.freeze_service import freeze_service


async def freeze_events(db: Database, as_of: datetime) -> dict[str, int]:
    """Emit freeze.started / freeze.ended for freezes whose day has come (club-local)."""
    async with db.session_scope() as session:
        return await freeze_service.emit_due_events(session, as_of)
