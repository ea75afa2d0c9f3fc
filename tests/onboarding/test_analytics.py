"""Onboarding analytics against a hand-computed cohort (both dialects).

Club in Moscow. Six new memberships start in January-March 2026, one in December 2025
(outside the range); the report is asked for on 15 May 2026:

    who  start   plan  items done (before day 100)        membership on day 100
    A    01-05   12m   all four                              live                -> retained
    B    01-10   12m   all four                              cancelled 03-01     -> lost
    C    01-12   12m   first_session                         live                -> retained
    D    01-20   1m    none                                  renewed from 02-20  -> retained
    E    01-25   1m    none                                  ended 02-24         -> lost
    F    03-01   12m   wellness_test skipped                 day 100 is 06-09    -> pending
    G    12-20   12m   all four (outside the range)
    H    01-15   12m   all four, meet_trainers only on day 100 -> not completed; live -> retained

Per item (A-F, H: 7 onboardings): first_session done A B C H = 4, open D E F = 3 (all past
due on 05-15); wellness_test done A B H = 3, skipped F, open C D E; meet_trainers done
A B H = 3 (H's counts as done for completion), open C D E F; visit_plan done A B H = 3,
open C D E F.
Retention, judged (day 100 passed): completed before day 100 = A, B -> 1 of 2 retained;
not completed = C, D, E, H -> C, D, H retained = 3 of 4. Pending: F.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from httpx import AsyncClient

from app.core.clock import freeze
from app.db import Database
from tests.fixtures.factories import bearer, make_token
from tests.fixtures.ledger import make_member
from tests.memberships.helpers import create_plan, problem, sold

KINDS = ("first_session", "wellness_test", "meet_trainers", "visit_plan")
REPORT_AT = datetime(2026, 5, 15, 9, 0, tzinfo=UTC)
URL = "/api/v1/analytics/onboarding"


def at(day: date) -> datetime:
    """09:00 UTC (12:00 in Moscow) on `day`."""
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


async def mark(
    client: AsyncClient, token: str, membership: dict[str, Any], kind: str, status: str, on: date
) -> None:
    with freeze(at(on)):
        r = await client.patch(
            f"/api/v1/memberships/{membership['id']}/onboarding/{kind}",
            json={"status": status},
            headers=bearer(token),
        )
    assert r.status_code == 200, r.text


async def new(
    client: AsyncClient,
    token: str,
    db: Database,
    club_id: uuid.UUID,
    plan: dict[str, Any],
    start: date,
) -> tuple[Any, dict[str, Any]]:
    member = await make_member(db, club_id)
    with freeze(at(start)):
        membership = await sold(client, token, member.id, plan["id"], start)
    return member, membership


async def build_cohort(client: AsyncClient, admin: str, db: Database, club_id: uuid.UUID) -> None:
    year = await create_plan(client, admin, club_id)
    month = await create_plan(client, admin, club_id, name="One month", duration_months=1)

    _, a = await new(client, admin, db, club_id, year, date(2026, 1, 5))
    for kind in KINDS:
        await mark(client, admin, a, kind, "done", date(2026, 1, 20))

    _, b = await new(client, admin, db, club_id, year, date(2026, 1, 10))
    for kind in KINDS:
        await mark(client, admin, b, kind, "done", date(2026, 1, 25))
    with freeze(at(date(2026, 3, 1))):
        r = await client.post(
            f"/api/v1/memberships/{b['id']}/cancel", json={"reason": "Moved"}, headers=bearer(admin)
        )
        assert r.status_code == 200, r.text

    _, c = await new(client, admin, db, club_id, year, date(2026, 1, 12))
    await mark(client, admin, c, "first_session", "done", date(2026, 1, 14))

    d_member, _ = await new(client, admin, db, club_id, month, date(2026, 1, 20))
    with freeze(at(date(2026, 2, 15))):
        await sold(client, admin, d_member.id, year["id"], date(2026, 2, 20), source="renewal")

    await new(client, admin, db, club_id, month, date(2026, 1, 25))

    _, f = await new(client, admin, db, club_id, year, date(2026, 3, 1))
    await mark(client, admin, f, "wellness_test", "skipped", date(2026, 3, 5))

    _, g = await new(client, admin, db, club_id, year, date(2025, 12, 20))
    for kind in KINDS:
        await mark(client, admin, g, kind, "done", date(2025, 12, 28))

    _, h = await new(client, admin, db, club_id, year, date(2026, 1, 15))
    for kind in ("first_session", "wellness_test", "visit_plan"):
        await mark(client, admin, h, kind, "done", date(2026, 1, 20))
    # Day 100 is 25 April; 00:30 in Moscow that day is already too late.
    with freeze(datetime(2026, 4, 24, 21, 30, tzinfo=UTC)):
        r = await client.patch(
            f"/api/v1/memberships/{h['id']}/onboarding/meet_trainers",
            json={"status": "done"},
            headers=bearer(admin),
        )
        assert r.status_code == 200, r.text


async def test_completion_and_retention_match_the_hand_computed_cohort(
    client: AsyncClient, admin_token: str, db: Database, club_id: uuid.UUID
) -> None:
    await build_cohort(client, admin_token, db, club_id)
    with freeze(REPORT_AT):
        r = await client.get(
            URL,
            params={"club_id": str(club_id), "from": "2026-01-01", "to": "2026-03-31"},
            headers=bearer(admin_token),
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["from"], body["to"]) == ("2026-01-01", "2026-03-31")
    assert (body["memberships"], body["fully_completed"]) == (7, 3)
    items = {i["kind"]: i for i in body["items"]}
    assert items["first_session"] == {
        "kind": "first_session",
        "total": 7,
        "done": 4,
        "skipped": 0,
        "open": 3,
        "overdue": 3,
        "completion_rate": round(4 / 7, 4),
    }
    assert (items["wellness_test"]["done"], items["wellness_test"]["skipped"]) == (3, 1)
    assert (items["wellness_test"]["open"], items["wellness_test"]["overdue"]) == (3, 3)
    assert (items["meet_trainers"]["done"], items["meet_trainers"]["open"]) == (3, 4)
    assert items["visit_plan"]["completion_rate"] == round(3 / 7, 4)
    assert body["retention"] == {
        "day": 100,
        "completed": {"memberships": 2, "retained": 1, "rate": 0.5},
        "not_completed": {"memberships": 4, "retained": 3, "rate": 0.75},
        "pending": 1,
    }


async def test_an_empty_range_reports_zeros_and_no_rates(
    client: AsyncClient, admin_token: str, club_id: uuid.UUID
) -> None:
    r = await client.get(
        URL,
        params={"club_id": str(club_id), "from": "2020-01-01", "to": "2020-12-31"},
        headers=bearer(admin_token),
    )
    body = r.json()
    assert body["memberships"] == 0
    assert all(i["total"] == 0 and i["completion_rate"] is None for i in body["items"])
    assert body["retention"]["completed"] == {"memberships": 0, "retained": 0, "rate": None}


async def test_the_range_defaults_to_the_year_up_to_today(
    client: AsyncClient, admin_token: str, club_id: uuid.UUID
) -> None:
    r = await client.get(URL, params={"club_id": str(club_id)}, headers=bearer(admin_token))
    assert (r.json()["from"], r.json()["to"]) == ("2025-03-10", "2026-03-10")


async def test_another_clubs_analytics_are_not_found(
    client: AsyncClient, db: Database, club_id: uuid.UUID, other_club: dict[str, Any]
) -> None:
    manager = await make_token(db, "manager", club_ids=[club_id])
    r = await client.get(URL, params={"club_id": other_club["id"]}, headers=bearer(manager))
    problem(r, 404, "club_not_found")


async def test_a_reversed_range_is_refused(
    client: AsyncClient, admin_token: str, club_id: uuid.UUID
) -> None:
    r = await client.get(
        URL,
        params={"club_id": str(club_id), "from": "2026-03-01", "to": "2026-02-01"},
        headers=bearer(admin_token),
    )
    problem(r, 422, "validation_error")


async def test_a_front_desk_token_may_not_read_analytics(
    client: AsyncClient, db: Database, club_id: uuid.UUID
) -> None:
    desk = await make_token(db, "front_desk", club_ids=[club_id])
    r = await client.get(URL, params={"club_id": str(club_id)}, headers=bearer(desk))
    problem(r, 403, "forbidden")


def test_day_100_is_counted_from_the_start_date() -> None:
    assert date(2026, 1, 15) + timedelta(days=100) == date(2026, 4, 25)
