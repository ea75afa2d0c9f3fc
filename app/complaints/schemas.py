from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictInt, StringConstraints, model_validator

from app.core.schemas import InputSchema, LongText, Schema
from app.models.outreach import ComplaintSeverity, ComplaintStatus


class ComplaintSource(StrEnum):
    CALL = "call"
    DESK = "desk"
    APP = "app"
    EMAIL = "email"
    SOCIAL = "social"
    MEETING = "meeting"
    OTHER = "other"


class ComplaintCategory(StrEnum):
    STAFF = "staff"
    CLEANLINESS = "cleanliness"
    EQUIPMENT = "equipment"
    CLASSES = "classes"
    CROWDING = "crowding"
    BILLING = "billing"
    FACILITIES = "facilities"
    OTHER = "other"


class RootCause(StrEnum):
    """Why it happened, from a fixed taxonomy, so managers can analyse and fix causes."""

    STAFF_BEHAVIOUR = "staff_behaviour"
    PROCESS = "process"
    EQUIPMENT_FAILURE = "equipment_failure"
    CLEANLINESS = "cleanliness"
    SCHEDULING = "scheduling"
    BILLING_ERROR = "billing_error"
    COMMUNICATION = "communication"
    MEMBER_EXPECTATION = "member_expectation"
    OTHER = "other"


class OpenStatus(StrEnum):
    """The statuses PATCH may set; `resolved` only through POST /complaints/{id}/resolve."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"


# Free text that must say something.
Description = Annotated[LongText, StringConstraints(min_length=1)]

MAX_BONUS_DAYS = 365
MAX_FREE_SESSIONS = 20


class ComplaintCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "member_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a99",
                    "category": "equipment",
                    "description": "Two of the four treadmills have been out of order all week.",
                    "severity": "medium",
                    "source": "call",
                    "call_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0f01",
                    "owner_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0c11",
                }
            ]
        }
    }

    member_id: uuid.UUID
    category: ComplaintCategory
    description: Description = Field(description="What the member said, in their words.")
    severity: ComplaintSeverity = Field(
        description="Sets the due time: critical 4 hours, high 24 hours, medium 72 hours, "
        "low 7 days."
    )
    source: ComplaintSource = Field(description="Where the complaint was heard.")
    membership_id: uuid.UUID | None = Field(
        default=None, description="The membership it concerns (the member's own)."
    )
    call_id: uuid.UUID | None = Field(
        default=None, description="The service call it came up on (the member's own)."
    )
    meeting_id: uuid.UUID | None = Field(
        default=None, description="The meeting it came up at (the member's own)."
    )
    owner_id: uuid.UUID | None = Field(
        default=None, description="Who handles the case: active staff of the member's club."
    )


class ComplaintUpdate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {"status": "in_progress", "owner_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0c11"},
                {"severity": "high"},
            ]
        }
    }

    owner_id: uuid.UUID | None = Field(
        default=None, description="New owner (active staff of the club); null unassigns."
    )
    status: OpenStatus | None = Field(
        default=None, description="`open` or `in_progress`; resolve through /resolve."
    )
    severity: ComplaintSeverity | None = Field(
        default=None, description="The due time is recomputed from the complaint's creation."
    )

    @model_validator(mode="after")
    def _no_nulls(self) -> ComplaintUpdate:
        for name in ("status", "severity"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class Compensation(InputSchema):
    bonus_days: StrictInt | None = Field(
        default=None,
        ge=1,
        le=MAX_BONUS_DAYS,
        description="Days added to the member's current membership (its end date moves).",
    )
    free_sessions: StrictInt | None = Field(
        default=None, ge=1, le=MAX_FREE_SESSIONS, description="Free sessions granted."
    )

    @model_validator(mode="after")
    def _something(self) -> Compensation:
        if self.bonus_days is None and self.free_sessions is None:
            raise ValueError("give bonus_days, free_sessions or both")
        return self


class ComplaintResolve(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "resolution": "Treadmills repaired; apologised and added a week.",
                    "root_cause": "equipment_failure",
                    "compensation": {"bonus_days": 7},
                }
            ]
        }
    }

    resolution: Description = Field(description="What was done about it.")
    root_cause: RootCause
    compensation: Compensation | None = Field(
        default=None, description="Managers and admins only (403 `compensation_not_allowed`)."
    )


class ComplaintRead(Schema):
    id: uuid.UUID
    club_id: uuid.UUID
    member_id: uuid.UUID
    membership_id: uuid.UUID | None
    call_id: uuid.UUID | None
    meeting_id: uuid.UUID | None
    source: str
    category: str
    description: str
    severity: ComplaintSeverity
    status: ComplaintStatus
    owner_id: uuid.UUID | None
    reported_by_id: uuid.UUID | None
    due_at: datetime
    overdue: bool = Field(description="Not resolved and past its due time.")
    resolution: str | None
    root_cause: str | None
    compensation_bonus_days: int | None
    compensation_free_sessions: int | None
    resolved_at: datetime | None
    resolved_by_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
