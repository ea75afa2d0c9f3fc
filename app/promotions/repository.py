"""All SQL of promotions, quotes and promotion uses."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import Club, Member, Membership, Plan, Promotion, PromotionUse
from app.promotions.pricing import Usage


async def get(session: AsyncSession, promotion_id: uuid.UUID) -> Promotion | None:
    return await session.get(Promotion, promotion_id)


async def lock(session: AsyncSession, promotion_id: uuid.UUID) -> Promotion | None:
    """The promotion, row-locked until the transaction ends, with fresh values.

    Every sale on a promotion takes this lock before counting its uses, so concurrent
    sales are serialised per promotion and the limits hold. (SQLite has no row locks;
    it serialises all writers with BEGIN IMMEDIATE, see app/db.py.)"""
    stmt = (
        select(Promotion)
        .where(Promotion.id == promotion_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


def listing(
    club_ids: frozenset[uuid.UUID] | None,
    *,
    club_id: uuid.UUID | None,
    active_on: date | None,
) -> Select[Any]:
    stmt = select(Promotion)
    if club_ids is not None:
        stmt = stmt.where(Promotion.club_id.in_(club_ids))
    if club_id is not None:
        stmt = stmt.where(Promotion.club_id == club_id)
    if active_on is not None:
        stmt = stmt.where(
            Promotion.active.is_(True),
            Promotion.valid_from <= active_on,
            Promotion.valid_until >= active_on,
        )
    return stmt


async def candidates(
    session: AsyncSession,
    club_id: uuid.UUID,
    *,
    ending_since: date,
    include: uuid.UUID | None = None,
) -> list[Promotion]:
    """The club's promotions a sale considers: every one that ends on or after
    `ending_since` (so ones that ended recently are reported as expired), plus `include`."""
    recent = Promotion.valid_until >= ending_since
    cond = or_(recent, Promotion.id == include) if include is not None else recent
    stmt = select(Promotion).where(Promotion.club_id == club_id, cond).order_by(Promotion.id)
    return list((await session.scalars(stmt)).all())


async def usage(
    session: AsyncSession, promotion_ids: Collection[uuid.UUID], member_id: uuid.UUID
) -> dict[uuid.UUID, Usage]:
    """Uses of each promotion, overall and by one member, in one grouped query."""
    if not promotion_ids:
        return {}
    stmt = (
        select(
            PromotionUse.promotion_id,
            func.count(),
            func.coalesce(func.sum(case((PromotionUse.member_id == member_id, 1), else_=0)), 0),
        )
        .where(PromotionUse.promotion_id.in_(list(promotion_ids)))
        .group_by(PromotionUse.promotion_id)
    )
    rows = (await session.execute(stmt)).all()
    return {pid: Usage(total=int(total), by_member=int(mine)) for pid, total, mine in rows}


async def use_counts(
    session: AsyncSession, promotion_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not promotion_ids:
        return {}
    stmt = (
        select(PromotionUse.promotion_id, func.count())
        .where(PromotionUse.promotion_id.in_(list(promotion_ids)))
        .group_by(PromotionUse.promotion_id)
    )
    return {pid: int(n) for pid, n in (await session.execute(stmt)).all()}


def add_use(
    session: AsyncSession,
    *,
    promotion: Promotion,
    member_id: uuid.UUID,
    membership_id: uuid.UUID,
    used_at: datetime,
) -> PromotionUse:
    use = PromotionUse(
        club_id=promotion.club_id,
        promotion_id=promotion.id,
        member_id=member_id,
        membership_id=membership_id,
        used_at=used_at,
    )
    session.add(use)
    return use


async def sellable_plan_ids(
    session: AsyncSession, plan_ids: Collection[uuid.UUID], club_id: uuid.UUID
) -> set[uuid.UUID]:
    """Those of `plan_ids` that are the club's own plans or chain-wide ones."""
    if not plan_ids:
        return set()
    stmt = select(Plan.id).where(
        Plan.id.in_(list(plan_ids)), or_(Plan.club_id == club_id, Plan.club_id.is_(None))
    )
    return set((await session.scalars(stmt)).all())


async def get_club(session: AsyncSession, club_id: uuid.UUID) -> Club | None:
    return await session.get(Club, club_id)


async def get_membership(session: AsyncSession, membership_id: uuid.UUID) -> Membership | None:
    return await session.get(Membership, membership_id)


async def renewal_candidate(
    session: AsyncSession, member_id: uuid.UUID, club_id: uuid.UUID
) -> Membership | None:
    """The member's latest membership that is neither cancelled nor already renewed."""
    successor = aliased(Membership)
    stmt = (
        select(Membership)
        .where(
            Membership.club_id == club_id,
            Membership.member_id == member_id,
            Membership.cancelled_at.is_(None),
            ~exists(select(successor.id).where(successor.renews_id == Membership.id)),
        )
        .order_by(Membership.end_date.desc(), Membership.id.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).one_or_none()


async def is_renewed(session: AsyncSession, membership_id: uuid.UUID) -> bool:
    stmt = select(exists(select(Membership.id).where(Membership.renews_id == membership_id)))
    return bool(await session.scalar(stmt))


async def uses_of_member(
    session: AsyncSession, club_id: uuid.UUID, member_id: uuid.UUID
) -> list[tuple[PromotionUse, str]]:
    """A member's promotion uses with each promotion's name, oldest first."""
    stmt = (
        select(PromotionUse, Promotion.name)
        .join(Promotion, Promotion.id == PromotionUse.promotion_id)
        .where(PromotionUse.club_id == club_id, PromotionUse.member_id == member_id)
        .order_by(PromotionUse.used_at, PromotionUse.id)
    )
    return [(use, name) for use, name in (await session.execute(stmt)).all()]


def eligible_member_ids(promotion: Promotion, today: date) -> Select[Any]:
    """Members of the promotion's club for whom the member-dependent checks of the pricing
    engine pass on club-local `today` (set-based, for campaign segments): the per-member
    limit, and for renewal-only promotions a renewable membership (neither cancelled nor
    renewed, not expired) that ends at least `early_renewal_days` after today."""
    stmt = select(Member.id).where(Member.club_id == promotion.club_id)
    if promotion.max_uses_per_member is not None:
        uses = (
            select(func.count())
            .select_from(PromotionUse)
            .where(PromotionUse.promotion_id == promotion.id, PromotionUse.member_id == Member.id)
            .scalar_subquery()
        )
        stmt = stmt.where(uses < promotion.max_uses_per_member)
    if promotion.kind == "renewal":
        successor = aliased(Membership)
        renewable = [
            Membership.member_id == Member.id,
            Membership.club_id == promotion.club_id,
            Membership.cancelled_at.is_(None),
            Membership.end_date >= today + timedelta(days=promotion.early_renewal_days or 0),
            ~exists(select(successor.id).where(successor.renews_id == Membership.id)),
        ]
        stmt = stmt.where(exists().where(*renewable))
    return stmt


def no_members() -> Select[Any]:
    return select(Member.id).where(false())
