from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import pytest_asyncio
from httpx import AsyncClient

from app.core.clock import freeze
from app.db import Database
from app.models import Member
from tests.fixtures.factories import make_club, make_token
from tests.fixtures.ledger import make_member
from tests.memberships.helpers import NOW, create_plan


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    """Every test here runs at NOW unless it pins another instant itself."""
    with freeze(NOW):
        yield


@pytest.fixture
def club_id(club: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(str(club["id"]))


@pytest_asyncio.fixture
async def manager(db: Database, club_id: uuid.UUID) -> str:
    return await make_token(db, "manager", club_ids=[club_id], name="Mila Manager")


@pytest_asyncio.fixture
async def desk(db: Database, club_id: uuid.UUID) -> str:
    return await make_token(db, "front_desk", club_ids=[club_id], name="Dan Desk")


@pytest_asyncio.fixture
async def other_club(client: AsyncClient, admin_token: str) -> dict[str, Any]:
    return await make_club(
        client, admin_token, name="Harbour Gym", timezone="Europe/Berlin", currency="EUR"
    )


@pytest_asyncio.fixture
async def plan(client: AsyncClient, admin_token: str, club_id: uuid.UUID) -> dict[str, Any]:
    return await create_plan(client, admin_token, club_id)


@pytest_asyncio.fixture
async def member(db: Database, club_id: uuid.UUID) -> Member:
    return await make_member(db, club_id)
