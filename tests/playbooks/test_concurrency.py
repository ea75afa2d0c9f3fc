"""Two playbook runs at once (two replicas) on PostgreSQL: nothing is created twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import time
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.models import Club, Message, Playbook, PlaybookEffect, PlaybookStep, ServiceCall
from app.playbooks.defaults import DEFAULT_STEPS
from app.playbooks.jobs import playbook
from app.playbooks.service import playbook_service
from tests.playbooks.helpers import NOON, TODAY, days, held, member, plan

pytestmark = pytest.mark.postgres_only


async def _count(db: Database, model: Any) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


@pytest_asyncio.fixture
async def world(isolated_db: Database, settings: Settings) -> AsyncIterator[dict[str, Any]]:
    """A club with 6 members due a welcome call and 6 due a thank-you message, and a
    second engine on the same database (another replica)."""
    db = isolated_db
    async with db.session_scope() as s:
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
    p = await plan(db, club.id)
    for i in range(12):
        m = await member(db, club.id)
        if i % 2:
            await held(db, m, p, start=TODAY - days(3), sold_at=NOON - days(3))
        else:
            await held(db, m, p, start=TODAY, sold_at=NOON)
    url = db.engine.url.render_as_string(hide_password=False)
    other = Database.from_settings(settings.model_copy(update={"database_url": url}))
    try:
        yield {"db": db, "other": other, "club": club}
    finally:
        await other.dispose()


async def test_two_concurrent_job_runs_create_each_effect_once_and_seed_once(
    world: dict[str, Any],
) -> None:
    db, other = world["db"], world["other"]
    for round_ in range(3):
        results = await asyncio.gather(playbook(db, NOON), playbook(other, NOON))
        assert sum(r["failed"] for r in results) == 0, results
        created = sum(r["calls_created"] for r in results)
        queued = sum(r["messages_queued"] for r in results)
        assert (created, queued) == ((6, 6) if round_ == 0 else (0, 0)), results
    assert await _count(db, PlaybookEffect) == 12
    assert await _count(db, ServiceCall) == 6
    assert await _count(db, Message) == 6
    # The club's first runs also seeded its playbook concurrently: once.
    assert await _count(db, Playbook) == 1
    assert await _count(db, PlaybookStep) == len(DEFAULT_STEPS)


async def test_a_run_that_loses_the_claim_creates_nothing(world: dict[str, Any]) -> None:
    """Both runners find the same due members; the second waits on the first's
    uncommitted effects, then claims none of them and opens no call."""
    db, other, club = world["db"], world["other"], world["club"]
    async with db.sessionmaker() as s:
        [day] = [c for c in await playbook_service.clubs(s, NOON) if c.club_id == club.id]
        steps = {st.key: st for st in await playbook_service.enabled_steps(s, club.id)}
        await s.commit()
    step = steps["welcome_call"]
    first = db.sessionmaker()
    try:
        won = await playbook_service.materialise(first, day, step, as_of=NOON)
        assert (won.found, won.claimed) == (6, 6)

        async def second() -> Any:
            async with other.session_scope() as s:
                return await playbook_service.materialise(s, day, step, as_of=NOON)

        racing = asyncio.create_task(second())
        await asyncio.sleep(0.5)
        assert not racing.done()  # blocked on the first runner's effect rows
        await first.commit()
    finally:
        await first.close()
    lost = await racing
    assert (lost.found, lost.claimed, sum(lost.counts.values())) == (6, 0, 0)
    assert await _count(db, ServiceCall) == 6
