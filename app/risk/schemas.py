from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from app.core.schemas import Schema
from app.risk.scoring import Level, Segment, Suppression


class SuppressedFilter(StrEnum):
    """`none`: only members on the call list; `any`: only suppressed ones; or one reason."""

    NONE = "none"
    ANY = "any"
    DO_NOT_CONTACT = Suppression.DO_NOT_CONTACT.value
    FROZEN = Suppression.FROZEN.value
    RENEWED = Suppression.RENEWED.value
    RENEWAL_BOOKED = Suppression.RENEWAL_BOOKED.value
    NEW_MEMBER = Suppression.NEW_MEMBER.value


class RiskRead(Schema):
    """A member's lapse-risk assessment on one scan day, with the numbers behind it."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "member_id": "0193a3c4-58a1-7c2e-9b1e-1f2a3b4c5d6e",
                    "membership_id": "0193a3c4-58a1-7c2e-9b1e-1f2a3b4c5d70",
                    "score": 79,
                    "level": "at_risk",
                    "reasons": [
                        "no visit for 18 days; usually every 3 days",
                        "visits down 70% against the previous 8 weeks",
                    ],
                    "suppressed": None,
                    "assessed_at": "2026-03-10T02:00:00Z",
                    "segment": "active",
                    "club_id": "0193a3c4-58a1-7c2e-9b1e-1f2a3b4c5d00",
                    "scan_date": "2026-03-10",
                    "last_visit_at": "2026-02-20T16:12:00Z",
                    "gap_days": 18,
                    "usual_visits_per_week": 2.3,
                    "visits_last_4_weeks": 3,
                    "visits_previous_8_weeks": 20,
                    "visits_first_3_weeks": None,
                    "tenure_days": 412,
                    "days_to_end": 95,
                }
            ]
        }
    }

    member_id: uuid.UUID
    membership_id: uuid.UUID
    score: int = Field(ge=0, le=100, description="0-100; the call list is ordered by it.")
    level: Level
    reasons: list[str] = Field(description="Why, in plain words, strongest first.")
    suppressed: Suppression | None = Field(
        description="Why the member is not on the call list; null when they are."
    )
    assessed_at: datetime
    segment: Segment = Field(
        description="`sleeper`: pays but almost never came in the last 8 weeks (win-back)."
    )
    club_id: uuid.UUID
    scan_date: date = Field(description="The club-local day this assessment is for.")
    last_visit_at: datetime | None
    gap_days: int = Field(description="Days without a visit, frozen days not counted.")
    usual_visits_per_week: float = Field(
        description="The member's usual rate, shrunk towards the club median while "
        "the history is short."
    )
    visits_last_4_weeks: int
    visits_previous_8_weeks: int
    visits_first_3_weeks: int | None = Field(
        description="Only while the member is in their first 13 weeks."
    )
    tenure_days: int
    days_to_end: int


class RiskHistoryItem(Schema):
    scan_date: date
    assessed_at: datetime
    score: int
    level: Level
    segment: Segment
    suppressed: Suppression | None
    reasons: list[str]


class MemberRiskRead(Schema):
    member_id: uuid.UUID
    latest: RiskRead | None = Field(description="The newest assessment; null if never scanned.")
    history: list[RiskHistoryItem] = Field(description="Scan days, newest first.")
