"""Complaints over HTTP: open (due by severity, links checked), list and filter, read
with an ETag, PATCH (owner, status, severity), resolve once with a root cause and
compensation (managers only; bonus days move the membership's end date, audited), and
the member's export and erasure. Unhappy paths answer a problem and change nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from app.core.clock import freeze
from app.db import Database
from app.models import AuditEntry, Complaint, Event, Member, Membership
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member, make_membership, make_plan
from tests.fixtures.meetings import make_meeting
from tests.fixtures.outreach import make_call
from tests.fixtures.retention import problem, rows

URL = "/api/v1/complaints"
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with freeze(NOW):
        yield


@pytest.fixture
def club_id(club: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(club["id"])


@pytest.fixture
async def caller(db: Database, club_id: uuid.UUID) -> str:
    return await make_token(db, "caller", club_ids=[club_id], name="Cleo Caller")


@pytest.fixture
async def manager(db: Database, club_id: uuid.UUID) -> str:
    return await make_token(db, "manager", club_ids=[club_id], name="Max Manager")


@pytest.fixture
async def member(db: Database, club_id: uuid.UUID) -> Member:
    return await make_member(db, club_id)


@pytest.fixture
async def membership(db: Database, member: Member, club_id: uuid.UUID) -> Membership:
    plan = await make_plan(db, club_id)
    return await make_membership(
        db, member, plan, start_date=date(2026, 1, 1), end_date=date(2026, 12, 31)
    )


async def staff_id(client: AsyncClient, token: str, club_id: object, **extra: Any) -> str:
    body = {"name": "Olga Owner", "roles": ["manager"], "club_ids": [str(club_id)], **extra}
    r = await client.post("/api/v1/staff", json=body, headers=bearer(token))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def body(member: Member, **extra: Any) -> dict[str, Any]:
    return {
        "member_id": str(member.id),
        "category": "equipment",
        "description": "Treadmills broken all week",
        "severity": "medium",
        "source": "call",
        **extra,
    }


async def open_one(client: AsyncClient, token: str, member: Member, **extra: Any) -> dict:
    r = await client.post(URL, json=body(member, **extra), headers=bearer(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def load_membership(db: Database, membership_id: uuid.UUID) -> Membership:
    async with db.sessionmaker() as s:
        m = await s.get(Membership, membership_id)
        assert m is not None
        return m


RESOLVE = {"resolution": "Repaired and apologised", "root_cause": "equipment_failure"}


class TestOpen:
    @pytest.mark.parametrize(
        ("severity", "within"),
        [
            ("critical", timedelta(hours=4)),
            ("high", timedelta(hours=24)),
            ("medium", timedelta(hours=72)),
            ("low", timedelta(days=7)),
        ],
    )
    async def test_due_time_follows_severity(
        self, client: AsyncClient, caller: str, member: Member, severity: str, within: timedelta
    ) -> None:
        c = await open_one(client, caller, member, severity=severity)
        assert datetime.fromisoformat(c["due_at"]) == NOW + within
        assert (c["status"], c["overdue"]) == ("open", False)
        assert c["reported_by_id"] is not None

    async def test_links_to_the_members_own_call_meeting_and_membership(
        self,
        client: AsyncClient,
        db: Database,
        caller: str,
        member: Member,
        membership: Membership,
        club_id: uuid.UUID,
    ) -> None:
        call = await make_call(db, member.id, club_id)
        meeting = await make_meeting(db, member, starts_at=NOW - timedelta(days=1))
        c = await open_one(
            client,
            caller,
            member,
            call_id=str(call.id),
            meeting_id=str(meeting.id),
            membership_id=str(membership.id),
        )
        assert (c["call_id"], c["meeting_id"], c["membership_id"]) == (
            str(call.id),
            str(meeting.id),
            str(membership.id),
        )

    async def test_opening_emits_complaint_opened(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        c = await open_one(client, caller, member)
        async with db.sessionmaker() as s:
            found = (await s.scalars(select(Event).where(Event.type == "complaint.opened"))).all()
        assert [e.data["complaint_id"] for e in found] == [c["id"]]

    @pytest.mark.parametrize("what", ["call", "meeting", "membership"])
    async def test_another_members_link_is_refused(
        self,
        client: AsyncClient,
        db: Database,
        caller: str,
        member: Member,
        club_id: uuid.UUID,
        what: str,
    ) -> None:
        other = await make_member(db, club_id)
        if what == "call":
            row_id = (await make_call(db, other.id, club_id)).id
        elif what == "meeting":
            row_id = (await make_meeting(db, other, starts_at=NOW)).id
        else:
            plan = await make_plan(db, club_id)
            row_id = (await make_membership(db, other, plan, start_date=TODAY)).id
        before = await rows(db, Complaint)
        r = await client.post(
            URL, json=body(member, **{f"{what}_id": str(row_id)}), headers=bearer(caller)
        )
        err = problem(r, 422, f"{what}_mismatch")
        assert err["errors"][0]["pointer"] == f"/{what}_id"
        assert await rows(db, Complaint) == before

    async def test_an_unknown_call_is_refused(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        before = await rows(db, Complaint)
        r = await client.post(
            URL, json=body(member, call_id=str(uuid.uuid4())), headers=bearer(caller)
        )
        problem(r, 422, "call_mismatch")
        assert await rows(db, Complaint) == before

    async def test_owner_must_be_active_staff_of_the_club(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        caller: str,
        member: Member,
        club_id: uuid.UUID,
    ) -> None:
        other = await make_club(client, admin_token, name="Elsewhere")
        outsider = await staff_id(client, admin_token, other["id"])
        inactive = await staff_id(client, admin_token, club_id)
        r = await client.patch(
            f"/api/v1/staff/{inactive}", json={"active": False}, headers=bearer(admin_token)
        )
        assert r.status_code == 200, r.text
        before = await rows(db, Complaint)
        for owner in (outsider, inactive, str(uuid.uuid4())):
            r = await client.post(URL, json=body(member, owner_id=owner), headers=bearer(caller))
            problem(r, 422, "owner_not_allowed")
        assert await rows(db, Complaint) == before
        owner = await staff_id(client, admin_token, club_id)
        assert (await open_one(client, caller, member, owner_id=owner))["owner_id"] == owner

    @pytest.mark.parametrize(
        "change",
        [
            {"severity": "urgent"},
            {"category": "vibes"},
            {"source": "pigeon"},
            {"description": ""},
            {"description": "x" * 5001},
            {"status": "resolved"},
        ],
    )
    async def test_bad_input_is_refused(
        self, client: AsyncClient, db: Database, caller: str, member: Member, change: dict
    ) -> None:
        before = await rows(db, Complaint)
        r = await client.post(URL, json=body(member, **change), headers=bearer(caller))
        problem(r, 422, "validation_error")
        assert await rows(db, Complaint) == before

    async def test_another_clubs_member_is_not_found(
        self, client: AsyncClient, db: Database, admin_token: str, caller: str
    ) -> None:
        other = await make_club(client, admin_token, name="Elsewhere")
        stranger = await make_member(db, other["id"])
        before = await rows(db, Complaint)
        r = await client.post(URL, json=body(stranger), headers=bearer(caller))
        problem(r, 404, "member_not_found")
        assert await rows(db, Complaint) == before

    async def test_a_trainer_may_not_open_complaints(
        self, client: AsyncClient, db: Database, club_id: uuid.UUID, member: Member
    ) -> None:
        trainer = await make_token(db, "trainer", club_ids=[club_id])
        r = await client.post(URL, json=body(member), headers=bearer(trainer))
        problem(r, 403, "forbidden")


class TestReadAndList:
    async def test_get_has_an_etag(self, client: AsyncClient, caller: str, member: Member) -> None:
        c = await open_one(client, caller, member)
        r = await client.get(f"{URL}/{c['id']}", headers=bearer(caller))
        assert r.status_code == 200
        assert r.headers["etag"].startswith('"')
        assert r.json()["id"] == c["id"]

    async def test_another_clubs_complaint_is_not_found(
        self, client: AsyncClient, db: Database, admin_token: str, member: Member
    ) -> None:
        c = await open_one(client, admin_token, member)
        other = await make_club(client, admin_token, name="Elsewhere")
        outsider = await make_token(db, "manager", club_ids=[uuid.UUID(other["id"])])
        r = await client.get(f"{URL}/{c['id']}", headers=bearer(outsider))
        problem(r, 404, "complaint_not_found")
        r = await client.get(URL, headers=bearer(outsider))
        assert r.json()["items"] == []

    async def test_filters_and_cursor_pages(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        caller: str,
        member: Member,
        club_id: uuid.UUID,
    ) -> None:
        owner = await staff_id(client, admin_token, club_id)
        other = await make_member(db, club_id)
        with freeze(NOW - timedelta(days=10)):
            late = await open_one(client, caller, member, severity="critical")
        mine = await open_one(client, caller, member, owner_id=owner, severity="low")
        theirs = await open_one(client, caller, other, severity="high")

        async def ids(**params: Any) -> list[str]:
            r = await client.get(URL, params=params, headers=bearer(caller))
            assert r.status_code == 200, r.text
            return [c["id"] for c in r.json()["items"]]

        assert await ids() == [late["id"], theirs["id"], mine["id"]]  # soonest due first
        assert await ids(member_id=str(member.id)) == [late["id"], mine["id"]]
        assert await ids(owner_id=owner) == [mine["id"]]
        assert await ids(overdue="true") == [late["id"]]
        assert await ids(overdue="false") == [theirs["id"], mine["id"]]
        assert await ids(club_id=str(club_id), status="open") == [
            late["id"],
            theirs["id"],
            mine["id"],
        ]
        assert await ids(status="resolved") == []
        r = await client.get(URL, params={"limit": 2}, headers=bearer(caller))
        page = r.json()
        r = await client.get(
            URL, params={"limit": 2, "cursor": page["next_cursor"]}, headers=bearer(caller)
        )
        assert [c["id"] for c in page["items"] + r.json()["items"]] == [
            late["id"],
            theirs["id"],
            mine["id"],
        ]
        assert r.json()["next_cursor"] is None


class TestUpdate:
    async def test_owner_status_and_severity_change_due_from_creation(
        self,
        client: AsyncClient,
        admin_token: str,
        caller: str,
        member: Member,
        club_id: uuid.UUID,
    ) -> None:
        c = await open_one(client, caller, member, severity="low")
        owner = await staff_id(client, admin_token, club_id)
        etag = (await client.get(f"{URL}/{c['id']}", headers=bearer(caller))).headers["etag"]
        with freeze(NOW + timedelta(hours=2)):
            r = await client.patch(
                f"{URL}/{c['id']}",
                json={"owner_id": owner, "status": "in_progress", "severity": "critical"},
                headers={**bearer(caller), "If-Match": etag},
            )
        assert r.status_code == 200, r.text
        got = r.json()
        assert (got["owner_id"], got["status"], got["severity"]) == (
            owner,
            "in_progress",
            "critical",
        )
        assert datetime.fromisoformat(got["due_at"]) == NOW + timedelta(hours=4)
        assert r.headers["etag"] != etag
        r = await client.patch(f"{URL}/{c['id']}", json={"status": "open"}, headers=bearer(caller))
        assert r.json()["status"] == "open"

    async def test_a_stale_etag_is_refused(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        c = await open_one(client, caller, member)
        etag = (await client.get(f"{URL}/{c['id']}", headers=bearer(caller))).headers["etag"]
        r = await client.patch(
            f"{URL}/{c['id']}", json={"status": "in_progress"}, headers=bearer(caller)
        )
        assert r.status_code == 200
        before = await rows(db, Complaint)
        r = await client.patch(
            f"{URL}/{c['id']}",
            json={"severity": "high"},
            headers={**bearer(caller), "If-Match": etag},
        )
        problem(r, 412, "precondition_failed")
        assert await rows(db, Complaint) == before

    @pytest.mark.parametrize(
        "change", [{"status": "resolved"}, {"severity": None}, {"resolution": "x"}]
    )
    async def test_bad_changes_are_refused(
        self, client: AsyncClient, db: Database, caller: str, member: Member, change: dict
    ) -> None:
        c = await open_one(client, caller, member)
        before = await rows(db, Complaint)
        r = await client.patch(f"{URL}/{c['id']}", json=change, headers=bearer(caller))
        problem(r, 422, "validation_error")
        assert await rows(db, Complaint) == before

    async def test_an_outsider_owner_is_refused(
        self, client: AsyncClient, db: Database, admin_token: str, caller: str, member: Member
    ) -> None:
        c = await open_one(client, caller, member)
        other = await make_club(client, admin_token, name="Elsewhere")
        outsider = await staff_id(client, admin_token, other["id"])
        before = await rows(db, Complaint)
        r = await client.patch(
            f"{URL}/{c['id']}", json={"owner_id": outsider}, headers=bearer(caller)
        )
        problem(r, 422, "owner_not_allowed")
        assert await rows(db, Complaint) == before

    async def test_a_resolved_complaint_cannot_change(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        c = await open_one(client, caller, member)
        r = await client.post(f"{URL}/{c['id']}/resolve", json=RESOLVE, headers=bearer(caller))
        assert r.status_code == 200, r.text
        before = await rows(db, Complaint)
        r = await client.patch(f"{URL}/{c['id']}", json={"status": "open"}, headers=bearer(caller))
        problem(r, 409, "complaint_already_resolved")
        assert await rows(db, Complaint) == before


class TestResolve:
    async def test_resolves_with_resolution_and_root_cause(
        self, client: AsyncClient, caller: str, member: Member
    ) -> None:
        c = await open_one(client, caller, member)
        with freeze(NOW + timedelta(hours=5)):
            r = await client.post(f"{URL}/{c['id']}/resolve", json=RESOLVE, headers=bearer(caller))
        assert r.status_code == 200, r.text
        got = r.json()
        assert (got["status"], got["resolution"], got["root_cause"]) == (
            "resolved",
            "Repaired and apologised",
            "equipment_failure",
        )
        assert datetime.fromisoformat(got["resolved_at"]) == NOW + timedelta(hours=5)
        assert got["resolved_by_id"] is not None
        assert got["compensation_bonus_days"] is None
        assert got["overdue"] is False

    async def test_resolving_twice_is_a_conflict(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        c = await open_one(client, caller, member)
        await client.post(f"{URL}/{c['id']}/resolve", json=RESOLVE, headers=bearer(caller))
        before = await rows(db, Complaint, AuditEntry)
        r = await client.post(
            f"{URL}/{c['id']}/resolve",
            json={**RESOLVE, "root_cause": "process"},
            headers=bearer(caller),
        )
        problem(r, 409, "complaint_already_resolved")
        assert await rows(db, Complaint, AuditEntry) == before

    async def test_root_cause_must_come_from_the_taxonomy(
        self, client: AsyncClient, db: Database, caller: str, member: Member
    ) -> None:
        c = await open_one(client, caller, member)
        before = await rows(db, Complaint)
        r = await client.post(
            f"{URL}/{c['id']}/resolve",
            json={**RESOLVE, "root_cause": "bad_luck"},
            headers=bearer(caller),
        )
        problem(r, 422, "validation_error")
        assert await rows(db, Complaint) == before

    async def test_bonus_days_move_the_membership_end_date_and_are_audited(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        caller: str,
        manager: str,
        member: Member,
        membership: Membership,
    ) -> None:
        c = await open_one(client, caller, member)
        r = await client.post(
            f"{URL}/{c['id']}/resolve",
            json={**RESOLVE, "compensation": {"bonus_days": 7, "free_sessions": 2}},
            headers=bearer(manager),
        )
        assert r.status_code == 200, r.text
        got = r.json()
        assert (got["compensation_bonus_days"], got["compensation_free_sessions"]) == (7, 2)
        assert got["membership_id"] == str(membership.id)
        assert (await load_membership(db, membership.id)).end_date == date(2027, 1, 7)
        r = await client.get(
            "/api/v1/audit",
            params={"entity": "membership", "entity_id": str(membership.id)},
            headers=bearer(admin_token),
        )
        [entry] = [e for e in r.json()["items"] if e["action"] == "bonus_days_added"]
        assert entry["changes"]["end_date"] == ["2026-12-31", "2027-01-07"]
        assert entry["changes"]["reason"] == f"complaint {c['id']}"
        assert entry["actor_label"] == "staff:Max Manager"
        r = await client.get(
            "/api/v1/audit",
            params={"entity": "complaint", "entity_id": c["id"]},
            headers=bearer(admin_token),
        )
        actions = {e["action"] for e in r.json()["items"]}
        assert {"opened", "compensated", "resolved"} <= actions

    async def test_free_sessions_alone_are_recorded(
        self, client: AsyncClient, db: Database, manager: str, caller: str, member: Member
    ) -> None:
        c = await open_one(client, caller, member)
        r = await client.post(
            f"{URL}/{c['id']}/resolve",
            json={**RESOLVE, "compensation": {"free_sessions": 1}},
            headers=bearer(manager),
        )
        assert r.status_code == 200, r.text
        assert (r.json()["compensation_free_sessions"], r.json()["compensation_bonus_days"]) == (
            1,
            None,
        )

    async def test_only_managers_may_compensate(
        self,
        client: AsyncClient,
        db: Database,
        caller: str,
        member: Member,
        membership: Membership,
    ) -> None:
        c = await open_one(client, caller, member)
        before = await rows(db, Complaint, Membership, AuditEntry)
        r = await client.post(
            f"{URL}/{c['id']}/resolve",
            json={**RESOLVE, "compensation": {"bonus_days": 7}},
            headers=bearer(caller),
        )
        problem(r, 403, "compensation_not_allowed")
        assert await rows(db, Complaint, Membership, AuditEntry) == before

    async def test_bonus_days_need_a_live_membership(
        self,
        client: AsyncClient,
        db: Database,
        manager: str,
        caller: str,
        member: Member,
        club_id: uuid.UUID,
    ) -> None:
        plan = await make_plan(db, club_id)
        await make_membership(
            db, member, plan, start_date=date(2025, 1, 1), end_date=date(2025, 12, 31)
        )
        c = await open_one(client, caller, member)
        before = await rows(db, Complaint, Membership, AuditEntry)
        r = await client.post(
            f"{URL}/{c['id']}/resolve",
            json={**RESOLVE, "compensation": {"bonus_days": 7}},
            headers=bearer(manager),
        )
        problem(r, 422, "no_live_membership")
        assert await rows(db, Complaint, Membership, AuditEntry) == before

    @pytest.mark.parametrize(
        "compensation", [{}, {"bonus_days": 0}, {"bonus_days": 366}, {"free_sessions": -1}]
    )
    async def test_compensation_must_be_sensible(
        self,
        client: AsyncClient,
        db: Database,
        manager: str,
        caller: str,
        member: Member,
        membership: Membership,
        compensation: dict,
    ) -> None:
        c = await open_one(client, caller, member)
        before = await rows(db, Complaint, Membership)
        r = await client.post(
            f"{URL}/{c['id']}/resolve",
            json={**RESOLVE, "compensation": compensation},
            headers=bearer(manager),
        )
        problem(r, 422, "validation_error")
        assert await rows(db, Complaint, Membership) == before

    async def test_another_clubs_complaint_cannot_be_resolved(
        self, client: AsyncClient, db: Database, admin_token: str, member: Member
    ) -> None:
        c = await open_one(client, admin_token, member)
        other = await make_club(client, admin_token, name="Elsewhere")
        outsider = await make_token(db, "manager", club_ids=[uuid.UUID(other["id"])])
        before = await rows(db, Complaint)
        r = await client.post(f"{URL}/{c['id']}/resolve", json=RESOLVE, headers=bearer(outsider))
        problem(r, 404, "complaint_not_found")
        assert await rows(db, Complaint) == before


class TestPrivacy:
    async def test_export_includes_complaints(
        self, client: AsyncClient, admin_token: str, caller: str, member: Member
    ) -> None:
        c = await open_one(client, caller, member)
        r = await client.get(f"/api/v1/members/{member.id}/export", headers=bearer(admin_token))
        assert r.status_code == 200, r.text
        [row] = r.json()["sections"]["complaints"]
        assert (row["id"], row["description"]) == (c["id"], "Treadmills broken all week")

    async def test_erasure_blanks_texts_and_keeps_the_case(
        self, client: AsyncClient, db: Database, admin_token: str, manager: str, member: Member
    ) -> None:
        c = await open_one(client, manager, member, category="staff", severity="high")
        await client.post(
            f"{URL}/{c['id']}/resolve",
            json={**RESOLVE, "root_cause": "staff_behaviour"},
            headers=bearer(manager),
        )
        r = await client.delete(f"/api/v1/members/{member.id}", headers=bearer(admin_token))
        assert r.status_code == 204
        async with db.sessionmaker() as s:
            row = await s.get(Complaint, uuid.UUID(c["id"]))
        assert row is not None
        assert (row.description, row.resolution) == ("[erased]", "[erased]")
        assert (row.category, row.severity, row.root_cause, row.status) == (
            "staff",
            "high",
            "staff_behaviour",
            "resolved",
        )
