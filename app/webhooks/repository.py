"""All SQL of webhooks: subscriptions, the fan-out of events, deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Club, Event, WebhookDelivery, WebhookSubscription


async def club_exists(session: AsyncSession, club_id: uuid.UUID) -> bool:
    return await session.scalar(select(Club.id).where(Club.id == club_id)) is not None


async def get(session: AsyncSession, subscription_id: uuid.UUID) -> WebhookSubscription | None:
    return await session.get(WebhookSubscription, subscription_id)


def listing(club_ids: frozenset[uuid.UUID] | None, *, club_id: uuid.UUID | None) -> Select[Any]:
    stmt = select(WebhookSubscription)
    if club_ids is not None:
        stmt = stmt.where(WebhookSubscription.club_id.in_(club_ids))
    if club_id is not None:
        stmt = stmt.where(WebhookSubscription.club_id == club_id)
    return stmt


def deliveries(subscription_id: uuid.UUID, *, status: str | None) -> Select[Any]:
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    return stmt


async def delete(session: AsyncSession, subscription: WebhookSubscription) -> None:
    await session.delete(subscription)


# ---- fan-out ---------------------------------------------------------------------------


async def claim_unfanned_events(
    session: AsyncSession, limit: int, *, skip_locked: bool
) -> list[Event]:
    """Committed events not yet fanned out, oldest first, locked for this transaction.

    An event committed late (after younger ids) is still unfanned when it becomes
    visible, so nothing is skipped whatever the commit order.
    """
    stmt = select(Event).where(Event.fanned_out_at.is_(None)).order_by(Event.id).limit(limit)
    if skip_locked:
        stmt = stmt.with_for_update(skip_locked=True)
    return list((await session.scalars(stmt)).all())


async def mark_fanned_out(session: AsyncSession, event_ids: Sequence[int], now: datetime) -> None:
    await session.execute(update(Event).where(Event.id.in_(event_ids)).values(fanned_out_at=now))


async def active_subscriptions(session: AsyncSession) -> list[WebhookSubscription]:
    stmt = select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
    return list((await session.scalars(stmt)).all())


async def insert_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert deliveries, skipping any (subscription, event) that already exists."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(WebhookDelivery)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=["subscription_id", "event_id"])
    )
    res = await session.execute(stmt)
    return int(getattr(res, "rowcount", 0) or 0)


# ---- delivery --------------------------------------------------------------------------


async def claim_due_deliveries(
    session: AsyncSession, as_of: datetime, limit: int, *, skip_locked: bool
) -> list[WebhookDelivery]:
    """Due deliveries of active subscriptions, locked for this transaction (SKIP LOCKED
    on PostgreSQL; SQLite's single writer makes the claim exclusive already)."""
    stmt = (
        select(WebhookDelivery)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= as_of,
            WebhookSubscription.active.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if skip_locked:
        stmt = stmt.with_for_update(skip_locked=True, of=WebhookDelivery)
    return list((await session.scalars(stmt)).all())


async def events_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Event]:
    if not ids:
        return {}
    rows = await session.scalars(select(Event).where(Event.id.in_(ids)))
    return {e.id: e for e in rows}


async def subscriptions_by_ids(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, lock: bool = False
) -> dict[uuid.UUID, WebhookSubscription]:
    if not ids:
        return {}
    stmt = select(WebhookSubscription).where(WebhookSubscription.id.in_(ids))
    if lock:
        stmt = stmt.with_for_update()
    return {s.id: s for s in await session.scalars(stmt)}


async def finish_delivery(
    session: AsyncSession, delivery_id: uuid.UUID, attempt: int, values: dict[str, Any]
) -> bool:
    """Record attempt `attempt` unless the row moved on (a stale worker's late result)."""
    res = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.attempts == attempt,
        )
        .values(**values)
    )
    return bool(getattr(res, "rowcount", 0))
