"""The scheduler shell: one job table used by the embedded scheduler and the worker."""

from __future__ import annotations

from app.db import Database
from app.scheduler import JOBS, build_scheduler


def test_scheduler_registers_every_job_with_safe_options(db: Database) -> None:
    scheduler = build_scheduler(db)
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == set(JOBS)
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == JOBS[job.id].misfire_grace_seconds
