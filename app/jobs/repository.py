from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.models import IdempotencyKey, JobLock, JobRun


async def recent_runs(session: AsyncSession, job_name: str, limit: int) -> list[JobRun]:
    stmt = (
        select(JobRun)
        .where(JobRun.job_name == job_name)
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def abandon_running(session: AsyncSession, job_name: str, now: datetime) -> int:
    """Close the runs of `job_name` still marked running: called by the holder of the
    job's lock, so no live process is running them - their process died mid-run."""
    result = await session.execute(
        update(JobRun)
        .where(JobRun.job_name == job_name, JobRun.status == "running")
        .values(
            status="abandoned",
            finished_at=now,
            error="The process running this job stopped before it finished "
            "(found by the next run, which redid the work).",
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def pg_try_lock(conn: AsyncConnection, key: int) -> bool:
    got = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
    await conn.commit()
    return bool(got)


async def pg_unlock(conn: AsyncConnection, key: int) -> None:
    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    await conn.commit()


async def lease_try_acquire(
    session: AsyncSession, name: str, holder: str, now: datetime, until: datetime
) -> bool:
    """Portable lock: a row per job with an expiry, taken if absent or expired."""
    taken = await session.execute(
        update(JobLock)
        .where(JobLock.name == name, JobLock.expires_at < now)
        .values(holder=holder, expires_at=until)
    )
    if getattr(taken, "rowcount", 0) == 1:
        return True
    try:
        async with session.begin_nested():
            session.add(JobLock(name=name, holder=holder, expires_at=until))
        return True
    except IntegrityError:
        return False


async def lease_release(session: AsyncSession, name: str, holder: str) -> None:
    await session.execute(delete(JobLock).where(JobLock.name == name, JobLock.holder == holder))


async def purge_idempotency_keys(session: AsyncSession, before: datetime) -> int:
    res = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < before))
    return int(getattr(res, "rowcount", 0) or 0)


async def purge_job_runs(session: AsyncSession, before: datetime) -> int:
    res = await session.execute(delete(JobRun).where(JobRun.started_at < before))
    return int(getattr(res, "rowcount", 0) or 0)
