"""Authentication and authorisation: tokens, roles, scopes and club scope."""

from __future__ import annotations

import hashlib
import uuid

from httpx import AsyncClient
from sqlalchemy import select

from app.db import Database
from app.models import ApiToken
from tests.fixtures.factories import bearer, make_club, make_token


class TestAuthentication:
    async def test_missing_token_is_401_problem(self, client: AsyncClient) -> None:
        r = await client.get("/api/v1/clubs")
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "missing_token"
        assert r.headers["www-authenticate"] == "Bearer"

    async def test_unknown_token_is_401(self, client: AsyncClient) -> None:
        r = await client.get("/api/v1/clubs", headers=bearer("crk_" + "x" * 43))
        assert r.status_code == 401
        assert r.json()["code"] == "invalid_token"

    async def test_malformed_token_is_401(self, client: AsyncClient) -> None:
        r = await client.get("/api/v1/clubs", headers=bearer("not-a-token"))
        assert r.status_code == 401
        assert r.json()["code"] == "invalid_token"

    async def test_basic_scheme_is_401(self, client: AsyncClient) -> None:
        r = await client.get("/api/v1/clubs", headers={"Authorization": "Basic dTpw"})
        assert r.status_code == 401

    async def test_secret_is_stored_hashed_only(self, db: Database, admin_token: str) -> None:
        async with db.sessionmaker() as s:
            rows = (await s.scalars(select(ApiToken))).all()
        digest = hashlib.sha256(admin_token.encode()).hexdigest()
        assert [t.token_hash for t in rows] == [digest]
        assert all(admin_token not in (t.prefix + t.token_hash) for t in rows)

    async def test_use_sets_last_used_at(
        self, client: AsyncClient, db: Database, admin_token: str
    ) -> None:
        await client.get("/api/v1/clubs", headers=bearer(admin_token))
        async with db.sessionmaker() as s:
            token = (await s.scalars(select(ApiToken))).one()
        assert token.last_used_at is not None

    async def test_revoked_token_stops_working_at_once(
        self, client: AsyncClient, admin_token: str, db: Database
    ) -> None:
        other = await make_token(db, "admin", name="Second Admin")
        async with db.sessionmaker() as s:
            token_id = (
                await s.scalars(
                    select(ApiToken.id).where(
                        ApiToken.token_hash == hashlib.sha256(other.encode()).hexdigest()
                    )
                )
            ).one()
        assert (await client.get("/api/v1/clubs", headers=bearer(other))).status_code == 200
        r = await client.delete(f"/api/v1/tokens/{token_id}", headers=bearer(admin_token))
        assert r.status_code == 204
        r = await client.get("/api/v1/clubs", headers=bearer(other))
        assert r.status_code == 401
        assert r.json()["code"] == "token_revoked"

    async def test_deactivated_staff_token_is_refused(
        self, client: AsyncClient, admin_token: str, db: Database, club: dict
    ) -> None:
        caller = await make_token(db, "caller", club_ids=[uuid.UUID(club["id"])], name="Cal")
        me = await client.get("/api/v1/staff", headers=bearer(caller))
        staff_id = next(s["id"] for s in me.json()["items"] if s["name"] == "Cal")
        r = await client.patch(
            f"/api/v1/staff/{staff_id}", json={"active": False}, headers=bearer(admin_token)
        )
        assert r.status_code == 200
        assert (await client.get("/api/v1/clubs", headers=bearer(caller))).status_code == 401


class TestTokens:
    async def test_issue_staff_token_shows_secret_once(
        self, client: AsyncClient, admin_token: str, club: dict
    ) -> None:
        r = await client.post(
            "/api/v1/staff",
            json={"name": "Desk", "roles": ["front_desk"], "club_ids": [club["id"]]},
            headers=bearer(admin_token),
        )
        staff_id = r.json()["id"]
        r = await client.post(
            f"/api/v1/staff/{staff_id}/tokens", json={"name": "tablet"}, headers=bearer(admin_token)
        )
        assert r.status_code == 201
        secret = r.json()["token"]
        assert secret.startswith("crk_")
        listed = await client.get(f"/api/v1/staff/{staff_id}/tokens", headers=bearer(admin_token))
        assert listed.status_code == 200
        assert secret not in listed.text
        assert [t["name"] for t in listed.json()] == ["tablet"]
        assert (await client.get("/api/v1/clubs", headers=bearer(secret))).status_code == 200

    async def test_scopes_narrow_a_staff_token(
        self, client: AsyncClient, db: Database, club: dict
    ) -> None:
        token = await make_token(
            db, "manager", club_ids=[uuid.UUID(club["id"])], scopes=["staff:read"]
        )
        assert (await client.get("/api/v1/staff", headers=bearer(token))).status_code == 200
        r = await client.get("/api/v1/clubs", headers=bearer(token))
        assert r.status_code == 403
        assert r.json()["code"] == "forbidden"

    async def test_unknown_scope_is_422(
        self, client: AsyncClient, admin_token: str, club: dict
    ) -> None:
        r = await client.post(
            "/api/v1/tokens",
            json={"name": "gate", "club_id": club["id"], "scopes": ["everything:all"]},
            headers=bearer(admin_token),
        )
        assert r.status_code == 422
        assert r.json()["code"] == "unknown_scope"

    async def test_integration_token_is_limited_to_its_club_and_scopes(
        self, client: AsyncClient, admin_token: str, club: dict
    ) -> None:
        other = await make_club(client, admin_token, name="Other Club")
        r = await client.post(
            "/api/v1/tokens",
            json={"name": "Turnstile", "club_id": club["id"], "scopes": ["clubs:read"]},
            headers=bearer(admin_token),
        )
        assert r.status_code == 201
        assert r.json()["kind"] == "integration"
        gate = r.json()["token"]
        listed = await client.get("/api/v1/clubs", headers=bearer(gate))
        assert [c["id"] for c in listed.json()["items"]] == [club["id"]]
        r = await client.get(f"/api/v1/clubs/{other['id']}", headers=bearer(gate))
        assert r.status_code == 404
        r = await client.get("/api/v1/staff", headers=bearer(gate))
        assert r.status_code == 403

    async def test_manager_cannot_issue_token_for_another_clubs_staff(
        self, client: AsyncClient, admin_token: str, db: Database, club: dict
    ) -> None:
        other = await make_club(client, admin_token, name="Other Club")
        r = await client.post(
            "/api/v1/staff",
            json={"name": "Far", "roles": ["caller"], "club_ids": [other["id"]]},
            headers=bearer(admin_token),
        )
        far_id = r.json()["id"]
        manager = await make_token(db, "manager", club_ids=[uuid.UUID(club["id"])])
        r = await client.post(
            f"/api/v1/staff/{far_id}/tokens", json={"name": "x"}, headers=bearer(manager)
        )
        assert r.status_code == 404

    async def test_caller_cannot_revoke_someone_elses_token(
        self, client: AsyncClient, admin_token: str, db: Database, club: dict
    ) -> None:
        caller = await make_token(db, "caller", club_ids=[uuid.UUID(club["id"])])
        async with db.sessionmaker() as s:
            admin_tid = (
                await s.scalars(
                    select(ApiToken.id).where(
                        ApiToken.token_hash == hashlib.sha256(admin_token.encode()).hexdigest()
                    )
                )
            ).one()
        r = await client.delete(f"/api/v1/tokens/{admin_tid}", headers=bearer(caller))
        assert r.status_code == 403
        assert (await client.get("/api/v1/clubs", headers=bearer(admin_token))).status_code == 200

    async def test_revoking_unknown_token_is_404(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        r = await client.delete(f"/api/v1/tokens/{uuid.uuid4()}", headers=bearer(admin_token))
        assert r.status_code == 404
        assert r.json()["code"] == "token_not_found"
