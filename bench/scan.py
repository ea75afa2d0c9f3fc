"""The lapse scan: the product's `lapse_scan` job, and its floor.

    python -m bench.scan SPEC.json    # runs the job in this (child) process; prints JSON

The job runs in a child process of its own so that its peak RSS is its own (VmHWM), not
the harness's. The floor is hand-written SQL that computes the features DESIGN.md §4
names for every member with a live membership, in one statement over a bounded window
of check-ins, written independently of the product's scan SQL.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench.http import peak_rss_mb

# The features of DESIGN.md §4, in one pass over 12 weeks of check-ins (the last 4 weeks
# against the 8 before them), plus the first 3 weeks of tenure for new members.
FLOOR_SQL = """
WITH live AS (
    SELECT DISTINCT ON (ms.member_id)
           ms.member_id, ms.club_id, ms.id AS membership_id, ms.end_date
    FROM memberships ms
    WHERE ms.cancelled_at IS NULL AND ms.start_date <= $1::date AND ms.end_date >= $1::date
    ORDER BY ms.member_id, ms.start_date DESC
),
tenure AS (
    SELECT member_id, min(start_date) AS since FROM memberships GROUP BY member_id
),
visits AS (
    SELECT c.member_id,
           max(c.checked_in_at) AS last_visit,
           min(c.checked_in_at) AS first_visit,
           count(*) AS n,
           count(*) FILTER (WHERE c.checked_in_at >= $3) AS last_4w,
           count(*) FILTER (WHERE c.checked_in_at < $3) AS prev_8w
    FROM checkins c
    WHERE c.checked_in_at >= $4 AND c.checked_in_at < $2
    GROUP BY c.member_id
)
SELECT l.member_id, l.club_id, l.membership_id,
       extract(epoch FROM $2 - v.last_visit) / 86400 AS days_since_last_visit,
       extract(epoch FROM v.last_visit - v.first_visit) / 86400 / nullif(v.n - 1, 0)
           AS usual_gap_days,
       coalesce(v.last_4w, 0) AS visits_last_4w,
       coalesce(v.prev_8w, 0) / 2.0 AS baseline_per_4w,
       (SELECT count(*) FROM checkins e
         WHERE t.since > $1::date - 84
           AND e.member_id = l.member_id
           AND e.checked_in_at >= t.since::timestamptz
           AND e.checked_in_at < (t.since + 21)::timestamptz) AS early_visits,
       l.end_date - $1::date AS days_to_end,
       EXISTS (SELECT 1 FROM memberships r WHERE r.renews_id = l.membership_id)
           AS renewal_booked
FROM live l
JOIN tenure t ON t.member_id = l.member_id
LEFT JOIN visits v ON v.member_id = l.member_id
"""


def floor_args(as_of: datetime) -> tuple[object, ...]:
    return (as_of.date(), as_of, as_of - timedelta(days=28), as_of - timedelta(days=84))


async def floor(dsn: str, as_of: datetime) -> dict[str, Any]:
    """Seconds for the floor SQL, all rows fetched (best of two: the first warms the cache
    the same way the job's own run is warmed by the floor's first pass)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET jit = off")
        best = float("inf")
        rows = 0
        for _ in range(2):
            t = time.perf_counter()
            result = await conn.fetch(FLOOR_SQL, *floor_args(as_of))
            best = min(best, time.perf_counter() - t)
            rows = len(result)
        return {"seconds": best, "rows": rows}
    finally:
        await conn.close()


def job_available() -> bool:
    from app.jobs_table import load_jobs
    from app.scheduler import JOBS

    load_jobs()
    return "lapse_scan" in JOBS


async def _run_job(spec: dict[str, Any]) -> dict[str, Any]:
    """The product path: what `club-renewal scan` / `POST /jobs/lapse_scan/run` do."""
    from app.config import Settings
    from app.db import Database
    from app.jobs.service import job_service
    from app.jobs_table import load_jobs

    load_jobs()
    db = Database.from_settings(Settings(database_url=spec["url"], scheduler="off"))
    as_of = datetime.fromisoformat(spec["as_of"])
    try:
        runs = []
        for i in range(spec.get("repeat", 1)):
            t = time.perf_counter()
            run = await job_service.run(db, "lapse_scan", as_of=as_of + timedelta(seconds=i))
            runs.append(time.perf_counter() - t)
            if run is None or run.status != "succeeded":
                raise RuntimeError(f"lapse_scan did not succeed: {run and run.error}")
            counts = dict(run.counts or {})
    finally:
        await db.dispose()
    return {"seconds": runs, "counts": counts, "peak_rss_mb": peak_rss_mb_self()}


def peak_rss_mb_self() -> float:
    import os

    return peak_rss_mb(os.getpid())


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(_run_job(spec))))


if __name__ == "__main__":
    main()
