"""The briefing's SQL: a fixed, small number of set-based statements per briefing, none
of them growing with the member's history (every list is bounded by a LIMIT).

Each statement is built once (`_once`) with bound parameters for its values: building
the expression and computing its cache key on every request cost more than running it
(the benchmark compares the briefing with the same SQL on raw asyncpg)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Executable, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    CallAttempt,
    Complaint,
    Freeze,
    Meeting,
    Member,
    Membership,
    OnboardingItem,
    Plan,
    Promotion,
    RiskAssessment,
    ServiceCall,
    Staff,
    WorkingHours,
    WorkingHoursException,
    staff_clubs,
)
from app.models.outreach import ComplaintStatus

_STATEMENTS: dict[Any, Executable] = {}


def _once(key: Any, build: Callable[[], Executable]) -> Executable:
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build()
    return stmt


def _p(name: str) -> Any:
    return bindparam(name)


async def member_and_membership(
    session: AsyncSession,
    member_id: uuid.UUID,
    membership_id: uuid.UUID | None,
    today: date,
) -> Any | None:
    """The member with the membership the call is about (the call's own, else the one
    covering today, else the latest started), its plan name and promotion name."""

    def build(given: bool) -> Executable:
        pick: Any = _p("membership_id")
        if not given:
            pick = (
                select(Membership.id)
                .where(
                    Membership.member_id == _p("member_id"),
                    Membership.cancelled_at.is_(None),
                    Membership.start_date <= _p("today"),
                )
                .order_by(Membership.start_date.desc(), Membership.id.desc())
                .limit(1)
                .scalar_subquery()
            )
        return (
            select(Member, Membership, Plan.name, Promotion.name)
            .outerjoin(
                Membership,
                and_(Membership.id == pick, Membership.member_id == Member.id),
            )
            .outerjoin(Plan, Plan.id == Membership.plan_id)
            .outerjoin(Promotion, Promotion.id == Membership.promotion_id)
            .where(Member.id == _p("member_id"))
        )

    given = membership_id is not None
    stmt = _once(("member", given), lambda: build(given))
    params: dict[str, Any] = {"member_id": member_id}
    params.update({"membership_id": membership_id} if given else {"today": today})
    return (await session.execute(stmt, params)).first()


async def live_freezes(
    session: AsyncSession, membership_id: uuid.UUID, today: date
) -> Sequence[Any]:
    """Freezes covering today or still to come, soonest first."""
    stmt = _once(
        "freezes",
        lambda: (
            select(Freeze.start_date, Freeze.end_date, Freeze.reason)
            .where(
                Freeze.membership_id == _p("membership_id"),
                Freeze.cancelled_at.is_(None),
                Freeze.end_date >= _p("today"),
            )
            .order_by(Freeze.start_date)
            .limit(5)
        ),
    )
    params = {"membership_id": membership_id, "today": today}
    return (await session.execute(stmt, params)).all()


async def latest_risk(session: AsyncSession, member_id: uuid.UUID) -> Any | None:
    stmt = _once(
        "risk",
        lambda: (
            select(
                RiskAssessment.level,
                RiskAssessment.score,
                RiskAssessment.reasons,
                RiskAssessment.suppressed,
                RiskAssessment.assessed_at,
                RiskAssessment.gap_days,
                RiskAssessment.usual_visits_per_week,
            )
            .where(RiskAssessment.member_id == _p("member_id"))
            .order_by(RiskAssessment.scan_date.desc())
            .limit(1)
        ),
    )
    return (await session.execute(stmt, {"member_id": member_id})).first()


async def earlier_calls(
    session: AsyncSession, member_id: uuid.UUID, exclude: uuid.UUID, *, calls: int, attempts: int
) -> Sequence[Any]:
    """The member's latest `calls` other calls, each with its attempts (one row per
    attempt; a call without attempts gives one row with null attempt columns)."""

    def build() -> Executable:
        recent = (
            select(ServiceCall.id)
            .where(ServiceCall.member_id == _p("member_id"), ServiceCall.id != _p("exclude"))
            .order_by(ServiceCall.created_at.desc(), ServiceCall.id.desc())
            .limit(calls)
            .subquery()
        )
        return (
            select(
                ServiceCall.id,
                ServiceCall.kind,
                ServiceCall.status,
                ServiceCall.outcome,
                ServiceCall.created_at,
                ServiceCall.closed_at,
                ServiceCall.close_reason,
                CallAttempt.attempted_at,
                CallAttempt.outcome,
                CallAttempt.decline_reason,
                CallAttempt.notes,
            )
            .join(recent, recent.c.id == ServiceCall.id)
            .outerjoin(CallAttempt, CallAttempt.call_id == ServiceCall.id)
            .order_by(
                ServiceCall.created_at.desc(),
                ServiceCall.id.desc(),
                CallAttempt.attempted_at.desc(),
            )
            .limit(calls * attempts)
        )

    stmt = _once(("calls", calls, attempts), build)
    return (await session.execute(stmt, {"member_id": member_id, "exclude": exclude})).all()


async def recent_meetings(session: AsyncSession, member_id: uuid.UUID, limit: int) -> Sequence[Any]:
    stmt = _once(
        ("meetings", limit),
        lambda: (
            select(
                Meeting.id,
                Meeting.starts_at,
                Meeting.purpose,
                Meeting.status,
                Meeting.outcome,
                Meeting.decline_reason,
            )
            .where(Meeting.member_id == _p("member_id"))
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
            .limit(limit)
        ),
    )
    return (await session.execute(stmt, {"member_id": member_id})).all()


async def open_complaints(session: AsyncSession, member_id: uuid.UUID, limit: int) -> Sequence[Any]:
    stmt = _once(
        ("complaints", limit),
        lambda: (
            select(
                Complaint.id,
                Complaint.category,
                Complaint.severity,
                Complaint.status,
                Complaint.description,
                Complaint.due_at,
                Complaint.created_at,
            )
            .where(
                Complaint.member_id == _p("member_id"),
                Complaint.status != ComplaintStatus.RESOLVED.value,
            )
            .order_by(Complaint.due_at, Complaint.id)
            .limit(limit)
        ),
    )
    return (await session.execute(stmt, {"member_id": member_id})).all()


async def active_promotions(
    session: AsyncSession, club_id: uuid.UUID, today: date, limit: int
) -> Sequence[Any]:
    """Name, kind and end date only: prices are for the meeting (DESIGN principle 2)."""
    stmt = _once(
        ("promotions", limit),
        lambda: (
            select(Promotion.id, Promotion.name, Promotion.kind, Promotion.valid_until)
            .where(
                Promotion.club_id == _p("club_id"),
                Promotion.active.is_(True),
                Promotion.valid_from <= _p("today"),
                Promotion.valid_until >= _p("today"),
            )
            .order_by(Promotion.valid_until, Promotion.id)
            .limit(limit)
        ),
    )
    return (await session.execute(stmt, {"club_id": club_id, "today": today})).all()


async def onboarding_items(session: AsyncSession, membership_id: uuid.UUID) -> Sequence[Any]:
    stmt = _once(
        "onboarding",
        lambda: (
            select(
                OnboardingItem.kind,
                OnboardingItem.status,
                OnboardingItem.due_date,
                OnboardingItem.completed_at,
            )
            .where(OnboardingItem.membership_id == _p("membership_id"))
            .order_by(OnboardingItem.due_date, OnboardingItem.kind)
        ),
    )
    return (await session.execute(stmt, {"membership_id": membership_id})).all()


async def meeting_staff(session: AsyncSession, club_id: uuid.UUID) -> Sequence[Any]:
    """Active staff of the club with their roles and weekly working hours (null: the
    club's opening hours); the caller keeps those with the role it needs (roles is a
    JSON list)."""
    stmt = _once(
        "staff",
        lambda: (
            select(Staff.id, Staff.roles, WorkingHours.weekly)
            .join(staff_clubs, staff_clubs.c.staff_id == Staff.id)
            .outerjoin(
                WorkingHours,
                and_(WorkingHours.staff_id == Staff.id, WorkingHours.club_id == _p("club_id")),
            )
            .where(staff_clubs.c.club_id == _p("club_id"), Staff.active.is_(True))
            .order_by(Staff.id)
        ),
    )
    return (await session.execute(stmt, {"club_id": club_id})).all()


async def working_exceptions(
    session: AsyncSession,
    club_id: uuid.UUID,
    staff_ids: Sequence[uuid.UUID],
    first: date,
    last: date,
) -> Sequence[Any]:
    if not staff_ids:
        return []
    stmt = _once(
        "exceptions",
        lambda: select(
            WorkingHoursException.staff_id,
            WorkingHoursException.on_date,
            WorkingHoursException.hours,
        ).where(
            WorkingHoursException.club_id == _p("club_id"),
            WorkingHoursException.staff_id.in_(bindparam("staff_ids", expanding=True)),
            WorkingHoursException.on_date >= _p("first"),
            WorkingHoursException.on_date <= _p("last"),
        ),
    )
    params = {"club_id": club_id, "staff_ids": list(staff_ids), "first": first, "last": last}
    return (await session.execute(stmt, params)).all()
