"""All SQL of feedback."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Feedback


async def by_source(
    session: AsyncSession, *, call_id: uuid.UUID | None, meeting_id: uuid.UUID | None
) -> Feedback | None:
    """Feedback already given for this call or meeting."""
    clauses = []
    if call_id is not None:
        clauses.append(Feedback.call_id == call_id)
    if meeting_id is not None:
        clauses.append(Feedback.meeting_id == meeting_id)
    if not clauses:
        return None
    stmt = select(Feedback).where(or_(*clauses)).limit(1)
    return (await session.scalars(stmt)).first()


def listing(
    club_ids: frozenset[uuid.UUID] | None,
    *,
    club_id: uuid.UUID | None,
    member_id: uuid.UUID | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[Any]:
    stmt = select(Feedback)
    if club_ids is not None:
        stmt = stmt.where(Feedback.club_id.in_(club_ids))
    if club_id is not None:
        stmt = stmt.where(Feedback.club_id == club_id)
    if member_id is not None:
        stmt = stmt.where(Feedback.member_id == member_id)
    if since is not None:
        stmt = stmt.where(Feedback.created_at >= since)
    if until is not None:
        stmt = stmt.where(Feedback.created_at < until)
    return stmt


async def of_member(session: AsyncSession, member_id: uuid.UUID) -> list[Feedback]:
    stmt = (
        select(Feedback)
        .where(Feedback.member_id == member_id)
        .order_by(Feedback.created_at, Feedback.id)
    )
    return list((await session.scalars(stmt)).all())


async def redact_comments(session: AsyncSession, member_id: uuid.UUID, text: str) -> None:
    await session.execute(
        update(Feedback)
        .where(Feedback.member_id == member_id, Feedback.comment.is_not(None))
        .values(comment=text)
        .execution_options(synchronize_session="fetch")
    )
