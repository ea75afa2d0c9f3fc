"""Analytics: retention results of one club over a period of club-local days.

Every figure is counted in SQL (analytics.repository); this module resolves the club
and the period and turns counts into rates. Definitions are spelled out on the response
schemas (analytics.schemas) and in docs/retention.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import repository
from app.analytics.schemas import GRACE_DAYS, Period
from app.analytics.sql import LocalDays, day_of
from app.auth.permissions import Perm, Principal
from app.clubs.service import club_service
from app.core.clock import utcnow
from app.core.timezones import local_date, local_midnight_utc
from app.errors import Forbidden, RuleViolation
from app.models import Club
from app.models.meeting import DeclineReason

DEFAULT_DAYS = 90
MAX_DAYS = 731
# Days outside these have no UTC instants on every zone (year 1, year 9999) and no data.
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(2999, 12, 31)
TOP_REFERRERS = 10


@dataclass(frozen=True)
class Scope:
    """One club and a period of its local days, [start, end] inclusive, with the UTC
    instants that bound it: [start_at, end_at)."""

    club: Club
    start: date
    end: date
    start_at: datetime
    end_at: datetime
    today: date

    def report(self) -> dict[str, Any]:
        return {"club_id": self.club.id, "period": Period(**{"from": self.start, "to": self.end})}


def rate(part: int, whole: int) -> float | None:
    """part / whole to four decimals; None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None


def _invalid(pointer: str, detail: str) -> RuleViolation:
    return RuleViolation(
        f"{detail}.", code="validation_error", errors=[{"pointer": pointer, "detail": detail}]
    )


class AnalyticsService:
    async def scope(
        self,
        session: AsyncSession,
        actor: Principal,
        club_id: uuid.UUID,
        start: date | None,
        end: date | None,
        *,
        as_of: datetime | None = None,
    ) -> Scope:
        """The club (404 `club_not_found` outside the token's scope) and the period:
        `to` defaults to the club's today, `from` to 89 days before `to`."""
        actor.require(Perm.ANALYTICS_READ)
        if actor.member_id is not None:
            raise Forbidden("A token pinned to one member cannot read club analytics.")
        club = await club_service.get(session, actor, club_id)
        today = local_date(club.timezone, as_of or utcnow())
        end = end or today
        start = start or end - timedelta(days=DEFAULT_DAYS - 1)
        for pointer, day in (("/query/from", start), ("/query/to", end)):
            if not EARLIEST_DAY <= day <= LATEST_DAY:
                raise _invalid(pointer, f"dates must lie in {EARLIEST_DAY}..{LATEST_DAY}")
        if start > end:
            raise _invalid("/query/from", "from must not be after to")
        if (end - start).days + 1 > MAX_DAYS:
            raise _invalid("/query/from", f"the period may span at most {MAX_DAYS} days")
        return Scope(
            club=club,
            start=start,
            end=end,
            start_at=local_midnight_utc(club.timezone, start),
            end_at=local_midnight_utc(club.timezone, end + timedelta(days=1)),
            today=today,
        )

    async def renewals(self, session: AsyncSession, scope: Scope) -> dict[str, Any]:
        """Memberships ending in the period: renewed before the end, within the grace
        period, lost, or still pending."""
        club, start, end = scope.club.id, scope.start, scope.end
        today, grace = day_of(scope.today), GRACE_DAYS
        rows = await repository.renewals_by_month_and_plan(
            session, club, start, end, today=today, grace_days=grace
        )
        totals = await repository.renewals_total(
            session, club, start, end, today=today, grace_days=grace
        )
        return {
            **scope.report(),
            "grace_days": GRACE_DAYS,
            "totals": _with_rate(totals),
            "by_month_and_plan": [_with_rate(r) for r in rows],
        }

    async def nps(self, session: AsyncSession, scope: Scope) -> dict[str, Any]:
        """NPS from feedback given in the period: % promoters (9-10) - % detractors (0-6)."""
        c = await repository.nps_counts(session, scope.club.id, scope.start_at, scope.end_at)
        n = c["responses"]
        return {
            **scope.report(),
            "responses": n,
            "promoters": c["promoters"],
            "passives": c["passives"],
            "detractors": c["detractors"],
            "nps": round(100 * (c["promoters"] - c["detractors"]) / n, 1) if n else None,
            "average_score": round(int(c["score_sum"]) / n, 2) if n else None,
        }

    async def referrals(self, session: AsyncSession, scope: Scope) -> dict[str, Any]:
        """People recommended in the period and what became of them; referrers credited."""
        args = (session, scope.club.id, scope.start_at, scope.end_at)
        leads = await repository.referral_leads(*args)
        return {
            **scope.report(),
            **leads,
            "conversion_rate": rate(leads["joined"], leads["referred"]),
            "credited": await repository.referral_credit_total(*args),
            "top_referrers": await repository.referral_credits(*args, limit=TOP_REFERRERS),
        }

    async def funnel(self, session: AsyncSession, scope: Scope) -> dict[str, Any]:
        """Service calls first dialled in the period and how far each got: reached,
        meeting booked, meeting attended, renewal; in all and by call kind."""
        args = (session, scope.club.id, scope.start_at, scope.end_at)
        total = await repository.funnel_total(*args)
        rows = await repository.funnel_by_kind(*args)
        return {
            **scope.report(),
            **_funnel(total),
            "by_kind": [{"kind": r["kind"], **_funnel(r)} for r in rows],
        }

    async def decline_reasons(self, session: AsyncSession, scope: Scope) -> dict[str, Any]:
        """Declined call attempts and declined meeting outcomes in the period, by reason."""
        counts = {
            (r["source"], r["reason"]): int(r["count"])
            for r in await repository.decline_counts(
                session, scope.club.id, scope.start_at, scope.end_at
            )
        }
        calls = sum(n for (source, _), n in counts.items() if source == "call")
        meetings = sum(n for (source, _), n in counts.items() if source == "meeting")
        reasons = []
        for reason in DeclineReason:
            c, m = counts.get(("call", reason.value), 0), counts.get(("meeting", reason.value), 0)
            reasons.append(
                {
                    "reason": reason.value,
                    "calls": c,
                    "meetings": m,
                    "total": c + m,
                    "share": rate(c + m, calls + meetings),
                    "call_share": rate(c, calls),
                    "meeting_share": rate(m, meetings),
                }
            )
        return {
            **scope.report(),
            "declines": calls + meetings,
            "call_declines": calls,
            "meeting_declines": meetings,
            "reasons": reasons,
        }

    async def lapse_recovery(self, session: AsyncSession, scope: Scope) -> dict[str, Any]:
        """At-risk members called in the period who came back within 30 days of being
        reached; in all and by month of the first dial."""
        args = (session, scope.club.id, scope.start_at, scope.end_at)
        today, days = day_of(scope.today), _call_days(scope)
        totals = await repository.lapse_recovery_total(*args, today=today, days=days)
        rows = await repository.lapse_recovery_by_month(*args, today=today, days=days)
        return {
            **scope.report(),
            "recovery_days": repository.RECOVERY_DAYS,
            "totals": _recovery(totals),
            "by_month": [{"month": r["month"], **_recovery(r)} for r in rows],
        }

    async def staff(self, session: AsyncSession, scope: Scope) -> dict[str, Any]:
        """Per staff member: calls, members reached, meetings booked and held, renewals
        and recovered lapsers beside new sales."""
        rows = await repository.staff_credits(
            session,
            scope.club.id,
            scope.start_at,
            scope.end_at,
            today=day_of(scope.today),
            days=_call_days(scope),
        )
        return {
            **scope.report(),
            "staff": [
                {
                    "staff_id": r["staff_id"],
                    "name": r["name"],
                    **{m: int(r[m]) for m in repository.STAFF_METRICS},
                }
                for r in rows
            ],
        }

    async def cohorts(self, session: AsyncSession, scope: Scope) -> dict[str, Any]:
        """Members who joined in the period, by join month: still members at 30, 60 and
        100 days; visits in their first 100 days."""
        days = LocalDays(
            scope.club.timezone,
            scope.start_at - timedelta(days=2),
            scope.end_at + timedelta(days=repository.FIRST_DAYS + 2),
        )
        rows = await repository.cohorts(
            session, scope.club.id, scope.start, scope.end, today=day_of(scope.today), days=days
        )
        return {**scope.report(), "cohorts": [_cohort(r) for r in rows]}


def _call_days(scope: Scope) -> LocalDays:
    """Club-local days for call analytics: attempts and visits after the period count
    (up to today), so the span runs from the period's start to today + the recovery
    window, with a margin."""
    today_at = local_midnight_utc(scope.club.timezone, scope.today + timedelta(days=1))
    return LocalDays(
        scope.club.timezone,
        scope.start_at - timedelta(days=2),
        max(scope.end_at, today_at) + timedelta(days=repository.RECOVERY_DAYS + 2),
    )


def _funnel(counts: dict[str, Any]) -> dict[str, Any]:
    calls, reached, booked, attended, renewals = (int(counts[s]) for s in repository.FUNNEL_STAGES)
    return {
        "calls": calls,
        "reached": reached,
        "meetings_booked": booked,
        "meetings_attended": attended,
        "renewals": renewals,
        "rates": {
            "reached_per_call": rate(reached, calls),
            "booked_per_reached": rate(booked, reached),
            "attended_per_booked": rate(attended, booked),
            "renewed_per_attended": rate(renewals, attended),
            "renewed_per_call": rate(renewals, calls),
        },
    }


def _recovery(counts: dict[str, Any]) -> dict[str, Any]:
    called, reached, recovered, pending = (
        int(counts[k]) for k in ("called", "reached", "recovered", "pending")
    )
    return {
        "called": called,
        "reached": reached,
        "recovered": recovered,
        "pending": pending,
        "recovery_rate": rate(recovered, reached - pending),
    }


def _cohort(row: dict[str, Any]) -> dict[str, Any]:
    past = int(row["eligible_100"])
    visits = int(row["visits_first_100_days"])
    return {
        "month": row["month"],
        "members": row["members"],
        "retention": [
            {
                "day": n,
                "eligible": int(row[f"eligible_{n}"]),
                "active": int(row[f"active_{n}"]),
                "rate": rate(int(row[f"active_{n}"]), int(row[f"eligible_{n}"])),
            }
            for n in repository.COHORT_DAYS
        ],
        "members_past_100_days": past,
        "visits_first_100_days": visits,
        "average_visits_first_100_days": round(visits / past, 2) if past else None,
    }


def _with_rate(counts: dict[str, Any]) -> dict[str, Any]:
    renewed = counts["renewed_before_end"] + counts["renewed_in_grace"]
    return {**counts, "renewal_rate": rate(renewed, renewed + counts["lost"])}


analytics_service = AnalyticsService()
