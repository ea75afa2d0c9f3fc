"""Concurrent freezes on one membership are judged one after the other: a real database
with real commits, requests fired at once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
import pytest_asyncio
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.main import create_app, shutdown, startup
from app.models import Freeze, Membership
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member
from tests.memberships.helpers import TODAY, create_plan, sold

pytestmark = pytest.mark.postgres_only

RACERS = 8


@pytest_asyncio.fixture
async def live(settings: Settings, isolated_db: Database) -> AsyncIterator[dict[str, Any]]:
    """An app on its own database, a membership, and one warmed-up token per racer (so
    no request waits on another's token bookkeeping: only the membership lock orders
    them)."""
    app = create_app(settings, db=isolated_db, run_scheduler=False)
    await startup(app)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as c:
            admin = await make_token(isolated_db, "admin")
            club = await make_club(c, admin)
            member = await make_member(isolated_db, club["id"])
            tokens = [
                await make_token(isolated_db, "front_desk", club_ids=[uuid.UUID(club["id"])])
                for _ in range(RACERS)
            ]
            for t in tokens:
                assert (await c.get("/api/v1/plans", headers=bearer(t))).status_code == 200
            yield {"client": c, "admin": admin, "club": club, "member": member, "tokens": tokens}
    finally:
        await shutdown(app)


async def race(
    world: dict[str, Any], membership_id: str, ranges: list[tuple[date, date]]
) -> list[Response]:
    client: AsyncClient = world["client"]
    # Wait for every request even if one blows up, so a failure reports all outcomes.
    results = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/memberships/{membership_id}/freezes",
                json={"start_date": s.isoformat(), "end_date": e.isoformat(), "reason": "race"},
                headers=bearer(token),
            )
            for token, (s, e) in zip(world["tokens"], ranges, strict=True)
        ),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    return [r for r in results if isinstance(r, Response)]


async def stored(db: Database, membership_id: str) -> tuple[int, int]:
    async with db.sessionmaker() as s:
        freezes = await s.scalar(
            select(func.count())
            .select_from(Freeze)
            .where(Freeze.membership_id == uuid.UUID(membership_id))
        )
        m = await s.get(Membership, uuid.UUID(membership_id))
        assert m is not None
        return int(freezes or 0), m.frozen_days


async def test_concurrent_freezes_cannot_both_take_the_last_allowed_freeze(
    live: dict[str, Any], isolated_db: Database
) -> None:
    policy = {"max_freezes": 1, "min_days": 7, "max_days": 30, "max_total_days": 30}
    plan = await create_plan(
        live["client"], live["admin"], live["club"]["id"], freeze_policy=policy
    )
    m = await sold(live["client"], live["admin"], live["member"].id, plan["id"], TODAY)
    # Eight different, non-overlapping weeks: each alone would pass.
    ranges = [
        (date(2026, 4, 1) + timedelta(weeks=i), date(2026, 4, 7) + timedelta(weeks=i))
        for i in range(RACERS)
    ]
    responses = await race(live, m["id"], ranges)
    outcomes = Counter(
        (r.status_code, r.json().get("code") if r.status_code != 201 else None) for r in responses
    )
    assert outcomes == {(201, None): 1, (422, "freeze_limit_reached"): RACERS - 1}
    assert await stored(isolated_db, m["id"]) == (1, 7)


async def test_concurrent_overlapping_freezes_cannot_both_pass(
    live: dict[str, Any], isolated_db: Database
) -> None:
    policy = {"max_freezes": RACERS, "min_days": 7, "max_days": 30, "max_total_days": 240}
    plan = await create_plan(
        live["client"], live["admin"], live["club"]["id"], freeze_policy=policy
    )
    m = await sold(live["client"], live["admin"], live["member"].id, plan["id"], TODAY)
    # Every request wants a range containing 10 April.
    ranges = [(date(2026, 4, 10) - timedelta(days=i), date(2026, 4, 16)) for i in range(RACERS)]
    responses = await race(live, m["id"], ranges)
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 1, 409: RACERS - 1}
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"freeze_overlap"}
    [winner] = [r.json() for r in responses if r.status_code == 201]
    assert await stored(isolated_db, m["id"]) == (1, winner["days"])
