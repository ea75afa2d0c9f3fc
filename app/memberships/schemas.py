from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    model_validator,
)

from app.core.schemas import InputSchema, LongText, Schema
from app.memberships.status import MembershipStatus
from app.memberships.terms import TERM_RULE
from app.plans.schemas import MAX_PRICE


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _calendar_date(value: Any) -> Any:
    # Lax parsing would take 1700000000 or "2026-03-10T00:00:00" as a date: refuse both.
    if isinstance(value, datetime):
        raise ValueError("must be a date YYYY-MM-DD, not an instant")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise ValueError("must be a date YYYY-MM-DD")


# A club-local calendar date, `YYYY-MM-DD` only: no timestamps, no numbers.
LocalDate = Annotated[date, BeforeValidator(_calendar_date)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500), AfterValidator(_no_nul)]


class MembershipSource(StrEnum):
    NEW = "new"
    RENEWAL = "renewal"
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"


class FreezeStatus(StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    ENDED = "ended"
    CANCELLED = "cancelled"


class MembershipCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "member_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a21",
                    "plan_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a31",
                    "start_date": "2026-03-10",
                    "special_conditions": "Pool access included at no charge.",
                    "sold_by_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a41",
                }
            ]
        }
    }

    member_id: uuid.UUID
    plan_id: uuid.UUID = Field(description="An active plan of the member's club or chain-wide.")
    start_date: LocalDate = Field(
        description="Club-local `YYYY-MM-DD`. Today or later; earlier (historical entry, "
        "imports) only for managers and admins."
    )
    promotion_id: uuid.UUID | None = Field(
        default=None, description="A promotion to apply (priced by the promotions engine)."
    )
    special_conditions: LongText | None = Field(
        default=None, description="Anything agreed at the sale that callers must know."
    )
    sold_by_id: uuid.UUID | None = Field(
        default=None,
        description="Staff member who sold it; omitted: the staff member making the request.",
    )
    price_paid: int | None = Field(
        default=None,
        ge=0,
        le=MAX_PRICE,
        description="Minor units; omitted: the list price. Only managers and admins may set "
        "a different price.",
    )
    source: MembershipSource = Field(default=MembershipSource.NEW)


class MembershipUpdate(InputSchema):
    model_config = {
        "json_schema_extra": {"examples": [{"special_conditions": "Towel service included."}]}
    }

    special_conditions: LongText | None = None
    sold_by_id: uuid.UUID | None = None


class MembershipCancel(InputSchema):
    model_config = {"json_schema_extra": {"examples": [{"reason": "Moved to another city"}]}}

    reason: Reason


class MembershipRead(Schema):
    id: uuid.UUID
    club_id: uuid.UUID
    member_id: uuid.UUID
    plan_id: uuid.UUID
    start_date: date
    end_date: date = Field(description=TERM_RULE)
    base_end_date: date = Field(description="The end before freezes and bonus days.")
    status: MembershipStatus = Field(
        description="Derived as of the club-local today: pending, active, frozen, expired, "
        "cancelled."
    )
    list_price: int
    price_paid: int
    promotion_id: uuid.UUID | None
    source: MembershipSource
    currency: str
    renews_id: uuid.UUID | None
    special_conditions: str | None
    sold_by_id: uuid.UUID | None
    frozen_days: int
    bonus_days: int
    cancelled_at: datetime | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, membership: Any, status: MembershipStatus) -> MembershipRead:
        values = {k: getattr(membership, k) for k in cls.model_fields if k != "status"}
        return cls.model_validate({**values, "status": status})


class FreezeCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {"start_date": "2026-04-01", "end_date": "2026-04-14", "reason": "Business trip"}
            ]
        }
    }

    start_date: LocalDate = Field(description="First frozen day, club-local, inclusive.")
    end_date: LocalDate = Field(description="Last frozen day, club-local, inclusive.")
    reason: Reason

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self


class FreezeUpdate(InputSchema):
    model_config = {"json_schema_extra": {"examples": [{"end_date": "2026-04-07"}]}}

    end_date: LocalDate = Field(
        description="New last frozen day: not before the start, before the current end, and "
        "for a running freeze not before today (club-local)."
    )


class FreezeRead(Schema):
    id: uuid.UUID
    membership_id: uuid.UUID
    club_id: uuid.UUID
    start_date: date
    end_date: date
    days: int = Field(description="Frozen days, inclusive (not counted once cancelled).")
    reason: str
    status: FreezeStatus
    fee: int = Field(description="The plan's freeze fee when taken, minor units.")
    created_by_id: uuid.UUID | None
    ended_early_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, freeze: Any, status: FreezeStatus) -> FreezeRead:
        values = {k: getattr(freeze, k) for k in cls.model_fields if k != "status"}
        return cls.model_validate({**values, "status": status})
