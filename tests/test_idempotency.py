"""Idempotency-Key: replay, reuse with another body, in-flight, failed first attempts."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import func, select

from app.core.clock import utcnow
from app.db import Database
from app.models import Club, IdempotencyKey
from tests.fixtures.factories import bearer

BODY = {"name": "Riverside", "timezone": "Europe/Moscow", "currency": "RUB"}


async def _clubs(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Club)) or 0)


async def test_replay_returns_first_response_and_creates_nothing(
    client: AsyncClient, admin_token: str, db: Database
) -> None:
    h = bearer(admin_token) | {"Idempotency-Key": "club-1"}
    first = await client.post("/api/v1/clubs", json=BODY, headers=h)
    second = await client.post("/api/v1/clubs", json=BODY, headers=h)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await _clubs(db) == 1


async def test_same_key_other_body_is_422(
    client: AsyncClient, admin_token: str, db: Database
) -> None:
    h = bearer(admin_token) | {"Idempotency-Key": "club-2"}
    await client.post("/api/v1/clubs", json=BODY, headers=h)
    r = await client.post("/api/v1/clubs", json=BODY | {"name": "Other"}, headers=h)
    assert r.status_code == 422
    assert r.json()["code"] == "idempotency_key_reused"
    assert await _clubs(db) == 1


async def test_keys_are_scoped_to_the_credential(
    client: AsyncClient, admin_token: str, db: Database
) -> None:
    from tests.fixtures.factories import make_token

    other = await make_token(db, "admin", name="Other Admin")
    await client.post(
        "/api/v1/clubs", json=BODY, headers=bearer(admin_token) | {"Idempotency-Key": "k"}
    )
    r = await client.post(
        "/api/v1/clubs", json=BODY, headers=bearer(other) | {"Idempotency-Key": "k"}
    )
    assert r.status_code == 201
    assert await _clubs(db) == 2


async def test_failed_first_attempt_frees_the_key(
    client: AsyncClient, admin_token: str, db: Database
) -> None:
    h = bearer(admin_token) | {"Idempotency-Key": "club-3"}
    bad = await client.post("/api/v1/clubs", json=BODY | {"currency": "???"}, headers=h)
    assert bad.status_code == 422
    ok = await client.post("/api/v1/clubs", json=BODY | {"currency": "???"}, headers=h)
    assert ok.status_code == 422  # the same bad request is evaluated again, not replayed
    good = await client.post(
        "/api/v1/clubs", json=BODY, headers=bearer(admin_token) | {"Idempotency-Key": "club-3b"}
    )
    assert good.status_code == 201
    async with db.sessionmaker() as s:
        keys = (await s.scalars(select(IdempotencyKey.key))).all()
    assert keys == ["club-3b"]


async def _claim(db: Database, token: str, key: str, age: timedelta, request_hash: str) -> None:
    async with db.session_scope() as s:
        now = utcnow()
        s.add(
            IdempotencyKey(
                owner=hashlib.sha256(f"Bearer {token}".encode()).hexdigest(),
                key=key,
                method="POST",
                path="/api/v1/clubs",
                request_hash=request_hash,
                state="in_flight",
                created_at=now - age,
                expires_at=now + timedelta(hours=24),
            )
        )


RAW = b'{"name":"Riverside","timezone":"Europe/Moscow","currency":"RUB"}'
RAW_HASH = hashlib.sha256(b"\n".join([b"POST", b"/api/v1/clubs", b"", RAW])).hexdigest()


async def test_same_key_while_in_flight_is_409(
    client: AsyncClient, admin_token: str, db: Database
) -> None:
    await _claim(db, admin_token, "busy", timedelta(seconds=1), RAW_HASH)
    r = await client.post(
        "/api/v1/clubs",
        content=RAW,
        headers=bearer(admin_token)
        | {"Idempotency-Key": "busy", "content-type": "application/json"},
    )
    assert r.status_code == 409
    assert r.json()["code"] == "idempotency_in_flight"
    assert r.headers["retry-after"] == "1"
    assert await _clubs(db) == 0


async def test_abandoned_in_flight_key_is_taken_over(
    client: AsyncClient, admin_token: str, db: Database
) -> None:
    await _claim(db, admin_token, "dead", timedelta(hours=1), RAW_HASH)
    r = await client.post(
        "/api/v1/clubs",
        content=RAW,
        headers=bearer(admin_token)
        | {"Idempotency-Key": "dead", "content-type": "application/json"},
    )
    assert r.status_code == 201
    assert await _clubs(db) == 1


async def test_invalid_key_is_422(client: AsyncClient, admin_token: str) -> None:
    r = await client.post(
        "/api/v1/clubs", json=BODY, headers=bearer(admin_token) | {"Idempotency-Key": "a b"}
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_idempotency_key"
