"""Webhook subscriptions over HTTP: create, read, update, delete, scope, SSRF."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from app.db import Database
from app.models import AuditEntry, WebhookSubscription
from app.webhooks.targets import TargetGuard
from tests.fixtures.factories import bearer, make_club, make_token

URL = "https://hooks.example.com/club-renewal"
pytestmark = pytest.mark.usefixtures("fake_guard")


async def create(client: AsyncClient, token: str, **body: Any) -> Any:
    payload = {"url": URL, "events": ["meeting.booked", "member.at_risk"], **body}
    return await client.post("/api/v1/webhooks", json=payload, headers=bearer(token))


async def subscriptions(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(WebhookSubscription)) or 0)


class TestCreate:
    async def test_returns_the_secret_once(
        self, client: AsyncClient, admin_token: str, club: dict[str, Any]
    ) -> None:
        r = await create(client, admin_token, club_id=club["id"], description="CRM")
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["secret"].startswith("whsec_")
        assert (body["url"], body["club_id"], body["active"]) == (URL, club["id"], True)
        assert body["events"] == ["meeting.booked", "member.at_risk"]
        got = await client.get(f"/api/v1/webhooks/{body['id']}", headers=bearer(admin_token))
        assert got.status_code == 200
        assert "secret" not in got.json()

    async def test_is_audited_without_the_secret(
        self, client: AsyncClient, admin_token: str, db: Database
    ) -> None:
        r = await create(client, admin_token)
        async with db.sessionmaker() as s:
            entry = await s.scalar(select(AuditEntry).where(AuditEntry.entity == "webhook"))
        assert entry is not None
        assert entry.action == "created"
        assert r.json()["secret"] not in str(entry.changes)

    async def test_unknown_event_types_are_422(
        self, client: AsyncClient, admin_token: str, db: Database
    ) -> None:
        r = await create(client, admin_token, events=["meeting.booked", "member.sold"])
        assert r.status_code == 422
        assert r.json()["code"] == "validation_error"
        assert r.json()["errors"][0]["pointer"] == "/events/1"
        assert await subscriptions(db) == 0

    async def test_an_empty_event_list_is_422(self, client: AsyncClient, admin_token: str) -> None:
        assert (await create(client, admin_token, events=[])).status_code == 422

    async def test_duplicate_event_types_are_kept_once(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        r = await create(client, admin_token, events=["call.due", "call.due"])
        assert r.json()["events"] == ["call.due"]

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:8080/hook",
            "http://internal.example.com/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest/meta-data",
            "ftp://hooks.example.com/hook",
        ],
    )
    async def test_private_or_non_http_targets_are_refused(
        self, client: AsyncClient, admin_token: str, db: Database, url: str
    ) -> None:
        r = await create(client, admin_token, url=url)
        assert r.status_code == 422
        assert r.json()["code"] == "webhook_target_not_allowed"
        assert await subscriptions(db) == 0

    async def test_private_targets_are_allowed_when_configured(
        self, app: Any, client: AsyncClient, admin_token: str
    ) -> None:
        from app.webhooks.dependencies import get_target_guard

        app.dependency_overrides[get_target_guard] = lambda: TargetGuard(allow_private=True)
        r = await create(client, admin_token, url="http://127.0.0.1:8080/hook")
        assert r.status_code == 201

    async def test_chain_wide_subscriptions_are_for_admins_only(
        self, client: AsyncClient, db: Database, club: dict[str, Any], admin_token: str
    ) -> None:
        other = await make_club(client, admin_token, name="Second")
        manager = await make_token(db, "manager", club_ids=[club["id"], other["id"]])
        r = await create(client, manager)
        assert r.status_code == 422
        assert r.json()["code"] == "club_id_required"
        r = await create(client, manager, club_id=other["id"])
        assert r.status_code == 201
        assert r.json()["club_id"] == other["id"]

    async def test_a_single_club_token_defaults_to_its_club(
        self, client: AsyncClient, db: Database, club: dict[str, Any]
    ) -> None:
        manager = await make_token(db, "manager", club_ids=[club["id"]])
        r = await create(client, manager)
        assert r.status_code == 201
        assert r.json()["club_id"] == club["id"]

    async def test_another_clubs_id_is_not_found(
        self, client: AsyncClient, db: Database, club: dict[str, Any], admin_token: str
    ) -> None:
        other = await make_club(client, admin_token, name="Second")
        manager = await make_token(db, "manager", club_ids=[club["id"]])
        r = await create(client, manager, club_id=other["id"])
        assert r.status_code == 404
        assert r.json()["code"] == "club_not_found"
        r = await create(client, admin_token, club_id=str(uuid.uuid4()))
        assert r.status_code == 404

    async def test_needs_webhooks_manage(
        self, client: AsyncClient, db: Database, club: dict[str, Any]
    ) -> None:
        caller = await make_token(db, "caller", club_ids=[club["id"]])
        assert (await create(client, caller, club_id=club["id"])).status_code == 403
        assert (await client.get("/api/v1/webhooks", headers=bearer(caller))).status_code == 403

    async def test_an_idempotent_retry_returns_the_same_subscription(
        self, client: AsyncClient, admin_token: str, db: Database
    ) -> None:
        payload = {"url": URL, "events": ["call.due"]}
        headers = {**bearer(admin_token), "Idempotency-Key": "create-hook-1"}
        first = await client.post("/api/v1/webhooks", json=payload, headers=headers)
        again = await client.post("/api/v1/webhooks", json=payload, headers=headers)
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"]
        assert await subscriptions(db) == 1


class TestReadUpdateDelete:
    async def test_club_scoped_listing_hides_other_clubs_and_chain_wide(
        self, client: AsyncClient, db: Database, club: dict[str, Any], admin_token: str
    ) -> None:
        other = await make_club(client, admin_token, name="Second")
        mine = (await create(client, admin_token, club_id=club["id"])).json()
        theirs = (await create(client, admin_token, club_id=other["id"])).json()
        chain = (await create(client, admin_token)).json()
        manager = await make_token(db, "manager", club_ids=[club["id"]])
        r = await client.get("/api/v1/webhooks", headers=bearer(manager))
        assert [w["id"] for w in r.json()["items"]] == [mine["id"]]
        for hidden in (theirs, chain):
            got = await client.get(f"/api/v1/webhooks/{hidden['id']}", headers=bearer(manager))
            assert got.status_code == 404
            assert got.json()["code"] == "webhook_not_found"
        r = await client.get("/api/v1/webhooks", headers=bearer(admin_token))
        assert len(r.json()["items"]) == 3

    async def test_patch_changes_url_and_events(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        hook = (await create(client, admin_token)).json()
        r = await client.patch(
            f"/api/v1/webhooks/{hook['id']}",
            json={"url": "https://crm.example.com/new", "events": ["checkin.recorded"]},
            headers=bearer(admin_token),
        )
        assert r.status_code == 200
        assert (r.json()["url"], r.json()["events"]) == (
            "https://crm.example.com/new",
            ["checkin.recorded"],
        )

    async def test_patch_checks_the_new_url_too(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        hook = (await create(client, admin_token)).json()
        r = await client.patch(
            f"/api/v1/webhooks/{hook['id']}",
            json={"url": "http://10.0.0.8/hook"},
            headers=bearer(admin_token),
        )
        assert r.status_code == 422
        assert r.json()["code"] == "webhook_target_not_allowed"
        got = await client.get(f"/api/v1/webhooks/{hook['id']}", headers=bearer(admin_token))
        assert got.json()["url"] == URL

    async def test_patch_re_enables_a_disabled_subscription(
        self, client: AsyncClient, admin_token: str, db: Database
    ) -> None:
        hook = (await create(client, admin_token)).json()
        async with db.session_scope() as s:
            sub = await s.get(WebhookSubscription, uuid.UUID(hook["id"]))
            assert sub is not None
            sub.active, sub.consecutive_failures = False, 50
            sub.disabled_reason = "disabled after 50 consecutive failed deliveries"
        r = await client.patch(
            f"/api/v1/webhooks/{hook['id']}", json={"active": True}, headers=bearer(admin_token)
        )
        body = r.json()
        assert (body["active"], body["consecutive_failures"], body["disabled_reason"]) == (
            True,
            0,
            None,
        )

    async def test_patch_refuses_null_for_required_fields(
        self, client: AsyncClient, admin_token: str
    ) -> None:
        hook = (await create(client, admin_token)).json()
        r = await client.patch(
            f"/api/v1/webhooks/{hook['id']}", json={"events": None}, headers=bearer(admin_token)
        )
        assert r.status_code == 422

    async def test_delete(self, client: AsyncClient, admin_token: str, db: Database) -> None:
        hook = (await create(client, admin_token)).json()
        r = await client.delete(f"/api/v1/webhooks/{hook['id']}", headers=bearer(admin_token))
        assert r.status_code == 204
        assert await subscriptions(db) == 0
        r = await client.delete(f"/api/v1/webhooks/{hook['id']}", headers=bearer(admin_token))
        assert r.status_code == 404


async def test_openapi_documents_the_integration_routes(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    tags = {t["name"] for t in spec["tags"]}
    assert {"Messages", "Webhooks", "Events"} <= tags
    for path in (
        "/api/v1/webhooks",
        "/api/v1/webhooks/{webhook_id}",
        "/api/v1/webhooks/{webhook_id}/deliveries",
        "/api/v1/messages",
        "/api/v1/events",
    ):
        for op in spec["paths"][path].values():
            assert op["summary"], path
            assert op["description"], path
            assert "401" in op["responses"], path
    create_schema = spec["components"]["schemas"]["WebhookCreate"]
    assert create_schema["examples"]
    events_items = create_schema["properties"]["events"]["items"]
    assert "checkin.recorded" in events_items["enum"]
