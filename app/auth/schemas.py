from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from app.core.schemas import InputSchema, Name, Schema


class StaffTokenCreate(InputSchema):
    model_config = {"json_schema_extra": {"examples": [{"name": "front desk tablet"}]}}

    name: Name
    scopes: list[str] | None = Field(
        default=None,
        max_length=64,
        description="Narrow the token below the staff member's roles, e.g. ['calls:read']. "
        "Omitted: everything the roles allow.",
    )


class IntegrationTokenCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "name": "Turnstile 1",
                    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
                    "scopes": ["checkins:write", "access:check"],
                }
            ]
        }
    }

    name: Name
    club_id: uuid.UUID = Field(description="The one club this integration acts for.")
    scopes: list[str] = Field(min_length=1, max_length=64)
    member_id: uuid.UUID | None = Field(
        default=None, description="Pin the token to one member (a member's own app)."
    )


class TokenRead(Schema):
    id: uuid.UUID
    name: str
    kind: str
    staff_id: uuid.UUID | None
    club_id: uuid.UUID | None
    member_id: uuid.UUID | None
    scopes: list[str] | None
    prefix: str = Field(description="First characters of the secret, to recognise it.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIssued(TokenRead):
    token: str = Field(description="The secret. Shown once; store it now.")
