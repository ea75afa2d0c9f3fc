"""Helpers for the members tests: create members through the API and prove that a
refused request changed nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import pytest_asyncio
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from app.db import Database
from app.members.privacy import row_dict
from app.models import AuditEntry, ConsentEvent, Member, MemberNote
from tests.fixtures.factories import bearer, make_club

MEMBERS = "/api/v1/members"


def member_body(club: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "club_id": club["id"],
        "first_name": "Maria",
        "last_name": "Ivanova",
        "phone": "+7 916 123-45-67",
    }
    body.update(overrides)
    return body


async def create_member(
    client: AsyncClient, token: str, club: dict[str, Any], **overrides: Any
) -> dict[str, Any]:
    r = await client.post(MEMBERS, json=member_body(club, **overrides), headers=bearer(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


def assert_problem(r: Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = dict(r.json())
    assert body["code"] == code, body
    return body


def pointers(r: Response) -> set[str]:
    return {e["pointer"] for e in r.json().get("errors", [])}


async def snapshot(db: Database) -> dict[str, Any]:
    """Every row the members domain writes, as stored: equal snapshots mean nothing
    changed (no member, note, consent event or audit entry added or altered)."""
    async with db.sessionmaker() as s:
        members = (await s.scalars(select(Member).order_by(Member.id))).all()
        counts = {
            model.__tablename__: await s.scalar(select(func.count()).select_from(model))
            for model in (MemberNote, ConsentEvent, AuditEntry)
        }
        return {"members": [row_dict(m) for m in members], **counts}


async def member_row(db: Database, member_id: str | uuid.UUID) -> Member:
    async with db.sessionmaker() as s:
        member = await s.get(Member, uuid.UUID(str(member_id)))
        assert member is not None
        return member


async def audit_entries(db: Database, member_id: str, action: str | None = None) -> list[Any]:
    async with db.sessionmaker() as s:
        stmt = (
            select(AuditEntry)
            .where(AuditEntry.entity == "member", AuditEntry.entity_id == str(member_id))
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        if action is not None:
            stmt = stmt.where(AuditEntry.action == action)
        return list((await s.scalars(stmt)).all())


@pytest.fixture
def club_id(club: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(str(club["id"]))


@pytest_asyncio.fixture
async def other_club(client: AsyncClient, admin_token: str) -> dict[str, Any]:
    return await make_club(client, admin_token, name="Hillside Gym", timezone="Europe/Berlin")


@pytest_asyncio.fixture
async def member(client: AsyncClient, admin_token: str, club: dict[str, Any]) -> dict[str, Any]:
    return await create_member(
        client,
        admin_token,
        club,
        email="maria@example.com",
        card_number="004512",
        notes="Came with her sister; prefers evening calls.",
        consents={"calls": True, "service_sms": True, "marketing_sms": False},
    )


@pytest_asyncio.fixture
async def outsider(
    client: AsyncClient, admin_token: str, other_club: dict[str, Any]
) -> dict[str, Any]:
    """A member of another club."""
    return await create_member(
        client, admin_token, other_club, first_name="Otto", last_name="Fremd", phone="+4930123456"
    )
