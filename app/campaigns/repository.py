"""All SQL of campaigns: the set-based segment query, the once-only send claim, results."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, extract, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import Campaign, CampaignRecipient, Club, Member, Membership, Message, Plan


@dataclass(frozen=True)
class SegmentQuery:
    """A segment resolved for one club on one club-local day."""

    club_id: uuid.UUID
    today: date
    plan_ids: Sequence[uuid.UUID] | None = None
    ending_within_days: int | None = None
    interests: Sequence[str] | None = None
    birthday_month: int | None = None
    # Ids of the members who may use the segment's promotion (promotions' audience query).
    promotion_member_ids: Select[Any] | None = None
    # Ids of the members at the segment's risk levels (the risk domain's query).
    risk_member_ids: Select[Any] | None = None


async def club(session: AsyncSession, club_id: uuid.UUID) -> Club | None:
    return await session.get(Club, club_id)


async def get(session: AsyncSession, campaign_id: uuid.UUID) -> Campaign | None:
    return await session.get(Campaign, campaign_id, populate_existing=True)


def add(session: AsyncSession, row: Any) -> None:
    session.add(row)


async def plans_for_club(
    session: AsyncSession, club_id: uuid.UUID, plan_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of `plan_ids` the club sells (its own or chain-wide)."""
    stmt = select(Plan.id).where(
        Plan.id.in_(list(plan_ids)), or_(Plan.club_id == club_id, Plan.club_id.is_(None))
    )
    return set((await session.scalars(stmt)).all())


def listing(club_ids: frozenset[uuid.UUID] | None, club_id: uuid.UUID | None) -> Select[Any]:
    stmt = select(Campaign)
    if club_ids is not None:
        stmt = stmt.where(Campaign.club_id.in_(club_ids))
    if club_id is not None:
        stmt = stmt.where(Campaign.club_id == club_id)
    return stmt


# ------------------------------------------------------------------------------ segment


def _any_interest(values: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """The member's interests (a JSON array) share a value with `values`, ignoring case.
    One place per dialect: jsonb_array_elements_text on PostgreSQL, json_each on SQLite."""
    wanted = sorted({v.casefold() for v in values})
    fn = (
        func.jsonb_array_elements_text(Member.interests)
        if dialect == "postgresql"
        else func.json_each(Member.interests)
    )
    elements = fn.table_valued("value").alias("interest")
    return exists(select(1).select_from(elements).where(func.lower(elements.c.value).in_(wanted)))


def segment_filter(q: SegmentQuery, dialect: str) -> ColumnElement[bool]:
    m = aliased(Membership)
    membership: list[ColumnElement[bool]] = [
        m.member_id == Member.id,
        m.club_id == q.club_id,
        m.cancelled_at.is_(None),
        m.end_date >= q.today,
    ]
    if q.plan_ids:
        membership.append(m.plan_id.in_(list(q.plan_ids)))
    if q.ending_within_days is not None:
        follow = aliased(Membership)
        membership += [
            m.start_date <= q.today,
            m.end_date <= q.today + timedelta(days=q.ending_within_days),
            # Nothing bought to follow it: a renewal, or any later membership.
            ~exists().where(
                follow.member_id == m.member_id,
                follow.id != m.id,
                follow.cancelled_at.is_(None),
                follow.end_date > m.end_date,
            ),
        ]
    clauses: list[ColumnElement[bool]] = [
        Member.club_id == q.club_id,
        Member.erased_at.is_(None),
        exists().where(and_(*membership)),
    ]
    if q.interests:
        clauses.append(_any_interest(q.interests, dialect))
    if q.birthday_month is not None:
        clauses.append(extract("month", Member.birth_date) == q.birthday_month)
    if q.risk_member_ids is not None:
        clauses.append(Member.id.in_(q.risk_member_ids.scalar_subquery()))
    if q.promotion_member_ids is not None:
        clauses.append(Member.id.in_(q.promotion_member_ids.scalar_subquery()))
    return and_(*clauses)


async def segment_count(session: AsyncSession, q: SegmentQuery) -> int:
    dialect = session.get_bind().dialect.name
    stmt = select(func.count()).select_from(Member).where(segment_filter(q, dialect))
    return int(await session.scalar(stmt) or 0)


async def segment_sample(session: AsyncSession, q: SegmentQuery, limit: int) -> list[Member]:
    dialect = session.get_bind().dialect.name
    stmt = (
        select(Member)
        .where(segment_filter(q, dialect))
        .order_by(Member.last_name, Member.first_name, Member.id)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def segment_chunk(
    session: AsyncSession, q: SegmentQuery, after: uuid.UUID | None, limit: int
) -> list[Member]:
    """The next `limit` members of the segment by id (keyset), for sending in chunks."""
    dialect = session.get_bind().dialect.name
    stmt = select(Member).where(segment_filter(q, dialect))
    if after is not None:
        stmt = stmt.where(Member.id > after)
    return list((await session.scalars(stmt.order_by(Member.id).limit(limit))).all())


# --------------------------------------------------------------------------------- send


async def claim_send(
    session: AsyncSession,
    campaign_id: uuid.UUID,
    as_of: datetime,
    *,
    statuses: Sequence[str],
    due_by: datetime | None = None,
) -> bool:
    """Flip the campaign to `sent` if it is still in one of `statuses` (and, for the job,
    due by `due_by`). The guarded UPDATE is the once-only claim: a concurrent sender
    waits on the row lock (PostgreSQL) or the write lock (SQLite), then finds it sent."""
    stmt = (
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status.in_(list(statuses)))
        .values(status="sent", sent_at=as_of, updated_at=as_of)
        .execution_options(synchronize_session=False)
    )
    if due_by is not None:
        stmt = stmt.where(Campaign.send_at <= due_by)
    res = await session.execute(stmt)
    return bool(getattr(res, "rowcount", 0))


async def due_campaign_ids(session: AsyncSession, as_of: datetime, limit: int) -> list[uuid.UUID]:
    stmt = (
        select(Campaign.id)
        .where(Campaign.status == "scheduled", Campaign.send_at <= as_of)
        .order_by(Campaign.send_at, Campaign.id)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


def add_recipients(session: AsyncSession, rows: Sequence[CampaignRecipient]) -> None:
    session.add_all(rows)


# ------------------------------------------------------------------------------ results


async def delivery_counts(session: AsyncSession, campaign_id: uuid.UUID) -> list[Any]:
    stmt = (
        select(Message.status, Message.suppressed_reason, func.count())
        .join(CampaignRecipient, CampaignRecipient.message_id == Message.id)
        .where(CampaignRecipient.campaign_id == campaign_id)
        .group_by(Message.status, Message.suppressed_reason)
    )
    return list((await session.execute(stmt)).all())


async def attributed_renewals(
    session: AsyncSession, campaign_id: uuid.UUID, sent_at: datetime, days: int
) -> tuple[int, int]:
    """(count, revenue) of renewals/upgrades bought by messaged members after their
    message went out and within `days` of the campaign's send; cancelled ones excluded."""
    stmt = (
        select(func.count(Membership.id), func.coalesce(func.sum(Membership.price_paid), 0))
        .select_from(CampaignRecipient)
        .join(Message, Message.id == CampaignRecipient.message_id)
        .join(Membership, Membership.member_id == CampaignRecipient.member_id)
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            Message.status == "sent",
            Membership.source.in_(("renewal", "upgrade")),
            Membership.cancelled_at.is_(None),
            Membership.created_at >= Message.sent_at,
            Membership.created_at < sent_at + timedelta(days=days),
        )
    )
    count, revenue = (await session.execute(stmt)).one()
    return int(count or 0), int(revenue or 0)
