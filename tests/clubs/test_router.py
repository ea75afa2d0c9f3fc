"""Clubs: creation rules, validation, visibility and updates."""

from __future__ import annotations

import uuid

import pytest
from httpx import AsyncClient

from app.db import Database
from tests.fixtures.factories import bearer, make_club, make_token


class TestCreateClub:
    async def test_defaults_are_applied(self, club: dict) -> None:
        assert club["currency"] == "RUB"
        assert club["quiet_hours_start"] == "09:00:00"
        assert club["quiet_hours_end"] == "21:00:00"
        assert len(club["opening_hours"]) == 7
        assert club["opening_hours"][0] == {"weekday": 1, "opens": "07:00:00", "closes": "22:00:00"}
        assert club["contact_policy"]["silence_days"] == 3

    async def test_only_admins_create_clubs(
        self, client: AsyncClient, db: Database, club: dict
    ) -> None:
        manager = await make_token(db, "manager", club_ids=[uuid.UUID(club["id"])])
        r = await client.post(
            "/api/v1/clubs",
            json={"name": "X", "timezone": "UTC", "currency": "EUR"},
            headers=bearer(manager),
        )
        assert r.status_code == 403

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("timezone", "Mars/Olympus"),
            ("currency", "XXY"),
            ("name", ""),
            ("name", "a\x00b"),
            ("name", "x" * 100_000),
            ("quiet_hours_start", "25:00"),
        ],
    )
    async def test_invalid_fields_are_422(
        self, client: AsyncClient, admin_token: str, field: str, value: str
    ) -> None:
        body = {"name": "Club", "timezone": "Europe/Moscow", "currency": "RUB", field: value}
        r = await client.post("/api/v1/clubs", json=body, headers=bearer(admin_token))
        assert r.status_code == 422
        problem = r.json()
        assert problem["code"] == "validation_error"
        assert problem["errors"][0]["pointer"] == f"/{field}"
        assert value not in r.text or value == ""  # input is never echoed back

    async def test_quiet_hours_must_be_ordered(self, client: AsyncClient, admin_token: str) -> None:
        r = await client.post(
            "/api/v1/clubs",
            json={
                "name": "Club",
                "timezone": "UTC",
                "currency": "EUR",
                "quiet_hours_start": "21:00",
                "quiet_hours_end": "09:00",
            },
            headers=bearer(admin_token),
        )
        assert r.status_code == 422

    async def test_custom_opening_hours_and_closed_days(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        c = await make_club(
            client,
            admin_token,
            opening_hours=[{"weekday": 1, "opens": "06:00", "closes": "23:00"}],
        )
        assert c["opening_hours"] == [{"weekday": 1, "opens": "06:00:00", "closes": "23:00:00"}]

    async def test_unknown_field_is_rejected(self, client: AsyncClient, admin_token: str) -> None:
        r = await client.post(
            "/api/v1/clubs",
            json={"name": "C", "timezone": "UTC", "currency": "EUR", "id": str(uuid.uuid4())},
            headers=bearer(admin_token),
        )
        assert r.status_code == 422
        assert r.json()["errors"] == [{"pointer": "/id", "detail": "Unknown field"}]


class TestReadClubs:
    async def test_staff_see_only_their_clubs(
        self, client: AsyncClient, admin_token: str, db: Database, club: dict
    ) -> None:
        other = await make_club(client, admin_token, name="Other")
        caller = await make_token(db, "caller", club_ids=[uuid.UUID(club["id"])])
        r = await client.get("/api/v1/clubs", headers=bearer(caller))
        assert [c["id"] for c in r.json()["items"]] == [club["id"]]
        r = await client.get(f"/api/v1/clubs/{other['id']}", headers=bearer(caller))
        assert r.status_code == 404
        assert r.json()["code"] == "club_not_found"

    async def test_pages_follow_the_cursor_without_gaps(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        ids = [(await make_club(client, admin_token, name=f"C{i}"))["id"] for i in range(5)]
        seen: list[str] = []
        cursor = None
        for _ in range(10):
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            r = await client.get("/api/v1/clubs", params=params, headers=bearer(admin_token))
            assert r.status_code == 200
            seen += [c["id"] for c in r.json()["items"]]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
        assert seen == ids

    async def test_tampered_cursor_is_refused(self, client: AsyncClient, admin_token: str) -> None:
        for i in range(3):
            await make_club(client, admin_token, name=f"C{i}")
        r = await client.get("/api/v1/clubs?limit=1", headers=bearer(admin_token))
        cursor = r.json()["next_cursor"]
        body, sig = cursor.rsplit(".", 1)
        tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + sig
        r = await client.get(
            "/api/v1/clubs", params={"cursor": tampered}, headers=bearer(admin_token)
        )
        assert r.status_code == 422
        assert r.json()["code"] == "invalid_cursor"

    async def test_cursor_from_another_list_is_refused(
        self, client: AsyncClient, admin_token: str, db: Database
    ) -> None:
        await make_token(db, "admin", name="Another Admin")
        r = await client.get("/api/v1/staff?limit=1", headers=bearer(admin_token))
        cursor = r.json()["next_cursor"]
        assert cursor is not None
        r = await client.get(
            "/api/v1/clubs", params={"cursor": cursor}, headers=bearer(admin_token)
        )
        assert r.status_code == 422
        assert r.json()["code"] == "invalid_cursor"

    @pytest.mark.parametrize("limit", [0, 501, -1])
    async def test_page_size_is_capped(
        self, client: AsyncClient, admin_token: str, limit: int
    ) -> None:
        r = await client.get(f"/api/v1/clubs?limit={limit}", headers=bearer(admin_token))
        assert r.status_code == 422
        assert r.json()["errors"][0]["pointer"] == "/query/limit"


class TestUpdateClub:
    async def test_manager_updates_own_club_and_audit_is_written(
        self, client: AsyncClient, db: Database, club: dict
    ) -> None:
        manager = await make_token(db, "manager", club_ids=[uuid.UUID(club["id"])])
        r = await client.patch(
            f"/api/v1/clubs/{club['id']}",
            json={"name": "Riverside Central", "freeze_ends_on_visit": True},
            headers=bearer(manager),
        )
        assert r.status_code == 200
        assert r.json()["name"] == "Riverside Central"
        assert r.json()["freeze_ends_on_visit"] is True
        from sqlalchemy import select

        from app.models import AuditEntry

        async with db.sessionmaker() as s:
            entries = (
                await s.scalars(select(AuditEntry).where(AuditEntry.action == "updated"))
            ).all()
        assert entries[0].changes["name"] == ["Riverside Fitness", "Riverside Central"]

    async def test_front_desk_cannot_update_club(
        self, client: AsyncClient, db: Database, club: dict
    ) -> None:
        desk = await make_token(db, "front_desk", club_ids=[uuid.UUID(club["id"])])
        r = await client.patch(
            f"/api/v1/clubs/{club['id']}", json={"name": "X"}, headers=bearer(desk)
        )
        assert r.status_code == 403

    async def test_null_for_required_field_is_422_and_changes_nothing(
        self, client: AsyncClient, admin_token: str, club: dict
    ) -> None:
        r = await client.patch(
            f"/api/v1/clubs/{club['id']}", json={"name": None}, headers=bearer(admin_token)
        )
        assert r.status_code == 422
        r = await client.get(f"/api/v1/clubs/{club['id']}", headers=bearer(admin_token))
        assert r.json()["name"] == club["name"]

    async def test_quiet_hours_order_checked_against_stored_value(
        self, client: AsyncClient, admin_token: str, club: dict
    ) -> None:
        r = await client.patch(
            f"/api/v1/clubs/{club['id']}",
            json={"quiet_hours_start": "22:00"},
            headers=bearer(admin_token),
        )
        assert r.status_code == 422
