from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import EmailStr, Field

from app.auth.permissions import Role
from app.core.schemas import InputSchema, Name, Schema


class StaffCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "name": "Anna Petrova",
                    "email": "anna@riverside.example",
                    "roles": ["caller"],
                    "club_ids": ["0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11"],
                }
            ]
        }
    }

    name: Name
    email: EmailStr | None = None
    roles: list[Role] = Field(min_length=1, max_length=6)
    club_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=500,
        description="Clubs this person acts for. Admins are chain-wide and may leave it empty.",
    )


class StaffUpdate(InputSchema):
    name: Name | None = None
    email: EmailStr | None = None
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=6)
    club_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)
    active: bool | None = Field(default=None, description="Inactive staff cannot use tokens.")


class StaffRead(Schema):
    id: uuid.UUID
    name: str
    email: str | None
    roles: list[Role]
    club_ids: list[uuid.UUID]
    active: bool
    created_at: datetime
    updated_at: datetime
