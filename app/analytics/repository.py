"""All SQL of analytics: set-based aggregates over one club and one period.

Every statement filters by `club_id` first (the club_id indexes; the shard key of a
distributed deployment) and counts in the database; Python only formats the rows."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    distinct,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.analytics.sql import LocalDays, day_month, day_number, year_month
from app.models import (
    CallAttempt,
    Checkin,
    Feedback,
    Meeting,
    Membership,
    Plan,
    Referral,
    RiskAssessment,
    ServiceCall,
    Staff,
)
from app.models.meeting import DeclineReason, MeetingResult, MeetingStatus
from app.models.outreach import CallKind, CallOutcome

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


# ===================================================================== service calls
#
# The call analytics share one cohort: the club's service calls whose FIRST attempt
# falls in the period ("dialled in the period"). What became of a call afterwards (a
# later reaching attempt, the meeting, the renewal, the return visit) counts for it
# whenever it happened, so a call is counted once, in the period it was first dialled.

# Attempts that never spoke to the member; every other outcome reached them.
NOT_REACHED = (CallOutcome.NO_ANSWER.value, CallOutcome.VOICEMAIL.value,
               CallOutcome.WRONG_NUMBER.value)  # fmt: skip
ATTENDED = MeetingStatus.ATTENDED.value
AT_RISK_LEVELS = ("at_risk", "lapsed")
# A risk assessment older than this (days before the first dial) no longer describes
# the member.
RISK_FRESH_DAYS = 14
RECOVERY_DAYS = 30
FUNNEL_STAGES = ("calls", "reached", "meetings_booked", "meetings_attended", "renewals")
STAFF_METRICS = (
    "attempts",
    "calls_attempted",
    "members_reached",
    "meetings_booked",
    "meetings_held",
    "renewals",
    "recovered_lapsers",
    "new_sales",
)


def _reaching(attempt: Any) -> ColumnElement[bool]:
    return attempt.outcome.not_in(NOT_REACHED)  # type: ignore[no-any-return]


def _dialled(club_id: uuid.UUID, start_at: datetime, end_at: datetime) -> Any:
    """One row per call of the club first dialled in [start_at, end_at): `call_id`,
    `first_at`. Attempts after `end_at` cannot change whether the first is inside."""
    first_at = func.min(CallAttempt.attempted_at)
    return (
        select(CallAttempt.call_id.label("call_id"), first_at.label("first_at"))
        .where(CallAttempt.club_id == club_id, CallAttempt.attempted_at < end_at)
        .group_by(CallAttempt.call_id)
        .having(first_at >= start_at)
        .subquery("dialled")
    )


def _flag(condition: ColumnElement[bool], name: str) -> ColumnElement[int]:
    return case((condition, 1), else_=0).label(name)


# --------------------------------------------------------------------------- funnel


def _funnel_calls(club_id: uuid.UUID, start_at: datetime, end_at: datetime) -> Any:
    """One row per call dialled in the period with its kind and the stages it reached;
    each stage needs the ones before it, so the funnel never widens."""
    dialled = _dialled(club_id, start_at, end_at)
    call_id = dialled.c.call_id
    attempt = aliased(CallAttempt, name="reach")
    booked_m = aliased(Meeting, name="booked_m")
    held_m = aliased(Meeting, name="held_m")
    sold_m = aliased(Meeting, name="sold_m")
    sold = aliased(Membership, name="sold")
    link_m = aliased(Meeting, name="link_m")
    linked = aliased(Membership, name="linked")
    reached = exists().where(attempt.call_id == call_id, _reaching(attempt))
    booked = exists().where(booked_m.club_id == club_id, booked_m.call_id == call_id)
    attended = exists().where(
        held_m.club_id == club_id, held_m.call_id == call_id, held_m.status == ATTENDED
    )
    # Two EXISTS rather than one OR over the join: each follows an index (the
    # membership's primary key; memberships.meeting_id).
    renewed = or_(
        exists().where(
            sold_m.club_id == club_id,
            sold_m.call_id == call_id,
            sold_m.status == ATTENDED,
            sold.id == sold_m.outcome_membership_id,
            sold.cancelled_at.is_(None),
        ),
        exists().where(
            link_m.club_id == club_id,
            link_m.call_id == call_id,
            link_m.status == ATTENDED,
            linked.meeting_id == link_m.id,
            linked.club_id == club_id,
            linked.cancelled_at.is_(None),
        ),
    )
    return (
        select(
            ServiceCall.kind.label("kind"),
            _flag(reached, "reached"),
            _flag(and_(reached, booked), "meetings_booked"),
            _flag(and_(reached, attended), "meetings_attended"),
            _flag(and_(reached, renewed), "renewals"),
        )
        .select_from(dialled)
        .join(ServiceCall, ServiceCall.id == call_id)
        .where(ServiceCall.club_id == club_id)
        .subquery("funnel_calls")
    )


def _stage_sums(calls: Any) -> list[ColumnElement[Any]]:
    return [
        func.count().label("calls"),
        *(func.coalesce(func.sum(calls.c[s]), 0).label(s) for s in FUNNEL_STAGES[1:]),
    ]


async def funnel_total(
    session: AsyncSession, club_id: uuid.UUID, start_at: datetime, end_at: datetime
) -> dict[str, Any]:
    calls = _funnel_calls(club_id, start_at, end_at)
    return dict((await session.execute(select(*_stage_sums(calls)))).one()._mapping)


async def funnel_by_kind(
    session: AsyncSession, club_id: uuid.UUID, start_at: datetime, end_at: datetime
) -> list[dict[str, Any]]:
    calls = _funnel_calls(club_id, start_at, end_at)
    stmt = select(calls.c.kind, *_stage_sums(calls)).group_by(calls.c.kind).order_by(calls.c.kind)
    return [dict(r._mapping) for r in await session.execute(stmt)]


# ------------------------------------------------------------------ decline reasons


async def decline_counts(
    session: AsyncSession, club_id: uuid.UUID, start_at: datetime, end_at: datetime
) -> list[dict[str, Any]]:
    """Declines in [start_at, end_at) by source and reason: call attempts declined then
    (`attempted_at`) and meeting outcomes `declined` recorded then (`outcome_at`). A
    meeting decline stored without a reason (none can be recorded through the API)
    counts as `other`."""
    calls = (
        select(
            literal_column("'call'", String()).label("source"),
            CallAttempt.decline_reason.label("reason"),
            func.count().label("count"),
        )
        .where(
            CallAttempt.club_id == club_id,
            CallAttempt.attempted_at >= start_at,
            CallAttempt.attempted_at < end_at,
            CallAttempt.outcome == CallOutcome.DECLINED.value,
        )
        .group_by(CallAttempt.decline_reason)
    )
    reason = func.coalesce(Meeting.decline_reason, DeclineReason.OTHER.value)
    meetings = (
        select(
            literal_column("'meeting'", String()).label("source"),
            reason.label("reason"),
            func.count().label("count"),
        )
        .where(
            Meeting.club_id == club_id,
            Meeting.outcome_at >= start_at,
            Meeting.outcome_at < end_at,
            Meeting.outcome == MeetingResult.DECLINED.value,
        )
        .group_by(reason)
    )
    both = union_all(calls, meetings).subquery("declines")
    stmt: Select[Any] = select(both.c.source, both.c.reason, both.c["count"])
    return [dict(r._mapping) for r in await session.execute(stmt)]


# ------------------------------------------------------------------- lapse recovery


def _recovery_calls(
    club_id: uuid.UUID,
    start_at: datetime,
    end_at: datetime,
    *,
    today: int,
    days: LocalDays,
) -> Any:
    """One row per at-risk call dialled in the period: the month of its first dial, and
    whether it reached the member, whether the member came back (a check-in at the club
    after a reaching attempt, within 30 club-local days of it), whether that may still
    happen (pending), and the caller credited (the last reaching attempt a visit followed).

    At risk: a `lapse` call, or the member's latest risk assessment on or before the day
    of the first dial (and at most 14 days older) is `at_risk` or `lapsed`."""
    dialled = _dialled(club_id, start_at, end_at)
    first_day = days.of(dialled.c.first_at)
    level = (
        select(RiskAssessment.level)
        .where(
            RiskAssessment.club_id == club_id,
            RiskAssessment.member_id == ServiceCall.member_id,
            day_number(RiskAssessment.scan_date) <= first_day,
            day_number(RiskAssessment.scan_date) > first_day - RISK_FRESH_DAYS,
        )
        .order_by(RiskAssessment.scan_date.desc())
        .limit(1)
        .scalar_subquery()
    )

    def came_back(attempt: Any) -> ColumnElement[bool]:
        first_visit = (
            select(func.min(Checkin.checked_in_at))
            .where(
                Checkin.club_id == club_id,
                Checkin.member_id == attempt.member_id,
                Checkin.checked_in_at > attempt.attempted_at,
            )
            .scalar_subquery()
        )
        return days.of(first_visit) <= days.of(attempt.attempted_at) + RECOVERY_DAYS

    reach = aliased(CallAttempt, name="reach")
    back = aliased(CallAttempt, name="back")
    waiting = aliased(CallAttempt, name="waiting")
    credit = aliased(CallAttempt, name="credit")
    reached = exists().where(reach.call_id == dialled.c.call_id, _reaching(reach))
    recovered = exists().where(back.call_id == dialled.c.call_id, _reaching(back), came_back(back))
    window_open = exists().where(
        waiting.call_id == dialled.c.call_id,
        _reaching(waiting),
        days.of(waiting.attempted_at) + RECOVERY_DAYS >= today,
    )
    credited = (
        select(credit.staff_id)
        .where(credit.call_id == dialled.c.call_id, _reaching(credit), came_back(credit))
        .order_by(credit.attempted_at.desc(), credit.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            day_month(first_day).label("month"),
            _flag(reached, "reached"),
            _flag(recovered, "recovered"),
            _flag(and_(reached, ~recovered, window_open), "pending"),
            case((recovered, credited), else_=None).label("credited_staff_id"),
        )
        .select_from(dialled)
        .join(ServiceCall, ServiceCall.id == dialled.c.call_id)
        .where(
            ServiceCall.club_id == club_id,
            or_(ServiceCall.kind == CallKind.LAPSE.value, level.in_(AT_RISK_LEVELS)),
        )
        .subquery("recovery_calls")
    )


def _recovery_sums(calls: Any) -> list[ColumnElement[Any]]:
    return [
        func.count().label("called"),
        *(
            func.coalesce(func.sum(calls.c[c]), 0).label(c)
            for c in ("reached", "recovered", "pending")
        ),
    ]


async def lapse_recovery_total(
    session: AsyncSession,
    club_id: uuid.UUID,
    start_at: datetime,
    end_at: datetime,
    *,
    today: int,
    days: LocalDays,
) -> dict[str, Any]:
    calls = _recovery_calls(club_id, start_at, end_at, today=today, days=days)
    return dict((await session.execute(select(*_recovery_sums(calls)))).one()._mapping)


async def lapse_recovery_by_month(
    session: AsyncSession,
    club_id: uuid.UUID,
    start_at: datetime,
    end_at: datetime,
    *,
    today: int,
    days: LocalDays,
) -> list[dict[str, Any]]:
    calls = _recovery_calls(club_id, start_at, end_at, today=today, days=days)
    stmt = (
        select(calls.c.month, *_recovery_sums(calls))
        .group_by(calls.c.month)
        .order_by(calls.c.month)
    )
    return [dict(r._mapping) for r in await session.execute(stmt)]


# -------------------------------------------------------------------------- staff


def _metrics(staff_id: Any, **values: Any) -> list[Any]:
    """The columns of one source of staff credit: the staff id and every metric, zero
    unless given (the sources are stacked with UNION ALL and summed per staff member)."""
    zero = literal_column("0", Integer())
    return [staff_id.label("staff_id")] + [(values.get(m, zero)).label(m) for m in STAFF_METRICS]


async def staff_credits(
    session: AsyncSession,
    club_id: uuid.UUID,
    start_at: datetime,
    end_at: datetime,
    *,
    today: int,
    days: LocalDays,
) -> list[dict[str, Any]]:
    """Per staff member, what they did for the club in [start_at, end_at):

    - dials (`attempts`), distinct calls dialled, distinct members reached;
    - meetings booked (created in the period; the booker is `booked_by_id`, else the
      caller of the first `meeting_booked` attempt of the meeting's call that names it);
    - meetings held (as consultant, attended, starting in the period);
    - renewals (memberships continuing another, `renews_id`, sold in the period and not
      cancelled: credited to the consultant of the meeting they were sold at, else to
      the seller);
    - recovered lapsers (lapse recovery's cohort, credited to its caller);
    - new sales (memberships with source `new` sold by them in the period, not cancelled).
    """
    in_period = (start_at, end_at)

    def between(column: Any) -> ColumnElement[bool]:
        return and_(column >= in_period[0], column < in_period[1])

    reached_member = case((_reaching(CallAttempt), CallAttempt.member_id), else_=None)
    attempts = (
        select(
            *_metrics(
                CallAttempt.staff_id,
                attempts=func.count(),
                calls_attempted=func.count(distinct(CallAttempt.call_id)),
                members_reached=func.count(distinct(reached_member)),
            )
        )
        .where(
            CallAttempt.club_id == club_id,
            between(CallAttempt.attempted_at),
            CallAttempt.staff_id.is_not(None),
        )
        .group_by(CallAttempt.staff_id)
    )

    booking = aliased(CallAttempt, name="booking")
    booker = func.coalesce(
        Meeting.booked_by_id,
        select(booking.staff_id)
        .where(
            # Through the meeting's call (the call_id index); the attempt names the meeting.
            booking.call_id == Meeting.call_id,
            booking.meeting_id == Meeting.id,
            booking.outcome == CallOutcome.MEETING_BOOKED.value,
            booking.staff_id.is_not(None),
        )
        .order_by(booking.attempted_at, booking.id)
        .limit(1)
        .scalar_subquery(),
    )
    booked_rows = (
        select(booker.label("staff_id"))
        .where(Meeting.club_id == club_id, between(Meeting.created_at))
        .subquery("booked_rows")
    )
    booked = (
        select(*_metrics(booked_rows.c.staff_id, meetings_booked=func.count()))
        .where(booked_rows.c.staff_id.is_not(None))
        .group_by(booked_rows.c.staff_id)
    )

    held = (
        select(*_metrics(Meeting.consultant_id, meetings_held=func.count()))
        .where(
            Meeting.club_id == club_id,
            between(Meeting.starts_at),
            Meeting.status == ATTENDED,
        )
        .group_by(Meeting.consultant_id)
    )

    at_meeting = aliased(Meeting, name="at_meeting")
    outcome_of = aliased(Meeting, name="outcome_of")
    consultant = func.coalesce(
        select(at_meeting.consultant_id)
        .where(at_meeting.id == Membership.meeting_id)
        .scalar_subquery(),
        select(outcome_of.consultant_id)
        .where(outcome_of.outcome_membership_id == Membership.id)
        .order_by(outcome_of.outcome_at, outcome_of.id)
        .limit(1)
        .scalar_subquery(),
        Membership.sold_by_id,
    )
    renewal_rows = (
        select(consultant.label("staff_id"))
        .where(
            Membership.club_id == club_id,
            Membership.renews_id.is_not(None),
            Membership.cancelled_at.is_(None),
            between(Membership.created_at),
        )
        .subquery("renewal_rows")
    )
    renewals = (
        select(*_metrics(renewal_rows.c.staff_id, renewals=func.count()))
        .where(renewal_rows.c.staff_id.is_not(None))
        .group_by(renewal_rows.c.staff_id)
    )

    new_sales = (
        select(*_metrics(Membership.sold_by_id, new_sales=func.count()))
        .where(
            Membership.club_id == club_id,
            Membership.source == "new",
            Membership.cancelled_at.is_(None),
            Membership.sold_by_id.is_not(None),
            between(Membership.created_at),
        )
        .group_by(Membership.sold_by_id)
    )

    recovery = _recovery_calls(club_id, start_at, end_at, today=today, days=days)
    recovered = (
        select(*_metrics(recovery.c.credited_staff_id, recovered_lapsers=func.count()))
        .where(recovery.c.credited_staff_id.is_not(None))
        .group_by(recovery.c.credited_staff_id)
    )

    credits = union_all(attempts, booked, held, renewals, new_sales, recovered).subquery("credits")
    stmt = (
        select(
            credits.c.staff_id,
            Staff.name,
            *(func.sum(credits.c[m]).label(m) for m in STAFF_METRICS),
        )
        .join(Staff, Staff.id == credits.c.staff_id)
        .group_by(credits.c.staff_id, Staff.name)
        .order_by(Staff.name, credits.c.staff_id)
    )
    return [dict(r._mapping) for r in await session.execute(stmt)]
