"""Concurrent writers of one device event on PostgreSQL: ON CONFLICT waits for the other
transaction, and a key committed after our statement's snapshot is re-read, never lost
or duplicated."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from typing import Any

import pytest
import pytest_asyncio

from app.auth.permissions import Perm, Principal
from app.checkins.parsing import Format
from app.checkins.schemas import CheckinCreate
from app.checkins.service import checkin_service
from app.db import Database
from app.models import Checkin, Club
from tests.checkins.helpers import NOW, count_checkins
from tests.fixtures.ledger import make_member

pytestmark = pytest.mark.postgres_only

AT = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)


@pytest_asyncio.fixture
async def scene(isolated_db: Database) -> dict[str, Any]:
    async with isolated_db.session_scope() as s:
        club = Club(
            name="Race Club",
            timezone="Europe/Moscow",
            currency="RUB",
            opening_hours={},
            quiet_hours_start=time(9),
            quiet_hours_end=time(21),
            contact_policy={},
            meeting_settings={},
        )
        s.add(club)
        await s.flush()
        club_id = club.id
    alice = await make_member(isolated_db, club_id)
    bob = await make_member(isolated_db, club_id)
    principal = Principal(
        token_id=uuid.uuid4(),
        kind="integration",
        name="turnstile",
        staff_id=None,
        roles=frozenset(),
        permissions=frozenset({Perm.CHECKINS_WRITE}),
        club_ids=frozenset({club_id}),
    )
    return {"db": isolated_db, "club_id": club_id, "alice": alice, "bob": bob, "p": principal}


async def _held_insert(scene: dict[str, Any]) -> Any:
    """A transaction that has written gate-1/e1 for Alice and not committed yet."""
    other = scene["db"].sessionmaker()
    other.add(
        Checkin(
            club_id=scene["club_id"],
            member_id=scene["alice"].id,
            checked_in_at=AT,
            source="turnstile",
            device_id="gate-1",
            device_event_id="e1",
        )
    )
    await other.flush()
    return other


async def _body(text: str) -> AsyncIterator[bytes]:
    yield text.encode()


@pytest.mark.parametrize(("who", "outcome"), [("alice", "duplicate"), ("bob", "conflict")])
async def test_a_batch_racing_another_writer_of_its_key(
    scene: dict[str, Any], who: str, outcome: str
) -> None:
    other = await _held_insert(scene)
    member = scene[who]
    text = (
        "club_id,member_id,checked_in_at,source,device_id,device_event_id\n"
        f"{scene['club_id']},{member.id},{AT.isoformat()},turnstile,gate-1,e1\n"
        f"{scene['club_id']},{member.id},{AT.isoformat()},turnstile,gate-1,e2\n"
    )
    async with scene["db"].sessionmaker() as s:
        task = asyncio.create_task(
            checkin_service.ingest_upload(
                s, scene["p"], Format.CSV, _body(text), as_of=NOW, max_rows=10, chunk_rows=100
            )
        )
        await asyncio.sleep(0.5)
        assert not task.done()  # waiting for the other transaction's key
        await other.commit()
        await other.close()
        report = await task
        await s.commit()
    assert report.accepted == 1
    if outcome == "duplicate":
        assert (report.duplicates, report.rejected_count) == (1, 0)
    else:
        assert [r.code for r in report.rejected] == ["device_event_conflict"]
    assert await count_checkins(scene["db"]) == 2


async def test_a_single_checkin_racing_another_writer_returns_the_stored_one(
    scene: dict[str, Any],
) -> None:
    other = await _held_insert(scene)
    data = CheckinCreate(
        club_id=scene["club_id"],
        member_id=scene["alice"].id,
        checked_in_at=AT,
        source="turnstile",  # type: ignore[arg-type]
        device_id="gate-1",
        device_event_id="e1",
    )
    async with scene["db"].sessionmaker() as s:
        task = asyncio.create_task(checkin_service.record(s, scene["p"], data, as_of=NOW))
        await asyncio.sleep(0.5)
        assert not task.done()
        await other.commit()
        await other.close()
        checkin, _, created = await task
        await s.commit()
    assert created is False
    assert (checkin.member_id, checkin.checked_in_at) == (scene["alice"].id, AT)
    assert await count_checkins(scene["db"]) == 1
