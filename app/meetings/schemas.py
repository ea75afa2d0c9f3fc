from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from app.core.schemas import InputSchema, Instant, LongText, Schema, ShortText
from app.core.timezones import zone
from app.models import Meeting
from app.models.meeting import DeclineReason, MeetingPurpose, MeetingResult, MeetingStatus


def _whole_minute(value: datetime | None) -> datetime | None:
    if value is not None and (value.second or value.microsecond):
        raise ValueError("must be a whole minute (seconds 00)")
    return value


class MeetingCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "member_id": "0190f5a2-8c1d-7e2f-9a35-2f1d1c8e0a21",
                    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
                    "consultant_id": "0190f5a2-7f00-7a3b-8c11-5d2e3f4a5b6c",
                    "starts_at": "2026-12-03T18:30:00+03:00",
                    "purpose": "renewal",
                }
            ]
        }
    }

    member_id: uuid.UUID
    club_id: uuid.UUID
    consultant_id: uuid.UUID = Field(
        description="A consultant of the club; for `onboarding`, a trainer of the club."
    )
    starts_at: Instant = Field(
        description="With offset; a whole minute. The length is the club's `slot_minutes`."
    )
    purpose: MeetingPurpose
    call_id: uuid.UUID | None = Field(
        default=None,
        description="The service call that booked it: a call of this member "
        "(422 `call_mismatch` otherwise). Calls book through `POST /calls/{id}/attempts`.",
    )

    _minute = field_validator("starts_at")(_whole_minute)


class MeetingUpdate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {"status": "confirmed"},
                {"starts_at": "2026-12-04T11:00:00+03:00"},
                {"status": "cancelled", "cancel_reason": "Member asked to call back next month"},
                {"status": "no_show"},
            ]
        }
    }

    status: (
        Literal[
            MeetingStatus.CONFIRMED,
            MeetingStatus.ATTENDED,
            MeetingStatus.NO_SHOW,
            MeetingStatus.CANCELLED,
        ]
        | None
    ) = Field(
        default=None,
        description="`attended`/`no_show` from 60 minutes before the start; `cancelled` is final.",
    )
    starts_at: Instant | None = Field(
        default=None,
        description="Reschedule (same rules as booking); a confirmed meeting "
        "goes back to `booked`.",
    )
    consultant_id: uuid.UUID | None = Field(default=None, description="Hand over to another.")
    cancel_reason: ShortText | None = Field(default=None, description="With `cancelled` only.")

    _minute = field_validator("starts_at")(_whole_minute)

    @model_validator(mode="after")
    def _check(self) -> Self:
        moves = self.starts_at is not None or self.consultant_id is not None
        if moves and self.status not in (None, MeetingStatus.CONFIRMED):
            raise ValueError(f"a meeting cannot be moved and marked {self.status} at once")
        if self.cancel_reason is not None and self.status != MeetingStatus.CANCELLED:
            raise ValueError("cancel_reason goes with status cancelled")
        for name in ("status", "starts_at", "consultant_id"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class OutcomeCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {"result": "renewed", "membership_id": "0190f5a4-1111-7222-8333-444455556666"},
                {"result": "declined", "decline_reason": "price", "notes": "Will compare gyms"},
                {"result": "postponed", "notes": "Decides after the holidays"},
            ]
        }
    }

    result: MeetingResult
    membership_id: uuid.UUID | None = Field(
        default=None,
        description="`renewed`/`switched_plan`: the member's membership sold at the meeting "
        "(for `renewed`, created with this `meeting_id`).",
    )
    decline_reason: DeclineReason | None = Field(default=None, description="`declined` only.")
    notes: LongText | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.decline_reason is not None and self.result != MeetingResult.DECLINED:
            raise ValueError("decline_reason goes with result declined")
        sells = (MeetingResult.RENEWED, MeetingResult.SWITCHED_PLAN)
        if self.membership_id is not None and self.result not in sells:
            raise ValueError("membership_id goes with result renewed or switched_plan")
        return self


class OutcomeRead(Schema):
    result: MeetingResult
    membership_id: uuid.UUID | None
    decline_reason: DeclineReason | None
    notes: str | None
    recorded_at: datetime
    recorded_by_id: uuid.UUID | None


class MeetingRead(Schema):
    """Instants are given in the club's time zone (with its offset)."""

    id: uuid.UUID
    club_id: uuid.UUID
    member_id: uuid.UUID
    consultant_id: uuid.UUID
    call_id: uuid.UUID | None
    purpose: MeetingPurpose
    status: MeetingStatus
    starts_at: datetime
    ends_at: datetime
    booked_by_id: uuid.UUID | None
    confirmed_at: datetime | None
    attended_at: datetime | None
    no_show_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    outcome: OutcomeRead | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, m: Meeting) -> MeetingRead:
        tz = zone(m.club.timezone)

        def local(v: datetime | None) -> datetime | None:
            return None if v is None else v.astimezone(tz)

        outcome = None
        if m.outcome is not None and m.outcome_at is not None:
            outcome = OutcomeRead(
                result=MeetingResult(m.outcome),
                membership_id=m.outcome_membership_id,
                decline_reason=None
                if m.decline_reason is None
                else DeclineReason(m.decline_reason),
                notes=m.outcome_notes,
                recorded_at=m.outcome_at.astimezone(tz),
                recorded_by_id=m.outcome_by_id,
            )
        return cls(
            id=m.id,
            club_id=m.club_id,
            member_id=m.member_id,
            consultant_id=m.consultant_id,
            call_id=m.call_id,
            purpose=MeetingPurpose(m.purpose),
            status=MeetingStatus(m.status),
            starts_at=m.starts_at.astimezone(tz),
            ends_at=m.ends_at.astimezone(tz),
            booked_by_id=m.booked_by_id,
            confirmed_at=local(m.confirmed_at),
            attended_at=local(m.attended_at),
            no_show_at=local(m.no_show_at),
            cancelled_at=local(m.cancelled_at),
            cancel_reason=m.cancel_reason,
            outcome=outcome,
            created_at=m.created_at.astimezone(tz),
            updated_at=m.updated_at.astimezone(tz),
        )


class MeetingSlot(Schema):
    starts_at: datetime = Field(description="Club-local, with offset.")
    ends_at: datetime = Field(description="Club-local, with offset.")
    consultant_id: uuid.UUID


class MeetingSlots(Schema):
    club_id: uuid.UUID
    date: dt.date = Field(description="The club-local date.")
    timezone: str
    purpose: MeetingPurpose
    slot_minutes: int
    buffer_minutes: int
    items: list[MeetingSlot] = Field(description="Earliest first, then by consultant.")
