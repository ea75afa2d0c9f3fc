from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field, StrictInt

from app.core.schemas import InputSchema, LongText, Schema


class FeedbackCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "member_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a99",
                    "score": 9,
                    "comment": "Love the new pool hours; the changing rooms could be warmer.",
                    "call_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0f01",
                }
            ]
        }
    }

    member_id: uuid.UUID
    score: StrictInt = Field(
        ge=0, le=10, description="How likely to recommend the club, 0 (not at all) to 10."
    )
    comment: LongText | None = None
    call_id: uuid.UUID | None = Field(
        default=None,
        description="The feedback call it came from: a call of this member (422 "
        "`call_mismatch` otherwise); one answer per call.",
    )
    meeting_id: uuid.UUID | None = Field(
        default=None, description="The meeting it came from (one answer per meeting)."
    )


class FeedbackRead(Schema):
    id: uuid.UUID
    club_id: uuid.UUID
    member_id: uuid.UUID
    score: int
    comment: str | None
    call_id: uuid.UUID | None
    meeting_id: uuid.UUID | None
    recorded_by_id: uuid.UUID | None
    created_at: datetime
