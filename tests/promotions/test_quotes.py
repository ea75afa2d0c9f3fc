"""Quotes: the crossed-out price, every promotion considered, and nothing written."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from app.core.clock import freeze
from app.models import IdempotencyKey, Membership, PromotionUse
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member, make_membership, make_plan
from tests.promotions.conftest import World

API_FIELDS = {
    "list_price",
    "discount",
    "final_price",
    "currency",
    "promotion",
    "considered",
    "renewal_beats_purchase",
}


async def use_up(world: World, promotion_id: str, times: int) -> None:
    """Record `times` sales on the promotion by other members."""
    for _ in range(times):
        other = await make_member(world.db, world.club_id)
        ms = await make_membership(world.db, other, world.plan, start_date=date(2026, 1, 1))
        async with world.db.session_scope() as s:
            s.add(
                PromotionUse(
                    club_id=world.club_id,
                    promotion_id=uuid.UUID(promotion_id),
                    member_id=other.id,
                    membership_id=ms.id,
                    used_at=datetime(2026, 3, 1, tzinfo=UTC),
                )
            )


class TestQuoteShape:
    async def test_without_promotions_the_list_price_stands(self, world: World) -> None:
        r = await world.quote(on_date="2026-03-10")
        assert r.status_code == 200
        body = r.json()
        assert set(body) >= API_FIELDS
        assert body["list_price"] == body["final_price"] == 3_650_000
        assert body["discount"] == 0
        assert body["currency"] == "RUB"
        assert body["promotion"] is None
        assert body["considered"] == []
        assert body["renewal_beats_purchase"] is False
        assert body["kind"] == "purchase"

    async def test_best_promotion_is_chosen_and_every_one_is_listed(self, world: World) -> None:
        ten = await world.create_promotion(name="Ten", discount_percent=10)
        fixed = await world.create_promotion(
            name="Fixed", discount_percent=None, discount_amount=100_000
        )
        month_only = await world.create_promotion(
            name="Month only", discount_percent=50, plan_ids=[str(world.other_plan.id)]
        )
        r = await world.quote(on_date="2026-03-10")
        body = r.json()
        assert body["list_price"] == 3_650_000
        assert body["discount"] == 365_000
        assert body["final_price"] == 3_285_000
        assert body["promotion"] == {
            "id": ten["id"],
            "name": "Ten",
            "description": None,
            "kind": "both",
            "valid_until": "2026-03-31",
            "days_left": 21,
        }
        considered = {c["promotion_id"]: c for c in body["considered"]}
        assert set(considered) == {ten["id"], fixed["id"], month_only["id"]}
        assert {"promotion_id", "discount", "eligible", "reason"} <= set(considered[ten["id"]])
        assert considered[fixed["id"]]["discount"] == 100_000
        assert considered[fixed["id"]]["eligible"] is True
        assert considered[fixed["id"]]["reason"] is None
        assert considered[month_only["id"]]["eligible"] is False
        assert considered[month_only["id"]]["reason"] == "plan_not_eligible"
        assert considered[month_only["id"]]["discount"] == 1_825_000

    async def test_bonus_days_show_with_an_unchanged_price(self, world: World) -> None:
        await world.create_promotion(discount_percent=None, bonus_days=30)
        body = (await world.quote(on_date="2026-03-10")).json()
        assert (body["discount"], body["final_price"], body["bonus_days"]) == (0, 3_650_000, 30)
        assert body["promotion"] is not None

    async def test_days_left_is_zero_on_the_last_day(self, world: World) -> None:
        await world.create_promotion()
        body = (await world.quote(on_date="2026-03-31")).json()
        assert body["promotion"]["days_left"] == 0

    async def test_date_defaults_to_today_in_the_club(self, world: World) -> None:
        await world.create_promotion()
        # 23:30 on 31 March UTC is already 1 April in Moscow: the promotion has ended.
        with freeze(datetime(2026, 3, 31, 23, 30, tzinfo=UTC)):
            body = (await world.quote()).json()
        assert body["on_date"] == "2026-04-01"
        assert body["promotion"] is None
        assert body["considered"][0]["reason"] == "expired"

    async def test_a_quote_writes_nothing(self, world: World) -> None:
        p = await world.create_promotion(max_uses=1)
        before = await world.counts()
        r = await world.client.post(
            "/api/v1/quotes",
            json={"member_id": str(world.member.id), "plan_id": str(world.plan.id)},
            headers=world.headers,
        )
        assert r.status_code == 200
        assert await world.counts() == before
        async with world.db.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(Membership)) == 0
            assert await s.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
        got = await world.client.get(f"/api/v1/promotions/{p['id']}", headers=world.headers)
        assert got.json()["uses"] == 0


class TestNamedPromotion:
    async def test_named_promotion_is_used_over_a_better_one(self, world: World) -> None:
        small = await world.create_promotion(
            name="Small", discount_percent=None, discount_amount=1_000
        )
        await world.create_promotion(name="Big", discount_percent=20)
        body = (await world.quote(on_date="2026-03-10", promotion_id=small["id"])).json()
        assert body["promotion"]["id"] == small["id"]
        assert body["discount"] == 1_000

    async def test_ended_yesterday_in_the_club_time_zone_is_expired(self, world: World) -> None:
        p = await world.create_promotion(valid_until="2026-03-10")
        # 22:30 UTC on 10 March is 01:30 on 11 March in Moscow: it ended yesterday there,
        # although the UTC date is still the 10th.
        before = await world.counts()
        with freeze(datetime(2026, 3, 10, 22, 30, tzinfo=UTC)):
            r = await world.quote(promotion_id=p["id"])
        assert r.status_code == 422
        assert r.json()["code"] == "promotion_expired"
        assert r.json()["reason"] == "expired"
        assert await world.counts() == before

    async def test_still_running_late_on_its_last_local_day(self, world: World) -> None:
        p = await world.create_promotion(valid_until="2026-03-10")
        with freeze(datetime(2026, 3, 10, 20, 30, tzinfo=UTC)):  # 23:30 in Moscow
            r = await world.quote(promotion_id=p["id"])
        assert r.status_code == 200
        assert r.json()["promotion"]["days_left"] == 0

    async def test_starting_tomorrow_is_not_eligible(self, world: World) -> None:
        p = await world.create_promotion(valid_from="2026-03-11")
        r = await world.quote(on_date="2026-03-10", promotion_id=p["id"])
        assert r.status_code == 422
        assert r.json()["code"] == "promotion_not_eligible"
        assert r.json()["reason"] == "not_started"

    async def test_for_another_plan_is_not_eligible(self, world: World) -> None:
        p = await world.create_promotion(plan_ids=[str(world.other_plan.id)])
        r = await world.quote(on_date="2026-03-10", promotion_id=p["id"])
        assert r.status_code == 422
        assert r.json()["code"] == "promotion_not_eligible"
        assert r.json()["reason"] == "plan_not_eligible"

    async def test_for_another_kind_of_sale_is_not_eligible(self, world: World) -> None:
        p = await world.create_promotion(kind="renewal")
        r = await world.quote(on_date="2026-03-10", promotion_id=p["id"])
        assert r.status_code == 422
        assert r.json()["code"] == "promotion_not_eligible"
        assert r.json()["reason"] == "wrong_kind"

    async def test_used_up_is_not_eligible(self, world: World) -> None:
        p = await world.create_promotion(max_uses=2)
        await use_up(world, p["id"], 2)
        before = await world.counts()
        r = await world.quote(on_date="2026-03-10", promotion_id=p["id"])
        assert r.status_code == 422
        assert r.json()["code"] == "promotion_not_eligible"
        assert r.json()["reason"] == "used_up"
        assert await world.counts() == before

    async def test_switched_off_is_not_eligible(self, world: World) -> None:
        p = await world.create_promotion(active=False)
        r = await world.quote(on_date="2026-03-10", promotion_id=p["id"])
        assert r.status_code == 422
        assert r.json()["reason"] == "inactive"

    async def test_unknown_or_another_clubs_promotion_is_404(
        self, world: World, admin_token: str
    ) -> None:
        other = await make_club(world.client, admin_token, name="Other")
        r = await world.client.post(
            "/api/v1/promotions",
            json=world.promotion_body(club_id=other["id"]),
            headers=bearer(admin_token),
        )
        for pid in (r.json()["id"], str(uuid.uuid4())):
            got = await world.quote(on_date="2026-03-10", promotion_id=pid)
            assert got.status_code == 404
            assert got.json()["code"] == "promotion_not_found"


class TestRenewalQuote:
    async def test_member_with_a_membership_is_quoted_a_renewal(self, world: World) -> None:
        ms = await make_membership(
            world.db,
            world.member,
            world.plan,
            start_date=date(2025, 5, 1),
            end_date=date(2026, 4, 30),
        )
        body = (await world.quote(on_date="2026-03-10")).json()
        assert body["kind"] == "renewal"
        assert body["renews_membership_id"] == str(ms.id)

    async def test_renewal_beats_purchase_when_its_offer_is_worth_more(self, world: World) -> None:
        await make_membership(
            world.db,
            world.member,
            world.plan,
            start_date=date(2025, 5, 1),
            end_date=date(2026, 4, 30),
        )
        renewal = await world.create_promotion(
            name="Renew early", kind="renewal", discount_percent=20, early_renewal_days=14
        )
        await world.create_promotion(name="Newcomers", kind="purchase", discount_percent=10)
        body = (await world.quote(on_date="2026-03-10")).json()
        assert body["promotion"]["id"] == renewal["id"]
        assert body["final_price"] == 2_920_000
        assert body["renewal_beats_purchase"] is True
        assert body["best_purchase"]["final_price"] == 3_285_000

    async def test_too_late_for_early_renewal_and_purchase_is_better(self, world: World) -> None:
        await make_membership(
            world.db,
            world.member,
            world.plan,
            start_date=date(2025, 3, 20),
            end_date=date(2026, 3, 19),
        )
        early = await world.create_promotion(
            name="Renew early", kind="renewal", discount_percent=20, early_renewal_days=14
        )
        await world.create_promotion(name="Newcomers", kind="purchase", discount_percent=10)
        body = (await world.quote(on_date="2026-03-10")).json()
        considered = {c["promotion_id"]: c for c in body["considered"]}
        assert considered[early["id"]]["reason"] == "too_late_for_early_renewal"
        assert body["promotion"] is None
        assert body["renewal_beats_purchase"] is False

    async def test_a_member_with_nothing_to_renew_gets_no_renewal_comparison(
        self, world: World
    ) -> None:
        await world.create_promotion(kind="renewal", discount_percent=50)
        body = (await world.quote(on_date="2026-03-10")).json()
        assert body["kind"] == "purchase"
        assert body["renewal_beats_purchase"] is False
        assert body["best_renewal"] is None

    async def test_cancelled_membership_cannot_be_quoted_for_renewal(self, world: World) -> None:
        ms = await make_membership(
            world.db,
            world.member,
            world.plan,
            start_date=date(2025, 5, 1),
            cancelled_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        r = await world.quote(on_date="2026-03-10", membership_id=str(ms.id))
        assert r.status_code == 422
        assert r.json()["code"] == "membership_not_active"
        body = (await world.quote(on_date="2026-03-10")).json()
        assert body["kind"] == "purchase"


class TestQuoteAccess:
    async def test_another_clubs_member_is_404(self, world: World, admin_token: str) -> None:
        other = await make_club(world.client, admin_token, name="Other")
        stranger = await make_member(world.db, other["id"])
        r = await world.quote(member_id=str(stranger.id))
        assert r.status_code == 404
        assert r.json()["code"] == "member_not_found"

    async def test_another_clubs_plan_is_404(self, world: World, admin_token: str) -> None:
        other = await make_club(world.client, admin_token, name="Other")
        plan = await make_plan(world.db, other["id"])
        r = await world.quote(plan_id=str(plan.id))
        assert r.status_code == 404
        assert r.json()["code"] == "plan_not_found"

    async def test_a_plan_the_club_does_not_sell_is_422_for_a_chain_wide_token(
        self, world: World, admin_token: str
    ) -> None:
        other = await make_club(world.client, admin_token, name="Other")
        plan = await make_plan(world.db, other["id"])
        r = await world.client.post(
            "/api/v1/quotes",
            json={"member_id": str(world.member.id), "plan_id": str(plan.id)},
            headers=bearer(admin_token),
        )
        assert r.status_code == 422
        assert r.json()["code"] == "plan_not_available"

    async def test_needs_promotions_read(self, world: World) -> None:
        trainer = await make_token(world.db, "trainer", club_ids=[world.club_id])
        r = await world.client.post(
            "/api/v1/quotes",
            json={"member_id": str(world.member.id), "plan_id": str(world.plan.id)},
            headers=bearer(trainer),
        )
        assert r.status_code == 403
