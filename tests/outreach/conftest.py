from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
import pytest_asyncio

from app.core.clock import freeze
from app.db import Database
from app.models import Member
from tests.fixtures.factories import make_token
from tests.fixtures.ledger import make_member
from tests.outreach.helpers import NOW


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[datetime]:
    with freeze(NOW):
        yield NOW


@pytest.fixture
def club_id(club: dict[str, object]) -> uuid.UUID:
    return uuid.UUID(str(club["id"]))


@pytest_asyncio.fixture
async def member(db: Database, club_id: uuid.UUID) -> Member:
    """A member who agreed to calls, with no recent purchase (no silence days)."""
    return await make_member(db, club_id, consents={"calls": True})


@pytest_asyncio.fixture
async def caller(db: Database, club_id: uuid.UUID) -> str:
    return await make_token(db, "caller", club_ids=[club_id], name="Cora Caller")
