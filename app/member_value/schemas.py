from __future__ import annotations

import uuid
from datetime import date

from pydantic import Field

from app.core.schemas import Schema

VALUE_RULE = (
    "Revenue is the sum of `price_paid` (minor units) of the member's memberships in their "
    "club, cancelled ones included (refunds are not recorded here). A membership counts "
    "on its sale date, the club-local date it was created; the trailing 12 months are "
    "the sales made from `trailing_12m_since` through today, club-local."
)


class MemberValueRead(Schema):
    model_config = {"json_schema_extra": {"description": VALUE_RULE}}

    member_id: uuid.UUID
    lifetime_revenue: int = Field(description="Minor units, every sale to this member.")
    trailing_12m_revenue: int = Field(description="Minor units, sales in the last 12 months.")
    trailing_12m_since: date = Field(description="First club-local day of that window.")
    currency: str
