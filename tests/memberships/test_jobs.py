"""The freeze_events job: freeze.started / freeze.ended when the day arrives, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from httpx import AsyncClient

from app.db import Database
from app.memberships.jobs import freeze_events
from app.models import Member
from app.scheduler import JOBS
from tests.fixtures.factories import bearer
from tests.memberships.helpers import TODAY, events, freeze_membership, sold

D = timedelta


def moscow(day: date, hour: int = 0, minute: int = 5) -> datetime:
    """An instant on `day` at hour:minute Moscow time (UTC+3, no DST)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - D(hours=3)


async def types(db: Database) -> list[str]:
    return [e.type for e in await events(db) if e.type.startswith("freeze.")]


class TestFreezeEvents:
    async def test_nothing_is_due_before_the_start_day(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        await freeze_membership(client, desk, m["id"], date(2026, 4, 1), date(2026, 4, 10))
        assert await freeze_events(db, moscow(date(2026, 3, 31), 23, 59)) == {
            "started": 0,
            "ended": 0,
        }
        assert await types(db) == []

    async def test_start_day_emits_freeze_started_once(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        f = await freeze_membership(client, desk, m["id"], date(2026, 4, 1), date(2026, 4, 10))
        first = await freeze_events(db, moscow(date(2026, 4, 1)))
        second = await freeze_events(db, moscow(date(2026, 4, 1), 0, 20))
        assert first == {"started": 1, "ended": 0}
        assert second == {"started": 0, "ended": 0}
        [event] = await events(db, "freeze.started")
        assert event.data["freeze_id"] == f.json()["id"]
        assert event.data["member_id"] == str(member.id)
        assert event.club_id == member.club_id

    async def test_end_day_emits_freeze_ended_once(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        await freeze_membership(client, desk, m["id"], date(2026, 4, 1), date(2026, 4, 10))
        await freeze_events(db, moscow(date(2026, 4, 1)))
        assert (await freeze_events(db, moscow(date(2026, 4, 9))))["ended"] == 0
        assert (await freeze_events(db, moscow(date(2026, 4, 10))))["ended"] == 1
        assert (await freeze_events(db, moscow(date(2026, 4, 11))))["ended"] == 0
        assert await types(db) == ["freeze.started", "freeze.ended"]

    async def test_a_missed_freeze_gets_both_events_in_order(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        """The scheduler was down for the whole freeze: it still reports the pair."""
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        await freeze_membership(client, desk, m["id"], date(2026, 4, 1), date(2026, 4, 10))
        assert await freeze_events(db, moscow(date(2026, 5, 1))) == {"started": 1, "ended": 1}
        assert await types(db) == ["freeze.started", "freeze.ended"]

    async def test_a_cancelled_freeze_never_reports(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        f = await freeze_membership(client, desk, m["id"], date(2026, 4, 1), date(2026, 4, 10))
        await client.delete(
            f"/api/v1/memberships/{m['id']}/freezes/{f.json()['id']}", headers=bearer(desk)
        )
        assert await freeze_events(db, moscow(date(2026, 5, 1))) == {"started": 0, "ended": 0}

    async def test_a_freeze_ended_early_is_not_reported_again(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        f = await freeze_membership(client, desk, m["id"], TODAY, TODAY + D(19))
        await client.patch(
            f"/api/v1/memberships/{m['id']}/freezes/{f.json()['id']}",
            json={"end_date": (TODAY + D(2)).isoformat()},
            headers=bearer(desk),
        )
        assert await freeze_events(db, moscow(date(2026, 4, 1))) == {"started": 0, "ended": 0}
        assert await types(db) == ["freeze.started", "freeze.ended"]

    async def test_the_job_is_registered_and_runs_over_the_api(
        self,
        client: AsyncClient,
        admin_token: str,
        desk: str,
        plan: dict[str, Any],
        member: Member,
        db: Database,
    ) -> None:
        assert "freeze_events" in JOBS
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        await freeze_membership(client, desk, m["id"], date(2026, 4, 1), date(2026, 4, 10))
        r = await client.post(
            "/api/v1/jobs/freeze_events/run",
            json={"as_of": "2026-04-01T00:30:00+03:00"},
            headers=bearer(admin_token),
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "succeeded"
        assert r.json()["counts"] == {"started": 1, "ended": 0}
