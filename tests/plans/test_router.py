"""Plans over HTTP: what a club sells, who may define it, and bad input refused whole."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from tests.fixtures.factories import bearer, make_token
from tests.memberships.helpers import PLAN_BODY, audit, create_plan, problem, snapshot

URL = "/api/v1/plans"


def body(club_id: object | None, **overrides: Any) -> dict[str, Any]:
    out = {**PLAN_BODY, "club_id": None if club_id is None else str(club_id)}
    out.update(overrides)
    return {k: v for k, v in out.items() if v is not ...}


class TestCreatePlan:
    async def test_club_plan_is_priced_in_the_clubs_currency(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID
    ) -> None:
        r = await client.post(URL, json=body(club_id), headers=bearer(manager))
        assert r.status_code == 201, r.text
        plan = r.json()
        assert plan["currency"] == "RUB"
        assert plan["club_id"] == str(club_id)
        assert plan["duration_months"] == 12
        assert plan["duration_days"] is None
        assert plan["price"] == 3_500_000
        assert plan["active"] is True

    async def test_plan_reads_back_as_created(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID
    ) -> None:
        hours = [{"weekday": 1, "from": "07:00", "to": "17:00"}]
        created = await create_plan(
            client,
            manager,
            club_id,
            access_hours=hours,
            visit_limit=12,
            duration_days=30,
            duration_months=None,
        )
        r = await client.get(f"{URL}/{created['id']}", headers=bearer(manager))
        assert r.status_code == 200
        assert r.json() == created
        assert created["access_hours"] == hours
        assert created["visit_limit"] == 12
        assert created["duration_days"] == 30
        assert created["freeze_policy"] == PLAN_BODY["freeze_policy"]

    async def test_omitted_freeze_policy_means_no_freezes(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID
    ) -> None:
        plan = await create_plan(client, manager, club_id, freeze_policy=None)
        assert plan["freeze_policy"]["max_freezes"] == 0

    async def test_chain_wide_plan_needs_a_currency(
        self, client: AsyncClient, admin_token: str, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await client.post(URL, json=body(None), headers=bearer(admin_token))
        err = problem(r, 422, "validation_error")
        assert err["errors"][0]["pointer"] == "/currency"
        assert await snapshot(db) == before

    async def test_chain_wide_plan_takes_its_own_currency(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        plan = await create_plan(client, admin_token, None, currency="eur")
        assert plan["club_id"] is None
        assert plan["currency"] == "EUR"

    async def test_only_admins_create_chain_wide_plans(
        self, client: AsyncClient, manager: str, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await client.post(URL, json=body(None, currency="RUB"), headers=bearer(manager))
        problem(r, 403, "forbidden")
        assert await snapshot(db) == before

    async def test_omitted_club_id_means_chain_wide(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        payload = body(None, currency="RUB")
        del payload["club_id"]
        r = await client.post(URL, json=payload, headers=bearer(admin_token))
        assert r.status_code == 201
        assert r.json()["club_id"] is None

    async def test_club_plan_in_another_currency_is_refused(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await client.post(URL, json=body(club_id, currency="EUR"), headers=bearer(manager))
        problem(r, 422, "currency_mismatch")
        assert await snapshot(db) == before

    @pytest.mark.parametrize("price", [0, -1, -3_500_000])
    async def test_price_must_be_positive(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database, price: int
    ) -> None:
        before = await snapshot(db)
        r = await client.post(URL, json=body(club_id, price=price), headers=bearer(manager))
        err = problem(r, 422, "validation_error")
        assert err["errors"][0]["pointer"] == "/price"
        assert await snapshot(db) == before

    async def test_price_beyond_the_money_column_is_refused(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await client.post(URL, json=body(club_id, price=2**31), headers=bearer(manager))
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    @pytest.mark.parametrize(
        "duration", [{"duration_months": 0}, {"duration_days": 0, "duration_months": None}]
    )
    async def test_duration_must_be_positive(
        self,
        client: AsyncClient,
        manager: str,
        club_id: uuid.UUID,
        db: Database,
        duration: dict[str, Any],
    ) -> None:
        before = await snapshot(db)
        r = await client.post(URL, json=body(club_id, **duration), headers=bearer(manager))
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    @pytest.mark.parametrize(
        "duration",
        [
            {"duration_months": 1, "duration_days": 30},
            {"duration_months": None},
            {"duration_months": ...},
        ],
        ids=["both", "null", "neither"],
    )
    async def test_exactly_one_of_months_or_days(
        self,
        client: AsyncClient,
        manager: str,
        club_id: uuid.UUID,
        db: Database,
        duration: dict[str, Any],
    ) -> None:
        before = await snapshot(db)
        r = await client.post(URL, json=body(club_id, **duration), headers=bearer(manager))
        err = problem(r, 422, "validation_error")
        assert "exactly one" in err["errors"][0]["detail"]
        assert await snapshot(db) == before

    @pytest.mark.parametrize(
        "name", ["Gold\x00card", "x" * 100_000, "", "   "], ids=["nul", "huge", "empty", "blank"]
    )
    async def test_bad_names_are_refused(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database, name: str
    ) -> None:
        before = await snapshot(db)
        r = await client.post(URL, json=body(club_id, name=name), headers=bearer(manager))
        err = problem(r, 422, "validation_error")
        assert err["errors"][0]["pointer"] == "/name"
        assert "\x00" not in r.text
        assert "x" * 1000 not in r.text
        assert await snapshot(db) == before

    async def test_unknown_fields_are_refused(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await client.post(URL, json=body(club_id, discount=50), headers=bearer(manager))
        err = problem(r, 422, "validation_error")
        assert err["errors"] == [{"pointer": "/discount", "detail": "Unknown field"}]
        assert await snapshot(db) == before

    async def test_another_clubs_plan_is_not_found_for_a_club_manager(
        self,
        client: AsyncClient,
        manager: str,
        other_club: dict[str, Any],
        db: Database,
    ) -> None:
        before = await snapshot(db)
        r = await client.post(URL, json=body(other_club["id"]), headers=bearer(manager))
        problem(r, 404, "club_not_found")
        assert await snapshot(db) == before

    async def test_unknown_club_is_not_found(
        self, client: AsyncClient, admin_token: str, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await client.post(URL, json=body(uuid.uuid4()), headers=bearer(admin_token))
        problem(r, 404, "club_not_found")
        assert await snapshot(db) == before

    async def test_front_desk_cannot_create_plans(
        self, client: AsyncClient, desk: str, club_id: uuid.UUID, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await client.post(URL, json=body(club_id), headers=bearer(desk))
        problem(r, 403, "forbidden")
        assert await snapshot(db) == before

    async def test_missing_token_is_unauthorized(
        self, client: AsyncClient, club_id: uuid.UUID
    ) -> None:
        problem(await client.post(URL, json=body(club_id)), 401, "missing_token")

    @pytest.mark.parametrize(
        "policy",
        [
            {"max_freezes": 2, "min_days": 30, "max_days": 7, "max_total_days": 45},
            {"max_freezes": 2, "min_days": 7, "max_days": 30, "max_total_days": 3},
            {"max_freezes": -1, "min_days": 7, "max_days": 30, "max_total_days": 45},
            {"max_freezes": 2, "min_days": 0, "max_days": 30, "max_total_days": 45},
            {"max_freezes": 2, "min_days": 7, "max_days": 30, "max_total_days": 45, "fee": -1},
            {"max_freezes": 2, "min_days": 7, "max_days": 30},
            {"max_freezes": 2, "min_days": 7, "max_days": 30, "max_total_days": 45, "x": 1},
        ],
        ids=[
            "min_above_max",
            "total_below_min",
            "negative_count",
            "zero_min",
            "negative_fee",
            "missing_total",
            "unknown_field",
        ],
    )
    async def test_inconsistent_freeze_policy_is_refused(
        self,
        client: AsyncClient,
        manager: str,
        club_id: uuid.UUID,
        db: Database,
        policy: dict[str, Any],
    ) -> None:
        before = await snapshot(db)
        r = await client.post(
            URL, json=body(club_id, freeze_policy=policy), headers=bearer(manager)
        )
        err = problem(r, 422, "validation_error")
        assert err["errors"][0]["pointer"].startswith("/freeze_policy")
        assert await snapshot(db) == before

    @pytest.mark.parametrize(
        "hours",
        [
            [{"weekday": 1, "from": "17:00", "to": "07:00"}],
            [{"weekday": 8, "from": "07:00", "to": "17:00"}],
            [{"weekday": 1, "from": "7:00", "to": "17:00"}],
            [{"weekday": 1, "from": "07:00", "to": "25:00"}],
            [
                {"weekday": 1, "from": "07:00", "to": "12:00"},
                {"weekday": 1, "from": "11:00", "to": "15:00"},
            ],
        ],
        ids=["reversed", "bad_weekday", "bad_format", "bad_hour", "overlap"],
    )
    async def test_bad_access_hours_are_refused(
        self,
        client: AsyncClient,
        manager: str,
        club_id: uuid.UUID,
        db: Database,
        hours: list[dict[str, Any]],
    ) -> None:
        before = await snapshot(db)
        r = await client.post(URL, json=body(club_id, access_hours=hours), headers=bearer(manager))
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    async def test_split_day_access_hours_are_kept(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID
    ) -> None:
        hours = [
            {"weekday": 6, "from": "18:00", "to": "24:00"},
            {"weekday": 6, "from": "07:00", "to": "12:00"},
        ]
        plan = await create_plan(client, manager, club_id, access_hours=hours)
        assert plan["access_hours"] == [hours[1], hours[0]]

    @pytest.mark.parametrize("limit", [0, -4])
    async def test_visit_limit_must_be_positive(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database, limit: int
    ) -> None:
        before = await snapshot(db)
        r = await client.post(URL, json=body(club_id, visit_limit=limit), headers=bearer(manager))
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    async def test_renewal_targets_may_be_same_club_or_chain_wide(
        self, client: AsyncClient, admin_token: str, manager: str, club_id: uuid.UUID
    ) -> None:
        own = await create_plan(client, manager, club_id, name="Own")
        chain = await create_plan(client, admin_token, None, currency="RUB", name="Chain")
        plan = await create_plan(
            client, manager, club_id, renewal_target_ids=[own["id"], chain["id"]]
        )
        assert plan["renewal_target_ids"] == [own["id"], chain["id"]]

    async def test_renewal_target_of_another_club_is_refused(
        self,
        client: AsyncClient,
        admin_token: str,
        club_id: uuid.UUID,
        other_club: dict[str, Any],
        db: Database,
    ) -> None:
        foreign = await create_plan(client, admin_token, other_club["id"])
        before = await snapshot(db)
        r = await client.post(
            URL,
            json=body(club_id, renewal_target_ids=[foreign["id"]]),
            headers=bearer(admin_token),
        )
        err = problem(r, 422, "invalid_renewal_target")
        assert err["errors"][0]["pointer"] == "/renewal_target_ids/0"
        assert await snapshot(db) == before

    async def test_chain_wide_plan_targets_only_chain_wide_plans(
        self, client: AsyncClient, admin_token: str, club_id: uuid.UUID, db: Database
    ) -> None:
        club_plan = await create_plan(client, admin_token, club_id)
        before = await snapshot(db)
        r = await client.post(
            URL,
            json=body(None, currency="RUB", renewal_target_ids=[club_plan["id"]]),
            headers=bearer(admin_token),
        )
        problem(r, 422, "invalid_renewal_target")
        assert await snapshot(db) == before

    async def test_unknown_renewal_target_is_not_found(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await client.post(
            URL, json=body(club_id, renewal_target_ids=[str(uuid.uuid4())]), headers=bearer(manager)
        )
        problem(r, 404, "plan_not_found")
        assert await snapshot(db) == before

    async def test_creation_is_audited(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database
    ) -> None:
        plan = await create_plan(client, manager, club_id)
        [entry] = await audit(db, plan["id"], "created")
        assert entry.changes["price"] == 3_500_000
        assert entry.actor_label == "staff:Mila Manager"


class TestListPlans:
    async def test_a_clubs_list_includes_chain_wide_plans(
        self,
        client: AsyncClient,
        admin_token: str,
        club_id: uuid.UUID,
        other_club: dict[str, Any],
    ) -> None:
        own = await create_plan(client, admin_token, club_id)
        chain = await create_plan(client, admin_token, None, currency="RUB")
        await create_plan(client, admin_token, other_club["id"])
        r = await client.get(URL, params={"club_id": str(club_id)}, headers=bearer(admin_token))
        assert r.status_code == 200
        assert {p["id"] for p in r.json()["items"]} == {own["id"], chain["id"]}

    async def test_club_staff_see_their_clubs_and_chain_wide_plans_only(
        self,
        client: AsyncClient,
        admin_token: str,
        desk: str,
        club_id: uuid.UUID,
        other_club: dict[str, Any],
    ) -> None:
        own = await create_plan(client, admin_token, club_id)
        chain = await create_plan(client, admin_token, None, currency="RUB")
        await create_plan(client, admin_token, other_club["id"])
        r = await client.get(URL, headers=bearer(desk))
        assert {p["id"] for p in r.json()["items"]} == {own["id"], chain["id"]}

    async def test_active_filter(
        self, client: AsyncClient, admin_token: str, club_id: uuid.UUID
    ) -> None:
        live = await create_plan(client, admin_token, club_id)
        retired = await create_plan(client, admin_token, club_id, active=False)
        h = bearer(admin_token)
        active = await client.get(URL, params={"active": "true"}, headers=h)
        inactive = await client.get(URL, params={"active": "false"}, headers=h)
        assert [p["id"] for p in active.json()["items"]] == [live["id"]]
        assert [p["id"] for p in inactive.json()["items"]] == [retired["id"]]

    async def test_another_clubs_list_is_not_found(
        self, client: AsyncClient, desk: str, other_club: dict[str, Any]
    ) -> None:
        r = await client.get(URL, params={"club_id": other_club["id"]}, headers=bearer(desk))
        problem(r, 404, "club_not_found")

    async def test_pages_follow_the_cursor(
        self, client: AsyncClient, admin_token: str, club_id: uuid.UUID
    ) -> None:
        ids = [
            (await create_plan(client, admin_token, club_id, name=f"P{i}"))["id"] for i in range(3)
        ]
        h = bearer(admin_token)
        first = (await client.get(URL, params={"limit": 2}, headers=h)).json()
        second = (
            await client.get(URL, params={"limit": 2, "cursor": first["next_cursor"]}, headers=h)
        ).json()
        assert [p["id"] for p in first["items"] + second["items"]] == ids
        assert second["next_cursor"] is None


class TestGetPlan:
    async def test_another_clubs_plan_is_not_found(
        self, client: AsyncClient, admin_token: str, desk: str, other_club: dict[str, Any]
    ) -> None:
        foreign = await create_plan(client, admin_token, other_club["id"])
        problem(
            await client.get(f"{URL}/{foreign['id']}", headers=bearer(desk)), 404, "plan_not_found"
        )

    async def test_chain_wide_plans_are_visible_to_club_staff(
        self, client: AsyncClient, admin_token: str, desk: str
    ) -> None:
        chain = await create_plan(client, admin_token, None, currency="RUB")
        r = await client.get(f"{URL}/{chain['id']}", headers=bearer(desk))
        assert r.status_code == 200
        assert r.json()["id"] == chain["id"]

    async def test_unknown_plan_is_not_found(self, client: AsyncClient, desk: str) -> None:
        problem(
            await client.get(f"{URL}/{uuid.uuid4()}", headers=bearer(desk)), 404, "plan_not_found"
        )


class TestUpdatePlan:
    async def test_price_change_is_applied_and_audited(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database
    ) -> None:
        plan = await create_plan(client, manager, club_id)
        r = await client.patch(
            f"{URL}/{plan['id']}", json={"price": 3_900_000}, headers=bearer(manager)
        )
        assert r.status_code == 200
        assert r.json()["price"] == 3_900_000
        [entry] = await audit(db, plan["id"], "updated")
        assert entry.changes == {"price": [3_500_000, 3_900_000]}

    async def test_only_sent_fields_change(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID
    ) -> None:
        plan = await create_plan(client, manager, club_id, visit_limit=10)
        r = await client.patch(
            f"{URL}/{plan['id']}", json={"active": False}, headers=bearer(manager)
        )
        assert r.json() == {**plan, "active": False, "updated_at": r.json()["updated_at"]}

    async def test_freeze_policy_and_hours_can_be_replaced(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID
    ) -> None:
        plan = await create_plan(client, manager, club_id)
        policy = {
            "max_freezes": 1,
            "min_days": 14,
            "max_days": 14,
            "max_total_days": 14,
            "fee": 500,
        }
        hours = [{"weekday": 7, "from": "10:00", "to": "16:00"}]
        r = await client.patch(
            f"{URL}/{plan['id']}",
            json={"freeze_policy": policy, "access_hours": hours, "visit_limit": None},
            headers=bearer(manager),
        )
        assert r.json()["freeze_policy"] == policy
        assert r.json()["access_hours"] == hours

    async def test_duration_cannot_be_changed(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database
    ) -> None:
        plan = await create_plan(client, manager, club_id)
        before = await snapshot(db)
        r = await client.patch(
            f"{URL}/{plan['id']}", json={"duration_months": 6}, headers=bearer(manager)
        )
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    @pytest.mark.parametrize("field", ["name", "price", "active"])
    async def test_required_fields_cannot_be_nulled(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database, field: str
    ) -> None:
        plan = await create_plan(client, manager, club_id)
        before = await snapshot(db)
        r = await client.patch(f"{URL}/{plan['id']}", json={field: None}, headers=bearer(manager))
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    async def test_negative_price_is_refused(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database
    ) -> None:
        plan = await create_plan(client, manager, club_id)
        before = await snapshot(db)
        r = await client.patch(f"{URL}/{plan['id']}", json={"price": -5}, headers=bearer(manager))
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    async def test_club_manager_cannot_change_a_chain_wide_plan(
        self, client: AsyncClient, admin_token: str, manager: str, db: Database
    ) -> None:
        chain = await create_plan(client, admin_token, None, currency="RUB")
        before = await snapshot(db)
        r = await client.patch(f"{URL}/{chain['id']}", json={"price": 1}, headers=bearer(manager))
        problem(r, 403, "forbidden")
        assert await snapshot(db) == before

    async def test_another_clubs_plan_cannot_be_changed(
        self,
        client: AsyncClient,
        admin_token: str,
        db: Database,
        other_club: dict[str, Any],
        club_id: uuid.UUID,
    ) -> None:
        foreign = await create_plan(client, admin_token, other_club["id"])
        other_manager = await make_token(db, "manager", club_ids=[club_id])
        before = await snapshot(db)
        r = await client.patch(
            f"{URL}/{foreign['id']}", json={"price": 1}, headers=bearer(other_manager)
        )
        problem(r, 404, "plan_not_found")
        assert await snapshot(db) == before
