"""POST /access/check: every reason, evaluated in the club's local time."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest_asyncio
from httpx import AsyncClient

from app.core.clock import freeze
from app.db import Database
from app.models import Checkin, Member, Plan
from tests.checkins.conftest import World, integration_token
from tests.fixtures.factories import bearer
from tests.fixtures.ledger import make_freeze, make_member, make_membership, make_plan

# 2026-03-10 09:00 in Moscow (UTC+3), a Tuesday.
NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


async def check(client: AsyncClient, token: str, **body: Any) -> dict[str, Any]:
    payload = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in body.items()}
    with freeze(NOW):
        r = await client.post("/api/v1/access/check", json=payload, headers=bearer(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest_asyncio.fixture
async def member(db: Database, world: World) -> Member:
    return await make_member(db, world.club_id)


async def reason(client: AsyncClient, world: World, member: Member, **body: Any) -> str:
    result = await check(
        client, world.turnstile, club_id=world.club_id, member_id=member.id, **body
    )
    return str(result["reason"])


class TestReasons:
    async def test_ok_for_an_active_membership(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        result = await check(
            client, world.turnstile, club_id=world.club_id, member_id=world.alice.id
        )
        assert result["allowed"] is True
        assert result["reason"] == "ok"
        assert result["member_id"] == str(world.alice.id)
        assert result["membership_id"] is not None

    async def test_no_membership(self, client: AsyncClient, world: World, member: Member) -> None:
        result = await check(client, world.turnstile, club_id=world.club_id, member_id=member.id)
        assert (result["allowed"], result["reason"]) == (False, "no_membership")

    async def test_expired(
        self, client: AsyncClient, world: World, db: Database, member: Member
    ) -> None:
        await make_membership(
            db, member, world.plan, start_date=date(2025, 1, 1), end_date=date(2026, 3, 9)
        )
        assert await reason(client, world, member) == "expired"

    async def test_not_started(
        self, client: AsyncClient, world: World, db: Database, member: Member
    ) -> None:
        await make_membership(db, member, world.plan, start_date=date(2026, 3, 11))
        assert await reason(client, world, member) == "not_started"

    async def test_frozen(
        self, client: AsyncClient, world: World, db: Database, member: Member
    ) -> None:
        m = await make_membership(db, member, world.plan, start_date=date(2026, 1, 1))
        await make_freeze(db, m, start_date=date(2026, 3, 10), end_date=date(2026, 3, 24))
        assert await reason(client, world, member) == "frozen"

    async def test_a_cancelled_freeze_does_not_freeze(
        self, client: AsyncClient, world: World, db: Database, member: Member
    ) -> None:
        m = await make_membership(db, member, world.plan, start_date=date(2026, 1, 1))
        await make_freeze(
            db, m, start_date=date(2026, 3, 10), end_date=date(2026, 3, 24), cancelled_at=NOW
        )
        assert await reason(client, world, member) == "ok"

    async def test_cancelled(
        self, client: AsyncClient, world: World, db: Database, member: Member
    ) -> None:
        await make_membership(db, member, world.plan, start_date=date(2026, 1, 1), cancelled_at=NOW)
        assert await reason(client, world, member) == "cancelled"

    async def test_outside_plan_hours(
        self, client: AsyncClient, world: World, db: Database, member: Member
    ) -> None:
        daytime = await _daytime_plan(db, world)
        await make_membership(db, member, daytime, start_date=date(2026, 1, 1))
        assert await reason(client, world, member, at="2026-03-10T12:59:00Z") == "ok"  # 15:59
        assert await reason(client, world, member, at="2026-03-10T13:00:00Z") == (
            "outside_plan_hours"  # 16:00 in Moscow, though 13:00 in UTC
        )
        assert await reason(client, world, member, at="2026-03-14T09:00:00Z") == (
            "outside_plan_hours"  # Saturday
        )

    async def test_visit_limit_reached_counts_visits_within_the_term(
        self, client: AsyncClient, world: World, db: Database, member: Member
    ) -> None:
        ten = await make_plan(db, world.club_id, visit_limit=2)
        await make_membership(db, member, ten, start_date=date(2026, 3, 1))
        # 2026-02-28T22:00Z is already March 1st in Moscow: inside the term.
        await _visits(db, world, member, "2026-02-28T20:59:00Z", "2026-02-28T22:00:00Z")
        assert await reason(client, world, member) == "ok"  # the one at 20:59Z is Feb 28th
        await _visits(db, world, member, "2026-03-05T10:00:00Z")
        assert await reason(client, world, member) == "visit_limit_reached"
        # Decided on what happened before: on March 3rd only one visit was used.
        assert await reason(client, world, member, at="2026-03-03T10:00:00Z") == "ok"

    async def test_at_defaults_to_now(
        self, client: AsyncClient, world: World, db: Database, member: Member
    ) -> None:
        await make_membership(db, member, world.plan, start_date=date(2026, 3, 10))
        assert await reason(client, world, member) == "ok"


async def _daytime_plan(db: Database, world: World) -> Plan:
    hours = [{"weekday": d, "from": "07:00", "to": "16:00"} for d in range(1, 6)]
    return await make_plan(db, world.club_id, name="Daytime", access_hours=hours)


async def _visits(db: Database, world: World, member: Member, *instants: str) -> None:
    async with db.session_scope() as s:
        for at in instants:
            s.add(
                Checkin(
                    club_id=world.club_id,
                    member_id=member.id,
                    checked_in_at=datetime.fromisoformat(at),
                    source="turnstile",
                )
            )


class TestLocalTime:
    async def test_the_local_date_decides_the_term(
        self, client: AsyncClient, world: World, db: Database, member: Member
    ) -> None:
        await make_membership(
            db, member, world.plan, start_date=date(2025, 3, 10), end_date=date(2026, 3, 9)
        )
        # 20:59Z on March 9th is 23:59 in Moscow: the last day of the term.
        assert await reason(client, world, member, at="2026-03-09T20:59:00Z") == "ok"
        # 21:00Z is still March 9th in UTC but March 10th in Moscow: expired.
        assert await reason(client, world, member, at="2026-03-09T21:00:00Z") == "expired"

    async def test_plan_hours_use_the_local_weekday(
        self, client: AsyncClient, world: World, db: Database, admin_token: str
    ) -> None:
        # Tokyo is UTC+9: Sunday 16:00Z is Monday 01:00 there.
        night = await make_plan(
            db,
            world.other_club_id,
            name="Night owl",
            access_hours=[{"weekday": 1, "from": "00:00", "to": "06:00"}],
        )
        member = await make_member(db, world.other_club_id)
        await make_membership(db, member, night, start_date=date(2026, 1, 1))
        result = await check(
            client,
            world.other_turnstile,
            club_id=world.other_club_id,
            member_id=member.id,
            at="2026-03-08T16:00:00Z",
        )
        assert result["reason"] == "ok"


class TestPrecedenceThroughTheApi:
    async def test_the_membership_covering_the_date_wins(
        self, client: AsyncClient, world: World, db: Database, member: Member
    ) -> None:
        await make_membership(
            db, member, world.plan, start_date=date(2025, 1, 1), end_date=date(2025, 12, 31)
        )
        current = await make_membership(db, member, world.plan, start_date=date(2026, 1, 1))
        await make_membership(db, member, world.plan, start_date=date(2027, 1, 1))
        result = await check(client, world.turnstile, club_id=world.club_id, member_id=member.id)
        assert (result["reason"], result["membership_id"]) == ("ok", str(current.id))

    async def test_any_covering_membership_that_admits_wins(
        self, client: AsyncClient, world: World, db: Database, member: Member
    ) -> None:
        daytime = await _daytime_plan(db, world)
        await make_membership(db, member, daytime, start_date=date(2026, 2, 1))
        anytime = await make_membership(db, member, world.plan, start_date=date(2026, 1, 1))
        result = await check(
            client,
            world.turnstile,
            club_id=world.club_id,
            member_id=member.id,
            at="2026-03-10T17:00:00Z",
        )
        assert (result["reason"], result["membership_id"]) == ("ok", str(anytime.id))

    async def test_the_newest_covering_membership_speaks_when_none_admits(
        self, client: AsyncClient, world: World, db: Database, member: Member
    ) -> None:
        daytime = await _daytime_plan(db, world)
        newest = await make_membership(db, member, daytime, start_date=date(2026, 2, 1))
        frozen = await make_membership(db, member, world.plan, start_date=date(2026, 1, 1))
        await make_freeze(db, frozen, start_date=date(2026, 3, 1), end_date=date(2026, 3, 30))
        result = await check(
            client,
            world.turnstile,
            club_id=world.club_id,
            member_id=member.id,
            at="2026-03-10T17:00:00Z",
        )
        assert (result["reason"], result["membership_id"]) == (
            "outside_plan_hours",
            str(newest.id),
        )

    async def test_a_renewal_not_yet_started_is_reported_over_the_expired_term(
        self, client: AsyncClient, world: World, db: Database, member: Member
    ) -> None:
        await make_membership(
            db, member, world.plan, start_date=date(2025, 3, 1), end_date=date(2026, 3, 1)
        )
        await make_membership(db, member, world.plan, start_date=date(2026, 3, 15))
        assert await reason(client, world, member) == "not_started"


class TestLookup:
    async def test_by_card_number(self, client: AsyncClient, world: World) -> None:
        result = await check(
            client, world.turnstile, club_id=world.club_id, card_number=world.bob.card_number
        )
        assert (result["reason"], result["member_id"]) == ("ok", str(world.bob.id))

    async def test_unknown_card_is_404_member_not_found(
        self, client: AsyncClient, world: World
    ) -> None:
        r = await client.post(
            "/api/v1/access/check",
            json={"club_id": str(world.club_id), "card_number": "NOPE"},
            headers=bearer(world.turnstile),
        )
        assert r.status_code == 404
        assert r.json()["code"] == "member_not_found"

    async def test_another_clubs_member_is_404(self, client: AsyncClient, world: World) -> None:
        for token, club in (
            (world.turnstile, world.club_id),
            (world.other_turnstile, world.club_id),
        ):
            r = await client.post(
                "/api/v1/access/check",
                json={"club_id": str(club), "member_id": str(world.stranger.id)},
                headers=bearer(token),
            )
            assert r.status_code == 404
            assert r.json()["code"] == "member_not_found"

    async def test_both_member_id_and_card_number_is_422(
        self, client: AsyncClient, world: World
    ) -> None:
        r = await client.post(
            "/api/v1/access/check",
            json={
                "club_id": str(world.club_id),
                "member_id": str(world.alice.id),
                "card_number": world.alice.card_number,
            },
            headers=bearer(world.turnstile),
        )
        assert r.status_code == 422
        assert r.json()["code"] == "validation_error"

    async def test_a_naive_instant_is_422(self, client: AsyncClient, world: World) -> None:
        r = await client.post(
            "/api/v1/access/check",
            json={
                "club_id": str(world.club_id),
                "member_id": str(world.alice.id),
                "at": "2026-03-10T09:00:00",
            },
            headers=bearer(world.turnstile),
        )
        assert r.status_code == 422

    async def test_needs_the_access_check_scope(
        self, client: AsyncClient, world: World, admin_token: str
    ) -> None:
        writer = await integration_token(client, admin_token, world.club_id, ["checkins:write"])
        r = await client.post(
            "/api/v1/access/check",
            json={"club_id": str(world.club_id), "member_id": str(world.alice.id)},
            headers=bearer(writer),
        )
        assert r.status_code == 403
