"""Helpers for plan, membership and freeze tests: API shortcuts and a database snapshot
to prove that a refused request changed nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import func, select

from app.db import Database
from app.models import AuditEntry, Event, Freeze, Membership, Plan
from tests.fixtures.factories import bearer

# "Now" for most tests: 2026-03-10 09:00 in Moscow (the default club's zone).
NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)

PLAN_BODY: dict[str, Any] = {
    "name": "Standard 12 months",
    "duration_months": 12,
    "price": 3_500_000,
    "freeze_policy": {
        "max_freezes": 2,
        "min_days": 7,
        "max_days": 30,
        "max_total_days": 45,
        "fee": 0,
    },
}


async def create_plan(
    client: AsyncClient, token: str, club_id: object | None, **overrides: Any
) -> dict[str, Any]:
    body = {**PLAN_BODY, "club_id": None if club_id is None else str(club_id)}
    body.update(overrides)
    r = await client.post("/api/v1/plans", json=body, headers=bearer(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def sell(
    client: AsyncClient,
    token: str,
    member_id: object,
    plan_id: object,
    start: date | str,
    **extra: Any,
) -> Response:
    body = {
        "member_id": str(member_id),
        "plan_id": str(plan_id),
        "start_date": start if isinstance(start, str) else start.isoformat(),
        **extra,
    }
    return await client.post("/api/v1/memberships", json=body, headers=bearer(token))


async def sold(
    client: AsyncClient, token: str, member_id: object, plan_id: object, start: date, **extra: Any
) -> dict[str, Any]:
    r = await sell(client, token, member_id, plan_id, start, **extra)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def freeze_membership(
    client: AsyncClient, token: str, membership_id: object, start: date, end: date, **extra: Any
) -> Response:
    body = {"start_date": start.isoformat(), "end_date": end.isoformat(), "reason": "travel"}
    body.update(extra)
    return await client.post(
        f"/api/v1/memberships/{membership_id}/freezes", json=body, headers=bearer(token)
    )


async def snapshot(db: Database) -> dict[str, Any]:
    """Row counts and the mutable state of the ledger."""
    async with db.sessionmaker() as s:
        counts = {
            model.__tablename__: await s.scalar(select(func.count()).select_from(model))
            for model in (Plan, Membership, Freeze, Event, AuditEntry)
        }
        memberships = (
            await s.execute(
                select(
                    Membership.id,
                    Membership.end_date,
                    Membership.frozen_days,
                    Membership.bonus_days,
                    Membership.price_paid,
                    Membership.cancelled_at,
                    Membership.special_conditions,
                    Membership.version,
                ).order_by(Membership.id)
            )
        ).all()
        freezes = (
            await s.execute(
                select(Freeze.id, Freeze.end_date, Freeze.cancelled_at, Freeze.version).order_by(
                    Freeze.id
                )
            )
        ).all()
        plans = (
            await s.execute(select(Plan.id, Plan.name, Plan.price, Plan.active).order_by(Plan.id))
        ).all()
    return {"counts": counts, "memberships": memberships, "freezes": freezes, "plans": plans}


async def events(db: Database, type_: str | None = None) -> list[Event]:
    async with db.sessionmaker() as s:
        stmt = select(Event).order_by(Event.id)
        if type_ is not None:
            stmt = stmt.where(Event.type == type_)
        return list((await s.scalars(stmt)).all())


async def audit(db: Database, entity_id: object, action: str | None = None) -> list[AuditEntry]:
    async with db.sessionmaker() as s:
        stmt = select(AuditEntry).where(AuditEntry.entity_id == str(entity_id))
        if action is not None:
            stmt = stmt.where(AuditEntry.action == action)
        return list((await s.scalars(stmt.order_by(AuditEntry.at, AuditEntry.id))).all())


def problem(r: Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = dict(r.json())
    assert body["code"] == code, body
    return body


def uid(value: object) -> uuid.UUID:
    return uuid.UUID(str(value))
