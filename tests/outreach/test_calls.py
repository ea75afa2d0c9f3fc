"""The call queue over HTTP: manual calls (open or merge), reading, assigning, cancelling."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import pytest
from httpx import AsyncClient

from app.core.clock import freeze
from app.db import Database
from app.models import Member, ServiceCall
from app.models.outreach import KIND_PRECEDENCE
from app.outreach.service import more_important
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member
from tests.fixtures.meetings import add_staff
from tests.fixtures.outreach import make_call
from tests.outreach.helpers import (
    NOW,
    audits,
    call_row,
    count,
    events,
    msk,
    post_call,
    staff_id,
    utc,
)


class TestCreate:
    async def test_a_manual_call_is_opened_due_now_with_etag_and_location(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        r = await post_call(client, caller, member.id, "renewal", notes="Asked about the card")
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["status"] == "due"
        assert body["kind"] == "renewal"
        assert body["source"] == "manual"
        assert body["notes"] == "Asked about the card"
        assert [x["code"] for x in body["reasons"]] == ["manual"]
        assert utc(body["due_from"]) == NOW
        assert utc(body["due_until"]) == NOW + timedelta(days=7)
        assert utc(body["next_attempt_at"]) == NOW
        assert body["attempts"] == 0
        assert body["created_by_id"] == str(await staff_id(db, "Cora Caller"))
        assert r.headers["location"] == f"/api/v1/calls/{body['id']}"
        row = await call_row(db, body["id"])
        assert r.headers["etag"] == f'"{row.id.hex}-{row.version}"'
        due = await events(db, "call.due")
        assert [e.data["call_id"] for e in due] == [body["id"]]

    async def test_outside_call_hours_the_call_is_scheduled_for_the_next_allowed_time(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        with freeze(msk(1, 22)):
            r = await post_call(client, caller, member.id)
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "scheduled"
        assert utc(r.json()["next_attempt_at"]) == msk(2, 9)
        assert await events(db, "call.due") == []

    @pytest.mark.parametrize(
        ("member_values", "reason"),
        [
            ({"do_not_contact": True, "consents": {"calls": True}}, "do_not_contact"),
            ({"consents": {"calls": False}}, "no_consent"),
            ({}, "no_consent"),
        ],
    )
    async def test_the_policy_refuses_with_409_and_nothing_is_written(
        self,
        client: AsyncClient,
        db: Database,
        caller: str,
        club_id: uuid.UUID,
        member_values: dict,
        reason: str,
    ) -> None:
        member = await make_member(db, club_id, **member_values)
        r = await post_call(client, caller, member.id)
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "contact_not_allowed"
        assert r.json()["reason"] == reason
        assert await count(db, ServiceCall) == 0

    async def test_a_deferral_past_the_window_is_refused_with_retry_after(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        with freeze(msk(1, 22)):
            r = await post_call(
                client,
                caller,
                member.id,
                due_until=msk(1, 23).isoformat(),
            )
        assert r.status_code == 409, r.text
        assert r.json()["reason"] == "quiet_hours"
        assert utc(r.json()["retry_after"]) == msk(2, 9)
        assert await count(db, ServiceCall) == 0

    async def test_a_second_reason_merges_into_the_open_call_with_200(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        first = await post_call(client, caller, member.id, "birthday", notes="First note")
        later = msk(20, 12)
        r = await post_call(
            client,
            caller,
            member.id,
            "lapse",
            priority=80,
            due_until=later.isoformat(),
            notes="Second note",
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["id"] == first.json()["id"]
        assert body["kind"] == "lapse"  # the more important kind wins
        assert body["priority"] == 80
        assert utc(body["due_until"]) == later
        assert [(x["kind"], x["code"]) for x in body["reasons"]] == [
            ("birthday", "manual"),
            ("lapse", "manual"),
        ]
        assert body["notes"] == "First note\nSecond note"
        assert await count(db, ServiceCall) == 1
        assert len(await events(db, "call.due")) == 1

    async def test_a_less_important_reason_keeps_the_kind(
        self, client: AsyncClient, caller: str, member: Member
    ) -> None:
        await post_call(client, caller, member.id, "lapse", priority=70)
        r = await post_call(client, caller, member.id, "renewal", priority=10)
        assert r.status_code == 200
        assert r.json()["kind"] == "lapse"
        assert r.json()["priority"] == 70

    def test_merge_precedence_follows_the_design_order(self) -> None:
        order = [k.value for k in KIND_PRECEDENCE]
        assert order == [
            "complaint_follow_up",
            "lapse",
            "renewal",
            "no_show",
            "post_freeze",
            "welcome",
            "onboarding",
            "feedback",
            "birthday",
        ]
        for a, b in itertools.permutations(order, 2):
            winner = a if order.index(a) < order.index(b) else b
            assert more_important(a, b) == winner == more_important(b, a)

    async def test_another_clubs_member_is_not_found(
        self, client: AsyncClient, db: Database, admin_token: str, caller: str
    ) -> None:
        other = await make_club(client, admin_token, name="Other")
        stranger = await make_member(db, other["id"], consents={"calls": True})
        r = await post_call(client, caller, stranger.id)
        assert r.status_code == 404
        assert r.json()["code"] == "member_not_found"
        assert await count(db, ServiceCall) == 0

    async def test_a_window_that_ends_before_it_starts_is_422(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        r = await post_call(
            client,
            caller,
            member.id,
            due_from=msk(3, 10).isoformat(),
            due_until=msk(2, 10).isoformat(),
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["pointer"] == "/due_until"
        assert await count(db, ServiceCall) == 0


class TestRead:
    async def test_the_queue_is_most_urgent_first_and_pages_stably(
        self, client: AsyncClient, db: Database, caller: str, club_id: uuid.UUID
    ) -> None:
        ids = {}
        for name, priority, hour in [("low", 10, 10), ("high_late", 90, 15), ("high", 90, 11)]:
            m = await make_member(db, club_id)
            call = await make_call(db, m.id, club_id, due_from=msk(1, hour))
            async with db.session_scope() as s:
                row = await s.get(ServiceCall, call.id)
                assert row is not None
                row.priority = priority
            ids[name] = str(call.id)
        r = await client.get(f"/api/v1/calls?club_id={club_id}&limit=2", headers=bearer(caller))
        assert r.status_code == 200, r.text
        page1 = r.json()
        assert [c["id"] for c in page1["items"]] == [ids["high"], ids["high_late"]]
        r = await client.get(
            f"/api/v1/calls?club_id={club_id}&limit=2&cursor={page1['next_cursor']}",
            headers=bearer(caller),
        )
        assert [c["id"] for c in r.json()["items"]] == [ids["low"]]
        assert r.json()["next_cursor"] is None

    async def test_filters(
        self, client: AsyncClient, db: Database, caller: str, club_id: uuid.UUID
    ) -> None:
        a, b = await make_member(db, club_id), await make_member(db, club_id)
        cora = await staff_id(db, "Cora Caller")
        lapse = await make_call(db, a.id, club_id, kind="lapse", due_from=msk(1, 10))
        renewal = await make_call(
            db,
            b.id,
            club_id,
            kind="renewal",
            status="scheduled",
            due_from=msk(5, 10),
            assignee_id=cora,
        )

        async def ids(query: str) -> list[str]:
            r = await client.get(f"/api/v1/calls?{query}", headers=bearer(caller))
            assert r.status_code == 200, r.text
            return [c["id"] for c in r.json()["items"]]

        assert await ids("kind=lapse") == [str(lapse.id)]
        assert await ids("status=scheduled") == [str(renewal.id)]
        assert await ids(f"assignee_id={cora}") == [str(renewal.id)]
        assert await ids(f"member_id={a.id}") == [str(lapse.id)]
        before = msk(3, 0).isoformat().replace("+", "%2B")
        assert await ids(f"due_before={before}") == [str(lapse.id)]

    async def test_get_returns_the_call_with_etag(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        r = await client.get(f"/api/v1/calls/{call.id}", headers=bearer(caller))
        assert r.status_code == 200
        assert r.json()["id"] == str(call.id)
        assert r.headers["etag"] == f'"{call.id.hex}-1"'

    async def test_another_clubs_call_is_not_found_anywhere(
        self, client: AsyncClient, db: Database, admin_token: str, caller: str
    ) -> None:
        other = await make_club(client, admin_token, name="Other")
        stranger = await make_member(db, other["id"], consents={"calls": True})
        call = await make_call(db, stranger.id, uuid.UUID(other["id"]))
        h = bearer(caller)
        for r in [
            await client.get(f"/api/v1/calls/{call.id}", headers=h),
            await client.patch(f"/api/v1/calls/{call.id}", json={"priority": 1}, headers=h),
            await client.post(
                f"/api/v1/calls/{call.id}/attempts", json={"outcome": "no_answer"}, headers=h
            ),
        ]:
            assert r.status_code == 404, r.text
            assert r.json()["code"] == "call_not_found"
        listed = await client.get("/api/v1/calls", headers=h)
        assert listed.json()["items"] == []
        r = await client.get(f"/api/v1/calls?club_id={other['id']}", headers=h)
        assert r.status_code == 404
        assert (await call_row(db, call.id)).priority == 50


class TestUpdate:
    async def test_assign_to_an_active_caller_of_the_club(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        cora = await staff_id(db, "Cora Caller")
        r = await client.patch(
            f"/api/v1/calls/{call.id}",
            json={"assignee_id": str(cora), "priority": 75, "notes": "After 18:00"},
            headers=bearer(caller) | {"If-Match": f'"{call.id.hex}-1"'},
        )
        assert r.status_code == 200, r.text
        assert r.json()["assignee_id"] == str(cora)
        assert r.json()["priority"] == 75
        assert r.json()["notes"] == "After 18:00"
        assert r.headers["etag"] == f'"{call.id.hex}-2"'
        assert len(await audits(db, call.id, "updated")) == 1

    async def test_assignee_must_be_an_active_caller_of_that_club(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        caller: str,
        club: dict,
        member: Member,
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        consultant = await add_staff(client, admin_token, club, "consultant", name="Conny")
        other = await make_club(client, admin_token, name="Other")
        foreign = await add_staff(client, admin_token, other, "caller", name="Far Caller")
        retired = await add_staff(client, admin_token, club, "caller", name="Retired Caller")
        await client.patch(
            f"/api/v1/staff/{retired}", json={"active": False}, headers=bearer(admin_token)
        )
        for staff in (consultant, foreign, retired, str(uuid.uuid4())):
            r = await client.patch(
                f"/api/v1/calls/{call.id}", json={"assignee_id": staff}, headers=bearer(caller)
            )
            assert r.status_code == 422, r.text
            assert r.json()["code"] == "assignee_not_eligible"
        assert (await call_row(db, call.id)).assignee_id is None

    async def test_a_stale_if_match_is_412(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        r = await client.patch(
            f"/api/v1/calls/{call.id}",
            json={"priority": 99},
            headers=bearer(caller) | {"If-Match": f'"{call.id.hex}-7"'},
        )
        assert r.status_code == 412
        assert (await call_row(db, call.id)).priority == 50

    async def test_cancel_needs_a_reason_and_closes_the_call(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        url = f"/api/v1/calls/{call.id}"
        r = await client.patch(url, json={"status": "cancelled"}, headers=bearer(caller))
        assert r.status_code == 422
        assert r.json()["code"] == "close_reason_required"
        r = await client.patch(
            url,
            json={"status": "cancelled", "close_reason": "Moved away"},
            headers=bearer(caller),
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "cancelled"
        assert r.json()["close_reason"] == "Moved away"
        assert r.json()["next_attempt_at"] is None
        r = await client.patch(url, json={"priority": 1}, headers=bearer(caller))
        assert r.status_code == 409
        assert r.json()["code"] == "call_closed"
        assert (await call_row(db, call.id)).priority == 50

    async def test_only_cancelled_is_a_settable_status(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        call = await make_call(db, member.id, member.club_id)
        r = await client.patch(
            f"/api/v1/calls/{call.id}", json={"status": "completed"}, headers=bearer(caller)
        )
        assert r.status_code == 422
        assert (await call_row(db, call.id)).status == "due"


class TestAssignment:
    async def test_new_calls_go_round_robin_to_the_clubs_active_callers(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        club: dict,
        club_id: uuid.UUID,
    ) -> None:
        ann = await add_staff(client, admin_token, club, "caller", name="Ann")
        bob = await add_staff(client, admin_token, club, "caller", "manager", name="Bob")
        await add_staff(client, admin_token, club, "consultant", name="Not A Caller")
        gone = await add_staff(client, admin_token, club, "caller", name="Gone")
        await client.patch(
            f"/api/v1/staff/{gone}", json={"active": False}, headers=bearer(admin_token)
        )
        first, second = sorted([ann, bob])
        assigned = []
        for minute in range(4):
            m = await make_member(db, club_id, consents={"calls": True})
            with freeze(NOW + timedelta(minutes=minute)):
                r = await post_call(client, admin_token, m.id)
            assert r.status_code == 201, r.text
            assigned.append(r.json())
        # Equal loads, never assigned: by id; then fewest open; then least recently.
        assert [c["assignee_id"] for c in assigned] == [first, second, first, second]

        # Closing a call frees its caller: they get the next one.
        done = next(c for c in assigned if c["assignee_id"] == second)
        r = await client.patch(
            f"/api/v1/calls/{done['id']}",
            json={"status": "cancelled", "close_reason": "test"},
            headers=bearer(admin_token),
        )
        assert r.status_code == 200
        m = await make_member(db, club_id, consents={"calls": True})
        with freeze(NOW + timedelta(minutes=10)):
            r = await post_call(client, admin_token, m.id)
        assert r.json()["assignee_id"] == second
        assert (await events(db, "call.due"))[-1].data["assignee_id"] == second

    async def test_no_callers_leaves_the_call_unassigned(
        self, client: AsyncClient, db: Database, admin_token: str, member: Member
    ) -> None:
        r = await post_call(client, admin_token, member.id)
        assert r.status_code == 201
        assert r.json()["assignee_id"] is None

    async def test_a_caller_of_another_club_is_not_assigned(
        self, client: AsyncClient, db: Database, admin_token: str, member: Member
    ) -> None:
        other = await make_club(client, admin_token, name="Other")
        await add_staff(client, admin_token, other, "caller", name="Far Caller")
        await make_token(db, "front_desk", club_ids=[member.club_id], name="Desk")
        r = await post_call(client, admin_token, member.id)
        assert r.json()["assignee_id"] is None
