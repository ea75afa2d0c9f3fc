"""Service calls over HTTP: the queue, manual calls, assignment and attempts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from app.complaints.service import ComplaintCategory
from app.core.schemas import InputSchema, Instant, LongText, Schema, ShortText
from app.meetings.schemas import _whole_minute
from app.models import CallAttempt, ServiceCall
from app.models.meeting import DeclineReason, MeetingPurpose
from app.models.outreach import CallKind, CallOutcome, CallStatus, ComplaintSeverity

_CALL_ID = "0190f5a3-0a0b-7c0d-8e0f-101112131415"
_MEMBER_ID = "0190f5a2-8c1d-7e2f-9a35-2f1d1c8e0a21"
_STAFF_ID = "0190f5a2-7f00-7a3b-8c11-5d2e3f4a5b6c"


class CallReason(Schema):
    kind: str = Field(description="The call kind this reason asks for.")
    code: str = Field(description="Stable code of the reason, e.g. `manual`, `expiry_approaching`.")
    text: str = Field(description="The reason in plain words.")
    source: str = Field(description="Who added it: `playbook`, `lapse_scan`, `manual`, ...")
    at: datetime | None = Field(default=None, description="When it was added.")


class CallRead(Schema):
    id: uuid.UUID
    club_id: uuid.UUID
    member_id: uuid.UUID
    membership_id: uuid.UUID | None
    kind: CallKind = Field(description="The most important kind among the reasons.")
    reasons: list[CallReason] = Field(description="Every reason the call exists, merged.")
    priority: int = Field(ge=0, le=100, description="Higher is more urgent.")
    due_from: datetime
    due_until: datetime = Field(description="After this the call expires (`window_passed`).")
    status: CallStatus
    assignee_id: uuid.UUID | None
    attempts: int = Field(description="Attempts recorded on this call.")
    next_attempt_at: datetime | None = Field(
        description="When the caller may dial next (the policy's next allowed time, a "
        "requested callback or a no-answer retry); null once closed."
    )
    callback_at: datetime | None
    outcome: CallOutcome | None = Field(description="The outcome of the latest attempt.")
    meeting_id: uuid.UUID | None = Field(description="The meeting the call booked.")
    close_reason: str | None = Field(
        description="Why it closed: the final outcome (completed), `no_answer_limit` or "
        "`window_passed` (expired), `visits_resumed`, `renewed`, `renewal_meeting_booked`, "
        "`frozen`, `opted_out` or staff's reason (cancelled)."
    )
    closed_at: datetime | None
    source: str = Field(description="`playbook`, `lapse_scan`, `manual`, `meeting`, ...")
    notes: str | None
    created_by_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, call: ServiceCall) -> CallRead:
        return cls.model_validate(call)


class CallCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "member_id": _MEMBER_ID,
                    "kind": "renewal",
                    "due_from": "2026-12-01T09:00:00+03:00",
                    "due_until": "2026-12-08T21:00:00+03:00",
                    "notes": "Asked at the desk about next year's card",
                }
            ]
        }
    }

    member_id: uuid.UUID
    kind: CallKind
    due_from: Instant | None = Field(default=None, description="Default: now.")
    due_until: Instant | None = Field(default=None, description="Default: `due_from` + 7 days.")
    priority: int = Field(default=50, ge=0, le=100)
    notes: LongText | None = None


class CallUpdate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {"assignee_id": _STAFF_ID},
                {"priority": 80, "notes": "Prefers to talk after work"},
                {"status": "cancelled", "close_reason": "Member moved to another city"},
            ]
        }
    }

    assignee_id: uuid.UUID | None = Field(
        default=None,
        description="An active caller of the call's club; null unassigns.",
    )
    priority: int | None = Field(default=None, ge=0, le=100)
    notes: LongText | None = None
    status: Literal["cancelled"] | None = Field(
        default=None, description="Only `cancelled` (with a `close_reason`)."
    )
    close_reason: ShortText | None = Field(default=None, min_length=1)


class AttemptMeeting(InputSchema):
    starts_at: Instant = Field(description="With offset; a whole minute.")
    consultant_id: uuid.UUID
    purpose: MeetingPurpose | None = Field(
        default=None,
        description="Default by call kind: `renewal` for renewal, lapse, no-show and "
        "post-freeze calls; `onboarding` (a trainer) for welcome and onboarding calls; "
        "`feedback` otherwise.",
    )

    _minute = field_validator("starts_at")(_whole_minute)


class AttemptComplaint(InputSchema):
    category: ComplaintCategory
    description: LongText = Field(min_length=1)
    severity: ComplaintSeverity


class CallAttemptCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "outcome": "meeting_booked",
                    "meeting": {
                        "starts_at": "2026-12-03T18:30:00+03:00",
                        "consultant_id": _STAFF_ID,
                    },
                    "notes": "Wants to compare the 6 and 12 month cards",
                },
                {"outcome": "no_answer"},
                {"outcome": "callback_requested", "callback_at": "2026-12-02T19:00:00+03:00"},
                {"outcome": "declined", "decline_reason": "moved", "notes": "Moved to Kazan"},
                {
                    "outcome": "complaint",
                    "complaint": {
                        "category": "cleanliness",
                        "description": "Showers in the women's locker room are dirty",
                        "severity": "medium",
                    },
                },
            ]
        }
    }

    outcome: CallOutcome = Field(
        description="`meeting_booked` (needs `meeting`), `callback_requested` (needs a future "
        "`callback_at`), `no_answer`, `voicemail`, `declined` (needs `decline_reason`), "
        "`wrong_number`, `do_not_call`, `complaint` (needs `complaint`)."
    )
    notes: LongText | None = None
    meeting: AttemptMeeting | None = None
    callback_at: Instant | None = None
    decline_reason: DeclineReason | None = None
    complaint: AttemptComplaint | None = None


class CallAttemptRead(Schema):
    id: uuid.UUID
    call_id: uuid.UUID
    club_id: uuid.UUID
    member_id: uuid.UUID
    staff_id: uuid.UUID | None = Field(description="Who dialled.")
    call_kind: CallKind = Field(description="The call's kind when it was attempted.")
    outcome: CallOutcome
    decline_reason: DeclineReason | None
    notes: str | None
    callback_at: datetime | None
    meeting_id: uuid.UUID | None
    complaint_id: uuid.UUID | None
    attempted_at: datetime
    call: CallRead = Field(description="The call as updated by this attempt.")

    @classmethod
    def of(cls, attempt: CallAttempt, call: ServiceCall) -> CallAttemptRead:
        data: dict[str, Any] = {k: getattr(attempt, k) for k in cls.model_fields if k != "call"}
        return cls(**data, call=CallRead.of(call))
