"""Promotions over HTTP: creation rules, bad input, listing, visibility and updates."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from app.models import AuditEntry, Promotion
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_plan
from tests.promotions.conftest import World


class TestCreatePromotion:
    async def test_created_with_its_terms(self, world: World) -> None:
        p = await world.create_promotion(
            plan_ids=[str(world.plan.id)], max_uses=10, max_uses_per_member=1
        )
        assert p["kind"] == "both"
        assert p["discount_percent"] == 10
        assert p["discount_amount"] is None
        assert p["plan_ids"] == [str(world.plan.id)]
        assert p["valid_from"] == "2026-03-01"
        assert p["valid_until"] == "2026-03-31"
        assert p["active"] is True
        assert p["uses"] == 0

    async def test_creation_is_audited(self, world: World) -> None:
        p = await world.create_promotion()
        async with world.db.sessionmaker() as s:
            entry = (
                await s.scalars(select(AuditEntry).where(AuditEntry.entity_id == p["id"]))
            ).one()
        assert entry.action == "created"
        assert entry.changes["discount_percent"] == 10

    @pytest.mark.parametrize(
        ("overrides", "pointer"),
        [
            ({"discount_percent": 101}, "/discount_percent"),
            ({"discount_percent": 0}, "/discount_percent"),
            ({"discount_percent": -5}, "/discount_percent"),
            ({"discount_percent": None, "discount_amount": -100}, "/discount_amount"),
            ({"discount_percent": None, "discount_amount": 0}, "/discount_amount"),
            ({"discount_percent": None, "bonus_days": 0}, "/bonus_days"),
            ({"discount_percent": None, "free_sessions": -1}, "/free_sessions"),
            ({"kind": "gift"}, "/kind"),
            ({"valid_from": "2026-03-01T00:00:00Z"}, "/valid_from"),
            ({"max_uses": 0}, "/max_uses"),
        ],
    )
    async def test_out_of_range_terms_are_422_and_nothing_is_written(
        self, world: World, overrides: dict[str, Any], pointer: str
    ) -> None:
        before = await world.counts()
        r = await world.post_promotion(**overrides)
        assert r.status_code == 422
        assert r.json()["code"] == "validation_error"
        assert pointer in [e["pointer"] for e in r.json()["errors"]]
        assert await world.counts() == before

    async def test_two_discount_kinds_at_once_are_refused(self, world: World) -> None:
        before = await world.counts()
        r = await world.post_promotion(discount_percent=10, bonus_days=30)
        assert r.status_code == 422
        assert r.json()["code"] == "validation_error"
        assert r.json()["errors"][0]["pointer"] == "/bonus_days"
        assert await world.counts() == before

    async def test_no_discount_at_all_is_refused(self, world: World) -> None:
        before = await world.counts()
        r = await world.post_promotion(discount_percent=None)
        assert r.status_code == 422
        assert r.json()["code"] == "validation_error"
        assert await world.counts() == before

    async def test_valid_until_before_valid_from_is_refused(self, world: World) -> None:
        before = await world.counts()
        r = await world.post_promotion(valid_from="2026-03-10", valid_until="2026-03-09")
        assert r.status_code == 422
        assert r.json()["code"] == "validation_error"
        assert r.json()["errors"][0]["pointer"] == "/valid_until"
        assert await world.counts() == before

    async def test_session_value_needs_free_sessions(self, world: World) -> None:
        r = await world.post_promotion(session_value=1000)
        assert r.status_code == 422
        assert r.json()["errors"][0]["pointer"] == "/session_value"

    async def test_plan_of_another_club_is_refused(self, world: World, admin_token: str) -> None:
        other = await make_club(world.client, admin_token, name="Other")
        foreign = await make_plan(world.db, other["id"])
        before = await world.counts()
        r = await world.post_promotion(plan_ids=[str(world.plan.id), str(foreign.id)])
        assert r.status_code == 422
        assert r.json()["code"] == "plan_not_found"
        assert r.json()["errors"] == [
            {"pointer": "/plan_ids/1", "detail": "no such plan in this club"}
        ]
        assert await world.counts() == before

    async def test_chain_wide_plans_are_eligible(self, world: World) -> None:
        chain = await make_plan(world.db, None, name="Chain")
        p = await world.create_promotion(plan_ids=[str(chain.id)])
        assert p["plan_ids"] == [str(chain.id)]

    async def test_needs_promotions_write(self, world: World) -> None:
        caller = await make_token(world.db, "caller", club_ids=[world.club_id])
        r = await world.client.post(
            "/api/v1/promotions", json=world.promotion_body(), headers=bearer(caller)
        )
        assert r.status_code == 403
        assert await world.count(Promotion) == 0

    async def test_another_clubs_promotion_cannot_be_created(
        self, world: World, admin_token: str
    ) -> None:
        other = await make_club(world.client, admin_token, name="Other")
        r = await world.post_promotion(club_id=other["id"])
        assert r.status_code == 404
        assert r.json()["code"] == "club_not_found"


class TestReadPromotions:
    async def test_get_one(self, world: World) -> None:
        p = await world.create_promotion()
        r = await world.client.get(f"/api/v1/promotions/{p['id']}", headers=world.headers)
        assert r.status_code == 200
        assert r.json() == p

    async def test_another_clubs_promotion_is_404(self, world: World, admin_token: str) -> None:
        other = await make_club(world.client, admin_token, name="Other")
        r = await world.client.post(
            "/api/v1/promotions",
            json=world.promotion_body(club_id=other["id"]),
            headers=bearer(admin_token),
        )
        pid = r.json()["id"]
        r = await world.client.get(f"/api/v1/promotions/{pid}", headers=world.headers)
        assert r.status_code == 404
        assert r.json()["code"] == "promotion_not_found"
        listed = await world.client.get("/api/v1/promotions", headers=world.headers)
        assert pid not in [i["id"] for i in listed.json()["items"]]

    async def test_list_active_on_a_club_local_date(self, world: World) -> None:
        march = await world.create_promotion(name="March")
        april = await world.create_promotion(
            name="April", valid_from="2026-04-01", valid_until="2026-04-30"
        )
        await world.create_promotion(name="Off", active=False)
        r = await world.client.get(
            "/api/v1/promotions",
            params={"club_id": str(world.club_id), "active_on": "2026-03-31"},
            headers=world.headers,
        )
        assert [i["id"] for i in r.json()["items"]] == [march["id"]]
        r = await world.client.get(
            "/api/v1/promotions", params={"active_on": "2026-04-01"}, headers=world.headers
        )
        assert [i["id"] for i in r.json()["items"]] == [april["id"]]

    async def test_list_pages_with_a_cursor(self, world: World) -> None:
        ids = [(await world.create_promotion(name=f"P{i}"))["id"] for i in range(3)]
        first = await world.client.get(
            "/api/v1/promotions", params={"limit": 2}, headers=world.headers
        )
        second = await world.client.get(
            "/api/v1/promotions",
            params={"limit": 2, "cursor": first.json()["next_cursor"]},
            headers=world.headers,
        )
        got = [i["id"] for i in first.json()["items"] + second.json()["items"]]
        assert got == ids
        assert second.json()["next_cursor"] is None

    async def test_callers_may_read(self, world: World) -> None:
        await world.create_promotion()
        caller = await make_token(world.db, "caller", club_ids=[world.club_id])
        r = await world.client.get("/api/v1/promotions", headers=bearer(caller))
        assert r.status_code == 200
        assert len(r.json()["items"]) == 1


class TestUpdatePromotion:
    async def test_only_sent_fields_change_and_it_is_audited(self, world: World) -> None:
        p = await world.create_promotion()
        r = await world.client.patch(
            f"/api/v1/promotions/{p['id']}",
            json={"valid_until": "2026-04-15", "max_uses": 5},
            headers=world.headers,
        )
        assert r.status_code == 200
        body = r.json()
        assert (body["valid_until"], body["max_uses"], body["name"]) == (
            "2026-04-15",
            5,
            p["name"],
        )
        async with world.db.sessionmaker() as s:
            entry = (
                await s.scalars(
                    select(AuditEntry).where(
                        AuditEntry.entity_id == p["id"], AuditEntry.action == "updated"
                    )
                )
            ).one()
        assert entry.changes["valid_until"] == ["2026-03-31", "2026-04-15"]

    async def test_switching_the_discount_kind_needs_the_old_one_cleared(
        self, world: World
    ) -> None:
        p = await world.create_promotion()
        url = f"/api/v1/promotions/{p['id']}"
        r = await world.client.patch(url, json={"bonus_days": 30}, headers=world.headers)
        assert r.status_code == 422
        assert r.json()["code"] == "validation_error"
        r = await world.client.patch(
            url, json={"bonus_days": 30, "discount_percent": None}, headers=world.headers
        )
        assert r.status_code == 200
        assert (r.json()["bonus_days"], r.json()["discount_percent"]) == (30, None)

    async def test_dates_are_checked_against_the_stored_ones(self, world: World) -> None:
        p = await world.create_promotion()
        r = await world.client.patch(
            f"/api/v1/promotions/{p['id']}",
            json={"valid_until": "2026-02-01"},
            headers=world.headers,
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["pointer"] == "/valid_until"
        got = await world.client.get(f"/api/v1/promotions/{p['id']}", headers=world.headers)
        assert got.json()["valid_until"] == "2026-03-31"

    async def test_required_fields_cannot_be_nulled(self, world: World) -> None:
        p = await world.create_promotion()
        r = await world.client.patch(
            f"/api/v1/promotions/{p['id']}", json={"name": None}, headers=world.headers
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["pointer"] == "/name"

    async def test_club_cannot_be_changed(self, world: World) -> None:
        p = await world.create_promotion()
        r = await world.client.patch(
            f"/api/v1/promotions/{p['id']}",
            json={"club_id": str(uuid.uuid4())},
            headers=world.headers,
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["detail"] == "Unknown field"


class TestDates:
    @pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "2026-3-1", "20260301"])
    async def test_dates_out_of_range_or_form_are_422(self, world: World, value: str) -> None:
        r = await world.post_promotion(valid_from=value)
        assert r.status_code == 422
        assert r.json()["errors"][0]["pointer"] == "/valid_from"
        q = await world.quote(on_date=value)
        assert q.status_code == 422
        assert q.json()["errors"][0]["pointer"] == "/on_date"
