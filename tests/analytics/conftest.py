from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.clock import freeze
from app.db import Database
from tests.fixtures.factories import bearer, make_club, make_token

# "Now" for the analytics tests: 2026-06-15 09:00 in Moscow (UTC+3, no DST).
NOW = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with freeze(NOW):
        yield


@pytest.fixture
async def manager(db: Database, club: dict[str, Any]) -> str:
    return await make_token(db, "manager", club_ids=[uuid.UUID(club["id"])], name="Mila Manager")


@pytest.fixture
async def other_club(client: AsyncClient, admin_token: str) -> dict[str, Any]:
    return await make_club(client, admin_token, name="Elsewhere")


async def report(
    client: AsyncClient, token: str, name: str, club: dict[str, Any], **params: Any
) -> dict[str, Any]:
    r = await client.get(
        f"/api/v1/analytics/{name}", params={"club_id": club["id"], **params}, headers=bearer(token)
    )
    assert r.status_code == 200, r.text
    return dict(r.json())
