"""A club with members and a plan, and the tokens that post check-ins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import pytest_asyncio
from httpx import AsyncClient

from app.db import Database
from app.models import Member, Plan
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member, make_membership, make_plan


@dataclass
class World:
    club_id: uuid.UUID
    other_club_id: uuid.UUID
    plan: Plan
    alice: Member  # active 12-month membership from 2026-01-01
    bob: Member  # active membership too
    carol: Member  # no membership
    stranger: Member  # a member of the other club
    desk: str  # front-desk staff token of the club
    turnstile: str  # integration token: club-scoped, checkins:write + access:check
    other_turnstile: str  # the same for the other club


async def integration_token(
    client: AsyncClient, admin: str, club_id: uuid.UUID, scopes: list[str]
) -> str:
    r = await client.post(
        "/api/v1/tokens",
        json={"name": "Turnstile", "club_id": str(club_id), "scopes": scopes},
        headers=bearer(admin),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


@pytest_asyncio.fixture
async def world(client: AsyncClient, admin_token: str, db: Database) -> World:
    club = await make_club(client, admin_token)
    other = await make_club(client, admin_token, name="Hillside Gym", timezone="Asia/Tokyo")
    club_id, other_id = uuid.UUID(club["id"]), uuid.UUID(other["id"])
    plan = await make_plan(db, club_id)
    alice = await make_member(db, club_id, first_name="Alice")
    bob = await make_member(db, club_id, first_name="Bob")
    carol = await make_member(db, club_id, first_name="Carol")
    stranger = await make_member(db, other_id, first_name="Stranger")
    for m in (alice, bob):
        await make_membership(db, m, plan, start_date=date(2026, 1, 1))
    scopes = ["checkins:write", "checkins:read", "access:check"]
    return World(
        club_id=club_id,
        other_club_id=other_id,
        plan=plan,
        alice=alice,
        bob=bob,
        carol=carol,
        stranger=stranger,
        desk=await make_token(db, "front_desk", club_ids=[club_id]),
        turnstile=await integration_token(client, admin_token, club_id, scopes),
        other_turnstile=await integration_token(client, admin_token, other_id, scopes),
    )
