"""Running a job: one at a time across every replica, and every run recorded.

On PostgreSQL a session-level advisory lock (on its own connection) guards each job,
released by the database if the process dies. SQLite, which has no advisory locks,
gets a lease row with an expiry instead. The job's work itself must still be
idempotent: the lock prevents overlap, the unique keys prevent duplicates.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import structlog

from app.core.clock import utcnow
from app.db import Database
from app.errors import Conflict, NotFound
from app.jobs import repository
from app.models import JobRun
from app.scheduler import JOBS, JobSpec

log = structlog.get_logger(__name__)

LEASE = timedelta(minutes=30)
HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def _lock_key(name: str) -> int:
    digest = hashlib.sha256(f"club-renewal:job:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@asynccontextmanager
async def job_lock(db: Database, name: str) -> AsyncIterator[bool]:
    """Yields True when this process holds the job's lock for the block."""
    if db.dialect == "postgresql":
        async with db.engine.connect() as conn:
            got = await repository.pg_try_lock(conn, _lock_key(name))
            try:
                yield got
            finally:
                if got:
                    await repository.pg_unlock(conn, _lock_key(name))
        return
    holder = f"{HOLDER}:{uuid.uuid4().hex[:8]}"
    now = utcnow()
    async with db.session_scope() as s:
        got = await repository.lease_try_acquire(s, name, holder, now, now + LEASE)
    try:
        yield got
    finally:
        if got:
            async with db.session_scope() as s:
                await repository.lease_release(s, name, holder)


class JobService:
    def spec(self, name: str) -> JobSpec:
        spec = JOBS.get(name)
        if spec is None:
            raise NotFound(f"No job named {name!r}.", code="job_not_found")
        return spec

    async def run(
        self,
        db: Database,
        name: str,
        *,
        as_of: datetime | None = None,
        trigger: str = "schedule",
        triggered_by: uuid.UUID | None = None,
    ) -> JobRun | None:
        """Run a job now. Returns the recorded run, or None if it is running elsewhere
        (scheduled triggers); a manual trigger gets 409 instead."""
        spec = self.spec(name)
        as_of = as_of or utcnow()
        async with job_lock(db, name) as got:
            if not got:
                if trigger == "manual":
                    raise Conflict(
                        f"Job {name!r} is running right now; try again when it finishes.",
                        code="job_already_running",
                    )
                log.info("job_skipped_locked", job=name)
                return None
            async with db.session_scope() as s:
                abandoned = await repository.abandon_running(s, name, utcnow())
                run = JobRun(
                    job_name=name,
                    trigger=trigger,
                    status="running",
                    as_of=as_of,
                    started_at=utcnow(),
                    triggered_by_id=triggered_by,
                    host=HOLDER,
                )
                s.add(run)
            if abandoned:
                log.warning("job_runs_abandoned", job=name, count=abandoned)
            log.info("job_started", job=name, run_id=str(run.id), as_of=as_of.isoformat())
            try:
                counts = await spec.func(db, as_of)
            except Exception as exc:
                log.exception("job_failed", job=name, run_id=str(run.id))
                async with db.session_scope() as s:
                    run = await s.merge(run)
                    run.status, run.finished_at = "failed", utcnow()
                    run.error = f"{type(exc).__name__}: {exc}"[:2000]
                return run
            async with db.session_scope() as s:
                run = await s.merge(run)
                run.status, run.finished_at, run.counts = "succeeded", utcnow(), dict(counts)
            log.info("job_finished", job=name, run_id=str(run.id), counts=counts)
            return run

    async def recent_runs(self, db: Database, name: str, limit: int = 5) -> list[JobRun]:
        async with db.sessionmaker() as s:
            return await repository.recent_runs(s, name, limit)


job_service = JobService()
