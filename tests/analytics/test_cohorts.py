"""GET /analytics/cohorts against a hand-computed data set.

Today is 2026-06-15 (Moscow, UTC+3); the period is 2026-02-01..2026-04-30. Day N is the
join day + N days; it counts once it has come (<= today).

  member  joins       memberships                         day 30     day 60     day 100
  P       2026-02-01  02-01..2027-01-31                    03-03 yes  04-02 yes  05-12 yes
  Q       2026-02-10  02-10..03-09                         03-12 no   04-11 no   05-21 no
  R       2026-02-20  02-20..2027-02-19, cancelled 04-01   03-22 yes  04-21 no   05-31 no
  S       2026-03-05  03-05..04-03, renewed 04-20..        04-04 no   05-04 yes  06-13 yes
  T       2026-04-20  04-20..2027-04-19                    05-20 yes  06-19 -    07-29 -
  W       2026-04-01  04-01..2027-03-31, frozen 04-25..05-10  05-01 yes  05-31 yes  07-10 -
  not in the period: U (first membership 2026-01-15), another club's member.

Visits on days 0..99 (members past 100 days only): P 2 (local midnight of day 0 and
23:59:59 of day 99 count; day 100 and another club's visit do not), Q 3, R 0, S 1 (00:30
local on the join day, still the previous day in UTC), T not counted (5 visits, too new).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.timezones import local_to_utc
from app.db import Database
from app.models import Checkin, Member
from tests.analytics.conftest import report
from tests.fixtures.ledger import make_freeze, make_member, make_membership, make_plan

TZ = "Europe/Moscow"
PERIOD = {"from": "2026-02-01", "to": "2026-04-30"}


def local(day: date, hh: int = 12, mm: int = 0, ss: int = 0) -> datetime:
    return local_to_utc(TZ, day, time(hh, mm, ss))


async def visits(db: Database, member: Member, *instants: datetime, club_id: Any = None) -> None:
    async with db.session_scope() as s:
        for at in instants:
            s.add(
                Checkin(
                    club_id=uuid.UUID(str(club_id)) if club_id else member.club_id,
                    member_id=member.id,
                    checked_in_at=at,
                    source="front_desk",
                )
            )


@pytest.fixture
async def data(db: Database, club: dict[str, Any], other_club: dict[str, Any]) -> None:
    cid = club["id"]
    plan = await make_plan(db, cid)
    year = timedelta(days=365)

    async def joined(start: date, end: date | None = None, **kw: Any) -> Member:
        m = await make_member(db, cid)
        await make_membership(
            db, m, plan, start_date=start, end_date=end or start + year - timedelta(days=1), **kw
        )
        return m

    p = await joined(date(2026, 2, 1))
    await visits(
        db,
        p,
        local(date(2026, 2, 1), 0, 0, 0),
        local(date(2026, 5, 11), 23, 59, 59),
        local(date(2026, 5, 12), 0, 0, 0),
    )
    await visits(db, p, local(date(2026, 2, 2)), club_id=other_club["id"])
    q = await joined(date(2026, 2, 10), date(2026, 3, 9))
    await visits(db, q, *(local(date(2026, 2, d)) for d in (10, 12, 14)))
    await joined(date(2026, 2, 20), cancelled_at=local(date(2026, 4, 1), 10))  # R
    s_member = await make_member(db, cid)
    first = await make_membership(
        db, s_member, plan, start_date=date(2026, 3, 5), end_date=date(2026, 4, 3)
    )
    await make_membership(
        db,
        s_member,
        plan,
        start_date=date(2026, 4, 20),
        end_date=date(2027, 4, 19),
        source="renewal",
        renews_id=first.id,
    )
    await visits(db, s_member, local(date(2026, 3, 5), 0, 30))
    t = await joined(date(2026, 4, 20))
    await visits(db, t, *(local(date(2026, 4, 20) + timedelta(days=d)) for d in range(5)))
    w = await make_member(db, cid)
    wm = await make_membership(db, w, plan, start_date=date(2026, 4, 1), end_date=date(2027, 3, 31))
    await make_freeze(db, wm, start_date=date(2026, 4, 25), end_date=date(2026, 5, 10))
    u = await joined(date(2026, 1, 15))
    await make_membership(db, u, plan, start_date=date(2026, 3, 1), end_date=date(2027, 2, 28))
    stranger = await make_member(db, other_club["id"])
    await make_membership(
        db, stranger, await make_plan(db, other_club["id"]), start_date=date(2026, 2, 1)
    )


def retention(*triples: tuple[int, int, int, float | None]) -> list[dict[str, Any]]:
    return [{"day": d, "eligible": e, "active": a, "rate": r} for d, e, a, r in triples]


async def test_cohorts(client: AsyncClient, manager: str, club: dict, data: None) -> None:
    got = await report(client, manager, "cohorts", club, **PERIOD)
    assert got["cohorts"] == [
        {
            "month": "2026-02",
            "members": 3,
            "retention": retention((30, 3, 2, 0.6667), (60, 3, 1, 0.3333), (100, 3, 1, 0.3333)),
            "members_past_100_days": 3,
            "visits_first_100_days": 5,
            "average_visits_first_100_days": 1.67,
        },
        {
            "month": "2026-03",
            "members": 1,
            "retention": retention((30, 1, 0, 0.0), (60, 1, 1, 1.0), (100, 1, 1, 1.0)),
            "members_past_100_days": 1,
            "visits_first_100_days": 1,
            "average_visits_first_100_days": 1.0,
        },
        {
            "month": "2026-04",
            "members": 2,
            "retention": retention((30, 2, 2, 1.0), (60, 1, 1, 1.0), (100, 0, 0, None)),
            "members_past_100_days": 0,
            "visits_first_100_days": 0,
            "average_visits_first_100_days": None,
        },
    ]


async def test_no_joins_no_cohorts(client: AsyncClient, manager: str, club: dict) -> None:
    got = await report(client, manager, "cohorts", club, **PERIOD)
    assert got["cohorts"] == []
