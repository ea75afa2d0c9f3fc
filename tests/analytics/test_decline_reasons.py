"""GET /analytics/decline-reasons against a hand-computed data set.

Today is 2026-06-15 (Moscow, UTC+3); the period is 2026-05-01..2026-05-31.

  call attempts declined:   price 05-03, price 05-20, schedule 05-31 23:59 local;
                            not counted: health 04-30 23:59 local, a callback on 05-10,
                            another club's price decline.
  meeting outcomes declined (outcome_at): price 05-10, moved 05-11;
                            not counted: competitor 06-01 00:10 local, a renewed meeting.

  calls 3, meetings 2, declines 5:
  price     2 + 1 = 3   share 0.6   call 0.6667  meeting 0.5
  schedule  1 + 0 = 1         0.2        0.3333          0.0
  moved     0 + 1 = 1         0.2        0.0             0.5
"""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from app.models.meeting import DeclineReason
from tests.analytics.calls import local, member_with_call
from tests.analytics.conftest import report
from tests.fixtures.meetings import make_meeting
from tests.fixtures.outreach import make_attempt

PERIOD = {"from": "2026-05-01", "to": "2026-05-31"}


@pytest.fixture
async def data(db: Database, club: dict[str, Any], other_club: dict[str, Any]) -> None:
    cid = club["id"]
    _, call = await member_with_call(db, cid)
    await make_attempt(db, call, "declined", local(5, 3), decline_reason="price")
    await make_attempt(db, call, "callback_requested", local(5, 10))
    await make_attempt(db, call, "declined", local(5, 20), decline_reason="price")
    _, call = await member_with_call(db, cid, kind="lapse")
    await make_attempt(db, call, "declined", local(5, 31, 23, 59), decline_reason="schedule")
    await make_attempt(db, call, "declined", local(4, 30, 23, 59), decline_reason="health")
    _, call = await member_with_call(db, other_club["id"])
    await make_attempt(db, call, "declined", local(5, 3), decline_reason="price")

    async def meeting(outcome: str, at: Any, reason: str | None = None) -> None:
        member, _ = await member_with_call(db, cid)
        await make_meeting(
            db, member, starts_at=at, status="attended", outcome=outcome,
            decline_reason=reason, outcome_at=at,
        )  # fmt: skip

    await meeting("declined", local(5, 10), "price")
    await meeting("declined", local(5, 11), "moved")
    await meeting("declined", local(6, 1, 0, 10), "competitor")
    await meeting("renewed", local(5, 12))


def reason(name: str, calls: int, meetings: int, share: float | None, call_share: float | None,
           meeting_share: float | None) -> dict[str, Any]:  # fmt: skip
    return {
        "reason": name,
        "calls": calls,
        "meetings": meetings,
        "total": calls + meetings,
        "share": share,
        "call_share": call_share,
        "meeting_share": meeting_share,
    }


async def test_decline_reasons(client: AsyncClient, manager: str, club: dict, data: None) -> None:
    got = await report(client, manager, "decline-reasons", club, **PERIOD)
    assert (got["declines"], got["call_declines"], got["meeting_declines"]) == (5, 3, 2)
    assert got["reasons"] == [
        reason("price", 2, 1, 0.6, 0.6667, 0.5),
        reason("schedule", 1, 0, 0.2, 0.3333, 0.0),
        reason("moved", 0, 1, 0.2, 0.0, 0.5),
        reason("health", 0, 0, 0.0, 0.0, 0.0),
        reason("dissatisfied", 0, 0, 0.0, 0.0, 0.0),
        reason("competitor", 0, 0, 0.0, 0.0, 0.0),
        reason("no_time", 0, 0, 0.0, 0.0, 0.0),
        reason("other", 0, 0, 0.0, 0.0, 0.0),
    ]


async def test_without_declines_every_reason_is_listed_without_shares(
    client: AsyncClient, manager: str, club: dict, data: None
) -> None:
    got = await report(
        client, manager, "decline-reasons", club, **{"from": "2026-01-01", "to": "2026-01-31"}
    )
    assert got["declines"] == 0
    assert [r["reason"] for r in got["reasons"]] == [r.value for r in DeclineReason]
    assert all(
        (r["total"], r["share"], r["call_share"], r["meeting_share"]) == (0, None, None, None)
        for r in got["reasons"]
    )


async def test_a_meeting_decline_stored_without_a_reason_counts_as_other(
    client: AsyncClient, db: Database, manager: str, club: dict
) -> None:
    member, _ = await member_with_call(db, club["id"])
    await make_meeting(
        db, member, starts_at=local(5, 4), status="attended", outcome="declined",
        outcome_at=local(5, 4),
    )  # fmt: skip
    got = await report(client, manager, "decline-reasons", club, **PERIOD)
    assert got["meeting_declines"] == 1
    assert got["reasons"][-1] == reason("other", 0, 1, 1.0, None, 1.0)
