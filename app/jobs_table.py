"""Every recurring job, in one table. Domains add their rows here."""

from __future__ import annotations

from apscheduler.triggers.interval import IntervalTrigger

from app.jobs.housekeeping import housekeeping
from app.scheduler import JOBS, JobSpec, register


def load_jobs() -> None:
    if JOBS:
        return
    register(
        JobSpec(
            name="housekeeping",
            func=housekeeping,
            trigger=IntervalTrigger(hours=1),
            description="Purge expired Idempotency-Key records and job runs older than 90 days.",
        )
    )
