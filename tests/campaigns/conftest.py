"""Campaign tests run at NOW: 2026-03-10 12:00 in Moscow (inside the default quiet
hours), in the default club. Members bought their membership long ago, so no silence
days apply unless a test says so."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import pytest_asyncio
from httpx import AsyncClient
from sqlalchemy import func, select

from app.core.clock import freeze
from app.db import Database
from app.members.privacy import row_dict
from app.models import Campaign, CampaignRecipient, Member, Membership, Message, Plan
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.integrations import MSK_NOON
from tests.fixtures.ledger import make_member, make_membership, make_plan

NOW = MSK_NOON
TODAY = date(2026, 3, 10)
URL = "/api/v1/campaigns"
MARKETING = {"marketing_sms": True, "marketing_email": True, "service_sms": True}


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with freeze(NOW):
        yield


@pytest.fixture
def club_id(club: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(str(club["id"]))


@pytest_asyncio.fixture
async def manager(db: Database, club_id: uuid.UUID) -> str:
    return await make_token(db, "manager", club_ids=[club_id], name="Mila Manager")


@pytest_asyncio.fixture
async def other_club(client: AsyncClient, admin_token: str) -> dict[str, Any]:
    return await make_club(client, admin_token, name="Harbour Gym", timezone="Europe/Berlin")


@pytest_asyncio.fixture
async def plan(db: Database, club_id: uuid.UUID) -> Plan:
    return await make_plan(db, club_id)


async def current_member(
    db: Database,
    club_id: uuid.UUID,
    plan: Plan,
    *,
    start: date = date(2025, 9, 1),
    end: date | None = date(2026, 8, 31),
    consents: dict[str, bool] | None = None,
    membership: dict[str, Any] | None = None,
    **member: Any,
) -> Member:
    """A member holding a membership bought long ago (no days of silence)."""
    m = await make_member(
        db, club_id, consents=MARKETING if consents is None else consents, **member
    )
    await make_membership(
        db,
        m,
        plan,
        start_date=start,
        end_date=end,
        created_at=NOW - timedelta(days=90),
        **(membership or {}),
    )
    return m


async def create(client: AsyncClient, token: str, club_id: object, **overrides: Any) -> Any:
    body: dict[str, Any] = {
        "club_id": str(club_id),
        "name": "Spring news",
        "template": "promotion_news",
        "channel": "sms",
        "context": {"promotion_name": "Spring swim weeks", "valid_until": "2026-04-30"},
        "segment": {},
    }
    body.update(overrides)
    return await client.post(URL, json=body, headers=bearer(token))


async def created(client: AsyncClient, token: str, club_id: object, **overrides: Any) -> Any:
    r = await create(client, token, club_id, **overrides)
    assert r.status_code == 201, r.text
    return r.json()


async def snapshot(db: Database) -> dict[str, Any]:
    """Campaigns, recipients and messages as stored: equal means nothing was written."""
    async with db.sessionmaker() as s:
        out: dict[str, Any] = {}
        for model in (Campaign, CampaignRecipient, Message, Membership):
            rows = (await s.scalars(select(model).order_by(model.id))).all()
            out[model.__tablename__] = [row_dict(r) for r in rows]
        return out


async def messages(db: Database) -> list[Message]:
    async with db.sessionmaker() as s:
        return list((await s.scalars(select(Message).order_by(Message.member_id))).all())


async def count_messages(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Message)) or 0)
