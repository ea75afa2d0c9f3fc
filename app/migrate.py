"""Alembic from code: used by `club-renewal migrate`, `serve`, /readyz and the tests."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import app

# One fixed key: every replica that starts at once waits here instead of racing.
MIGRATION_LOCK_KEY = 7_316_402_118


def migrations_dir() -> Path:
    pkg = Path(app.__file__).resolve().parent
    for candidate in (pkg / "_migrations", pkg.parent / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise RuntimeError("migrations directory not found")


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def _upgrade(connection: Connection, cfg: Config, target: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, target)


def _downgrade(connection: Connection, cfg: Config, target: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, target)


async def upgrade(engine: AsyncEngine, target: str = "head") -> None:
    """Upgrade in one transaction; on PostgreSQL under an advisory lock."""
    cfg = alembic_config()
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, cfg, target)


async def downgrade(engine: AsyncEngine, target: str = "base") -> None:
    cfg = alembic_config()
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade, cfg, target)


async def revision_in_session(session: AsyncSession) -> str | None:
    conn = await session.connection()
    return await conn.run_sync(_current)


async def is_at_head(engine: AsyncEngine) -> bool:
    return await current_revision(engine) == head_revision()
