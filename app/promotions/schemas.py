from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from app.core.schemas import InputSchema, Name, Schema, ShortText
from app.promotions.pricing import PRICING_RULES, PromotionKind, Reason, SaleKind

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def _calendar_date(value: Any) -> Any:
    if isinstance(value, str) and not _DATE.fullmatch(value):
        raise ValueError("must be a club-local date, YYYY-MM-DD")
    if not isinstance(value, str | date) or isinstance(value, datetime):
        raise ValueError("must be a club-local date, YYYY-MM-DD")
    return value


def _in_range(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"must be between {EARLIEST_DATE} and {LATEST_DATE}")
    return value


# A club-local calendar date, `YYYY-MM-DD` only: no timestamps, no numbers, and far
# enough from date.min/max that date arithmetic never overflows.
LocalDate = Annotated[date, BeforeValidator(_calendar_date), AfterValidator(_in_range)]

MAX_MONEY = 1_000_000_000  # minor units; well inside PostgreSQL's int4
MAX_DAYS = 3660
MAX_SESSIONS = 1000
MAX_USES = 1_000_000_000

_DISCOUNTS = ("discount_percent", "discount_amount", "bonus_days", "free_sessions")

Percent = Annotated[int, Field(gt=0, le=100, description="Whole percent, 1-100.")]
Amount = Annotated[int, Field(gt=0, le=MAX_MONEY, description="Minor units off the price.")]
BonusDays = Annotated[int, Field(gt=0, le=MAX_DAYS, description="Days added to the term.")]
FreeSessions = Annotated[int, Field(gt=0, le=MAX_SESSIONS, description="Free sessions.")]
SessionValue = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_MONEY,
        description="What one free session is worth (minor units) when promotions are "
        "compared; only with `free_sessions`.",
    ),
]
EarlyDays = Annotated[
    int,
    Field(
        gt=0,
        le=MAX_DAYS,
        description="Renewals only: renew at least this many days before the current end.",
    ),
]
Uses = Annotated[int, Field(gt=0, le=MAX_USES)]
PlanIds = Annotated[
    list[uuid.UUID],
    Field(max_length=200, description="Eligible plans; empty: every plan of the club."),
]


def terms_errors(values: Mapping[str, Any]) -> list[dict[str, str]]:
    """Cross-field rules of a promotion (create, and the merged state of an update)."""
    errors = []
    given = [k for k in _DISCOUNTS if values.get(k) is not None]
    if len(given) != 1:
        pointer = f"/{given[1]}" if len(given) > 1 else "/discount_percent"
        errors.append(
            {
                "pointer": pointer,
                "detail": "give exactly one of discount_percent, discount_amount, "
                "bonus_days or free_sessions",
            }
        )
    if values.get("session_value") is not None and values.get("free_sessions") is None:
        errors.append({"pointer": "/session_value", "detail": "only with free_sessions"})
    start, until = values.get("valid_from"), values.get("valid_until")
    if start is not None and until is not None and until < start:
        errors.append({"pointer": "/valid_until", "detail": "must not be before valid_from"})
    return errors


class PromotionCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
                    "name": "Early renewal -15%",
                    "kind": "renewal",
                    "discount_percent": 15,
                    "plan_ids": [],
                    "valid_from": "2026-03-01",
                    "valid_until": "2026-03-31",
                    "early_renewal_days": 14,
                    "max_uses": 200,
                    "max_uses_per_member": 1,
                }
            ]
        }
    }

    club_id: uuid.UUID
    name: Name
    description: ShortText | None = Field(
        default=None, description="How staff may describe it (briefings show general terms)."
    )
    kind: PromotionKind = Field(description="Which sales it applies to.")
    discount_percent: Percent | None = None
    discount_amount: Amount | None = None
    bonus_days: BonusDays | None = None
    free_sessions: FreeSessions | None = None
    session_value: SessionValue | None = None
    plan_ids: PlanIds = Field(default_factory=list)
    valid_from: LocalDate = Field(description="First club-local day it applies (inclusive).")
    valid_until: LocalDate = Field(description="Last club-local day it applies (inclusive).")
    early_renewal_days: EarlyDays | None = None
    max_uses: Uses | None = Field(default=None, description="Uses overall; null: unlimited.")
    max_uses_per_member: Uses | None = Field(
        default=None, description="Uses per member; null: unlimited."
    )
    active: bool = True


class PromotionUpdate(InputSchema):
    """Only the fields sent change; null clears an optional field."""

    model_config = {
        "json_schema_extra": {"examples": [{"valid_until": "2026-04-15", "max_uses": 300}]}
    }

    name: Name | None = None
    description: ShortText | None = None
    kind: PromotionKind | None = None
    discount_percent: Percent | None = None
    discount_amount: Amount | None = None
    bonus_days: BonusDays | None = None
    free_sessions: FreeSessions | None = None
    session_value: SessionValue | None = None
    plan_ids: PlanIds | None = None
    valid_from: LocalDate | None = None
    valid_until: LocalDate | None = None
    early_renewal_days: EarlyDays | None = None
    max_uses: Uses | None = None
    max_uses_per_member: Uses | None = None
    active: bool | None = None


class PromotionRead(Schema):
    id: uuid.UUID
    club_id: uuid.UUID
    name: str
    description: str | None
    kind: PromotionKind
    discount_percent: int | None
    discount_amount: int | None
    bonus_days: int | None
    free_sessions: int | None
    session_value: int | None
    plan_ids: list[uuid.UUID]
    valid_from: date
    valid_until: date
    early_renewal_days: int | None
    max_uses: int | None
    max_uses_per_member: int | None
    active: bool
    uses: int = Field(description="Sales made on it so far.")
    created_at: datetime
    updated_at: datetime


class QuoteRequest(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "member_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a21",
                    "plan_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a31",
                    "on_date": "2026-03-10",
                }
            ]
        }
    }

    member_id: uuid.UUID
    plan_id: uuid.UUID = Field(description="The plan to price.")
    on_date: LocalDate | None = Field(
        default=None, description="Club-local date of the sale; omitted: today in the club."
    )
    promotion_id: uuid.UUID | None = Field(
        default=None,
        description="Price with this promotion; 422 `promotion_expired` or "
        "`promotion_not_eligible` when it does not apply. Omitted: the best one.",
    )
    kind: SaleKind | None = Field(
        default=None,
        description="`renewal` or `purchase`. Omitted: `renewal` when the member has a "
        "membership to renew, else `purchase`.",
    )
    membership_id: uuid.UUID | None = Field(
        default=None,
        description="The membership a renewal would renew; omitted: the member's latest "
        "membership that is neither cancelled nor already renewed.",
    )


class QuotePromotion(Schema):
    id: uuid.UUID
    name: str
    description: str | None
    kind: PromotionKind
    valid_until: date
    days_left: int = Field(description="Days after `on_date` it still runs; 0 on its last day.")


class ConsideredPromotion(Schema):
    promotion_id: uuid.UUID
    name: str
    discount: int = Field(description="Minor units it takes off the list price.")
    bonus_days: int
    free_sessions: int
    value: int = Field(description="Money-equivalent worth, used to choose the best.")
    eligible: bool
    reason: Reason | None = Field(description="Why it does not apply; null when it does.")
    valid_until: date


class OfferSummary(Schema):
    promotion_id: uuid.UUID | None
    discount: int
    bonus_days: int
    final_price: int
    value: int


class QuoteRead(Schema):
    model_config = {"json_schema_extra": {"description": PRICING_RULES}}

    member_id: uuid.UUID
    plan_id: uuid.UUID
    on_date: date
    kind: SaleKind = Field(description="The kind of sale priced.")
    renews_membership_id: uuid.UUID | None = Field(
        description="For a renewal: the membership it renews."
    )
    list_price: int
    discount: int
    final_price: int
    currency: str
    bonus_days: int
    free_sessions: int
    promotion: QuotePromotion | None
    considered: list[ConsideredPromotion] = Field(
        description="Every promotion of the club running on `on_date` or ended within "
        "the 31 days before it (and the named one), eligible ones first, best first."
    )
    renewal_beats_purchase: bool = Field(
        description="Renewing now is worth more than buying the same plan as a new member."
    )
    best_purchase: OfferSummary = Field(description="The best offer for a new purchase.")
    best_renewal: OfferSummary | None = Field(
        description="The best renewal offer; null when there is nothing to renew."
    )
