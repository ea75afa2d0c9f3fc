"""The explicit job table and the scheduler that runs it (embedded or `worker`).

A job is `async def job(db, as_of) -> counts`: it opens its own session scopes, takes
`as_of` as "now", and is idempotent. Domains register their jobs in `app/jobs_table.py`
via `register()`; this module knows nothing about domains.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

if TYPE_CHECKING:
    from app.db import Database

log = structlog.get_logger(__name__)

JobFunc = Callable[["Database", datetime], Awaitable[Mapping[str, int]]]


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: JobFunc
    trigger: IntervalTrigger | CronTrigger
    description: str
    misfire_grace_seconds: int = 300
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def schedule(self) -> str:
        return str(self.trigger)


JOBS: dict[str, JobSpec] = {}


def register(spec: JobSpec) -> JobSpec:
    JOBS[spec.name] = spec
    return spec


def build_scheduler(db: Database) -> AsyncIOScheduler:
    from app.jobs.service import job_service
    from app.jobs_table import load_jobs

    load_jobs()
    scheduler = AsyncIOScheduler(timezone="UTC")
    for spec in JOBS.values():

        async def _run(name: str = spec.name) -> None:
            try:
                await job_service.run(db, name, trigger="schedule")
            except Exception:  # a failing job must never kill the scheduler
                log.exception("scheduled_job_error", job=name)

        scheduler.add_job(
            _run,
            trigger=spec.trigger,
            id=spec.name,
            name=spec.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=spec.misfire_grace_seconds,
            replace_existing=True,
        )
    return scheduler


async def run_worker(db: Database) -> None:
    """`club-renewal worker`: the scheduler alone, until SIGINT/SIGTERM."""
    scheduler = build_scheduler(db)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    scheduler.start()
    log.info("worker_started", jobs=sorted(JOBS))
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        log.info("worker_stopped")
