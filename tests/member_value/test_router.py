"""Member value: lifetime and trailing-12-month revenue, club-local, club-scoped."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from httpx import AsyncClient

from app.core.clock import freeze
from app.db import Database
from app.member_value.service import trailing_year_start
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member, make_membership, make_plan


async def _setup(client: AsyncClient, db: Database, club: dict) -> tuple[str, object, object]:
    club_id = uuid.UUID(club["id"])
    token = await make_token(db, "caller", club_ids=[club_id])
    member = await make_member(db, club_id)
    plan = await make_plan(db, club_id)
    return token, member, plan


async def test_lifetime_and_trailing_revenue(client: AsyncClient, db: Database, club: dict) -> None:
    token, member, plan = await _setup(client, db, club)
    at = datetime.fromisoformat
    sales = [
        (at("2024-01-10T09:00:00+00:00"), 1_000_000),  # long ago
        # 20:59 UTC on 11 March 2025 is 23:59 in Moscow: the day before the window
        (at("2025-03-11T20:59:00+00:00"), 200_000),
        # 21:00 UTC is 00:00 on 12 March in Moscow: the window's first minute
        (at("2025-03-11T21:00:00+00:00"), 30_000),
        (at("2026-03-01T09:00:00+00:00"), 4_000),
    ]
    for created_at, paid in sales:
        await make_membership(
            db,
            member,  # type: ignore[arg-type]
            plan,  # type: ignore[arg-type]
            start_date=created_at.date(),
            price_paid=paid,
            created_at=created_at,
        )
    other = await make_member(db, club["id"])
    await make_membership(db, other, plan, start_date=date(2026, 1, 1))  # type: ignore[arg-type]
    with freeze(datetime(2026, 3, 10, 22, 0, tzinfo=UTC)):  # 11 March 01:00 in Moscow
        r = await client.get(f"/api/v1/members/{member.id}/value", headers=bearer(token))  # type: ignore[attr-defined]
    assert r.status_code == 200
    assert r.json() == {
        "member_id": str(member.id),  # type: ignore[attr-defined]
        "lifetime_revenue": 1_234_000,
        "trailing_12m_revenue": 34_000,
        "trailing_12m_since": "2025-03-12",
        "currency": "RUB",
    }


async def test_member_without_memberships_is_worth_zero(
    client: AsyncClient, db: Database, club: dict
) -> None:
    token, member, _ = await _setup(client, db, club)
    r = await client.get(f"/api/v1/members/{member.id}/value", headers=bearer(token))  # type: ignore[attr-defined]
    assert (r.json()["lifetime_revenue"], r.json()["trailing_12m_revenue"]) == (0, 0)


async def test_another_clubs_member_is_404(
    client: AsyncClient, db: Database, club: dict, admin_token: str
) -> None:
    token, _, _ = await _setup(client, db, club)
    other = await make_club(client, admin_token, name="Other")
    stranger = await make_member(db, other["id"])
    for member_id in (stranger.id, uuid.uuid4()):
        r = await client.get(f"/api/v1/members/{member_id}/value", headers=bearer(token))
        assert r.status_code == 404
        assert r.json()["code"] == "member_not_found"


async def test_needs_members_read(client: AsyncClient, db: Database, club: dict) -> None:
    _, member, _ = await _setup(client, db, club)
    r = await client.get(f"/api/v1/members/{member.id}/value")  # type: ignore[attr-defined]
    assert r.status_code == 401


def test_trailing_year_starts_the_day_after_a_year_ago() -> None:
    assert trailing_year_start(date(2026, 3, 11)) == date(2025, 3, 12)
    assert trailing_year_start(date(2028, 2, 29)) == date(2027, 3, 1)
