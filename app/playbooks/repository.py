"""All SQL of playbooks: the plan, the set-based trigger queries, effects and tasks.

Every trigger query returns rows `(member_id, membership_id, anchor, on | at, score?)`
for one club and one bounded range of trigger dates, and leaves out the (member, step,
anchor) triples that already have an effect, so the job pages through what is left in
chunks. The anchor is built in SQL from the triggering row's id (its 32-digit hex form,
the same on both dialects) so that this exclusion is one `NOT EXISTS`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    delete,
    exists,
    extract,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.members.consents import ConsentPurpose
from app.models import (
    Club,
    Complaint,
    ConsentEvent,
    Freeze,
    Meeting,
    Member,
    Membership,
    Playbook,
    PlaybookEffect,
    PlaybookStep,
    RiskAssessment,
)
from app.models.meeting import MeetingStatus
from app.models.outreach import ComplaintStatus, StepAction

MARKETING_PURPOSES = (ConsentPurpose.MARKETING_SMS.value, ConsentPurpose.MARKETING_EMAIL.value)
# How far before a lapse step's range the at-risk run's start is looked for.
LAPSE_LOOKBACK_DAYS = 30
_IN_CHUNK = 1000
# A trigger query: rows of (member_id, membership_id, anchor, on | at, score?).
TriggerQuery: TypeAlias = Select[*tuple[Any, ...]]

# ------------------------------------------------------------------------------ playbook


async def get_playbook(
    session: AsyncSession, club_id: uuid.UUID, *, for_update: bool = False
) -> Playbook | None:
    stmt = select(Playbook).where(Playbook.club_id == club_id)
    if for_update:
        stmt = stmt.with_for_update()
    stmt = stmt.execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one_or_none()


async def steps(session: AsyncSession, club_id: uuid.UUID) -> list[PlaybookStep]:
    stmt = (
        select(PlaybookStep)
        .where(PlaybookStep.club_id == club_id)
        .order_by(PlaybookStep.position, PlaybookStep.key)
    )
    return list((await session.scalars(stmt)).all())


async def delete_steps(session: AsyncSession, club_id: uuid.UUID) -> None:
    await session.execute(
        delete(PlaybookStep)
        .where(PlaybookStep.club_id == club_id)
        .execution_options(synchronize_session=False)
    )


def add(session: AsyncSession, *rows: Any) -> None:
    session.add_all(rows)


async def active_clubs(session: AsyncSession) -> list[Club]:
    stmt = select(Club).where(Club.active.is_(True)).order_by(Club.id)
    return list((await session.scalars(stmt)).all())


async def club(session: AsyncSession, club_id: uuid.UUID) -> Club | None:
    return await session.get(Club, club_id)


# ------------------------------------------------------------------------------- helpers


def _hex(column: Any, dialect: str) -> ColumnElement[str]:
    """A UUID column as 32 lowercase hex digits (`uuid.hex`): SQLite stores it so, and
    PostgreSQL's text form only adds the dashes."""
    text = cast(column, String)
    if dialect == "postgresql":
        return func.replace(text, "-", "")
    return text


def _anchor(prefix: str, column: Any, dialect: str) -> ColumnElement[str]:
    return (literal(f"{prefix}:", String) + _hex(column, dialect)).label("anchor")


def _live_on(member_id: Any, today: date) -> ColumnElement[bool]:
    """The member holds a current membership (not cancelled, in term) on `today`."""
    return exists().where(
        Membership.member_id == member_id,
        Membership.cancelled_at.is_(None),
        Membership.start_date <= today,
        Membership.end_date >= today,
    )


def _current_membership_id(member_id: Any, today: date) -> Any:
    """The member's current membership that ends last (null if none)."""
    return (
        select(Membership.id)
        .where(
            Membership.member_id == member_id,
            Membership.cancelled_at.is_(None),
            Membership.start_date <= today,
            Membership.end_date >= today,
        )
        .order_by(Membership.end_date.desc(), Membership.id)
        .limit(1)
        .scalar_subquery()
    )


def _marketing_consent(member_id: Any) -> ColumnElement[bool]:
    """The member's latest event for some marketing purpose grants it (set-based form of
    `app.members.consents.current_consents`)."""
    later = aliased(ConsentEvent)
    return exists().where(
        ConsentEvent.member_id == member_id,
        ConsentEvent.purpose.in_(MARKETING_PURPOSES),
        ConsentEvent.granted.is_(True),
        ~exists().where(
            later.member_id == ConsentEvent.member_id,
            later.purpose == ConsentEvent.purpose,
            or_(
                later.recorded_at > ConsentEvent.recorded_at,
                and_(later.recorded_at == ConsentEvent.recorded_at, later.id > ConsentEvent.id),
            ),
        ),
    )


async def pending(
    session: AsyncSession, stmt: TriggerQuery, step_key: str, limit: int
) -> list[dict[str, Any]]:
    """The rows of a trigger query that have no effect for `step_key` yet, at most
    `limit`, in a stable order."""
    sub = stmt.subquery("due")
    done = exists().where(
        PlaybookEffect.member_id == sub.c.member_id,
        PlaybookEffect.step_key == step_key,
        PlaybookEffect.anchor == sub.c.anchor,
    )
    page = select(sub).where(~done).order_by(sub.c.member_id, sub.c.anchor).limit(limit)
    return [dict(r) for r in (await session.execute(page)).mappings()]


# ------------------------------------------------------------------------------ triggers


def purchases(
    club_id: uuid.UUID, lo: date, hi: date, lo_at: datetime, hi_at: datetime, dialect: str
) -> TriggerQuery:
    """New memberships whose day one - the earlier of the club-local sale date and the
    start date - is in [lo, hi]. `lo_at`/`hi_at` are lo's local midnight and the one
    after hi (UTC): min(start, sale) in [lo, hi] <=> both >= lo and either <= hi."""
    return (
        select(
            Membership.member_id,
            Membership.id.label("membership_id"),
            _anchor("membership", Membership.id, dialect),
            Membership.start_date.label("on"),
            Membership.created_at.label("at"),
        )
        .join(Member, Member.id == Membership.member_id)
        .where(
            Membership.club_id == club_id,
            Membership.source == "new",
            Membership.cancelled_at.is_(None),
            Member.erased_at.is_(None),
            Membership.start_date >= lo,
            Membership.created_at >= lo_at,
            or_(Membership.start_date <= hi, Membership.created_at < hi_at),
        )
    )


def expiring(club_id: uuid.UUID, lo: date, hi: date, dialect: str) -> TriggerQuery:
    """Memberships ending in [lo, hi] with nothing bought to follow them (no renewal, no
    later membership)."""
    follow = aliased(Membership)
    return (
        select(
            Membership.member_id,
            Membership.id.label("membership_id"),
            _anchor("membership", Membership.id, dialect),
            Membership.end_date.label("on"),
        )
        .join(Member, Member.id == Membership.member_id)
        .where(
            Membership.club_id == club_id,
            Membership.cancelled_at.is_(None),
            Member.erased_at.is_(None),
            Membership.end_date >= lo,
            Membership.end_date <= hi,
            ~exists().where(
                follow.member_id == Membership.member_id,
                follow.id != Membership.id,
                follow.cancelled_at.is_(None),
                or_(follow.renews_id == Membership.id, follow.end_date > Membership.end_date),
            ),
        )
    )


def freezes_ended(club_id: uuid.UUID, lo: date, hi: date, dialect: str) -> TriggerQuery:
    """Live freezes whose last day (after any early end) is in [lo, hi]."""
    return (
        select(
            Membership.member_id,
            Membership.id.label("membership_id"),
            _anchor("freeze", Freeze.id, dialect),
            Freeze.end_date.label("on"),
        )
        .join(Membership, Membership.id == Freeze.membership_id)
        .join(Member, Member.id == Membership.member_id)
        .where(
            Freeze.club_id == club_id,
            Freeze.cancelled_at.is_(None),
            Membership.cancelled_at.is_(None),
            Member.erased_at.is_(None),
            Freeze.end_date >= lo,
            Freeze.end_date <= hi,
        )
    )


def birthdays(
    club_id: uuid.UUID, month_days: Collection[int], anchor: str, today: date
) -> TriggerQuery:
    """Members with a current membership born on one of `month_days` (month * 100 +
    day); `anchor` is the birthday's year."""
    month_day = extract("month", Member.birth_date) * 100 + extract("day", Member.birth_date)
    return select(
        Member.id.label("member_id"),
        _current_membership_id(Member.id, today).label("membership_id"),
        literal(anchor, String).label("anchor"),
        Member.birth_date.label("on"),
    ).where(
        Member.club_id == club_id,
        Member.erased_at.is_(None),
        Member.birth_date.is_not(None),
        month_day.in_(sorted(month_days)),
        _live_on(Member.id, today),
    )


def no_shows(
    club_id: uuid.UUID, lo_at: datetime, hi_at: datetime, today: date, dialect: str
) -> TriggerQuery:
    """Meetings marked no-show in [lo_at, hi_at) that are still no-shows."""
    return (
        select(
            Meeting.member_id,
            _current_membership_id(Meeting.member_id, today).label("membership_id"),
            _anchor("meeting", Meeting.id, dialect),
            Meeting.no_show_at.label("at"),
        )
        .join(Member, Member.id == Meeting.member_id)
        .where(
            Meeting.club_id == club_id,
            Meeting.status == MeetingStatus.NO_SHOW.value,
            Meeting.no_show_at >= lo_at,
            Meeting.no_show_at < hi_at,
            Member.erased_at.is_(None),
        )
    )


def resolved_complaints(
    club_id: uuid.UUID, lo_at: datetime, hi_at: datetime, today: date, dialect: str
) -> TriggerQuery:
    return (
        select(
            Complaint.member_id,
            func.coalesce(
                Complaint.membership_id, _current_membership_id(Complaint.member_id, today)
            ).label("membership_id"),
            _anchor("complaint", Complaint.id, dialect),
            Complaint.resolved_at.label("at"),
        )
        .join(Member, Member.id == Complaint.member_id)
        .where(
            Complaint.club_id == club_id,
            Complaint.status == ComplaintStatus.RESOLVED.value,
            Complaint.resolved_at >= lo_at,
            Complaint.resolved_at < hi_at,
            Member.erased_at.is_(None),
        )
    )


async def latest_scan_day(session: AsyncSession, club_id: uuid.UUID) -> date | None:
    stmt = select(func.max(RiskAssessment.scan_date)).where(RiskAssessment.club_id == club_id)
    day: date | None = await session.scalar(stmt)
    return day


def lapsing(
    club_id: uuid.UUID, levels: Sequence[str], scan_day: date, lo: date, hi: date
) -> TriggerQuery:
    """Members whose latest assessment (the club's latest scan day) is at one of
    `levels` and not suppressed, and whose current run of such assessments started in
    [lo, hi]. The run's start is the anchor: one effect per at-risk episode."""
    ra = RiskAssessment
    matching = and_(ra.level.in_(list(levels)), ra.suppressed.is_(None))
    since = date.fromordinal(lo.toordinal() - LAPSE_LOOKBACK_DAYS)
    breaker = (
        select(ra.member_id, func.max(ra.scan_date).label("broke_on"))
        .where(ra.club_id == club_id, ra.scan_date >= since, ~matching)
        .group_by(ra.member_id)
        .subquery("broke")
    )
    run = (
        select(ra.member_id, func.min(ra.scan_date).label("started_on"))
        .outerjoin(breaker, breaker.c.member_id == ra.member_id)
        .where(
            ra.club_id == club_id,
            ra.scan_date >= since,
            matching,
            or_(breaker.c.broke_on.is_(None), ra.scan_date > breaker.c.broke_on),
        )
        .group_by(ra.member_id)
        .subquery("run")
    )
    return (
        select(
            ra.member_id,
            ra.membership_id,
            (literal("lapse:", String) + cast(run.c.started_on, String)).label("anchor"),
            run.c.started_on.label("on"),
            ra.score.label("score"),
        )
        .join(run, run.c.member_id == ra.member_id)
        .join(Member, Member.id == ra.member_id)
        .where(
            ra.club_id == club_id,
            ra.scan_date == scan_day,
            matching,
            Member.erased_at.is_(None),
            run.c.started_on >= lo,
            run.c.started_on <= hi,
        )
    )


def monthly(club_id: uuid.UUID, anchor: str, today: date) -> TriggerQuery:
    """Members with a current membership who consent to some marketing channel."""
    return select(
        Member.id.label("member_id"),
        _current_membership_id(Member.id, today).label("membership_id"),
        literal(anchor, String).label("anchor"),
    ).where(
        Member.club_id == club_id,
        Member.erased_at.is_(None),
        _live_on(Member.id, today),
        _marketing_consent(Member.id),
    )


# ------------------------------------------------------------------------- call priority


async def latest_scores(
    session: AsyncSession, club_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Each member's risk score on the club's latest scan day."""
    day = await latest_scan_day(session, club_id)
    if day is None or not member_ids:
        return {}
    out: dict[uuid.UUID, int] = {}
    for i in range(0, len(member_ids), _IN_CHUNK):
        stmt = select(RiskAssessment.member_id, RiskAssessment.score).where(
            RiskAssessment.club_id == club_id,
            RiskAssessment.scan_date == day,
            RiskAssessment.member_id.in_(member_ids[i : i + _IN_CHUNK]),
        )
        out.update({m: int(s) for m, s in await session.execute(stmt)})
    return out


async def lifetime_values(
    session: AsyncSession, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Lifetime revenue (sum of `price_paid`) per member, as member value reports it."""
    out: dict[uuid.UUID, int] = {}
    for i in range(0, len(member_ids), _IN_CHUNK):
        stmt = (
            select(Membership.member_id, func.coalesce(func.sum(Membership.price_paid), 0))
            .where(Membership.member_id.in_(member_ids[i : i + _IN_CHUNK]))
            .group_by(Membership.member_id)
        )
        out.update({m: int(v) for m, v in await session.execute(stmt)})
    return out


async def top_lifetime_value(session: AsyncSession, club_id: uuid.UUID) -> int:
    """The highest lifetime revenue of one member in the club: the value scale."""
    per_member = (
        select(func.sum(Membership.price_paid).label("total"))
        .where(Membership.club_id == club_id)
        .group_by(Membership.member_id)
        .subquery()
    )
    return int(await session.scalar(select(func.max(per_member.c.total))) or 0)


async def members(
    session: AsyncSession, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Member]:
    out: dict[uuid.UUID, Member] = {}
    for i in range(0, len(member_ids), _IN_CHUNK):
        stmt = select(Member).where(Member.id.in_(member_ids[i : i + _IN_CHUNK]))
        out.update({m.id: m for m in await session.scalars(stmt)})
    return out


# ------------------------------------------------------------------------------- effects


async def claim_effects(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[uuid.UUID]:
    """Insert effects, skipping any (member, step, anchor) that already has one - also
    one a concurrent transaction is inserting (PostgreSQL waits for it to finish).
    Returns the ids inserted: only their actions may run."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(PlaybookEffect)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=["member_id", "step_key", "anchor"])
        .returning(PlaybookEffect.id)
    )
    return set((await session.scalars(stmt)).all())


async def update_effects(session: AsyncSession, values: Sequence[dict[str, Any]]) -> None:
    """Bulk UPDATE by primary key (`id` in each dict)."""
    if values:
        await session.execute(update(PlaybookEffect), list(values))


def tasks(club_id: uuid.UUID, status: str | None) -> TriggerQuery:
    stmt = select(PlaybookEffect).where(
        PlaybookEffect.club_id == club_id, PlaybookEffect.action == StepAction.TASK.value
    )
    if status is not None:
        stmt = stmt.where(PlaybookEffect.status == status)
    return stmt


async def task_for_update(session: AsyncSession, task_id: uuid.UUID) -> PlaybookEffect | None:
    stmt = (
        select(PlaybookEffect)
        .where(PlaybookEffect.id == task_id, PlaybookEffect.action == StepAction.TASK.value)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()
