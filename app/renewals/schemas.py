from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from app.core.schemas import InputSchema, LongText
from app.memberships.schemas import MembershipRead
from app.memberships.status import MembershipStatus

RENEWAL_RULE = (
    "The new membership starts the day after the current end date, or today (club-local) "
    "when the current membership has already expired. The target plan is the same plan "
    "(source `renewal`) or one of its renewal targets: `upgrade` when its list price is "
    "higher than the current plan's, `downgrade` when lower, `renewal` when equal. It is "
    "priced like a quote for a renewal (the best eligible renewal promotion, or the named "
    "one) and linked to the old membership by `renews_id`; a membership is renewed at "
    "most once (409 `already_renewed`). Emits `membership.created` and "
    "`membership.renewed`."
)


class RenewalCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "plan_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a31",
                    "promotion_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a51",
                    "meeting_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a61",
                }
            ]
        }
    }

    plan_id: uuid.UUID = Field(
        description="The same plan, or one of the current plan's `renewal_target_ids`."
    )
    promotion_id: uuid.UUID | None = Field(
        default=None,
        description="Apply this promotion (422 `promotion_expired` or "
        "`promotion_not_eligible` when it does not apply); omitted: the best eligible one.",
    )
    meeting_id: uuid.UUID | None = Field(
        default=None,
        description="The in-club meeting at which the member renewed: one of this member's "
        "meetings, not cancelled or missed (then record its outcome `renewed`).",
    )
    special_conditions: LongText | None = Field(
        default=None, description="Anything agreed at the renewal that callers must know."
    )
    sold_by_id: uuid.UUID | None = Field(
        default=None,
        description="Staff member credited with the renewal; omitted: the one making the request.",
    )


class RenewalRead(MembershipRead):
    """The new membership."""

    meeting_id: uuid.UUID | None = Field(description="The meeting it was agreed at.")

    @classmethod
    def of_renewal(cls, membership: Any, status: MembershipStatus) -> RenewalRead:
        values = {k: getattr(membership, k) for k in cls.model_fields if k != "status"}
        return cls.model_validate({**values, "status": status})
