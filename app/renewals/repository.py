"""SQL of renewals: the row lock on the membership being renewed, and its successor."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Membership, Plan


async def lock_membership(session: AsyncSession, membership_id: uuid.UUID) -> Membership | None:
    """The membership, row-locked and re-read: the same lock freezes take, so its end
    date cannot move while a renewal computes the new start from it (PostgreSQL
    `FOR UPDATE`; SQLite serialises writers)."""
    stmt = (
        select(Membership)
        .where(Membership.id == membership_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def successor_id(session: AsyncSession, membership_id: uuid.UUID) -> uuid.UUID | None:
    """The membership that renews this one, if any."""
    stmt = select(Membership.id).where(Membership.renews_id == membership_id)
    return (await session.scalars(stmt)).one_or_none()


async def plan(session: AsyncSession, plan_id: uuid.UUID) -> Plan | None:
    return await session.get(Plan, plan_id)
