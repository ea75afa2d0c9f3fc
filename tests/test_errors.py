"""Every error is application/problem+json with a stable code; nothing leaks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from fastapi import APIRouter
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.db import Database
from app.main import create_app, startup
from tests.fixtures.factories import bearer


async def test_unknown_route_is_404_problem(client: AsyncClient) -> None:
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "not_found"


async def test_wrong_method_is_405_problem(client: AsyncClient) -> None:
    r = await client.put("/api/v1/clubs")
    assert r.status_code == 405
    assert r.json()["code"] == "method_not_allowed"


async def test_malformed_json_is_422(client: AsyncClient, admin_token: str) -> None:
    r = await client.post(
        "/api/v1/clubs",
        content=b'{"name": "x",',
        headers=bearer(admin_token) | {"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "malformed_json"


async def test_deeply_nested_json_is_refused(client: AsyncClient, admin_token: str) -> None:
    body = b"[" * 5000 + b"]" * 5000
    r = await client.post(
        "/api/v1/clubs",
        content=body,
        headers=bearer(admin_token) | {"content-type": "application/json"},
    )
    assert r.status_code == 422


async def test_validation_never_echoes_input(client: AsyncClient, admin_token: str) -> None:
    secret = "SECRET-INPUT-<script>"
    r = await client.post(
        "/api/v1/clubs",
        json={"name": "C", "timezone": secret, "currency": "EUR"},
        headers=bearer(admin_token),
    )
    assert r.status_code == 422
    assert secret not in r.text
    assert r.json()["errors"][0]["pointer"] == "/timezone"


async def test_oversized_body_is_413_without_reading_it(
    client: AsyncClient, admin_token: str
) -> None:
    big = b'{"name": "' + b"x" * (10 * 1024 * 1024 + 10) + b'"}'
    r = await client.post(
        "/api/v1/clubs",
        content=big,
        headers=bearer(admin_token) | {"content-type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


async def test_oversized_chunked_body_is_413(client: AsyncClient, admin_token: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(11):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    r = await client.post(
        "/api/v1/clubs",
        content=chunks(),
        headers=bearer(admin_token) | {"content-type": "application/json"},
    )
    assert r.status_code == 413


@pytest_asyncio.fixture
async def crashing_client(settings: Settings, db: Database) -> AsyncIterator[AsyncClient]:
    app = create_app(settings, db=db, run_scheduler=False)
    boom = APIRouter()

    @boom.get("/boom")
    async def explode() -> None:
        raise RuntimeError("internal detail /etc/passwd password=hunter2")

    app.include_router(boom)
    await startup(app)
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_unexpected_error_is_500_problem_without_details(
    crashing_client: AsyncClient,
) -> None:
    r = await crashing_client.get("/boom")
    assert r.status_code == 500
    assert r.json()["code"] == "internal_error"
    assert "hunter2" not in r.text
    assert "Traceback" not in r.text


async def test_request_id_is_echoed_or_generated(client: AsyncClient) -> None:
    r = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces"
    assert len(r.headers["x-request-id"]) == 32
