"""100,000 check-ins in one request: memory stays flat (streamed, chunked, never whole).

Bound: the Python heap may grow by at most 48 MB while the request runs (tracemalloc
peak, client and server together). The body alone is ~13 MB and the parsed rows would
be ~80 MB if held, so a regression to reading, parsing or inserting everything at once
fails this test; streaming holds one body piece and two chunks of rows (~5,000 each).
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from httpx import AsyncClient

from app.core.clock import freeze
from app.db import Database
from tests.checkins.conftest import World
from tests.checkins.helpers import NOW, count_checkins
from tests.fixtures.factories import bearer

ROWS = 100_000
BOUND = 48 * 1024 * 1024


async def csv_body(world: World) -> AsyncIterator[bytes]:
    yield b"club_id,member_id,checked_in_at,source,device_id,device_event_id\n"
    members = [str(world.alice.id), str(world.bob.id), str(world.carol.id)]
    start = NOW - timedelta(days=60)
    for first in range(0, ROWS, 1000):
        lines = []
        for i in range(first, first + 1000):
            at = (start + timedelta(seconds=i * 50)).isoformat()
            lines.append(f"{world.club_id},{members[i % 3]},{at},turnstile,gate-m,{i}\n")
        yield "".join(lines).encode()


async def test_a_100k_row_batch_keeps_memory_flat(
    client: AsyncClient, world: World, db: Database, record_property: Any
) -> None:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        with freeze(NOW):
            r = await client.post(
                "/api/v1/checkins/batch",
                content=csv_body(world),
                headers={**bearer(world.turnstile), "Content-Type": "text/csv"},
                timeout=120,
            )
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": ROWS, "duplicates": 0, "rejected": [], "rejected_count": 0}
    assert peak < BOUND, f"heap grew by {peak / 2**20:.1f} MB"
    record_property("seconds", round(elapsed, 1))
    record_property("heap_peak_mb", round(peak / 2**20, 1))
    assert await count_checkins(db) == ROWS
