"""GET /analytics/renewals against a hand-computed data set.

Today is 2026-06-15 (Moscow); the period is 2026-03-01..2026-05-31; grace 30 days.
gap = renewal start - old end - 1 (days without a card).

  old   plan    end         renewal starts  gap  outcome
  A     Gold    2026-03-10  2026-03-11       0   renewed_before_end
  B     Gold    2026-03-20  2026-04-05      15   renewed_in_grace
  C     Gold    2026-03-25  2026-05-01      36   lost (renewed too late)
  D     Silver  2026-03-31  -                    lost (grace over 2026-04-30)
  E     Silver  2026-04-15  2026-04-16       0   renewed_before_end
  K     Silver  2026-04-30  2026-05-31      30   renewed_in_grace (last grace day)
  G     Gold    2026-05-31  2026-05-20     -12   renewed_before_end (upgrade started early)
  F     Gold    2026-05-20  -                    pending (grace runs to 2026-06-19)
  M     Silver  2026-05-16  -                    pending (grace ends today, 2026-06-15)
  N     Silver  2026-05-15  -                    lost (grace ended 2026-06-14)
  L     Silver  2026-05-10  2026-06-11      31   lost (one day past grace)
  not counted: H (cancelled), I (ends 2026-02-28), J (ends 2026-06-01), another club's.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from app.models import Plan
from tests.analytics.conftest import report
from tests.fixtures.factories import bearer, make_token
from tests.fixtures.ledger import make_member, make_membership, make_plan
from tests.fixtures.retention import problem

PERIOD = {"from": "2026-03-01", "to": "2026-05-31"}


async def ending(
    db: Database,
    club_id: str,
    plan: Plan,
    end: date,
    renewal_start: date | None = None,
    **overrides: Any,
) -> None:
    member = await make_member(db, club_id)
    old = await make_membership(
        db, member, plan, start_date=date(2025, 6, 1), end_date=end, **overrides
    )
    if renewal_start is not None:
        await make_membership(
            db,
            member,
            plan,
            start_date=renewal_start,
            end_date=date(2027, 12, 31),
            source="renewal",
            renews_id=old.id,
        )


@pytest.fixture
async def data(db: Database, club: dict[str, Any], other_club: dict[str, Any]) -> dict[str, Plan]:
    cid = club["id"]
    gold = await make_plan(db, cid, name="Gold")
    silver = await make_plan(db, cid, name="Silver")
    await ending(db, cid, gold, date(2026, 3, 10), date(2026, 3, 11))  # A
    await ending(db, cid, gold, date(2026, 3, 20), date(2026, 4, 5))  # B
    await ending(db, cid, gold, date(2026, 3, 25), date(2026, 5, 1))  # C
    await ending(db, cid, silver, date(2026, 3, 31))  # D
    await ending(db, cid, silver, date(2026, 4, 15), date(2026, 4, 16))  # E
    await ending(db, cid, silver, date(2026, 4, 30), date(2026, 5, 31))  # K
    await ending(db, cid, gold, date(2026, 5, 31), date(2026, 5, 20))  # G
    await ending(db, cid, gold, date(2026, 5, 20))  # F
    await ending(db, cid, silver, date(2026, 5, 16))  # M
    await ending(db, cid, silver, date(2026, 5, 15))  # N
    await ending(db, cid, silver, date(2026, 5, 10), date(2026, 6, 11))  # L
    cancelled = datetime(2026, 2, 1, tzinfo=UTC)
    await ending(db, cid, gold, date(2026, 4, 10), cancelled_at=cancelled)  # H
    await ending(db, cid, gold, date(2026, 2, 28))  # I
    await ending(db, cid, gold, date(2026, 6, 1))  # J
    elsewhere = await make_plan(db, other_club["id"], name="Gold")
    await ending(db, other_club["id"], elsewhere, date(2026, 3, 15))
    return {"gold": gold, "silver": silver}


def row(month: str, plan: Plan, ending: int, before: int, grace: int, lost: int, pending: int,
        rate: float | None) -> dict[str, Any]:  # fmt: skip
    return {
        "month": month,
        "plan_id": str(plan.id),
        "plan_name": plan.name,
        "ending": ending,
        "renewed_before_end": before,
        "renewed_in_grace": grace,
        "lost": lost,
        "pending": pending,
        "renewal_rate": rate,
    }


class TestRenewals:
    async def test_totals(
        self, client: AsyncClient, manager: str, club: dict, data: dict[str, Plan]
    ) -> None:
        got = await report(client, manager, "renewals", club, **PERIOD)
        assert got["totals"] == {
            "ending": 11,
            "renewed_before_end": 3,
            "renewed_in_grace": 2,
            "lost": 4,
            "pending": 2,
            "renewal_rate": 0.5556,  # 5 / 9
        }
        assert got["grace_days"] == 30
        assert got["period"] == PERIOD

    async def test_by_month_and_plan(
        self, client: AsyncClient, manager: str, club: dict, data: dict[str, Plan]
    ) -> None:
        got = await report(client, manager, "renewals", club, **PERIOD)
        gold, silver = data["gold"], data["silver"]
        assert got["by_month_and_plan"] == [
            row("2026-03", gold, 3, 1, 1, 1, 0, 0.6667),
            row("2026-03", silver, 1, 0, 0, 1, 0, 0.0),
            row("2026-04", silver, 2, 1, 1, 0, 0, 1.0),
            row("2026-05", gold, 2, 1, 0, 0, 1, 1.0),
            row("2026-05", silver, 3, 0, 0, 2, 1, 0.0),
        ]

    async def test_an_empty_period_has_no_rate(
        self, client: AsyncClient, manager: str, club: dict, data: dict[str, Plan]
    ) -> None:
        got = await report(
            client, manager, "renewals", club, **{"from": "2025-01-01", "to": "2025-01-31"}
        )
        assert got["totals"]["ending"] == 0
        assert got["totals"]["renewal_rate"] is None
        assert got["by_month_and_plan"] == []


class TestPeriodAndScope:
    async def test_the_default_period_is_the_last_90_days(
        self, client: AsyncClient, manager: str, club: dict
    ) -> None:
        got = await report(client, manager, "renewals", club)
        assert got["period"] == {"from": "2026-03-18", "to": "2026-06-15"}

    async def test_from_after_to_is_refused(
        self, client: AsyncClient, manager: str, club: dict
    ) -> None:
        r = await client.get(
            "/api/v1/analytics/renewals",
            params={"club_id": club["id"], "from": "2026-05-02", "to": "2026-05-01"},
            headers=bearer(manager),
        )
        problem(r, 422, "validation_error")

    async def test_a_period_longer_than_two_years_is_refused(
        self, client: AsyncClient, manager: str, club: dict
    ) -> None:
        r = await client.get(
            "/api/v1/analytics/renewals",
            params={"club_id": club["id"], "from": "2023-01-01", "to": "2026-01-01"},
            headers=bearer(manager),
        )
        problem(r, 422, "validation_error")

    async def test_the_club_is_required(self, client: AsyncClient, manager: str) -> None:
        r = await client.get("/api/v1/analytics/renewals", headers=bearer(manager))
        problem(r, 422, "validation_error")

    async def test_another_clubs_report_is_not_found(
        self, client: AsyncClient, manager: str, other_club: dict
    ) -> None:
        r = await client.get(
            "/api/v1/analytics/renewals",
            params={"club_id": other_club["id"]},
            headers=bearer(manager),
        )
        problem(r, 404, "club_not_found")

    async def test_needs_analytics_read(
        self, client: AsyncClient, db: Database, club: dict
    ) -> None:
        caller = await make_token(db, "caller", club_ids=[uuid.UUID(club["id"])])
        r = await client.get(
            "/api/v1/analytics/renewals", params={"club_id": club["id"]}, headers=bearer(caller)
        )
        problem(r, 403, "forbidden")


async def test_a_renewal_through_the_api_counts_as_renewed_before_the_end(
    client: AsyncClient, manager: str, club: dict
) -> None:
    from tests.memberships.helpers import create_plan, sold

    plan = await create_plan(client, manager, club["id"])
    member = await client.post(
        "/api/v1/members",
        json={
            "club_id": club["id"],
            "first_name": "Rena",
            "last_name": "New",
            "phone": "+79161112233",
        },
        headers=bearer(manager),
    )
    old = await sold(client, manager, member.json()["id"], plan["id"], date(2025, 6, 20))
    assert old["end_date"] == "2026-06-19"
    r = await client.post(
        f"/api/v1/memberships/{old['id']}/renewals",
        json={"plan_id": plan["id"]},
        headers=bearer(manager),
    )
    assert r.status_code == 201, r.text
    got = await report(
        client, manager, "renewals", club, **{"from": "2026-06-01", "to": "2026-06-30"}
    )
    assert got["totals"] == {
        "ending": 1,
        "renewed_before_end": 1,
        "renewed_in_grace": 0,
        "lost": 0,
        "pending": 0,
        "renewal_rate": 1.0,
    }
