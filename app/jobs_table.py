"""Every recurring job, in one table. Domains add their rows here."""

from __future__ import annotations

from apscheduler.triggers.interval import IntervalTrigger

from app.jobs.housekeeping import housekeeping
from app.memberships.jobs import freeze_events
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
    register(
        JobSpec(
            name="freeze_events",
            func=freeze_events,
            # Each club's day starts at its own local midnight: a frequent, idempotent run
            # reports every freeze soon after its day begins, exactly once.
            trigger=IntervalTrigger(minutes=15),
            description="Emit freeze.started / freeze.ended when a freeze's first / last "
            "day arrives in the club's local date (each exactly once).",
        )
    )
