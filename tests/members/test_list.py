"""GET /members: club-scoped cursor pages and the desk's search box."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from tests.fixtures.factories import bearer, make_club, make_token
from tests.members.conftest import MEMBERS, assert_problem, create_member, pointers, snapshot


async def search(client: AsyncClient, token: str, **params: Any) -> list[dict[str, Any]]:
    r = await client.get(MEMBERS, params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def names(items: list[dict[str, Any]]) -> list[str]:
    return [f"{m['first_name']} {m['last_name']}" for m in items]


@pytest.fixture
async def people(
    client: AsyncClient, admin_token: str, club: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    specs = {
        "maria": {
            "first_name": "Maria",
            "last_name": "Ivanova",
            "phone": "+7 916 123-45-67",
            "email": "maria.ivanova@example.com",
            "card_number": "004512",
        },
        "olga": {
            "first_name": "Olga",
            "last_name": "Petrova",
            "phone": "+7 903 555-00-11",
            "email": "olga@mail.example",
            "card_number": "A-77",
        },
        "ivan": {
            "first_name": "Ivan",
            "last_name": "Sidorov",
            "phone": "+1 202 555 0100",
            "email": None,
            "card_number": "100%_CARD",
            "do_not_contact": True,
        },
    }
    return {k: await create_member(client, admin_token, club, **v) for k, v in specs.items()}


class TestScope:
    async def test_club_limited_token_sees_only_its_clubs_members(
        self,
        client: AsyncClient,
        db: Database,
        club: dict[str, Any],
        people: dict[str, dict[str, Any]],
        outsider: dict[str, Any],
    ) -> None:
        desk = await make_token(db, "front_desk", club_ids=[club["id"]])
        items = await search(client, desk)
        assert {m["id"] for m in items} == {p["id"] for p in people.values()}
        assert outsider["id"] not in {m["id"] for m in await search(client, desk, q="Otto")}

    async def test_chain_wide_token_sees_every_club_and_can_filter_one(
        self,
        client: AsyncClient,
        admin_token: str,
        other_club: dict[str, Any],
        people: dict[str, dict[str, Any]],
        outsider: dict[str, Any],
    ) -> None:
        assert len(await search(client, admin_token)) == 4
        only = await search(client, admin_token, club_id=other_club["id"])
        assert [m["id"] for m in only] == [outsider["id"]]

    async def test_club_id_of_an_invisible_club_is_not_found(
        self,
        client: AsyncClient,
        db: Database,
        club: dict[str, Any],
        other_club: dict[str, Any],
    ) -> None:
        desk = await make_token(db, "front_desk", club_ids=[club["id"]])
        r = await client.get(MEMBERS, params={"club_id": other_club["id"]}, headers=bearer(desk))
        assert_problem(r, 404, "club_not_found")

    async def test_unknown_club_id_is_not_found(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        r = await client.get(
            MEMBERS,
            params={"club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11"},
            headers=bearer(admin_token),
        )
        assert_problem(r, 404, "club_not_found")


class TestSearch:
    @pytest.mark.parametrize(
        ("q", "who"),
        [
            ("maria", {"maria"}),
            ("IVANOVA", {"maria"}),
            ("iva", {"maria", "ivan"}),  # Ivanova and Ivan
            ("petr", {"olga"}),
            ("MAIL.EXAMPLE", {"olga"}),
            ("maria.ivanova@example.com", {"maria"}),
            ("004512", {"maria"}),
            ("a-77", {"olga"}),
            ("916", {"maria"}),
            ("+7 916 123-45-67", {"maria"}),
            ("916 123 45 67", {"maria"}),
            ("(202) 555-0100", {"ivan"}),
            ("Maria Ivanova", {"maria"}),
            ("ivanova maria", {"maria"}),
            ("Maria Petrova", set()),
            ("Olga 903", {"olga"}),
            ("nobody", set()),
        ],
    )
    async def test_q_matches_names_phone_email_and_card_case_insensitively(
        self,
        client: AsyncClient,
        admin_token: str,
        people: dict[str, dict[str, Any]],
        q: str,
        who: set[str],
    ) -> None:
        items = await search(client, admin_token, q=q)
        assert {m["id"] for m in items} == {people[k]["id"] for k in who}, names(items)

    async def test_national_phone_format_matches_with_the_clubs_region(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        moscow = await make_club(client, admin_token, phone="+74951234567")
        m = await create_member(client, admin_token, moscow, phone="+79161234567")
        items = await search(client, admin_token, q="8 (916) 123-45-67", club_id=moscow["id"])
        assert [i["id"] for i in items] == [m["id"]]

    @pytest.mark.parametrize(
        ("q", "who"),
        [
            ("%", {"ivan"}),
            ("_", {"ivan"}),
            ("100%_", {"ivan"}),
            ("0%", {"ivan"}),
            ("\\", set()),
        ],
    )
    async def test_like_wildcards_are_literal(
        self,
        client: AsyncClient,
        admin_token: str,
        people: dict[str, dict[str, Any]],
        q: str,
        who: set[str],
    ) -> None:
        items = await search(client, admin_token, q=q)
        assert {m["id"] for m in items} == {people[k]["id"] for k in who}, names(items)

    @pytest.mark.parametrize(
        "q",
        [
            "'; DROP TABLE members; --",
            "' OR '1'='1",
            '" OR 1=1 --',
            "1) UNION SELECT * FROM api_tokens --",
        ],
    )
    async def test_sql_looking_input_is_just_text(
        self,
        client: AsyncClient,
        db: Database,
        admin_token: str,
        people: dict[str, dict[str, Any]],
        q: str,
    ) -> None:
        before = await snapshot(db)
        assert await search(client, admin_token, q=q) == []
        assert await snapshot(db) == before
        assert len(await search(client, admin_token)) == 3

    async def test_non_ascii_names_match(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any]
    ) -> None:
        m = await create_member(client, admin_token, club, first_name="Ёлка", last_name="Зимина")
        assert [i["id"] for i in await search(client, admin_token, q="Зимин")] == [m["id"]]

    @pytest.mark.postgres_only
    async def test_non_ascii_case_folding_on_postgresql(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any]
    ) -> None:
        m = await create_member(client, admin_token, club, first_name="Ёлка", last_name="Зимина")
        assert [i["id"] for i in await search(client, admin_token, q="ЗИМИНА")] == [m["id"]]

    @pytest.mark.parametrize(
        ("q", "pointer"),
        [("a\x00b", "/query/q"), ("x" * 101, "/query/q"), ("a b c d e f g h i", "/query/q")],
    )
    async def test_bad_q_is_a_validation_problem(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any], q: str, pointer: str
    ) -> None:
        r = await client.get(MEMBERS, params={"q": q}, headers=bearer(admin_token))
        assert_problem(r, 422, "validation_error")
        assert pointers(r) == {pointer}

    async def test_blank_q_lists_everyone(
        self, client: AsyncClient, admin_token: str, people: dict[str, dict[str, Any]]
    ) -> None:
        assert len(await search(client, admin_token, q="   ")) == 3


class TestFilters:
    async def test_do_not_contact_filter(
        self, client: AsyncClient, admin_token: str, people: dict[str, dict[str, Any]]
    ) -> None:
        flagged = await search(client, admin_token, do_not_contact="true")
        assert [m["id"] for m in flagged] == [people["ivan"]["id"]]
        assert len(await search(client, admin_token, do_not_contact="false")) == 2

    async def test_erased_members_are_hidden_unless_asked_for(
        self, client: AsyncClient, admin_token: str, people: dict[str, dict[str, Any]]
    ) -> None:
        olga = people["olga"]["id"]
        r = await client.delete(f"{MEMBERS}/{olga}", headers=bearer(admin_token))
        assert r.status_code == 204
        assert olga not in {m["id"] for m in await search(client, admin_token)}
        assert olga in {m["id"] for m in await search(client, admin_token, include_erased="true")}

    async def test_updated_since_needs_an_offset(
        self, client: AsyncClient, admin_token: str, people: dict[str, dict[str, Any]]
    ) -> None:
        r = await client.get(
            MEMBERS, params={"updated_since": "2026-01-01T00:00:00"}, headers=bearer(admin_token)
        )
        assert_problem(r, 422, "validation_error")
        assert pointers(r) == {"/query/updated_since"}

    async def test_updated_since_filters_by_last_change(
        self, client: AsyncClient, admin_token: str, people: dict[str, dict[str, Any]]
    ) -> None:
        maria = people["maria"]
        assert (
            len(await search(client, admin_token, updated_since="2000-01-01T00:00:00+03:00")) == 3
        )
        later = await search(client, admin_token, updated_since=maria["updated_at"])
        assert maria["id"] in {m["id"] for m in later}
        assert await search(client, admin_token, updated_since="2999-01-01T00:00:00Z") == []

    async def test_consent_and_handoff_changes_count_as_updates(
        self, client: AsyncClient, admin_token: str, people: dict[str, dict[str, Any]]
    ) -> None:
        olga, maria = people["olga"], people["maria"]
        since = (await search(client, admin_token, q="Sidorov"))[0]["updated_at"]
        r = await client.post(
            f"{MEMBERS}/{olga['id']}/consents",
            json={"purpose": "calls", "granted": True, "source": "desk"},
            headers=bearer(admin_token),
        )
        assert r.status_code == 201
        r = await client.post(
            f"{MEMBERS}/{maria['id']}/notes",
            json={"kind": "handoff", "body": "Renewal sale: wants a trainer."},
            headers=bearer(admin_token),
        )
        assert r.status_code == 201
        changed = await search(client, admin_token, updated_since=since)
        assert {olga["id"], maria["id"]} <= {m["id"] for m in changed}
        newest = max(changed, key=lambda m: m["updated_at"])
        assert newest["id"] == maria["id"]
        assert newest["handoff_notes"][0]["body"] == "Renewal sale: wants a trainer."

    async def test_list_items_carry_consents_and_handoff_notes(
        self, client: AsyncClient, admin_token: str, member: dict[str, Any]
    ) -> None:
        [item] = await search(client, admin_token)
        assert item == member


class TestPages:
    async def test_pages_by_last_name_cover_everyone_once(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any]
    ) -> None:
        created = [
            await create_member(client, admin_token, club, first_name=f, last_name=last)
            for f, last in [
                ("Anna", "Morozova"),
                ("Boris", "Antonov"),
                ("Anna", "Antonova"),
                ("Vera", "Morozova"),
                ("Gleb", "Zaitsev"),
            ]
        ]
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            r = await client.get(MEMBERS, params=params, headers=bearer(admin_token))
            body = r.json()
            assert len(body["items"]) <= 2
            seen += names(body["items"])
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert pages == 3
        assert seen == [
            "Boris Antonov",
            "Anna Antonova",
            "Anna Morozova",
            "Vera Morozova",
            "Gleb Zaitsev",
        ]
        assert len(created) == len(seen)

    async def test_chain_wide_pages_go_club_by_club_and_cover_everyone_once(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict[str, Any],
        other_club: dict[str, Any],
    ) -> None:
        for c, last in [
            (club, "Zorin"),
            (other_club, "Abel"),
            (club, "Bykov"),
            (other_club, "Yusupov"),
        ]:
            await create_member(client, admin_token, c, last_name=last, phone="+79031112233")
        seen: list[tuple[str, str]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            body = (await client.get(MEMBERS, params=params, headers=bearer(admin_token))).json()
            seen += [(m["club_id"], m["last_name"]) for m in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        first, second = sorted([club["id"], other_club["id"]])
        by_club = {club["id"]: ["Bykov", "Zorin"], other_club["id"]: ["Abel", "Yusupov"]}
        assert seen == [(first, n) for n in by_club[first]] + [(second, n) for n in by_club[second]]

    async def test_tampered_cursor_is_refused(self, client: AsyncClient, admin_token: str) -> None:
        r = await client.get(MEMBERS, params={"cursor": "abc.def"}, headers=bearer(admin_token))
        assert_problem(r, 422, "invalid_cursor")

    async def test_page_size_is_capped(self, client: AsyncClient, admin_token: str) -> None:
        r = await client.get(MEMBERS, params={"limit": 501}, headers=bearer(admin_token))
        assert_problem(r, 422, "validation_error")
