"""Engine, sessions, and the transaction boundaries of requests and jobs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.config import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy (the driver's implicit BEGIN breaks
    # SAVEPOINT and transactional DDL), then set the pragmas every connection needs.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    _wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _wal(cursor: Any) -> None:
    """Switch the database to WAL once (it is persistent). Switching needs the database
    to itself, and SQLite answers "database is locked" at once, without waiting, while
    another connection writes - e.g. a second replica migrating a new database - so the
    switch is retried for a while; a database already in WAL is left alone."""
    cursor.execute("PRAGMA journal_mode")
    row = cursor.fetchone()
    if row is not None and str(row[0]).lower() == "wal":
        return
    deadline = time.monotonic() + 30
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # the driver's OperationalError, through the adapter
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front: SQLite serialises writers anyway, and a
    # deferred transaction that upgrades to a write fails at once instead of waiting.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# A pooled connection that sat idle at least this long is pinged before it is handed out
# (SQLAlchemy's pre-ping, which asyncpg's adapter does in three round trips). One that
# was returned moments ago is not: under load every connection is reused within
# milliseconds, and pinging each checkout cost a sixth of a check-in's server time. A
# connection that died in that short gap (a server or network failure that started
# then) fails its statement with 503 `service_unavailable` like any connection that
# dies mid-request, and that disconnect invalidates the whole pool, so the next
# checkouts reconnect.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_if_idle(engine: AsyncEngine) -> None:
    dialect = engine.sync_engine.dialect

    def on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = None  # fresh: no ping needed (nor does pre-ping)

    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, dbapi_connection, None):
                # The pool's own pre-ping failure path: invalidate every connection
                # older than now and hand out a fresh one.
                raise exc.InvalidatePoolError() from err
            raise

    event.listen(engine.sync_engine, "connect", on_connect)
    event.listen(engine.sync_engine, "checkin", on_checkin)
    event.listen(engine.sync_engine, "checkout", on_checkout)


def create_engine(url: str, *, pool_size: int = 20, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
    )
    _ping_if_idle(engine)
    return engine


def make_sessionmaker(bind: AsyncEngine | AsyncConnection) -> async_sessionmaker[AsyncSession]:
    if isinstance(bind, AsyncConnection):
        # Tests: everything joins the outer transaction; commits become savepoints.
        return async_sessionmaker(
            bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
    return async_sessionmaker(bind=bind, expire_on_commit=False)


@dataclass
class Database:
    """What the app and the jobs share: the engine and the session factory."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        engine = create_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            echo=settings.database_echo,
        )
        return cls(engine=engine, sessionmaker=make_sessionmaker(engine))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session_scope(self) -> AsyncIterator[AsyncSession]:
        """A unit of work for jobs and the CLI: commit on success, roll back on error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
