"""The call reports share the analytics scope: one club of the token (404 otherwise),
a period of club-local days (default the last 90, from <= to, at most 731 days), the
analytics:read permission, no member-pinned tokens."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from app.models import CallAttempt
from tests.analytics.calls import local, member_with_call
from tests.analytics.conftest import report
from tests.fixtures.factories import bearer, make_token
from tests.fixtures.outreach import make_attempt
from tests.fixtures.retention import problem, rows

REPORTS = ["funnel", "decline-reasons", "staff", "lapse-recovery"]


@pytest.mark.parametrize("name", REPORTS)
async def test_the_default_period_is_the_last_90_days(
    client: AsyncClient, manager: str, club: dict, name: str
) -> None:
    got = await report(client, manager, name, club)
    assert got["period"] == {"from": "2026-03-18", "to": "2026-06-15"}


@pytest.mark.parametrize("name", REPORTS)
async def test_another_clubs_report_is_not_found(
    client: AsyncClient, db: Database, manager: str, other_club: dict, name: str
) -> None:
    _, call = await member_with_call(db, other_club["id"])
    await make_attempt(db, call, "declined", local(6, 1), decline_reason="price")
    before = await rows(db, CallAttempt)
    r = await client.get(
        f"/api/v1/analytics/{name}", params={"club_id": other_club["id"]}, headers=bearer(manager)
    )
    body = problem(r, 404, "club_not_found")
    assert "period" not in body
    assert await rows(db, CallAttempt) == before


@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-05-02", "to": "2026-05-01"},
        {"from": "2023-01-01", "to": "2026-01-01"},
        {"from": "2026-13-01"},
        {"from": "0001-01-01", "to": "0001-01-10"},
        {"from": "9999-12-20", "to": "9999-12-31"},
    ],
    ids=["from_after_to", "longer_than_731_days", "not_a_date", "year_1", "year_9999"],
)
async def test_an_invalid_period_is_refused(
    client: AsyncClient, manager: str, club: dict, name: str, params: dict[str, str]
) -> None:
    r = await client.get(
        f"/api/v1/analytics/{name}",
        params={"club_id": club["id"], **params},
        headers=bearer(manager),
    )
    problem(r, 422, "validation_error")


@pytest.mark.parametrize("name", REPORTS)
async def test_the_club_is_required(client: AsyncClient, manager: str, name: str) -> None:
    r = await client.get(f"/api/v1/analytics/{name}", headers=bearer(manager))
    problem(r, 422, "validation_error")


@pytest.mark.parametrize("name", REPORTS)
async def test_needs_analytics_read(
    client: AsyncClient, db: Database, club: dict[str, Any], name: str
) -> None:
    caller = await make_token(db, "caller", club_ids=[uuid.UUID(club["id"])])
    r = await client.get(
        f"/api/v1/analytics/{name}", params={"club_id": club["id"]}, headers=bearer(caller)
    )
    problem(r, 403, "forbidden")


@pytest.mark.parametrize("name", REPORTS)
async def test_needs_a_token(client: AsyncClient, club: dict[str, Any], name: str) -> None:
    r = await client.get(f"/api/v1/analytics/{name}", params={"club_id": club["id"]})
    assert r.status_code == 401, r.text


@pytest.mark.parametrize("name", ["renewals", "nps", "referrals", "cohorts"])
@pytest.mark.parametrize("period", [("0001-01-01", "0001-01-10"), ("9999-12-20", "9999-12-31")])
async def test_every_report_refuses_days_without_instants(
    client: AsyncClient, manager: str, club: dict, name: str, period: tuple[str, str]
) -> None:
    r = await client.get(
        f"/api/v1/analytics/{name}",
        params={"club_id": club["id"], "from": period[0], "to": period[1]},
        headers=bearer(manager),
    )
    problem(r, 422, "validation_error")
