"""Real concurrency on PostgreSQL: two manual calls for one member at once end as one
open call carrying both reasons (the partial unique index decides, the loser merges);
concurrent maintenance runs mark each call due once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from app.config import Settings
from app.core.clock import utcnow
from app.db import Database
from app.main import create_app, shutdown, startup
from app.models import Event, ServiceCall
from app.outreach.jobs import call_maintenance
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member
from tests.fixtures.outreach import make_call

pytestmark = pytest.mark.postgres_only


@pytest_asyncio.fixture
async def live(settings: Settings, isolated_db: Database) -> AsyncIterator[dict[str, Any]]:
    app = create_app(settings, db=isolated_db, run_scheduler=False)
    await startup(app)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
            admin = await make_token(isolated_db, "admin", name="Ada Admin")
            club = await make_club(c, admin)
            yield {"client": c, "db": isolated_db, "club_id": uuid.UUID(club["id"]), "token": admin}
    finally:
        await shutdown(app)


async def test_two_concurrent_manual_calls_give_one_call_with_both_reasons(
    live: dict[str, Any],
) -> None:
    c, db, token = live["client"], live["db"], live["token"]
    for round_ in range(3):  # several rounds: the race must never open two calls
        member = await make_member(db, live["club_id"], consents={"calls": True})
        rs = await asyncio.gather(
            *(
                c.post(
                    "/api/v1/calls",
                    json={"member_id": str(member.id), "kind": kind},
                    headers=bearer(token) | {"Idempotency-Key": f"r{round_}-{kind}"},
                )
                for kind in ("renewal", "lapse")
            )
        )
        assert sorted(r.status_code for r in rs) == [200, 201], [r.text for r in rs]
        assert rs[0].json()["id"] == rs[1].json()["id"]
        async with db.sessionmaker() as s:
            (call,) = (
                await s.scalars(select(ServiceCall).where(ServiceCall.member_id == member.id))
            ).all()
        assert call.kind == "lapse"
        assert sorted(r["kind"] for r in call.reasons) == ["lapse", "renewal"]


async def test_concurrent_maintenance_runs_mark_each_call_due_once(live: dict[str, Any]) -> None:
    db, club_id = live["db"], live["club_id"]
    now = utcnow()
    for _ in range(30):
        m = await make_member(db, club_id, consents={"calls": True})
        await make_call(db, m.id, club_id, status="scheduled", due_from=now)
    results = await asyncio.gather(*(call_maintenance(db, now) for _ in range(3)))
    assert sum(r["due"] for r in results) == 30
    async with db.sessionmaker() as s:
        due_events = await s.scalar(
            select(func.count()).select_from(Event).where(Event.type == "call.due")
        )
        due = await s.scalar(
            select(func.count()).select_from(ServiceCall).where(ServiceCall.status == "due")
        )
    assert (due_events, due) == (30, 30)
