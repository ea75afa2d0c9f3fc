"""A campaign is sent exactly once, whoever races to send it: concurrent requests, or
two workers running the job at once. Real commits on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select

from app.campaigns.jobs import campaigns
from app.config import Settings
from app.db import Database
from app.main import create_app, shutdown, startup
from app.models import CampaignRecipient, Message
from tests.campaigns.conftest import NOW, created, current_member
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_plan

pytestmark = pytest.mark.postgres_only

RACERS = 6
MEMBERS = 25


@pytest_asyncio.fixture
async def live(settings: Settings, isolated_db: Database) -> AsyncIterator[dict[str, Any]]:
    """An app on its own database, a club with MEMBERS reachable members, and one
    warmed-up manager token per racer."""
    app = create_app(settings, db=isolated_db, run_scheduler=False)
    await startup(app)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as c:
            admin = await make_token(isolated_db, "admin")
            club = await make_club(c, admin)
            club_id = uuid.UUID(club["id"])
            plan = await make_plan(isolated_db, club_id)
            for _ in range(MEMBERS):
                await current_member(isolated_db, club_id, plan)
            tokens = [
                await make_token(isolated_db, "manager", club_ids=[club_id]) for _ in range(RACERS)
            ]
            for t in tokens:
                assert (await c.get("/api/v1/campaigns", headers=bearer(t))).status_code == 200
            yield {"client": c, "admin": admin, "club_id": club_id, "tokens": tokens}
    finally:
        await shutdown(app)


async def stored(db: Database) -> tuple[int, int, int]:
    async with db.sessionmaker() as s:
        messages = await s.scalar(select(func.count()).select_from(Message))
        distinct = await s.scalar(select(func.count(func.distinct(Message.member_id))))
        recipients = await s.scalar(select(func.count()).select_from(CampaignRecipient))
    return int(messages or 0), int(distinct or 0), int(recipients or 0)


async def test_concurrent_sends_queue_every_message_once(
    live: dict[str, Any], isolated_db: Database
) -> None:
    client: AsyncClient = live["client"]
    campaign = await created(client, live["admin"], live["club_id"])
    results = await asyncio.gather(
        *(
            client.post(f"/api/v1/campaigns/{campaign['id']}/send", headers=bearer(t))
            for t in live["tokens"]
        ),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    responses = [r for r in results if isinstance(r, Response)]
    outcomes = Counter(
        (r.status_code, r.json().get("code") if r.status_code != 200 else None) for r in responses
    )
    assert outcomes == {(200, None): 1, (409, "campaign_already_sent"): RACERS - 1}
    [winner] = [r.json() for r in responses if r.status_code == 200]
    assert winner["queued"] == MEMBERS
    assert await stored(isolated_db) == (MEMBERS, MEMBERS, MEMBERS)


async def test_two_workers_running_the_job_at_once_send_it_once(
    live: dict[str, Any], isolated_db: Database
) -> None:
    send_at = NOW + timedelta(hours=1)
    await created(live["client"], live["admin"], live["club_id"], send_at=send_at.isoformat())
    runs = await asyncio.gather(*(campaigns(isolated_db, send_at) for _ in range(3)))
    assert sum(r["sent"] for r in runs) == 1
    assert sum(r["queued"] for r in runs) == MEMBERS
    assert await stored(isolated_db) == (MEMBERS, MEMBERS, MEMBERS)
