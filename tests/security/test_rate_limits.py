"""Abuse control: failed authentication and expensive endpoints answer 429 with
Retry-After once over budget."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.core.ratelimit import RateLimiter
from app.db import Database
from app.main import create_app, startup
from tests.fixtures.factories import bearer


@pytest_asyncio.fixture
async def strict_client(settings: Settings, db: Database) -> AsyncIterator[AsyncClient]:
    tight = settings.model_copy(
        update={"auth_failures_per_minute": 3, "expensive_requests_per_minute": 2}
    )
    app = create_app(tight, db=db, run_scheduler=False)
    await startup(app)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
        yield c


async def test_failed_authentication_is_throttled(
    strict_client: AsyncClient, admin_token: str
) -> None:
    for _ in range(3):
        r = await strict_client.get("/api/v1/clubs", headers=bearer("crk_wrong"))
        assert r.status_code == 401
    r = await strict_client.get("/api/v1/clubs", headers=bearer("crk_wrong"))
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # While throttled, even a valid token from that address waits.
    r = await strict_client.get("/api/v1/clubs", headers=bearer(admin_token))
    assert r.status_code == 429


async def test_successful_requests_do_not_count(
    strict_client: AsyncClient, admin_token: str
) -> None:
    for _ in range(10):
        r = await strict_client.get("/api/v1/clubs", headers=bearer(admin_token))
        assert r.status_code == 200


async def test_expensive_endpoint_is_limited_per_token(
    strict_client: AsyncClient, admin_token: str
) -> None:
    for _ in range(2):
        r = await strict_client.post("/api/v1/jobs/housekeeping/run", headers=bearer(admin_token))
        assert r.status_code == 200
    r = await strict_client.post("/api/v1/jobs/housekeeping/run", headers=bearer(admin_token))
    assert r.status_code == 429
    assert "retry-after" in r.headers


def test_window_slides() -> None:
    limiter = RateLimiter(limit=2, window_seconds=60)
    limiter.hit("k", now=0)
    limiter.hit("k", now=10)
    assert limiter.retry_after("k", now=20) == 40
    assert limiter.retry_after("k", now=61) == 0


def test_memory_is_bounded() -> None:
    limiter = RateLimiter(limit=1, window_seconds=60, max_keys=100)
    for i in range(1000):
        limiter.hit(f"k{i}", now=0)
    assert len(limiter._hits) <= 100
