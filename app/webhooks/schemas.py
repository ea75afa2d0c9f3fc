from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema, field_validator

from app.core.schemas import InputSchema, Schema, ShortText
from app.events.service import EVENT_TYPES


def _known_event(value: str) -> str:
    if value not in EVENT_TYPES:
        raise ValueError("unknown event type; one of: " + ", ".join(EVENT_TYPES))
    return value


EventType = Annotated[
    str,
    AfterValidator(_known_event),
    WithJsonSchema({"type": "string", "enum": list(EVENT_TYPES)}),
]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Url = Annotated[str, StringConstraints(min_length=8, max_length=2000), AfterValidator(_no_nul)]
EventList = Annotated[list[EventType], Field(min_length=1, max_length=len(EVENT_TYPES))]


def _unique(values: list[Any] | None) -> list[Any] | None:
    return None if values is None else list(dict.fromkeys(values))


class WebhookCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "url": "https://crm.example.com/hooks/club-renewal",
                    "events": ["member.at_risk", "meeting.booked", "membership.renewed"],
                    "description": "CRM sync",
                    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
                }
            ]
        }
    }

    url: Url = Field(description="http(s) endpoint on a public address.")
    events: EventList = Field(description="Event types to receive.")
    description: ShortText | None = None
    club_id: uuid.UUID | None = Field(
        default=None,
        description="Receive only this club's events. Omit for chain-wide (admins only); "
        "a token for exactly one club defaults to that club.",
    )

    _dedupe = field_validator("events")(_unique)


class WebhookUpdate(InputSchema):
    model_config = {
        "json_schema_extra": {"examples": [{"active": True}, {"events": ["checkin.recorded"]}]}
    }

    url: Url | None = None
    events: EventList | None = None
    description: ShortText | None = None
    active: bool | None = Field(
        default=None,
        description="true re-enables a subscription disabled after failures (and resets "
        "its failure count); false pauses it.",
    )

    _dedupe = field_validator("events")(_unique)


_WEBHOOK_EXAMPLE: dict[str, Any] = {
    "id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0d01",
    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
    "url": "https://crm.example.com/hooks/club-renewal",
    "events": ["member.at_risk", "meeting.booked"],
    "description": "CRM sync",
    "active": True,
    "disabled_at": None,
    "disabled_reason": None,
    "consecutive_failures": 0,
    "created_at": "2026-03-01T09:00:00Z",
    "updated_at": "2026-03-01T09:00:00Z",
}


class WebhookRead(Schema):
    model_config = {"from_attributes": True, "json_schema_extra": {"examples": [_WEBHOOK_EXAMPLE]}}

    id: uuid.UUID
    club_id: uuid.UUID | None
    url: str
    events: list[str]
    description: str | None
    active: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    model_config = {
        "from_attributes": True,
        "json_schema_extra": {
            "examples": [
                {
                    **_WEBHOOK_EXAMPLE,
                    "secret": "whsec_9s8hQm1d0c2Zq4W5rT6yU7iO8pA9sD0fG1hJ2kL3zX4",
                }
            ]
        },
    }

    secret: str = Field(
        description="Signing secret, shown only now: keep it to verify `Webhook-Signature`."
    )


class AttemptRead(Schema):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int | None


class DeliveryRead(Schema):
    model_config = {
        "from_attributes": True,
        "json_schema_extra": {
            "examples": [
                {
                    "id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0e01",
                    "subscription_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0d01",
                    "event_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0f01",
                    "event_type": "meeting.booked",
                    "status": "pending",
                    "attempts": 2,
                    "next_attempt_at": "2026-03-01T09:02:00Z",
                    "last_attempt_at": "2026-03-01T09:01:00Z",
                    "last_status_code": 503,
                    "last_error": "HTTP 503",
                    "last_duration_ms": 84,
                    "delivered_at": None,
                    "created_at": "2026-03-01T09:00:30Z",
                    "attempt_log": [
                        {
                            "at": "2026-03-01T09:00:31Z",
                            "status_code": None,
                            "error": "ConnectError: connection refused",
                            "duration_ms": 3,
                        },
                        {
                            "at": "2026-03-01T09:01:00Z",
                            "status_code": 503,
                            "error": "HTTP 503",
                            "duration_ms": 84,
                        },
                    ],
                }
            ]
        },
    }

    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID = Field(
        validation_alias="event_public_id", description="The event's id (= `Webhook-Id`)."
    )
    event_type: str
    status: str = Field(description="`pending`, `delivered` or `failed`.")
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    last_duration_ms: int | None
    delivered_at: datetime | None
    created_at: datetime
    attempt_log: list[AttemptRead] = Field(description="The latest attempts, oldest first.")
