"""All SQL of onboarding: checklists, wellness tests, visit plans and their analytics."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Club,
    Membership,
    Onboarding,
    OnboardingItem,
    Staff,
    VisitPlanSlot,
    WellnessTest,
    staff_clubs,
)

# ---------------------------------------------------------------------------- lookups


async def club(session: AsyncSession, club_id: uuid.UUID) -> Club | None:
    return await session.get(Club, club_id)


async def club_staff(
    session: AsyncSession, club_id: uuid.UUID, staff_ids: Iterable[uuid.UUID]
) -> list[Staff]:
    """Active staff among `staff_ids` who work for `club_id` (roles checked by the caller)."""
    ids = list(dict.fromkeys(staff_ids))
    if not ids:
        return []
    stmt = select(Staff).where(
        Staff.id.in_(ids),
        Staff.active.is_(True),
        Staff.id.in_(select(staff_clubs.c.staff_id).where(staff_clubs.c.club_id == club_id)),
    )
    return list((await session.scalars(stmt)).all())


# -------------------------------------------------------------------------- checklists


def add_checklist(
    session: AsyncSession, onboarding: Onboarding, items: list[OnboardingItem]
) -> None:
    session.add(onboarding)
    session.add_all(items)


async def onboarding_of(session: AsyncSession, membership_id: uuid.UUID) -> Onboarding | None:
    return await session.scalar(select(Onboarding).where(Onboarding.membership_id == membership_id))


async def items_of(session: AsyncSession, membership_id: uuid.UUID) -> list[OnboardingItem]:
    stmt = select(OnboardingItem).where(OnboardingItem.membership_id == membership_id)
    return list((await session.scalars(stmt)).all())


async def latest_onboarding_of_member(
    session: AsyncSession, member_id: uuid.UUID
) -> Onboarding | None:
    stmt = (
        select(Onboarding)
        .where(Onboarding.member_id == member_id)
        .order_by(Onboarding.started_on.desc(), Onboarding.id.desc())
        .limit(1)
    )
    return await session.scalar(stmt)


async def lock_item(
    session: AsyncSession, membership_id: uuid.UUID, kind: str
) -> OnboardingItem | None:
    """The item, locked for this transaction (PostgreSQL `FOR UPDATE`; SQLite serialises
    writers), so a hand edit and an automatic completion apply one after the other."""
    stmt = (
        select(OnboardingItem)
        .where(OnboardingItem.membership_id == membership_id, OnboardingItem.kind == kind)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def complete_open_items(
    session: AsyncSession,
    member_id: uuid.UUID,
    kind: str,
    *,
    at: datetime,
    via: str,
    by_staff_id: uuid.UUID | None,
    meeting_id: uuid.UUID | None = None,
) -> int:
    """Mark the member's open items of `kind` done, on memberships not cancelled.
    Returns how many changed."""
    live = select(Membership.id).where(
        Membership.member_id == member_id, Membership.cancelled_at.is_(None)
    )
    res = await session.execute(
        update(OnboardingItem)
        .where(
            OnboardingItem.member_id == member_id,
            OnboardingItem.kind == kind,
            OnboardingItem.status == "open",
            OnboardingItem.membership_id.in_(live),
        )
        .values(
            status="done",
            completed_at=at,
            completed_by_id=by_staff_id,
            completed_via=via,
            meeting_id=meeting_id,
            updated_at=at,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(res, "rowcount", 0) or 0)


# ----------------------------------------------------------------------- wellness tests


def add(session: AsyncSession, row: Any) -> None:
    session.add(row)


def wellness_listing(member_id: uuid.UUID) -> Select[Any]:
    return select(WellnessTest).where(WellnessTest.member_id == member_id)


async def first_wellness_test(session: AsyncSession, member_id: uuid.UUID) -> WellnessTest | None:
    stmt = (
        wellness_listing(member_id)
        .order_by(WellnessTest.measured_on, WellnessTest.created_at, WellnessTest.id)
        .limit(1)
    )
    return (await session.scalars(stmt)).first()


async def wellness_tests_of(session: AsyncSession, member_id: uuid.UUID) -> list[WellnessTest]:
    stmt = wellness_listing(member_id).order_by(WellnessTest.measured_on, WellnessTest.id)
    return list((await session.scalars(stmt)).all())


async def erase_wellness_tests(session: AsyncSession, member_id: uuid.UUID, at: datetime) -> None:
    # The measurements are health data; that a test happened (and when) is kept.
    await session.execute(
        update(WellnessTest)
        .where(WellnessTest.member_id == member_id)
        .values(
            weight_kg=None,
            body_fat_pct=None,
            muscle_mass_kg=None,
            body_water_pct=None,
            bmr_kcal=None,
            erased_at=func.coalesce(WellnessTest.erased_at, at),
        )
        .execution_options(synchronize_session=False)
    )


# -------------------------------------------------------------------------- visit plans


async def visit_plan(session: AsyncSession, member_id: uuid.UUID) -> list[VisitPlanSlot]:
    stmt = (
        select(VisitPlanSlot)
        .where(VisitPlanSlot.member_id == member_id)
        .order_by(VisitPlanSlot.weekday, VisitPlanSlot.time)
    )
    return list((await session.scalars(stmt)).all())


async def replace_visit_plan(
    session: AsyncSession, member_id: uuid.UUID, slots: Sequence[VisitPlanSlot]
) -> None:
    await session.execute(
        delete(VisitPlanSlot)
        .where(VisitPlanSlot.member_id == member_id)
        .execution_options(synchronize_session=False)
    )
    session.add_all(slots)
    await session.flush()


async def delete_visit_plan(session: AsyncSession, member_id: uuid.UUID) -> None:
    await session.execute(
        delete(VisitPlanSlot)
        .where(VisitPlanSlot.member_id == member_id)
        .execution_options(synchronize_session=False)
    )


# --------------------------------------------------------------------------- analytics


def _cohort(club_id: uuid.UUID, start: date, end: date) -> Any:
    return and_(
        Onboarding.club_id == club_id,
        Onboarding.started_on >= start,
        Onboarding.started_on <= end,
    )


async def item_stats(
    session: AsyncSession, club_id: uuid.UUID, start: date, end: date, today: date
) -> list[Any]:
    """Per kind: total, done, skipped, open, overdue for onboardings started in range."""
    i = OnboardingItem
    stmt = (
        select(
            i.kind,
            func.count().label("total"),
            func.sum(case((i.status == "done", 1), else_=0)).label("done"),
            func.sum(case((i.status == "skipped", 1), else_=0)).label("skipped"),
            func.sum(case((i.status == "open", 1), else_=0)).label("open"),
            func.sum(case((and_(i.status == "open", i.due_date < today), 1), else_=0)).label(
                "overdue"
            ),
        )
        .join(Onboarding, Onboarding.id == i.onboarding_id)
        .where(_cohort(club_id, start, end))
        .group_by(i.kind)
    )
    return list((await session.execute(stmt)).all())


async def completion_and_retention(
    session: AsyncSession, club_id: uuid.UUID, start: date, end: date, as_of: datetime
) -> list[Any]:
    """One row per (completed, day_100_reached) group: onboardings, fully completed
    (any time), completed before day 100, and retained on day 100.

    Completed before day 100: no item that is not done, or done only from day 100 on.
    Retained: on day 100 the member held a membership covering that date that was not
    cancelled before the day began (a renewal counts; a frozen one counts).
    """
    i, m = OnboardingItem, Membership
    unfinished_by_day_100 = exists().where(
        i.onboarding_id == Onboarding.id,
        or_(i.status != "done", i.completed_at >= Onboarding.retention_at),
    )
    unfinished = exists().where(i.onboarding_id == Onboarding.id, i.status != "done")
    held_on_day_100 = exists().where(
        m.member_id == Onboarding.member_id,
        m.start_date <= Onboarding.retention_on,
        m.end_date >= Onboarding.retention_on,
        or_(m.cancelled_at.is_(None), m.cancelled_at >= Onboarding.retention_at),
    )
    inner = (
        select(
            case((unfinished_by_day_100, 0), else_=1).label("completed"),
            case((unfinished, 0), else_=1).label("fully_completed"),
            case((Onboarding.retention_at <= as_of, 1), else_=0).label("judged"),
            case((held_on_day_100, 1), else_=0).label("retained"),
        )
        .where(_cohort(club_id, start, end))
        .subquery()
    )
    stmt = select(
        inner.c.completed,
        inner.c.judged,
        func.count().label("onboardings"),
        func.sum(inner.c.fully_completed).label("fully_completed"),
        func.sum(inner.c.retained).label("retained"),
    ).group_by(inner.c.completed, inner.c.judged)
    return list((await session.execute(stmt)).all())
