"""Renewals: the new membership, its source, start, price, links, events and refusals."""

from __future__ import annotations

import uuid
from datetime import date

from app.models import Plan
from tests.fixtures.desk import Desk
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_membership, make_plan
from tests.fixtures.meetings import meeting_for
from tests.memberships.helpers import audit, events, problem

RENEWAL_FIELDS = {
    "id",
    "member_id",
    "plan_id",
    "start_date",
    "end_date",
    "status",
    "list_price",
    "price_paid",
    "promotion_id",
    "source",
    "renews_id",
}


class TestRenew:
    async def test_same_plan_starts_the_day_after_the_current_end(self, desk: Desk) -> None:
        meeting = (
            await meeting_for(
                desk.client, desk.manager, desk.club_id, desk.member, "2026-03-10T10:00:00+03:00"
            )
        )["id"]
        r = await desk.renew(meeting_id=meeting)
        assert r.status_code == 201, r.text
        body = r.json()
        assert set(body) >= RENEWAL_FIELDS
        assert body["source"] == "renewal"
        assert body["start_date"] == "2027-03-10"
        assert body["end_date"] == "2028-03-09"
        assert body["status"] == "pending"
        assert body["renews_id"] == desk.membership["id"]
        assert body["meeting_id"] == meeting
        assert (body["list_price"], body["price_paid"], body["promotion_id"]) == (
            3_500_000,
            3_500_000,
            None,
        )
        assert r.headers["etag"]

    async def test_expired_membership_renews_from_today(self, desk: Desk) -> None:
        plan = await _plan(desk, desk.year["id"])
        old = await make_membership(
            desk.db,
            desk.member,
            plan,
            start_date=date(2025, 3, 1),
            end_date=date(2026, 2, 28),
        )
        r = await desk.renew(old.id)
        assert r.status_code == 201, r.text
        assert r.json()["start_date"] == "2026-03-10"
        assert r.json()["status"] == "active"

    async def test_upgrade_and_downgrade_go_by_list_price(self, desk: Desk) -> None:
        up = await desk.renew(plan_id=desk.premium["id"])
        assert up.json()["source"] == "upgrade"
        assert up.json()["price_paid"] == 5_000_000
        plan = await _plan(desk, desk.year["id"])
        other = await make_membership(desk.db, desk.member, plan, start_date=date(2026, 1, 1))
        down = await desk.renew(other.id, plan_id=desk.basic["id"])
        assert down.json()["source"] == "downgrade"

    async def test_emits_membership_renewed_and_audits_the_old_membership(self, desk: Desk) -> None:
        r = await desk.renew()
        new = r.json()
        [event] = await events(desk.db, "membership.renewed")
        assert event.data["membership_id"] == new["id"]
        assert event.data["renews_id"] == desk.membership["id"]
        assert event.data["source"] == "renewal"
        assert event.club_id == desk.club_id
        [entry] = await audit(desk.db, desk.membership["id"], "renewed")
        assert entry.changes["renewed_by_id"] == new["id"]

    async def test_priced_like_the_quote_and_the_promotion_use_is_recorded(
        self, desk: Desk
    ) -> None:
        early = await desk.promotion(
            name="Renew early", kind="renewal", discount_percent=15, early_renewal_days=30
        )
        await desk.promotion(name="Newcomers", kind="purchase", discount_percent=25)
        quote = await desk.client.post(
            "/api/v1/quotes",
            json={"member_id": str(desk.member.id), "plan_id": desk.year["id"]},
            headers=desk.headers,
        )
        assert quote.json()["promotion"]["id"] == early["id"]
        r = await desk.renew()
        body = r.json()
        assert body["promotion_id"] == early["id"]
        assert body["price_paid"] == quote.json()["final_price"] == 2_975_000
        assert await desk.uses() == 1
        got = await desk.client.get(f"/api/v1/promotions/{early['id']}", headers=desk.headers)
        assert got.json()["uses"] == 1

    async def test_bonus_days_extend_the_new_term(self, desk: Desk) -> None:
        await desk.promotion(kind="renewal", discount_percent=None, bonus_days=30)
        body = (await desk.renew()).json()
        assert body["bonus_days"] == 30
        assert body["base_end_date"] == "2028-03-09"
        assert body["end_date"] == "2028-04-08"
        assert body["price_paid"] == 3_500_000

    async def test_a_named_promotion_is_used(self, desk: Desk) -> None:
        small = await desk.promotion(
            name="Small", kind="renewal", discount_percent=None, discount_amount=1_000
        )
        await desk.promotion(name="Big", kind="renewal", discount_percent=50)
        body = (await desk.renew(promotion_id=small["id"])).json()
        assert (body["promotion_id"], body["price_paid"]) == (small["id"], 3_499_000)


class TestRefusals:
    async def test_renewed_at_most_once(self, desk: Desk) -> None:
        assert (await desk.renew()).status_code == 201
        before = await desk.state()
        problem(await desk.renew(), 409, "already_renewed")
        assert await desk.state() == before

    async def test_cancelled_membership_cannot_be_renewed(self, desk: Desk) -> None:
        r = await desk.client.post(
            f"/api/v1/memberships/{desk.membership['id']}/cancel",
            json={"reason": "moved away"},
            headers=desk.headers,
        )
        assert r.status_code == 200, r.text
        before = await desk.state()
        problem(await desk.renew(), 422, "membership_not_active")
        assert await desk.state() == before

    async def test_plan_that_is_not_a_renewal_target_is_refused(self, desk: Desk) -> None:
        plan = await _plan(desk, desk.premium["id"])
        old = await make_membership(desk.db, desk.member, plan, start_date=date(2026, 1, 1))
        before = await desk.state()
        body = problem(
            await desk.renew(old.id, plan_id=desk.basic["id"]), 422, "plan_not_renewable"
        )
        assert body["errors"][0]["pointer"] == "/plan_id"
        assert await desk.state() == before

    async def test_plan_of_another_club_is_refused(self, desk: Desk, admin_token: str) -> None:
        other = await make_club(desk.client, admin_token, name="Harbour", currency="RUB")
        foreign = await make_plan(desk.db, other["id"], name="Foreign")
        before = await desk.state()
        # The club's manager cannot see it at all; a chain-wide admin is told it is not sold here.
        problem(await desk.renew(plan_id=str(foreign.id)), 404, "plan_not_found")
        problem(
            await desk.renew(plan_id=str(foreign.id), headers=bearer(admin_token)),
            422,
            "plan_not_available",
        )
        assert await desk.state() == before

    async def test_expired_named_promotion_is_refused(self, desk: Desk) -> None:
        p = await desk.promotion(kind="renewal", valid_from="2026-02-01", valid_until="2026-03-09")
        before = await desk.state()
        body = problem(await desk.renew(promotion_id=p["id"]), 422, "promotion_expired")
        assert body["reason"] == "expired"
        assert await desk.state() == before

    async def test_purchase_only_promotion_is_not_eligible(self, desk: Desk) -> None:
        p = await desk.promotion(kind="purchase")
        before = await desk.state()
        body = problem(await desk.renew(promotion_id=p["id"]), 422, "promotion_not_eligible")
        assert body["reason"] == "wrong_kind"
        assert await desk.state() == before

    async def test_another_clubs_membership_is_404(self, desk: Desk, admin_token: str) -> None:
        other = await make_club(desk.client, admin_token, name="Harbour")
        stranger = await make_token(desk.db, "manager", club_ids=[uuid.UUID(other["id"])])
        before = await desk.state()
        problem(await desk.renew(headers=bearer(stranger)), 404, "membership_not_found")
        assert await desk.state() == before

    async def test_needs_memberships_write(self, desk: Desk) -> None:
        caller = await make_token(desk.db, "caller", club_ids=[desk.club_id])
        before = await desk.state()
        problem(await desk.renew(headers=bearer(caller)), 403, "forbidden")
        assert await desk.state() == before


class TestIdempotency:
    async def test_same_key_replays_the_first_response(self, desk: Desk) -> None:
        h = desk.headers | {"Idempotency-Key": "renew-1"}
        first = await desk.renew(headers=h)
        second = await desk.renew(headers=h)
        assert first.status_code == second.status_code == 201
        assert second.json() == first.json()
        assert second.headers["idempotent-replayed"] == "true"
        assert second.headers["etag"] == first.headers["etag"]
        assert len(await events(desk.db, "membership.renewed")) == 1

    async def test_same_key_with_another_body_is_refused(self, desk: Desk) -> None:
        h = desk.headers | {"Idempotency-Key": "renew-2"}
        assert (await desk.renew(headers=h)).status_code == 201
        before = await desk.state()
        problem(
            await desk.renew(headers=h, plan_id=desk.premium["id"]), 422, "idempotency_key_reused"
        )
        assert await desk.state() == before


async def _plan(desk: Desk, plan_id: str) -> Plan:
    async with desk.db.sessionmaker() as s:
        plan = await s.get(Plan, uuid.UUID(plan_id))
    assert plan is not None
    return plan
