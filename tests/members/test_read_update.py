"""GET and PATCH /members/{id}: object-level scope, partial updates, audit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from app.models import Member
from tests.fixtures.factories import bearer, make_club, make_token
from tests.members.conftest import (
    MEMBERS,
    assert_problem,
    audit_entries,
    create_member,
    member_row,
    pointers,
    snapshot,
)


async def integration_token(
    client: AsyncClient, admin: str, club_id: str, scopes: list[str], member_id: str | None
) -> str:
    r = await client.post(
        "/api/v1/tokens",
        json={"name": "member app", "club_id": club_id, "scopes": scopes, "member_id": member_id},
        headers=bearer(admin),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


class TestGet:
    async def test_another_clubs_member_is_not_found(
        self, client: AsyncClient, db: Database, club: dict[str, Any], outsider: dict[str, Any]
    ) -> None:
        desk = await make_token(db, "front_desk", club_ids=[club["id"]])
        r = await client.get(f"{MEMBERS}/{outsider['id']}", headers=bearer(desk))
        assert_problem(r, 404, "member_not_found")

    async def test_unknown_member_is_not_found(self, client: AsyncClient, admin_token: str) -> None:
        r = await client.get(
            f"{MEMBERS}/0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11", headers=bearer(admin_token)
        )
        assert_problem(r, 404, "member_not_found")

    async def test_malformed_id_is_a_validation_problem(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        r = await client.get(f"{MEMBERS}/not-a-uuid", headers=bearer(admin_token))
        assert_problem(r, 422, "validation_error")

    async def test_club_staff_reads_their_member(
        self, client: AsyncClient, db: Database, club: dict[str, Any], member: dict[str, Any]
    ) -> None:
        trainer = await make_token(db, "trainer", club_ids=[club["id"]])
        r = await client.get(f"{MEMBERS}/{member['id']}", headers=bearer(trainer))
        assert r.status_code == 200
        assert (
            r.json()["handoff_notes"][0]["body"] == "Came with her sister; prefers evening calls."
        )


class TestPinnedToken:
    async def test_reads_only_its_own_member(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict[str, Any],
        member: dict[str, Any],
    ) -> None:
        sister = await create_member(client, admin_token, club, first_name="Olga")
        app = await integration_token(
            client, admin_token, club["id"], ["members:read"], member["id"]
        )
        own = await client.get(f"{MEMBERS}/{member['id']}", headers=bearer(app))
        assert own.status_code == 200
        other = await client.get(f"{MEMBERS}/{sister['id']}", headers=bearer(app))
        assert_problem(other, 404, "member_not_found")
        listed = await client.get(MEMBERS, headers=bearer(app))
        assert [m["id"] for m in listed.json()["items"]] == [member["id"]]
        consents = await client.get(f"{MEMBERS}/{sister['id']}/consents", headers=bearer(app))
        assert_problem(consents, 404, "member_not_found")

    async def test_cannot_add_members(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        club: dict[str, Any],
        member: dict[str, Any],
    ) -> None:
        app = await integration_token(
            client, admin_token, club["id"], ["members:read", "members:write"], member["id"]
        )
        before = await snapshot(db)
        r = await client.post(
            MEMBERS,
            json={
                "club_id": club["id"],
                "first_name": "A",
                "last_name": "B",
                "phone": "+79031112233",
            },
            headers=bearer(app),
        )
        assert_problem(r, 403, "forbidden")
        assert await snapshot(db) == before

    async def test_may_record_its_own_consent(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any], member: dict[str, Any]
    ) -> None:
        app = await integration_token(
            client, admin_token, club["id"], ["members:read", "members:write"], member["id"]
        )
        r = await client.post(
            f"{MEMBERS}/{member['id']}/consents",
            json={"purpose": "marketing_email", "granted": True, "source": "app"},
            headers=bearer(app),
        )
        assert r.status_code == 201, r.text
        assert r.json()["recorded_by_staff_id"] is None


class TestPatch:
    async def test_only_sent_fields_change(
        self, client: AsyncClient, admin_token: str, member: dict[str, Any]
    ) -> None:
        r = await client.patch(
            f"{MEMBERS}/{member['id']}",
            json={"preferred_channel": "email", "interests": ["pool"]},
            headers=bearer(admin_token),
        )
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["preferred_channel"] == "email"
        assert got["interests"] == ["pool"]
        unchanged = {k: v for k, v in got.items() if k not in {"preferred_channel", "interests"}}
        expected = {k: v for k, v in member.items() if k not in {"preferred_channel", "interests"}}
        unchanged.pop("updated_at")
        expected.pop("updated_at")
        assert unchanged == expected

    async def test_null_clears_optional_fields(
        self, client: AsyncClient, admin_token: str, member: dict[str, Any]
    ) -> None:
        r = await client.patch(
            f"{MEMBERS}/{member['id']}",
            json={"email": None, "card_number": None, "goals": None},
            headers=bearer(admin_token),
        )
        assert r.status_code == 200
        assert (r.json()["email"], r.json()["card_number"]) == (None, None)

    @pytest.mark.parametrize(
        "field",
        [
            "first_name",
            "last_name",
            "phone",
            "preferred_channel",
            "interests",
            "personal_dates",
            "do_not_contact",
        ],
    )
    async def test_null_for_a_required_field_is_refused(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        member: dict[str, Any],
        field: str,
    ) -> None:
        before = await snapshot(db)
        r = await client.patch(
            f"{MEMBERS}/{member['id']}", json={field: None}, headers=bearer(admin_token)
        )
        assert_problem(r, 422, "validation_error")
        assert pointers(r) == {f"/{field}"}
        assert await snapshot(db) == before

    @pytest.mark.parametrize(
        ("body", "pointer"),
        [
            ({"club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11"}, "/club_id"),
            ({"erased_at": None}, "/erased_at"),
            ({"consents": {"calls": True}}, "/consents"),
            ({"phone": "+7 000"}, "/phone"),
            ({"first_name": "x" * 100_000}, "/first_name"),
            ({"last_name": "Iva\x00nova"}, "/last_name"),
            (
                {"contact_window_start": "21:00", "contact_window_end": "09:00"},
                "/contact_window_end",
            ),
            (
                {"personal_dates": [{"kind": "other", "date": "02-30", "label": "x"}]},
                "/personal_dates/0/date",
            ),
            ({"birth_date": "2999-01-01"}, "/birth_date"),
        ],
    )
    async def test_bad_patch_changes_nothing(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        member: dict[str, Any],
        body: dict[str, Any],
        pointer: str,
    ) -> None:
        before = await snapshot(db)
        r = await client.patch(f"{MEMBERS}/{member['id']}", json=body, headers=bearer(admin_token))
        assert_problem(r, 422, "validation_error")
        assert pointer in pointers(r)
        assert await snapshot(db) == before

    async def test_window_is_checked_against_the_stored_end(
        self, client: AsyncClient, db: Database, admin_token: str, club: dict[str, Any]
    ) -> None:
        m = await create_member(
            client, admin_token, club, contact_window_start="10:00", contact_window_end="12:00"
        )
        before = await snapshot(db)
        r = await client.patch(
            f"{MEMBERS}/{m['id']}",
            json={"contact_window_start": "13:00"},
            headers=bearer(admin_token),
        )
        assert_problem(r, 422, "validation_error")
        assert pointers(r) == {"/contact_window_end"}
        assert await snapshot(db) == before
        ok = await client.patch(
            f"{MEMBERS}/{m['id']}",
            json={"contact_window_start": None, "contact_window_end": None},
            headers=bearer(admin_token),
        )
        assert ok.status_code == 200
        assert ok.json()["contact_window_start"] is None

    async def test_new_phone_is_normalised_and_clears_the_wrong_number_mark(
        self, client: AsyncClient, db: Database, admin_token: str, member: dict[str, Any]
    ) -> None:
        async with db.session_scope() as s:
            row = await s.get(Member, uuid.UUID(member["id"]))
            assert row is not None
            row.phone_invalid_at = datetime(2026, 1, 1, tzinfo=UTC)
        r = await client.patch(
            f"{MEMBERS}/{member['id']}",
            json={"phone": "+7 (903) 111-22-33"},
            headers=bearer(admin_token),
        )
        assert r.status_code == 200
        assert r.json()["phone"] == "+79031112233"
        assert r.json()["phone_invalid_at"] is None

    async def test_duplicate_card_on_patch_is_a_conflict_and_changes_nothing(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        club: dict[str, Any],
        member: dict[str, Any],
    ) -> None:
        olga = await create_member(client, admin_token, club, first_name="Olga", card_number="B-2")
        before = await snapshot(db)
        r = await client.patch(
            f"{MEMBERS}/{olga['id']}",
            json={"card_number": member["card_number"], "first_name": "Olya"},
            headers=bearer(admin_token),
        )
        assert_problem(r, 409, "card_number_taken")
        assert await snapshot(db) == before
        assert (await member_row(db, olga["id"])).first_name == "Olga"

    async def test_another_clubs_member_cannot_be_patched(
        self, client: AsyncClient, db: Database, club: dict[str, Any], outsider: dict[str, Any]
    ) -> None:
        desk = await make_token(db, "front_desk", club_ids=[club["id"]])
        before = await snapshot(db)
        r = await client.patch(
            f"{MEMBERS}/{outsider['id']}", json={"first_name": "Hacked"}, headers=bearer(desk)
        )
        assert_problem(r, 404, "member_not_found")
        assert await snapshot(db) == before

    async def test_referrer_must_be_of_the_same_club_and_not_the_member(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        member: dict[str, Any],
        outsider: dict[str, Any],
    ) -> None:
        before = await snapshot(db)
        r = await client.patch(
            f"{MEMBERS}/{member['id']}",
            json={"referred_by_id": outsider["id"]},
            headers=bearer(admin_token),
        )
        assert_problem(r, 404, "member_not_found")
        r = await client.patch(
            f"{MEMBERS}/{member['id']}",
            json={"referred_by_id": member["id"]},
            headers=bearer(admin_token),
        )
        assert_problem(r, 422, "validation_error")
        assert pointers(r) == {"/referred_by_id"}
        assert await snapshot(db) == before

    async def test_phone_region_follows_the_members_club(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        berlin = await make_club(
            client, admin_token, timezone="Europe/Berlin", currency="EUR", phone="+49 30 901820"
        )
        m = await create_member(client, admin_token, berlin, phone="+49 30 1234567")
        r = await client.patch(
            f"{MEMBERS}/{m['id']}", json={"phone": "030 7654321"}, headers=bearer(admin_token)
        )
        assert r.status_code == 200, r.text
        assert r.json()["phone"] == "+49307654321"


class TestAudit:
    async def test_contact_data_and_flag_changes_are_audited_with_a_diff(
        self, client: AsyncClient, db: Database, admin_token: str, member: dict[str, Any]
    ) -> None:
        r = await client.patch(
            f"{MEMBERS}/{member['id']}",
            json={
                "phone": "+7 903 111-22-33",
                "email": "new@example.com",
                "last_name": "Smirnova",
                "card_number": "NEW-1",
                "do_not_contact": True,
                "goals": "Run a 10k",
            },
            headers=bearer(admin_token),
        )
        assert r.status_code == 200
        [entry] = await audit_entries(db, member["id"], "updated")
        assert entry.changes == {
            "phone": ["+79161234567", "+79031112233"],
            "email": ["maria@example.com", "new@example.com"],
            "last_name": ["Ivanova", "Smirnova"],
            "card_number": ["004512", "NEW-1"],
            "do_not_contact": [False, True],
        }
        assert entry.club_id is not None

    async def test_a_change_to_nothing_audited_records_no_entry(
        self, client: AsyncClient, db: Database, admin_token: str, member: dict[str, Any]
    ) -> None:
        r = await client.patch(
            f"{MEMBERS}/{member['id']}",
            json={"goals": "Swim", "first_name": member["first_name"]},
            headers=bearer(admin_token),
        )
        assert r.status_code == 200
        assert await audit_entries(db, member["id"], "updated") == []
