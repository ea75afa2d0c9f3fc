"""Freezes over HTTP: the rules, the moving end date, ending early and cancelling."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from app.models import Member
from tests.fixtures.factories import bearer, make_token
from tests.fixtures.ledger import make_member
from tests.memberships.helpers import (
    TODAY,
    audit,
    create_plan,
    events,
    freeze_membership,
    problem,
    snapshot,
    sold,
)

URL = "/api/v1/memberships"
D = timedelta


@pytest.fixture
async def membership(
    client: AsyncClient, desk: str, plan: dict[str, Any], member: Member
) -> dict[str, Any]:
    """A 12-month membership from today (2026-03-10 .. 2027-03-09); policy 2 freezes,
    7..30 days each, 45 days in total."""
    return await sold(client, desk, member.id, plan["id"], TODAY)


async def membership_now(client: AsyncClient, token: str, mid: str) -> dict[str, Any]:
    return dict((await client.get(f"{URL}/{mid}", headers=bearer(token))).json())


class TestCreateFreeze:
    async def test_freeze_moves_the_end_date_by_its_days(
        self, client: AsyncClient, desk: str, membership: dict[str, Any]
    ) -> None:
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 14)
        )
        assert r.status_code == 201, r.text
        assert r.json()["days"] == 14
        m = await membership_now(client, desk, membership["id"])
        assert m["end_date"] == "2027-03-23"
        assert m["frozen_days"] == 14
        assert m["base_end_date"] == "2027-03-09"

    async def test_response_carries_the_freeze_and_its_etag(
        self, client: AsyncClient, desk: str, membership: dict[str, Any]
    ) -> None:
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 14), reason="Trip"
        )
        f = r.json()
        assert {k: f[k] for k in ("membership_id", "start_date", "end_date", "days", "reason")} == {
            "membership_id": membership["id"],
            "start_date": "2026-04-01",
            "end_date": "2026-04-14",
            "days": 14,
            "reason": "Trip",
        }
        assert f["status"] == "scheduled"
        assert r.headers["etag"] == f'"{uuid.UUID(f["id"]).hex}-1"'
        got = await client.get(f"{URL}/{membership['id']}/freezes/{f['id']}", headers=bearer(desk))
        assert got.json() == f
        assert got.headers["etag"] == r.headers["etag"]

    async def test_date_change_is_audited(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 14)
        )
        [entry] = await audit(db, membership["id"], "freeze_added")
        assert entry.changes["end_date"] == ["2027-03-09", "2027-03-23"]
        assert entry.changes["frozen_days"] == [0, 14]
        assert entry.changes["freeze_id"] == r.json()["id"]

    async def test_freeze_takes_the_plans_fee(
        self,
        client: AsyncClient,
        admin_token: str,
        desk: str,
        club_id: uuid.UUID,
        member: Member,
    ) -> None:
        policy = {
            "max_freezes": 1,
            "min_days": 7,
            "max_days": 30,
            "max_total_days": 30,
            "fee": 50000,
        }
        plan = await create_plan(client, admin_token, club_id, freeze_policy=policy)
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        r = await freeze_membership(client, desk, m["id"], date(2026, 4, 1), date(2026, 4, 7))
        assert r.json()["fee"] == 50000

    @pytest.mark.parametrize(
        ("start", "end"),
        [
            (date(2026, 3, 3), date(2026, 3, 12)),  # before the term (manager may backdate)
            (date(2027, 3, 1), date(2027, 3, 10)),  # past the end
        ],
        ids=["before_start", "after_end"],
    )
    async def test_freeze_must_lie_inside_the_term(
        self,
        client: AsyncClient,
        manager: str,
        membership: dict[str, Any],
        db: Database,
        start: date,
        end: date,
    ) -> None:
        before = await snapshot(db)
        r = await freeze_membership(client, manager, membership["id"], start, end)
        problem(r, 422, "freeze_outside_term")
        assert await snapshot(db) == before

    async def test_freeze_may_end_on_the_last_day_of_the_term(
        self, client: AsyncClient, desk: str, membership: dict[str, Any]
    ) -> None:
        r = await freeze_membership(
            client, desk, membership["id"], date(2027, 3, 1), date(2027, 3, 9)
        )
        assert r.status_code == 201
        assert (await membership_now(client, desk, membership["id"]))["end_date"] == "2027-03-18"

    async def test_freezes_may_not_overlap(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        first = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 10)
        )
        before = await snapshot(db)
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 10), date(2026, 4, 20)
        )
        err = problem(r, 409, "freeze_overlap")
        assert err["freeze_id"] == first.json()["id"]
        assert await snapshot(db) == before

    async def test_adjacent_freezes_do_not_overlap(
        self, client: AsyncClient, desk: str, membership: dict[str, Any]
    ) -> None:
        await freeze_membership(client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 10))
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 11), date(2026, 4, 20)
        )
        assert r.status_code == 201

    async def test_a_cancelled_freeze_leaves_its_dates_free(
        self, client: AsyncClient, desk: str, membership: dict[str, Any]
    ) -> None:
        f = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 10)
        )
        await client.delete(
            f"{URL}/{membership['id']}/freezes/{f.json()['id']}", headers=bearer(desk)
        )
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 10)
        )
        assert r.status_code == 201

    async def test_freeze_count_is_limited_by_the_plan(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        for start in (date(2026, 4, 1), date(2026, 5, 1)):
            r = await freeze_membership(client, desk, membership["id"], start, start + D(6))
            assert r.status_code == 201
        before = await snapshot(db)
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 6, 1), date(2026, 6, 7)
        )
        problem(r, 422, "freeze_limit_reached")
        assert await snapshot(db) == before

    async def test_a_plan_without_freeze_policy_cannot_be_frozen(
        self,
        client: AsyncClient,
        admin_token: str,
        desk: str,
        club_id: uuid.UUID,
        member: Member,
        db: Database,
    ) -> None:
        plan = await create_plan(client, admin_token, club_id, freeze_policy=None)
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        before = await snapshot(db)
        r = await freeze_membership(client, desk, m["id"], date(2026, 4, 1), date(2026, 4, 10))
        problem(r, 422, "freeze_limit_reached")
        assert await snapshot(db) == before

    async def test_freeze_shorter_than_the_minimum_is_refused(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        before = await snapshot(db)
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 6)
        )
        problem(r, 422, "freeze_too_short")
        assert await snapshot(db) == before

    async def test_freeze_longer_than_the_maximum_is_refused(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        before = await snapshot(db)
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 5, 1)
        )
        problem(r, 422, "freeze_too_long")
        assert await snapshot(db) == before

    async def test_freezes_together_may_not_exceed_the_total(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 30)
        )
        assert r.status_code == 201
        before = await snapshot(db)
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 6, 1), date(2026, 6, 16)
        )
        problem(r, 422, "freeze_total_exceeded")
        assert await snapshot(db) == before

    async def test_freezes_may_reach_the_total_exactly(
        self, client: AsyncClient, desk: str, membership: dict[str, Any]
    ) -> None:
        await freeze_membership(client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 30))
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 6, 1), date(2026, 6, 15)
        )
        assert r.status_code == 201

    async def test_end_before_start_is_a_validation_error(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        before = await snapshot(db)
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 10), date(2026, 4, 1)
        )
        err = problem(r, 422, "validation_error")
        assert "end_date" in err["errors"][0]["detail"]
        assert await snapshot(db) == before

    @pytest.mark.parametrize(
        "override",
        [
            {"start_date": "2026-04-31"},
            {"end_date": 1775000000},
            {"reason": ""},
            {"reason": "a\x00b"},
            {"days": 10},
        ],
        ids=["bad_date", "number_date", "empty_reason", "nul_reason", "unknown_field"],
    )
    async def test_bad_input_is_refused(
        self,
        client: AsyncClient,
        desk: str,
        membership: dict[str, Any],
        db: Database,
        override: dict[str, Any],
    ) -> None:
        before = await snapshot(db)
        body = {"start_date": "2026-04-01", "end_date": "2026-04-10", "reason": "trip", **override}
        r = await client.post(f"{URL}/{membership['id']}/freezes", json=body, headers=bearer(desk))
        problem(r, 422, "validation_error")
        assert await snapshot(db) == before

    async def test_expired_membership_cannot_be_frozen(
        self, client: AsyncClient, manager: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, manager, member.id, plan["id"], date(2025, 1, 1))
        before = await snapshot(db)
        r = await freeze_membership(
            client, manager, m["id"], date(2025, 12, 20), date(2025, 12, 30)
        )
        problem(r, 422, "membership_not_active")
        assert await snapshot(db) == before

    async def test_cancelled_membership_cannot_be_frozen(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        await client.post(
            f"{URL}/{membership['id']}/cancel", json={"reason": "x"}, headers=bearer(desk)
        )
        before = await snapshot(db)
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 10)
        )
        problem(r, 422, "membership_not_active")
        assert await snapshot(db) == before

    async def test_pending_membership_cannot_be_frozen(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY + D(5))
        before = await snapshot(db)
        r = await freeze_membership(client, desk, m["id"], date(2026, 4, 1), date(2026, 4, 10))
        problem(r, 422, "membership_not_active")
        assert await snapshot(db) == before

    async def test_a_frozen_membership_may_get_a_later_freeze(
        self, client: AsyncClient, desk: str, membership: dict[str, Any]
    ) -> None:
        await freeze_membership(client, desk, membership["id"], TODAY, TODAY + D(9))
        r = await freeze_membership(
            client, desk, membership["id"], date(2026, 6, 1), date(2026, 6, 7)
        )
        assert r.status_code == 201

    async def test_front_desk_may_not_backdate_a_freeze(
        self, client: AsyncClient, desk: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, desk, member.id, plan["id"], TODAY)
        before = await snapshot(db)
        r = await freeze_membership(client, desk, m["id"], TODAY - D(1), TODAY + D(9))
        problem(r, 403, "backdating_not_allowed")
        assert await snapshot(db) == before

    async def test_manager_may_record_a_past_freeze(
        self, client: AsyncClient, manager: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, manager, member.id, plan["id"], date(2026, 1, 1))
        r = await freeze_membership(client, manager, m["id"], date(2026, 2, 1), date(2026, 2, 10))
        assert r.status_code == 201
        assert r.json()["status"] == "ended"
        assert [e.type for e in await events(db) if e.type.startswith("freeze.")] == [
            "freeze.started",
            "freeze.ended",
        ]

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
        before = await snapshot(db)
        r = await freeze_membership(client, desk, m["id"], date(2026, 4, 1), date(2026, 4, 10))
        problem(r, 404, "membership_not_found")
        assert await snapshot(db) == before

    async def test_freeze_starting_today_emits_freeze_started(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        r = await freeze_membership(client, desk, membership["id"], TODAY, TODAY + D(9))
        assert r.json()["status"] == "running"
        [event] = await events(db, "freeze.started")
        assert event.data["freeze_id"] == r.json()["id"]
        assert event.data["membership_end_date"] == "2027-03-19"
        assert "reason" not in event.data
        assert await events(db, "freeze.ended") == []

    async def test_future_freeze_emits_nothing_yet(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        await freeze_membership(client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 10))
        assert [e.type for e in await events(db) if e.type.startswith("freeze.")] == []

    async def test_a_retried_freeze_with_the_same_key_freezes_once(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        headers = {**bearer(desk), "Idempotency-Key": "freeze-1"}
        body = {"start_date": "2026-04-01", "end_date": "2026-04-10", "reason": "trip"}
        url = f"{URL}/{membership['id']}/freezes"
        first = await client.post(url, json=body, headers=headers)
        again = await client.post(url, json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert (await snapshot(db))["counts"]["freezes"] == 1
        assert (await membership_now(client, desk, membership["id"]))["frozen_days"] == 10

    async def test_the_same_key_with_another_body_is_refused(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        headers = {**bearer(desk), "Idempotency-Key": "freeze-2"}
        url = f"{URL}/{membership['id']}/freezes"
        body = {"start_date": "2026-04-01", "end_date": "2026-04-10", "reason": "trip"}
        await client.post(url, json=body, headers=headers)
        before = await snapshot(db)
        r = await client.post(url, json={**body, "end_date": "2026-04-12"}, headers=headers)
        problem(r, 422, "idempotency_key_reused")
        assert await snapshot(db) == before


class TestListAndGetFreezes:
    async def test_lists_every_freeze_earliest_first(
        self, client: AsyncClient, desk: str, membership: dict[str, Any]
    ) -> None:
        late = await freeze_membership(
            client, desk, membership["id"], date(2026, 6, 1), date(2026, 6, 7)
        )
        early = await freeze_membership(client, desk, membership["id"], TODAY, TODAY + D(6))
        r = await client.get(f"{URL}/{membership['id']}/freezes", headers=bearer(desk))
        assert [(f["id"], f["status"]) for f in r.json()["items"]] == [
            (early.json()["id"], "running"),
            (late.json()["id"], "scheduled"),
        ]

    async def test_a_freeze_under_another_membership_id_is_not_found(
        self,
        client: AsyncClient,
        desk: str,
        plan: dict[str, Any],
        membership: dict[str, Any],
        club_id: uuid.UUID,
        db: Database,
    ) -> None:
        other_member = await make_member(db, club_id)
        other = await sold(client, desk, other_member.id, plan["id"], TODAY)
        f = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 10)
        )
        fid = f.json()["id"]
        before = await snapshot(db)
        for r in (
            await client.get(f"{URL}/{other['id']}/freezes/{fid}", headers=bearer(desk)),
            await client.patch(
                f"{URL}/{other['id']}/freezes/{fid}",
                json={"end_date": "2026-04-08"},
                headers=bearer(desk),
            ),
            await client.delete(f"{URL}/{other['id']}/freezes/{fid}", headers=bearer(desk)),
        ):
            problem(r, 404, "freeze_not_found")
        assert await snapshot(db) == before

    async def test_another_clubs_freezes_are_not_found(
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
        r = await client.get(f"{URL}/{m['id']}/freezes", headers=bearer(desk))
        problem(r, 404, "membership_not_found")


class TestEndFreezeEarly:
    @pytest.fixture
    async def running(
        self, client: AsyncClient, manager: str, plan: dict[str, Any], member: Member
    ) -> tuple[str, str]:
        """Membership 2026-03-01..2027-02-28 with a freeze running 2026-03-05..2026-03-24
        (20 days, entered by a manager), so the membership ends 2027-03-20."""
        m = await sold(client, manager, member.id, plan["id"], date(2026, 3, 1))
        f = await freeze_membership(client, manager, m["id"], date(2026, 3, 5), date(2026, 3, 24))
        assert f.status_code == 201, f.text
        assert f.json()["status"] == "running"
        return m["id"], f.json()["id"]

    async def patch(
        self, client: AsyncClient, token: str, mid: str, fid: str, end: date, **headers: str
    ) -> Any:
        return await client.patch(
            f"{URL}/{mid}/freezes/{fid}",
            json={"end_date": end.isoformat()},
            headers={**bearer(token), **headers},
        )

    async def test_ending_today_moves_the_membership_end_back(
        self, client: AsyncClient, desk: str, running: tuple[str, str], db: Database
    ) -> None:
        mid, fid = running
        r = await self.patch(client, desk, mid, fid, TODAY)
        assert r.status_code == 200, r.text
        assert r.json()["end_date"] == "2026-03-10"
        assert r.json()["days"] == 6
        assert r.json()["ended_early_at"] is not None
        m = await membership_now(client, desk, mid)
        assert m["frozen_days"] == 6
        assert m["end_date"] == "2027-03-06"
        [entry] = await audit(db, mid, "freeze_ended_early")
        assert entry.changes["end_date"] == ["2027-03-20", "2027-03-06"]

    async def test_ending_early_emits_freeze_ended_at_once(
        self, client: AsyncClient, desk: str, running: tuple[str, str], db: Database
    ) -> None:
        mid, fid = running
        await self.patch(client, desk, mid, fid, TODAY + D(2))
        [event] = await events(db, "freeze.ended")
        assert event.data["end_date"] == "2026-03-12"
        assert event.data["membership_end_date"] == "2027-03-08"

    async def test_a_running_freeze_cannot_end_before_today(
        self, client: AsyncClient, manager: str, running: tuple[str, str], db: Database
    ) -> None:
        mid, fid = running
        before = await snapshot(db)
        r = await self.patch(client, manager, mid, fid, TODAY - D(1))
        problem(r, 422, "freeze_end_in_past")
        assert await snapshot(db) == before

    async def test_new_end_must_be_earlier_than_the_current_end(
        self, client: AsyncClient, desk: str, running: tuple[str, str], db: Database
    ) -> None:
        mid, fid = running
        before = await snapshot(db)
        for end in (date(2026, 3, 24), date(2026, 3, 30)):
            problem(await self.patch(client, desk, mid, fid, end), 422, "freeze_end_not_earlier")
        assert await snapshot(db) == before

    async def test_new_end_before_the_start_is_a_validation_error(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        f = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 20)
        )
        before = await snapshot(db)
        r = await self.patch(client, desk, membership["id"], f.json()["id"], date(2026, 3, 31))
        err = problem(r, 422, "validation_error")
        assert err["errors"][0]["pointer"] == "/end_date"
        assert await snapshot(db) == before

    async def test_a_scheduled_freeze_can_be_shortened_quietly(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        f = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 20)
        )
        r = await self.patch(client, desk, membership["id"], f.json()["id"], date(2026, 4, 10))
        assert r.json()["status"] == "scheduled"
        assert r.json()["ended_early_at"] is None
        assert (await membership_now(client, desk, membership["id"]))["end_date"] == "2027-03-19"
        assert await events(db, "freeze.ended") == []

    async def test_a_scheduled_freeze_cannot_shrink_below_the_minimum(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        f = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 20)
        )
        before = await snapshot(db)
        r = await self.patch(client, desk, membership["id"], f.json()["id"], date(2026, 4, 3))
        problem(r, 422, "freeze_too_short")
        assert await snapshot(db) == before

    async def test_an_ended_freeze_cannot_be_changed(
        self, client: AsyncClient, manager: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        m = await sold(client, manager, member.id, plan["id"], date(2026, 1, 1))
        f = await freeze_membership(client, manager, m["id"], date(2026, 2, 1), date(2026, 2, 20))
        before = await snapshot(db)
        r = await self.patch(client, manager, m["id"], f.json()["id"], date(2026, 2, 10))
        problem(r, 409, "freeze_already_ended")
        assert await snapshot(db) == before

    async def test_a_cancelled_freeze_cannot_be_changed(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        f = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 20)
        )
        await client.delete(
            f"{URL}/{membership['id']}/freezes/{f.json()['id']}", headers=bearer(desk)
        )
        before = await snapshot(db)
        r = await self.patch(client, desk, membership["id"], f.json()["id"], date(2026, 4, 10))
        problem(r, 409, "freeze_already_cancelled")
        assert await snapshot(db) == before

    async def test_stale_if_match_is_refused(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        f = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 20)
        )
        stale = f.headers["etag"]
        await self.patch(client, desk, membership["id"], f.json()["id"], date(2026, 4, 15))
        before = await snapshot(db)
        r = await self.patch(
            client, desk, membership["id"], f.json()["id"], date(2026, 4, 10), **{"If-Match": stale}
        )
        problem(r, 412, "precondition_failed")
        assert await snapshot(db) == before

    async def test_current_if_match_is_accepted(
        self, client: AsyncClient, desk: str, membership: dict[str, Any]
    ) -> None:
        f = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 20)
        )
        r = await self.patch(
            client,
            desk,
            membership["id"],
            f.json()["id"],
            date(2026, 4, 15),
            **{"If-Match": f.headers["etag"]},
        )
        assert r.status_code == 200
        assert r.headers["etag"] != f.headers["etag"]

    async def test_shortening_that_strands_a_later_freeze_is_refused(
        self, client: AsyncClient, manager: str, plan: dict[str, Any], member: Member, db: Database
    ) -> None:
        # Term 2026-01-01..2026-12-31. Freeze A (Dec) pushes the end to 2027-01-30;
        # freeze B sits in that extension. Cutting A short would leave B past the end.
        m = await sold(
            client,
            manager,
            member.id,
            plan["id"],
            date(2026, 1, 1),
        )
        a = await freeze_membership(client, manager, m["id"], date(2026, 12, 1), date(2026, 12, 30))
        b = await freeze_membership(client, manager, m["id"], date(2027, 1, 20), date(2027, 1, 30))
        assert a.status_code == b.status_code == 201, (a.text, b.text)
        before = await snapshot(db)
        r = await self.patch(client, manager, m["id"], a.json()["id"], date(2026, 12, 10))
        problem(r, 422, "freeze_outside_term")
        assert await snapshot(db) == before

    async def test_body_needs_a_date(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        f = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 20)
        )
        before = await snapshot(db)
        for body in (
            {},
            {"end_date": "soon"},
            {"end_date": "2026-04-10", "start_date": "2026-04-02"},
        ):
            r = await client.patch(
                f"{URL}/{membership['id']}/freezes/{f.json()['id']}",
                json=body,
                headers=bearer(desk),
            )
            problem(r, 422, "validation_error")
        assert await snapshot(db) == before


class TestCancelFreeze:
    async def test_cancelling_a_scheduled_freeze_moves_the_end_back(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        f = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 10)
        )
        r = await client.delete(
            f"{URL}/{membership['id']}/freezes/{f.json()['id']}", headers=bearer(desk)
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "cancelled"
        assert r.json()["cancelled_at"] is not None
        m = await membership_now(client, desk, membership["id"])
        assert m["end_date"] == "2027-03-09"
        assert m["frozen_days"] == 0
        assert await audit(db, membership["id"], "freeze_cancelled")
        assert [e.type for e in await events(db) if e.type.startswith("freeze.")] == []

    async def test_a_started_freeze_cannot_be_cancelled(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        f = await freeze_membership(client, desk, membership["id"], TODAY, TODAY + D(9))
        before = await snapshot(db)
        r = await client.delete(
            f"{URL}/{membership['id']}/freezes/{f.json()['id']}", headers=bearer(desk)
        )
        problem(r, 409, "freeze_already_started")
        assert await snapshot(db) == before

    async def test_cancelling_twice_conflicts(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        f = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 10)
        )
        url = f"{URL}/{membership['id']}/freezes/{f.json()['id']}"
        await client.delete(url, headers=bearer(desk))
        before = await snapshot(db)
        problem(await client.delete(url, headers=bearer(desk)), 409, "freeze_already_cancelled")
        assert await snapshot(db) == before

    async def test_stale_if_match_is_refused(
        self, client: AsyncClient, desk: str, membership: dict[str, Any], db: Database
    ) -> None:
        f = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 20)
        )
        url = f"{URL}/{membership['id']}/freezes/{f.json()['id']}"
        await client.patch(url, json={"end_date": "2026-04-15"}, headers=bearer(desk))
        before = await snapshot(db)
        r = await client.delete(url, headers={**bearer(desk), "If-Match": f.headers["etag"]})
        problem(r, 412, "precondition_failed")
        assert await snapshot(db) == before

    async def test_read_only_staff_cannot_cancel(
        self,
        client: AsyncClient,
        desk: str,
        membership: dict[str, Any],
        club_id: uuid.UUID,
        db: Database,
    ) -> None:
        caller = await make_token(db, "caller", club_ids=[club_id])
        f = await freeze_membership(
            client, desk, membership["id"], date(2026, 4, 1), date(2026, 4, 10)
        )
        before = await snapshot(db)
        r = await client.delete(
            f"{URL}/{membership['id']}/freezes/{f.json()['id']}", headers=bearer(caller)
        )
        problem(r, 403, "forbidden")
        assert await snapshot(db) == before
