"""The benchmark run: data, floors, the product, memory; one JSON line at the end.

Every figure that matters is a ratio to a floor measured in the same run on the same
machine (DESIGN.md §8): wall-clock numbers on a shared 2-core machine swing by 2x.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import URL

from bench import generator as gen
from bench.briefing import available as briefing_available
from bench.database import Loaded, dsn, load, migrate, scratch_database, server_url
from bench.procs import Server, run_json
from bench.profile import recording, summarize
from bench.scan import floor as scan_floor
from bench.scan import job_available as scan_available


@dataclass(frozen=True)
class Plan:
    """How much of each measurement a run does."""

    scale: gen.Scale
    ingest_rows: int  # rows through the API per round (and through the COPY floor)
    batch_rows: int  # rows per POST /checkins/batch
    clients: int  # concurrent batch uploaders
    load_seconds: float  # each request-rate measurement
    repeat: int  # rounds; medians are reported

    @property
    def batches_per_client(self) -> int:
        return max(1, self.ingest_rows // (self.clients * self.batch_rows))


QUICK = Plan(gen.QUICK, 100_000, 25_000, 4, 6.0, 1)
FULL = Plan(gen.FULL, 400_000, 25_000, 4, 15.0, 3)


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def interpreter() -> str:
    return f"{os.path.realpath(sys.executable)} {platform.python_version()}"


@dataclass
class Dataset:
    url: URL
    chain: gen.Chain
    loaded: Loaded
    figures: dict[str, Any] = field(default_factory=dict)


async def prepare(base: URL, label: str, scale: gen.Scale, as_of: datetime) -> Any:
    """A fresh migrated database with the generated chain (context manager)."""
    return _Prepared(base, label, scale, as_of)


class _Prepared:
    def __init__(self, base: URL, label: str, scale: gen.Scale, as_of: datetime) -> None:
        self._cm = scratch_database(base, label)
        self.scale, self.as_of = scale, as_of

    async def __aenter__(self) -> Dataset:
        url = await self._cm.__aenter__()
        try:
            await migrate(url)
            t = time.perf_counter()
            chain = gen.build_chain(self.scale, self.as_of)
            loaded = await load(url, chain)
            say(
                f"  {self.scale.name}: {len(chain.clubs)} clubs, {len(chain.members)} members, "
                f"{loaded.memberships} memberships, {loaded.checkins} check-ins "
                f"generated+loaded in {time.perf_counter() - t:.1f}s"
            )
        except BaseException:
            await self._cm.__aexit__(*sys.exc_info())
            raise
        return Dataset(url=url, chain=chain, loaded=loaded)

    async def __aexit__(self, *exc: Any) -> None:
        await self._cm.__aexit__(*exc)


# --- floors ------------------------------------------------------------------------------


async def copy_floor(ds: Dataset, rows: int, tag: str) -> float:
    """Raw `copy_records_to_table` of `rows` check-ins into the same indexed table, from
    one connection: what PostgreSQL itself can take on this machine right now."""
    members = ds.chain.members
    now = datetime.now(UTC)
    records = [
        (
            members[i % len(members)].club.id,
            members[i % len(members)].id,
            now - timedelta(seconds=i % 1200),
            "turnstile",
            f"floor-{tag}",
            str(i),
            now,
        )
        for i in range(rows)
    ]
    conn = await asyncpg.connect(dsn(ds.url))
    try:
        t = time.perf_counter()
        await conn.copy_records_to_table("checkins", records=records, columns=gen.CHECKIN_COLUMNS)
        return rows / (time.perf_counter() - t)
    finally:
        await conn.close()


# --- the product ---------------------------------------------------------------------------


async def api_ingest(ds: Dataset, server: Server, plan: Plan, tag: str) -> dict[str, Any]:
    members = [[str(m.club.id), str(m.id)] for m in ds.chain.members]
    spec = {
        "mode": "batch",
        "port": server.port,
        "token": ds.loaded.admin_token,
        "members": members,
        "clients": plan.clients,
        "batches": plan.batches_per_client,
        "batch_rows": plan.batch_rows,
        "server_pid": server.pid,
        "tag": tag,
    }
    return await run_json("bench.loadgen", spec)


async def single_checkins(ds: Dataset, server: Server, seconds: float) -> dict[str, Any]:
    club = ds.chain.clubs[0]
    cards = [m.card_number for m in ds.chain.members if m.club.id == club.id]
    spec = {
        "mode": "single",
        "port": server.port,
        "token": ds.loaded.turnstile_token,
        "club_id": str(club.id),
        "cards": cards,
        "conns": 16,
        "warmup": 2.0,
        "seconds": seconds,
        "server_pid": server.pid,
    }
    return await run_json("bench.loadgen", spec)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


async def make_calls(ds: Dataset, count: int) -> list[str]:
    """Service calls to brief: one open lapse call each for the first `count` members with
    a live membership, written straight to the table. Not through `POST /calls`: the
    generated members have no consent records, so the contact policy (rightly) refuses
    to open calls for them; the briefing reads a call, however it was opened."""
    today = ds.chain.as_of.date()
    rows = []
    for m in ds.chain.members:
        if len(rows) >= count:
            break
        live = [ms for ms in m.memberships if ms[1] <= today <= ms[3]]
        if not live:
            continue
        due = ds.chain.as_of
        reasons = [{"kind": "lapse", "code": "bench", "text": "bench call", "source": "manual"}]
        rows.append(
            (
                uuid.uuid4(),
                m.club.id,
                m.id,
                live[-1][0],
                "lapse",
                json.dumps(reasons),
                60,
                due,
                due + timedelta(days=7),
                due,
                "due",
                0,
                "manual",
                1,
                due,
                due,
            )
        )
    conn = await asyncpg.connect(dsn(ds.url))
    try:
        await conn.executemany(
            "INSERT INTO service_calls (id, club_id, member_id, membership_id, kind, reasons,"
            " priority, due_from, due_until, next_attempt_at, status, attempts, source,"
            " version, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13, $14,"
            " $15, $16)",
            rows,
        )
    finally:
        await conn.close()
    return [str(r[0]) for r in rows]


async def measure_briefing(ds: Dataset, server: Server, plan: Plan, profile: Path | None) -> None:
    """GET /calls/{id}/briefing under load; capture its statements for the bare floor."""
    f = ds.figures
    ids = await make_calls(ds, 200)
    if not ids:
        say("  briefing: no call could be created; not measured")
        return
    cap = await run_json(
        "bench.briefing",
        {
            "url": ds.url.render_as_string(hide_password=False),
            "as_of": datetime.now(UTC).isoformat(),
            "call_ids": ids,
        },
    )
    f["briefing_capture"] = cap["capture"]
    f["briefing_statements"] = cap["statements_per_briefing"]
    spec = {
        "mode": "get",
        "port": server.port,
        "token": ds.loaded.admin_token,
        "paths": [f"/api/v1/calls/{i}/briefing" for i in ids],
        "conns": 16,
        "warmup": 2.0,
        "seconds": plan.load_seconds,
        "server_pid": server.pid,
    }
    with recording(server.pid, _out(profile, 0, "briefing")):
        res = await run_json("bench.loadgen", spec)
    f["briefing_rps"] = res["rps"]
    f["briefing_calls"] = len(ids)
    say(
        f"  GET /calls/{{id}}/briefing: {res['rps']:,.0f} req/s over {len(ids)} calls, "
        f"{cap['statements_per_briefing']} statements each, {res['statuses']} "
        f"({res['server_cpu_us_per_request']:.0f} us server CPU/request) {res['errors']}"
    )


async def measure_bare(ds: Dataset, plan: Plan) -> None:
    """The same statements on raw asyncpg behind a bare FastAPI route."""
    f = ds.figures
    env = {"BENCH_BARE_DSN": dsn(ds.url), "BENCH_BARE_CAPTURE": f["briefing_capture"]}
    try:
        async with Server(ds.url, "bench.bare:create_app", env=env) as bare:
            spec = {
                "mode": "get",
                "port": bare.port,
                "token": "",
                "paths": [f"/bare/briefing/{i}" for i in range(f["briefing_calls"])],
                "conns": 16,
                "warmup": 2.0,
                "seconds": plan.load_seconds,
                "server_pid": bare.pid,
            }
            res = await run_json("bench.loadgen", spec)
    finally:
        os.unlink(f["briefing_capture"])
    f["bare_rps"] = res["rps"]
    say(
        f"  bare briefing route (raw asyncpg): {res['rps']:,.0f} req/s {res['statuses']} "
        f"({res['server_cpu_us_per_request']:.0f} us server CPU/request) {res['errors']}"
    )


def _out(profile: Path | None, round_: int, phase: str) -> Path | None:
    """Where to record `phase` (first round only)."""
    return profile / f"{phase}.txt" if profile is not None and round_ == 0 else None


async def measure_api(
    ds: Dataset, plan: Plan, *, rounds: int, with_floor: bool, profile: Path | None = None
) -> None:
    """Ingest (with its COPY floor), single check-ins; peak RSS of the API process."""
    f = ds.figures
    floors: list[float] = []
    ingests: list[float] = []
    singles: list[float] = []
    async with Server(ds.url) as server:
        f["api_rss_at_start_mb"] = round(server.peak_rss_mb(), 1)
        for r in range(rounds):
            if with_floor:
                floors.append(await copy_floor(ds, plan.ingest_rows, f"{r}"))
                say(f"  floor COPY: {floors[-1]:,.0f} rows/s")
            with recording(server.pid, _out(profile, r, "ingest")):
                res = await api_ingest(ds, server, plan, f"r{r}")
            if res["problems"] or res["accepted"] != res["rows"]:
                say(f"  ingest problems: {res['problems']} accepted {res['accepted']}")
            ingests.append(res["rows_per_s"])
            say(
                f"  API batch ingest: {res['rows_per_s']:,.0f} rows/s "
                f"({res['server_cpu_us_per_row']:.1f} us server CPU/row)"
            )
            with recording(server.pid, _out(profile, r, "checkin")):
                s = await single_checkins(ds, server, plan.load_seconds)
            singles.append(s["rps"])
            say(
                f"  POST /checkins: {s['rps']:,.0f} req/s, {s['statuses']} "
                f"({s['server_cpu_us_per_request']:.0f} us server CPU/request) {s['errors']}"
            )
        if briefing_available():
            await measure_briefing(ds, server, plan, profile)
        f["api_peak_rss_mb"] = round(server.peak_rss_mb(), 1)
    if "briefing_capture" in f:
        await measure_bare(ds, plan)
    f["copy_rows_per_s"] = median(floors)
    f["api_ingest_rows_per_s"] = median(ingests)
    f["checkin_rps"] = median(singles)


async def measure_scan(ds: Dataset, plan: Plan, *, with_floor: bool) -> None:
    """The `lapse_scan` job in its own process (time, peak RSS); the floor SQL."""
    f = ds.figures
    if with_floor:
        clubs = [(c.id, c.timezone) for c in ds.chain.clubs]
        fl = await scan_floor(dsn(ds.url), ds.chain.as_of, clubs)
        f["scan_floor_seconds"] = fl["seconds"]
        say(f"  scan floor SQL: {fl['seconds']:.2f}s for {fl['rows']} live memberships")
    if not scan_available():
        say("  lapse_scan: not in this build (lapse detection not merged yet)")
        return
    # The first scan of a fresh history inserts every assessment and emits an event for
    # every member who rose (a quarter of them); later scans of the day update rows and
    # emit little, like the daily steady state. Both are reported; the ratio uses the
    # later ones (their median).
    spec = {
        "url": ds.url.render_as_string(hide_password=False),
        "as_of": ds.chain.as_of.isoformat(),
        "repeat": 1 + plan.repeat if with_floor else 1,
    }
    res = await run_json("bench.scan", spec)
    runs = res["seconds"]
    f["scan_first_seconds"] = runs[0]
    f["scan_seconds"] = median(runs[1:]) if len(runs) > 1 else runs[0]
    f["scan_peak_rss_mb"] = round(res["peak_rss_mb"], 1)
    say(f"  lapse scan: {[round(x, 2) for x in runs]} s, peak RSS {res['peak_rss_mb']:.0f} MB")
    say(f"    counts {res['counts']}")


async def run(plan: Plan, profile: Path | None = None) -> dict[str, Any]:
    base = server_url()
    as_of = datetime.now(UTC)
    started = time.perf_counter()
    say(f"club-renewal bench ({plan.scale.name}) with {interpreter()}")
    result: dict[str, Any] = {
        "ingest_ratio": None,
        "scan_ratio": None,
        "briefing_ratio": None,
        "checkin_rps": None,
        "api_peak_rss_mb": None,
        "scan_peak_rss_mb": None,
        "scale": plan.scale.name,
    }

    # The same API workload on a tenth of the data first: is memory flat as data grows?
    small_scale = plan.scale.tenth()
    say(f"[1/2] {small_scale.name}: memory at a tenth of the data")
    async with await prepare(base, "small", small_scale, as_of) as small:
        await measure_scan(small, plan, with_floor=False)
        await measure_api(small, plan, rounds=plan.repeat, with_floor=False)

    say(f"[2/2] {plan.scale.name}: floors and the product")
    async with await prepare(base, "main", plan.scale, as_of) as ds:
        await measure_scan(ds, plan, with_floor=True)
        await measure_api(ds, plan, rounds=plan.repeat, with_floor=True, profile=profile)
    if profile is not None:
        for phase in ("ingest", "checkin", "briefing"):
            if (profile / f"{phase}.txt").exists():
                say(f"profile of the API process during {phase} ({profile / phase}.txt):")
                for line in summarize(profile / f"{phase}.txt"):
                    say("  " + line)

    f = ds.figures
    if f["copy_rows_per_s"] and f["api_ingest_rows_per_s"]:
        result["ingest_ratio"] = round(f["api_ingest_rows_per_s"] / f["copy_rows_per_s"], 3)
    result["checkin_rps"] = round(f["checkin_rps"], 1) if f["checkin_rps"] else None
    result["api_peak_rss_mb"] = f["api_peak_rss_mb"]
    small_rss = small.figures["api_peak_rss_mb"]
    result["api_peak_rss_mb_tenth"] = small_rss
    result["api_rss_growth_10x"] = round(f["api_peak_rss_mb"] / small_rss, 3)
    if f.get("scan_seconds") and f.get("scan_floor_seconds"):
        result["scan_ratio"] = round(f["scan_seconds"] / f["scan_floor_seconds"], 3)
        result["scan_peak_rss_mb"] = f["scan_peak_rss_mb"]
        result["scan_peak_rss_mb_tenth"] = small.figures.get("scan_peak_rss_mb")
        result["scan_seconds"] = round(f["scan_seconds"], 3)
        result["scan_first_seconds"] = round(f["scan_first_seconds"], 3)
    result["scan_floor_seconds"] = round(f["scan_floor_seconds"], 3)
    if f.get("briefing_rps") and f.get("bare_rps"):
        result["briefing_ratio"] = round(f["briefing_rps"] / f["bare_rps"], 3)
        result["briefing_rps"] = round(f["briefing_rps"], 1)
        result["bare_briefing_rps"] = round(f["bare_rps"], 1)
        result["briefing_statements"] = f["briefing_statements"]
    result["copy_rows_per_s"] = round(f["copy_rows_per_s"])
    result["api_ingest_rows_per_s"] = round(f["api_ingest_rows_per_s"])
    result["members"] = len(ds.chain.members)
    result["checkins_loaded"] = ds.loaded.checkins
    result["rounds"] = plan.repeat
    result["load_seconds"] = round(ds.loaded.seconds, 1)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["python"] = interpreter()
    result["run_id"] = uuid.uuid4().hex[:8]
    return result


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="10,000 members, ~1M check-ins")
    p.add_argument("--repeat", type=int, help="rounds per measurement (median reported)")
    p.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample the API process with py-spy during each phase; stacks go to DIR",
    )
    args = p.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    plan = QUICK if args.quick else FULL
    if args.repeat:
        plan = Plan(**{**plan.__dict__, "repeat": max(1, min(args.repeat, 9))})
    result = asyncio.run(run(plan, args.profile))
    print(json.dumps(result), flush=True)
