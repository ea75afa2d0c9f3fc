"""Visit plans: slots inside opening hours, replace semantics, the item completed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from tests.fixtures.factories import bearer, make_club
from tests.fixtures.ledger import make_member
from tests.memberships.helpers import problem
from tests.onboarding.conftest import snapshot

PLAN = {
    "slots": [
        {"weekday": 6, "time": "10:00", "activity": "pool"},
        {"weekday": 1, "time": "19:00", "activity": "gym"},
        {"weekday": 3, "time": "07:00", "activity": "group classes"},
        {"weekday": 1, "time": "20:30", "activity": "sauna"},
    ]
}


def url(member_id: object) -> str:
    return f"/api/v1/members/{member_id}/visit-plan"


async def put(client: AsyncClient, token: str, member_id: object, body: dict[str, Any]) -> Any:
    return await client.put(url(member_id), json=body, headers=bearer(token))


class TestSaving:
    async def test_the_plan_is_saved_and_read_back_in_weekday_order(
        self, client: AsyncClient, manager: str, member: Any
    ) -> None:
        r = await put(client, manager, member.id, PLAN)
        assert r.status_code == 200, r.text
        r = await client.get(url(member.id), headers=bearer(manager))
        body = r.json()
        assert [(s["weekday"], s["time"], s["activity"]) for s in body["slots"]] == [
            (1, "19:00", "gym"),
            (1, "20:30", "sauna"),
            (3, "07:00", "group classes"),
            (6, "10:00", "pool"),
        ]
        # Two slots on Monday are one visit.
        assert body["visits_per_week"] == 3
        assert body["updated_at"] is not None

    async def test_a_member_without_a_plan_has_no_slots(
        self, client: AsyncClient, manager: str, member: Any
    ) -> None:
        r = await client.get(url(member.id), headers=bearer(manager))
        assert r.json() == {
            "member_id": str(member.id),
            "slots": [],
            "visits_per_week": 0,
            "updated_at": None,
        }

    async def test_saving_replaces_the_whole_plan(
        self, client: AsyncClient, manager: str, member: Any
    ) -> None:
        await put(client, manager, member.id, PLAN)
        r = await put(
            client,
            manager,
            member.id,
            {"slots": [{"weekday": 2, "time": "18:00", "activity": "gym"}]},
        )
        assert [s["weekday"] for s in r.json()["slots"]] == [2]
        r = await client.get(url(member.id), headers=bearer(manager))
        assert r.json()["visits_per_week"] == 1

    async def test_saving_a_plan_completes_the_visit_plan_item(
        self, client: AsyncClient, manager: str, member: Any, membership: dict[str, Any]
    ) -> None:
        await put(client, manager, member.id, PLAN)
        r = await client.get(
            f"/api/v1/memberships/{membership['id']}/onboarding", headers=bearer(manager)
        )
        item = {i["kind"]: i for i in r.json()["items"]}["visit_plan"]
        assert (item["status"], item["completed_via"]) == ("done", "visit_plan")

    async def test_an_empty_plan_clears_it_and_completes_nothing(
        self, client: AsyncClient, manager: str, member: Any, membership: dict[str, Any]
    ) -> None:
        r = await put(client, manager, member.id, {"slots": []})
        assert r.json()["slots"] == []
        r = await client.get(
            f"/api/v1/memberships/{membership['id']}/onboarding", headers=bearer(manager)
        )
        assert {i["kind"]: i["status"] for i in r.json()["items"]}["visit_plan"] == "open"

    async def test_the_last_minute_before_closing_is_inside(
        self, client: AsyncClient, manager: str, member: Any
    ) -> None:
        r = await put(
            client,
            manager,
            member.id,
            {"slots": [{"weekday": 5, "time": "21:59", "activity": "gym"}]},
        )
        assert r.status_code == 200, r.text


class TestRefused:
    @pytest.mark.parametrize("time", ["06:59", "22:00", "23:30"])
    async def test_a_slot_outside_opening_hours_is_refused_and_the_old_plan_kept(
        self, client: AsyncClient, manager: str, member: Any, db: Database, time: str
    ) -> None:
        await put(client, manager, member.id, PLAN)
        before = await snapshot(db)
        body = {"slots": [*PLAN["slots"], {"weekday": 4, "time": time, "activity": "gym"}]}
        r = await put(client, manager, member.id, body)
        problem(r, 422, "outside_opening_hours")
        assert r.json()["errors"] == [
            {"pointer": "/slots/4/time", "detail": "outside opening hours"}
        ]
        assert await snapshot(db) == before

    async def test_a_slot_on_a_day_the_club_is_closed_is_refused(
        self, client: AsyncClient, admin_token: str, db: Database
    ) -> None:
        weekdays = [{"weekday": d, "opens": "08:00", "closes": "20:00"} for d in range(1, 6)]
        club = await make_club(client, admin_token, name="Weekday Gym", opening_hours=weekdays)
        member = await make_member(db, club["id"])
        before = await snapshot(db)
        r = await put(
            client,
            admin_token,
            member.id,
            {"slots": [{"weekday": 7, "time": "12:00", "activity": "gym"}]},
        )
        body = problem(r, 422, "outside_opening_hours")
        assert "Sunday: closed" in body["detail"]
        assert await snapshot(db) == before

    @pytest.mark.parametrize(
        "slot",
        [
            {"weekday": 0, "time": "10:00", "activity": "gym"},
            {"weekday": 8, "time": "10:00", "activity": "gym"},
            {"weekday": 1, "time": "24:00", "activity": "gym"},
            {"weekday": 1, "time": "9:00", "activity": "gym"},
            {"weekday": 1, "time": "10:00", "activity": ""},
            {"weekday": 1, "time": "10:00"},
        ],
    )
    async def test_malformed_slots_are_refused(
        self, client: AsyncClient, manager: str, member: Any, db: Database, slot: dict[str, Any]
    ) -> None:
        before = await snapshot(db)
        problem(await put(client, manager, member.id, {"slots": [slot]}), 422, "validation_error")
        assert await snapshot(db) == before

    async def test_two_slots_at_the_same_time_are_refused(
        self, client: AsyncClient, manager: str, member: Any, db: Database
    ) -> None:
        slot = {"weekday": 1, "time": "10:00", "activity": "gym"}
        r = await put(client, manager, member.id, {"slots": [slot, {**slot, "activity": "pool"}]})
        problem(r, 422, "validation_error")

    async def test_another_clubs_member_is_not_found(
        self, client: AsyncClient, manager: str, other_club: dict[str, Any], db: Database
    ) -> None:
        stranger = await make_member(db, uuid.UUID(other_club["id"]))
        before = await snapshot(db)
        problem(await put(client, manager, stranger.id, PLAN), 404, "member_not_found")
        assert await snapshot(db) == before
