from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.models import Club, Meeting, Membership
from app.models.meeting import (
    CONSULTANT_TIME_CONSTRAINT,
    HOLDS_TIME,
    MEMBER_TIME_CONSTRAINT,
    OPEN,
    OPEN_RENEWAL_INDEX,
    MeetingPurpose,
)
from app.working_hours.availability import Window

_HOLDS_TIME = [s.value for s in HOLDS_TIME]


def _with_club() -> Any:
    # selectin, not a join: write paths lock the meeting row with FOR UPDATE.
    return selectinload(Meeting.club)


async def get(
    session: AsyncSession, meeting_id: uuid.UUID, *, lock: bool = False
) -> Meeting | None:
    stmt = select(Meeting).where(Meeting.id == meeting_id).options(_with_club())
    if lock:
        # Row lock on PostgreSQL (SQLite's write transaction is already exclusive); fresh
        # values, so the If-Match check compares against what is committed.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one_or_none()


async def get_membership(session: AsyncSession, membership_id: uuid.UUID) -> Membership | None:
    return await session.get(Membership, membership_id)


def _lock_key(kind: str, entity_id: uuid.UUID) -> int:
    digest = hashlib.sha256(f"club-renewal:meeting:{kind}:{entity_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def lock_calendars(
    session: AsyncSession, *, consultant_id: uuid.UUID, member_id: uuid.UUID
) -> None:
    """Serialise bookings that touch this consultant's or this member's calendar until
    the transaction ends, so the checks that follow see every committed meeting.

    PostgreSQL: transaction-level advisory locks, taken in a fixed order (no deadlock);
    the exclusion constraints stay the last word. SQLite: nothing to do, every write
    transaction there is exclusive from its first statement (BEGIN IMMEDIATE, app.db).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({_lock_key("consultant", consultant_id), _lock_key("member", member_id)})
    for key in keys:
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def _others(stmt: Select[Any], exclude_id: uuid.UUID | None) -> Select[Any]:
    return stmt if exclude_id is None else stmt.where(Meeting.id != exclude_id)


async def open_renewal(
    session: AsyncSession, member_id: uuid.UUID, *, exclude_id: uuid.UUID | None
) -> Meeting | None:
    """The member's booked or confirmed renewal meeting, if any."""
    stmt = select(Meeting).where(
        Meeting.member_id == member_id,
        Meeting.purpose == MeetingPurpose.RENEWAL.value,
        Meeting.status.in_([s.value for s in OPEN]),
    )
    return (await session.scalars(_others(stmt, exclude_id).limit(1))).first()


async def member_overlap(
    session: AsyncSession,
    member_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
    *,
    exclude_id: uuid.UUID | None,
) -> Meeting | None:
    stmt = select(Meeting).where(
        Meeting.member_id == member_id,
        Meeting.status.in_(_HOLDS_TIME),
        Meeting.starts_at < ends_at,
        Meeting.ends_at > starts_at,
    )
    return (await session.scalars(_others(stmt, exclude_id).limit(1))).first()


async def consultant_overlap(
    session: AsyncSession,
    consultant_id: uuid.UUID,
    starts_at: datetime,
    blocked_until: datetime,
    *,
    exclude_id: uuid.UUID | None,
) -> Meeting | None:
    """A meeting whose `[starts_at, blocked_until)` overlaps the given one: the portable
    form of the PostgreSQL exclusion constraint."""
    stmt = select(Meeting).where(
        Meeting.consultant_id == consultant_id,
        Meeting.status.in_(_HOLDS_TIME),
        Meeting.starts_at < blocked_until,
        Meeting.blocked_until > starts_at,
    )
    return (await session.scalars(_others(stmt, exclude_id).limit(1))).first()


async def busy(
    session: AsyncSession, consultant_ids: Sequence[uuid.UUID], start: datetime, end: datetime
) -> dict[uuid.UUID, list[Window]]:
    """Each consultant's time held by meetings (buffer included) overlapping [start, end)."""
    out: dict[uuid.UUID, list[Window]] = {cid: [] for cid in consultant_ids}
    if not consultant_ids:
        return out
    rows = await session.execute(
        select(Meeting.consultant_id, Meeting.starts_at, Meeting.blocked_until).where(
            Meeting.consultant_id.in_(consultant_ids),
            Meeting.status.in_(_HOLDS_TIME),
            Meeting.starts_at < end,
            Meeting.blocked_until > start,
        )
    )
    for consultant_id, starts_at, blocked_until in rows:
        out[consultant_id].append(Window(starts_at, blocked_until))
    return out


async def of_member(
    session: AsyncSession, club_id: uuid.UUID, member_id: uuid.UUID
) -> list[Meeting]:
    stmt = (
        select(Meeting)
        .where(Meeting.club_id == club_id, Meeting.member_id == member_id)
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return list((await session.scalars(stmt)).all())


async def reminder_candidates(
    session: AsyncSession, *, since: datetime, until: datetime
) -> list[tuple[uuid.UUID, datetime, str]]:
    """Open meetings starting in [since, until) not yet reminded of their current start:
    id, start and the club's time zone."""
    rows = await session.execute(
        select(Meeting.id, Meeting.starts_at, Club.timezone)
        .join(Club, Club.id == Meeting.club_id)
        .where(
            Meeting.status.in_([s.value for s in OPEN]),
            Meeting.starts_at >= since,
            Meeting.starts_at < until,
            or_(Meeting.reminded_for.is_(None), Meeting.reminded_for != Meeting.starts_at),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return [(meeting_id, starts_at, tz) for meeting_id, starts_at, tz in rows]


async def for_reminder(session: AsyncSession, meeting_id: uuid.UUID) -> Meeting | None:
    """The meeting, locked, with its club and member."""
    stmt = (
        select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(_with_club(), selectinload(Meeting.member))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def mark_reminded(session: AsyncSession, meeting_id: uuid.UUID, starts_at: datetime) -> None:
    """Bookkeeping, not a change clients see: version (ETag) and updated_at stay."""
    await session.execute(
        update(Meeting)
        .where(Meeting.id == meeting_id)
        .values(reminded_for=starts_at, updated_at=Meeting.updated_at)
        .execution_options(synchronize_session=False)
    )


def listing(
    club_ids: frozenset[uuid.UUID] | None,
    *,
    club_id: uuid.UUID | None,
    consultant_id: uuid.UUID | None,
    member_id: uuid.UUID | None,
    starts_from: datetime | None,
    starts_before: datetime | None,
    statuses: Sequence[str] | None,
) -> Select[Any]:
    stmt = select(Meeting).options(_with_club())
    if club_ids is not None:
        stmt = stmt.where(Meeting.club_id.in_(club_ids))
    if club_id is not None:
        stmt = stmt.where(Meeting.club_id == club_id)
    if consultant_id is not None:
        stmt = stmt.where(Meeting.consultant_id == consultant_id)
    if member_id is not None:
        stmt = stmt.where(Meeting.member_id == member_id)
    if starts_from is not None:
        stmt = stmt.where(Meeting.starts_at >= starts_from)
    if starts_before is not None:
        stmt = stmt.where(Meeting.starts_at < starts_before)
    if statuses:
        stmt = stmt.where(Meeting.status.in_(statuses))
    return stmt


async def calendar(
    session: AsyncSession,
    consultant_id: uuid.UUID,
    club_ids: frozenset[uuid.UUID] | None,
    *,
    since: datetime,
    until: datetime,
    limit: int,
) -> list[Meeting]:
    """A consultant's meetings that hold time in [since, until), with member and club."""
    stmt = (
        select(Meeting)
        .where(
            Meeting.consultant_id == consultant_id,
            Meeting.status.in_(_HOLDS_TIME),
            Meeting.starts_at >= since,
            Meeting.starts_at < until,
        )
        .options(_with_club(), selectinload(Meeting.member))
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(limit)
    )
    if club_ids is not None:
        stmt = stmt.where(Meeting.club_id.in_(club_ids))
    return list((await session.scalars(stmt)).all())


def broken_guarantee(exc: IntegrityError) -> str | None:
    """Which booking guarantee a failed write hit: `slot_taken`, `member_has_meeting`,
    or None for anything else. Reads the constraint name (PostgreSQL) or, on SQLite, the
    column the unique index names in its message."""
    message = str(exc.orig)
    if CONSULTANT_TIME_CONSTRAINT in message:
        return "slot_taken"
    if (
        MEMBER_TIME_CONSTRAINT in message
        or OPEN_RENEWAL_INDEX in message
        or "UNIQUE constraint failed: meetings.member_id" in message
    ):
        return "member_has_meeting"
    return None
