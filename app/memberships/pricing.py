"""The pricing seam: the one function that prices a sale.

Every membership sale (`POST /memberships`, and later renewals) gets its list price,
the price to pay, the promotion applied and any bonus days from `price_sale()`. The
promotions engine plugs in here: pick the best eligible promotion (or check the named
one), and return its discount and bonus days. Until then no promotion exists, so a
named one is reported as not found and the price is the plan's list price.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.models import Member, Plan


@dataclass(frozen=True)
class SalePrice:
    list_price: int
    final_price: int  # what the rules say the member pays (list price minus discounts)
    promotion_id: uuid.UUID | None = None
    bonus_days: int = 0  # extra days a promotion grants; they extend the end date


async def price_sale(
    session: AsyncSession,
    *,
    member: Member,
    plan: Plan,
    start_date: date,
    today: date,
    source: str,
    promotion_id: uuid.UUID | None,
) -> SalePrice:
    """Price one sale of `plan` to `member` starting `start_date`, as of club-local `today`.

    `source` is `new`, `renewal`, `upgrade` or `downgrade` (promotions may be kind-
    specific). A manager's manual price is applied by the caller on top of this result.
    """
    if promotion_id is not None:
        raise NotFound("Promotion not found.", code="promotion_not_found")
    return SalePrice(list_price=plan.price, final_price=plan.price)
