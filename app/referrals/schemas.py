from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from app.core.schemas import InputSchema, Schema
from app.members.schemas import PersonName, PhoneInput


class ReferralStatus(StrEnum):
    LEAD = "lead"
    JOINED = "joined"
    LOST = "lost"


class ReferralCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "referrer_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a99",
                    "name": "Anna Petrova",
                    "phone": "+7 916 555-01-02",
                }
            ]
        }
    }

    referrer_id: uuid.UUID = Field(description="The member who recommends the person.")
    name: PersonName
    phone: PhoneInput = Field(
        description="Any common format; stored as E.164. Without a country code the club's "
        "own phone number decides the country."
    )


class ReferralUpdate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {"status": "joined", "member_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0b42"},
                {"status": "lost"},
            ]
        }
    }

    status: ReferralStatus = Field(
        description="`joined` needs `member_id` (the new member, same club) and credits the "
        "referrer; `joined` is final. `lost` and `lead` move between each other."
    )
    member_id: uuid.UUID | None = Field(
        default=None, description="The new member; only with `joined`."
    )


class ReferralRead(Schema):
    id: uuid.UUID
    club_id: uuid.UUID
    referrer_id: uuid.UUID
    name: str | None = Field(description="Null once erased.")
    phone: str | None = Field(description="E.164; null once erased.")
    status: ReferralStatus
    member_id: uuid.UUID | None = Field(description="The member who joined.")
    joined_at: datetime | None
    lost_at: datetime | None
    credited_at: datetime | None = Field(
        description="When the referrer was credited with the new member."
    )
    created_by_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class ReferrerSummary(Schema):
    """What a member has brought to the club by recommending people."""

    member_id: uuid.UUID
    referred: int = Field(description="People recommended, in any status.")
    leads: int
    joined: int = Field(description="Recommended people who became members: the credits.")
    lost: int
    last_credited_at: datetime | None
