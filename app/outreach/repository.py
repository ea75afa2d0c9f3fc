"""Service-call SQL."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ServiceCall
from app.models.outreach import OPEN_CALL_STATUSES

OPEN_VALUES = [s.value for s in OPEN_CALL_STATUSES]


async def open_call_for_update(session: AsyncSession, member_id: uuid.UUID) -> ServiceCall | None:
    """The member's open call, row-locked on PostgreSQL (SQLite serialises writers)."""
    stmt = (
        select(ServiceCall)
        .where(ServiceCall.member_id == member_id, ServiceCall.status.in_(OPEN_VALUES))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()
