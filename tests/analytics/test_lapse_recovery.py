"""GET /analytics/lapse-recovery against a hand-computed data set.

Today is 2026-06-15 (Moscow, UTC+3); the period is 2026-04-01..2026-05-31. At risk: a
lapse call, or the member's latest risk level (at most 14 days old at the first dial)
is at_risk or lapsed. Recovered: a check-in at the club after a reaching attempt, on or
before the 30th club-local day after it.

  call  kind     at risk by          attempts (local)                 visits            result
  L1    lapse    kind                05-03 callback                   05-20             recovered
  L2    lapse    kind                05-04 no_answer, 05-05 booked    06-04 (day 30)    recovered
  L3    lapse    kind                05-06 declined                   06-06 (day 31),   lost
                                                                      05-10 elsewhere
  L4    renewal  at_risk 05-08       05-10 12:00 declined             05-10 09:00       lost
  L7    lapse    kind                05-25 booked                     -                 pending
  L8    lapse    kind                05-28 no_answer                  -                 not reached
  L11   lapse    kind                04-20 callback                   04-25             recovered
  not at risk: L5 (renewal; at_risk 05-01 but ok 05-09, latest before its 05-10 dial),
  L6 (welcome; at_risk 04-20, 22 days old at its 05-12 dial).
  not in the period: L9 (first dial 06-01 00:30 local), another club's lapse call.

  totals   called 7, reached 6, recovered 3, pending 1: rate 3 / (6 - 1) = 0.6
  2026-04  called 1, reached 1, recovered 1, pending 0: rate 1.0
  2026-05  called 6, reached 5, recovered 2, pending 1: rate 0.5
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from tests.analytics.calls import local, member_with_call, risk, visit
from tests.analytics.conftest import report
from tests.fixtures.ledger import make_membership, make_plan
from tests.fixtures.outreach import make_attempt

PERIOD = {"from": "2026-04-01", "to": "2026-05-31"}


@pytest.fixture
async def data(db: Database, club: dict[str, Any], other_club: dict[str, Any]) -> None:
    cid = club["id"]
    plan = await make_plan(db, cid)

    m, call = await member_with_call(db, cid, kind="lapse")  # L1
    await make_attempt(db, call, "callback_requested", local(5, 3))
    await visit(db, m, local(5, 20))

    m, call = await member_with_call(db, cid, kind="lapse")  # L2
    await make_attempt(db, call, "no_answer", local(5, 4))
    await make_attempt(db, call, "meeting_booked", local(5, 5, 10))
    await visit(db, m, local(6, 4, 23, 59))

    m, call = await member_with_call(db, cid, kind="lapse")  # L3
    await make_attempt(db, call, "declined", local(5, 6), decline_reason="price")
    await visit(db, m, local(6, 6, 0, 1))
    await visit(db, m, local(5, 10), club_id=other_club["id"])

    m, call = await member_with_call(db, cid)  # L4
    card = await make_membership(db, m, plan, start_date=date(2025, 9, 1))
    await risk(db, card, date(2026, 5, 8), "at_risk")
    await make_attempt(db, call, "declined", local(5, 10, 12), decline_reason="schedule")
    await visit(db, m, local(5, 10, 9))

    m, call = await member_with_call(db, cid)  # L5
    card = await make_membership(db, m, plan, start_date=date(2025, 9, 1))
    await risk(db, card, date(2026, 5, 1), "at_risk")
    await risk(db, card, date(2026, 5, 9), "ok")
    await make_attempt(db, call, "callback_requested", local(5, 10))
    await visit(db, m, local(5, 11))

    m, call = await member_with_call(db, cid, kind="welcome")  # L6
    card = await make_membership(db, m, plan, start_date=date(2025, 9, 1))
    await risk(db, card, date(2026, 4, 20), "lapsed")
    await make_attempt(db, call, "callback_requested", local(5, 12))
    await visit(db, m, local(5, 13))

    m, call = await member_with_call(db, cid, kind="lapse")  # L7
    await make_attempt(db, call, "meeting_booked", local(5, 25))

    m, call = await member_with_call(db, cid, kind="lapse")  # L8
    await make_attempt(db, call, "no_answer", local(5, 28))

    m, call = await member_with_call(db, cid, kind="lapse")  # L11
    await make_attempt(db, call, "callback_requested", local(4, 20))
    await visit(db, m, local(4, 25))

    m, call = await member_with_call(db, cid, kind="lapse")  # L9
    await make_attempt(db, call, "callback_requested", local(6, 1, 0, 30))
    await visit(db, m, local(6, 2))

    m, call = await member_with_call(db, other_club["id"], kind="lapse")
    await make_attempt(db, call, "callback_requested", local(5, 3))
    await visit(db, m, local(5, 4))


def counts(called: int, reached: int, recovered: int, pending: int,
           rate: float | None) -> dict[str, Any]:  # fmt: skip
    return {
        "called": called,
        "reached": reached,
        "recovered": recovered,
        "pending": pending,
        "recovery_rate": rate,
    }


async def test_lapse_recovery(client: AsyncClient, manager: str, club: dict, data: None) -> None:
    got = await report(client, manager, "lapse-recovery", club, **PERIOD)
    assert got["recovery_days"] == 30
    assert got["totals"] == counts(7, 6, 3, 1, 0.6)
    assert got["by_month"] == [
        {"month": "2026-04", **counts(1, 1, 1, 0, 1.0)},
        {"month": "2026-05", **counts(6, 5, 2, 1, 0.5)},
    ]


async def test_nothing_decided_yet_has_no_rate(
    client: AsyncClient, db: Database, manager: str, club: dict
) -> None:
    _, call = await member_with_call(db, club["id"], kind="lapse")
    await make_attempt(db, call, "callback_requested", local(6, 10))
    got = await report(client, manager, "lapse-recovery", club)
    assert got["totals"] == counts(1, 1, 0, 1, None)
    assert got["by_month"] == [{"month": "2026-06", **counts(1, 1, 0, 1, None)}]


async def test_an_empty_period(client: AsyncClient, manager: str, club: dict, data: None) -> None:
    got = await report(
        client, manager, "lapse-recovery", club, **{"from": "2026-01-01", "to": "2026-01-31"}
    )
    assert got["totals"] == counts(0, 0, 0, 0, None)
    assert got["by_month"] == []
