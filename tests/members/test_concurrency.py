"""Races that only a real server shows: the card-number constraint under concurrent
creates (each request commits for real on its own connection)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.main import create_app, shutdown, startup
from app.models import Member
from tests.fixtures.factories import bearer, make_club, make_token
from tests.members.conftest import MEMBERS, member_body


@pytest_asyncio.fixture
async def live_client(settings: Settings, isolated_db: Database) -> AsyncIterator[AsyncClient]:
    app = create_app(settings, db=isolated_db, run_scheduler=False)
    await startup(app)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as c:
            yield c
    finally:
        await shutdown(app)


@pytest.mark.postgres_only
async def test_concurrent_creates_with_one_card_number_yield_one_member(
    live_client: AsyncClient, isolated_db: Database
) -> None:
    admin = await make_token(isolated_db, "admin")
    club = await make_club(live_client, admin)
    responses = await asyncio.gather(
        *(
            live_client.post(
                MEMBERS,
                json=member_body(club, first_name=f"Racer{i}", card_number="RACE-1"),
                headers=bearer(admin),
            )
            for i in range(6)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409, 409], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"card_number_taken"}
    async with isolated_db.sessionmaker() as s:
        count = await s.scalar(select(func.count()).where(Member.card_number == "RACE-1"))
        total = await s.scalar(select(func.count()).select_from(Member))
    assert count == 1
    assert total == 1
