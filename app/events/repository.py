"""SQL of the events feed and retention.

The feed must never skip an event. Ids come from a sequence at insert time, but
transactions commit in any order: a reader that has served id 11 can later see id 10
commit, and a naive `id > after` feed skips it forever.

PostgreSQL: every event stores its writing transaction's id (`xact_id`, a column
default `pg_current_xact_id()`), the feed is ordered by `(xact_id, id)`, and it only
serves events below a *horizon*: the oldest transaction that may still commit events,
i.e. `pg_snapshot_xmin(pg_current_snapshot())`. Every transaction below it has finished,
and an event that becomes visible later belongs to a transaction at or above it, so it
sorts after everything already served. The price: an event waits while an older write
transaction is still open (keep transactions short).

Snapshot xmin is cluster-wide, so a long transaction in *another database* on the same
server would hold the feed back too, although it can never write our events (a backend
stays in one database for life). `settled_horizon()` therefore skips in-progress xids
positively identified as another database's: in one read of `pg_locks` (visible to any
role), the owner's ExclusiveLock on its xid and a relation lock of the same virtual
transaction (never reused) in another database. An xid it cannot place (say, a
transaction that wrote only shared catalogs) still holds the feed back: an event
arrives later, it is never lost.

SQLite has a single writer (`BEGIN IMMEDIATE`): ids are assigned and committed in
order, so `id` alone is the order.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Event

_NO_LIMIT = 2**63 - 1

# min(in-progress xids not placed in another database, snapshot xmax, our own xid).
_HORIZON_SQL = text(
    """
    WITH snap AS (SELECT pg_current_snapshot() AS s),
    locks AS MATERIALIZED (
        SELECT locktype, mode, granted, virtualtransaction, transactionid, database
        FROM pg_locks
    ),
    foreign_xids AS (
        SELECT t.transactionid::text::bigint AS xid32
        FROM locks AS t
        WHERE t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock' AND t.granted
          AND EXISTS (
              SELECT 1 FROM locks AS r
              WHERE r.virtualtransaction = t.virtualtransaction
                AND r.locktype = 'relation'
                AND r.database <> 0
                AND r.database <> (SELECT oid FROM pg_database
                                   WHERE datname = current_database())
          )
    )
    SELECT LEAST(
        (SELECT pg_snapshot_xmax(s)::text::bigint FROM snap),
        COALESCE(pg_current_xact_id_if_assigned()::text::bigint, :no_limit),
        COALESCE(
            (SELECT min(x::text::bigint)
             FROM snap, pg_snapshot_xip(snap.s) AS x
             WHERE x::text::bigint % 4294967296 NOT IN (SELECT xid32 FROM foreign_xids)),
            :no_limit
        )
    )
    """
)


async def settled_horizon(session: AsyncSession) -> int | None:
    """PostgreSQL: events with `xact_id` below this are final and in feed order. A
    horizon read in an earlier statement stays valid later (it only grows)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(await session.scalar(_HORIZON_SQL, {"no_limit": _NO_LIMIT}))


async def feed(
    session: AsyncSession,
    *,
    club_ids: frozenset[uuid.UUID] | None,
    types: Sequence[str] | None,
    after: tuple[int, int] | None,
    limit: int,
    horizon: int | None,
) -> list[Event]:
    """Up to `limit` events after position `after` (xact_id, id), in feed order;
    `horizon` from `settled_horizon()` (None on SQLite)."""
    stmt = select(Event)
    if club_ids is not None:
        stmt = stmt.where(Event.club_id.in_(club_ids))
    if types:
        stmt = stmt.where(Event.type.in_(list(types)))
    if horizon is not None:
        stmt = stmt.where(Event.xact_id < horizon)
        if after is not None:
            stmt = stmt.where(tuple_(Event.xact_id, Event.id) > tuple_(*after))
        stmt = stmt.order_by(Event.xact_id, Event.id)
    else:
        if after is not None:
            stmt = stmt.where(Event.id > after[1])
        stmt = stmt.order_by(Event.id)
    return list((await session.scalars(stmt.limit(limit))).all())


async def purge_before(session: AsyncSession, cutoff: datetime, batch: int) -> int:
    """Delete up to `batch` events created before `cutoff` (their webhook deliveries go
    with them). The newest event is always kept: SQLite would otherwise reuse its id
    for the next event, and a feed position beyond it would skip new events."""
    newest = select(func.max(Event.id)).scalar_subquery()
    doomed = (
        select(Event.id)
        .where(Event.created_at < cutoff, Event.id < newest)
        .order_by(Event.id)
        .limit(batch)
        .scalar_subquery()
    )
    res = await session.execute(delete(Event).where(Event.id.in_(doomed)))
    return int(getattr(res, "rowcount", 0) or 0)
