"""The event outbox is written in the caller's transaction."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.db import Database
from app.events.service import emit
from app.models import Event


async def _count(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Event)) or 0)


async def test_emit_commits_with_the_change(db: Database) -> None:
    club_id = uuid.uuid4()
    async with db.session_scope() as s:
        await emit(s, "freeze.started", {"freeze_id": uuid.uuid4()}, club_id=club_id)
    async with db.sessionmaker() as s:
        event = (await s.scalars(select(Event))).one()
    assert event.type == "freeze.started"
    assert event.club_id == club_id
    assert isinstance(event.data["freeze_id"], str)


async def _emit_then_fail(db: Database) -> None:
    async with db.session_scope() as s:
        await emit(s, "freeze.started", {}, club_id=None)
        raise RuntimeError("the change failed")


async def test_emit_rolls_back_with_the_change(db: Database) -> None:
    with pytest.raises(RuntimeError):
        await _emit_then_fail(db)
    assert await _count(db) == 0


async def test_unknown_event_type_is_refused(db: Database) -> None:
    async with db.sessionmaker() as s:
        with pytest.raises(ValueError, match="unknown event type"):
            await emit(s, "membership.sold_by_phone", {}, club_id=None)
