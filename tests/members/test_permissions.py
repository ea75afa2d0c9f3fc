"""Function-level authorisation: role and scope decide; a refusal changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from tests.fixtures.factories import bearer, make_token
from tests.members.conftest import MEMBERS, assert_problem, create_member, member_body, snapshot


def writes(club: dict[str, Any], member: dict[str, Any]) -> list[tuple[str, str, Any]]:
    mid = member["id"]
    return [
        ("POST", MEMBERS, member_body(club, first_name="Olga")),
        ("PATCH", f"{MEMBERS}/{mid}", {"first_name": "Masha"}),
        (
            "POST",
            f"{MEMBERS}/{mid}/consents",
            {"purpose": "calls", "granted": False, "source": "desk"},
        ),
        ("POST", f"{MEMBERS}/{mid}/notes", {"kind": "desk", "body": "x"}),
    ]


def reads(member: dict[str, Any]) -> list[str]:
    mid = member["id"]
    return [
        MEMBERS,
        f"{MEMBERS}/{mid}",
        f"{MEMBERS}/{mid}/consents",
        f"{MEMBERS}/{mid}/notes",
    ]


class TestPermissions:
    async def test_no_token_is_unauthorized_everywhere(
        self, client: AsyncClient, club: dict[str, Any], member: dict[str, Any]
    ) -> None:
        for method, url, body in writes(club, member):
            assert_problem(await client.request(method, url, json=body), 401, "missing_token")
        for url in [*reads(member), f"{MEMBERS}/{member['id']}/export"]:
            assert_problem(await client.get(url), 401, "missing_token")
        assert_problem(await client.delete(f"{MEMBERS}/{member['id']}"), 401, "missing_token")

    @pytest.mark.parametrize(
        ("roles", "scopes"),
        [
            (("trainer",), None),  # trainers read members but do not edit them
            (("front_desk",), ["members:read"]),  # a read-only token of a desk person
        ],
    )
    async def test_readers_cannot_write(
        self,
        client: AsyncClient,
        db: Database,
        club: dict[str, Any],
        member: dict[str, Any],
        roles: tuple[str, ...],
        scopes: list[str] | None,
    ) -> None:
        token = await make_token(db, *roles, club_ids=[club["id"]], scopes=scopes)
        before = await snapshot(db)
        for method, url, body in writes(club, member):
            r = await client.request(method, url, json=body, headers=bearer(token))
            assert_problem(r, 403, "forbidden")
        assert await snapshot(db) == before
        for url in reads(member):
            assert (await client.get(url, headers=bearer(token))).status_code == 200, url

    @pytest.mark.parametrize("role", ["front_desk", "caller", "consultant", "trainer"])
    async def test_only_managers_and_admins_erase(
        self,
        client: AsyncClient,
        db: Database,
        club: dict[str, Any],
        member: dict[str, Any],
        role: str,
    ) -> None:
        token = await make_token(db, role, club_ids=[club["id"]])
        before = await snapshot(db)
        r = await client.delete(f"{MEMBERS}/{member['id']}", headers=bearer(token))
        assert_problem(r, 403, "forbidden")
        assert await snapshot(db) == before

    @pytest.mark.parametrize("role", ["front_desk", "caller", "consultant"])
    async def test_club_staff_who_talk_to_members_may_write(
        self,
        client: AsyncClient,
        db: Database,
        club: dict[str, Any],
        member: dict[str, Any],
        role: str,
    ) -> None:
        token = await make_token(db, role, club_ids=[club["id"]])
        for method, url, body in writes(club, member):
            r = await client.request(method, url, json=body, headers=bearer(token))
            assert r.status_code in (200, 201), (url, r.text)

    async def test_a_token_without_members_scope_cannot_read(
        self, client: AsyncClient, db: Database, club: dict[str, Any], member: dict[str, Any]
    ) -> None:
        token = await make_token(db, "front_desk", club_ids=[club["id"]], scopes=["checkins:write"])
        for url in reads(member):
            assert_problem(await client.get(url, headers=bearer(token)), 403, "forbidden")

    async def test_forbidden_is_decided_before_looking_the_member_up(
        self, client: AsyncClient, db: Database, club: dict[str, Any], outsider: dict[str, Any]
    ) -> None:
        trainer = await make_token(db, "trainer", club_ids=[club["id"]])
        r = await client.patch(
            f"{MEMBERS}/{outsider['id']}", json={"first_name": "x"}, headers=bearer(trainer)
        )
        assert_problem(r, 403, "forbidden")


class TestExportPermission:
    @pytest.mark.parametrize("role", ["front_desk", "caller", "consultant", "trainer"])
    async def test_member_card_readers_cannot_export_the_dossier(
        self,
        client: AsyncClient,
        db: Database,
        club: dict[str, Any],
        member: dict[str, Any],
        role: str,
    ) -> None:
        token = await make_token(db, role, club_ids=[club["id"]])
        before = await snapshot(db)
        r = await client.get(f"{MEMBERS}/{member['id']}/export", headers=bearer(token))
        assert_problem(r, 403, "forbidden")
        assert await snapshot(db) == before

    async def test_club_manager_exports(
        self, client: AsyncClient, db: Database, club: dict[str, Any], member: dict[str, Any]
    ) -> None:
        manager = await make_token(db, "manager", club_ids=[club["id"]])
        r = await client.get(f"{MEMBERS}/{member['id']}/export", headers=bearer(manager))
        assert r.status_code == 200

    async def test_the_members_own_app_exports_its_own_data_only(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict[str, Any],
        member: dict[str, Any],
    ) -> None:
        sister = await create_member(client, admin_token, club, first_name="Olga")
        r = await client.post(
            "/api/v1/tokens",
            json={
                "name": "member app",
                "club_id": club["id"],
                "scopes": ["members:read"],
                "member_id": member["id"],
            },
            headers=bearer(admin_token),
        )
        app = r.json()["token"]
        own = await client.get(f"{MEMBERS}/{member['id']}/export", headers=bearer(app))
        assert own.status_code == 200
        assert own.json()["member"]["id"] == member["id"]
        other = await client.get(f"{MEMBERS}/{sister['id']}/export", headers=bearer(app))
        assert_problem(other, 404, "member_not_found")
