from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Annotated, Any, Self

import pycountry
from pydantic import AfterValidator, Field, WithJsonSchema, field_validator, model_validator

from app.core.schemas import InputSchema, Name, Schema, ShortText
from app.core.timezones import is_valid_timezone

_CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)


# A club's wall-clock time ("07:00"): no UTC offset, unlike OpenAPI's `format: time`.
_CLOCK_SCHEMA = {
    "type": "string",
    "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
    "examples": ["07:00"],
}


def _wall_clock(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a club-local time has no UTC offset")
    return value


LocalTime = Annotated[time, AfterValidator(_wall_clock), WithJsonSchema(_CLOCK_SCHEMA)]


class OpeningHours(Schema):
    weekday: int = Field(ge=1, le=7, description="ISO weekday, 1 = Monday.")
    opens: LocalTime
    closes: LocalTime

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.opens >= self.closes:
            raise ValueError("opens must be before closes")
        return self


DEFAULT_OPENING = [OpeningHours(weekday=d, opens=time(7), closes=time(22)) for d in range(1, 8)]


class ContactPolicy(Schema):
    silence_days: int = Field(
        default=3,
        ge=0,
        le=30,
        description="No contact this many days after a purchase, except the thank-you message.",
    )
    max_calls_per_30_days: int = Field(default=2, ge=0, le=30)
    max_messages_per_30_days: int = Field(default=4, ge=0, le=60)


class MeetingSettings(Schema):
    slot_minutes: int = Field(default=30, ge=10, le=240)
    buffer_minutes: int = Field(default=0, ge=0, le=120)


def _tz(value: str) -> str:
    if not is_valid_timezone(value):
        raise ValueError("must be an IANA time zone such as Europe/Moscow")
    return value


def _currency(value: str) -> str:
    value = value.upper()
    if value not in _CURRENCIES:
        raise ValueError("must be an ISO 4217 currency code such as EUR")
    return value


class ClubCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "name": "Riverside Fitness",
                    "timezone": "Europe/Moscow",
                    "currency": "RUB",
                    "address": "12 Embankment St",
                    "phone": "+74951234567",
                    "quiet_hours_start": "09:00",
                    "quiet_hours_end": "21:00",
                }
            ]
        }
    }

    name: Name
    timezone: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_+\-/]+$",
        description="IANA time zone, e.g. Europe/Moscow.",
    )
    currency: str = Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217, e.g. EUR.")
    address: ShortText | None = None
    phone: str | None = Field(default=None, max_length=32)
    quiet_hours_start: LocalTime = Field(default=time(9), description="Calls allowed from (local).")
    quiet_hours_end: LocalTime = Field(default=time(21), description="Calls allowed until (local).")
    opening_hours: list[OpeningHours] | None = Field(
        default=None,
        description="Per weekday; omitted: 07:00-22:00 every day. Missing day: closed.",
    )
    contact_policy: ContactPolicy | None = None
    meeting_settings: MeetingSettings | None = None
    freeze_ends_on_visit: bool = Field(
        default=False, description="A visit during a freeze ends the freeze that day."
    )

    @field_validator("timezone")
    @classmethod
    def _v_tz(cls, v: str) -> str:
        return _tz(v)

    @field_validator("currency")
    @classmethod
    def _v_cur(cls, v: str) -> str:
        return _currency(v)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.quiet_hours_start >= self.quiet_hours_end:
            raise ValueError("quiet_hours_start must be before quiet_hours_end")
        if self.opening_hours is not None:
            days = [o.weekday for o in self.opening_hours]
            if len(days) != len(set(days)):
                raise ValueError("opening_hours lists a weekday twice")
        return self


class ClubUpdate(InputSchema):
    name: Name | None = None
    timezone: str | None = Field(default=None, max_length=64)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    address: ShortText | None = None
    phone: str | None = Field(default=None, max_length=32)
    quiet_hours_start: LocalTime | None = None
    quiet_hours_end: LocalTime | None = None
    opening_hours: list[OpeningHours] | None = None
    contact_policy: ContactPolicy | None = None
    meeting_settings: MeetingSettings | None = None
    freeze_ends_on_visit: bool | None = None
    active: bool | None = None

    @field_validator("timezone")
    @classmethod
    def _v_tz(cls, v: str | None) -> str | None:
        return None if v is None else _tz(v)

    @field_validator("currency")
    @classmethod
    def _v_cur(cls, v: str | None) -> str | None:
        return None if v is None else _currency(v)


class ClubRead(Schema):
    id: uuid.UUID
    name: str
    timezone: str
    currency: str
    address: str | None
    phone: str | None
    quiet_hours_start: LocalTime
    quiet_hours_end: LocalTime
    opening_hours: list[OpeningHours]
    contact_policy: ContactPolicy
    meeting_settings: MeetingSettings
    freeze_ends_on_visit: bool
    active: bool
    created_at: datetime
    updated_at: datetime

    @field_validator("opening_hours", mode="before")
    @classmethod
    def _hours(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return [
                {"weekday": int(day), "opens": span[0], "closes": span[1]}
                for day, span in sorted(v.items(), key=lambda kv: int(kv[0]))
            ]
        return v
