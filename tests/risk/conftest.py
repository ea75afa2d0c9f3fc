"""A club with hand-made attendance histories, and a scan that reads them back."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from app.core.timezones import local_to_utc
from app.db import Database
from app.models import Checkin, Member, Membership, Plan, RiskAssessment
from app.risk.jobs import run_scan
from app.risk.service import ScanCounts
from tests.fixtures.ledger import make_member, make_membership, make_plan

TZ = "Europe/Moscow"
TODAY = date(2026, 3, 10)
AS_OF = local_to_utc(TZ, TODAY, time(5))  # the scan's early local hour


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def every(step: int, *, since: int, until: int = 1) -> list[int]:
    """Visit days (days ago): every `step` days, the last one `until` days ago, none
    before `since` days ago."""
    return list(range(until, since + 1, step))


async def add_visits(
    db: Database, member: Member, days: Iterable[int], *, at: time = time(18), tz: str = TZ
) -> None:
    rows = [
        {
            "club_id": member.club_id,
            "member_id": member.id,
            "checked_in_at": local_to_utc(tz, days_ago(d), at),
            "source": "turnstile",
            "created_at": datetime.now(UTC),
        }
        for d in days
    ]
    if rows:
        async with db.session_scope() as s:
            await s.execute(insert(Checkin), rows)


@dataclass
class Cast:
    """Builds members with a membership and visits in one club, then scans it."""

    db: Database
    club_id: uuid.UUID
    plan: Plan | None = None

    async def member(
        self,
        visits: Iterable[int] = (),
        *,
        joined: int = 400,
        ends_in: int = 200,
        membership: dict[str, Any] | None = None,
        **member_fields: Any,
    ) -> tuple[Member, Membership]:
        """A member who joined `joined` days ago, whose term ends in `ends_in` days,
        and who came on each of `visits` (days ago)."""
        if self.plan is None:
            self.plan = await make_plan(self.db, self.club_id)
        member = await make_member(self.db, self.club_id, **member_fields)
        live = await make_membership(
            self.db,
            member,
            self.plan,
            start_date=days_ago(joined),
            end_date=TODAY + timedelta(days=ends_in),
            **(membership or {}),
        )
        await add_visits(self.db, member, visits)
        return member, live

    async def scan(self, as_of: datetime = AS_OF) -> ScanCounts:
        return await run_scan(self.db, as_of, club_id=self.club_id)

    async def assessment(self, member: Member, day: date = TODAY) -> RiskAssessment:
        async with self.db.sessionmaker() as s:
            row = await s.scalar(
                select(RiskAssessment).where(
                    RiskAssessment.member_id == member.id, RiskAssessment.scan_date == day
                )
            )
        assert row is not None, "member was not assessed"
        return row

    async def scan_one(self, member: Member) -> RiskAssessment:
        await self.scan()
        return await self.assessment(member)


@pytest.fixture
def club_id(club: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(str(club["id"]))


@pytest.fixture
def cast(db: Database, club_id: uuid.UUID) -> Cast:
    return Cast(db, club_id)
