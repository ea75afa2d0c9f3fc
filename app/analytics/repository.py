"""All SQL of analytics: set-based aggregates over one club and one period.

Every statement filters by `club_id` first (the club_id indexes; the shard key of a
distributed deployment) and counts in the database; Python only formats the rows."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.analytics.sql import day_number, year_month
from app.models import Feedback, Membership, Plan, Referral

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
