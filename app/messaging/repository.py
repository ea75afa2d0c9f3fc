"""All SQL of the messages outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Club, Message

# Keys per IN list: well under the bind-parameter limits of SQLite and asyncpg.
_IN_CHUNK = 1000


async def club(session: AsyncSession, club_id: uuid.UUID) -> Club | None:
    return await session.get(Club, club_id)


async def by_dedupe_key(session: AsyncSession, key: str) -> Message | None:
    return await session.scalar(select(Message).where(Message.dedupe_key == key))


async def by_dedupe_keys(session: AsyncSession, keys: Sequence[str]) -> dict[str, Message]:
    found: dict[str, Message] = {}
    unique = list(dict.fromkeys(keys))
    for i in range(0, len(unique), _IN_CHUNK):
        stmt = select(Message).where(Message.dedupe_key.in_(unique[i : i + _IN_CHUNK]))
        found.update({m.dedupe_key: m for m in await session.scalars(stmt)})
    return found


async def add_all_unique(session: AsyncSession, messages: Sequence[Message]) -> list[Message]:
    """Insert all in one flush; if a dedupe key was taken meanwhile (a concurrent writer),
    fall back to one savepoint per row so the rest still goes in. Returns the stored rows
    (an existing row in place of a message whose key was taken)."""
    if not messages:
        return []
    try:
        async with session.begin_nested():
            session.add_all(messages)
        return list(messages)
    except IntegrityError:
        pass
    return [(await add_unique(session, m))[0] for m in messages]


async def add_unique(session: AsyncSession, message: Message) -> tuple[Message, bool]:
    """Insert, or return the row that already holds `message.dedupe_key` (created by a
    concurrent transaction a moment ago). Returns (row, created)."""
    try:
        async with session.begin_nested():
            session.add(message)
        return message, True
    except IntegrityError:
        existing = await by_dedupe_key(session, message.dedupe_key)
        if existing is None:  # the conflict was not the dedupe key
            raise
        return existing, False


async def claim_due(
    session: AsyncSession, as_of: datetime, limit: int, *, skip_locked: bool
) -> list[Message]:
    """Queued messages that are due, oldest first, locked for this transaction.

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take disjoint rows.
    SQLite has one writer at a time (BEGIN IMMEDIATE), which already makes the claim
    exclusive; the clause is left out there.
    """
    stmt = (
        select(Message)
        .where(Message.status == "queued", Message.next_attempt_at <= as_of)
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
    )
    if skip_locked:
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list((await session.scalars(stmt)).all())
    # Decide in creation order so caps favour the message queued first.
    return sorted(rows, key=lambda m: (m.created_at, m.id))


async def finish(
    session: AsyncSession, message_id: uuid.UUID, attempt: int, values: dict[str, Any]
) -> bool:
    """Record the outcome of attempt `attempt`, unless the row moved on meanwhile (a
    stale worker whose lease expired must not overwrite a newer attempt)."""
    res = await session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.status == "queued",
            Message.attempts == attempt,
        )
        .values(**values)
    )
    return bool(getattr(res, "rowcount", 0))


def listing(
    club_ids: frozenset[uuid.UUID] | None,
    *,
    club_id: uuid.UUID | None,
    member_id: uuid.UUID | None,
    status: str | None,
) -> Select[Any]:
    stmt = select(Message)
    if club_ids is not None:
        stmt = stmt.where(Message.club_id.in_(club_ids))
    if club_id is not None:
        stmt = stmt.where(Message.club_id == club_id)
    if member_id is not None:
        stmt = stmt.where(Message.member_id == member_id)
    if status is not None:
        stmt = stmt.where(Message.status == status)
    return stmt


async def erase_member(session: AsyncSession, member_id: uuid.UUID, now: datetime) -> int:
    # Queued messages cannot be sent any more: there is no text or address left.
    await session.execute(
        update(Message)
        .where(Message.member_id == member_id, Message.status == "queued")
        .values(status="suppressed", suppressed_reason="member_erased", next_attempt_at=None)
    )
    res = await session.execute(
        update(Message)
        .where(Message.member_id == member_id)
        .values(body="", subject=None, to_address="", last_error=None, erased_at=now)
    )
    return int(getattr(res, "rowcount", 0) or 0)


async def for_member(session: AsyncSession, member_id: uuid.UUID) -> list[Message]:
    stmt = select(Message).where(Message.member_id == member_id).order_by(Message.created_at)
    return list((await session.scalars(stmt)).all())
