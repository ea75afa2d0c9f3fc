from __future__ import annotations

import uuid
from typing import Annotated, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from app.access.rules import AccessReason
from app.core.schemas import InputSchema, Instant, Schema


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


CardNumber = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_no_nul)]


class AccessCheck(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
                    "card_number": "0004417021",
                },
                {
                    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
                    "member_id": "0190f5a3-1c2d-7e4f-8a9b-0c1d2e3f4a5b",
                    "at": "2026-03-10T07:45:00+03:00",
                },
            ]
        }
    }

    club_id: uuid.UUID = Field(description="The club the member is at.")
    member_id: uuid.UUID | None = Field(default=None, description="The member, or...")
    card_number: CardNumber | None = Field(default=None, description="...their card number.")
    at: Instant | None = Field(
        default=None, description="When (RFC 3339 with offset); default now."
    )

    @model_validator(mode="after")
    def _one_reference(self) -> Self:
        if (self.member_id is None) == (self.card_number is None):
            raise ValueError("send exactly one of member_id or card_number")
        return self


class AccessResult(Schema):
    allowed: bool
    reason: AccessReason = Field(
        description="`ok`, or why not: `no_membership`, `expired`, `not_started`, `frozen`, "
        "`outside_plan_hours`, `visit_limit_reached`, `cancelled`."
    )
    membership_id: uuid.UUID | None = Field(
        default=None, description="The membership the decision was made on, if any."
    )


class AccessCheckResult(AccessResult):
    member_id: uuid.UUID = Field(description="The member (useful when asked by card).")
