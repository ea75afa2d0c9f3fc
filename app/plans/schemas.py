from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Self

import pycountry
from pydantic import Field, StringConstraints, field_validator, model_validator

from app.core.schemas import InputSchema, Name, Schema
from app.memberships.terms import MAX_DURATION_DAYS, MAX_DURATION_MONTHS

_CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)

# Money and counters are int4 columns: bound them so no input can overflow the database.
MAX_PRICE = 2_000_000_000
MAX_FREEZE_DAYS = 3660

HHMM = Annotated[
    str,
    StringConstraints(pattern=r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$"),
]


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


class AccessWindow(Schema):
    """Hours a plan gives access on one weekday, club-local (e.g. a daytime card)."""

    model_config = {"extra": "forbid", "populate_by_name": True}

    weekday: int = Field(ge=1, le=7, description="ISO weekday, 1 = Monday.")
    from_: HHMM = Field(alias="from", description="From, `HH:MM` club-local.")
    to: HHMM = Field(description="Until (exclusive), `HH:MM` club-local; `24:00` for midnight.")

    @model_validator(mode="after")
    def _order(self) -> Self:
        if _minutes(self.from_) >= _minutes(self.to):
            raise ValueError("from must be before to")
        return self


class FreezePolicy(Schema):
    """How a plan may be frozen. `max_freezes` 0: freezes are not allowed."""

    model_config = {"extra": "forbid"}

    max_freezes: int = Field(ge=0, le=100, description="Freezes allowed per term.")
    min_days: int = Field(ge=1, le=MAX_FREEZE_DAYS, description="Shortest freeze, in days.")
    max_days: int = Field(ge=1, le=MAX_FREEZE_DAYS, description="Longest single freeze, in days.")
    max_total_days: int = Field(
        ge=0, le=MAX_FREEZE_DAYS, description="All freezes of one term together, in days."
    )
    fee: int = Field(
        default=0, ge=0, le=MAX_PRICE, description="Fee per freeze, minor units (0: free)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.min_days > self.max_days:
            raise ValueError("min_days must not exceed max_days")
        if self.max_freezes > 0 and self.max_total_days < self.min_days:
            raise ValueError("max_total_days must allow at least one freeze of min_days")
        return self


NO_FREEZES = FreezePolicy(max_freezes=0, min_days=7, max_days=30, max_total_days=0, fee=0)


def _windows_ok(windows: list[AccessWindow] | None) -> list[AccessWindow] | None:
    if windows is None:
        return None
    by_day: dict[int, list[AccessWindow]] = {}
    for w in windows:
        by_day.setdefault(w.weekday, []).append(w)
    for day in by_day.values():
        day.sort(key=lambda w: _minutes(w.from_))
        for a, b in zip(day, day[1:], strict=False):
            if _minutes(b.from_) < _minutes(a.to):
                raise ValueError("access_hours overlap on one weekday")
    return windows


def _currency(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.upper()
    if value not in _CURRENCIES:
        raise ValueError("must be an ISO 4217 currency code such as EUR")
    return value


TargetIds = Annotated[list[uuid.UUID], Field(max_length=50)]


class PlanCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
                    "name": "Daytime 12 months",
                    "duration_months": 12,
                    "price": 3500000,
                    "visit_limit": None,
                    "access_hours": [
                        {"weekday": d, "from": "07:00", "to": "17:00"} for d in range(1, 6)
                    ],
                    "freeze_policy": {
                        "max_freezes": 2,
                        "min_days": 7,
                        "max_days": 30,
                        "max_total_days": 45,
                        "fee": 0,
                    },
                    "renewal_target_ids": [],
                    "active": True,
                }
            ]
        }
    }

    club_id: uuid.UUID | None = Field(
        default=None, description="The club selling it; null or omitted: chain-wide (admins)."
    )
    name: Name
    duration_months: int | None = Field(
        default=None, gt=0, le=MAX_DURATION_MONTHS, description="Term in months (or days)."
    )
    duration_days: int | None = Field(
        default=None, gt=0, le=MAX_DURATION_DAYS, description="Term in days (or months)."
    )
    price: int = Field(gt=0, le=MAX_PRICE, description="List price, minor units.")
    currency: str | None = Field(
        default=None,
        min_length=3,
        max_length=3,
        description="ISO 4217. Required for chain-wide plans; a club plan uses the club's.",
    )
    visit_limit: int | None = Field(
        default=None, gt=0, le=100_000, description="Visits per term; null: unlimited."
    )
    access_hours: list[AccessWindow] | None = Field(
        default=None,
        max_length=70,
        description="When the plan gives access, club-local; null: whenever the club is open.",
    )
    freeze_policy: FreezePolicy | None = Field(
        default=None, description="Omitted: the plan cannot be frozen."
    )
    renewal_target_ids: TargetIds = Field(
        default_factory=list,
        description="Plans it may be renewed or upgraded to: same club or chain-wide.",
    )
    active: bool = True

    @field_validator("currency")
    @classmethod
    def _v_currency(cls, v: str | None) -> str | None:
        return _currency(v)

    @field_validator("access_hours")
    @classmethod
    def _v_hours(cls, v: list[AccessWindow] | None) -> list[AccessWindow] | None:
        return _windows_ok(v)

    @model_validator(mode="after")
    def _one_duration(self) -> Self:
        if (self.duration_months is None) == (self.duration_days is None):
            raise ValueError("give exactly one of duration_months or duration_days")
        return self


class PlanUpdate(InputSchema):
    """Duration, club and currency are fixed once sold: create a new plan instead."""

    model_config = {
        "json_schema_extra": {"examples": [{"price": 3900000}, {"active": False}]},
    }

    name: Name | None = None
    price: int | None = Field(default=None, gt=0, le=MAX_PRICE)
    visit_limit: int | None = Field(default=None, gt=0, le=100_000)
    access_hours: list[AccessWindow] | None = Field(default=None, max_length=70)
    freeze_policy: FreezePolicy | None = None
    renewal_target_ids: TargetIds | None = None
    active: bool | None = None

    @field_validator("access_hours")
    @classmethod
    def _v_hours(cls, v: list[AccessWindow] | None) -> list[AccessWindow] | None:
        return _windows_ok(v)


class PlanRead(Schema):
    id: uuid.UUID
    club_id: uuid.UUID | None = Field(description="Null: chain-wide.")
    name: str
    duration_months: int | None
    duration_days: int | None
    price: int
    currency: str
    visit_limit: int | None
    access_hours: list[AccessWindow] | None
    freeze_policy: FreezePolicy
    renewal_target_ids: list[uuid.UUID]
    active: bool
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_plan(cls, value: Any) -> Any:
        # The table keeps the freeze policy in flat columns.
        if hasattr(value, "freeze_max_count"):
            return {
                **{k: getattr(value, k) for k in cls.model_fields if k != "freeze_policy"},
                "freeze_policy": policy_of(value),
            }
        return value


def policy_of(plan: Any) -> FreezePolicy:
    return FreezePolicy.model_construct(
        max_freezes=plan.freeze_max_count,
        min_days=plan.freeze_min_days,
        max_days=plan.freeze_max_days,
        max_total_days=plan.freeze_max_total_days,
        fee=plan.freeze_fee,
    )
