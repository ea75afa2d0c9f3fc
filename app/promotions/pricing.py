"""The pricing engine: pure functions, no I/O, one place for quotes, sales and renewals.

Given the promotions of a club, what they have been used for so far and one prospective
sale (target plan, club-local date, purchase or renewal), it says for every promotion
whether it applies and why not, what it is worth, and which one the sale gets.

Rules (the OpenAPI descriptions quote `PRICING_RULES`):

- Money is integer minor units. A percent discount is `list_price * percent / 100`
  rounded half up to the minor unit (12.5 -> 13, 12.4 -> 12); a fixed amount is taken
  as is. No discount exceeds the list price, so the final price is never negative.
- Bonus days are valued at the target plan's daily price: `list_price * days /
  term_days`, rounded half up. Free sessions are valued at the promotion's
  `session_value` per session (0 when the club did not set one).
- The best eligible promotion is the one worth most to the member. Ties go to the
  larger cut of the price itself, then to the promotion ending first (so the one about
  to expire is used while it can be), then to the lower id. A named promotion is used
  instead when it is eligible; when it is not, the sale is refused with its reason.
- A promotion is checked in this order, and the first failing check is its reason:
  `expired`, `not_started`, `inactive`, `wrong_kind`, `plan_not_eligible`,
  `too_late_for_early_renewal`, `used_up`, `member_limit_reached`.
- The early-renewal condition (renew at least N days before the current end) applies
  to renewals only: the renewal must be priced on or before `current end - N days`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from app.errors import RuleViolation
from app.models import Promotion

PRICING_RULES = (
    "Money is integer minor units. Percent discounts round half up to the minor unit; no "
    "discount exceeds the list price, so the final price is never negative. Bonus days "
    "are worth the target plan's daily price (list price x days / term days, rounded "
    "half up); free sessions are worth the promotion's session_value each (0 if unset). "
    "The eligible promotion worth most wins; ties go to the larger price cut, then the "
    "promotion ending first, then the lower id. A named promotion is used instead of the "
    "best one when it is eligible."
)


class PromotionKind(StrEnum):
    PURCHASE = "purchase"
    RENEWAL = "renewal"
    BOTH = "both"


class SaleKind(StrEnum):
    PURCHASE = "purchase"
    RENEWAL = "renewal"


class Reason(StrEnum):
    EXPIRED = "expired"
    NOT_STARTED = "not_started"
    INACTIVE = "inactive"
    WRONG_KIND = "wrong_kind"
    PLAN_NOT_ELIGIBLE = "plan_not_eligible"
    TOO_LATE_FOR_EARLY_RENEWAL = "too_late_for_early_renewal"
    USED_UP = "used_up"
    MEMBER_LIMIT_REACHED = "member_limit_reached"


_REASON_TEXT = {
    Reason.EXPIRED: "The promotion has ended.",
    Reason.NOT_STARTED: "The promotion has not started yet.",
    Reason.INACTIVE: "The promotion is switched off.",
    Reason.WRONG_KIND: "The promotion is not for this kind of sale.",
    Reason.PLAN_NOT_ELIGIBLE: "The promotion does not cover this plan.",
    Reason.TOO_LATE_FOR_EARLY_RENEWAL: "Too late for the promotion's early-renewal condition.",
    Reason.USED_UP: "The promotion has been used as many times as allowed.",
    Reason.MEMBER_LIMIT_REACHED: "The member has used the promotion as often as allowed.",
}


@dataclass(frozen=True)
class SaleContext:
    """One prospective sale, as the engine sees it."""

    plan_id: uuid.UUID
    list_price: int
    term_days: int  # days in the target plan's term (values bonus days)
    on_date: date  # club-local
    kind: SaleKind
    current_end_date: date | None = None  # the membership being renewed


@dataclass(frozen=True)
class Usage:
    """How often a promotion was used: overall and by this member."""

    total: int = 0
    by_member: int = 0


@dataclass(frozen=True)
class Offer:
    """One promotion applied to one sale, eligible or not."""

    promotion: Promotion
    discount: int  # taken off the list price
    bonus_days: int
    free_sessions: int
    value: int  # money-equivalent worth to the member, for comparison
    reason: Reason | None

    @property
    def eligible(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class Priced:
    """The outcome for one sale: the chosen offer (if any) and every offer considered."""

    list_price: int
    chosen: Offer | None
    considered: list[Offer] = field(default_factory=list)

    @property
    def discount(self) -> int:
        return self.chosen.discount if self.chosen else 0

    @property
    def final_price(self) -> int:
        return max(0, self.list_price - self.discount)

    @property
    def bonus_days(self) -> int:
        return self.chosen.bonus_days if self.chosen else 0

    @property
    def free_sessions(self) -> int:
        return self.chosen.free_sessions if self.chosen else 0


class PromotionNotApplicable(RuleViolation):
    """A named promotion that does not apply: `promotion_expired` or
    `promotion_not_eligible`, with the engine's `reason`."""

    def __init__(self, offer: Offer) -> None:
        assert offer.reason is not None
        code = "promotion_expired" if offer.reason is Reason.EXPIRED else "promotion_not_eligible"
        super().__init__(
            _REASON_TEXT[offer.reason],
            code=code,
            reason=offer.reason.value,
            promotion_id=str(offer.promotion.id),
        )
        self.offer = offer


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for non-negative integers."""
    if denominator <= 0 or numerator < 0:
        raise ValueError("round_half_up takes a non-negative numerator and positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def percent_of(amount: int, percent: int) -> int:
    return round_half_up(amount * percent, 100)


def _discount(promotion: Promotion, list_price: int) -> int:
    if promotion.discount_percent is not None:
        return min(list_price, percent_of(list_price, promotion.discount_percent))
    if promotion.discount_amount is not None:
        return min(list_price, promotion.discount_amount)
    return 0


def _reason(promotion: Promotion, ctx: SaleContext, usage: Usage) -> Reason | None:
    if promotion.valid_until < ctx.on_date:
        return Reason.EXPIRED
    if promotion.valid_from > ctx.on_date:
        return Reason.NOT_STARTED
    if not promotion.active:
        return Reason.INACTIVE
    if promotion.kind != PromotionKind.BOTH and promotion.kind != ctx.kind.value:
        return Reason.WRONG_KIND
    if promotion.plan_ids and str(ctx.plan_id) not in {str(p) for p in promotion.plan_ids}:
        return Reason.PLAN_NOT_ELIGIBLE
    if ctx.kind is SaleKind.RENEWAL and promotion.early_renewal_days is not None:
        if ctx.current_end_date is None:
            return Reason.TOO_LATE_FOR_EARLY_RENEWAL
        if (ctx.current_end_date - ctx.on_date).days < promotion.early_renewal_days:
            return Reason.TOO_LATE_FOR_EARLY_RENEWAL
    if promotion.max_uses is not None and usage.total >= promotion.max_uses:
        return Reason.USED_UP
    if promotion.max_uses_per_member is not None and usage.by_member >= (
        promotion.max_uses_per_member
    ):
        return Reason.MEMBER_LIMIT_REACHED
    return None


def evaluate(promotion: Promotion, ctx: SaleContext, usage: Usage | None = None) -> Offer:
    """What `promotion` would give this sale, and why it does not apply if it does not."""
    usage = usage or Usage()
    discount = _discount(promotion, ctx.list_price)
    bonus_days = promotion.bonus_days or 0
    free_sessions = promotion.free_sessions or 0
    value = discount
    if bonus_days:
        value += round_half_up(ctx.list_price * bonus_days, max(1, ctx.term_days))
    if free_sessions:
        value += free_sessions * (promotion.session_value or 0)
    return Offer(
        promotion=promotion,
        discount=discount,
        bonus_days=bonus_days,
        free_sessions=free_sessions,
        value=value,
        reason=_reason(promotion, ctx, usage),
    )


def rank(offer: Offer) -> tuple[int, int, date, str]:
    """Sort key: the best offer sorts first."""
    return (-offer.value, -offer.discount, offer.promotion.valid_until, str(offer.promotion.id))


def best(offers: Iterable[Offer]) -> Offer | None:
    eligible = [o for o in offers if o.eligible]
    return min(eligible, key=rank) if eligible else None


def price(
    promotions: Iterable[Promotion],
    ctx: SaleContext,
    usage: Mapping[uuid.UUID, Usage] | None = None,
    *,
    named: uuid.UUID | None = None,
) -> Priced:
    """Price one sale. With `named`, that promotion is used or the sale is refused
    (`PromotionNotApplicable`); the caller makes sure `named` is among `promotions`."""
    usage = usage or {}
    offers = [evaluate(p, ctx, usage.get(p.id)) for p in promotions]
    offers.sort(key=lambda o: (not o.eligible, rank(o)))
    if named is not None:
        chosen = next((o for o in offers if o.promotion.id == named), None)
        if chosen is None:
            raise ValueError("the named promotion was not passed to price()")
        if not chosen.eligible:
            raise PromotionNotApplicable(chosen)
    else:
        chosen = best(offers)
    return Priced(list_price=ctx.list_price, chosen=chosen, considered=offers)
