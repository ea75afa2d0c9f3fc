"""Local throughput check for the check-in endpoints (the project benchmark is
`python -m bench`, which measures the same paths against generated chain data; this
script stays for docs/checkins.md's quick experiments and shares its client with it).

Sets up a database with one club, members with memberships and a turnstile token, starts
`uvicorn` with one worker, and drives it with a small keep-alive HTTP/1.1 client:

    .venv/bin/python bench/checkins_local.py single --url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/checkins_local.py batch --rows 100000 --format csv --url ...

The database named by --url only serves to CREATE/DROP a scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http import Client, cpu_seconds  # noqa: E402  (after the sys.path line)

MEMBERS = 5_000


async def _setup(url: str) -> tuple[str, list[str], list[str]]:
    from app.auth.service import auth_service
    from app.config import Settings
    from app.db import Database
    from app.migrate import upgrade
    from app.models import ApiToken, Club, Member, Membership, Plan

    settings = Settings(database_url=url)
    db = Database.from_settings(settings)
    await upgrade(db.engine)
    async with db.session_scope() as s:
        club = Club(
            name="Bench",
            timezone="Europe/Moscow",
            currency="RUB",
            opening_hours={},
            quiet_hours_start=datetime(2000, 1, 1, 9).time(),
            quiet_hours_end=datetime(2000, 1, 1, 21).time(),
            contact_policy={},
            meeting_settings={},
        )
        s.add(club)
        await s.flush()
        plan = Plan(
            club_id=club.id,
            name="Bench",
            duration_months=12,
            price=1,
            currency="RUB",
            renewal_target_ids=[],
        )
        s.add(plan)
        await s.flush()
        members = [
            Member(
                club_id=club.id,
                first_name="B",
                last_name=f"M{i}",
                card_number=f"C{i:07d}",
                interests=[],
                personal_dates=[],
            )
            for i in range(MEMBERS)
        ]
        s.add_all(members)
        await s.flush()
        start = date.today() - timedelta(days=30)
        s.add_all(
            Membership(
                club_id=club.id,
                member_id=m.id,
                plan_id=plan.id,
                start_date=start,
                base_end_date=start + timedelta(days=364),
                end_date=start + timedelta(days=364),
                list_price=1,
                price_paid=1,
                currency="RUB",
                source="new",
            )
            for m in members
        )
        raw = "crk_" + uuid.uuid4().hex + uuid.uuid4().hex
        from app.auth.service import hash_secret

        s.add(
            ApiToken(
                id=uuid.uuid4(),
                name="bench turnstile",
                kind="integration",
                club_id=club.id,
                scopes=["checkins:write", "access:check", "checkins:read", "clubs:read"],
                token_hash=hash_secret(raw),
                prefix=raw[:12],
            )
        )
        ids = [str(m.id) for m in members]
        cards = [m.card_number or "" for m in members]
        club_id = str(club.id)
    await db.dispose()
    del auth_service
    return raw + "|" + club_id, ids, cards


async def floor(port: int, token: str, path: str, seconds: float, conns: int) -> None:
    """GET `path` as fast as possible: the framework (and auth) floor of this machine."""
    headers = {"Authorization": f"Bearer {token}"}
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        c = Client("127.0.0.1", port)
        await c.open()
        while time.perf_counter() < stop:
            await c.request("GET", path, headers=headers)
            done += 1

    cpu = cpu_seconds(SERVER_PID)
    await asyncio.gather(*(worker() for _ in range(conns)))
    cpu = cpu_seconds(SERVER_PID) - cpu
    print(
        f"floor GET {path}: {done / seconds:.0f} req/s; server CPU "
        f"{1e6 * cpu / max(done, 1):.0f} us/request"
    )


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CLUB_RENEWAL_DATABASE_URL": url,
        "CLUB_RENEWAL_SCHEDULER": "off",
        "CLUB_RENEWAL_LOG_LEVEL": "WARNING",
        "CLUB_RENEWAL_SECRET_KEY": "bench",
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return subprocess.Popen(cmd, cwd=ROOT, env=env)


async def _wait(port: int) -> None:
    for _ in range(100):
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise SystemExit("server did not start")


SERVER_PID = 0


async def single(
    port: int, token: str, club: str, cards: list[str], seconds: float, conns: int
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    counts = {"ok": 0, "err": 0}
    stop = time.perf_counter() + seconds
    seq = iter(range(10**9))
    run = uuid.uuid4().hex[:6]

    async def worker(n: int) -> None:
        c = Client("127.0.0.1", port)
        await c.open()
        while time.perf_counter() < stop:
            i = next(seq)
            body = json.dumps(
                {
                    "club_id": club,
                    "card_number": random.choice(cards),
                    "source": "turnstile",
                    "device_id": f"gate-{run}-{n}",
                    "device_event_id": str(i),
                }
            ).encode()
            status, data = await c.post("/api/v1/checkins", body, headers)
            counts["ok" if status == 201 else "err"] += 1
            if status != 201 and counts["err"] < 3:
                print(status, data[:300])

    cpu = cpu_seconds(SERVER_PID)
    await asyncio.gather(*(worker(n) for n in range(conns)))
    cpu = cpu_seconds(SERVER_PID) - cpu
    done = counts["ok"] + counts["err"]
    print(
        f"single: {counts['ok'] / seconds:.0f} req/s ({counts['err']} errors, {conns} "
        f"connections); server CPU {1e6 * cpu / max(done, 1):.0f} us/request "
        f"(=> {done / cpu if cpu else 0:.0f} req/s on one free core)"
    )


async def batch(port: int, token: str, club: str, ids: list[str], rows: int, fmt: str) -> None:
    now = datetime.now(UTC)
    lines = []
    if fmt == "csv":
        lines.append("club_id,member_id,checked_in_at,source,device_id,device_event_id")
    for i in range(rows):
        at = (now - timedelta(seconds=rows - i)).isoformat()
        m = ids[i % len(ids)]
        if fmt == "csv":
            lines.append(f"{club},{m},{at},turnstile,gate-b,{uuid.uuid4().hex}")
        else:
            lines.append(
                json.dumps(
                    {
                        "club_id": club,
                        "member_id": m,
                        "checked_in_at": at,
                        "source": "turnstile",
                        "device_id": "gate-b",
                        "device_event_id": uuid.uuid4().hex,
                    }
                )
            )
    if fmt == "json":
        body = ("[" + ",".join(lines) + "]").encode()
        ctype = "application/json"
    else:
        body = ("\n".join(lines) + "\n").encode()
        ctype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    c = Client("127.0.0.1", port)
    await c.open()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": ctype}
    t = time.perf_counter()
    cpu = cpu_seconds(SERVER_PID)
    status, data = await c.post("/api/v1/checkins/batch", body, headers)
    elapsed = time.perf_counter() - t
    cpu = cpu_seconds(SERVER_PID) - cpu
    print(status, data[:200])
    print(
        f"batch {fmt}: {rows} rows in {elapsed:.2f}s = {rows / elapsed:.0f} rows/s; "
        f"server CPU {cpu:.2f}s ({1e6 * cpu / rows:.1f} us/row)"
    )


async def copy_floor(url: str, club: str, ids: list[str], rows: int) -> None:
    """Raw asyncpg COPY of `rows` check-ins into the indexed table: the floor."""
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    now = datetime.now(UTC)
    records = [
        (
            uuid.UUID(club),
            uuid.UUID(ids[i % len(ids)]),
            now - timedelta(seconds=i),
            "turnstile",
            "floor",
            str(i),
            now,
        )
        for i in range(rows)
    ]
    columns = ["club_id", "member_id", "checked_in_at", "source", "device_id"]
    columns += ["device_event_id", "created_at"]
    t = time.perf_counter()
    await conn.copy_records_to_table("checkins", records=records, columns=columns)
    elapsed = time.perf_counter() - t
    await conn.close()
    print(f"floor COPY: {rows} rows in {elapsed:.2f}s = {rows / elapsed:.0f} rows/s")


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["single", "batch"])
    p.add_argument("--url", required=True, help="server URL; a scratch database is created")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--format", choices=["csv", "ndjson", "json"], default="csv")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--floors", action="store_true", help="also measure GET floors")
    args = p.parse_args()
    base = make_url(args.url)
    name = f"crbench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    if base.get_backend_name() == "sqlite":
        url = f"sqlite+aiosqlite:////tmp/{name}.db"
    else:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
    server = None
    try:
        both, ids, cards = await _setup(url)
        token, club = both.split("|")
        server = _serve(url, args.port)
        global SERVER_PID
        SERVER_PID = server.pid
        await _wait(args.port)
        if args.floors:
            await floor(args.port, token, "/healthz", args.seconds, args.connections)
            await floor(args.port, token, f"/api/v1/clubs/{club}", 2, args.connections)
            await floor(args.port, token, f"/api/v1/clubs/{club}", args.seconds, args.connections)
        if args.what == "single":
            await single(args.port, token, club, cards, 2, args.connections)  # warm-up
            await single(args.port, token, club, cards, args.seconds, args.connections)
        else:
            await batch(args.port, token, club, ids, 2000, args.format)  # warm-up
            if args.floors and base.get_backend_name() != "sqlite":
                await copy_floor(url, club, ids, args.rows)
            await batch(args.port, token, club, ids, args.rows, args.format)
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        if base.get_backend_name() != "sqlite":
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
