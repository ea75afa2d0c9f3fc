from __future__ import annotations

import uuid
from datetime import date

from pydantic import ConfigDict, Field

from app.core.schemas import Schema

GRACE_DAYS = 30


class Period(Schema):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", description="First club-local day, inclusive.")
    to: date = Field(description="Last club-local day, inclusive.")


class Report(Schema):
    club_id: uuid.UUID
    period: Period


# ------------------------------------------------------------------------ renewals


class RenewalCounts(Schema):
    ending: int = Field(description="Memberships ending in the period (cancelled ones excluded).")
    renewed_before_end: int = Field(
        description="Renewed with no day uncovered: the renewal starts the day after the old "
        "end (or earlier)."
    )
    renewed_in_grace: int = Field(
        description=f"Renewed after a gap of 1 to {GRACE_DAYS} days without a card."
    )
    lost: int = Field(description=f"Not renewed within {GRACE_DAYS} days of the end (or never).")
    pending: int = Field(
        description="Not renewed yet, but the grace period still runs: counted nowhere else."
    )
    renewal_rate: float | None = Field(
        description="(before end + in grace) / (before end + in grace + lost); pending "
        "excluded. Null when nothing is decided yet."
    )


class RenewalRow(RenewalCounts):
    month: str = Field(description="Month of the old membership's end date, `YYYY-MM`.")
    plan_id: uuid.UUID
    plan_name: str


class RenewalReport(Report):
    grace_days: int
    totals: RenewalCounts
    by_month_and_plan: list[RenewalRow]


# ----------------------------------------------------------------------------- NPS


class NpsReport(Report):
    responses: int
    promoters: int = Field(description="Scores 9-10.")
    passives: int = Field(description="Scores 7-8.")
    detractors: int = Field(description="Scores 0-6.")
    nps: float | None = Field(
        description="% promoters - % detractors, -100..100, one decimal; null without responses."
    )
    average_score: float | None = Field(description="Mean score, two decimals.")


# ----------------------------------------------------------------------- referrals


class ReferrerCredits(Schema):
    member_id: uuid.UUID
    credits: int


class ReferralReport(Report):
    referred: int = Field(description="People recommended in the period.")
    open: int = Field(description="Of them, still leads.")
    joined: int = Field(description="Of them, joined.")
    lost: int = Field(description="Of them, lost.")
    conversion_rate: float | None = Field(description="joined / referred.")
    credited: int = Field(description="Referrers credited in the period (joins recorded).")
    top_referrers: list[ReferrerCredits] = Field(description="Most credits in the period.")


# ------------------------------------------------------------------------- cohorts


class CohortRetention(Schema):
    day: int = Field(description="Days after joining (the join day is day 0).")
    eligible: int = Field(description="Members of the cohort for whom that day has come.")
    active: int = Field(
        description="Of them, members with a live membership that day (started, not ended, "
        "not cancelled; frozen counts as a member)."
    )
    rate: float | None = Field(description="active / eligible.")


class CohortRow(Schema):
    month: str = Field(description="Join month, `YYYY-MM` (join = first membership's start).")
    members: int
    retention: list[CohortRetention]
    members_past_100_days: int = Field(description="Members whose first 100 days are over.")
    visits_first_100_days: int = Field(
        description="Their visits to the club on days 0-99 after joining."
    )
    average_visits_first_100_days: float | None


class CohortReport(Report):
    cohorts: list[CohortRow] = Field(description="Members who joined in the period, by month.")
