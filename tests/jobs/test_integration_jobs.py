"""The job table has the messaging and webhook jobs with safe scheduler options."""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient

from app.config import get_settings
from app.db import Database
from app.jobs_table import load_jobs
from app.scheduler import JOBS, build_scheduler
from tests.fixtures.factories import bearer


def test_messages_and_webhooks_run_on_short_configurable_intervals() -> None:
    load_jobs()  # the app factory loads the table; this test must not rely on test order
    settings = get_settings()
    assert JOBS["messages"].trigger.interval == timedelta(
        seconds=settings.messages_interval_seconds
    )
    assert JOBS["webhooks"].trigger.interval == timedelta(
        seconds=settings.webhooks_interval_seconds
    )
    assert JOBS["event_retention"].trigger.interval == timedelta(hours=1)


def test_scheduled_jobs_coalesce_never_overlap_and_have_a_misfire_grace(db: Database) -> None:
    scheduler = build_scheduler(db)
    for name in ("messages", "webhooks", "event_retention"):
        job = scheduler.get_job(name)
        assert job is not None
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == JOBS[name].misfire_grace_seconds


async def test_jobs_are_listed_over_the_api(client: AsyncClient, admin_token: str) -> None:
    r = await client.get("/api/v1/jobs", headers=bearer(admin_token))
    names = {j["name"] for j in r.json()}
    assert {"messages", "webhooks", "event_retention"} <= names
