"""Pooled connections are pinged before use once they have sat idle (app/db.py): one the
server dropped while it was idle is replaced without the request noticing; one dropped
moments after its last use fails once, as a disconnect, and the pool recovers."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

import app.db
from app.db import Database, create_engine

pytestmark = pytest.mark.postgres_only


async def _kill(db: Database, pid: int) -> None:
    async with db.engine.connect() as c:
        await c.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def test_a_connection_dropped_while_idle_is_replaced_before_use(
    isolated_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.db, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = create_engine(isolated_db.engine.url.render_as_string(hide_password=False))
    try:
        async with engine.connect() as c:
            pid = await c.scalar(text("SELECT pg_backend_pid()"))
        await _kill(isolated_db, pid)
        async with engine.connect() as c:
            assert await c.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await engine.dispose()


async def test_a_connection_dropped_just_after_use_fails_once_then_the_pool_recovers(
    isolated_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    engine = create_engine(isolated_db.engine.url.render_as_string(hide_password=False))
    try:
        async with engine.connect() as c:
            pid = await c.scalar(text("SELECT pg_backend_pid()"))
        await _kill(isolated_db, pid)
        with pytest.raises(DBAPIError) as failed:
            async with engine.connect() as c:
                await c.scalar(text("SELECT 1"))
        assert failed.value.connection_invalidated  # -> 503 service_unavailable
        async with engine.connect() as c:
            assert await c.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await engine.dispose()
