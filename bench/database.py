"""Scratch PostgreSQL databases for the benchmark: create, migrate, load fast, drop."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import URL, make_url

from bench import generator as gen

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def server_url() -> URL:
    """`CLUB_RENEWAL_BENCH_DATABASE_URL`, else the usual local address. Only its server
    is used: every run creates its own database there and drops it afterwards."""
    url = make_url(os.environ.get("CLUB_RENEWAL_BENCH_DATABASE_URL", DEFAULT_URL))
    if url.get_backend_name() != "postgresql":
        raise SystemExit("the benchmark needs PostgreSQL (COPY, the production database)")
    if url.host not in (None, "127.0.0.1", "localhost", "::1"):
        raise SystemExit("the benchmark only runs against a local PostgreSQL (127.0.0.1)")
    return url.set(drivername="postgresql+asyncpg")


def dsn(url: URL) -> str:
    """The URL in asyncpg's spelling."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def scratch_database(base: URL, label: str) -> AsyncIterator[URL]:
    name = f"crbench_{label}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(dsn(base))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield base.set(database=name)
    finally:
        admin = await asyncpg.connect(dsn(base))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def migrate(url: URL) -> None:
    """The app's own migrations (the schema under test is the product's)."""
    from app.db import create_engine
    from app.migrate import upgrade

    engine = create_engine(url.render_as_string(hide_password=False))
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@dataclass
class Loaded:
    checkins: int
    memberships: int
    seconds: float
    admin_token: str
    turnstile_token: str


def _token(conn_rows: list[tuple[object, ...]], raw: str, **fields: object) -> None:
    from app.auth.service import hash_secret

    conn_rows.append(
        (
            uuid.uuid4(),
            fields["name"],
            fields["kind"],
            fields.get("staff_id"),
            fields.get("club_id"),
            fields.get("scopes"),
            hash_secret(raw),
            raw[:12],
            datetime.now(UTC),
        )
    )


async def load(url: URL, chain: gen.Chain) -> Loaded:
    """Every table through COPY; check-ins generated in a thread while the previous chunk
    is being copied, so generation (Python) and COPY (PostgreSQL) use both cores."""
    import json

    from app.auth.service import TOKEN_PREFIX

    started = time.perf_counter()
    conn = await asyncpg.connect(dsn(url))
    try:
        await conn.copy_records_to_table(
            "clubs", records=gen.club_rows(chain), columns=gen.CLUB_COLUMNS
        )
        await conn.copy_records_to_table(
            "plans", records=gen.plan_rows(chain), columns=gen.PLAN_COLUMNS
        )
        await conn.copy_records_to_table(
            "members", records=gen.member_rows(chain), columns=gen.MEMBER_COLUMNS
        )
        memberships = gen.membership_rows(chain)
        await conn.copy_records_to_table(
            "memberships", records=memberships, columns=gen.MEMBERSHIP_COLUMNS
        )
        await conn.copy_records_to_table(
            "freezes", records=gen.freeze_rows(chain), columns=gen.FREEZE_COLUMNS
        )
        # A chain-wide admin (staff token) and one club's turnstile (integration token).
        staff_id = uuid.uuid4()
        now = datetime.now(UTC)
        await conn.execute(
            "INSERT INTO staff (id, name, roles, active, created_at, updated_at) "
            "VALUES ($1, 'Bench Admin', $2, true, $3, $3)",
            staff_id,
            json.dumps(["admin"]),
            now,
        )
        admin_raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        turnstile_raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        tokens: list[tuple[object, ...]] = []
        _token(tokens, admin_raw, name="bench admin", kind="staff", staff_id=staff_id)
        _token(
            tokens,
            turnstile_raw,
            name="bench turnstile",
            kind="integration",
            club_id=chain.clubs[0].id,
            scopes=json.dumps(["checkins:write", "checkins:read", "access:check"]),
        )
        await conn.copy_records_to_table(
            "api_tokens",
            records=tokens,
            columns=[
                "id",
                "name",
                "kind",
                "staff_id",
                "club_id",
                "scopes",
                "token_hash",
                "prefix",
                "created_at",
            ],
        )
        rows = await _copy_checkins(conn, chain)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return Loaded(
        checkins=rows,
        memberships=len(memberships),
        seconds=time.perf_counter() - started,
        admin_token=admin_raw,
        turnstile_token=turnstile_raw,
    )


async def _copy_checkins(conn: asyncpg.Connection, chain: gen.Chain) -> int:
    chunks: Iterator[list[gen.CheckinRecord]] = gen.checkins(chain)
    sentinel: list[gen.CheckinRecord] = []
    total = 0
    pending = asyncio.create_task(asyncio.to_thread(next, chunks, sentinel))
    while True:
        chunk = await pending
        if not chunk:
            return total
        pending = asyncio.create_task(asyncio.to_thread(next, chunks, sentinel))
        await conn.copy_records_to_table("checkins", records=chunk, columns=gen.CHECKIN_COLUMNS)
        total += len(chunk)
