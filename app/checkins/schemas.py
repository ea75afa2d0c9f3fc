from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, model_validator

from app.access.schemas import AccessResult, CardNumber
from app.checkins.parsing import (
    DEVICE_EVENT_ID_MAX,
    DEVICE_ID_MAX,
    InstantError,
    Source,
    parse_instant,
)
from app.core.schemas import InputSchema, Schema


def _rfc3339(value: Any) -> datetime:
    if isinstance(value, datetime):  # constructed in code, not parsed from a request
        if value.tzinfo is None:
            raise ValueError("needs a UTC offset (Z or +03:00): a naive time is ambiguous")
        return value
    try:
        return parse_instant(value)
    except InstantError as exc:
        raise ValueError(exc.detail) from None


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# RFC 3339 with an offset, and nothing else (no naive times, no epoch numbers): the one
# rule shared with the batch ingest (`parsing.parse_instant`).
RFC3339Instant = Annotated[
    datetime,
    BeforeValidator(_rfc3339),
    Field(json_schema_extra={"format": "date-time", "example": "2026-03-10T07:45:00+03:00"}),
]
DeviceId = Annotated[
    str, StringConstraints(min_length=1, max_length=DEVICE_ID_MAX), AfterValidator(_no_nul)
]
DeviceEventId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=DEVICE_EVENT_ID_MAX),
    AfterValidator(_no_nul),
]


class CheckinCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
                    "card_number": "0004417021",
                    "checked_in_at": "2026-03-10T07:45:12+03:00",
                    "source": "turnstile",
                    "device_id": "gate-1",
                    "device_event_id": "184467",
                },
                {
                    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
                    "member_id": "0190f5a3-1c2d-7e4f-8a9b-0c1d2e3f4a5b",
                    "source": "front_desk",
                },
            ]
        }
    }

    club_id: uuid.UUID = Field(description="The club visited.")
    member_id: uuid.UUID | None = Field(default=None, description="The member, or...")
    card_number: CardNumber | None = Field(
        default=None, description="...their card number (exactly one of the two)."
    )
    checked_in_at: RFC3339Instant | None = Field(
        default=None,
        description="When the visit happened: RFC 3339 with an offset; default now. At most "
        "5 minutes in the future (`checkin_in_future`).",
    )
    source: Source = Field(description="`turnstile`, `front_desk` or `app`.")
    device_id: DeviceId | None = Field(default=None, description="The reporting device.")
    device_event_id: DeviceEventId | None = Field(
        default=None,
        description="The device's own id for this event (needs `device_id`). A replay of "
        "the same device event returns the first check-in with 200.",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.member_id is None) == (self.card_number is None):
            raise ValueError("send exactly one of member_id or card_number")
        if self.device_event_id is not None and self.device_id is None:
            raise ValueError("device_event_id needs device_id")
        return self


class CheckinRead(Schema):
    id: int
    club_id: uuid.UUID
    member_id: uuid.UUID
    checked_in_at: datetime
    source: Source
    device_id: str | None
    device_event_id: str | None
    created_at: datetime


class CheckinRecorded(CheckinRead):
    access: AccessResult = Field(
        description="Whether the member would have been let in at `checked_in_at`. The "
        "visit is recorded either way."
    )


class RejectedRow(Schema):
    index: int = Field(description="0-based position of the record in the batch.")
    code: str = Field(
        description="`malformed_json`, `malformed_csv`, `malformed_row`, `invalid_row`, "
        "`missing_field`, `invalid_field`, `naive_instant`, `checkin_in_future`, "
        "`member_not_found` or `device_event_conflict`."
    )
    detail: str
    line: int | None = Field(
        default=None, description="1-based line of the body (NDJSON and CSV only)."
    )


class BatchResult(Schema):
    accepted: int = Field(description="Check-ins recorded by this request.")
    duplicates: int = Field(
        description="Rows whose device event was already recorded (same member and time)."
    )
    rejected: list[RejectedRow] = Field(
        description="Rows not recorded, in batch order; the first 1,000 are listed."
    )
    rejected_count: int = Field(description="All rejected rows, listed or not.")


class WeeklyCount(Schema):
    week_start: date = Field(description="Monday of the club-local week.")
    visits: int


class AttendanceRead(Schema):
    member_id: uuid.UUID
    as_of: datetime
    last_visit_at: datetime | None = Field(description="The latest visit ever, if any.")
    visits_last_28_days: int = Field(
        description="Visits in the 28 club-local days ending today (today included)."
    )
    usual_visits_per_week: float = Field(
        description="Visits per week over the 26-week window, or over the member's tenure "
        "when that is shorter (tenure starts at the earlier of the first membership start "
        "and the first visit; at least one week)."
    )
    weekly_counts: list[WeeklyCount] = Field(
        description="The last 26 club-local weeks (Monday starts), oldest first; the last "
        "one is the current, partial week."
    )
