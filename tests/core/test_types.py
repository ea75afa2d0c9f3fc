"""Instants are stored in UTC and come back timezone-aware on both dialects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from app.core.clock import freeze, utcnow
from app.db import Database
from app.models import JobRun


async def test_aware_instant_round_trips_as_utc(db: Database) -> None:
    moscow = timezone(timedelta(hours=3))
    at = datetime(2026, 3, 10, 1, 30, tzinfo=moscow)
    async with db.session_scope() as s:
        run = JobRun(job_name="x", trigger="manual", status="succeeded", as_of=at, started_at=at)
        s.add(run)
    async with db.sessionmaker() as s:
        got = await s.scalar(select(JobRun.as_of).where(JobRun.id == run.id))
    assert got == at
    assert got is not None
    assert got.utcoffset() == timedelta(0)


async def test_naive_instant_is_refused(db: Database) -> None:
    with pytest.raises(StatementError):
        async with db.session_scope() as s:
            s.add(
                JobRun(
                    job_name="x",
                    trigger="manual",
                    status="succeeded",
                    as_of=datetime(2026, 1, 1),
                    started_at=datetime(2026, 1, 1),
                )
            )


def test_clock_freeze_pins_now() -> None:
    at = datetime(2026, 1, 31, 12, tzinfo=UTC)
    with freeze(at):
        assert utcnow() == at
    assert utcnow() != at
    with pytest.raises(ValueError, match="timezone-aware"), freeze(datetime(2026, 1, 1)):
        pass
