"""Sales (`POST /memberships`) are priced by the promotions engine and record the use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from app.core.clock import freeze
from app.models import PromotionUse
from tests.fixtures.desk import Desk
from tests.fixtures.factories import make_token
from tests.fixtures.ledger import make_member
from tests.memberships.helpers import NOW, TODAY, problem, sell


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with freeze(NOW):
        yield


async def _sell(desk: Desk, token: str | None = None, **extra: Any) -> Any:
    member = await make_member(desk.db, desk.club_id)
    return await sell(
        desk.client, token or desk.manager, member.id, desk.year["id"], TODAY, **extra
    )


class TestSalePricing:
    async def test_named_promotion_prices_the_sale_and_records_its_use(self, desk: Desk) -> None:
        p = await desk.promotion(kind="purchase", discount_percent=10)
        r = await _sell(desk, promotion_id=p["id"])
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["list_price"], body["price_paid"], body["promotion_id"]) == (
            3_500_000,
            3_150_000,
            p["id"],
        )
        async with desk.db.sessionmaker() as s:
            [use] = (await s.scalars(select(PromotionUse))).all()
        assert str(use.membership_id) == body["id"]
        assert str(use.member_id) == body["member_id"]
        assert use.used_at == NOW

    async def test_best_promotion_applies_when_none_is_named(self, desk: Desk) -> None:
        await desk.promotion(name="Small", kind="purchase", discount_percent=5)
        big = await desk.promotion(
            name="Big", kind="both", discount_percent=None, discount_amount=500_000
        )
        await desk.promotion(name="Renewals", kind="renewal", discount_percent=50)
        body = (await _sell(desk)).json()
        assert (body["promotion_id"], body["price_paid"]) == (big["id"], 3_000_000)

    async def test_bonus_days_extend_the_end_date(self, desk: Desk) -> None:
        p = await desk.promotion(kind="purchase", discount_percent=None, bonus_days=14)
        body = (await _sell(desk, promotion_id=p["id"])).json()
        assert body["base_end_date"] == "2027-03-09"
        assert body["end_date"] == "2027-03-23"
        assert body["bonus_days"] == 14
        assert body["price_paid"] == 3_500_000

    async def test_a_sale_refused_after_pricing_records_no_use(self, desk: Desk) -> None:
        p = await desk.promotion(kind="purchase")
        clerk = await make_token(desk.db, "front_desk", club_ids=[desk.club_id])
        before = await desk.state()
        r = await _sell(desk, token=clerk, promotion_id=p["id"], price_paid=1)
        problem(r, 403, "price_override_not_allowed")
        assert await desk.state() == before

    async def test_expired_promotion_is_refused_and_nothing_is_written(self, desk: Desk) -> None:
        p = await desk.promotion(valid_from="2026-02-01", valid_until="2026-03-09")
        before = await desk.state()
        body = problem(await _sell(desk, promotion_id=p["id"]), 422, "promotion_expired")
        assert body["reason"] == "expired"
        assert await desk.state() == before

    async def test_used_up_promotion_is_refused_and_nothing_is_written(self, desk: Desk) -> None:
        p = await desk.promotion(max_uses=1)
        assert (await _sell(desk, promotion_id=p["id"])).status_code == 201
        before = await desk.state()
        body = problem(await _sell(desk, promotion_id=p["id"]), 422, "promotion_not_eligible")
        assert body["reason"] == "used_up"
        assert await desk.state() == before

    async def test_unknown_promotion_is_404(self, desk: Desk) -> None:
        before = await desk.state()
        r = await _sell(desk, promotion_id="0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a99")
        problem(r, 404, "promotion_not_found")
        assert await desk.state() == before


async def test_promotion_uses_are_part_of_the_members_export(desk: Desk) -> None:
    p = await desk.promotion(name="Spring", kind="purchase")
    r = await sell(
        desk.client, desk.manager, desk.member.id, desk.year["id"], TODAY, promotion_id=p["id"]
    )
    assert r.status_code == 201, r.text
    export = await desk.client.get(f"/api/v1/members/{desk.member.id}/export", headers=desk.headers)
    assert export.status_code == 200, export.text
    [use] = export.json()["sections"]["promotion_uses"]
    assert (use["promotion_name"], use["membership_id"]) == ("Spring", r.json()["id"])
