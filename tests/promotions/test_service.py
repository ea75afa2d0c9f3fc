"""Usage limits hold under concurrent sales: counted in the database under a row lock."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from app.db import Database
from app.models import Club, Member, Membership, Plan, Promotion
from app.promotions.pricing import PromotionNotApplicable, SaleKind
from app.promotions.service import promotion_service
from tests.fixtures.ledger import make_member, make_plan

DAY = date(2026, 3, 10)
SALES = 6


async def _world(db: Database, **promotion: Any) -> tuple[Plan, Promotion]:
    async with db.session_scope() as s:
        club = Club(
            name="Concurrent",
            timezone="Europe/Moscow",
            currency="RUB",
            opening_hours={},
            quiet_hours_start=time(9),
            quiet_hours_end=time(21),
            contact_policy={},
            meeting_settings={},
        )
        s.add(club)
    plan = await make_plan(db, club.id, price=100_000, duration_days=30, duration_months=None)
    values: dict[str, Any] = {
        "club_id": club.id,
        "name": "Last one",
        "kind": "both",
        "discount_percent": 50,
        "plan_ids": [],
        "valid_from": DAY,
        "valid_until": DAY,
    }
    values.update(promotion)
    async with db.session_scope() as s:
        promo = Promotion(**values)
        s.add(promo)
    return plan, promo


async def _sell(
    db: Database, member: Member, plan: Plan, start: asyncio.Event, named: uuid.UUID | None
) -> uuid.UUID | None:
    """One sale in its own transaction; returns the promotion it got."""
    await start.wait()
    async with db.session_scope() as s:
        priced = await promotion_service.price_sale(
            s,
            member=member,
            plan=plan,
            start_date=DAY,
            on_date=DAY,
            kind=SaleKind.PURCHASE,
            promotion_id=named,
        )
        ms = Membership(
            club_id=member.club_id,
            member_id=member.id,
            plan_id=plan.id,
            start_date=DAY,
            base_end_date=DAY,
            end_date=DAY,
            list_price=priced.list_price,
            price_paid=priced.final_price,
            currency="RUB",
            source="new",
            promotion_id=priced.chosen.promotion.id if priced.chosen else None,
        )
        s.add(ms)
        await s.flush()
        await promotion_service.record_use(
            s, priced, member_id=member.id, membership_id=ms.id, used_at=datetime.now(UTC)
        )
        return priced.chosen.promotion.id if priced.chosen else None


async def _race(
    db: Database, members: list[Member], plan: Plan, named: uuid.UUID | None
) -> list[Any]:
    start = asyncio.Event()
    tasks = [asyncio.create_task(_sell(db, m, plan, start, named)) for m in members]
    await asyncio.sleep(0.05)
    start.set()
    return await asyncio.gather(*tasks, return_exceptions=True)


async def _uses(db: Database, promo: Promotion) -> int:
    async with db.sessionmaker() as s:
        return (await promotion_service.view(s, promo)).uses


@pytest.mark.postgres_only
class TestConcurrentUses:
    async def test_the_last_use_goes_to_exactly_one_named_sale(self, isolated_db: Database) -> None:
        plan, promo = await _world(isolated_db, max_uses=1)
        members = [await make_member(isolated_db, plan.club_id) for _ in range(SALES)]  # type: ignore[arg-type]
        results = await _race(isolated_db, members, plan, promo.id)
        won = [r for r in results if r == promo.id]
        refused = [r for r in results if isinstance(r, PromotionNotApplicable)]
        assert len(won) == 1
        assert len(refused) == SALES - 1
        assert all(r.extra["reason"] == "used_up" for r in refused)
        assert await _uses(isolated_db, promo) == 1

    async def test_best_offer_falls_back_when_the_last_use_was_taken(
        self, isolated_db: Database
    ) -> None:
        plan, promo = await _world(isolated_db, max_uses=2)
        members = [await make_member(isolated_db, plan.club_id) for _ in range(SALES)]  # type: ignore[arg-type]
        results = await _race(isolated_db, members, plan, None)
        assert not [r for r in results if isinstance(r, BaseException)]
        assert sorted(results, key=str) == sorted([promo.id] * 2 + [None] * (SALES - 2), key=str)
        assert await _uses(isolated_db, promo) == 2

    async def test_per_member_limit_holds_for_one_member_at_once(
        self, isolated_db: Database
    ) -> None:
        plan, promo = await _world(isolated_db, max_uses_per_member=1)
        member = await make_member(isolated_db, plan.club_id)  # type: ignore[arg-type]
        results = await _race(isolated_db, [member] * 4, plan, promo.id)
        assert len([r for r in results if r == promo.id]) == 1
        refused = [r for r in results if isinstance(r, PromotionNotApplicable)]
        assert [r.extra["reason"] for r in refused] == ["member_limit_reached"] * 3
        assert await _uses(isolated_db, promo) == 1
