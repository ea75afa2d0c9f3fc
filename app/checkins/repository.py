"""All SQL of check-ins. Two dialect-specific fast paths live here, each next to its
portable fallback, and both of a pair give identical results (tests run them on the same
data):

- `record_one`: one check-in. PostgreSQL: one statement on the session's asyncpg
  connection (resolve the member, insert with ON CONFLICT DO NOTHING, write the outbox
  event, read back a replayed row and the member's memberships). Portable: up to three
  small statements; the caller emits the event and loads memberships.
- `ingest_chunk`: a chunk of validated rows. PostgreSQL: COPY into a temporary staging
  table, then one INSERT ... SELECT ... ON CONFLICT DO NOTHING that resolves card
  numbers, rejects unknown members and classifies duplicates set-wise. Portable: the
  same classification over two lookups and one multi-row INSERT.

The asyncpg connection is used directly only inside the session's transaction (see
`_driver`), so its statements commit or roll back with everything else.

Outcome rule for a row (both paths, in batch order): unknown member (in the row's club)
-> `member_not_found`; no device key -> accepted; a device key already stored, or taken
by an earlier row of the batch -> `duplicate` when the member is the same and the
instant is the same (or was not sent), else `device_event_conflict`; otherwise accepted.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy import BindParameter, Select, and_, bindparam, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.rules import MembershipFacts
from app.checkins.parsing import StagedRow
from app.core.ids import new_id
from app.errors import Conflict
from app.events.service import EVENT_TYPES
from app.models import Checkin, Club, Freeze, Member, Membership

DUPLICATE = "duplicate"
CONFLICT = "device_event_conflict"
MEMBER_NOT_FOUND = "member_not_found"

_TABLE = Checkin.__table__
_KEY = ["club_id", "device_id", "device_event_id"]


@dataclass(frozen=True, slots=True)
class StoredCheckin:
    id: int
    club_id: uuid.UUID
    member_id: uuid.UUID
    checked_in_at: datetime
    source: str
    device_id: str | None
    device_event_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Recorded:
    """The stored check-in, whether this call inserted it, the member the request named
    (resolved from the card when it named one), the club's time zone and, from the
    PostgreSQL fast path, the member's memberships (None: load them separately)."""

    checkin: StoredCheckin
    inserted: bool
    member_id: uuid.UUID
    timezone: str
    memberships: list[MembershipFacts] | None = None
    event_written: bool = False


def same_event(
    stored_member: uuid.UUID,
    stored_at: datetime,
    member_id: uuid.UUID,
    at: datetime,
    instant_given: bool,
) -> bool:
    """A replay of a device event: same member, and same instant unless the replay left
    the instant to the server (then its "now" cannot match and is not compared)."""
    return stored_member == member_id and (not instant_given or stored_at == at)


def is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _driver(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, inside the session's transaction."""
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    if not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter sends BEGIN lazily, with its first statement. Make
        # it do so now, or our statements would run (and commit) on their own.
        await conn.exec_driver_sql("SELECT 1")
    return driver


def _insert_ignoring_duplicates(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(_TABLE).on_conflict_do_nothing(index_elements=_KEY)


# ---- one check-in ---------------------------------------------------------------------

# The hot path: one round trip on PostgreSQL. Each round trip costs more than all of
# this statement's work, so it does everything a check-in needs at once: resolve the
# member in the club, insert unless the device event is stored (ON CONFLICT DO NOTHING),
# write the outbox event for a new row, and return the stored row of a replay and the
# facts of the access decision (memberships with plan rules and live freezes).
_RECORD_PG = """
WITH m AS (
    SELECT members.id, clubs.timezone
    FROM members JOIN clubs ON clubs.id = members.club_id
    WHERE members.club_id = $1 AND {match}
), ins AS (
    INSERT INTO checkins
        (club_id, member_id, checked_in_at, source, device_id, device_event_id, created_at)
    SELECT $1, m.id, $3::timestamptz, $4::varchar, $5::varchar, $6::varchar, $7::timestamptz
    FROM m
    ON CONFLICT (club_id, device_id, device_event_id) DO NOTHING
    RETURNING id, member_id
), ev AS (
    INSERT INTO events (public_id, type, club_id, data, created_at)
    SELECT $8::uuid, 'checkin.recorded', $1,
           $9::jsonb || jsonb_build_object('id', ins.id, 'member_id', ins.member_id::text),
           $7::timestamptz
    FROM ins
)
SELECT m.id AS member_id, m.timezone, ins.id AS new_id,
       e.id, e.member_id AS stored_member_id, e.checked_in_at, e.source, e.created_at,
       (SELECT json_agg(json_build_object(
                   'id', ms.id, 'start_date', ms.start_date, 'end_date', ms.end_date,
                   'cancelled', ms.cancelled_at IS NOT NULL,
                   'visit_limit', p.visit_limit, 'access_hours', p.access_hours,
                   'freezes', (SELECT json_agg(json_build_object(
                                          'start_date', f.start_date, 'end_date', f.end_date))
                               FROM freezes f
                               WHERE f.membership_id = ms.id AND f.cancelled_at IS NULL)))
        FROM memberships ms JOIN plans p ON p.id = ms.plan_id
        WHERE ms.member_id = m.id AND ms.club_id = $1) AS terms
FROM m
LEFT JOIN ins ON true
LEFT JOIN checkins e
       ON ins.id IS NULL AND e.club_id = $1 AND e.device_id = $5 AND e.device_event_id = $6
"""
_RECORD_PG_BY_ID = _RECORD_PG.format(match="members.id = $2::uuid")
_RECORD_PG_BY_CARD = _RECORD_PG.format(match="members.card_number = $2::varchar")
assert "checkin.recorded" in EVENT_TYPES


async def record_one(
    session: AsyncSession,
    row: StagedRow,
    *,
    created_at: datetime,
    event: dict[str, Any],
    fast: bool = True,
) -> Recorded | None:
    """Insert one check-in unless its device event is stored already (then return the
    stored one, `inserted=False`); None when the member is not in the row's club.

    `event` is the `checkin.recorded` payload of a new row, without `id` and `member_id`.
    The PostgreSQL statement writes that outbox row itself, with emit()'s encoding and
    `id`/`member_id` added, to save a round trip (`event_written=True`; a test pins it
    to what emit() writes). The portable path leaves it to the caller.
    """
    if fast and is_postgresql(session):
        return await _record_one_pg(session, row, created_at, event)
    return await _record_one_portable(session, row, created_at)


async def _record_one_pg(
    session: AsyncSession, row: StagedRow, created_at: datetime, event: dict[str, Any]
) -> Recorded | None:
    driver = await _driver(session)
    by_id = row.member_id is not None
    found = await driver.fetchrow(
        _RECORD_PG_BY_ID if by_id else _RECORD_PG_BY_CARD,
        row.club_id,
        row.member_id if by_id else row.card_number,
        row.checked_in_at,
        row.source,
        row.device_id,
        row.device_event_id,
        created_at,
        new_id(),
        json.dumps(event, default=_json_default),
    )
    if found is None:
        return None
    member_id, timezone, new_row_id = found["member_id"], found["timezone"], found["new_id"]
    facts = _facts(found["terms"])
    if new_row_id is not None:
        stored = _stored(new_row_id, row, member_id, created_at)
        return Recorded(stored, True, member_id, timezone, facts, event_written=True)
    if found["id"] is not None:
        stored = StoredCheckin(
            found["id"],
            row.club_id,
            found["stored_member_id"],
            found["checked_in_at"],
            found["source"],
            row.device_id,
            row.device_event_id,
            found["created_at"],
        )
        return Recorded(stored, False, member_id, timezone, facts)
    # The event was inserted by a transaction that committed after this statement's
    # snapshot was taken (ON CONFLICT waited for it): read it with a fresh snapshot.
    stored = await _stored_by_key(session, row)
    return Recorded(stored, False, member_id, timezone, facts)


def _json_default(value: Any) -> Any:
    # What emit()'s jsonable_encoder makes of the payload's ids and instants, without
    # its generic walk over every value (~50 us per check-in).
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return jsonable_encoder(value)


def _facts(raw: Any) -> list[MembershipFacts]:
    # SQLAlchemy installs json codecs on its asyncpg connections (decoded already);
    # a bare asyncpg connection would hand back text.
    if isinstance(raw, str):
        raw = json.loads(raw)
    out = []
    for t in raw or []:
        freezes = [
            (date.fromisoformat(f["start_date"]), date.fromisoformat(f["end_date"]))
            for f in t["freezes"] or []
        ]
        out.append(
            MembershipFacts(
                uuid.UUID(t["id"]),
                date.fromisoformat(t["start_date"]),
                date.fromisoformat(t["end_date"]),
                bool(t["cancelled"]),
                t["visit_limit"],
                t["access_hours"],
                freezes,
            )
        )
    return out


def _stored(
    checkin_id: int, row: StagedRow, member_id: uuid.UUID, created_at: datetime
) -> StoredCheckin:
    return StoredCheckin(
        checkin_id,
        row.club_id,
        member_id,
        row.checked_in_at,
        row.source,
        row.device_id,
        row.device_event_id,
        created_at,
    )


async def _stored_by_key(session: AsyncSession, row: StagedRow) -> StoredCheckin:
    stmt = select(Checkin).where(
        Checkin.club_id == row.club_id,
        Checkin.device_id == row.device_id,
        Checkin.device_event_id == row.device_event_id,
    )
    c = (await session.scalars(stmt)).one_or_none()
    if c is None:
        raise Conflict("The device event is being recorded concurrently; retry.", code="conflict")
    return StoredCheckin(
        c.id,
        c.club_id,
        c.member_id,
        c.checked_in_at,
        c.source,
        c.device_id,
        c.device_event_id,
        c.created_at,
    )


async def _record_one_portable(
    session: AsyncSession, row: StagedRow, created_at: datetime
) -> Recorded | None:
    who = select(Member.id, Club.timezone).join(Club, Club.id == Member.club_id)
    who = who.where(Member.club_id == row.club_id)
    if row.member_id is not None:
        who = who.where(Member.id == row.member_id)
    else:
        who = who.where(Member.card_number == row.card_number)
    found = (await session.execute(who)).one_or_none()
    if found is None:
        return None
    member_id, timezone = found[0], found[1]
    stmt = (
        _insert_ignoring_duplicates(session)
        .values(
            club_id=row.club_id,
            member_id=member_id,
            checked_in_at=row.checked_in_at,
            source=row.source,
            device_id=row.device_id,
            device_event_id=row.device_event_id,
            created_at=created_at,
        )
        .returning(_TABLE.c.id)
    )
    inserted_id = await session.scalar(stmt)
    if inserted_id is not None:
        stored = _stored(inserted_id, row, member_id, created_at)
        return Recorded(stored, True, member_id, timezone)
    return Recorded(await _stored_by_key(session, row), False, member_id, timezone)


# ---- a chunk of a batch ---------------------------------------------------------------

STAGING_COLUMNS = list(StagedRow._fields)

# ON COMMIT DROP: the table lives for one transaction (a batch request, or one chunk of
# a CLI import), so nothing lingers on pooled connections. TRUNCATE empties it between
# the chunks of one transaction. JIT off: the classification's cost estimate (inflated
# by branches that normally never run) is far above jit_above_cost, and compiling it
# with LLVM took longer than running it (seconds per chunk, measured).
_STAGING_DDL = """
SET LOCAL jit = off;
CREATE TEMP TABLE IF NOT EXISTS checkin_staging (
    idx integer NOT NULL,
    line integer,
    club_id uuid NOT NULL,
    member_id uuid,
    card_number text,
    checked_in_at timestamptz NOT NULL,
    source text NOT NULL,
    device_id text,
    device_event_id text,
    instant_given boolean NOT NULL
) ON COMMIT DROP;
TRUNCATE checkin_staging;
"""

# s:     staged rows with the member resolved in the row's club (by id or by card).
# first: the first resolved row of each device key in the chunk (a hash aggregate).
# cand:  what is offered to the insert: unkeyed rows and first rows.
# ins:   the insert; ON CONFLICT skips keys already stored (also one committed
#        concurrently after our snapshot).
# rest:  rows not accepted (normally none): unknown members, keyed rows that are not
#        first, and - only when the insert returned fewer rows than offered - first rows
#        whose key it did not insert. Only these rows are looked up further: the stored
#        row (an index probe, LIMIT 1 so it never becomes a join over the whole table)
#        and the first row of their key in this chunk. `recheck` marks a key neither
#        stored before this statement's snapshot nor inserted by it, i.e. a concurrent
#        insert, which the caller compares with a fresh snapshot.
_CLASSIFY_PG = """
WITH s AS (
    SELECT st.idx, st.club_id, COALESCE(mi.id, mc.id) AS member_id, st.checked_in_at,
           st.source, st.device_id, st.device_event_id, st.instant_given,
           (st.device_id IS NOT NULL AND st.device_event_id IS NOT NULL) AS keyed
    FROM checkin_staging st
    LEFT JOIN members mi
           ON st.member_id IS NOT NULL AND mi.id = st.member_id AND mi.club_id = st.club_id
    LEFT JOIN members mc
           ON st.member_id IS NULL AND mc.club_id = st.club_id
          AND mc.card_number = st.card_number
), first AS (
    SELECT min(idx) AS idx
    FROM s
    WHERE keyed AND member_id IS NOT NULL
    GROUP BY club_id, device_id, device_event_id
), cand AS (
    SELECT s.*
    FROM s
    WHERE s.member_id IS NOT NULL AND (NOT s.keyed OR s.idx IN (SELECT idx FROM first))
), ins AS (
    INSERT INTO checkins
        (club_id, member_id, checked_in_at, source, device_id, device_event_id, created_at)
    SELECT club_id, member_id, checked_in_at, source, device_id, device_event_id,
           $1::timestamptz
    FROM cand
    ON CONFLICT (club_id, device_id, device_event_id) DO NOTHING
    RETURNING club_id, device_id, device_event_id
), rest AS (
    SELECT s.*
    FROM s
    WHERE s.member_id IS NULL
       OR (s.keyed AND s.idx NOT IN (SELECT idx FROM first))
       OR (s.keyed
           AND (SELECT count(*) FROM ins) < (SELECT count(*) FROM cand)
           AND NOT EXISTS (
               SELECT 1 FROM ins
               WHERE ins.club_id = s.club_id AND ins.device_id = s.device_id
                 AND ins.device_event_id = s.device_event_id))
), winner AS (
    SELECT s.*
    FROM s
    JOIN ins ON ins.club_id = s.club_id AND ins.device_id = s.device_id
            AND ins.device_event_id = s.device_event_id
    WHERE s.idx IN (SELECT idx FROM first)
)
SELECT r.idx,
       CASE
           WHEN r.member_id IS NULL THEN 'member_not_found'
           WHEN e.member_id IS NOT NULL THEN
               CASE WHEN e.member_id = r.member_id
                         AND (NOT r.instant_given OR e.checked_in_at = r.checked_in_at)
                    THEN 'duplicate' ELSE 'device_event_conflict' END
           WHEN w.idx IS NULL THEN 'recheck'
           ELSE
               CASE WHEN w.member_id = r.member_id
                         AND (NOT r.instant_given OR w.checked_in_at = r.checked_in_at)
                    THEN 'duplicate' ELSE 'device_event_conflict' END
       END AS outcome
FROM rest r
LEFT JOIN LATERAL (
    SELECT c.member_id, c.checked_in_at
    FROM checkins c
    WHERE c.club_id = r.club_id AND c.device_id = r.device_id
      AND c.device_event_id = r.device_event_id
    LIMIT 1
) e ON r.keyed
LEFT JOIN winner w
       ON r.keyed AND w.club_id = r.club_id AND w.device_id = r.device_id
      AND w.device_event_id = r.device_event_id
"""


async def ingest_chunk(
    session: AsyncSession,
    rows: Sequence[StagedRow],
    *,
    created_at: datetime,
    fast: bool = True,
) -> dict[int, str]:
    """Store a chunk of validated rows (in batch order). Returns the outcome of every row
    that was not accepted, by index: `member_not_found`, `duplicate` or
    `device_event_conflict`. Everything else was inserted."""
    if not rows:
        return {}
    if fast and is_postgresql(session):
        return await _ingest_chunk_pg(session, rows, created_at)
    return await _ingest_chunk_portable(session, rows, created_at)


async def _ingest_chunk_pg(
    session: AsyncSession, rows: Sequence[StagedRow], created_at: datetime
) -> dict[int, str]:
    driver = await _driver(session)
    await driver.execute(_STAGING_DDL)
    await driver.copy_records_to_table("checkin_staging", records=rows, columns=STAGING_COLUMNS)
    outcomes: dict[int, str] = {r[0]: r[1] for r in await driver.fetch(_CLASSIFY_PG, created_at)}
    recheck = [r for r in rows if outcomes.get(r.idx) == "recheck"]
    if recheck:
        stored = await _stored_keys(session, recheck)
        members = await _resolve(session, recheck)
        for r in recheck:
            s = stored.get((r.club_id, r.device_id, r.device_event_id))
            member = members.get(r.idx)
            if s is None or member is None:
                raise Conflict(
                    "Device events of this batch are being recorded concurrently; retry.",
                    code="conflict",
                )
            ok = same_event(s[0], s[1], member, r.checked_in_at, r.instant_given)
            outcomes[r.idx] = DUPLICATE if ok else CONFLICT
    return outcomes


async def _resolve(session: AsyncSession, rows: Sequence[StagedRow]) -> dict[int, uuid.UUID]:
    """Row index -> member id, for rows whose member is in the row's club. One or two
    queries per club of the chunk (a chunk nearly always holds one club)."""
    ids: dict[uuid.UUID, set[uuid.UUID]] = {}
    cards: dict[uuid.UUID, set[str]] = {}
    for r in rows:
        if r.member_id is not None:
            ids.setdefault(r.club_id, set()).add(r.member_id)
        elif r.card_number is not None:
            cards.setdefault(r.club_id, set()).add(r.card_number)
    known: set[tuple[uuid.UUID, uuid.UUID]] = set()
    by_card: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    for club_id, members in ids.items():
        stmt = select(Member.id).where(Member.club_id == club_id, Member.id.in_(members))
        known.update((club_id, m) for m in await session.scalars(stmt))
    for club_id, numbers in cards.items():
        stmt2 = select(Member.id, Member.card_number).where(
            Member.club_id == club_id, Member.card_number.in_(numbers)
        )
        for member_id, number in (await session.execute(stmt2)).all():
            if number is not None:
                by_card[(club_id, number)] = member_id
    out: dict[int, uuid.UUID] = {}
    for r in rows:
        if r.member_id is not None:
            if (r.club_id, r.member_id) in known:
                out[r.idx] = r.member_id
        elif r.card_number is not None:
            member = by_card.get((r.club_id, r.card_number))
            if member is not None:
                out[r.idx] = member
    return out


Key = tuple[uuid.UUID, str | None, str | None]


async def _stored_keys(
    session: AsyncSession, rows: Sequence[StagedRow]
) -> dict[Key, tuple[uuid.UUID, datetime]]:
    """Device key -> (member, instant) of stored check-ins with the keys of `rows`."""
    keys = {(r.club_id, r.device_id, r.device_event_id) for r in rows if r.keyed}
    if not keys:
        return {}
    stmt = select(
        Checkin.club_id,
        Checkin.device_id,
        Checkin.device_event_id,
        Checkin.member_id,
        Checkin.checked_in_at,
    ).where(  # each column of the unique index, so lookups seek it
        Checkin.club_id.in_({k[0] for k in keys}),
        Checkin.device_id.in_({k[1] for k in keys}),
        Checkin.device_event_id.in_({k[2] for k in keys}),
    )
    out: dict[Key, tuple[uuid.UUID, datetime]] = {}
    for club, device, event, member, at in (await session.execute(stmt)).all():
        if (club, device, event) in keys:
            out[(club, device, event)] = (member, at)
    return out


async def _ingest_chunk_portable(
    session: AsyncSession, rows: Sequence[StagedRow], created_at: datetime
) -> dict[int, str]:
    members = await _resolve(session, rows)
    stored = await _stored_keys(session, [r for r in rows if r.idx in members])
    outcomes: dict[int, str] = {}
    taken: dict[Key, tuple[uuid.UUID, datetime]] = {}
    new: list[dict[str, Any]] = []
    for r in rows:
        member = members.get(r.idx)
        if member is None:
            outcomes[r.idx] = MEMBER_NOT_FOUND
            continue
        if r.keyed:
            key = (r.club_id, r.device_id, r.device_event_id)
            prior = stored.get(key) or taken.get(key)
            if prior is not None:
                ok = same_event(prior[0], prior[1], member, r.checked_in_at, r.instant_given)
                outcomes[r.idx] = DUPLICATE if ok else CONFLICT
                continue
            taken[key] = (member, r.checked_in_at)
        new.append(
            {
                "club_id": r.club_id,
                "member_id": member,
                "checked_in_at": r.checked_in_at,
                "source": r.source,
                "device_id": r.device_id,
                "device_event_id": r.device_event_id,
                "created_at": created_at,
            }
        )
    if new:
        stmt = _insert_ignoring_duplicates(session)
        if session.get_bind().dialect.name == "sqlite":
            # One writer at a time (BEGIN IMMEDIATE): nothing can take a key between our
            # lookup and this insert, and a plain executemany is far cheaper.
            await session.execute(stmt, new)
        else:
            # ON CONFLICT keeps a concurrent writer's row; it is missing from RETURNING.
            inserted = (await session.execute(stmt.returning(_TABLE.c.id), new)).all()
            if len(inserted) != len(new):
                raise Conflict(
                    "Device events of this batch are being recorded concurrently; retry.",
                    code="conflict",
                )
    return outcomes


# ---- reads ----------------------------------------------------------------------------


def listing(
    club_ids: frozenset[uuid.UUID] | None,
    *,
    club_id: uuid.UUID | None,
    member_id: uuid.UUID | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[Any]:
    stmt = select(Checkin)
    if club_ids is not None:
        stmt = stmt.where(Checkin.club_id.in_(club_ids))
    if club_id is not None:
        stmt = stmt.where(Checkin.club_id == club_id)
    if member_id is not None:
        stmt = stmt.where(Checkin.member_id == member_id)
    if since is not None:
        stmt = stmt.where(Checkin.checked_in_at >= since)
    if until is not None:
        stmt = stmt.where(Checkin.checked_in_at < until)
    return stmt


async def of_member(session: AsyncSession, club_id: uuid.UUID, member_id: uuid.UUID) -> list[Any]:
    """A member's visits, oldest first (the personal-data export)."""
    stmt = listing(None, club_id=club_id, member_id=member_id, since=None, until=None)
    return list((await session.scalars(stmt.order_by(Checkin.checked_in_at, Checkin.id))).all())


async def club_exists(session: AsyncSession, club_id: uuid.UUID) -> bool:
    return (await session.scalar(select(Club.id).where(Club.id == club_id))) is not None


@dataclass(frozen=True, slots=True)
class MemberRef:
    id: uuid.UUID
    club_id: uuid.UUID
    timezone: str


async def member_ref(session: AsyncSession, member_id: uuid.UUID) -> MemberRef | None:
    stmt = (
        select(Member.id, Member.club_id, Club.timezone)
        .join(Club, Club.id == Member.club_id)
        .where(Member.id == member_id)
    )
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else MemberRef(row[0], row[1], row[2])


@dataclass(frozen=True, slots=True)
class AttendanceCounts:
    last_visit_at: datetime | None
    first_visit_at: datetime | None
    first_membership_start: date | None
    visits_since_28: int
    weekly: list[int]


_ATTENDANCE: dict[int, Select[Any]] = {}


def _attendance_statement(weeks: int) -> Select[Any]:
    """The attendance statement for `weeks` weeks, built once: its values are bound
    parameters (member_id, club_id, w0..w<weeks>, since_28, until), so a request neither
    rebuilds ~30 CASE expressions nor recomputes the statement's cache key."""
    cached = _ATTENDANCE.get(weeks)
    if cached is not None:
        return cached
    at = Checkin.checked_in_at
    member_id: BindParameter[uuid.UUID] = bindparam("member_id")
    club_id: BindParameter[uuid.UUID] = bindparam("club_id")
    mine = and_(Checkin.member_id == member_id, Checkin.club_id == club_id)
    until = bindparam("until", type_=at.type)
    last_visit = select(func.max(at)).where(mine, at <= until).scalar_subquery()
    first_visit = select(func.min(at)).where(mine).scalar_subquery()
    first_start = (
        select(func.min(Membership.start_date))
        .where(Membership.member_id == member_id, Membership.club_id == club_id)
        .scalar_subquery()
    )
    bound = [bindparam(f"w{i}", type_=at.type) for i in range(weeks + 1)]
    counts = [
        func.coalesce(func.sum(case((and_(at >= lo, at < hi), 1), else_=0)), 0)
        for lo, hi in zip(bound, bound[1:], strict=False)
    ]
    since_28 = bindparam("since_28", type_=at.type)
    stmt = select(
        last_visit,
        first_visit,
        first_start,
        func.coalesce(func.sum(case((at >= since_28, 1), else_=0)), 0),
        *counts,
    ).where(mine, at >= bound[0], at <= until)
    _ATTENDANCE[weeks] = stmt
    return stmt


async def attendance(
    session: AsyncSession,
    member: MemberRef,
    *,
    week_bounds: Sequence[datetime],
    since_28: datetime,
    until: datetime,
) -> AttendanceCounts:
    """Visits per week between consecutive `week_bounds` (UTC instants of club-local
    Mondays), visits since `since_28`, the first and last visit ever and the first
    membership start: one statement over the (member_id, checked_in_at) index."""
    stmt = _attendance_statement(len(week_bounds) - 1)
    params: dict[str, Any] = {
        "member_id": member.id,
        "club_id": member.club_id,
        "until": until,
        "since_28": since_28,
        **{f"w{i}": b for i, b in enumerate(week_bounds)},
    }
    row = (await session.execute(stmt, params)).one()
    return AttendanceCounts(
        last_visit_at=_aware(row[0]),
        first_visit_at=_aware(row[1]),
        first_membership_start=_as_date(row[2]),
        visits_since_28=int(row[3]),
        weekly=[int(v) for v in row[4:]],
    )


def _aware(value: Any) -> datetime | None:
    """Aggregates lose the column type on SQLite (text comes back); normalise."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


async def frozen_visits(
    session: AsyncSession, club_id: uuid.UUID, first: datetime, last: datetime
) -> list[tuple[uuid.UUID, date, date, datetime, str]]:
    """Visits in [first, last] at a club with `freeze_ends_on_visit`, by members whose
    live freeze overlaps that window: (membership_id, freeze start, freeze end,
    checked_in_at, club timezone). The caller compares club-local dates precisely; the
    date filter here is widened by a day on each side to stay time-zone agnostic."""
    stmt = (
        select(
            Freeze.membership_id,
            Freeze.start_date,
            Freeze.end_date,
            Checkin.checked_in_at,
            Club.timezone,
        )
        .select_from(Checkin)
        .join(Club, and_(Club.id == Checkin.club_id, Club.freeze_ends_on_visit.is_(True)))
        .join(
            Membership,
            and_(Membership.member_id == Checkin.member_id, Membership.club_id == Checkin.club_id),
        )
        .join(Freeze, Freeze.membership_id == Membership.id)
        .where(
            Checkin.club_id == club_id,
            Checkin.checked_in_at >= first,
            Checkin.checked_in_at <= last,
            Membership.cancelled_at.is_(None),
            Freeze.cancelled_at.is_(None),
            Freeze.start_date <= last.date() + timedelta(days=1),
            Freeze.end_date >= first.date() - timedelta(days=1),
        )
    )
    return [tuple(r) for r in (await session.execute(stmt)).all()]  # type: ignore[misc]
