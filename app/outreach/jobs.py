"""The `call_maintenance` job: keep the call queue honest."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from app.db import Database
from app.outreach.service import call_service


async def call_maintenance(db: Database, as_of: datetime) -> Mapping[str, int]:
    """Close moot calls (with why), expire calls past their window, mark scheduled calls
    due (emitting `call.due` once each). One transaction; idempotent."""
    async with db.session_scope() as s:
        return await call_service.maintain(s, as_of)
