"""All SQL of the lapse scan and the risk list.

The scan is one statement per club: it reads the club's check-ins of the last 26 weeks
once (index `(club_id, checked_in_at)`), aggregates them per member next to the member's
live membership, freezes, renewal and previous assessment, and streams back one small
feature row per member. No check-in ever reaches Python, and there is no per-member
query. Day boundaries are club-local: the service computes them with zoneinfo and
passes them as UTC instants, so the same SQL is exact on SQLite and PostgreSQL alike
(SQLite has no time zones; comparing instants needs none).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Select,
    String,
    and_,
    case,
    cast,
    column,
    exists,
    func,
    or_,
    select,
    text,
    type_coerce,
    values,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.core.types import UTCDateTime
from app.models import Checkin, Club, Freeze, Meeting, Member, Membership, RiskAssessment
from app.models.meeting import OPEN as OPEN_MEETING
from app.models.meeting import MeetingPurpose

PREVIOUS_LOOKBACK_DAYS = 35  # a "previous assessment" older than this does not count
FETCH_ROWS = 2000  # feature rows per fetch from the server-side cursor
UPSERT_ROWS = 1000  # assessments per INSERT ... ON CONFLICT statement


@dataclass(frozen=True)
class ScanWindow:
    """One club's scan: its local day and every boundary as a UTC instant."""

    club_id: uuid.UUID
    today: date
    cutoff: datetime  # check-ins before this instant count (the scan's "now")
    window_start_at: datetime  # start of today - 181 (26 weeks incl. today)
    eight_weeks_start_at: datetime  # start of today - 55
    baseline_start_at: datetime  # start of today - 83
    recent_start_at: datetime  # start of today - 27
    # (tenure start date, its local midnight, the local midnight 21 days later) for
    # every tenure start recent enough for the first-3-weeks count to matter.
    early_bounds: Sequence[tuple[date, datetime, datetime]]  # never empty

    @property
    def window_start(self) -> date:
        return self.today - timedelta(days=181)


def feature_query(w: ScanWindow) -> Select[Any]:
    """The scan: one row per member with a live membership in the club."""
    today = w.today
    ranked = (
        select(
            Membership.id.label("membership_id"),
            Membership.member_id,
            Membership.start_date,
            Membership.end_date,
            Membership.renews_id,
            func.row_number()
            .over(
                partition_by=Membership.member_id,
                order_by=(Membership.end_date.desc(), Membership.id.desc()),
            )
            .label("rn"),
        )
        .where(
            Membership.club_id == w.club_id,
            Membership.cancelled_at.is_(None),
            Membership.start_date <= today,
            Membership.end_date >= today,
        )
        .cte("live_ranked")
    )
    firsts = (
        select(Membership.member_id, func.min(Membership.start_date).label("first_start"))
        .where(
            Membership.club_id == w.club_id,
            Membership.cancelled_at.is_(None),
            Membership.start_date <= today,
        )
        .group_by(Membership.member_id)
        .cte("firsts")
    )
    # Tenure: a fresh purchase starts it; a renewal continues the member's first one.
    live = (
        select(
            ranked.c.membership_id,
            ranked.c.member_id,
            ranked.c.end_date,
            case(
                (ranked.c.renews_id.is_(None), ranked.c.start_date),
                else_=firsts.c.first_start,
            ).label("tenure_start"),
        )
        .join_from(ranked, firsts, firsts.c.member_id == ranked.c.member_id)
        .where(ranked.c.rn == 1)
        .cte("live")
    )
    visits = _visits(w)
    early = _early_visits(w, live)
    freezes = (
        select(
            Membership.member_id,
            func.aggregate_strings(
                cast(Freeze.start_date, String).concat("/").concat(cast(Freeze.end_date, String)),
                ",",
            ).label("frozen"),
        )
        .join_from(Freeze, Membership, Membership.id == Freeze.membership_id)
        .where(
            Freeze.club_id == w.club_id,
            Freeze.cancelled_at.is_(None),
            Freeze.end_date >= w.window_start,
            Freeze.start_date <= today,
        )
        .group_by(Membership.member_id)
        .cte("member_freezes")
    )
    other = aliased(Membership, name="other")
    renewed = exists().where(
        other.member_id == live.c.member_id,
        other.cancelled_at.is_(None),
        or_(other.renews_id == live.c.membership_id, other.start_date > today),
    )
    prev_day = (
        select(RiskAssessment.member_id, func.max(RiskAssessment.scan_date).label("day"))
        .where(
            RiskAssessment.club_id == w.club_id,
            RiskAssessment.scan_date < today,
            RiskAssessment.scan_date >= today - timedelta(days=PREVIOUS_LOOKBACK_DAYS),
        )
        .group_by(RiskAssessment.member_id)
        .cte("prev_day")
    )
    prev = aliased(RiskAssessment, name="prev")
    cur = aliased(RiskAssessment, name="cur")
    return (
        select(
            live.c.member_id,
            live.c.membership_id,
            live.c.tenure_start,
            live.c.end_date,
            type_coerce(
                or_(Member.do_not_contact.is_(True), Member.erased_at.is_not(None)), Boolean
            ).label("do_not_contact"),
            visits.c.last_visit_at,
            func.coalesce(visits.c.visits_window, 0).label("visits_window"),
            func.coalesce(visits.c.visits_recent, 0).label("visits_recent"),
            func.coalesce(visits.c.visits_baseline, 0).label("visits_baseline"),
            func.coalesce(visits.c.visits_8_weeks, 0).label("visits_8_weeks"),
            func.coalesce(early.c.visits_early, 0).label("visits_early"),
            freezes.c.frozen,
            type_coerce(renewed, Boolean).label("renewed"),
            type_coerce(_renewal_booked(w, live), Boolean).label("renewal_booked"),
            prev.level.label("previous_level"),
            prev.suppressed.label("previous_suppressed"),
            cur.notified.label("notified_today"),
        )
        .select_from(live)
        .join(Member, Member.id == live.c.member_id)
        .outerjoin(freezes, freezes.c.member_id == live.c.member_id)
        .outerjoin(prev_day, prev_day.c.member_id == live.c.member_id)
        .outerjoin(prev, and_(prev.member_id == live.c.member_id, prev.scan_date == prev_day.c.day))
        .outerjoin(cur, and_(cur.member_id == live.c.member_id, cur.scan_date == today))
        .outerjoin(visits, visits.c.member_id == live.c.member_id)
        .outerjoin(early, early.c.member_id == live.c.member_id)
    )


def _visits(w: ScanWindow) -> Any:
    """The one pass over the window's check-ins: every count is a FILTER on the same
    scan of `(club_id, checked_in_at)`, grouped by member, joined to nothing (so no
    planner estimate can turn it into a loop)."""
    at = Checkin.checked_in_at
    return (
        select(
            Checkin.member_id,
            func.max(at).label("last_visit_at"),
            func.count().label("visits_window"),
            func.count().filter(at >= w.recent_start_at).label("visits_recent"),
            func.count()
            .filter(at >= w.baseline_start_at, at < w.recent_start_at)
            .label("visits_baseline"),
            func.count().filter(at >= w.eight_weeks_start_at).label("visits_8_weeks"),
        )
        .where(Checkin.club_id == w.club_id, at >= w.window_start_at, at < w.cutoff)
        .group_by(Checkin.member_id)
        .cte("visits")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )


def _early_visits(w: ScanWindow, live: Any) -> Any:
    """Visits in the first 3 weeks, only for members in their first 13 weeks: the
    club-local bounds of each possible start day come in as a VALUES list, and each
    recent joiner costs one probe of `(member_id, checked_in_at)`."""
    bounds = (
        values(
            column("day", Date),
            column("starts_at", UTCDateTime()),
            column("ends_at", UTCDateTime()),
            name="early_bounds",
        )
        .data(list(w.early_bounds))
        .cte("early_bounds")
    )
    at = Checkin.checked_in_at
    # The club is checked in the aggregate's FILTER, not in the join, so that no
    # planner range-scans the whole club per start day instead of probing the member.
    return (
        select(
            live.c.member_id,
            func.count().filter(Checkin.club_id == w.club_id).label("visits_early"),
        )
        .join_from(live, bounds, bounds.c.day == live.c.tenure_start)
        .join(
            Checkin,
            and_(
                Checkin.member_id == live.c.member_id,
                at >= bounds.c.starts_at,
                at < bounds.c.ends_at,
                at < w.cutoff,
            ),
        )
        .group_by(live.c.member_id)
        .cte("early_visits")
    )


def _renewal_booked(w: ScanWindow, live: Any) -> Any:
    """A renewal meeting booked ahead: an open renewal meeting of the member (the
    predicate of the partial unique index `ix_meetings_member_id_open_renewal`, so one
    index probe) that has not started by the scan's instant; a past one nobody marked
    attended or no-show does not count."""
    return exists(
        select(Meeting.id).where(
            Meeting.member_id == live.c.member_id,
            Meeting.club_id == w.club_id,
            Meeting.purpose == MeetingPurpose.RENEWAL.value,
            Meeting.status.in_([s.value for s in OPEN_MEETING]),
            Meeting.starts_at >= w.cutoff,
        )
    )


async def stream_features(
    session: AsyncSession, w: ScanWindow
) -> AsyncIterator[Sequence[Row[Any]]]:
    """The scan's rows in chunks (server-side cursor on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        # The statement's cost estimate crosses jit_above_cost, and compiling it takes
        # longer (~1.5 s measured) than running it (~0.7 s for 20,000 members and a
        # million check-ins). Off for this transaction only.
        await session.execute(text("SET LOCAL jit = off"))
    result = await session.stream(
        feature_query(w).execution_options(yield_per=FETCH_ROWS, stream_results=True)
    )
    async for chunk in result.partitions(FETCH_ROWS):
        yield chunk


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


_UPDATED = (
    "club_id",
    "membership_id",
    "assessed_at",
    "score",
    "level",
    "segment",
    "suppressed",
    "reasons",
    "last_visit_at",
    "gap_days",
    "usual_visits_per_week",
    "visits_last_4_weeks",
    "visits_previous_8_weeks",
    "visits_first_3_weeks",
    "tenure_days",
    "days_to_end",
    "notified",
)


async def upsert_assessments(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Write assessments: one row per member per scan day, replaced on a second run of
    the same day (`INSERT ... ON CONFLICT DO UPDATE`, the same on both dialects).
    Sent as one executemany per `UPSERT_ROWS` rows; returns how many were sent."""
    table = RiskAssessment.__table__
    stmt = _insert(session)(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.member_id, table.c.scan_date],
        set_={name: stmt.excluded[name] for name in _UPDATED},
    )
    sent = 0
    for i in range(0, len(rows), UPSERT_ROWS):
        await session.execute(stmt, list(rows[i : i + UPSERT_ROWS]))
        sent += 1
    return sent


# --- reading ------------------------------------------------------------------------


async def active_clubs(session: AsyncSession, club_id: uuid.UUID | None = None) -> list[Club]:
    stmt = select(Club).where(Club.active.is_(True)).order_by(Club.id)
    if club_id is not None:
        stmt = select(Club).where(Club.id == club_id)
    return list((await session.scalars(stmt)).all())


def latest_assessments(club_ids: frozenset[uuid.UUID] | None) -> Select[Any]:
    """Each visible club's latest scan day, joined to its rows: a member whose
    membership has ended drops out of the list with the next scan."""
    latest = select(
        Club.id.label("club_id"),
        select(func.max(RiskAssessment.scan_date))
        .where(RiskAssessment.club_id == Club.id)
        .scalar_subquery()
        .label("day"),
    )
    if club_ids is not None:
        latest = latest.where(Club.id.in_(club_ids))
    days = latest.subquery("latest_days")
    return select(RiskAssessment).join(
        days,
        and_(RiskAssessment.club_id == days.c.club_id, RiskAssessment.scan_date == days.c.day),
    )


def risk_list(
    club_ids: frozenset[uuid.UUID] | None,
    *,
    member_id: uuid.UUID | None,
    level: str | None,
    suppressed: str | None,
    segment: str | None,
) -> Select[Any]:
    stmt = latest_assessments(club_ids)
    if member_id is not None:
        stmt = stmt.where(RiskAssessment.member_id == member_id)
    if level is not None:
        stmt = stmt.where(RiskAssessment.level == level)
    if segment is not None:
        stmt = stmt.where(RiskAssessment.segment == segment)
    if suppressed == "none":
        stmt = stmt.where(RiskAssessment.suppressed.is_(None))
    elif suppressed == "any":
        stmt = stmt.where(RiskAssessment.suppressed.is_not(None))
    elif suppressed is not None:
        stmt = stmt.where(RiskAssessment.suppressed == suppressed)
    return stmt


async def member_history(
    session: AsyncSession, member_id: uuid.UUID, limit: int
) -> list[RiskAssessment]:
    stmt = (
        select(RiskAssessment)
        .where(RiskAssessment.member_id == member_id)
        .order_by(RiskAssessment.scan_date.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def all_of_member(session: AsyncSession, member_id: uuid.UUID) -> list[RiskAssessment]:
    """Every assessment of the member, oldest first (the personal-data export)."""
    stmt = (
        select(RiskAssessment)
        .where(RiskAssessment.member_id == member_id)
        .order_by(RiskAssessment.scan_date)
    )
    return list((await session.scalars(stmt)).all())
