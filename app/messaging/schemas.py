from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from app.core.schemas import Schema


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


class MessageRead(Schema):
    model_config = {
        "from_attributes": True,
        "json_schema_extra": {
            "examples": [
                {
                    "id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0b01",
                    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
                    "member_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a99",
                    "channel": "sms",
                    "template": "meeting_reminder",
                    "category": "service",
                    "subject": None,
                    "body": "Maria, a reminder of your meeting at Riverside Fitness on "
                    "2026-03-12 18:30. Call us if you need another time.",
                    "to_address": "+79161234567",
                    "status": "queued",
                    "suppressed_reason": None,
                    "deferred_reason": "quiet_hours",
                    "attempts": 0,
                    "next_attempt_at": "2026-03-11T06:00:00Z",
                    "last_error": None,
                    "provider": None,
                    "provider_message_id": None,
                    "dedupe_key": "meeting_reminder:0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0c01",
                    "created_at": "2026-03-10T21:30:00Z",
                    "sent_at": None,
                }
            ]
        },
    }

    id: uuid.UUID
    club_id: uuid.UUID
    member_id: uuid.UUID
    channel: str
    template: str
    category: str
    subject: str | None
    body: str
    to_address: str
    status: MessageStatus
    suppressed_reason: str | None
    deferred_reason: str | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    provider: str | None
    provider_message_id: str | None
    dedupe_key: str
    created_at: datetime
    sent_at: datetime | None
