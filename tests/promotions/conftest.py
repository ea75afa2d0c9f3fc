"""A club with a manager, a member and two plans, for promotion and quote tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest_asyncio
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from app.db import Database
from app.models import AuditEntry, Member, Plan, Promotion, PromotionUse
from tests.fixtures.desk import desk
from tests.fixtures.factories import bearer, make_token
from tests.fixtures.ledger import make_member, make_plan


@dataclass
class World:
    client: AsyncClient
    db: Database
    club: dict[str, Any]
    club_id: uuid.UUID
    manager: str
    member: Member
    plan: Plan
    other_plan: Plan

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.manager)

    def promotion_body(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "club_id": str(self.club_id),
            "name": "Spring -10%",
            "kind": "both",
            "discount_percent": 10,
            "valid_from": "2026-03-01",
            "valid_until": "2026-03-31",
        }
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not None}

    async def create_promotion(self, **overrides: Any) -> dict[str, Any]:
        r = await self.post_promotion(**overrides)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def post_promotion(self, **overrides: Any) -> Response:
        return await self.client.post(
            "/api/v1/promotions", json=self.promotion_body(**overrides), headers=self.headers
        )

    async def quote(self, **body: Any) -> Response:
        body.setdefault("member_id", str(self.member.id))
        body.setdefault("plan_id", str(self.plan.id))
        return await self.client.post("/api/v1/quotes", json=body, headers=self.headers)

    async def count(self, model: type[Any]) -> int:
        async with self.db.sessionmaker() as s:
            return int(await s.scalar(select(func.count()).select_from(model)) or 0)

    async def counts(self) -> tuple[int, int, int]:
        return (
            await self.count(Promotion),
            await self.count(PromotionUse),
            await self.count(AuditEntry),
        )


@pytest_asyncio.fixture
async def world(client: AsyncClient, db: Database, club: dict[str, Any]) -> World:
    club_id = uuid.UUID(club["id"])
    manager = await make_token(db, "manager", club_ids=[club_id], name="Mona Manager")
    member = await make_member(db, club_id)
    plan = await make_plan(db, club_id, name="Year", price=3_650_000, duration_months=12)
    other = await make_plan(db, club_id, name="Month", price=400_000, duration_months=1)
    return World(client, db, club, club_id, manager, member, plan, other)


MARCH_10 = date(2026, 3, 10)


__all__ = ["World", "desk", "world"]
