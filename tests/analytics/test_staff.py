"""GET /analytics/staff against a hand-computed data set.

Today is 2026-06-15 (Moscow, UTC+3); the period is 2026-05-01..2026-05-31.

  Anna (caller)  dials: c1 05-02 no_answer (M1), c1 05-03 meeting_booked -> m1 (M1),
                 c2 05-04 declined (M2); not counted: c3 04-30 23:30 local, a dial in
                 another club.  m1 has no booked_by: the booking attempt credits Anna.
  Boris (caller) dials: c3 05-06 meeting_booked -> m3 (M3; m3.booked_by = Boris too,
                 counted once), c4 05-07 voicemail (M4), lapse call c5 05-20 callback (M5),
                 who checked in 05-22: a recovered lapser.
  Olga (consultant) held m1 (05-10, attended, renewed -> R1) and m3 (05-12, attended);
                 not held: a no-show 05-13, an attended meeting 06-02.
                 R1 renews M1's card, sold by Dina at m1: credited to Olga.
  Dina (desk)    R2 renewal sold 05-15 at the desk; N1 new card sold 05-16; not counted:
                 a cancelled new sale, a new sale 04-29, a meeting booked 06-01 00:30 local.

  name   attempts calls reached booked held renewals recovered new
  Anna       3      2      2      1     0      0        0       0
  Boris      3      3      2      1     0      0        1       0
  Dina       0      0      0      0     0      1        0       1
  Olga       0      0      0      0     2      1        0       0
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient

from app.db import Database
from app.models import Staff
from tests.analytics.calls import local, member_with_call, staff, visit
from tests.analytics.conftest import report
from tests.fixtures.ledger import make_membership, make_plan
from tests.fixtures.meetings import make_meeting
from tests.fixtures.outreach import make_attempt

PERIOD = {"from": "2026-05-01", "to": "2026-05-31"}


@pytest.fixture
async def team(db: Database, club: dict[str, Any], other_club: dict[str, Any]) -> dict[str, Staff]:
    cid = club["id"]
    plan = await make_plan(db, cid)
    anna, boris = await staff(db, "Anna Caller"), await staff(db, "Boris Caller")
    olga = await staff(db, "Olga Consultant", "consultant")
    dina = await staff(db, "Dina Desk", "front_desk")

    m1, c1 = await member_with_call(db, cid)
    await make_attempt(db, c1, "no_answer", local(5, 2), staff_id=anna.id)
    m1_meeting = await make_meeting(
        db, m1, starts_at=local(5, 10), consultant_id=olga.id, call_id=c1.id,
        status="attended", created_at=local(5, 3),
    )  # fmt: skip
    await make_attempt(
        db, c1, "meeting_booked", local(5, 3), staff_id=anna.id, meeting_id=m1_meeting.id
    )
    card = await make_membership(db, m1, plan, start_date=date(2025, 6, 10))
    r1 = await make_membership(
        db, m1, plan, start_date=date(2026, 6, 10), source="renewal", renews_id=card.id,
        sold_by_id=dina.id, meeting_id=m1_meeting.id, created_at=local(5, 10),
    )  # fmt: skip
    async with db.session_scope() as s:
        held = await s.get_one(type(m1_meeting), m1_meeting.id)
        held.outcome, held.outcome_membership_id = "renewed", r1.id

    _, c2 = await member_with_call(db, cid)
    await make_attempt(db, c2, "declined", local(5, 4), staff_id=anna.id, decline_reason="price")

    m3, c3 = await member_with_call(db, cid)
    await make_attempt(db, c3, "no_answer", local(4, 30, 23, 30), staff_id=anna.id)
    m3_meeting = await make_meeting(
        db, m3, starts_at=local(5, 12), consultant_id=olga.id, call_id=c3.id,
        status="attended", booked_by_id=boris.id, created_at=local(5, 6),
    )  # fmt: skip
    await make_attempt(
        db, c3, "meeting_booked", local(5, 6), staff_id=boris.id, meeting_id=m3_meeting.id
    )

    _, c4 = await member_with_call(db, cid)
    await make_attempt(db, c4, "voicemail", local(5, 7), staff_id=boris.id)

    m5, c5 = await member_with_call(db, cid, kind="lapse")
    await make_attempt(db, c5, "callback_requested", local(5, 20), staff_id=boris.id)
    await visit(db, m5, local(5, 22))

    no_show, _ = await member_with_call(db, cid)
    await make_meeting(
        db, no_show, starts_at=local(5, 13), consultant_id=olga.id, status="no_show",
        created_at=local(4, 20),
    )  # fmt: skip
    later, _ = await member_with_call(db, cid)
    await make_meeting(
        db, later, starts_at=local(6, 2), consultant_id=olga.id, status="attended",
        booked_by_id=anna.id, created_at=local(6, 1, 0, 30),
    )  # fmt: skip

    desk, _ = await member_with_call(db, cid)
    old = await make_membership(db, desk, plan, start_date=date(2025, 5, 20))
    await make_membership(
        db, desk, plan, start_date=date(2026, 5, 20), source="renewal", renews_id=old.id,
        sold_by_id=dina.id, created_at=local(5, 15),
    )  # fmt: skip
    for start, created, cancelled in (
        (date(2026, 5, 16), local(5, 16), None),
        (date(2026, 5, 17), local(5, 17), local(5, 18)),
        (date(2026, 4, 29), local(4, 29), None),
    ):
        buyer, _ = await member_with_call(db, cid)
        await make_membership(
            db, buyer, plan, start_date=start, sold_by_id=dina.id, created_at=created,
            cancelled_at=cancelled,
        )  # fmt: skip

    _, elsewhere = await member_with_call(db, other_club["id"])
    await make_attempt(db, elsewhere, "meeting_booked", local(5, 5), staff_id=anna.id)
    return {"anna": anna, "boris": boris, "olga": olga, "dina": dina}


def row(person: Staff, *values: int) -> dict[str, Any]:
    keys = ("attempts", "calls_attempted", "members_reached", "meetings_booked",
            "meetings_held", "renewals", "recovered_lapsers", "new_sales")  # fmt: skip
    return {"staff_id": str(person.id), "name": person.name, **dict(zip(keys, values, strict=True))}


async def test_staff_credit(
    client: AsyncClient, manager: str, club: dict, team: dict[str, Staff]
) -> None:
    got = await report(client, manager, "staff", club, **PERIOD)
    assert got["staff"] == [
        row(team["anna"], 3, 2, 2, 1, 0, 0, 0, 0),
        row(team["boris"], 3, 3, 2, 1, 0, 0, 1, 0),
        row(team["dina"], 0, 0, 0, 0, 0, 1, 0, 1),
        row(team["olga"], 0, 0, 0, 0, 2, 1, 0, 0),
    ]


async def test_recovered_lapsers_match_lapse_recovery(
    client: AsyncClient, manager: str, club: dict, team: dict[str, Staff]
) -> None:
    credited = await report(client, manager, "staff", club, **PERIOD)
    recovery = await report(client, manager, "lapse-recovery", club, **PERIOD)
    assert sum(r["recovered_lapsers"] for r in credited["staff"]) == 1
    assert recovery["totals"]["recovered"] == 1


async def test_the_other_club_sees_only_its_own_dial(
    client: AsyncClient, admin_token: str, other_club: dict, team: dict[str, Staff]
) -> None:
    got = await report(client, admin_token, "staff", other_club, **PERIOD)
    assert got["staff"] == [row(team["anna"], 1, 1, 1, 0, 0, 0, 0, 0)]


async def test_a_quiet_period_lists_nobody(
    client: AsyncClient, manager: str, club: dict, team: dict[str, Staff]
) -> None:
    got = await report(client, manager, "staff", club, **{"from": "2026-01-01", "to": "2026-01-31"})
    assert got["staff"] == []
