"""All SQL of memberships and freezes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.memberships.status import MembershipStatus, is_status
from app.models import Club, Freeze, Member, Membership, Plan, Staff

# ---------------------------------------------------------------------------- lookups


async def club(session: AsyncSession, club_id: uuid.UUID) -> Club | None:
    return await session.get(Club, club_id)


async def member(session: AsyncSession, member_id: uuid.UUID) -> Member | None:
    return await session.get(Member, member_id)


async def plan(session: AsyncSession, plan_id: uuid.UUID) -> Plan | None:
    return await session.get(Plan, plan_id)


async def staff_club_ids(
    session: AsyncSession, staff_id: uuid.UUID
) -> tuple[Staff, set[uuid.UUID]] | None:
    staff = await session.get(Staff, staff_id)
    if staff is None:
        return None
    await session.refresh(staff, ["clubs"])
    return staff, {c.id for c in staff.clubs}


async def club_timezones(
    session: AsyncSession, club_ids: Sequence[uuid.UUID] | frozenset[uuid.UUID] | None
) -> dict[uuid.UUID, str]:
    stmt = select(Club.id, Club.timezone)
    if club_ids is not None:
        stmt = stmt.where(Club.id.in_(list(club_ids)))
    return {row.id: row.timezone for row in await session.execute(stmt)}


async def distinct_timezones(
    session: AsyncSession, club_ids: frozenset[uuid.UUID] | None = None
) -> list[str]:
    stmt = select(Club.timezone).distinct()
    if club_ids is not None:
        stmt = stmt.where(Club.id.in_(club_ids))
    return list((await session.scalars(stmt)).all())


def _in_zones(club_col: Any, timezones: Sequence[str]) -> ColumnElement[bool]:
    clubs_in_zones = select(Club.id).where(Club.timezone.in_(list(timezones)))
    clause: ColumnElement[bool] = club_col.in_(clubs_in_zones)
    return clause


# ------------------------------------------------------------------------ memberships


async def get(session: AsyncSession, membership_id: uuid.UUID) -> Membership | None:
    return await session.get(Membership, membership_id)


async def lock(session: AsyncSession, membership_id: uuid.UUID) -> Membership | None:
    """Load the membership row for update: every change of its dates or freezes goes
    through this lock, so two concurrent freezes cannot both pass the rules. PostgreSQL
    takes `FOR UPDATE`; SQLite serialises writers (every transaction is IMMEDIATE)."""
    stmt = (
        select(Membership)
        .where(Membership.id == membership_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


def listing(
    visible_club_ids: frozenset[uuid.UUID] | None,
    *,
    member_id: uuid.UUID | None,
    club_id: uuid.UUID | None,
) -> Select[Any]:
    stmt = select(Membership)
    if visible_club_ids is not None:
        stmt = stmt.where(Membership.club_id.in_(visible_club_ids))
    if club_id is not None:
        stmt = stmt.where(Membership.club_id == club_id)
    if member_id is not None:
        stmt = stmt.where(Membership.member_id == member_id)
    return stmt


def with_status(
    stmt: Select[Any], status: MembershipStatus, zones_by_day: Mapping[date, Sequence[str]]
) -> Select[Any]:
    """Filter by derived status, each club judged by its own local today."""
    if not zones_by_day:
        return stmt.where(false())
    return stmt.where(
        or_(
            *(
                and_(_in_zones(Membership.club_id, zones), is_status(status, day))
                for day, zones in zones_by_day.items()
            )
        )
    )


async def current_for_member(
    session: AsyncSession, member_id: uuid.UUID, today: date
) -> Membership | None:
    stmt = (
        select(Membership)
        .where(
            Membership.member_id == member_id,
            Membership.cancelled_at.is_(None),
            Membership.start_date <= today,
            Membership.end_date >= today,
        )
        .order_by(Membership.start_date.desc(), Membership.id.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).one_or_none()


# ---------------------------------------------------------------------------- freezes


async def freezes_of(
    session: AsyncSession, membership_ids: Sequence[uuid.UUID], *, live_only: bool = True
) -> list[Freeze]:
    """Freezes of these memberships, oldest first, re-read from the database."""
    if not membership_ids:
        return []
    stmt = (
        select(Freeze)
        .where(Freeze.membership_id.in_(list(membership_ids)))
        .order_by(Freeze.start_date, Freeze.id)
        .execution_options(populate_existing=True)
    )
    if live_only:
        stmt = stmt.where(Freeze.cancelled_at.is_(None))
    return list((await session.scalars(stmt)).all())


async def get_freeze(session: AsyncSession, freeze_id: uuid.UUID) -> Freeze | None:
    return await session.get(Freeze, freeze_id)


def freeze_listing(membership_id: uuid.UUID) -> Select[Any]:
    return select(Freeze).where(Freeze.membership_id == membership_id)


async def running_freeze(
    session: AsyncSession, membership_id: uuid.UUID, day: date
) -> Freeze | None:
    stmt = (
        select(Freeze)
        .where(
            Freeze.membership_id == membership_id,
            Freeze.cancelled_at.is_(None),
            Freeze.start_date <= day,
            Freeze.end_date >= day,
        )
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).first()


async def claim_started_event(session: AsyncSession, freeze_id: uuid.UUID, at: datetime) -> bool:
    """Mark freeze.started as emitted; True only for the one caller that marked it."""
    stmt = (
        update(Freeze)
        .where(Freeze.id == freeze_id, Freeze.started_event_at.is_(None))
        .values(started_event_at=at)
        .returning(Freeze.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def claim_ended_event(
    session: AsyncSession, freeze_id: uuid.UUID, at: datetime, *, only_if_started: bool = False
) -> bool:
    stmt = update(Freeze).where(Freeze.id == freeze_id, Freeze.ended_event_at.is_(None))
    if only_if_started:
        stmt = stmt.where(Freeze.started_event_at.is_not(None))
    stmt = (
        stmt.values(ended_event_at=at)
        .returning(Freeze.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def claim_due_started(
    session: AsyncSession, zones_by_day: Mapping[date, Sequence[str]], at: datetime
) -> list[uuid.UUID]:
    """One statement: mark every live freeze whose start day has arrived (club-local) and
    that was not reported yet; returns the ids marked. A concurrent run blocks on the
    rows and then finds them already marked, so each is returned exactly once."""
    if not zones_by_day:
        return []
    live_memberships = select(Membership.id).where(Membership.cancelled_at.is_(None))
    stmt = (
        update(Freeze)
        .where(
            Freeze.started_event_at.is_(None),
            Freeze.cancelled_at.is_(None),
            Freeze.membership_id.in_(live_memberships),
            or_(
                *(
                    and_(_in_zones(Freeze.club_id, zones), Freeze.start_date <= day)
                    for day, zones in zones_by_day.items()
                )
            ),
        )
        .values(started_event_at=at)
        .returning(Freeze.id)
        .execution_options(synchronize_session=False)
    )
    return list((await session.scalars(stmt)).all())


async def claim_due_ended(
    session: AsyncSession, zones_by_day: Mapping[date, Sequence[str]], at: datetime
) -> list[uuid.UUID]:
    """Like `claim_due_started` for end days; only freezes whose start was reported."""
    if not zones_by_day:
        return []
    stmt = (
        update(Freeze)
        .where(
            Freeze.started_event_at.is_not(None),
            Freeze.ended_event_at.is_(None),
            Freeze.cancelled_at.is_(None),
            or_(
                *(
                    and_(_in_zones(Freeze.club_id, zones), Freeze.end_date <= day)
                    for day, zones in zones_by_day.items()
                )
            ),
        )
        .values(ended_event_at=at)
        .returning(Freeze.id)
        .execution_options(synchronize_session=False)
    )
    return list((await session.scalars(stmt)).all())


async def freezes_with_memberships(
    session: AsyncSession, freeze_ids: Sequence[uuid.UUID]
) -> list[tuple[Freeze, Membership]]:
    if not freeze_ids:
        return []
    stmt = (
        select(Freeze, Membership)
        .join(Membership, Membership.id == Freeze.membership_id)
        .where(Freeze.id.in_(list(freeze_ids)))
        .order_by(Freeze.start_date, Freeze.id)
    )
    return [(f, m) for f, m in (await session.execute(stmt)).all()]


async def redact_free_text(session: AsyncSession, member_id: uuid.UUID, redacted: str) -> None:
    """Blank the free text of a member's memberships and freezes; dates and money stay."""
    for column in (Membership.special_conditions, Membership.cancel_reason):
        await session.execute(
            update(Membership)
            .where(Membership.member_id == member_id, column.is_not(None))
            .values({column.key: redacted})
            .execution_options(synchronize_session=False)
        )
    membership_ids = select(Membership.id).where(Membership.member_id == member_id)
    await session.execute(
        update(Freeze)
        .where(Freeze.membership_id.in_(membership_ids))
        .values(reason=redacted)
        .execution_options(synchronize_session=False)
    )
