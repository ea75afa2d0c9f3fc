"""Housekeeping: forget expired idempotency keys and old job runs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from app.db import Database
from app.jobs import repository

JOB_RUN_RETENTION = timedelta(days=90)


async def housekeeping(db: Database, as_of: datetime) -> Mapping[str, int]:
    async with db.session_scope() as s:
        keys = await repository.purge_idempotency_keys(s, as_of)
        runs = await repository.purge_job_runs(s, as_of - JOB_RUN_RETENTION)
    return {"idempotency_keys_purged": keys, "job_runs_purged": runs}
