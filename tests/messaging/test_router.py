"""GET /api/v1/messages: filters, club scope, pages."""

from __future__ import annotations

import uuid

import pytest
from httpx import AsyncClient

from app.db import Database
from app.messaging.service import messaging_service
from app.models import Member
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.integrations import MSK_NOON, SMS_CONSENTS
from tests.fixtures.ledger import make_member


@pytest.fixture
def club_id(club: dict[str, object]) -> uuid.UUID:
    return uuid.UUID(str(club["id"]))


async def queue(db: Database, member: Member, **kw: object) -> None:
    values: dict[str, object] = {
        "template": "birthday_greeting",
        "category": "service",
        "dedupe_key": uuid.uuid4().hex,
        "as_of": MSK_NOON,
    }
    values.update(kw)
    async with db.session_scope() as s:
        await messaging_service.queue(s, member, **values)  # type: ignore[arg-type]


async def test_lists_newest_first_with_filters(
    client: AsyncClient, db: Database, admin_token: str, club_id: uuid.UUID
) -> None:
    a = await make_member(db, club_id, consents=SMS_CONSENTS)
    b = await make_member(db, club_id)
    await queue(db, a)
    await queue(db, b, category="marketing", channel="sms")  # suppressed
    r = await client.get("/api/v1/messages", headers=bearer(admin_token))
    assert r.status_code == 200
    assert len(r.json()["items"]) == 2
    r = await client.get(
        "/api/v1/messages", params={"status": "suppressed"}, headers=bearer(admin_token)
    )
    (item,) = r.json()["items"]
    assert (item["member_id"], item["suppressed_reason"]) == (str(b.id), "no_consent")
    r = await client.get(
        "/api/v1/messages", params={"member_id": str(a.id)}, headers=bearer(admin_token)
    )
    (item,) = r.json()["items"]
    assert item["status"] == "queued"
    assert item["body"].startswith("Happy birthday, Maria")


async def test_pages_with_a_cursor(
    client: AsyncClient, db: Database, admin_token: str, club_id: uuid.UUID
) -> None:
    member = await make_member(db, club_id, consents=SMS_CONSENTS)
    for _ in range(5):
        await queue(db, member)
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = await client.get("/api/v1/messages", params=params, headers=bearer(admin_token))
        seen += [m["id"] for m in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5


async def test_another_clubs_messages_are_invisible(
    client: AsyncClient, db: Database, admin_token: str, club_id: uuid.UUID
) -> None:
    other = await make_club(client, admin_token, name="Other Club")
    theirs = await make_member(db, other["id"], consents=SMS_CONSENTS)
    ours = await make_member(db, club_id, consents=SMS_CONSENTS)
    await queue(db, theirs)
    await queue(db, ours)
    caller = await make_token(db, "caller", club_ids=[club_id])
    r = await client.get("/api/v1/messages", headers=bearer(caller))
    assert [m["member_id"] for m in r.json()["items"]] == [str(ours.id)]
    r = await client.get(
        "/api/v1/messages", params={"member_id": str(theirs.id)}, headers=bearer(caller)
    )
    assert r.json()["items"] == []
    r = await client.get(
        "/api/v1/messages", params={"club_id": other["id"]}, headers=bearer(caller)
    )
    assert r.status_code == 404
    assert r.json()["code"] == "club_not_found"


async def test_needs_messages_read(client: AsyncClient, db: Database, club_id: uuid.UUID) -> None:
    trainer = await make_token(db, "trainer", club_ids=[club_id])
    r = await client.get("/api/v1/messages", headers=bearer(trainer))
    assert r.status_code == 403
    assert (await client.get("/api/v1/messages")).status_code == 401


async def test_an_unknown_status_is_a_validation_error(
    client: AsyncClient, admin_token: str
) -> None:
    r = await client.get("/api/v1/messages", params={"status": "lost"}, headers=bearer(admin_token))
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"
