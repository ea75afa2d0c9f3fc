"""Jobs: listing, running now, as_of for admins, locking, housekeeping."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import select, text

from app.core.clock import utcnow
from app.db import Database
from app.jobs.service import _lock_key
from app.models import IdempotencyKey, JobLock, JobRun
from tests.fixtures.factories import bearer, make_token


async def test_jobs_are_listed_with_schedule(client: AsyncClient, admin_token: str) -> None:
    r = await client.get("/api/v1/jobs", headers=bearer(admin_token))
    assert r.status_code == 200
    names = {j["name"]: j for j in r.json()}
    assert "housekeeping" in names
    assert names["housekeeping"]["schedule"].startswith("interval")


async def test_run_now_records_the_run(client: AsyncClient, admin_token: str, db: Database) -> None:
    r = await client.post("/api/v1/jobs/housekeeping/run", headers=bearer(admin_token))
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "succeeded"
    assert set(body["counts"]) == {"idempotency_keys_purged", "job_runs_purged"}
    async with db.sessionmaker() as s:
        run = await s.get(JobRun, uuid.UUID(body["run_id"]))
    assert run is not None
    assert run.trigger == "manual"
    assert run.finished_at is not None
    listed = await client.get("/api/v1/jobs", headers=bearer(admin_token))
    hk = next(j for j in listed.json() if j["name"] == "housekeeping")
    assert hk["last_runs"][0]["id"] == body["run_id"]


async def test_a_run_left_running_by_a_killed_process_is_closed_by_the_next_run(
    client: AsyncClient, admin_token: str, db: Database
) -> None:
    started = utcnow() - timedelta(minutes=5)
    async with db.session_scope() as s:
        dead = JobRun(
            job_name="housekeeping",
            trigger="schedule",
            status="running",
            as_of=started,
            started_at=started,
            host="gone:1234",
        )
        other = JobRun(
            job_name="messages",
            trigger="schedule",
            status="running",
            as_of=started,
            started_at=started,
            host="gone:1234",
        )
        s.add_all([dead, other])
    r = await client.post("/api/v1/jobs/housekeeping/run", headers=bearer(admin_token))
    assert r.json()["status"] == "succeeded"
    async with db.sessionmaker() as s:
        closed = await s.get(JobRun, dead.id)
        untouched = await s.get(JobRun, other.id)
    assert closed is not None
    assert untouched is not None
    assert closed.status == "abandoned"
    assert closed.finished_at is not None
    assert "stopped before it finished" in (closed.error or "")
    # Another job's run is that job's business (its own next run closes it).
    assert untouched.status == "running"


async def test_as_of_purges_what_expired_by_then(
    client: AsyncClient, admin_token: str, db: Database
) -> None:
    async with db.session_scope() as s:
        now = utcnow()
        s.add(
            IdempotencyKey(
                owner="o",
                key="k",
                method="POST",
                path="/x",
                request_hash="h",
                state="completed",
                created_at=now,
                expires_at=now + timedelta(hours=24),
            )
        )
    later = (utcnow() + timedelta(days=2)).isoformat()
    r = await client.post(
        "/api/v1/jobs/housekeeping/run", json={"as_of": later}, headers=bearer(admin_token)
    )
    assert r.json()["counts"]["idempotency_keys_purged"] == 1
    async with db.sessionmaker() as s:
        run = await s.get(JobRun, uuid.UUID(r.json()["run_id"]))
    assert run is not None
    assert run.as_of > utcnow() + timedelta(days=1)


async def test_as_of_is_for_admins_only(client: AsyncClient, db: Database, club: dict) -> None:
    manager = await make_token(db, "manager", club_ids=[uuid.UUID(club["id"])])
    r = await client.post("/api/v1/jobs/housekeeping/run", headers=bearer(manager))
    assert r.status_code == 200
    r = await client.post(
        "/api/v1/jobs/housekeeping/run",
        json={"as_of": "2026-01-01T00:00:00+00:00"},
        headers=bearer(manager),
    )
    assert r.status_code == 403


async def test_as_of_must_carry_an_offset(client: AsyncClient, admin_token: str) -> None:
    r = await client.post(
        "/api/v1/jobs/housekeeping/run",
        json={"as_of": "2026-01-01T00:00:00"},
        headers=bearer(admin_token),
    )
    assert r.status_code == 422


async def test_callers_cannot_run_jobs(client: AsyncClient, db: Database, club: dict) -> None:
    caller = await make_token(db, "caller", club_ids=[uuid.UUID(club["id"])])
    r = await client.post("/api/v1/jobs/housekeeping/run", headers=bearer(caller))
    assert r.status_code == 403


async def test_unknown_job_is_404(client: AsyncClient, admin_token: str) -> None:
    r = await client.post("/api/v1/jobs/nope/run", headers=bearer(admin_token))
    assert r.status_code == 404
    assert r.json()["code"] == "job_not_found"


async def test_job_held_by_another_process_is_409(
    client: AsyncClient, admin_token: str, db: Database, dialect: str
) -> None:
    if dialect == "postgresql":
        async with db.engine.connect() as other:
            await other.execute(
                text("SELECT pg_advisory_lock(:k)"), {"k": _lock_key("housekeeping")}
            )
            r = await client.post("/api/v1/jobs/housekeeping/run", headers=bearer(admin_token))
            await other.execute(
                text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key("housekeeping")}
            )
    else:
        async with db.session_scope() as s:
            s.add(
                JobLock(
                    name="housekeeping",
                    holder="elsewhere",
                    expires_at=utcnow() + timedelta(minutes=5),
                )
            )
        r = await client.post("/api/v1/jobs/housekeeping/run", headers=bearer(admin_token))
    assert r.status_code == 409
    assert r.json()["code"] == "job_already_running"


async def test_expired_lease_is_taken_over(
    client: AsyncClient, admin_token: str, db: Database, dialect: str
) -> None:
    if dialect != "sqlite":
        pytest.skip("lease locks are the SQLite path; PostgreSQL uses advisory locks")
    async with db.session_scope() as s:
        s.add(
            JobLock(
                name="housekeeping",
                holder="dead-worker",
                expires_at=datetime(2020, 1, 1, tzinfo=UTC),
            )
        )
    r = await client.post("/api/v1/jobs/housekeeping/run", headers=bearer(admin_token))
    assert r.status_code == 200
    async with db.sessionmaker() as s:
        assert (await s.scalars(select(JobLock))).all() == []


@pytest.mark.postgres_only
async def test_two_processes_never_run_a_job_at_once(isolated_db: Database) -> None:
    """Two concurrent runs against one database: exactly one runs, the other is refused."""
    import asyncio

    from app.errors import Conflict
    from app.jobs.service import job_service
    from app.scheduler import JOBS, JobSpec

    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(db: Database, as_of: datetime) -> dict[str, int]:
        started.set()
        await asyncio.wait_for(release.wait(), timeout=10)
        return {"done": 1}

    JOBS["slow_test_job"] = JobSpec(
        name="slow_test_job", func=slow, trigger=JOBS["housekeeping"].trigger, description="t"
    )
    try:
        first = asyncio.create_task(job_service.run(isolated_db, "slow_test_job"))
        await asyncio.wait_for(started.wait(), timeout=10)
        with pytest.raises(Conflict):
            await job_service.run(isolated_db, "slow_test_job", trigger="manual")
        skipped = await job_service.run(isolated_db, "slow_test_job", trigger="schedule")
        assert skipped is None
        release.set()
        run = await first
        assert run is not None
        assert run.status == "succeeded"
    finally:
        JOBS.pop("slow_test_job", None)
