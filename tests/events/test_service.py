"""The event outbox is written in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

import pytest
from fastapi.encoders import jsonable_encoder
from sqlalchemy import func, select

from app.db import Database
from app.events.service import emit, emit_many, encode_data
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


class TestEmitMany:
    async def test_writes_what_emit_writes_in_the_order_given(self, db: Database) -> None:
        club_id = uuid.uuid4()
        payloads = [
            {"member_id": uuid.uuid4(), "n": i, "reasons": ["a", "b"], "level": "at_risk"}
            for i in range(5)
        ]
        async with db.session_scope() as s:
            await emit(s, "member.at_risk", payloads[0], club_id=club_id)
            assert await emit_many(s, "member.at_risk", payloads[1:], club_id=club_id) == 4
        async with db.sessionmaker() as s:
            events = list((await s.scalars(select(Event).order_by(Event.id))).all())
        assert [e.data for e in events] == [jsonable_encoder(p) for p in payloads]
        assert {(e.type, e.club_id) for e in events} == {("member.at_risk", club_id)}
        assert len({e.public_id for e in events}) == 5

    async def test_rolls_back_with_the_change(self, db: Database) -> None:
        async def emit_then_fail() -> None:
            async with db.session_scope() as s:
                await emit_many(s, "member.at_risk", [{}, {}], club_id=None)
                raise RuntimeError("the change failed")

        with pytest.raises(RuntimeError):
            await emit_then_fail()
        assert await _count(db) == 0

    async def test_nothing_to_emit_writes_nothing(self, db: Database) -> None:
        async with db.session_scope() as s:
            assert await emit_many(s, "member.at_risk", [], club_id=None) == 0
        assert await _count(db) == 0

    async def test_unknown_event_type_is_refused(self, db: Database) -> None:
        async with db.sessionmaker() as s:
            with pytest.raises(ValueError, match="unknown event type"):
                await emit_many(s, "member.sold", [{}], club_id=None)


class _Colour(StrEnum):
    RED = "red"


def test_encode_data_is_jsonable_encoder() -> None:
    data = {
        "id": uuid.uuid4(),
        "at": datetime(2026, 3, 10, 4, 45, 12, 5, tzinfo=UTC),
        "day": date(2026, 3, 10),
        "n": 3,
        "x": 0.5,
        "ok": True,
        "none": None,
        "list": [uuid.uuid4(), ("t", 1)],
        "nested": {"colour": _Colour.RED, "price": Decimal("1.50"), "_sa_hidden": 1},
        "colour": _Colour.RED,
    }
    assert encode_data(data) == jsonable_encoder(data)
