"""The pricing engine, as pure functions: rounding, reasons, and the best-offer rule."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from app.models import Promotion
from app.promotions import pricing
from app.promotions.pricing import Reason, SaleContext, SaleKind, Usage

DAY = date(2026, 3, 10)
PLAN = uuid.UUID("0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a31")


def promo(**overrides: Any) -> Promotion:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "club_id": uuid.uuid4(),
        "name": "Spring",
        "description": None,
        "kind": "both",
        "discount_percent": None,
        "discount_amount": None,
        "bonus_days": None,
        "free_sessions": None,
        "session_value": None,
        "plan_ids": [],
        "valid_from": DAY - timedelta(days=10),
        "valid_until": DAY + timedelta(days=10),
        "early_renewal_days": None,
        "max_uses": None,
        "max_uses_per_member": None,
        "active": True,
    }
    values.update(overrides)
    if not any(
        values[k] is not None
        for k in ("discount_percent", "discount_amount", "bonus_days", "free_sessions")
    ):
        values["discount_percent"] = 10
    return Promotion(**values)


def ctx(**overrides: Any) -> SaleContext:
    values: dict[str, Any] = {
        "plan_id": PLAN,
        "list_price": 100_000,
        "term_days": 365,
        "on_date": DAY,
        "kind": SaleKind.PURCHASE,
        "current_end_date": None,
    }
    values.update(overrides)
    return SaleContext(**values)


class TestRounding:
    @pytest.mark.parametrize(
        ("price", "percent", "expected"),
        [(125, 10, 13), (124, 10, 12), (115, 10, 12), (1, 50, 1), (3, 50, 2), (99, 100, 99)],
    )
    def test_percent_rounds_half_up_to_the_minor_unit(
        self, price: int, percent: int, expected: int
    ) -> None:
        offer = pricing.evaluate(promo(discount_percent=percent), ctx(list_price=price))
        assert offer.discount == expected

    def test_amount_larger_than_price_gives_a_zero_final_price(self) -> None:
        priced = pricing.price([promo(discount_amount=500_000)], ctx(list_price=100_000))
        assert priced.discount == 100_000
        assert priced.final_price == 0

    def test_hundred_percent_is_free_not_negative(self) -> None:
        priced = pricing.price([promo(discount_percent=100)], ctx(list_price=99_999))
        assert priced.final_price == 0

    def test_bonus_days_are_worth_the_daily_price_and_leave_the_price(self) -> None:
        offer = pricing.evaluate(promo(bonus_days=30), ctx(list_price=365_000, term_days=365))
        assert (offer.discount, offer.bonus_days, offer.value) == (0, 30, 30_000)

    def test_free_sessions_are_worth_their_session_value(self) -> None:
        offer = pricing.evaluate(promo(free_sessions=3, session_value=1_500), ctx())
        assert (offer.discount, offer.free_sessions, offer.value) == (0, 3, 4_500)
        assert pricing.evaluate(promo(free_sessions=3), ctx()).value == 0


class TestReasons:
    @pytest.mark.parametrize(
        ("overrides", "context", "reason"),
        [
            ({"valid_until": DAY - timedelta(days=1)}, {}, Reason.EXPIRED),
            ({"valid_from": DAY + timedelta(days=1)}, {}, Reason.NOT_STARTED),
            ({"active": False}, {}, Reason.INACTIVE),
            ({"kind": "renewal"}, {}, Reason.WRONG_KIND),
            ({"kind": "purchase"}, {"kind": SaleKind.RENEWAL}, Reason.WRONG_KIND),
            ({"plan_ids": [str(uuid.uuid4())]}, {}, Reason.PLAN_NOT_ELIGIBLE),
            ({"max_uses": 2}, {}, Reason.USED_UP),
            ({"max_uses_per_member": 1}, {}, Reason.MEMBER_LIMIT_REACHED),
        ],
    )
    def test_each_failing_condition_has_its_reason(
        self, overrides: dict[str, Any], context: dict[str, Any], reason: Reason
    ) -> None:
        offer = pricing.evaluate(promo(**overrides), ctx(**context), Usage(total=2, by_member=1))
        assert offer.reason is reason
        assert not offer.eligible

    def test_valid_dates_are_inclusive(self) -> None:
        assert pricing.evaluate(promo(valid_from=DAY, valid_until=DAY), ctx()).eligible

    def test_listed_plan_is_eligible(self) -> None:
        assert pricing.evaluate(promo(plan_ids=[str(PLAN)]), ctx()).eligible

    def test_early_renewal_needs_n_days_before_the_current_end(self) -> None:
        p = promo(kind="renewal", early_renewal_days=14)
        on_time = ctx(kind=SaleKind.RENEWAL, current_end_date=DAY + timedelta(days=14))
        late = ctx(kind=SaleKind.RENEWAL, current_end_date=DAY + timedelta(days=13))
        assert pricing.evaluate(p, on_time).eligible
        assert pricing.evaluate(p, late).reason is Reason.TOO_LATE_FOR_EARLY_RENEWAL

    def test_early_renewal_condition_does_not_apply_to_purchases(self) -> None:
        assert pricing.evaluate(promo(kind="both", early_renewal_days=14), ctx()).eligible

    def test_limits_below_the_cap_are_fine(self) -> None:
        p = promo(max_uses=3, max_uses_per_member=2)
        assert pricing.evaluate(p, ctx(), Usage(total=2, by_member=1)).eligible


class TestBest:
    def test_largest_money_value_wins(self) -> None:
        small = promo(discount_amount=5_000)
        big = promo(discount_percent=10)  # 10 000
        assert pricing.price([small, big], ctx()).chosen.promotion is big  # type: ignore[union-attr]

    def test_bonus_days_beat_a_smaller_discount(self) -> None:
        days = promo(bonus_days=60)  # 365 000 * 60 / 365 = 60 000
        cut = promo(discount_amount=50_000)
        priced = pricing.price([cut, days], ctx(list_price=365_000))
        assert priced.chosen is not None
        assert priced.chosen.promotion is days
        assert priced.final_price == 365_000
        assert priced.bonus_days == 60

    def test_equal_value_prefers_the_price_cut(self) -> None:
        days = promo(bonus_days=10)  # 10 000
        cut = promo(discount_amount=10_000)
        priced = pricing.price([days, cut], ctx(list_price=365_000))
        assert priced.chosen is not None
        assert priced.chosen.promotion is cut

    def test_equal_offers_prefer_the_one_ending_first_then_the_lower_id(self) -> None:
        later = promo(discount_amount=1_000, valid_until=DAY + timedelta(days=9))
        sooner = promo(discount_amount=1_000, valid_until=DAY + timedelta(days=2))
        a = promo(id=uuid.UUID(int=1), discount_amount=1_000, valid_until=DAY)
        b = promo(id=uuid.UUID(int=2), discount_amount=1_000, valid_until=DAY)
        assert pricing.best([pricing.evaluate(p, ctx()) for p in (later, sooner)]).promotion is (  # type: ignore[union-attr]
            sooner
        )
        assert pricing.price([b, a], ctx()).chosen.promotion is a  # type: ignore[union-attr]

    def test_ineligible_offers_are_never_chosen(self) -> None:
        priced = pricing.price([promo(discount_percent=90, active=False)], ctx())
        assert priced.chosen is None
        assert priced.final_price == priced.list_price
        assert len(priced.considered) == 1

    def test_named_promotion_is_used_even_when_another_is_better(self) -> None:
        small = promo(discount_amount=1_000)
        big = promo(discount_amount=9_000)
        assert pricing.price([small, big], ctx(), named=small.id).discount == 1_000

    @pytest.mark.parametrize(
        ("overrides", "code"),
        [
            ({"valid_until": DAY - timedelta(days=1)}, "promotion_expired"),
            ({"valid_from": DAY + timedelta(days=1)}, "promotion_not_eligible"),
            ({"kind": "renewal"}, "promotion_not_eligible"),
        ],
    )
    def test_named_promotion_that_does_not_apply_is_refused(
        self, overrides: dict[str, Any], code: str
    ) -> None:
        p = promo(**overrides)
        with pytest.raises(pricing.PromotionNotApplicable) as caught:
            pricing.price([p], ctx(), named=p.id)
        assert caught.value.code == code
        assert caught.value.status == 422

    def test_considered_lists_eligible_first_best_first(self) -> None:
        off = promo(discount_percent=50, active=False)
        small = promo(discount_amount=1_000)
        big = promo(discount_amount=2_000)
        priced = pricing.price([off, small, big], ctx())
        assert [o.promotion for o in priced.considered] == [big, small, off]
