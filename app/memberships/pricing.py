"""The pricing seam: the one function that prices a sale.

Every membership sale (`POST /memberships` and renewals) gets its list price, the price
to pay, the promotion applied and any bonus days from `price_sale()`, which asks the
promotions engine (`promotion_service.price_sale`): the best eligible promotion, or the
named one (422 `promotion_expired` / `promotion_not_eligible` when it does not apply,
404 `promotion_not_found` when the club has no such promotion). Quotes use the same
engine. Once the membership row exists, `record_sale()` records the promotion use in
the same transaction; the promotion's row lock taken while pricing keeps usage limits
exact under concurrent sales.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Member, Membership, Plan
from app.promotions.pricing import Priced, SaleKind
from app.promotions.service import promotion_service


@dataclass(frozen=True)
class SalePrice:
    list_price: int
    final_price: int  # what the rules say the member pays (list price minus discounts)
    promotion_id: uuid.UUID | None = None
    bonus_days: int = 0  # extra days a promotion grants; they extend the end date
    priced: Priced | None = None  # the engine's full answer, for record_sale()


async def price_sale(
    session: AsyncSession,
    *,
    member: Member,
    plan: Plan,
    start_date: date,
    today: date,
    source: str,
    promotion_id: uuid.UUID | None,
    renews: Membership | None = None,
) -> SalePrice:
    """Price one sale of `plan` to `member` starting `start_date`, as of club-local `today`.

    `source` `new` is a purchase; `renewal`, `upgrade` and `downgrade` are renewals (of
    `renews`, or else of the member's latest membership that is neither cancelled nor
    renewed), which decides the promotions that apply and the early-renewal condition.
    A manager's manual price is applied by the caller on top of this result.
    """
    kind = SaleKind.PURCHASE if source == "new" else SaleKind.RENEWAL
    if kind is SaleKind.RENEWAL and renews is None:
        renews = await promotion_service.renewal_candidate(session, member)
    priced = await promotion_service.price_sale(
        session,
        member=member,
        plan=plan,
        start_date=start_date,
        on_date=today,
        kind=kind,
        current_end_date=renews.end_date if renews is not None else None,
        promotion_id=promotion_id,
    )
    return SalePrice(
        list_price=priced.list_price,
        final_price=priced.final_price,
        promotion_id=priced.chosen.promotion.id if priced.chosen else None,
        bonus_days=priced.bonus_days,
        priced=priced,
    )


async def record_sale(
    session: AsyncSession, price: SalePrice, membership: Membership, at: datetime
) -> None:
    """Record the promotion use of a sale priced by `price_sale()` (nothing without one)."""
    if price.priced is None:
        return
    await promotion_service.record_use(
        session,
        price.priced,
        member_id=membership.member_id,
        membership_id=membership.id,
        used_at=at,
    )
