"""GET /audit: club-scoped, newest first, cursor pages, filters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.audit import service as audit_service
from app.db import Database
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member
from tests.fixtures.retention import problem

AUDIT = "/api/v1/audit"


async def seed(
    db: Database, club_id: str | None, entity: str, entity_id: str, action: str, at: datetime
) -> None:
    async with db.session_scope() as s:
        entry = audit_service.record(
            s,
            None,
            entity=entity,
            entity_id=entity_id,
            action=action,
            changes={"price": [1, 2]},
            club_id=uuid.UUID(club_id) if club_id else None,
        )
        entry.at = at


T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def world(client: AsyncClient, db: Database, admin_token: str) -> dict[str, Any]:
    a = await make_club(client, admin_token, name="A")
    b = await make_club(client, admin_token, name="B")
    await seed(db, a["id"], "plan", "p1", "updated", T0)
    await seed(db, a["id"], "membership", "m1", "bonus_days_added", T0 + timedelta(hours=1))
    await seed(db, a["id"], "membership", "m1", "cancelled", T0 + timedelta(hours=2))
    await seed(db, b["id"], "membership", "m9", "created", T0 + timedelta(hours=3))
    await seed(db, None, "staff", "s1", "updated", T0 + timedelta(hours=4))
    manager = await make_token(db, "manager", club_ids=[uuid.UUID(a["id"])])
    return {"a": a, "b": b, "manager": manager}


def seeded(items: list[dict[str, Any]]) -> list[str]:
    """The entries this test seeded (club creation is audited too), in the given order."""
    return [
        f"{i['entity_id']}:{i['action']}"
        for i in items
        if i["entity_id"] in {"p1", "m1", "m9", "s1"}
    ]


class TestList:
    async def test_newest_first(self, client: AsyncClient, world: dict, admin_token: str) -> None:
        r = await client.get(AUDIT, headers=bearer(admin_token))
        assert r.status_code == 200, r.text
        assert seeded(r.json()["items"]) == [
            "s1:updated",
            "m9:created",
            "m1:cancelled",
            "m1:bonus_days_added",
            "p1:updated",
        ]

    async def test_cursor_pages_cover_every_entry_once(
        self, client: AsyncClient, world: dict, admin_token: str
    ) -> None:
        seen: list[str] = []
        cursor = None
        for _ in range(20):
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            r = await client.get(AUDIT, params=params, headers=bearer(admin_token))
            assert r.status_code == 200, r.text
            seen += [i["id"] for i in r.json()["items"]]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
        whole = await client.get(AUDIT, params={"limit": 500}, headers=bearer(admin_token))
        assert seen == [i["id"] for i in whole.json()["items"]]

    async def test_filters_by_entity_and_id(
        self, client: AsyncClient, world: dict, admin_token: str
    ) -> None:
        r = await client.get(
            AUDIT, params={"entity": "membership", "entity_id": "m1"}, headers=bearer(admin_token)
        )
        assert seeded(r.json()["items"]) == ["m1:cancelled", "m1:bonus_days_added"]

    async def test_filters_by_action(
        self, client: AsyncClient, world: dict, admin_token: str
    ) -> None:
        r = await client.get(
            AUDIT, params={"action": "bonus_days_added"}, headers=bearer(admin_token)
        )
        assert seeded(r.json()["items"]) == ["m1:bonus_days_added"]

    async def test_since_is_inclusive_and_until_exclusive(
        self, client: AsyncClient, world: dict, admin_token: str
    ) -> None:
        params = {
            "since": (T0 + timedelta(hours=1)).isoformat(),
            "until": (T0 + timedelta(hours=3)).isoformat(),
        }
        r = await client.get(AUDIT, params=params, headers=bearer(admin_token))
        assert seeded(r.json()["items"]) == ["m1:cancelled", "m1:bonus_days_added"]

    async def test_filters_by_club(
        self, client: AsyncClient, world: dict, admin_token: str
    ) -> None:
        r = await client.get(
            AUDIT, params={"club_id": world["b"]["id"]}, headers=bearer(admin_token)
        )
        assert seeded(r.json()["items"]) == ["m9:created"]


class TestScope:
    async def test_a_club_token_sees_only_its_clubs_entries(
        self, client: AsyncClient, world: dict
    ) -> None:
        r = await client.get(AUDIT, headers=bearer(world["manager"]))
        assert r.status_code == 200
        assert seeded(r.json()["items"]) == ["m1:cancelled", "m1:bonus_days_added", "p1:updated"]
        assert {i["club_id"] for i in r.json()["items"]} == {world["a"]["id"]}

    async def test_another_clubs_filter_is_not_found(
        self, client: AsyncClient, world: dict
    ) -> None:
        r = await client.get(
            AUDIT, params={"club_id": world["b"]["id"]}, headers=bearer(world["manager"])
        )
        problem(r, 404, "club_not_found")

    async def test_needs_audit_read(self, client: AsyncClient, db: Database, world: dict) -> None:
        caller = await make_token(db, "caller", club_ids=[uuid.UUID(world["a"]["id"])])
        r = await client.get(AUDIT, headers=bearer(caller))
        problem(r, 403, "forbidden")

    async def test_a_member_pinned_token_sees_only_entries_about_its_member(
        self, client: AsyncClient, db: Database, world: dict, admin_token: str
    ) -> None:
        member = (await make_member(db, world["a"]["id"])).id
        await seed(db, world["a"]["id"], "member", str(member), "consent_recorded", T0)
        r = await client.post(
            "/api/v1/tokens",
            json={
                "name": "member app",
                "club_id": world["a"]["id"],
                "scopes": ["audit:read"],
                "member_id": str(member),
            },
            headers=bearer(admin_token),
        )
        assert r.status_code == 201, r.text
        pinned = r.json()["token"]
        got = await client.get(AUDIT, headers=bearer(pinned))
        assert [(i["entity"], i["entity_id"]) for i in got.json()["items"]] == [
            ("member", str(member))
        ]


class TestBadInput:
    async def test_since_after_until_is_refused(
        self, client: AsyncClient, world: dict, admin_token: str
    ) -> None:
        params = {"since": T0.isoformat(), "until": (T0 - timedelta(days=1)).isoformat()}
        r = await client.get(AUDIT, params=params, headers=bearer(admin_token))
        problem(r, 422, "validation_error")

    async def test_a_naive_instant_is_refused(
        self, client: AsyncClient, world: dict, admin_token: str
    ) -> None:
        r = await client.get(
            AUDIT, params={"since": "2026-03-01T12:00:00"}, headers=bearer(admin_token)
        )
        problem(r, 422, "validation_error")

    async def test_nul_in_a_filter_is_refused(
        self, client: AsyncClient, world: dict, admin_token: str
    ) -> None:
        r = await client.get(AUDIT, params={"entity": "mem\x00ber"}, headers=bearer(admin_token))
        problem(r, 422, "validation_error")

    async def test_a_tampered_cursor_is_refused(
        self, client: AsyncClient, world: dict, admin_token: str
    ) -> None:
        r = await client.get(AUDIT, params={"cursor": "abc.def"}, headers=bearer(admin_token))
        problem(r, 422, "invalid_cursor")
