from __future__ import annotations

import uuid
from datetime import date
from typing import Any

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


# --------------------------------------------------------------------------- funnel

_CLUB = "0b7c6e52-8a47-4c38-9a43-3f1d5e2a9c10"
_PERIOD: dict[str, Any] = {"from": "2026-03-18", "to": "2026-06-15"}


class FunnelRates(Schema):
    reached_per_call: float | None = Field(description="reached / calls.")
    booked_per_reached: float | None = Field(description="meetings_booked / reached.")
    attended_per_booked: float | None = Field(description="meetings_attended / meetings_booked.")
    renewed_per_attended: float | None = Field(description="renewals / meetings_attended.")
    renewed_per_call: float | None = Field(description="renewals / calls, end to end.")


class FunnelCounts(Schema):
    calls: int = Field(
        description="Service calls of the club first dialled in the period (first attempt "
        "on a club-local day of the period). Calls never dialled are not in the funnel."
    )
    reached: int = Field(
        description="Of them, calls with an attempt (at any time) that spoke to the member: "
        "any outcome but no_answer, voicemail and wrong_number."
    )
    meetings_booked: int = Field(
        description="Of the reached, calls that booked a meeting (a meeting with this "
        "`call_id`, whatever became of it)."
    )
    meetings_attended: int = Field(description="Of them, calls whose meeting the member attended.")
    renewals: int = Field(
        description="Of them, calls whose attended meeting produced a membership (the "
        "meeting's outcome membership, or a membership sold at it), not cancelled."
    )
    rates: FunnelRates = Field(
        description="Between consecutive stages, four decimals; null when the earlier stage is 0."
    )


class FunnelKindRow(FunnelCounts):
    kind: str = Field(description="The call's kind (a merged call counts under its kind).")


_RATES: dict[str, Any] = {
    "reached_per_call": 0.75,
    "booked_per_reached": 0.5,
    "attended_per_booked": 0.6667,
    "renewed_per_attended": 0.5,
    "renewed_per_call": 0.125,
}
_FUNNEL: dict[str, Any] = {
    "calls": 8,
    "reached": 6,
    "meetings_booked": 3,
    "meetings_attended": 2,
    "renewals": 1,
    "rates": _RATES,
}


class FunnelReport(Report, FunnelCounts):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "club_id": _CLUB,
                    "period": _PERIOD,
                    **_FUNNEL,
                    "by_kind": [{"kind": "renewal", **_FUNNEL}],
                }
            ]
        }
    )

    by_kind: list[FunnelKindRow] = Field(
        description="The same funnel per call kind, kinds with calls only, by kind name."
    )


# ------------------------------------------------------------------ decline reasons


class DeclineReasonRow(Schema):
    reason: str = Field(description="price, schedule, moved, health, dissatisfied, "
                        "competitor, no_time or other.")  # fmt: skip
    calls: int = Field(description="Call attempts declined for this reason.")
    meetings: int = Field(description="Meeting outcomes declined for this reason.")
    total: int = Field(description="calls + meetings.")
    share: float | None = Field(description="total / all declines.")
    call_share: float | None = Field(description="calls / call declines.")
    meeting_share: float | None = Field(description="meetings / meeting declines.")


class DeclineReasonReport(Report):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "club_id": _CLUB,
                    "period": _PERIOD,
                    "declines": 4,
                    "call_declines": 3,
                    "meeting_declines": 1,
                    "reasons": [
                        {
                            "reason": "price",
                            "calls": 2,
                            "meetings": 1,
                            "total": 3,
                            "share": 0.75,
                            "call_share": 0.6667,
                            "meeting_share": 1.0,
                        }
                    ],
                }
            ]
        }
    )

    declines: int = Field(description="call_declines + meeting_declines.")
    call_declines: int = Field(description="Call attempts with outcome declined in the period.")
    meeting_declines: int = Field(description="Meeting outcomes `declined` recorded in the period.")
    reasons: list[DeclineReasonRow] = Field(
        description="Every reason of the taxonomy, in its order, zeros included."
    )


# -------------------------------------------------------------------- lapse recovery


class RecoveryCounts(Schema):
    called: int = Field(
        description="At-risk calls first dialled in the period: `lapse` calls, or calls to a "
        "member whose latest risk level (at most 14 days old at the first dial) was at_risk "
        "or lapsed."
    )
    reached: int = Field(description="Of them, calls with an attempt that spoke to the member.")
    recovered: int = Field(
        description="Of them, members who checked in at the club after a reaching attempt, "
        "on or before the 30th club-local day after it."
    )
    pending: int = Field(
        description="Reached, not back yet, and the 30 days after the last reaching attempt "
        "still run: counted nowhere else."
    )
    recovery_rate: float | None = Field(description="recovered / (reached - pending).")


class RecoveryMonth(RecoveryCounts):
    month: str = Field(description="Club-local month of the call's first dial, `YYYY-MM`.")


class LapseRecoveryReport(Report):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "club_id": _CLUB,
                    "period": _PERIOD,
                    "recovery_days": 30,
                    "totals": {
                        "called": 10,
                        "reached": 7,
                        "recovered": 3,
                        "pending": 1,
                        "recovery_rate": 0.5,
                    },
                    "by_month": [
                        {
                            "month": "2026-05",
                            "called": 10,
                            "reached": 7,
                            "recovered": 3,
                            "pending": 1,
                            "recovery_rate": 0.5,
                        }
                    ],
                }
            ]
        }
    )

    recovery_days: int
    totals: RecoveryCounts
    by_month: list[RecoveryMonth]


# -------------------------------------------------------------------------- staff


class StaffRow(Schema):
    staff_id: uuid.UUID
    name: str
    attempts: int = Field(description="Dials made in the period.")
    calls_attempted: int = Field(description="Distinct service calls dialled.")
    members_reached: int = Field(description="Distinct members spoken to (a reaching attempt).")
    meetings_booked: int = Field(
        description="Meetings created in the period they booked (`booked_by`, else the "
        "caller of the attempt that booked it)."
    )
    meetings_held: int = Field(
        description="Meetings starting in the period they held as consultant, attended."
    )
    renewals: int = Field(
        description="Memberships renewing another (`renews_id`), sold in the period, not "
        "cancelled: credited to the consultant of the meeting they were sold at, else to "
        "the seller."
    )
    recovered_lapsers: int = Field(
        description="Lapse recovery's recovered calls (first dialled in the period), "
        "credited to the caller of the last reaching attempt a return visit followed."
    )
    new_sales: int = Field(
        description="Memberships with source `new` they sold in the period, not cancelled."
    )


class StaffReport(Report):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "club_id": _CLUB,
                    "period": _PERIOD,
                    "staff": [
                        {
                            "staff_id": "5f0e4b1c-2d3a-4e5f-8a9b-0c1d2e3f4a5b",
                            "name": "Anna Caller",
                            "attempts": 40,
                            "calls_attempted": 31,
                            "members_reached": 22,
                            "meetings_booked": 9,
                            "meetings_held": 0,
                            "renewals": 0,
                            "recovered_lapsers": 4,
                            "new_sales": 0,
                        }
                    ],
                }
            ]
        }
    )

    staff: list[StaffRow] = Field(
        description="Staff members with anything to their credit in the period, by name."
    )
