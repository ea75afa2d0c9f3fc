"""Wellness tests: impossible metrics refused, progress over time, the item completed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.clock import freeze
from app.db import Database
from tests.fixtures.factories import bearer, make_token
from tests.fixtures.ledger import make_member
from tests.memberships.helpers import problem
from tests.onboarding.conftest import make_staff, snapshot

BODY: dict[str, Any] = {
    "measured_on": "2026-03-10",
    "weight_kg": 80.0,
    "body_fat_pct": 28.5,
    "muscle_mass_kg": 55.2,
    "body_water_pct": 50.0,
    "bmr_kcal": 1700,
}


def url(member_id: object) -> str:
    return f"/api/v1/members/{member_id}/wellness-tests"


async def record(client: AsyncClient, token: str, member_id: object, **overrides: Any) -> Any:
    return await client.post(url(member_id), json={**BODY, **overrides}, headers=bearer(token))


class TestRecording:
    async def test_a_test_is_recorded_with_who_measured_it(
        self, client: AsyncClient, member: Any, trainer: tuple[str, str]
    ) -> None:
        r = await record(client, trainer[1], member.id, trainer_id=trainer[0])
        assert r.status_code == 201, r.text
        body = r.json()
        assert {k: body[k] for k in BODY} == BODY
        assert (body["trainer_id"], body["recorded_by_id"]) == (trainer[0], trainer[0])
        assert body["change_since_first"] is None

    async def test_recording_completes_the_wellness_test_item(
        self,
        client: AsyncClient,
        manager: str,
        member: Any,
        trainer: tuple[str, str],
        membership: dict[str, Any],
    ) -> None:
        assert (await record(client, trainer[1], member.id)).status_code == 201
        r = await client.get(
            f"/api/v1/memberships/{membership['id']}/onboarding", headers=bearer(manager)
        )
        items = {i["kind"]: i for i in r.json()["items"]}
        assert items["wellness_test"]["status"] == "done"
        assert items["wellness_test"]["completed_via"] == "wellness_test"
        assert items["wellness_test"]["completed_by_id"] == trainer[0]
        assert items["first_session"]["status"] == "open"

    async def test_a_skipped_item_stays_skipped(
        self, client: AsyncClient, manager: str, member: Any, membership: dict[str, Any]
    ) -> None:
        item = f"/api/v1/memberships/{membership['id']}/onboarding/wellness_test"
        await client.patch(item, json={"status": "skipped"}, headers=bearer(manager))
        assert (await record(client, manager, member.id)).status_code == 201
        r = await client.get(
            f"/api/v1/memberships/{membership['id']}/onboarding", headers=bearer(manager)
        )
        assert {i["kind"]: i["status"] for i in r.json()["items"]}["wellness_test"] == "skipped"

    async def test_a_cancelled_memberships_item_is_left_open(
        self, client: AsyncClient, manager: str, member: Any, membership: dict[str, Any]
    ) -> None:
        r = await client.post(
            f"/api/v1/memberships/{membership['id']}/cancel",
            json={"reason": "Moved away"},
            headers=bearer(manager),
        )
        assert r.status_code == 200, r.text
        assert (await record(client, manager, member.id)).status_code == 201
        r = await client.get(
            f"/api/v1/memberships/{membership['id']}/onboarding", headers=bearer(manager)
        )
        assert {i["kind"]: i["status"] for i in r.json()["items"]}["wellness_test"] == "open"

    async def test_today_in_the_clubs_time_zone_is_not_the_future(
        self, client: AsyncClient, manager: str, member: Any
    ) -> None:
        # 22:30 UTC on 10 March is 01:30 on 11 March in Moscow.
        with freeze(datetime(2026, 3, 10, 22, 30, tzinfo=UTC)):
            r = await record(client, manager, member.id, measured_on="2026-03-11")
            assert r.status_code == 201, r.text
            r = await record(client, manager, member.id, measured_on="2026-03-12")
            problem(r, 422, "validation_error")
            assert r.json()["errors"] == [{"pointer": "/measured_on", "detail": "in the future"}]


class TestProgress:
    async def test_tests_are_listed_newest_first_with_the_change_since_the_first(
        self, client: AsyncClient, manager: str, member: Any
    ) -> None:
        for day, weight, fat, muscle, water, bmr in [
            ("2026-01-10", 84.0, 30.0, 54.0, 48.5, 1650),
            ("2026-03-01", 80.5, 26.25, 55.5, 50.0, 1690),
            ("2026-02-01", 82.0, 28.0, 54.8, 49.0, 1670),
        ]:
            r = await record(
                client,
                manager,
                member.id,
                measured_on=day,
                weight_kg=weight,
                body_fat_pct=fat,
                muscle_mass_kg=muscle,
                body_water_pct=water,
                bmr_kcal=bmr,
            )
            assert r.status_code == 201, r.text
        r = await client.get(url(member.id), headers=bearer(manager))
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert [i["measured_on"] for i in items] == ["2026-03-01", "2026-02-01", "2026-01-10"]
        assert items[0]["change_since_first"] == {
            "weight_kg": -3.5,
            "body_fat_pct": -3.75,
            "muscle_mass_kg": 1.5,
            "body_water_pct": 1.5,
            "bmr_kcal": 40,
        }
        assert items[1]["change_since_first"]["weight_kg"] == -2.0
        assert items[2]["change_since_first"] is None

    async def test_the_list_pages_with_a_cursor(
        self, client: AsyncClient, manager: str, member: Any
    ) -> None:
        for day in ("2026-01-01", "2026-02-01", "2026-03-01"):
            assert (await record(client, manager, member.id, measured_on=day)).status_code == 201
        r = await client.get(url(member.id), params={"limit": 2}, headers=bearer(manager))
        first = r.json()
        assert [i["measured_on"] for i in first["items"]] == ["2026-03-01", "2026-02-01"]
        r = await client.get(
            url(member.id),
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=bearer(manager),
        )
        assert [i["measured_on"] for i in r.json()["items"]] == ["2026-01-01"]
        assert r.json()["next_cursor"] is None
        assert r.json()["items"][0]["change_since_first"] is None


class TestRefused:
    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("weight_kg", 0),
            ("weight_kg", -70),
            ("weight_kg", 500.5),
            ("body_fat_pct", 0),
            ("body_fat_pct", 100),
            ("body_fat_pct", -3),
            ("body_water_pct", 0),
            ("body_water_pct", 101),
            ("muscle_mass_kg", 80.5),  # more than the 80 kg weight
            ("muscle_mass_kg", 0),
            ("bmr_kcal", 0),
            ("bmr_kcal", 10_001),
            ("bmr_kcal", 1500.5),
            ("weight_kg", "NaN"),
            ("measured_on", "2026-03-11"),  # tomorrow, club time
            ("measured_on", "2026-03-10T09:00:00+03:00"),
        ],
    )
    async def test_impossible_metrics_are_refused_and_nothing_is_written(
        self,
        client: AsyncClient,
        manager: str,
        member: Any,
        membership: dict[str, Any],
        db: Database,
        field: str,
        value: Any,
    ) -> None:
        before = await snapshot(db)
        r = await record(client, manager, member.id, **{field: value})
        body = problem(r, 422, "validation_error")
        assert body["errors"], body
        assert await snapshot(db) == before

    async def test_a_measurer_who_is_not_a_trainer_is_refused(
        self, client: AsyncClient, manager: str, member: Any, db: Database, club_id: uuid.UUID
    ) -> None:
        consultant, _ = await make_staff(db, "consultant", club_ids=[club_id])
        before = await snapshot(db)
        r = await record(client, manager, member.id, trainer_id=consultant)
        body = problem(r, 422, "not_a_trainer")
        assert body["errors"][0]["pointer"] == "/trainer_id"
        assert await snapshot(db) == before

    async def test_another_clubs_member_is_not_found(
        self, client: AsyncClient, manager: str, other_club: dict[str, Any], db: Database
    ) -> None:
        stranger = await make_member(db, other_club["id"])
        before = await snapshot(db)
        problem(await record(client, manager, stranger.id), 404, "member_not_found")
        problem(
            await client.get(url(stranger.id), headers=bearer(manager)), 404, "member_not_found"
        )
        assert await snapshot(db) == before

    async def test_an_erased_member_takes_no_tests(
        self, client: AsyncClient, manager: str, db: Database, club_id: uuid.UUID
    ) -> None:
        erased = await make_member(db, club_id, erased_at=datetime(2026, 3, 1, tzinfo=UTC))
        problem(await record(client, manager, erased.id), 422, "member_erased")

    async def test_a_caller_may_read_but_not_record(
        self, client: AsyncClient, member: Any, db: Database, club_id: uuid.UUID
    ) -> None:
        caller = await make_token(db, "caller", club_ids=[club_id])
        assert (await client.get(url(member.id), headers=bearer(caller))).status_code == 200
        problem(await record(client, caller, member.id), 403, "forbidden")
