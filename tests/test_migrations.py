"""Migrations: an empty database upgrades to head and downgrades to base, and the
models agree with the migrations (the same check as `alembic check`)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from app.db import create_engine
from app.migrate import current_revision, downgrade, head_revision, upgrade
from app.models import Base
from tests.fixtures.databases import fresh_database_url


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


def _diff(conn: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


async def test_upgrade_to_head_then_downgrade_to_base() -> None:
    async with fresh_database_url("mig") as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            assert await current_revision(engine) == head_revision()
            async with engine.connect() as conn:
                assert await conn.run_sync(_tables) == set(Base.metadata.tables)
                assert await conn.run_sync(_diff) == []
            await downgrade(engine, "base")
            assert await current_revision(engine) is None
            async with engine.connect() as conn:
                assert await conn.run_sync(_tables) == set()
            await upgrade(engine)  # and back up again: downgrades really undo
            assert await current_revision(engine) == head_revision()
        finally:
            await engine.dispose()


async def test_upgrade_is_idempotent() -> None:
    async with fresh_database_url("mig2") as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            await upgrade(engine)
            assert await current_revision(engine) == head_revision()
        finally:
            await engine.dispose()


async def test_replicas_starting_together_do_not_race(dialect: str) -> None:
    """Several processes migrating one empty database at once all succeed (advisory lock
    on PostgreSQL; SQLite serialises writers)."""
    import asyncio

    async with fresh_database_url("race") as url:
        engines = [create_engine(url) for _ in range(3)]
        try:
            await asyncio.gather(*(upgrade(e) for e in engines))
            assert await current_revision(engines[0]) == head_revision()
        finally:
            for e in engines:
                await e.dispose()
