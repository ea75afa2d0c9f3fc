"""GET /api/v1/events: a replayable feed in a stable order that never skips an event,
even one whose transaction commits after younger ids are already visible."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from app.core.clock import utcnow
from app.db import Database
from app.events.service import emit, purge
from app.main import create_app, shutdown, startup
from app.models import Club, Event, WebhookDelivery, WebhookSubscription
from tests.fixtures.factories import bearer, make_token
from tests.fixtures.integrations import live_database, live_settings, make_event, wipe


@pytest.fixture(scope="module")
async def live() -> AsyncIterator[Database]:
    async with live_database() as database:
        yield database


@pytest.fixture
async def db(live: Database) -> AsyncIterator[Database]:
    """Real commits: the feed only serves settled transactions."""
    yield live
    await wipe(live)


@pytest.fixture
async def client(db: Database) -> AsyncIterator[AsyncClient]:
    app = create_app(live_settings(db.engine.url.render_as_string(hide_password=False)), db=db)
    await startup(app)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
            yield c
    finally:
        await shutdown(app)


@pytest.fixture
async def admin(db: Database) -> str:
    return await make_token(db, "admin", name="Ada")


async def settled(
    client: AsyncClient, token: str, expected: int, after: str | None = None, **params: Any
) -> tuple[list[dict[str, Any]], str | None]:
    """Read until `expected` events arrived (bounded). On PostgreSQL the feed holds
    events back while any older write transaction in the cluster is open - other test
    runs share this server - so "not yet" is normal; missing or repeated is a bug."""
    items: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        got, after = await read_all(client, token, after=after, **params)
        items += got
        if len(items) >= expected or asyncio.get_running_loop().time() > deadline:
            return items, after
        await asyncio.sleep(0.05)


async def new_club(db: Database, name: str = "Riverside") -> uuid.UUID:
    async with db.session_scope() as s:
        club = Club(
            name=name,
            timezone="Europe/Moscow",
            currency="RUB",
            quiet_hours_start=utcnow().time().replace(hour=9, minute=0, second=0, microsecond=0),
            quiet_hours_end=utcnow().time().replace(hour=21, minute=0, second=0, microsecond=0),
            opening_hours={},
            contact_policy={},
            meeting_settings={},
        )
        s.add(club)
    return club.id


async def read_all(
    client: AsyncClient, token: str, after: str | None = None, **params: Any
) -> tuple[list[dict[str, Any]], str | None]:
    """Follow the feed to its current end, like a consumer; returns events and the last
    position (unchanged when nothing new)."""
    items: list[dict[str, Any]] = []
    for _ in range(100):
        query = {**params, **({"after": after} if after else {})}
        r = await client.get("/api/v1/events", params=query, headers=bearer(token))
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        if page["items"]:
            after = page["items"][-1]["position"]
        if page["next_cursor"] is None:
            break
        assert page["next_cursor"] == after
    return items, after


async def test_serves_events_oldest_first_in_pages(
    db: Database, client: AsyncClient, admin: str
) -> None:
    club = await new_club(db)
    made = [await make_event(db, club_id=club, data={"n": i}) for i in range(7)]
    await settled(client, admin, 7)
    r = await client.get("/api/v1/events", params={"limit": 3}, headers=bearer(admin))
    page = r.json()
    assert [e["data"]["n"] for e in page["items"]] == [0, 1, 2]
    assert page["next_cursor"] == page["items"][-1]["position"]
    first = page["items"][0]
    assert first == {
        "id": str(made[0].public_id),
        "type": "meeting.booked",
        "club_id": str(club),
        "created_at": first["created_at"],
        "data": {"n": 0},
        "position": first["position"],
    }
    items, last = await settled(client, admin, 7, limit=3)
    assert [e["data"]["n"] for e in items] == list(range(7))
    # Polling from the last position returns nothing new, then only what came since.
    again, same = await read_all(client, admin, after=last)
    assert again == []
    assert same == last
    await make_event(db, club_id=club, data={"n": 7})
    newer, _ = await settled(client, admin, 1, after=last)
    assert [e["data"]["n"] for e in newer] == [7]


async def test_replaying_from_a_position_gives_the_same_events(
    db: Database, client: AsyncClient, admin: str
) -> None:
    club = await new_club(db)
    for i in range(5):
        await make_event(db, club_id=club, data={"n": i})
    items, _ = await settled(client, admin, 5)
    replay, _ = await read_all(client, admin, after=items[1]["position"])
    assert replay == items[2:]
    replay_cursor = await client.get(
        "/api/v1/events", params={"cursor": items[1]["position"]}, headers=bearer(admin)
    )
    assert replay_cursor.json()["items"] == items[2:]


async def test_filters_by_type(db: Database, client: AsyncClient, admin: str) -> None:
    club = await new_club(db)
    await make_event(db, "meeting.booked", club_id=club)
    await make_event(db, "call.due", club_id=club)
    await make_event(db, "freeze.started", club_id=club)
    await settled(client, admin, 3)
    items, _ = await read_all(client, admin, types="call.due,freeze.started")
    assert [e["type"] for e in items] == ["call.due", "freeze.started"]
    r = await client.get(
        "/api/v1/events",
        params=[("types", "call.due"), ("types", "meeting.booked")],
        headers=bearer(admin),
    )
    assert [e["type"] for e in r.json()["items"]] == ["meeting.booked", "call.due"]
    r = await client.get("/api/v1/events", params={"types": "sale.made"}, headers=bearer(admin))
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"


async def test_a_club_token_sees_only_its_clubs_events(
    db: Database, client: AsyncClient, admin: str
) -> None:
    mine, other = await new_club(db, "Mine"), await new_club(db, "Other")
    await make_event(db, club_id=mine, data={"who": "mine"})
    await make_event(db, club_id=other, data={"who": "other"})
    await make_event(db, club_id=None, data={"who": "chain"})
    manager = await make_token(db, "manager", club_ids=[mine])
    await settled(client, admin, 3)
    items, _ = await read_all(client, manager)
    assert [e["data"]["who"] for e in items] == ["mine"]
    items, _ = await read_all(client, admin)
    assert [e["data"]["who"] for e in items] == ["mine", "other", "chain"]


async def test_needs_events_read_and_a_valid_position(
    db: Database, client: AsyncClient, admin: str
) -> None:
    club = await new_club(db)
    trainer = await make_token(db, "trainer", club_ids=[club])
    assert (await client.get("/api/v1/events", headers=bearer(trainer))).status_code == 403
    assert (await client.get("/api/v1/events")).status_code == 401
    r = await client.get("/api/v1/events", params={"after": "forged.0"}, headers=bearer(admin))
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_cursor"


@pytest.mark.postgres_only
async def test_an_event_committed_late_is_not_skipped(
    db: Database, client: AsyncClient, admin: str
) -> None:
    club = await new_club(db)
    await make_event(db, club_id=club, data={"n": "before"})
    seen, position = await settled(client, admin, 1)
    assert [e["data"]["n"] for e in seen] == ["before"]

    async with db.sessionmaker() as slow, db.sessionmaker() as fast:
        late = await emit(slow, "meeting.booked", {"n": "late"}, club_id=club)
        await slow.flush()  # id assigned, transaction still open
        quick = await emit(fast, "meeting.booked", {"n": "quick"}, club_id=club)
        await fast.commit()
        assert late.id < quick.id  # a naive `id > after` reader would now skip `late`

        held, position_2 = await read_all(client, admin, after=position)
        assert held == []
        assert position_2 == position
        await slow.commit()

    items, _ = await settled(client, admin, 2, after=position)
    assert [e["data"]["n"] for e in items] == ["late", "quick"]


@pytest.mark.postgres_only
async def test_a_rolled_back_transaction_does_not_hold_the_feed(
    db: Database, client: AsyncClient, admin: str
) -> None:
    club = await new_club(db)
    async with db.sessionmaker() as doomed:
        await emit(doomed, "meeting.booked", {"n": "doomed"}, club_id=club)
        await doomed.flush()
        await make_event(db, club_id=club, data={"n": "kept"})
        await doomed.rollback()
    items, _ = await settled(client, admin, 1)
    assert [e["data"]["n"] for e in items] == ["kept"]


@pytest.mark.postgres_only
async def test_a_poller_sees_every_event_of_concurrent_writers_exactly_once(
    db: Database, client: AsyncClient, admin: str
) -> None:
    club = await new_club(db)
    writers, per_writer = 12, 4
    rng = random.Random(7)
    done = asyncio.Event()

    async def writer(w: int) -> None:
        for i in range(per_writer):
            async with db.sessionmaker() as s:
                await emit(s, "call.due", {"w": w, "i": i}, club_id=club)
                await s.flush()
                await asyncio.sleep(rng.random() * 0.03)  # commit out of id order
                await s.commit()

    seen: list[dict[str, Any]] = []

    async def poller() -> None:
        position = None
        for _ in range(2000):  # bounded
            items, position = await read_all(client, admin, after=position)
            seen.extend(items)
            if done.is_set():
                more, position = await settled(
                    client, admin, writers * per_writer - len(seen), after=position
                )
                seen.extend(more)
                return
            await asyncio.sleep(0.005)

    poll = asyncio.create_task(poller())
    await asyncio.wait_for(asyncio.gather(*(writer(w) for w in range(writers))), 30)
    done.set()
    await asyncio.wait_for(poll, 30)
    keys = [(e["data"]["w"], e["data"]["i"]) for e in seen]
    assert len(keys) == len(set(keys)) == writers * per_writer


async def test_retention_purges_old_events_and_their_deliveries_but_keeps_the_newest(
    db: Database,
) -> None:
    club = await new_club(db)
    now = utcnow()
    old = [await make_event(db, club_id=club) for _ in range(3)]
    async with db.session_scope() as s:
        sub = WebhookSubscription(
            club_id=None, url="https://x.example/h", events=["meeting.booked"], secret="s"
        )
        s.add(sub)
        await s.flush()
        s.add(
            WebhookDelivery(
                subscription_id=sub.id,
                event_id=old[0].id,
                event_public_id=old[0].public_id,
                event_type="meeting.booked",
                status="delivered",
                attempt_log=[],
                created_at=now,
            )
        )
        for e in old:
            await s.execute(
                Event.__table__.update()
                .where(Event.id == e.id)
                .values(created_at=now - timedelta(days=40))
            )
    fresh = await make_event(db, club_id=club)
    async with db.session_scope() as s:
        purged = await purge(s, now, timedelta(days=30))
    async with db.sessionmaker() as s:
        left = list(await s.scalars(select(Event.id)))
        deliveries = await s.scalar(select(func.count()).select_from(WebhookDelivery))
    assert purged == 3
    assert left == [fresh.id]
    assert deliveries == 0

    # All events old: the newest one stays (SQLite would otherwise reuse its id).
    async with db.session_scope() as s:
        await s.execute(Event.__table__.update().values(created_at=now - timedelta(days=40)))
        assert await purge(s, now, timedelta(days=30)) == 0


async def test_the_retention_job_runs_over_the_api(
    db: Database, client: AsyncClient, admin: str
) -> None:
    await make_event(db, club_id=None)
    r = await client.post(
        "/api/v1/jobs/event_retention/run",
        json={"as_of": (utcnow() + timedelta(days=31)).isoformat()},
        headers=bearer(admin),
    )
    assert r.status_code == 200, r.text
    assert r.json()["counts"] == {"events_purged": 0}


@pytest.mark.postgres_only
async def test_a_long_transaction_in_another_database_does_not_hold_the_feed(
    db: Database, client: AsyncClient, admin: str
) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from tests.fixtures.databases import TEST_URL

    club = await new_club(db)
    other = create_async_engine(TEST_URL)  # the server's maintenance database
    try:
        async with other.connect() as conn:
            await conn.execute(text("CREATE TEMP TABLE busy (x int)"))
            await conn.execute(text("INSERT INTO busy VALUES (1)"))  # holds an xid
            await make_event(db, club_id=club, data={"n": "now"})
            # Served while `busy` stays open (a foreign transaction holding an xid
            # would otherwise hold it back until the deadline).
            items, _ = await settled(client, admin, 1)
            assert [e["data"]["n"] for e in items] == ["now"]

            # An xid that cannot be placed in a database holds the feed back (safe).
            async with other.connect() as bare:
                await bare.execute(text("SELECT pg_current_xact_id()"))
                await make_event(db, club_id=club, data={"n": "later"})
                held, _ = await read_all(client, admin, after=items[-1]["position"])
                assert held == []
                await bare.rollback()
            await conn.rollback()
    finally:
        await other.dispose()
    later, _ = await settled(client, admin, 1, after=items[-1]["position"])
    assert [e["data"]["n"] for e in later] == ["later"]
