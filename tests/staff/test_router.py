"""Staff: roles, clubs and who may grant what."""

from __future__ import annotations

import uuid

from httpx import AsyncClient

from app.db import Database
from tests.fixtures.factories import bearer, make_club, make_token


async def test_create_staff_with_roles_and_clubs(
    client: AsyncClient, admin_token: str, club: dict
) -> None:
    r = await client.post(
        "/api/v1/staff",
        json={"name": "Ivan", "roles": ["caller", "consultant"], "club_ids": [club["id"]]},
        headers=bearer(admin_token),
    )
    assert r.status_code == 201
    body = r.json()
    assert body["roles"] == ["caller", "consultant"]
    assert body["club_ids"] == [club["id"]]
    assert body["active"] is True


async def test_non_admin_staff_needs_a_club(client: AsyncClient, admin_token: str) -> None:
    r = await client.post(
        "/api/v1/staff", json={"name": "Nobody", "roles": ["caller"]}, headers=bearer(admin_token)
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/club_ids"


async def test_unknown_role_is_422(client: AsyncClient, admin_token: str, club: dict) -> None:
    r = await client.post(
        "/api/v1/staff",
        json={"name": "X", "roles": ["janitor"], "club_ids": [club["id"]]},
        headers=bearer(admin_token),
    )
    assert r.status_code == 422


async def test_manager_cannot_grant_admin(client: AsyncClient, db: Database, club: dict) -> None:
    manager = await make_token(db, "manager", club_ids=[uuid.UUID(club["id"])])
    r = await client.post(
        "/api/v1/staff",
        json={"name": "Boss", "roles": ["admin"], "club_ids": []},
        headers=bearer(manager),
    )
    assert r.status_code == 403


async def test_manager_cannot_add_staff_to_another_club(
    client: AsyncClient, admin_token: str, db: Database, club: dict
) -> None:
    other = await make_club(client, admin_token, name="Other")
    manager = await make_token(db, "manager", club_ids=[uuid.UUID(club["id"])])
    r = await client.post(
        "/api/v1/staff",
        json={"name": "X", "roles": ["caller"], "club_ids": [other["id"]]},
        headers=bearer(manager),
    )
    assert r.status_code == 404
    assert r.json()["code"] == "club_not_found"


async def test_caller_cannot_create_staff(client: AsyncClient, db: Database, club: dict) -> None:
    caller = await make_token(db, "caller", club_ids=[uuid.UUID(club["id"])])
    r = await client.post(
        "/api/v1/staff",
        json={"name": "X", "roles": ["caller"], "club_ids": [club["id"]]},
        headers=bearer(caller),
    )
    assert r.status_code == 403


async def test_list_filters_by_club_and_hides_other_clubs(
    client: AsyncClient, admin_token: str, db: Database, club: dict
) -> None:
    other = await make_club(client, admin_token, name="Other")
    await client.post(
        "/api/v1/staff",
        json={"name": "Here", "roles": ["caller"], "club_ids": [club["id"]]},
        headers=bearer(admin_token),
    )
    await client.post(
        "/api/v1/staff",
        json={"name": "There", "roles": ["caller"], "club_ids": [other["id"]]},
        headers=bearer(admin_token),
    )
    r = await client.get(f"/api/v1/staff?club_id={club['id']}", headers=bearer(admin_token))
    assert [s["name"] for s in r.json()["items"]] == ["Here"]
    manager = await make_token(db, "manager", club_ids=[uuid.UUID(club["id"])], name="Mgr")
    r = await client.get("/api/v1/staff", headers=bearer(manager))
    assert sorted(s["name"] for s in r.json()["items"]) == ["Here", "Mgr"]
    there = next(
        s
        for s in (await client.get("/api/v1/staff", headers=bearer(admin_token))).json()["items"]
        if s["name"] == "There"
    )
    r = await client.get(f"/api/v1/staff/{there['id']}", headers=bearer(manager))
    assert r.status_code == 404


async def test_update_roles_and_clubs(client: AsyncClient, admin_token: str, club: dict) -> None:
    other = await make_club(client, admin_token, name="Other")
    r = await client.post(
        "/api/v1/staff",
        json={"name": "Olga", "roles": ["caller"], "club_ids": [club["id"]]},
        headers=bearer(admin_token),
    )
    sid = r.json()["id"]
    r = await client.patch(
        f"/api/v1/staff/{sid}",
        json={"roles": ["consultant"], "club_ids": [club["id"], other["id"]]},
        headers=bearer(admin_token),
    )
    assert r.status_code == 200
    assert r.json()["roles"] == ["consultant"]
    assert sorted(r.json()["club_ids"]) == sorted([club["id"], other["id"]])
