"""The segment: one set-based query over a club's current members; preview writes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from app.models import Plan
from tests.campaigns.conftest import URL, created, current_member, snapshot
from tests.fixtures.factories import bearer
from tests.fixtures.ledger import make_member, make_membership, make_plan


async def preview(
    client: AsyncClient, token: str, club_id: uuid.UUID, segment: dict[str, Any]
) -> dict[str, Any]:
    campaign = await created(client, token, club_id, segment=segment)
    r = await client.post(f"{URL}/{campaign['id']}/preview", headers=bearer(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


def names(body: dict[str, Any]) -> set[str]:
    return {m["last_name"] for m in body["sample"]}


class TestWhoIsAMember:
    async def test_only_current_members_of_the_club_are_in_it(
        self,
        client: AsyncClient,
        manager: str,
        club_id: uuid.UUID,
        plan: Plan,
        db: Database,
        other_club: dict[str, Any],
    ) -> None:
        await current_member(db, club_id, plan, last_name="Active")
        await current_member(
            db, club_id, plan, last_name="Upcoming", start=date(2026, 4, 1), end=date(2027, 3, 31)
        )
        await current_member(
            db, club_id, plan, last_name="EndsToday", start=date(2025, 3, 11), end=date(2026, 3, 10)
        )
        await current_member(
            db, club_id, plan, last_name="Expired", start=date(2025, 1, 1), end=date(2026, 3, 9)
        )
        await current_member(
            db,
            club_id,
            plan,
            last_name="Cancelled",
            membership={"cancelled_at": datetime(2026, 2, 1, tzinfo=UTC)},
        )
        await current_member(
            db, club_id, plan, last_name="Erased", erased_at=datetime(2026, 3, 1, tzinfo=UTC)
        )
        await make_member(db, club_id, last_name="NeverBought")
        theirs = await make_plan(db, other_club["id"])
        await current_member(db, uuid.UUID(other_club["id"]), theirs, last_name="Elsewhere")
        body = await preview(client, manager, club_id, {})
        assert body["count"] == 3
        assert names(body) == {"Active", "Upcoming", "EndsToday"}

    async def test_the_sample_holds_ten_by_last_name(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
    ) -> None:
        for n in range(12):
            await current_member(db, club_id, plan, last_name=f"Member{n:02d}")
        body = await preview(client, manager, club_id, {})
        assert body["count"] == 12
        assert [m["last_name"] for m in body["sample"]] == [f"Member{n:02d}" for n in range(10)]
        assert set(body["sample"][0]) == {"member_id", "first_name", "last_name"}


class TestCriteria:
    async def test_plan_ids_pick_current_memberships_on_those_plans(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
    ) -> None:
        pool = await make_plan(db, club_id, name="Pool")
        await current_member(db, club_id, plan, last_name="Gym")
        await current_member(db, club_id, pool, last_name="Swimmer")
        lapsed = await current_member(
            db,
            club_id,
            plan,
            last_name="FormerSwimmer",
            start=date(2025, 3, 1),
            end=date(2026, 3, 1),
        )
        await make_membership(
            db, lapsed, pool, start_date=date(2025, 1, 1), end_date=date(2025, 12, 31)
        )
        body = await preview(client, manager, club_id, {"plan_ids": [str(pool.id)]})
        assert names(body) == {"Swimmer"}

    async def test_ending_within_days_picks_terms_ending_soon_with_nothing_to_follow(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
    ) -> None:
        await current_member(db, club_id, plan, last_name="Ends30", end=date(2026, 4, 9))
        await current_member(db, club_id, plan, last_name="Ends31", end=date(2026, 4, 10))
        await current_member(db, club_id, plan, last_name="EndsToday", end=date(2026, 3, 10))
        renewed = await current_member(
            db, club_id, plan, last_name="Renewed", end=date(2026, 3, 20)
        )
        await make_membership(
            db,
            renewed,
            plan,
            start_date=date(2026, 3, 21),
            end_date=date(2027, 3, 20),
            source="renewal",
        )
        rebought = await current_member(
            db, club_id, plan, last_name="BoughtAgain", end=date(2026, 3, 20)
        )
        await make_membership(
            db, rebought, plan, start_date=date(2026, 3, 25), end_date=date(2026, 9, 24)
        )
        await current_member(
            db, club_id, plan, last_name="NotStarted", start=date(2026, 3, 15), end=date(2026, 4, 1)
        )
        body = await preview(client, manager, club_id, {"ending_within_days": 30})
        assert names(body) == {"Ends30", "EndsToday"}

    async def test_plan_and_ending_apply_to_the_same_membership(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
    ) -> None:
        pool = await make_plan(db, club_id, name="Pool")
        both = await current_member(
            db, club_id, plan, last_name="PoolForever", end=date(2026, 3, 20)
        )
        await make_membership(
            db, both, pool, start_date=date(2026, 1, 1), end_date=date(2026, 12, 31)
        )
        await current_member(db, club_id, pool, last_name="PoolEnding", end=date(2026, 3, 20))
        segment = {"plan_ids": [str(pool.id)], "ending_within_days": 30}
        body = await preview(client, manager, club_id, segment)
        assert names(body) == {"PoolEnding"}

    async def test_interests_match_any_ignoring_case(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
    ) -> None:
        await current_member(db, club_id, plan, last_name="Swims", interests=["Pool", "sauna"])
        await current_member(db, club_id, plan, last_name="Fights", interests=["martial arts"])
        await current_member(db, club_id, plan, last_name="Nothing", interests=[])
        await current_member(db, club_id, plan, last_name="Partial", interests=["pool party"])
        body = await preview(client, manager, club_id, {"interests": ["pool", "Martial Arts"]})
        assert names(body) == {"Swims", "Fights"}

    async def test_birthday_month_picks_birthdays_in_that_month(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
    ) -> None:
        await current_member(db, club_id, plan, last_name="March", birth_date=date(1990, 3, 31))
        await current_member(db, club_id, plan, last_name="April", birth_date=date(1990, 4, 1))
        await current_member(db, club_id, plan, last_name="Unknown", birth_date=None)
        body = await preview(client, manager, club_id, {"birthday_month": 3})
        assert names(body) == {"March"}

    @pytest.mark.parametrize("do_not_contact", [True, False])
    async def test_the_segment_ignores_consent_which_send_enforces(
        self,
        client: AsyncClient,
        manager: str,
        club_id: uuid.UUID,
        plan: Plan,
        db: Database,
        do_not_contact: bool,
    ) -> None:
        await current_member(db, club_id, plan, consents={}, do_not_contact=do_not_contact)
        assert (await preview(client, manager, club_id, {}))["count"] == 1


async def test_preview_writes_nothing(
    client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
) -> None:
    await current_member(db, club_id, plan)
    campaign = await created(client, manager, club_id)
    before = await snapshot(db)
    r = await client.post(f"{URL}/{campaign['id']}/preview", headers=bearer(manager))
    assert r.json()["count"] == 1
    assert await snapshot(db) == before
