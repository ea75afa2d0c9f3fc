"""The briefing's SQL: a fixed, small number of set-based statements per briefing, none
of them growing with the member's history (every list is bounded by a LIMIT)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, select
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


async def member_and_membership(
    session: AsyncSession,
    member_id: uuid.UUID,
    membership_id: uuid.UUID | None,
    today: date,
) -> Any | None:
    """The member with the membership the call is about (the call's own, else the one
    covering today, else the latest started), its plan name and promotion name."""
    pick: Any = membership_id
    if membership_id is None:
        pick = (
            select(Membership.id)
            .where(
                Membership.member_id == member_id,
                Membership.cancelled_at.is_(None),
                Membership.start_date <= today,
            )
            .order_by(Membership.start_date.desc(), Membership.id.desc())
            .limit(1)
            .scalar_subquery()
        )
    stmt = (
        select(Member, Membership, Plan.name, Promotion.name)
        .outerjoin(
            Membership,
            and_(Membership.id == pick, Membership.member_id == Member.id),
        )
        .outerjoin(Plan, Plan.id == Membership.plan_id)
        .outerjoin(Promotion, Promotion.id == Membership.promotion_id)
        .where(Member.id == member_id)
    )
    return (await session.execute(stmt)).first()


async def live_freezes(
    session: AsyncSession, membership_id: uuid.UUID, today: date
) -> Sequence[Any]:
    """Freezes covering today or still to come, soonest first."""
    stmt = (
        select(Freeze.start_date, Freeze.end_date, Freeze.reason)
        .where(
            Freeze.membership_id == membership_id,
            Freeze.cancelled_at.is_(None),
            Freeze.end_date >= today,
        )
        .order_by(Freeze.start_date)
        .limit(5)
    )
    return (await session.execute(stmt)).all()


async def latest_risk(session: AsyncSession, member_id: uuid.UUID) -> Any | None:
    stmt = (
        select(
            RiskAssessment.level,
            RiskAssessment.score,
            RiskAssessment.reasons,
            RiskAssessment.suppressed,
            RiskAssessment.assessed_at,
            RiskAssessment.gap_days,
            RiskAssessment.usual_visits_per_week,
        )
        .where(RiskAssessment.member_id == member_id)
        .order_by(RiskAssessment.scan_date.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).first()


async def earlier_calls(
    session: AsyncSession, member_id: uuid.UUID, exclude: uuid.UUID, *, calls: int, attempts: int
) -> Sequence[Any]:
    """The member's latest `calls` other calls, each with its attempts (one row per
    attempt; a call without attempts gives one row with null attempt columns)."""
    recent = (
        select(ServiceCall.id)
        .where(ServiceCall.member_id == member_id, ServiceCall.id != exclude)
        .order_by(ServiceCall.created_at.desc(), ServiceCall.id.desc())
        .limit(calls)
        .subquery()
    )
    stmt = (
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
    return (await session.execute(stmt)).all()


async def recent_meetings(session: AsyncSession, member_id: uuid.UUID, limit: int) -> Sequence[Any]:
    stmt = (
        select(
            Meeting.id,
            Meeting.starts_at,
            Meeting.purpose,
            Meeting.status,
            Meeting.outcome,
            Meeting.decline_reason,
        )
        .where(Meeting.member_id == member_id)
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


async def open_complaints(session: AsyncSession, member_id: uuid.UUID, limit: int) -> Sequence[Any]:
    stmt = (
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
            Complaint.member_id == member_id,
            Complaint.status != ComplaintStatus.RESOLVED.value,
        )
        .order_by(Complaint.due_at, Complaint.id)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


async def active_promotions(
    session: AsyncSession, club_id: uuid.UUID, today: date, limit: int
) -> Sequence[Any]:
    """Name, kind and end date only: prices are for the meeting (DESIGN principle 2)."""
    stmt = (
        select(Promotion.id, Promotion.name, Promotion.kind, Promotion.valid_until)
        .where(
            Promotion.club_id == club_id,
            Promotion.active.is_(True),
            Promotion.valid_from <= today,
            Promotion.valid_until >= today,
        )
        .order_by(Promotion.valid_until, Promotion.id)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


async def onboarding_items(session: AsyncSession, membership_id: uuid.UUID) -> Sequence[Any]:
    stmt = (
        select(
            OnboardingItem.kind,
            OnboardingItem.status,
            OnboardingItem.due_date,
            OnboardingItem.completed_at,
        )
        .where(OnboardingItem.membership_id == membership_id)
        .order_by(OnboardingItem.due_date, OnboardingItem.kind)
    )
    return (await session.execute(stmt)).all()


async def meeting_staff(session: AsyncSession, club_id: uuid.UUID) -> Sequence[Any]:
    """Active staff of the club with their roles and weekly working hours (null: the
    club's opening hours); the caller keeps those with the role it needs (roles is a
    JSON list)."""
    stmt = (
        select(Staff.id, Staff.roles, WorkingHours.weekly)
        .join(staff_clubs, staff_clubs.c.staff_id == Staff.id)
        .outerjoin(
            WorkingHours,
            and_(WorkingHours.staff_id == Staff.id, WorkingHours.club_id == club_id),
        )
        .where(staff_clubs.c.club_id == club_id, Staff.active.is_(True))
        .order_by(Staff.id)
    )
    return (await session.execute(stmt)).all()


async def working_exceptions(
    session: AsyncSession,
    club_id: uuid.UUID,
    staff_ids: Sequence[uuid.UUID],
    first: date,
    last: date,
) -> Sequence[Any]:
    if not staff_ids:
        return []
    stmt = select(
        WorkingHoursException.staff_id, WorkingHoursException.on_date, WorkingHoursException.hours
    ).where(
        WorkingHoursException.club_id == club_id,
        WorkingHoursException.staff_id.in_(staff_ids),
        WorkingHoursException.on_date >= first,
        WorkingHoursException.on_date <= last,
    )
    return (await session.execute(stmt)).all()
