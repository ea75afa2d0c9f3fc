"""All SQL of analytics: set-based aggregates over one club and one period.

Every statement filters by `club_id` first (the club_id indexes; the shard key of a
distributed deployment) and counts in the database; Python only formats the rows."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.analytics.sql import LocalDays, day_number, year_month
from app.models import Checkin, Feedback, Membership, Plan, Referral

BUCKETS = ("renewed_before_end", "renewed_in_grace", "lost", "pending")


# ------------------------------------------------------------------------- renewals


def _renewal_outcomes(
    club_id: uuid.UUID, start: date, end: date, *, today: int, grace_days: int
) -> Any:
    """One row per membership of the club ending in [start, end] (not cancelled) with
    its outcome: the renewal (`renews_id`) starts with no day uncovered (renewed before
    the end), after a gap of at most `grace_days` days (in grace), later or never (lost),
    or not yet and the grace period still runs (pending). `today` is a day number."""
    old = aliased(Membership, name="old")
    new = aliased(Membership, name="new")
    gap = day_number(new.start_date) - day_number(old.end_date) - 1
    outcome = case(
        (and_(new.id.is_not(None), gap <= 0), literal("renewed_before_end")),
        (and_(new.id.is_not(None), gap <= grace_days), literal("renewed_in_grace")),
        (
            and_(new.id.is_(None), day_number(old.end_date) + grace_days >= today),
            literal("pending"),
        ),
        else_=literal("lost"),
    )
    return (
        select(
            old.id.label("membership_id"),
            old.plan_id.label("plan_id"),
            year_month(old.end_date).label("month"),
            outcome.label("outcome"),
        )
        .select_from(old)
        .outerjoin(new, new.renews_id == old.id)
        .where(
            old.club_id == club_id,
            old.end_date >= start,
            old.end_date <= end,
            old.cancelled_at.is_(None),
        )
        .subquery("outcomes")
    )


def _bucket_counts(outcomes: Any) -> list[ColumnElement[int]]:
    return [
        func.count().label("ending"),
        *(func.count().filter(outcomes.c.outcome == b).label(b) for b in BUCKETS),
    ]


async def renewals_by_month_and_plan(
    session: AsyncSession,
    club_id: uuid.UUID,
    start: date,
    end: date,
    *,
    today: int,
    grace_days: int,
) -> list[dict[str, Any]]:
    outcomes = _renewal_outcomes(club_id, start, end, today=today, grace_days=grace_days)
    stmt: Select[Any] = (
        select(
            outcomes.c.month,
            outcomes.c.plan_id,
            Plan.name.label("plan_name"),
            *_bucket_counts(outcomes),
        )
        .join(Plan, Plan.id == outcomes.c.plan_id)
        .group_by(outcomes.c.month, outcomes.c.plan_id, Plan.name)
        .order_by(outcomes.c.month, Plan.name, outcomes.c.plan_id)
    )
    return [dict(r._mapping) for r in await session.execute(stmt)]


async def renewals_total(
    session: AsyncSession,
    club_id: uuid.UUID,
    start: date,
    end: date,
    *,
    today: int,
    grace_days: int,
) -> dict[str, Any]:
    outcomes = _renewal_outcomes(club_id, start, end, today=today, grace_days=grace_days)
    row = (await session.execute(select(*_bucket_counts(outcomes)))).one()
    return dict(row._mapping)


# ------------------------------------------------------------------------------ NPS


async def nps_counts(
    session: AsyncSession, club_id: uuid.UUID, start_at: datetime, end_at: datetime
) -> dict[str, Any]:
    """Responses in [start_at, end_at): promoters 9-10, passives 7-8, detractors 0-6."""
    stmt = select(
        func.count().label("responses"),
        func.count().filter(Feedback.score >= 9).label("promoters"),
        func.count().filter(Feedback.score.between(7, 8)).label("passives"),
        func.count().filter(Feedback.score <= 6).label("detractors"),
        func.sum(Feedback.score).label("score_sum"),
    ).where(
        Feedback.club_id == club_id,
        Feedback.created_at >= start_at,
        Feedback.created_at < end_at,
    )
    return dict((await session.execute(stmt)).one()._mapping)


# ------------------------------------------------------------------------ referrals


async def referral_leads(
    session: AsyncSession, club_id: uuid.UUID, start_at: datetime, end_at: datetime
) -> dict[str, Any]:
    """Leads recommended in [start_at, end_at), by their status now."""
    stmt = select(
        func.count().label("referred"),
        func.count().filter(Referral.status == "lead").label("open"),
        func.count().filter(Referral.status == "joined").label("joined"),
        func.count().filter(Referral.status == "lost").label("lost"),
    ).where(
        Referral.club_id == club_id,
        Referral.created_at >= start_at,
        Referral.created_at < end_at,
    )
    return dict((await session.execute(stmt)).one()._mapping)


async def referral_credit_total(
    session: AsyncSession, club_id: uuid.UUID, start_at: datetime, end_at: datetime
) -> int:
    stmt = select(func.count()).where(
        Referral.club_id == club_id,
        Referral.credited_at >= start_at,
        Referral.credited_at < end_at,
    )
    return int(await session.scalar(stmt) or 0)


async def referral_credits(
    session: AsyncSession,
    club_id: uuid.UUID,
    start_at: datetime,
    end_at: datetime,
    *,
    limit: int,
) -> list[dict[str, Any]]:
    """Referrers credited in [start_at, end_at), most credits first."""
    credits = func.count().label("credits")
    stmt = (
        select(Referral.referrer_id.label("member_id"), credits)
        .where(
            Referral.club_id == club_id,
            Referral.credited_at >= start_at,
            Referral.credited_at < end_at,
        )
        .group_by(Referral.referrer_id)
        .order_by(credits.desc(), Referral.referrer_id)
        .limit(limit)
    )
    return [dict(r._mapping) for r in await session.execute(stmt)]


# -------------------------------------------------------------------------- cohorts

COHORT_DAYS = (30, 60, 100)
FIRST_DAYS = 100


async def cohorts(
    session: AsyncSession,
    club_id: uuid.UUID,
    start: date,
    end: date,
    *,
    today: int,
    days: LocalDays,
) -> list[dict[str, Any]]:
    """Members who joined in [start, end] (join = their first membership's start), by
    join month: how many are still members N days later (a live membership covers the
    join day + N: started, not ended, not cancelled by then), counted once that day has
    come; and their visits to the club in days 0..99, for members whose 100 days are over.
    `today` is a day number; `days` turns instants into club-local day numbers."""
    joins = (
        select(Membership.member_id, func.min(Membership.start_date).label("join_date"))
        .where(Membership.club_id == club_id)
        .group_by(Membership.member_id)
        .subquery("joins")
    )
    join_day = day_number(joins.c.join_date)

    def covered(n: int) -> ColumnElement[bool]:
        m = aliased(Membership, name=f"m{n}")
        on = join_day + n
        return exists().where(
            m.club_id == club_id,
            m.member_id == joins.c.member_id,
            day_number(m.start_date) <= on,
            day_number(m.end_date) >= on,
            or_(m.cancelled_at.is_(None), days.of(m.cancelled_at) > on),
        )

    visit_day = days.of(Checkin.checked_in_at)
    visits = (
        select(func.count())
        .where(
            Checkin.club_id == club_id,
            Checkin.member_id == joins.c.member_id,
            visit_day >= join_day,
            visit_day < join_day + FIRST_DAYS,
        )
        .scalar_subquery()
    )
    columns: list[Any] = [year_month(joins.c.join_date).label("month")]
    for n in COHORT_DAYS:
        came = join_day + n <= today
        columns += [
            case((came, 1), else_=0).label(f"eligible_{n}"),
            case((and_(came, covered(n)), 1), else_=0).label(f"active_{n}"),
        ]
    columns.append(case((join_day + FIRST_DAYS <= today, visits), else_=0).label("visits"))
    per_member = (
        select(*columns)
        .where(joins.c.join_date >= start, joins.c.join_date <= end)
        .subquery("per_member")
    )
    stmt = (
        select(
            per_member.c.month,
            func.count().label("members"),
            *(
                func.sum(per_member.c[f"{kind}_{n}"]).label(f"{kind}_{n}")
                for n in COHORT_DAYS
                for kind in ("eligible", "active")
            ),
            func.sum(per_member.c.visits).label("visits_first_100_days"),
        )
        .group_by(per_member.c.month)
        .order_by(per_member.c.month)
    )
    return [dict(r._mapping) for r in await session.execute(stmt)]
