from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

from app.core.schemas import InputSchema, Instant, Name, Schema
from app.risk.scoring import Level

SAMPLE_SIZE = 10
ATTRIBUTION_DAYS = 30


def _no_control(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    return value


Interest = Annotated[
    str, StringConstraints(min_length=1, max_length=50), AfterValidator(_no_control)
]
ContextText = Annotated[str, StringConstraints(max_length=300), AfterValidator(_no_control)]
TemplateName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class CampaignChannel(StrEnum):
    """The channels a contact can take; campaigns accept sms and email (a marketing
    call has no consent to stand on and is refused with 422)."""

    CALL = "call"
    SMS = "sms"
    EMAIL = "email"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENT = "sent"


class CampaignSegment(InputSchema):
    """Who a campaign is for. Every member of the club holding a current membership (not
    cancelled, ending today or later; frozen and not yet started included), narrowed by
    each criterion given (all must hold)."""

    plan_ids: list[uuid.UUID] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="A current membership on one of these plans.",
    )
    ending_within_days: int | None = Field(
        default=None,
        ge=0,
        le=365,
        description="A current membership (on `plan_ids` if given) that ends within this many "
        "days from today (club-local) with nothing bought to follow it.",
    )
    risk_levels: list[Level] | None = Field(
        default=None,
        min_length=1,
        max_length=4,
        description="Whose latest lapse-risk assessment (the club's latest scan) is at one of "
        "these levels: ok, watch, at_risk, lapsed.",
    )
    interests: list[Interest] | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="At least one of these interests (case-insensitive).",
    )
    birthday_month: int | None = Field(
        default=None, ge=1, le=12, description="Born in this month (1 = January)."
    )
    promotion_id: uuid.UUID | None = Field(
        default=None,
        description="Members who may use this promotion of the club (its per-member limit; "
        "for renewal offers a renewable membership, ending late enough for an early-renewal "
        "condition). Fills the template's promotion_name and valid_until unless given.",
    )


class CampaignCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
                    "name": "Spring pool news",
                    "template": "promotion_news",
                    "channel": "sms",
                    "context": {"promotion_name": "Spring swim weeks", "valid_until": "2026-04-30"},
                    "segment": {"interests": ["pool"], "ending_within_days": 60},
                    "send_at": "2026-03-12T10:00:00+03:00",
                }
            ]
        }
    }

    club_id: uuid.UUID
    name: Name
    template: TemplateName = Field(
        description="A message template with the marketing category (see the Messages tag)."
    )
    channel: CampaignChannel = Field(
        description="`sms` or `email`: marketing needs the member's marketing consent for that "
        "channel. `call` has no marketing consent and is refused."
    )
    segment: CampaignSegment = Field(default_factory=CampaignSegment)
    context: dict[Annotated[str, StringConstraints(min_length=1, max_length=40)], ContextText] = (
        Field(
            default_factory=dict,
            max_length=10,
            description="Values of the template's own placeholders (e.g. promotion_name).",
        )
    )
    send_at: Instant | None = Field(
        default=None,
        description="Send later (the `campaigns` job sends it once due); omitted: a draft "
        "sent with POST /campaigns/{id}/send.",
    )


class DeliveryCounts(Schema):
    queued: int = Field(description="Waiting in the outbox (including deferred ones).")
    sent: int
    failed: int
    suppressed: dict[str, int] = Field(description="Refused by the contact policy, by reason.")


class AttributedRenewals(Schema):
    count: int = Field(
        description=f"Renewals and upgrades (not cancelled) bought by messaged members after "
        f"their message was sent and within {ATTRIBUTION_DAYS} days of the campaign's send."
    )
    revenue: int = Field(description="Their price paid, minor units of the club's currency.")


class CampaignRead(Schema):
    id: uuid.UUID
    club_id: uuid.UUID
    name: str
    template: str
    channel: str
    segment: dict[str, Any]
    context: dict[str, Any]
    status: CampaignStatus
    send_at: datetime | None
    sent_at: datetime | None
    created_by_id: uuid.UUID | None
    send_summary: dict[str, Any] | None = Field(
        description="What the send reported when it ran: queued, suppressed and deferred "
        "counts by reason."
    )
    created_at: datetime
    updated_at: datetime


class CampaignResults(CampaignRead):
    results: DeliveryCounts | None = Field(
        description="What became of the messages, from the outbox now; null before sending."
    )
    renewals: AttributedRenewals | None = Field(
        description="Renewals attributed to the campaign; null before sending."
    )


class PreviewMember(Schema):
    member_id: uuid.UUID
    first_name: str
    last_name: str


class CampaignPreview(Schema):
    count: int = Field(description="Members in the segment now (before the contact policy).")
    sample: list[PreviewMember] = Field(description=f"Up to {SAMPLE_SIZE} of them, by last name.")


class CampaignSendResult(Schema):
    queued: int = Field(description="Messages queued (due now or deferred to an allowed time).")
    suppressed: dict[str, int] = Field(
        description="Members the contact policy refused, by reason (no_consent, "
        "do_not_contact, cap_reached, no_address, ...)."
    )
    deferred: dict[str, int] = Field(
        description="Of the queued, those waiting for an allowed time, by reason "
        "(quiet_hours, silence_period, outside_contact_window)."
    )
