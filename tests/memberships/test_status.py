"""Derived membership status: the Python rule and the SQL rule agree on every case."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.db import Database
from app.memberships.status import MembershipStatus, is_status, status_case, status_on
from app.models import Freeze, Membership
from tests.fixtures.ledger import make_freeze, make_member, make_membership, make_plan

TODAY = date(2026, 3, 10)
TODAY_INSTANT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def club_id(club: dict[str, object]) -> uuid.UUID:
    return uuid.UUID(str(club["id"]))


@pytest.mark.parametrize(
    ("start", "end", "freeze", "cancelled", "expected"),
    [
        (date(2026, 3, 11), date(2027, 3, 10), None, False, MembershipStatus.PENDING),
        (date(2026, 3, 10), date(2027, 3, 9), None, False, MembershipStatus.ACTIVE),
        (date(2025, 3, 10), date(2026, 3, 10), None, False, MembershipStatus.ACTIVE),
        (date(2025, 3, 9), date(2026, 3, 9), None, False, MembershipStatus.EXPIRED),
        (
            date(2026, 1, 1),
            date(2026, 12, 31),
            (date(2026, 3, 10), date(2026, 3, 20)),
            False,
            MembershipStatus.FROZEN,
        ),
        (
            date(2026, 1, 1),
            date(2026, 12, 31),
            (date(2026, 3, 11), date(2026, 3, 20)),
            False,
            MembershipStatus.ACTIVE,
        ),
        (date(2026, 1, 1), date(2026, 12, 31), None, True, MembershipStatus.CANCELLED),
    ],
)
async def test_python_and_sql_status_agree(
    db: Database,
    club_id: uuid.UUID,
    start: date,
    end: date,
    freeze: tuple[date, date] | None,
    cancelled: bool,
    expected: MembershipStatus,
) -> None:
    member = await make_member(db, club_id)
    plan = await make_plan(db, club_id)
    extra = {"cancelled_at": TODAY_INSTANT} if cancelled else {}
    m = await make_membership(db, member, plan, start_date=start, end_date=end, **extra)
    freezes: list[Freeze] = []
    if freeze:
        freezes.append(await make_freeze(db, m, start_date=freeze[0], end_date=freeze[1]))

    assert status_on(m, freezes, TODAY) == expected
    async with db.sessionmaker() as s:
        sql_status = await s.scalar(select(status_case(TODAY)).where(Membership.id == m.id))
        matching = await s.scalars(
            select(Membership.id).where(Membership.id == m.id, is_status(expected, TODAY))
        )
        assert sql_status == expected.value
        assert list(matching) == [m.id]


async def test_cancelled_freeze_does_not_freeze(db: Database, club_id: uuid.UUID) -> None:
    member = await make_member(db, club_id)
    plan = await make_plan(db, club_id)
    m = await make_membership(db, member, plan, start_date=date(2026, 1, 1))
    f = await make_freeze(
        db, m, start_date=date(2026, 3, 1), end_date=date(2026, 3, 30), cancelled_at=TODAY_INSTANT
    )
    assert status_on(m, [f], TODAY) == MembershipStatus.ACTIVE
    async with db.sessionmaker() as s:
        assert await s.scalar(select(status_case(TODAY)).where(Membership.id == m.id)) == "active"
