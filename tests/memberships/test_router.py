"""Memberships over HTTP: selling, reading, listing, updating and cancelling."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.clock import freeze
from app.db import Database
from app.models import Member
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member
from tests.memberships.helpers import (
    NOW,
    TODAY,
    audit,
    create_plan,
    events,
    freeze_membership,
    problem,
    sell,
    snapshot,
    sold,
)

URL = "/api/v1/memberships"


class TestSell:
    async def test_sale_returns_the_contract_fields(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member
    ) -> None:
        r = await sell(client, desk, member.id, plan["id"], TODAY, special_conditions="Pool")
        assert r.status_code == 201, r.text
        m = r.json()
        expected = {
            "member_id": str(member.id),
            "plan_id": plan["id"],
            "start_date": "2026-03-10",
            "end_date": "2027-03-09",
            "status": "active",
            "list_price": 3_500_000,
            "price_paid": 3_500_000,
            "promotion_id": None,
            "source": "new",
            "currency": "RUB",
            "renews_id": None,
            "special_conditions": "Pool",
            "frozen_days": 0,
            "bonus_days": 0,
            "cancelled_at": None,
            "cancel_reason": None,
        }
        assert {k: m[k] for k in expected} == expected
        assert {"id", "sold_by_id", "created_at"} <= m.keys()
        assert r.headers["location"] == f"{URL}/{m['id']}"
        assert r.headers["etag"] == f'"{uuid.UUID(m["id"]).hex}-1"'

    @pytest.mark.parametrize(
        ("start", "plan_duration", "end"),
        [
            ("2027-01-31", {"duration_months": 1}, "2027-02-28"),
            ("2028-01-31", {"duration_months": 1}, "2028-02-29"),
            ("2026-04-15", {"duration_months": 1}, "2026-05-14"),
            ("2028-02-29", {"duration_months": 1}, "2028-03-28"),
            ("2028-02-29", {"duration_months": 12}, "2029-02-28"),
            ("2024-02-29", {"duration_months": 48}, "2028-02-28"),
            ("2026-03-10", {"duration_days": 30, "duration_months": None}, "2026-04-08"),
        ],
        ids=[
            "31jan_common",
            "31jan_leap",
            "mid_month",
            "29feb_plus_1",
            "29feb_plus_12_to_common_year",
            "29feb_plus_48_to_leap_year",
            "30_days",
        ],
    )
    async def test_end_date_follows_the_term_rule(
        self,
        client: AsyncClient,
        admin_token: str,
        club_id: uuid.UUID,
        member: Member,
        start: str,
        plan_duration: dict[str, Any],
        end: str,
    ) -> None:
        plan = await create_plan(client, admin_token, club_id, **plan_duration)
        r = await sell(client, admin_token, member.id, plan["id"], start)
        assert r.status_code == 201, r.text
        assert r.json()["end_date"] == end
        assert r.json()["base_end_date"] == end

    async def test_price_defaults_to_the_list_price(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        assert m["price_paid"] == m["list_price"] == plan["price"]

    async def test_front_desk_may_state_the_list_price(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member
    ) -> None:
        r = await sell(client, desk, member.id, plan["id"], TODAY, price_paid=plan["price"])
        assert r.status_code == 201

    async def test_front_desk_may_not_set_another_price(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await sell(client, desk, member.id, plan["id"], TODAY, price_paid=1)
        problem(r, 403, "price_override_not_allowed")
        assert await snapshot(db) == before

    async def test_manager_may_set_another_price(
        self, client: AsyncClient, manager: str, plan: dict[str, Any], member: Member
    ) -> None:
        m = await sold(client, manager, member.id, plan["id"], TODAY, price_paid=3_000_000)
        assert m["price_paid"] == 3_000_000
        assert m["list_price"] == 3_500_000

    async def test_negative_price_paid_is_refused(
        self, client: AsyncClient, manager: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await sell(client, manager, member.id, plan["id"], TODAY, price_paid=-1)
        err = problem(r, 422, "validation_error")
        assert err["errors"][0]["pointer"] == "/price_paid"
        assert await snapshot(db) == before

    async def test_inactive_plan_is_not_sold(
        self,
        client: AsyncClient,
        admin_token: str,
        desk: str,
        club_id: uuid.UUID,
        member: Member,
        db: Database,
    ) -> None:
        plan = await create_plan(client, admin_token, club_id, active=False)
        before = await snapshot(db)
        problem(await sell(client, desk, member.id, plan["id"], TODAY), 422, "plan_inactive")
        assert await snapshot(db) == before

    async def test_chain_wide_plan_is_sold_in_any_club_of_its_currency(
        self, client: AsyncClient, admin_token: str, desk: str, member: Member
    ) -> None:
        chain = await create_plan(client, admin_token, None, currency="RUB")
        m = await sold(client, desk, member.id, chain["id"], TODAY)
        assert m["currency"] == "RUB"

    async def test_chain_wide_plan_in_another_currency_is_refused(
        self, client: AsyncClient, admin_token: str, desk: str, member: Member, db: Database
    ) -> None:
        chain = await create_plan(client, admin_token, None, currency="EUR")
        before = await snapshot(db)
        problem(await sell(client, desk, member.id, chain["id"], TODAY), 422, "currency_mismatch")
        assert await snapshot(db) == before

    async def test_another_clubs_plan_is_not_available(
        self,
        client: AsyncClient,
        admin_token: str,
        member: Member,
        other_club: dict[str, Any],
        db: Database,
    ) -> None:
        foreign = await create_plan(client, admin_token, other_club["id"])
        before = await snapshot(db)
        r = await sell(client, admin_token, member.id, foreign["id"], TODAY)
        problem(r, 422, "plan_not_available")
        assert await snapshot(db) == before

    async def test_a_plan_the_caller_cannot_see_is_not_found(
        self,
        client: AsyncClient,
        admin_token: str,
        desk: str,
        member: Member,
        other_club: dict[str, Any],
        db: Database,
    ) -> None:
        foreign = await create_plan(client, admin_token, other_club["id"])
        before = await snapshot(db)
        problem(await sell(client, desk, member.id, foreign["id"], TODAY), 404, "plan_not_found")
        assert await snapshot(db) == before

    async def test_unknown_plan_is_not_found(
        self, client: AsyncClient, desk: str, member: Member, db: Database
    ) -> None:
        before = await snapshot(db)
        problem(await sell(client, desk, member.id, uuid.uuid4(), TODAY), 404, "plan_not_found")
        assert await snapshot(db) == before

    async def test_unknown_member_is_not_found(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], db: Database
    ) -> None:
        before = await snapshot(db)
        r = await sell(client, desk, uuid.uuid4(), plan["id"], TODAY)
        problem(r, 404, "member_not_found")
        assert await snapshot(db) == before

    async def test_another_clubs_member_is_not_found(
        self,
        client: AsyncClient,
        desk: str,
        plan: dict[str, Any],
        other_club: dict[str, Any],
        db: Database,
    ) -> None:
        stranger = await make_member(db, other_club["id"])
        before = await snapshot(db)
        problem(await sell(client, desk, stranger.id, plan["id"], TODAY), 404, "member_not_found")
        assert await snapshot(db) == before

    async def test_erased_member_is_refused(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], club_id: uuid.UUID, db: Database
    ) -> None:
        erased = await make_member(db, club_id, erased_at=NOW)
        before = await snapshot(db)
        problem(await sell(client, desk, erased.id, plan["id"], TODAY), 422, "member_erased")
        assert await snapshot(db) == before

    @pytest.mark.parametrize(
        "start",
        ["10/03/2026", "2026-02-30", "2026-03-10T00:00:00", 1773100800, "", None, "tomorrow"],
    )
    async def test_start_date_must_be_a_calendar_date(
        self,
        client: AsyncClient,
        desk: str,
        plan: dict[str, Any],
        member: Member,
        db: Database,
        start: Any,
    ) -> None:
        before = await snapshot(db)
        body = {"member_id": str(member.id), "plan_id": plan["id"], "start_date": start}
        r = await client.post(URL, json=body, headers=bearer(desk))
        err = problem(r, 422, "validation_error")
        assert err["errors"][0]["pointer"] == "/start_date"
        assert await snapshot(db) == before

    async def test_front_desk_may_start_today_or_later(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member
    ) -> None:
        today = await sold(client, desk, member.id, plan["id"], TODAY)
        later = await sold(client, desk, member.id, plan["id"], TODAY + timedelta(days=30))
        assert today["status"] == "active"
        assert later["status"] == "pending"

    async def test_front_desk_may_not_backdate(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await sell(client, desk, member.id, plan["id"], TODAY - timedelta(days=1))
        problem(r, 403, "backdating_not_allowed")
        assert await snapshot(db) == before

    async def test_manager_may_enter_history(
        self, client: AsyncClient, manager: str, plan: dict[str, Any], member: Member
    ) -> None:
        m = await sold(client, manager, member.id, plan["id"], date(2024, 1, 15))
        assert m["end_date"] == "2025-01-14"
        assert m["status"] == "expired"

    @pytest.mark.parametrize("start", ["1999-12-31", "2028-03-11", "9999-12-31"])
    async def test_start_date_out_of_range_is_refused(
        self,
        client: AsyncClient,
        admin_token: str,
        plan: dict[str, Any],
        member: Member,
        db: Database,
        start: str,
    ) -> None:
        before = await snapshot(db)
        r = await sell(client, admin_token, member.id, plan["id"], start)
        err = problem(r, 422, "validation_error")
        assert err["errors"][0]["pointer"] == "/start_date"
        assert await snapshot(db) == before

    async def test_unknown_fields_are_refused(
        self, client: AsyncClient, manager: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await sell(client, manager, member.id, plan["id"], TODAY, end_date="2030-01-01")
        err = problem(r, 422, "validation_error")
        assert err["errors"] == [{"pointer": "/end_date", "detail": "Unknown field"}]
        assert await snapshot(db) == before

    async def test_nul_in_special_conditions_is_refused(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await sell(client, desk, member.id, plan["id"], TODAY, special_conditions="a\x00b")
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    async def test_unknown_promotion_is_not_found(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await sell(client, desk, member.id, plan["id"], TODAY, promotion_id=str(uuid.uuid4()))
        problem(r, 404, "promotion_not_found")
        assert await snapshot(db) == before

    async def test_unknown_source_is_refused(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await sell(client, desk, member.id, plan["id"], TODAY, source="phone")
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    async def test_seller_defaults_to_the_staff_member_selling(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        [entry] = await audit(db, m["id"], "created")
        assert entry.actor_label == "staff:Dan Desk"
        assert m["sold_by_id"] == str(entry.actor_staff_id)

    async def test_explicit_null_seller_is_kept(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY, sold_by_id=None)
        assert m["sold_by_id"] is None

    async def test_seller_must_work_for_the_members_club(
        self,
        client: AsyncClient,
        admin_token: str,
        plan: dict[str, Any],
        member: Member,
        other_club: dict[str, Any],
        db: Database,
    ) -> None:
        await make_token(db, "front_desk", club_ids=[uuid.UUID(other_club["id"])], name="Far")
        [far] = (
            await client.get(
                "/api/v1/staff", params={"club_id": other_club["id"]}, headers=bearer(admin_token)
            )
        ).json()["items"]
        before = await snapshot(db)
        r = await sell(client, admin_token, member.id, plan["id"], TODAY, sold_by_id=far["id"])
        err = problem(r, 422, "validation_error")
        assert err["errors"][0]["pointer"] == "/sold_by_id"
        assert await snapshot(db) == before

    async def test_unknown_seller_is_not_found(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        before = await snapshot(db)
        r = await sell(client, desk, member.id, plan["id"], TODAY, sold_by_id=str(uuid.uuid4()))
        problem(r, 404, "staff_not_found")
        assert await snapshot(db) == before

    async def test_sale_emits_membership_created(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        [event] = await events(db, "membership.created")
        assert event.data["membership_id"] == m["id"]
        assert event.data["member_id"] == str(member.id)
        assert event.data["end_date"] == "2027-03-09"
        assert event.club_id == member.club_id

    async def test_sale_is_audited_with_its_money(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        [entry] = await audit(db, m["id"], "created")
        assert entry.changes["price_paid"] == 3_500_000
        assert entry.changes["end_date"] == "2027-03-09"

    async def test_a_retried_sale_with_the_same_key_sells_once(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        headers = {**bearer(desk), "Idempotency-Key": "sale-42"}
        body = {"member_id": str(member.id), "plan_id": plan["id"], "start_date": "2026-03-10"}
        first = await client.post(URL, json=body, headers=headers)
        again = await client.post(URL, json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert (await snapshot(db))["counts"]["memberships"] == 1

    async def test_trainer_may_not_sell(
        self,
        client: AsyncClient,
        db: Database,
        club_id: uuid.UUID,
        plan: dict[str, Any],
        member: Member,
    ) -> None:
        trainer = await make_token(db, "trainer", club_ids=[club_id])
        before = await snapshot(db)
        problem(await sell(client, trainer, member.id, plan["id"], TODAY), 403, "forbidden")
        assert await snapshot(db) == before


class TestGet:
    async def test_get_carries_an_etag_that_changes_with_the_membership(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        first = await client.get(f"{URL}/{m['id']}", headers=bearer(desk))
        assert first.status_code == 200
        assert first.json() == m
        await freeze_membership(client, desk, m["id"], date(2026, 4, 1), date(2026, 4, 10))
        second = await client.get(f"{URL}/{m['id']}", headers=bearer(desk))
        assert first.headers["etag"] != second.headers["etag"]
        assert second.json()["end_date"] == "2027-03-19"

    async def test_another_clubs_membership_is_not_found(
        self,
        client: AsyncClient,
        admin_token: str,
        desk: str,
        other_club: dict[str, Any],
        db: Database,
    ) -> None:
        stranger = await make_member(db, other_club["id"])
        foreign_plan = await create_plan(client, admin_token, other_club["id"])
        m = await sold(client, admin_token, stranger.id, foreign_plan["id"], TODAY)
        r = await client.get(f"{URL}/{m['id']}", headers=bearer(desk))
        problem(r, 404, "membership_not_found")

    async def test_unknown_membership_is_not_found(self, client: AsyncClient, desk: str) -> None:
        r = await client.get(f"{URL}/{uuid.uuid4()}", headers=bearer(desk))
        problem(r, 404, "membership_not_found")

    async def test_a_member_pinned_token_reads_only_that_members_memberships(
        self,
        client: AsyncClient,
        admin_token: str,
        desk: str,
        club_id: uuid.UUID,
        plan: dict[str, Any],
        member: Member,
        db: Database,
    ) -> None:
        sibling = await make_member(db, club_id)
        mine = await sold(client, desk, member.id, plan["id"], TODAY)
        theirs = await sold(client, desk, sibling.id, plan["id"], TODAY)
        issued = await client.post(
            "/api/v1/tokens",
            json={
                "name": "Member app",
                "club_id": str(club_id),
                "scopes": ["memberships:read"],
                "member_id": str(member.id),
            },
            headers=bearer(admin_token),
        )
        app_token = issued.json()["token"]
        ok = await client.get(f"{URL}/{mine['id']}", headers=bearer(app_token))
        assert ok.status_code == 200
        problem(
            await client.get(f"{URL}/{theirs['id']}", headers=bearer(app_token)),
            404,
            "membership_not_found",
        )
        listed = await client.get(URL, headers=bearer(app_token))
        assert [m["id"] for m in listed.json()["items"]] == [mine["id"]]
        other = await client.get(
            URL, params={"member_id": str(sibling.id)}, headers=bearer(app_token)
        )
        assert other.json()["items"] == []


class TestList:
    async def test_lists_a_members_memberships_newest_first(
        self,
        client: AsyncClient,
        manager: str,
        plan: dict[str, Any],
        member: Member,
        club_id: uuid.UUID,
        db: Database,
    ) -> None:
        other = await make_member(db, club_id)
        old = await sold(client, manager, member.id, plan["id"], date(2025, 3, 10))
        new = await sold(client, manager, member.id, plan["id"], TODAY)
        await sold(client, manager, other.id, plan["id"], TODAY)
        r = await client.get(URL, params={"member_id": str(member.id)}, headers=bearer(manager))
        assert [m["id"] for m in r.json()["items"]] == [new["id"], old["id"]]
        assert [m["status"] for m in r.json()["items"]] == ["active", "expired"]

    @pytest.mark.parametrize("status", ["pending", "active", "frozen", "expired", "cancelled"])
    async def test_status_filter_matches_the_derived_status(
        self,
        client: AsyncClient,
        manager: str,
        plan: dict[str, Any],
        club_id: uuid.UUID,
        db: Database,
        status: str,
    ) -> None:
        made: dict[str, str] = {}
        for name, start in [
            ("pending", TODAY + timedelta(days=1)),
            ("active", TODAY),
            ("frozen", TODAY - timedelta(days=30)),
            ("expired", date(2024, 1, 1)),
            ("cancelled", TODAY - timedelta(days=5)),
        ]:
            who = await make_member(db, club_id)
            made[name] = (await sold(client, manager, who.id, plan["id"], start))["id"]
        r = await freeze_membership(client, manager, made["frozen"], TODAY, TODAY + timedelta(9))
        assert r.status_code == 201, r.text
        r = await client.post(
            f"{URL}/{made['cancelled']}/cancel", json={"reason": "moved"}, headers=bearer(manager)
        )
        assert r.status_code == 200, r.text
        r = await client.get(URL, params={"status": status}, headers=bearer(manager))
        assert r.status_code == 200
        assert [(m["id"], m["status"]) for m in r.json()["items"]] == [(made[status], status)]

    async def test_each_club_is_judged_by_its_own_local_today(
        self, client: AsyncClient, admin_token: str, db: Database
    ) -> None:
        moscow = await make_club(client, admin_token, name="Moscow", timezone="Europe/Moscow")
        honolulu = await make_club(
            client, admin_token, name="Honolulu", timezone="Pacific/Honolulu", currency="RUB"
        )
        ids = {}
        for club in (moscow, honolulu):
            p = await create_plan(client, admin_token, club["id"])
            who = await make_member(db, club["id"])
            ids[club["name"]] = (await sold(client, admin_token, who.id, p["id"], TODAY))["id"]
        # 02:00 UTC on 10 March: 05:00 on the 10th in Moscow, 16:00 on the 9th in Honolulu.
        with freeze(datetime(2026, 3, 10, 2, 0, tzinfo=UTC)):
            active = await client.get(URL, params={"status": "active"}, headers=bearer(admin_token))
            pending = await client.get(
                URL, params={"status": "pending"}, headers=bearer(admin_token)
            )
        assert [m["id"] for m in active.json()["items"]] == [ids["Moscow"]]
        assert [m["id"] for m in pending.json()["items"]] == [ids["Honolulu"]]
        assert pending.json()["items"][0]["status"] == "pending"

    async def test_club_staff_see_only_their_clubs_memberships(
        self,
        client: AsyncClient,
        admin_token: str,
        desk: str,
        plan: dict[str, Any],
        member: Member,
        other_club: dict[str, Any],
        db: Database,
    ) -> None:
        mine = await sold(client, desk, member.id, plan["id"], TODAY)
        stranger = await make_member(db, other_club["id"])
        foreign_plan = await create_plan(client, admin_token, other_club["id"])
        await sold(client, admin_token, stranger.id, foreign_plan["id"], TODAY)
        r = await client.get(URL, headers=bearer(desk))
        assert [m["id"] for m in r.json()["items"]] == [mine["id"]]
        everything = await client.get(URL, headers=bearer(admin_token))
        assert len(everything.json()["items"]) == 2

    async def test_another_clubs_filter_is_not_found(
        self, client: AsyncClient, desk: str, other_club: dict[str, Any]
    ) -> None:
        r = await client.get(URL, params={"club_id": other_club["id"]}, headers=bearer(desk))
        problem(r, 404, "club_not_found")

    async def test_unknown_status_is_refused(self, client: AsyncClient, desk: str) -> None:
        problem(
            await client.get(URL, params={"status": "lapsed"}, headers=bearer(desk)),
            422,
            "validation_error",
        )

    async def test_pages_follow_the_cursor(
        self,
        client: AsyncClient,
        manager: str,
        plan: dict[str, Any],
        member: Member,
    ) -> None:
        ids = [
            (await sold(client, manager, member.id, plan["id"], TODAY + timedelta(days=i)))["id"]
            for i in range(3)
        ]
        h = bearer(manager)
        first = (await client.get(URL, params={"limit": 2}, headers=h)).json()
        second = (
            await client.get(URL, params={"limit": 2, "cursor": first["next_cursor"]}, headers=h)
        ).json()
        assert [m["id"] for m in first["items"] + second["items"]] == ids[::-1]
        assert second["next_cursor"] is None

    async def test_a_tampered_cursor_is_refused(self, client: AsyncClient, desk: str) -> None:
        r = await client.get(URL, params={"cursor": "abc.def"}, headers=bearer(desk))
        problem(r, 422, "invalid_cursor")


class TestUpdate:
    async def test_special_conditions_change_with_if_match(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        r = await sell(client, desk, member.id, plan["id"], TODAY)
        etag = r.headers["etag"]
        upd = await client.patch(
            f"{URL}/{r.json()['id']}",
            json={"special_conditions": "Towel service"},
            headers={**bearer(desk), "If-Match": etag},
        )
        assert upd.status_code == 200, upd.text
        assert upd.json()["special_conditions"] == "Towel service"
        assert upd.headers["etag"] != etag
        [entry] = await audit(db, r.json()["id"], "updated")
        assert entry.changes == {"special_conditions": [None, "Towel service"]}

    async def test_stale_if_match_is_refused(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        r = await sell(client, desk, member.id, plan["id"], TODAY)
        stale = r.headers["etag"]
        await client.patch(
            f"{URL}/{r.json()['id']}", json={"special_conditions": "A"}, headers=bearer(desk)
        )
        before = await snapshot(db)
        again = await client.patch(
            f"{URL}/{r.json()['id']}",
            json={"special_conditions": "B"},
            headers={**bearer(desk), "If-Match": stale},
        )
        problem(again, 412, "precondition_failed")
        assert await snapshot(db) == before

    async def test_only_conditions_and_seller_may_change(
        self, client: AsyncClient, manager: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, manager, member.id, plan["id"], TODAY)
        before = await snapshot(db)
        r = await client.patch(f"{URL}/{m['id']}", json={"price_paid": 1}, headers=bearer(manager))
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    async def test_seller_can_be_cleared(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        r = await client.patch(f"{URL}/{m['id']}", json={"sold_by_id": None}, headers=bearer(desk))
        assert r.json()["sold_by_id"] is None


class TestCancel:
    async def cancel(self, client: AsyncClient, token: str, mid: str, **headers: str) -> Any:
        return await client.post(
            f"{URL}/{mid}/cancel",
            json={"reason": "Moved away"},
            headers={**bearer(token), **headers},
        )

    async def test_cancel_sets_status_and_reason(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        r = await self.cancel(client, desk, m["id"])
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "cancelled"
        assert r.json()["cancel_reason"] == "Moved away"
        assert r.json()["cancelled_at"] == "2026-03-10T06:00:00Z"
        [event] = await events(db, "membership.cancelled")
        assert event.data["membership_id"] == m["id"]
        assert event.data["reason"] == "Moved away"
        assert await audit(db, m["id"], "cancelled")

    async def test_cancelling_twice_conflicts(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        await self.cancel(client, desk, m["id"])
        before = await snapshot(db)
        problem(await self.cancel(client, desk, m["id"]), 409, "membership_already_cancelled")
        assert await snapshot(db) == before

    async def test_stale_if_match_is_refused(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        r = await sell(client, desk, member.id, plan["id"], TODAY)
        stale = r.headers["etag"]
        await freeze_membership(client, desk, r.json()["id"], date(2026, 4, 1), date(2026, 4, 10))
        before = await snapshot(db)
        problem(
            await self.cancel(client, desk, r.json()["id"], **{"If-Match": stale}),
            412,
            "precondition_failed",
        )
        assert await snapshot(db) == before

    async def test_current_if_match_is_accepted(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member
    ) -> None:
        r = await sell(client, desk, member.id, plan["id"], TODAY)
        ok = await self.cancel(client, desk, r.json()["id"], **{"If-Match": r.headers["etag"]})
        assert ok.status_code == 200

    async def test_if_match_is_required_when_configured(
        self,
        client: AsyncClient,
        desk: str,
        plan: dict[str, Any],
        member: Member,
        db: Database,
        app: Any,
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        app.state.settings = app.state.settings.model_copy(update={"require_if_match": True})
        before = await snapshot(db)
        problem(await self.cancel(client, desk, m["id"]), 428, "precondition_required")
        assert await snapshot(db) == before

    async def test_expired_membership_cannot_be_cancelled(
        self, client: AsyncClient, manager: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, manager, member.id, plan["id"], date(2024, 1, 1))
        before = await snapshot(db)
        problem(await self.cancel(client, manager, m["id"]), 422, "membership_not_active")
        assert await snapshot(db) == before

    async def test_pending_membership_can_be_cancelled(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY + timedelta(days=10))
        assert (await self.cancel(client, desk, m["id"])).json()["status"] == "cancelled"

    @pytest.mark.parametrize("reason", ["", "x" * 501, "a\x00b"])
    async def test_a_reason_is_required(
        self,
        client: AsyncClient,
        desk: str,
        plan: dict[str, Any],
        member: Member,
        db: Database,
        reason: str,
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        before = await snapshot(db)
        r = await client.post(
            f"{URL}/{m['id']}/cancel", json={"reason": reason}, headers=bearer(desk)
        )
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    async def test_cancel_withdraws_scheduled_freezes_and_ends_the_running_one(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        running = await freeze_membership(client, desk, m["id"], TODAY, TODAY + timedelta(6))
        later = await freeze_membership(client, desk, m["id"], date(2026, 6, 1), date(2026, 6, 10))
        assert running.status_code == later.status_code == 201
        r = await self.cancel(client, desk, m["id"])
        assert r.json()["frozen_days"] == 7
        freezes = (await client.get(f"{URL}/{m['id']}/freezes", headers=bearer(desk))).json()[
            "items"
        ]
        assert [f["status"] for f in freezes] == ["running", "cancelled"]
        [ended] = await events(db, "freeze.ended")
        assert ended.data["freeze_id"] == running.json()["id"]

    async def test_another_clubs_membership_cannot_be_cancelled(
        self,
        client: AsyncClient,
        admin_token: str,
        desk: str,
        other_club: dict[str, Any],
        db: Database,
    ) -> None:
        stranger = await make_member(db, other_club["id"])
        foreign_plan = await create_plan(client, admin_token, other_club["id"])
        m = await sold(client, admin_token, stranger.id, foreign_plan["id"], TODAY)
        before = await snapshot(db)
        problem(await self.cancel(client, desk, m["id"]), 404, "membership_not_found")
        assert await snapshot(db) == before
