"""POST /members: the member card as sales hand it over, and every kind of bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from tests.fixtures.factories import bearer, make_club, make_token
from tests.members.conftest import (
    MEMBERS,
    assert_problem,
    audit_entries,
    create_member,
    member_body,
    member_row,
    pointers,
    snapshot,
)


class TestCreateMember:
    async def test_full_card_is_stored_and_read_back(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any]
    ) -> None:
        body = member_body(
            club,
            email="maria@example.com",
            birth_date="1990-04-12",
            card_number="004512",
            preferred_channel="sms",
            contact_window_start="18:00",
            contact_window_end="20:30",
            interests=["pool", "group classes", "Pool"],
            personal_dates=[
                {"kind": "family_birthday", "date": "09-01", "label": "Son Artem"},
                {"kind": "anniversary", "date": "02-29", "label": "Wedding"},
            ],
            goals="Lose 5 kg before summer.",
            notes="Came with her sister; ask about the kids' pool.",
            do_not_contact=False,
            consents={"calls": True, "service_sms": True, "marketing_sms": False},
            consent_source="web",
        )
        r = await client.post(MEMBERS, json=body, headers=bearer(admin_token))
        assert r.status_code == 201, r.text
        m = r.json()
        assert m["id"]
        assert m["club_id"] == club["id"]
        assert m["phone"] == "+79161234567"
        assert m["email"] == "maria@example.com"
        assert m["birth_date"] == "1990-04-12"
        assert m["preferred_channel"] == "sms"
        assert (m["contact_window_start"], m["contact_window_end"]) == ("18:00", "20:30")
        assert m["interests"] == ["pool", "group classes"]  # case-insensitive duplicate dropped
        assert m["personal_dates"][1] == {
            "kind": "anniversary",
            "date": "02-29",
            "label": "Wedding",
        }
        assert m["consents"] == {
            "calls": True,
            "service_sms": True,
            "marketing_sms": False,
            "marketing_email": False,
        }
        assert [n["kind"] for n in m["handoff_notes"]] == ["handoff"]
        assert m["handoff_notes"][0]["body"] == "Came with her sister; ask about the kids' pool."
        assert m["erased_at"] is None

        again = await client.get(f"{MEMBERS}/{m['id']}", headers=bearer(admin_token))
        assert again.status_code == 200
        assert again.json() == m

    async def test_defaults(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any]
    ) -> None:
        m = await create_member(client, admin_token, club)
        assert m["preferred_channel"] == "call"
        assert m["do_not_contact"] is False
        assert m["interests"] == []
        assert m["personal_dates"] == []
        assert m["handoff_notes"] == []
        assert set(m["consents"].values()) == {False}
        assert m["contact_window_start"] is None
        assert m["card_number"] is None

    async def test_consents_become_events_with_source_and_recorder(
        self, client: AsyncClient, db: Database, club: dict[str, Any]
    ) -> None:
        desk = await make_token(db, "front_desk", club_ids=[club["id"]], name="Desk Dasha")
        m = await create_member(
            client,
            desk,
            club,
            consents={"calls": True, "marketing_email": False},
            consent_source="app",
        )
        r = await client.get(f"{MEMBERS}/{m['id']}/consents", headers=bearer(desk))
        history = r.json()["history"]
        assert sorted((e["purpose"], e["granted"]) for e in history) == [
            ("calls", True),
            ("marketing_email", False),
        ]
        assert {e["source"] for e in history} == {"app"}
        assert all(e["recorded_by_staff_id"] for e in history)

    async def test_handoff_note_is_authored_by_the_principals_staff(
        self, client: AsyncClient, db: Database, club: dict[str, Any]
    ) -> None:
        desk = await make_token(db, "front_desk", club_ids=[club["id"]])
        me = (await client.get(f"/api/v1/staff?club_id={club['id']}", headers=bearer(desk))).json()
        m = await create_member(client, desk, club, notes="Wants mornings only.")
        note = m["handoff_notes"][0]
        assert note["author_staff_id"] == me["items"][0]["id"]

    async def test_creation_is_audited(
        self, client: AsyncClient, db: Database, admin_token: str, club: dict[str, Any]
    ) -> None:
        m = await create_member(client, admin_token, club, consents={"calls": True})
        [entry] = await audit_entries(db, m["id"], "created")
        assert entry.changes["phone"] == [None, "+79161234567"]
        assert entry.changes["consent.calls"] == [None, True]
        assert entry.actor_label == "staff:Ada Admin"

    async def test_idempotent_replay_creates_one_member(
        self, client: AsyncClient, db: Database, admin_token: str, club: dict[str, Any]
    ) -> None:
        headers = {**bearer(admin_token), "Idempotency-Key": "member-create-1"}
        first = await client.post(MEMBERS, json=member_body(club), headers=headers)
        replay = await client.post(MEMBERS, json=member_body(club), headers=headers)
        assert first.status_code == replay.status_code == 201
        assert replay.json()["id"] == first.json()["id"]
        assert replay.headers["idempotent-replayed"] == "true"
        assert len((await snapshot(db))["members"]) == 1

    async def test_emoji_and_right_to_left_text_round_trip(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any]
    ) -> None:
        first = "Zoë 👩🏽‍💻"  # combining-free diaeresis, skin tone and zero-width joiner
        last = "\u200fمريم العربي"  # right-to-left mark + Arabic
        goals = "שחייה 🏊 three times a week"
        m = await create_member(
            client,
            admin_token,
            club,
            first_name=first,
            last_name=last,
            goals=goals,
            interests=["йога", "🧘"],
            personal_dates=[{"kind": "name_day", "date": "12-05", "label": "יום הולדת"}],
        )
        r = await client.get(f"{MEMBERS}/{m['id']}", headers=bearer(admin_token))
        got = r.json()
        assert (got["first_name"], got["last_name"], got["goals"]) == (first, last, goals)
        assert got["interests"] == ["йога", "🧘"]
        assert got["personal_dates"][0]["label"] == "יום הולדת"


class TestPhone:
    @pytest.mark.parametrize(
        ("raw", "e164"),
        [
            ("+7 916 123-45-67", "+79161234567"),
            ("+7 (916) 123 45 67", "+79161234567"),
            ("+1 202-555-0100", "+12025550100"),
            ("+44 20 7946 0958", "+442079460958"),
        ],
    )
    async def test_international_numbers_are_stored_as_e164(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any], raw: str, e164: str
    ) -> None:
        m = await create_member(client, admin_token, club, phone=raw)
        assert m["phone"] == e164

    async def test_national_number_uses_the_clubs_region(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        moscow = await make_club(client, admin_token, phone="+74951234567")
        m = await create_member(client, admin_token, moscow, phone="8 (916) 123-45-67")
        assert m["phone"] == "+79161234567"

    async def test_national_number_without_a_club_phone_is_refused(
        self, client: AsyncClient, db: Database, admin_token: str, club: dict[str, Any]
    ) -> None:
        before = await snapshot(db)
        r = await client.post(
            MEMBERS, json=member_body(club, phone="8 916 123-45-67"), headers=bearer(admin_token)
        )
        assert_problem(r, 422, "validation_error")
        assert pointers(r) == {"/phone"}
        assert await snapshot(db) == before

    @pytest.mark.parametrize("raw", ["+7 000", "not a phone 916", "+999 12345678", "12"])
    async def test_invalid_phone_is_refused_without_echoing_it(
        self, client: AsyncClient, db: Database, admin_token: str, raw: str
    ) -> None:
        club = await make_club(client, admin_token, phone="+74951234567")
        before = await snapshot(db)
        r = await client.post(
            MEMBERS, json=member_body(club, phone=raw), headers=bearer(admin_token)
        )
        assert_problem(r, 422, "validation_error")
        assert pointers(r) == {"/phone"}
        assert raw not in r.text
        assert await snapshot(db) == before


class TestBadInput:
    @pytest.mark.parametrize(
        ("overrides", "pointer"),
        [
            ({"first_name": "Ma\x00ria"}, "/first_name"),
            ({"last_name": "x" * 100_000}, "/last_name"),
            ({"first_name": "   "}, "/first_name"),
            ({"first_name": "Maria\nDROP"}, "/first_name"),
            ({"phone": None}, "/phone"),
            ({"email": "not-an-email"}, "/email"),
            ({"birth_date": "12.04.1990"}, "/birth_date"),
            ({"birth_date": 640000000}, "/birth_date"),
            ({"birth_date": "1899-12-31"}, "/birth_date"),
            ({"preferred_channel": "pigeon"}, "/preferred_channel"),
            ({"personal_dates": [{"kind": "name_day", "date": "02-30", "label": "x"}]}, None),
            ({"personal_dates": [{"kind": "name_day", "date": "13-01", "label": "x"}]}, None),
            ({"personal_dates": [{"kind": "wedding", "date": "01-01", "label": "x"}]}, None),
            (
                {"contact_window_start": "20:00", "contact_window_end": "18:00"},
                "/contact_window_end",
            ),
            (
                {"contact_window_start": "18:00", "contact_window_end": "18:00"},
                "/contact_window_end",
            ),
            ({"contact_window_start": "18:00"}, "/contact_window_end"),
            ({"contact_window_end": "18:00"}, "/contact_window_end"),
            ({"contact_window_start": "18:00:00", "contact_window_end": "19:00"}, None),
            ({"contact_window_start": "25:00", "contact_window_end": "26:00"}, None),
            ({"interests": ["x" * 51]}, "/interests/0"),
            ({"interests": [f"i{n}" for n in range(31)]}, "/interests"),
            ({"consents": {"calls": "yes"}}, "/consents/calls"),
            ({"consents": {"sms_spam": True}}, "/consents/sms_spam"),
            ({"do_not_contact": "no"}, "/do_not_contact"),
            ({"consent_source": "fax"}, "/consent_source"),
            ({"notes": ""}, "/notes"),
            ({"club_id": "not-a-uuid"}, "/club_id"),
        ],
    )
    async def test_invalid_field_is_a_validation_problem_and_writes_nothing(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        club: dict[str, Any],
        overrides: dict[str, Any],
        pointer: str | None,
    ) -> None:
        before = await snapshot(db)
        r = await client.post(
            MEMBERS, json=member_body(club, **overrides), headers=bearer(admin_token)
        )
        body = assert_problem(r, 422, "validation_error")
        if pointer is not None:
            assert pointer in pointers(r), body
        assert await snapshot(db) == before

    @pytest.mark.parametrize(
        "field", ["id", "erased_at", "phone_invalid_at", "created_at", "is_admin"]
    )
    async def test_unknown_field_is_refused(
        self, client: AsyncClient, db: Database, admin_token: str, club: dict[str, Any], field: str
    ) -> None:
        before = await snapshot(db)
        body = member_body(club, **{field: "2026-01-01T00:00:00Z"})
        r = await client.post(MEMBERS, json=body, headers=bearer(admin_token))
        assert_problem(r, 422, "validation_error")
        assert f"/{field}" in pointers(r)
        assert await snapshot(db) == before

    @pytest.mark.parametrize("field", ["first_name", "goals", "notes", "card_number", "phone"])
    async def test_lone_surrogate_is_refused(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        club: dict[str, Any],
        field: str,
    ) -> None:
        # Valid JSON ("\ud800" escape), but not text any database can store.
        before = await snapshot(db)
        raw = json.dumps(member_body(club, **{field: "Ma\ud800ria"}))
        r = await client.post(
            MEMBERS,
            content=raw.encode(),
            headers={**bearer(admin_token), "content-type": "application/json"},
        )
        assert_problem(r, 422, "validation_error")
        assert pointers(r) == {f"/{field}"}
        assert await snapshot(db) == before

    async def test_future_birth_date_is_refused(
        self, client: AsyncClient, db: Database, admin_token: str, club: dict[str, Any]
    ) -> None:
        before = await snapshot(db)
        r = await client.post(
            MEMBERS, json=member_body(club, birth_date="2999-01-01"), headers=bearer(admin_token)
        )
        assert_problem(r, 422, "validation_error")
        assert pointers(r) == {"/birth_date"}
        assert await snapshot(db) == before

    async def test_malformed_json(
        self, client: AsyncClient, db: Database, admin_token: str
    ) -> None:
        before = await snapshot(db)
        r = await client.post(
            MEMBERS,
            content=b'{"first_name": ',
            headers={**bearer(admin_token), "content-type": "application/json"},
        )
        assert_problem(r, 422, "malformed_json")
        assert await snapshot(db) == before


class TestCardNumber:
    async def test_duplicate_in_the_same_club_is_a_conflict_and_writes_nothing(
        self, client: AsyncClient, db: Database, admin_token: str, club: dict[str, Any]
    ) -> None:
        await create_member(client, admin_token, club, card_number="C-1")
        before = await snapshot(db)
        r = await client.post(
            MEMBERS,
            json=member_body(
                club, card_number="C-1", notes="x", consents={"calls": True}, first_name="Olga"
            ),
            headers=bearer(admin_token),
        )
        assert_problem(r, 409, "card_number_taken")
        assert pointers(r) == {"/card_number"}
        assert await snapshot(db) == before

    async def test_same_card_in_another_club_is_fine(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict[str, Any],
        other_club: dict[str, Any],
    ) -> None:
        await create_member(client, admin_token, club, card_number="C-1")
        m = await create_member(client, admin_token, other_club, card_number="C-1")
        assert m["card_number"] == "C-1"

    async def test_members_without_a_card_do_not_collide(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any]
    ) -> None:
        await create_member(client, admin_token, club)
        await create_member(client, admin_token, club, first_name="Olga")


class TestClubAndReferrer:
    async def test_unknown_club_is_not_found(
        self, client: AsyncClient, db: Database, admin_token: str
    ) -> None:
        before = await snapshot(db)
        fake = {"id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11"}
        r = await client.post(MEMBERS, json=member_body(fake), headers=bearer(admin_token))
        assert_problem(r, 404, "club_not_found")
        assert await snapshot(db) == before

    async def test_club_outside_the_tokens_scope_is_not_found(
        self,
        client: AsyncClient,
        db: Database,
        club: dict[str, Any],
        other_club: dict[str, Any],
    ) -> None:
        desk = await make_token(db, "front_desk", club_ids=[club["id"]])
        before = await snapshot(db)
        r = await client.post(MEMBERS, json=member_body(other_club), headers=bearer(desk))
        assert_problem(r, 404, "club_not_found")
        assert await snapshot(db) == before

    async def test_referrer_of_the_same_club_is_linked(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any]
    ) -> None:
        friend = await create_member(client, admin_token, club, first_name="Olga")
        m = await create_member(client, admin_token, club, referred_by_id=friend["id"])
        assert m["referred_by_id"] == friend["id"]

    async def test_referrer_from_another_club_is_not_found(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        club: dict[str, Any],
        outsider: dict[str, Any],
    ) -> None:
        before = await snapshot(db)
        r = await client.post(
            MEMBERS,
            json=member_body(club, referred_by_id=outsider["id"]),
            headers=bearer(admin_token),
        )
        assert_problem(r, 404, "member_not_found")
        assert await snapshot(db) == before

    async def test_unknown_referrer_is_not_found(
        self, client: AsyncClient, db: Database, admin_token: str, club: dict[str, Any]
    ) -> None:
        r = await client.post(
            MEMBERS,
            json=member_body(club, referred_by_id="0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11"),
            headers=bearer(admin_token),
        )
        assert_problem(r, 404, "member_not_found")

    async def test_member_row_keeps_the_club(
        self, client: AsyncClient, db: Database, admin_token: str, club: dict[str, Any]
    ) -> None:
        m = await create_member(client, admin_token, club)
        row = await member_row(db, m["id"])
        assert str(row.club_id) == club["id"]
