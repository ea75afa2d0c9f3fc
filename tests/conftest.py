"""Harness: the real migrations on the real database (SQLite or PostgreSQL), one
rolled-back transaction per test, and an httpx client over ASGITransport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db import Database, create_engine, make_sessionmaker
from app.main import create_app, shutdown, startup
from app.migrate import upgrade
from tests.fixtures.databases import DIALECT, fresh_database_url
from tests.fixtures.factories import make_club, make_token


def pytest_report_header() -> str:
    return f"club-renewal test database: {DIALECT}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if DIALECT == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (runs in CI's PostgreSQL pass)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def dialect() -> str:
    return DIALECT


@pytest_asyncio.fixture(scope="session")
async def engine() -> AsyncIterator[AsyncEngine]:
    async with fresh_database_url("main") as url:
        eng = create_engine(url, pool_size=5)
        await upgrade(eng)
        try:
            yield eng
        finally:
            await eng.dispose()


@pytest.fixture
def settings(engine: AsyncEngine) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        environment="test",
        scheduler="off",
        secret_key="test-signing-key",  # type: ignore[arg-type]
        log_level="WARNING",
    )


@pytest_asyncio.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[Database]:
    """Every session of the test joins one outer transaction that is rolled back."""
    async with engine.connect() as conn:
        trans = await conn.begin()
        try:
            yield Database(engine=engine, sessionmaker=make_sessionmaker(conn))
        finally:
            if trans.is_active:
                await trans.rollback()


@pytest_asyncio.fixture
async def app(settings: Settings, db: Database) -> AsyncIterator[object]:
    application = create_app(settings, db=db, run_scheduler=False)
    await startup(application)
    try:
        yield application
    finally:
        await shutdown(application)


@pytest_asyncio.fixture
async def client(app: object) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app)  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest_asyncio.fixture
async def admin_token(db: Database) -> str:
    return await make_token(db, "admin", name="Ada Admin")


@pytest_asyncio.fixture
async def club(client: AsyncClient, admin_token: str) -> dict[str, object]:
    return await make_club(client, admin_token)


@pytest_asyncio.fixture
async def isolated_db(settings: Settings) -> AsyncIterator[Database]:
    """A separate, migrated database whose commits are real: for concurrency tests."""
    async with fresh_database_url("iso") as url:
        database = Database.from_settings(settings.model_copy(update={"database_url": url}))
        await upgrade(database.engine)
        try:
            yield database
        finally:
            await database.dispose()
