from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from app.core.schemas import Schema


class EventRead(Schema):
    model_config = {
        "from_attributes": True,
        "json_schema_extra": {
            "examples": [
                {
                    "id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0f01",
                    "type": "meeting.booked",
                    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
                    "created_at": "2026-03-01T09:00:00Z",
                    "data": {"meeting_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0c01"},
                    "position": "WyJldmVudHMiLFs3NzEsMTJdXQ.3f1c0d9a8b7e6f5a4b3c2d1e0f9a8b7c",
                }
            ]
        },
    }

    id: uuid.UUID = Field(description="The event id (also `Webhook-Id` of its deliveries).")
    type: str
    club_id: uuid.UUID | None
    created_at: datetime
    data: dict[str, Any]
    position: str = Field(
        description="Opaque feed position of this event: pass it as `after` to read on."
    )


class EventPage(Schema):
    """A page of the feed. Store the `position` of the last event you processed and
    poll with `after=<position>`; `next_cursor` is set when more events are ready now."""

    items: list[EventRead]
    next_cursor: str | None = Field(
        default=None, description="Set when the page is full: pass it as `after`."
    )
