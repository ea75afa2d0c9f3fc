"""Real concurrency on PostgreSQL: a fresh database, real commits, requests in parallel."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.main import create_app, shutdown, startup
from app.models import Membership, PromotionUse
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member
from tests.memberships.helpers import TODAY, create_plan, sold

pytestmark = pytest.mark.postgres_only


@pytest_asyncio.fixture
async def live(settings: Settings, isolated_db: Database) -> AsyncIterator[dict[str, Any]]:
    app = create_app(settings, db=isolated_db, run_scheduler=False)
    await startup(app)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
            admin = await make_token(isolated_db, "admin", name="Ada Admin")
            club = await make_club(c, admin)
            club_id = uuid.UUID(club["id"])
            manager = await make_token(isolated_db, "manager", club_ids=[club_id])
            plan = await create_plan(c, admin, club_id)
            yield {
                "client": c,
                "db": isolated_db,
                "club_id": club_id,
                "token": manager,
                "plan": plan,
            }
    finally:
        await shutdown(app)


async def _count(db: Database, model: type[Any]) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_two_concurrent_renewals_give_one_201_and_one_409(live: dict[str, Any]) -> None:
    c, db, token = live["client"], live["db"], live["token"]
    member = await make_member(db, live["club_id"])
    old = await sold(c, token, member.id, live["plan"]["id"], TODAY)
    url = f"/api/v1/memberships/{old['id']}/renewals"
    body = {"plan_id": live["plan"]["id"]}
    for attempt in range(3):  # several rounds: the race must never let two through
        if attempt:
            old = await sold(
                c, token, (await make_member(db, live["club_id"])).id, body["plan_id"], TODAY
            )
            url = f"/api/v1/memberships/{old['id']}/renewals"
        rs = await asyncio.gather(
            *(
                c.post(
                    url, json=body, headers=bearer(token) | {"Idempotency-Key": f"k{attempt}-{i}"}
                )
                for i in range(2)
            )
        )
        assert sorted(r.status_code for r in rs) == [201, 409], [r.text for r in rs]
        conflict = next(r for r in rs if r.status_code == 409)
        assert conflict.json()["code"] == "already_renewed"
    async with db.sessionmaker() as s:
        renewals = await s.scalar(
            select(func.count()).select_from(Membership).where(Membership.renews_id.is_not(None))
        )
    assert renewals == 3


async def test_concurrent_sales_never_exceed_a_promotions_limit(live: dict[str, Any]) -> None:
    c, db, token = live["client"], live["db"], live["token"]
    r = await c.post(
        "/api/v1/promotions",
        json={
            "club_id": str(live["club_id"]),
            "name": "First two",
            "kind": "purchase",
            "discount_percent": 20,
            "valid_from": "2000-01-01",
            "valid_until": "2199-12-31",
            "max_uses": 2,
        },
        headers=bearer(token),
    )
    promo = r.json()
    members = [await make_member(db, live["club_id"]) for _ in range(6)]
    today = await c.post(
        "/api/v1/quotes",
        json={"member_id": str(members[0].id), "plan_id": live["plan"]["id"]},
        headers=bearer(token),
    )
    start = today.json()["on_date"]
    rs = await asyncio.gather(
        *(
            c.post(
                "/api/v1/memberships",
                json={
                    "member_id": str(m.id),
                    "plan_id": live["plan"]["id"],
                    "start_date": start,
                    "promotion_id": promo["id"],
                },
                headers=bearer(token),
            )
            for m in members
        )
    )
    statuses = sorted(r.status_code for r in rs)
    assert statuses == [201, 201, 422, 422, 422, 422], [r.text for r in rs]
    assert {r.json()["code"] for r in rs if r.status_code == 422} == {"promotion_not_eligible"}
    assert await _count(db, PromotionUse) == 2
    assert await _count(db, Membership) == 2
