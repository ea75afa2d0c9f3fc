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
import time as clock
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg  # type: ignore[import-untyped]

from bench.http import peak_rss_mb

# The features the product's scan computes (docs/lapse-detection.md, "What the scan
# computes"), for every club in one statement: one pass over each club's 26-week range of
# check-ins with every count a FILTER, the live membership by DISTINCT ON, index probes
# for the rest. Club-local day boundaries arrive as UTC instants (zoneinfo in Python).
FLOOR_SQL = """
WITH b AS (
    SELECT * FROM unnest($1::uuid[], $2::date[], $3::timestamptz[], $4::timestamptz[],
                         $5::timestamptz[], $6::timestamptz[])
        AS b(club_id, today, w26, w4, w8, w12)
),
live AS (
    SELECT DISTINCT ON (ms.member_id)
           ms.member_id, ms.club_id, ms.id, ms.start_date, ms.end_date, ms.renews_id,
           b.today
    FROM b JOIN memberships ms ON ms.club_id = b.club_id
    WHERE ms.cancelled_at IS NULL AND ms.start_date <= b.today AND ms.end_date >= b.today
    ORDER BY ms.member_id, ms.end_date DESC
),
v AS (
    SELECT c.member_id,
           max(c.checked_in_at) AS last_visit,
           count(*) AS visits_26w,
           count(*) FILTER (WHERE c.checked_in_at >= b.w4) AS visits_4w,
           count(*) FILTER (WHERE c.checked_in_at >= b.w12 AND c.checked_in_at < b.w4)
               AS visits_prev_8w,
           count(*) FILTER (WHERE c.checked_in_at >= b.w8) AS visits_8w
    FROM b JOIN checkins c
      ON c.club_id = b.club_id AND c.checked_in_at >= b.w26 AND c.checked_in_at <= $7
    GROUP BY c.member_id
)
SELECT l.member_id, l.club_id, l.id AS membership_id, l.end_date - l.today AS days_to_end,
       t.since AS tenure_start, v.last_visit, v.visits_26w, v.visits_4w, v.visits_prev_8w,
       v.visits_8w,
       CASE WHEN l.today - t.since < 91 THEN (
           SELECT count(*) FROM checkins e
           WHERE e.member_id = l.member_id AND e.checked_in_at >= t.since::timestamptz
             AND e.checked_in_at < (t.since + 21)::timestamptz) END AS visits_first_3w,
       (SELECT coalesce(sum(least(f.end_date, l.today)
                            - greatest(f.start_date, l.today - 181) + 1), 0)
          FROM memberships x JOIN freezes f ON f.membership_id = x.id
         WHERE x.member_id = l.member_id AND f.cancelled_at IS NULL
           AND f.start_date <= l.today AND f.end_date >= l.today - 181) AS frozen_days,
       EXISTS (SELECT 1 FROM memberships r
                WHERE r.member_id = l.member_id AND r.cancelled_at IS NULL
                  AND (r.renews_id = l.id OR r.start_date > l.today)) AS renewed,
       m.do_not_contact OR m.erased_at IS NOT NULL AS do_not_contact,
       (SELECT p.level FROM risk_assessments p
         WHERE p.member_id = l.member_id AND p.scan_date < l.today
           AND p.scan_date >= l.today - 35
         ORDER BY p.scan_date DESC LIMIT 1) AS previous_level,
       EXISTS (SELECT 1 FROM risk_assessments q
                WHERE q.member_id = l.member_id AND q.scan_date = l.today) AS assessed_today
FROM live l
JOIN members m ON m.id = l.member_id
CROSS JOIN LATERAL (
    SELECT CASE WHEN l.renews_id IS NULL THEN l.start_date
                ELSE (SELECT min(x.start_date) FROM memberships x
                       WHERE x.member_id = l.member_id) END AS since
) t
LEFT JOIN v ON v.member_id = l.member_id
"""


def floor_args(as_of: datetime, clubs: list[tuple[uuid.UUID, str]]) -> tuple[object, ...]:
    """Per club: its local today and the UTC instants of the local midnights that start
    the 26-week window and the last 4, 8 and 12 weeks."""
    ids, todays, w26, w4, w8, w12 = [], [], [], [], [], []
    for club_id, tz_name in clubs:
        tz = ZoneInfo(tz_name)
        today = as_of.astimezone(tz).date()

        def midnight(days_back: int, today: date = today, tz: ZoneInfo = tz) -> datetime:
            return datetime.combine(today - timedelta(days=days_back), time(), tz)

        ids.append(club_id)
        todays.append(today)
        w26.append(midnight(181))
        w4.append(midnight(27))
        w8.append(midnight(55))
        w12.append(midnight(83))
    return (ids, todays, w26, w4, w8, w12, as_of)


async def floor(dsn: str, as_of: datetime, clubs: list[tuple[uuid.UUID, str]]) -> dict[str, Any]:
    """Seconds for the floor SQL with every row fetched; the best of two runs (the
    first also warms the cache for the product's run that follows)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET jit = off")
        best = float("inf")
        rows = 0
        for _ in range(2):
            t = clock.perf_counter()
            result = await conn.fetch(FLOOR_SQL, *floor_args(as_of, clubs))
            best = min(best, clock.perf_counter() - t)
            rows = len(result)
        return {"seconds": best, "rows": rows}
    finally:
        await conn.close()


def job_available() -> bool:
    try:
        from app.risk.jobs import run_scan  # noqa: F401
    except ImportError:
        return False
    return True


async def _run_job(spec: dict[str, Any]) -> dict[str, Any]:
    """The product's scan: `app.risk.jobs.run_scan`, the per-club work of the `lapse_scan`
    job (and `club-renewal scan`) without the job's club-day claim, so that repeated rounds
    (and clubs whose local hour is before the job's 05:00) are all scanned."""
    from app.config import Settings
    from app.db import Database
    from app.risk.jobs import run_scan

    db = Database.from_settings(Settings(database_url=spec["url"], scheduler="off"))
    as_of = datetime.fromisoformat(spec["as_of"])
    runs: list[float] = []
    counts: dict[str, Any] = {}
    try:
        for _ in range(spec.get("repeat", 1)):
            t = clock.perf_counter()
            result = await run_scan(db, as_of)
            runs.append(clock.perf_counter() - t)
            counts = result.as_dict()
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
