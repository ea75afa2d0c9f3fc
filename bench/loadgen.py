"""The load generator: a separate process that drives a server on 127.0.0.1.

    python -m bench.loadgen SPEC.json     # prints one JSON result line

Modes (SPEC["mode"]):

- `single`: `POST /api/v1/checkins` by card number from `conns` keep-alive connections
  for `seconds` (after `warmup` seconds not counted);
- `batch`: `clients` concurrent connections each POST `batches` CSV bodies of
  `batch_rows` rows to `/api/v1/checkins/batch`; bodies are built before the clock starts;
- `get`: GET the given `paths` round-robin from `conns` connections for `seconds`.

Every loop is bounded by count and time; the only host it talks to is 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.http import Client, cpu_seconds

HOST = "127.0.0.1"
MAX_REQUESTS = 5_000_000  # a hard bound on top of the time bound


async def _timed_loop(conns: int, seconds: float, send: Any, server_pid: int) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    counter = itertools.count()
    stop = time.perf_counter() + seconds
    errors: list[str] = []

    async def worker(n: int) -> None:
        c = Client(HOST, PORT)
        await c.open()
        try:
            while time.perf_counter() < stop:
                i = next(counter)
                if i >= MAX_REQUESTS:
                    return
                status, body = await send(c, n, i)
                statuses[status] = statuses.get(status, 0) + 1
                if status >= 300 and len(errors) < 3:
                    errors.append(f"{status} {body[:200]!r}")
        finally:
            await c.close()

    cpu0 = cpu_seconds(server_pid) if server_pid else 0.0
    t0 = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(conns)))
    elapsed = time.perf_counter() - t0
    cpu = (cpu_seconds(server_pid) - cpu0) if server_pid else 0.0
    done = sum(statuses.values())
    ok = sum(v for k, v in statuses.items() if k < 300)
    return {
        "requests": done,
        "ok": ok,
        "seconds": elapsed,
        "rps": ok / elapsed if elapsed else 0.0,
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": errors,
        "server_cpu_us_per_request": 1e6 * cpu / done if done else None,
    }


async def single(spec: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {spec['token']}", "Content-Type": "application/json"}
    club, cards = spec["club_id"], spec["cards"]
    run = secrets.token_hex(3)
    phase = iter(range(2))  # warm-up and measured loops get their own device ids
    current = {"phase": 0}

    async def send(c: Client, n: int, i: int) -> tuple[int, bytes]:
        body = json.dumps(
            {
                "club_id": club,
                "card_number": cards[(i * 7919) % len(cards)],
                "source": "turnstile",
                "device_id": f"load-{run}-{current['phase']}-{n}",
                "device_event_id": str(i),
            }
        ).encode()
        return await c.post("/api/v1/checkins", body, headers)

    if spec.get("warmup"):
        current["phase"] = next(phase)
        await _timed_loop(spec["conns"], spec["warmup"], send, 0)
    current["phase"] = next(phase, 1) + 1
    return await _timed_loop(spec["conns"], spec["seconds"], send, spec.get("server_pid", 0))


async def get(spec: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {spec['token']}"}
    paths = spec["paths"]

    async def send(c: Client, n: int, i: int) -> tuple[int, bytes]:
        return await c.request("GET", paths[i % len(paths)], headers=headers)

    if spec.get("warmup"):
        await _timed_loop(spec["conns"], spec["warmup"], send, 0)
    return await _timed_loop(spec["conns"], spec["seconds"], send, spec.get("server_pid", 0))


def csv_bodies(spec: dict[str, Any]) -> list[list[bytes]]:
    """Per client, its CSV bodies: members round-robin, instants in the last 20 minutes,
    device event ids unique to this run (every row is a new visit)."""
    members: list[list[str]] = spec["members"]  # [club_id, member_id]
    now = datetime.now(UTC)
    tag = spec.get("tag") or secrets.token_hex(3)
    out: list[list[bytes]] = []
    k = 0
    for client in range(spec["clients"]):
        bodies = []
        for b in range(spec["batches"]):
            lines = ["club_id,member_id,checked_in_at,source,device_id,device_event_id"]
            for r in range(spec["batch_rows"]):
                club_id, member_id = members[k % len(members)]
                at = (now - timedelta(seconds=(k % 1200))).isoformat()
                lines.append(f"{club_id},{member_id},{at},turnstile,api-{tag}-{client},{b}-{r}")
                k += 1
            bodies.append(("\n".join(lines) + "\n").encode())
        out.append(bodies)
    return out


async def batch(spec: dict[str, Any]) -> dict[str, Any]:
    bodies = csv_bodies(spec)
    headers = {"Authorization": f"Bearer {spec['token']}", "Content-Type": "text/csv"}
    accepted = 0
    problems: list[str] = []

    async def client(mine: list[bytes]) -> None:
        nonlocal accepted
        c = Client(HOST, PORT)
        await c.open()
        try:
            for body in mine:
                status, data = await c.post("/api/v1/checkins/batch", body, headers)
                if status != 200:
                    problems.append(f"{status} {data[:200]!r}")
                    continue
                report = json.loads(data)
                accepted += report["accepted"]
                if report["rejected_count"] and len(problems) < 3:
                    problems.append(json.dumps(report["rejected"][:2]))
        finally:
            await c.close()

    pid = spec.get("server_pid", 0)
    cpu0 = cpu_seconds(pid) if pid else 0.0
    t0 = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client(b) for b in bodies)), spec.get("timeout", 600))
    elapsed = time.perf_counter() - t0
    cpu = (cpu_seconds(pid) - cpu0) if pid else 0.0
    rows = spec["clients"] * spec["batches"] * spec["batch_rows"]
    return {
        "rows": rows,
        "accepted": accepted,
        "seconds": elapsed,
        "rows_per_s": accepted / elapsed if elapsed else 0.0,
        "server_cpu_us_per_row": 1e6 * cpu / rows if rows else None,
        "problems": problems,
    }


PORT = 0


def main() -> None:
    global PORT
    spec = json.loads(Path(sys.argv[1]).read_text())
    PORT = spec["port"]
    mode = {"single": single, "get": get, "batch": batch}[spec["mode"]]
    result = asyncio.run(mode(spec))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
