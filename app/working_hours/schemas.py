from __future__ import annotations

import datetime as dt
import uuid
from datetime import time
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from app.core.schemas import InputSchema, Schema, ShortText


def _whole_minute(value: time) -> time:
    if value.second or value.microsecond or value.tzinfo is not None:
        raise ValueError("must be a wall-clock time HH:MM")
    return value


def _no_overlap(spans: list[tuple[time, time]], where: str) -> None:
    ordered = sorted(spans)
    for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False):
        if start < end:
            raise ValueError(f"{where}: spans overlap")


class Span(Schema):
    """Club-local wall-clock times, `starts` before `ends`, within one day."""

    starts: time = Field(description="HH:MM, club-local.")
    ends: time = Field(description="HH:MM, club-local.")

    @field_validator("starts", "ends")
    @classmethod
    def _minute(cls, v: time) -> time:
        return _whole_minute(v)

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.starts >= self.ends:
            raise ValueError("starts must be before ends")
        return self


class WeeklySpan(Span):
    weekday: int = Field(ge=1, le=7, description="ISO weekday, 1 = Monday.")


class DayException(Schema):
    date: dt.date = Field(description="Club-local date.")
    hours: list[Span] = Field(
        default_factory=list, max_length=8, description="Hours that day; empty: a day off."
    )
    note: ShortText | None = None

    @model_validator(mode="after")
    def _spans(self) -> Self:
        _no_overlap([(s.starts, s.ends) for s in self.hours], str(self.date))
        return self


class WorkingHoursPut(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "weekly": [
                        {"weekday": 1, "starts": "09:00", "ends": "13:00"},
                        {"weekday": 1, "starts": "14:00", "ends": "18:00"},
                        {"weekday": 3, "starts": "12:00", "ends": "20:00"},
                    ],
                    "exceptions": [
                        {"date": "2026-12-31", "hours": [], "note": "Day off"},
                        {"date": "2027-01-05", "hours": [{"starts": "10:00", "ends": "14:00"}]},
                    ],
                },
                {"weekly": None, "exceptions": [{"date": "2026-12-31", "hours": []}]},
            ]
        }
    }

    weekly: list[WeeklySpan] | None = Field(
        max_length=70,
        description="The weekly pattern; several spans a day allowed, a weekday not listed is "
        "off. null: work the club's opening hours (exceptions still apply).",
    )
    exceptions: list[DayException] = Field(
        default_factory=list,
        max_length=400,
        description="Dates that differ from the pattern, today or later (club-local). They "
        "replace every exception from today on; earlier ones are kept as history.",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        for weekday in range(1, 8):
            _no_overlap(
                [(s.starts, s.ends) for s in self.weekly or [] if s.weekday == weekday],
                f"weekday {weekday}",
            )
        dates = [e.date for e in self.exceptions]
        if len(dates) != len(set(dates)):
            raise ValueError("exceptions list a date twice")
        return self


class WorkingHoursRead(Schema):
    staff_id: uuid.UUID
    club_id: uuid.UUID
    timezone: str = Field(description="The club's time zone: every time here is in it.")
    source: Literal["explicit", "club_opening_hours"] = Field(
        description="`club_opening_hours`: no weekly pattern set, so the club's opening hours "
        "(shown in `weekly`) apply."
    )
    weekly: list[WeeklySpan]
    exceptions: list[DayException] = Field(description="Exceptions from today on.")
