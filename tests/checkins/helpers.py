"""Shared helpers for check-in tests: the fixed clock, fixture files, row counts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.models import Checkin, Event
from tests.checkins.conftest import World
from tests.fixtures.factories import bearer

NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)  # 09:00 in Moscow, a Tuesday
DATA = Path(__file__).parent / "data"
MEDIA = {"csv": "text/csv", "ndjson": "application/x-ndjson", "json": "application/json"}


def fixture_text(world: World, fmt: str) -> str:
    return Template((DATA / f"checkins.{fmt}").read_text()).substitute(
        club=world.club_id,
        other_club=world.other_club_id,
        alice=world.alice.id,
        bob=world.bob.id,
        carol=world.carol.id,
        stranger=world.stranger.id,
        nobody=uuid.UUID(int=42),
        alice_card=world.alice.card_number,
        bob_card=world.bob.card_number,
    )


async def post_batch(
    client: AsyncClient, token: str, fmt: str, body: str | bytes, **headers: str
) -> Response:
    return await client.post(
        "/api/v1/checkins/batch",
        content=body.encode() if isinstance(body, str) else body,
        headers={**bearer(token), "Content-Type": MEDIA[fmt], **headers},
    )


async def post_checkin(client: AsyncClient, token: str, **body: Any) -> Response:
    payload = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in body.items()}
    return await client.post("/api/v1/checkins", json=payload, headers=bearer(token))


async def count_checkins(db: Database, **where: Any) -> int:
    stmt = select(func.count()).select_from(Checkin)
    for name, value in where.items():
        stmt = stmt.where(getattr(Checkin, name) == value)
    async with db.sessionmaker() as s:
        return int(await s.scalar(stmt) or 0)


async def checkin_events(db: Database) -> list[dict[str, Any]]:
    async with db.sessionmaker() as s:
        rows = await s.scalars(
            select(Event).where(Event.type == "checkin.recorded").order_by(Event.id)
        )
        return [dict(e.data) for e in rows]


async def stored_rows(db: Database, club_id: uuid.UUID) -> list[tuple[Any, ...]]:
    """Every stored check-in of a club, without generated columns, in a stable order."""
    stmt = (
        select(
            Checkin.member_id,
            Checkin.checked_in_at,
            Checkin.source,
            Checkin.device_id,
            Checkin.device_event_id,
        )
        .where(Checkin.club_id == club_id)
        .order_by(Checkin.checked_in_at, Checkin.device_id, Checkin.device_event_id)
    )
    async with db.sessionmaker() as s:
        return [tuple(r) for r in (await s.execute(stmt)).all()]


@asynccontextmanager
async def rolled_back(db: Database) -> AsyncIterator[AsyncSession]:
    """Whatever happens inside (in any session of the test) is undone on exit."""
    async with db.sessionmaker() as s:
        savepoint = await s.begin_nested()
        await s.connection()  # emit the SAVEPOINT now, not at the first statement
        try:
            yield s
        finally:
            await savepoint.rollback()
