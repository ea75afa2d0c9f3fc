"""GET /analytics/funnel against a hand-computed data set.

Today is 2026-06-15 (Moscow, UTC+3); the period is 2026-05-01..2026-05-31. A call is in
the funnel when its FIRST attempt falls on a club-local day of the period; what came of
it later counts whenever it happened. Each stage needs the ones before it.

  call  kind        attempts (local)                       meeting (call_id)          stages
  c1    renewal     05-02 no_answer, 05-03 meeting_booked  attended, renewed -> ms    R B A N
  c2    renewal     05-10 meeting_booked                   attended, declined         R B A
  c3    renewal     05-12 meeting_booked                   no_show                    R B
  c4    renewal     05-15 declined                         -                          R
  c5    lapse       05-20 voicemail, 05-21 wrong_number    -                          -
  c6    lapse       05-31 23:30 no_answer, 06-02 callback  attended 06-05, membership R B A N
                                                           sold at it (meeting_id)
  c10   welcome     05-05 meeting_booked                   attended, renewed -> a     R B A
                                                           cancelled membership
  c11   onboarding  05-06 no_answer                        attended (booked at the    -
                                                           desk): never reached
  not in the funnel: c7 (first dial 04-30 23:30 local), c8 (first dial 06-01 00:30
  local, still 05-31 in UTC), c9 (never dialled), another club's call.

  totals: calls 8, reached 6, booked 5, attended 4, renewals 2.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from tests.analytics.calls import local, member_with_call
from tests.analytics.conftest import report
from tests.fixtures.ledger import make_membership, make_plan
from tests.fixtures.meetings import make_meeting
from tests.fixtures.outreach import make_attempt

PERIOD = {"from": "2026-05-01", "to": "2026-05-31"}


@pytest.fixture
async def data(db: Database, club: dict[str, Any], other_club: dict[str, Any]) -> None:
    cid = club["id"]
    plan = await make_plan(db, cid)

    async def meeting(call: Any, member: Any, at: Any, **kw: Any) -> Any:
        return await make_meeting(db, member, starts_at=at, call_id=call.id, **kw)

    m1, c1 = await member_with_call(db, cid)
    await make_attempt(db, c1, "no_answer", local(5, 2))
    await make_attempt(db, c1, "meeting_booked", local(5, 3))
    sold = await make_membership(db, m1, plan, start_date=date(2026, 6, 1), source="renewal")
    await meeting(
        c1, m1, local(5, 8), status="attended", outcome="renewed", outcome_membership_id=sold.id
    )

    m2, c2 = await member_with_call(db, cid)
    await make_attempt(db, c2, "meeting_booked", local(5, 10))
    await meeting(
        c2, m2, local(5, 12), status="attended", outcome="declined", decline_reason="price"
    )

    m3, c3 = await member_with_call(db, cid)
    await make_attempt(db, c3, "meeting_booked", local(5, 12))
    await meeting(c3, m3, local(5, 14), status="no_show")

    _, c4 = await member_with_call(db, cid)
    await make_attempt(db, c4, "declined", local(5, 15), decline_reason="price")

    _, c5 = await member_with_call(db, cid, kind="lapse")
    await make_attempt(db, c5, "voicemail", local(5, 20))
    await make_attempt(db, c5, "wrong_number", local(5, 21))

    m6, c6 = await member_with_call(db, cid, kind="lapse")
    await make_attempt(db, c6, "no_answer", local(5, 31, 23, 30))
    await make_attempt(db, c6, "callback_requested", local(6, 2))
    held = await meeting(c6, m6, local(6, 5), status="attended")
    await make_membership(db, m6, plan, start_date=date(2026, 6, 5), meeting_id=held.id)

    m10, c10 = await member_with_call(db, cid, kind="welcome")
    await make_attempt(db, c10, "meeting_booked", local(5, 5))
    refunded = await make_membership(
        db, m10, plan, start_date=date(2026, 5, 6), cancelled_at=local(5, 7)
    )
    await meeting(
        c10, m10, local(5, 6), status="attended", outcome="renewed",
        outcome_membership_id=refunded.id,
    )  # fmt: skip

    m11, c11 = await member_with_call(db, cid, kind="onboarding")
    await make_attempt(db, c11, "no_answer", local(5, 6))
    await meeting(c11, m11, local(5, 9), status="attended", purpose="onboarding")

    m7, c7 = await member_with_call(db, cid)
    await make_attempt(db, c7, "no_answer", local(4, 30, 23, 30))
    await make_attempt(db, c7, "meeting_booked", local(5, 5))
    await meeting(c7, m7, local(5, 7), status="attended")

    _, c8 = await member_with_call(db, cid)
    await make_attempt(db, c8, "meeting_booked", local(6, 1, 0, 30))

    await member_with_call(db, cid)  # c9: never dialled

    stranger, elsewhere = await member_with_call(db, other_club["id"])
    await make_attempt(db, elsewhere, "meeting_booked", local(5, 10))
    await meeting(elsewhere, stranger, local(5, 12), status="attended")


def funnel(calls: int, reached: int, booked: int, attended: int, renewals: int,
           rates: tuple[float | None, ...]) -> dict[str, Any]:  # fmt: skip
    keys = (
        "reached_per_call",
        "booked_per_reached",
        "attended_per_booked",
        "renewed_per_attended",
        "renewed_per_call",
    )
    return {
        "calls": calls,
        "reached": reached,
        "meetings_booked": booked,
        "meetings_attended": attended,
        "renewals": renewals,
        "rates": dict(zip(keys, rates, strict=True)),
    }


async def test_funnel_totals(client: AsyncClient, manager: str, club: dict, data: None) -> None:
    got = await report(client, manager, "funnel", club, **PERIOD)
    assert got["period"] == PERIOD
    assert got["club_id"] == club["id"]
    assert {
        k: got[k]
        for k in ("calls", "reached", "meetings_booked", "meetings_attended", "renewals", "rates")
    } == funnel(  # fmt: skip
        8, 6, 5, 4, 2, (0.75, 0.8333, 0.8, 0.5, 0.25)
    )


async def test_funnel_by_kind(client: AsyncClient, manager: str, club: dict, data: None) -> None:
    got = await report(client, manager, "funnel", club, **PERIOD)
    assert got["by_kind"] == [
        {"kind": "lapse", **funnel(2, 1, 1, 1, 1, (0.5, 1.0, 1.0, 1.0, 0.5))},
        {"kind": "onboarding", **funnel(1, 0, 0, 0, 0, (0.0, None, None, None, 0.0))},
        {"kind": "renewal", **funnel(4, 4, 3, 2, 1, (1.0, 0.75, 0.6667, 0.5, 0.25))},
        {"kind": "welcome", **funnel(1, 1, 1, 1, 0, (1.0, 1.0, 1.0, 0.0, 0.0))},
    ]


async def test_a_period_without_calls_has_no_rates(
    client: AsyncClient, manager: str, club: dict, data: None
) -> None:
    got = await report(
        client, manager, "funnel", club, **{"from": "2026-01-01", "to": "2026-01-31"}
    )
    assert got["calls"] == 0
    assert got["rates"] == dict.fromkeys(got["rates"], None)
    assert got["by_kind"] == []


async def test_the_other_clubs_funnel_counts_only_its_own_call(
    client: AsyncClient, admin_token: str, other_club: dict, data: None
) -> None:
    got = await report(client, admin_token, "funnel", other_club, **PERIOD)
    assert (got["calls"], got["reached"], got["meetings_attended"]) == (1, 1, 1)
