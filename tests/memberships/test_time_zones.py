"""Every "today" is the club's: a club in New York across DST changes, and one in Moscow
whose date runs ahead of UTC's late in the evening (UTC)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.clock import freeze
from app.db import Database
from app.memberships.jobs import freeze_events
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member
from tests.memberships.helpers import create_plan, events, freeze_membership, problem, sell, sold


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


async def status(client: AsyncClient, token: str, mid: str) -> str:
    r = await client.get(f"/api/v1/memberships/{mid}", headers=bearer(token))
    return str(r.json()["status"])


@pytest.fixture
async def new_york(client: AsyncClient, admin_token: str, db: Database) -> dict[str, Any]:
    club = await make_club(
        client, admin_token, name="Midtown", timezone="America/New_York", currency="USD"
    )
    plan = await create_plan(client, admin_token, club["id"])
    desk = await make_token(db, "front_desk", club_ids=[uuid.UUID(club["id"])])
    member = await make_member(db, club["id"])
    return {"club": club, "plan": plan, "desk": desk, "member": member}


@pytest.fixture
async def moscow(client: AsyncClient, admin_token: str, db: Database) -> dict[str, Any]:
    club = await make_club(client, admin_token, name="Arbat", timezone="Europe/Moscow")
    plan = await create_plan(client, admin_token, club["id"])
    desk = await make_token(db, "front_desk", club_ids=[uuid.UUID(club["id"])])
    member = await make_member(db, club["id"])
    return {"club": club, "plan": plan, "desk": desk, "member": member}


class TestNewYorkSpringForward:
    """DST starts 2026-03-08: local midnight of the 9th is 04:00 UTC (EDT, UTC-4)."""

    async def test_late_evening_is_still_the_local_day(
        self, client: AsyncClient, new_york: dict[str, Any]
    ) -> None:
        desk, member, plan = new_york["desk"], new_york["member"], new_york["plan"]
        with freeze(at(2026, 3, 9, 3, 30)):  # 23:30 EDT on the 8th; UTC is already the 9th
            today = await sold(client, desk, member.id, plan["id"], date(2026, 3, 8))
            tomorrow = await sold(client, desk, member.id, plan["id"], date(2026, 3, 9))
        assert today["status"] == "active"
        assert tomorrow["status"] == "pending"

    async def test_a_membership_starts_at_local_midnight_after_the_change(
        self, client: AsyncClient, new_york: dict[str, Any]
    ) -> None:
        desk, member, plan = new_york["desk"], new_york["member"], new_york["plan"]
        with freeze(at(2026, 3, 2, 15, 0)):
            m = await sold(client, desk, member.id, plan["id"], date(2026, 3, 9))
        with freeze(at(2026, 3, 9, 3, 59)):
            assert await status(client, desk, m["id"]) == "pending"
        with freeze(at(2026, 3, 9, 4, 1)):  # 00:01 EDT; under EST it would be 23:01
            assert await status(client, desk, m["id"]) == "active"

    async def test_freeze_starts_at_local_midnight_after_the_change(
        self, client: AsyncClient, admin_token: str, new_york: dict[str, Any], db: Database
    ) -> None:
        desk, member, plan = new_york["desk"], new_york["member"], new_york["plan"]
        with freeze(at(2026, 3, 2, 15, 0)):
            m = await sold(client, desk, member.id, plan["id"], date(2026, 3, 2))
            r = await freeze_membership(client, desk, m["id"], date(2026, 3, 9), date(2026, 3, 18))
            assert r.status_code == 201, r.text
        assert (await freeze_events(db, at(2026, 3, 9, 3, 59)))["started"] == 0
        assert (await freeze_events(db, at(2026, 3, 9, 4, 1)))["started"] == 1


class TestNewYorkFallBack:
    """DST ends 2026-11-01: local midnight of the 2nd is 05:00 UTC (EST, UTC-5)."""

    async def test_the_last_day_lasts_until_local_midnight(
        self, client: AsyncClient, admin_token: str, new_york: dict[str, Any]
    ) -> None:
        member, plan = new_york["member"], new_york["plan"]
        m = await sold(client, admin_token, member.id, plan["id"], date(2025, 11, 2))
        assert m["end_date"] == "2026-11-01"
        with freeze(at(2026, 11, 2, 4, 30)):  # 23:30 EST on the 1st; under EDT it'd be the 2nd
            assert await status(client, admin_token, m["id"]) == "active"
        with freeze(at(2026, 11, 2, 5, 30)):
            assert await status(client, admin_token, m["id"]) == "expired"

    async def test_the_status_filter_agrees_across_the_change(
        self, client: AsyncClient, admin_token: str, new_york: dict[str, Any]
    ) -> None:
        member, plan = new_york["member"], new_york["plan"]
        m = await sold(client, admin_token, member.id, plan["id"], date(2025, 11, 2))
        params = {"club_id": new_york["club"]["id"], "status": "active"}
        with freeze(at(2026, 11, 2, 4, 30)):
            r = await client.get("/api/v1/memberships", params=params, headers=bearer(admin_token))
        assert [x["id"] for x in r.json()["items"]] == [m["id"]]
        with freeze(at(2026, 11, 2, 5, 30)):
            r = await client.get("/api/v1/memberships", params=params, headers=bearer(admin_token))
        assert r.json()["items"] == []


class TestMoscowAheadOfUtc:
    """At 22:30 UTC on 9 March it is already 01:30 on 10 March in Moscow."""

    async def test_today_is_the_clubs_date_not_utcs(
        self, client: AsyncClient, moscow: dict[str, Any]
    ) -> None:
        desk, member, plan = moscow["desk"], moscow["member"], moscow["plan"]
        with freeze(at(2026, 3, 9, 22, 30)):
            m = await sold(client, desk, member.id, plan["id"], date(2026, 3, 10))
        assert m["status"] == "active"

    async def test_utcs_today_is_already_the_past_for_the_club(
        self, client: AsyncClient, moscow: dict[str, Any], db: Database
    ) -> None:
        desk, member, plan = moscow["desk"], moscow["member"], moscow["plan"]
        with freeze(at(2026, 3, 9, 22, 30)):
            r = await sell(client, desk, member.id, plan["id"], date(2026, 3, 9))
        problem(r, 403, "backdating_not_allowed")

    async def test_a_freeze_from_the_local_today_starts_at_once(
        self, client: AsyncClient, moscow: dict[str, Any], db: Database
    ) -> None:
        desk, member, plan = moscow["desk"], moscow["member"], moscow["plan"]
        with freeze(at(2026, 3, 1, 9, 0)):
            m = await sold(client, desk, member.id, plan["id"], date(2026, 3, 1))
        with freeze(at(2026, 3, 9, 22, 30)):
            r = await freeze_membership(client, desk, m["id"], date(2026, 3, 10), date(2026, 3, 19))
        assert r.json()["status"] == "running"
        assert len(await events(db, "freeze.started")) == 1

    async def test_the_job_uses_the_clubs_midnight(
        self, client: AsyncClient, moscow: dict[str, Any], db: Database
    ) -> None:
        desk, member, plan = moscow["desk"], moscow["member"], moscow["plan"]
        with freeze(at(2026, 3, 1, 9, 0)):
            m = await sold(client, desk, member.id, plan["id"], date(2026, 3, 1))
            await freeze_membership(client, desk, m["id"], date(2026, 3, 10), date(2026, 3, 19))
        assert (await freeze_events(db, at(2026, 3, 9, 20, 59)))["started"] == 0
        assert (await freeze_events(db, at(2026, 3, 9, 21, 0)))["started"] == 1
