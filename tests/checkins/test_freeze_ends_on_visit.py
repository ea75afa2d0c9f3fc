"""Club setting "a visit during a freeze ends it that day", on single and batch ingest."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from httpx import AsyncClient
from sqlalchemy import select

from app.core.clock import freeze as freeze_clock
from app.db import Database
from app.models import Freeze, Membership
from tests.fixtures.factories import bearer, make_club
from tests.fixtures.ledger import make_freeze, make_member, make_membership, make_plan

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 12:00 in Moscow, 10 March


async def _frozen_member(db: Database, club_id: str) -> tuple[uuid.UUID, Membership]:
    member = await make_member(db, club_id)
    plan = await make_plan(db, club_id)
    ms = await make_membership(
        db,
        member,
        plan,
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        base_end_date=date(2026, 12, 11),
        frozen_days=20,
    )
    await make_freeze(db, ms, start_date=date(2026, 3, 1), end_date=date(2026, 3, 20))
    return member.id, ms


async def _state(db: Database, ms: Membership) -> tuple[Freeze, Membership]:
    async with db.sessionmaker() as s:
        f = (await s.scalars(select(Freeze).where(Freeze.membership_id == ms.id))).one()
        m = await s.get(Membership, ms.id)
    assert m is not None
    return f, m


async def test_visit_ends_the_freeze_and_is_allowed(
    client: AsyncClient, db: Database, admin_token: str
) -> None:
    club = await make_club(client, admin_token, freeze_ends_on_visit=True)
    member_id, ms = await _frozen_member(db, club["id"])
    with freeze_clock(NOW):
        r = await client.post(
            "/api/v1/checkins",
            json={"club_id": club["id"], "member_id": str(member_id), "source": "front_desk"},
            headers=bearer(admin_token),
        )
    assert r.status_code == 201, r.text
    assert r.json()["access"]["allowed"] is True
    assert r.json()["access"]["reason"] == "ok"
    f, m = await _state(db, ms)
    assert f.end_date == date(2026, 3, 9)  # the visit day counts as active
    assert m.end_date == date(2026, 12, 20)  # base end + 9 frozen days (1-9 March)


async def test_without_the_setting_the_freeze_stays(
    client: AsyncClient, db: Database, admin_token: str
) -> None:
    club = await make_club(client, admin_token)
    member_id, ms = await _frozen_member(db, club["id"])
    with freeze_clock(NOW):
        r = await client.post(
            "/api/v1/checkins",
            json={"club_id": club["id"], "member_id": str(member_id), "source": "front_desk"},
            headers=bearer(admin_token),
        )
    assert r.status_code == 201
    assert r.json()["access"]["reason"] == "frozen"
    f, m = await _state(db, ms)
    assert f.end_date == date(2026, 3, 20)
    assert m.end_date == date(2026, 12, 31)


async def test_batch_visit_ends_the_freeze_once(
    client: AsyncClient, db: Database, admin_token: str
) -> None:
    club = await make_club(client, admin_token, freeze_ends_on_visit=True)
    member_id, ms = await _frozen_member(db, club["id"])
    rows = [
        {
            "club_id": club["id"],
            "member_id": str(member_id),
            "checked_in_at": at,
            "source": "turnstile",
            "device_id": "gate-1",
            "device_event_id": f"e{i}",
        }
        for i, at in enumerate(["2026-03-08T07:00:00+03:00", "2026-03-09T19:00:00+03:00"])
    ]
    with freeze_clock(NOW):
        r = await client.post("/api/v1/checkins/batch", json=rows, headers=bearer(admin_token))
        assert r.status_code == 200, r.text
        again = await client.post("/api/v1/checkins/batch", json=rows, headers=bearer(admin_token))
    assert again.json()["duplicates"] == 2
    f, m = await _state(db, ms)
    assert f.end_date == date(2026, 3, 7)  # the earliest visit (8 March) ends it
    assert m.end_date == date(2026, 12, 18)  # base end + 7 frozen days (1-7 March)
