"""Outreach tests run at a fixed instant, Tuesday 2026-12-01 10:00 in Moscow (UTC+3, no
DST), in the default club: call hours 09:00-21:00 local, 2 calls per 30 days."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from httpx import AsyncClient, Response
from sqlalchemy import func, select

from app.db import Database
from app.models import AuditEntry, CallAttempt, Event, ServiceCall, Staff
from tests.fixtures.factories import bearer

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=MSK)


def msk(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MSK)


async def post_call(
    client: AsyncClient, token: str, member_id: object, kind: str = "renewal", **extra: Any
) -> Response:
    body: dict[str, Any] = {"member_id": str(member_id), "kind": kind}
    body.update(extra)
    return await client.post("/api/v1/calls", json=body, headers=bearer(token))


async def post_attempt(
    client: AsyncClient, token: str, call_id: object, outcome: str, **extra: Any
) -> Response:
    body: dict[str, Any] = {"outcome": outcome}
    body.update(extra)
    return await client.post(f"/api/v1/calls/{call_id}/attempts", json=body, headers=bearer(token))


async def call_row(db: Database, call_id: object) -> ServiceCall:
    async with db.sessionmaker() as s:
        call = await s.get(ServiceCall, uuid.UUID(str(call_id)))
        assert call is not None
        return call


async def attempts_of(db: Database, call_id: object) -> list[CallAttempt]:
    async with db.sessionmaker() as s:
        rows = await s.scalars(
            select(CallAttempt)
            .where(CallAttempt.call_id == uuid.UUID(str(call_id)))
            .order_by(CallAttempt.attempted_at)
        )
        return list(rows.all())


async def count(db: Database, model: type[Any], *where: Any) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def events(db: Database, type_: str) -> list[Event]:
    async with db.sessionmaker() as s:
        rows = await s.scalars(select(Event).where(Event.type == type_).order_by(Event.id))
        return list(rows.all())


async def audits(db: Database, entity_id: object, action: str) -> list[AuditEntry]:
    async with db.sessionmaker() as s:
        rows = await s.scalars(
            select(AuditEntry).where(
                AuditEntry.entity_id == str(entity_id), AuditEntry.action == action
            )
        )
        return list(rows.all())


async def staff_id(db: Database, name: str) -> uuid.UUID:
    async with db.sessionmaker() as s:
        found = await s.scalar(select(Staff.id).where(Staff.name == name))
        assert found is not None
        return found


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value)
