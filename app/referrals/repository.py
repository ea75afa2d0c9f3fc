"""All SQL of referrals."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Member, Referral


async def get(session: AsyncSession, referral_id: uuid.UUID) -> Referral | None:
    return await session.get(Referral, referral_id)


async def lock(session: AsyncSession, referral_id: uuid.UUID) -> Referral | None:
    """The referral row for update: concurrent status changes are judged one by one."""
    stmt = (
        select(Referral)
        .where(Referral.id == referral_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def open_lead(session: AsyncSession, club_id: uuid.UUID, phone: str) -> Referral | None:
    stmt = select(Referral).where(
        Referral.club_id == club_id, Referral.phone == phone, Referral.status == "lead"
    )
    return (await session.scalars(stmt.limit(1))).first()


async def member_with_phone(
    session: AsyncSession, club_id: uuid.UUID, phone: str
) -> uuid.UUID | None:
    """A current (not erased) member of the club with this phone (ix_members_club_id_phone)."""
    stmt = select(Member.id).where(
        Member.club_id == club_id, Member.phone == phone, Member.erased_at.is_(None)
    )
    return (await session.scalars(stmt.limit(1))).first()


async def joined_through(session: AsyncSession, member_id: uuid.UUID) -> Referral | None:
    stmt = select(Referral).where(Referral.member_id == member_id)
    return (await session.scalars(stmt.limit(1))).first()


def listing(
    club_ids: frozenset[uuid.UUID] | None,
    *,
    club_id: uuid.UUID | None,
    referrer_id: uuid.UUID | None,
    status: str | None,
) -> Select[Any]:
    stmt = select(Referral)
    if club_ids is not None:
        stmt = stmt.where(Referral.club_id.in_(club_ids))
    if club_id is not None:
        stmt = stmt.where(Referral.club_id == club_id)
    if referrer_id is not None:
        stmt = stmt.where(Referral.referrer_id == referrer_id)
    if status is not None:
        stmt = stmt.where(Referral.status == status)
    return stmt


async def referrer_counts(
    session: AsyncSession, club_id: uuid.UUID, referrer_id: uuid.UUID
) -> dict[str, Any]:
    stmt = select(
        func.count().label("referred"),
        func.count().filter(Referral.status == "lead").label("leads"),
        func.count().filter(Referral.status == "joined").label("joined"),
        func.count().filter(Referral.status == "lost").label("lost"),
        func.max(Referral.credited_at).label("last_credited_at"),
    ).where(Referral.club_id == club_id, Referral.referrer_id == referrer_id)
    return dict((await session.execute(stmt)).one()._mapping)


async def of_member(session: AsyncSession, member_id: uuid.UUID) -> list[Referral]:
    """Referrals the member made, and the one they joined through."""
    stmt = (
        select(Referral)
        .where(or_(Referral.referrer_id == member_id, Referral.member_id == member_id))
        .order_by(Referral.created_at, Referral.id)
    )
    return list((await session.scalars(stmt)).all())


async def blank_contact(session: AsyncSession, member_id: uuid.UUID) -> None:
    await session.execute(
        update(Referral)
        .where(
            or_(Referral.referrer_id == member_id, Referral.member_id == member_id),
            or_(Referral.name.is_not(None), Referral.phone.is_not(None)),
        )
        .values(name=None, phone=None)
        .execution_options(synchronize_session="fetch")
    )
