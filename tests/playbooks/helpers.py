"""Rows and runs for the playbook tests."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.db import Database
from app.models import (
    Club,
    Complaint,
    Member,
    Membership,
    Message,
    Plan,
    PlaybookEffect,
    RiskAssessment,
    ServiceCall,
)
from app.playbooks.jobs import playbook
from tests.fixtures.ledger import make_member, make_membership, make_plan

# 12:00 in Moscow (the default test club's zone), inside quiet hours.
NOON = datetime.fromisoformat("2026-03-10T09:00:00+00:00")
TODAY = date(2026, 3, 10)
CONTACTABLE = {"calls": True, "service_sms": True}


def days(n: int) -> timedelta:
    return timedelta(days=n)


async def member(db: Database, club_id: Any, **overrides: Any) -> Member:
    overrides.setdefault("consents", CONTACTABLE)
    return await make_member(db, club_id, **overrides)


async def plan(db: Database, club_id: Any) -> Plan:
    return await make_plan(db, club_id)


async def held(
    db: Database,
    m: Member,
    p: Plan,
    *,
    start: date,
    end: date | None = None,
    sold_at: datetime | None = None,
    **overrides: Any,
) -> Membership:
    """A membership sold at `sold_at` (default: noon UTC of its start day)."""
    sold = sold_at or datetime.combine(start, datetime.min.time()).replace(
        tzinfo=NOON.tzinfo
    ) + timedelta(hours=9)
    return await make_membership(
        db, m, p, start_date=start, end_date=end, created_at=sold, **overrides
    )


async def old_member(db: Database, club_id: Any, p: Plan, *, end: date, **kw: Any) -> Member:
    """A member on a membership bought long ago (no purchase steps due) ending on `end`."""
    m = await member(db, club_id, **kw)
    await held(db, m, p, start=end - days(364), end=end)
    return m


async def run(db: Database, at: datetime) -> dict[str, int]:
    return dict(await playbook(db, at))


async def effects(db: Database, step_key: str | None = None) -> list[PlaybookEffect]:
    async with db.sessionmaker() as s:
        stmt = select(PlaybookEffect).order_by(PlaybookEffect.created_at, PlaybookEffect.id)
        if step_key is not None:
            stmt = stmt.where(PlaybookEffect.step_key == step_key)
        return list((await s.scalars(stmt)).all())


async def calls(db: Database, member_id: uuid.UUID | None = None) -> list[ServiceCall]:
    async with db.sessionmaker() as s:
        stmt = select(ServiceCall).order_by(ServiceCall.created_at, ServiceCall.id)
        if member_id is not None:
            stmt = stmt.where(ServiceCall.member_id == member_id)
        return list((await s.scalars(stmt)).all())


async def messages(db: Database, member_id: uuid.UUID | None = None) -> list[Message]:
    async with db.sessionmaker() as s:
        stmt = select(Message).order_by(Message.created_at, Message.id)
        if member_id is not None:
            stmt = stmt.where(Message.member_id == member_id)
        return list((await s.scalars(stmt)).all())


async def assess(
    db: Database,
    m: Member,
    membership: Membership,
    scan_date: date,
    *,
    level: str,
    score: int,
    suppressed: str | None = None,
) -> None:
    async with db.session_scope() as s:
        s.add(
            RiskAssessment(
                member_id=m.id,
                scan_date=scan_date,
                club_id=m.club_id,
                membership_id=membership.id,
                assessed_at=NOON,
                score=score,
                level=level,
                segment="active",
                suppressed=suppressed,
                reasons=["test"],
                last_visit_at=None,
                gap_days=10,
                usual_visits_per_week=2.0,
                visits_last_4_weeks=1,
                visits_previous_8_weeks=10,
                visits_first_3_weeks=None,
                tenure_days=200,
                days_to_end=100,
                notified=False,
            )
        )


async def resolved_complaint(db: Database, m: Member, at: datetime) -> Complaint:
    async with db.session_scope() as s:
        c = Complaint(
            club_id=m.club_id,
            member_id=m.id,
            source="desk",
            category="cleanliness",
            description="Dirty lockers",
            severity="medium",
            status="resolved",
            due_at=at,
            resolution="Cleaned",
            root_cause="cleanliness",
            resolved_at=at,
        )
        s.add(c)
    return c


async def set_timezone(db: Database, club_id: Any, tz: str) -> None:
    async with db.session_scope() as s:
        club = await s.get(Club, uuid.UUID(str(club_id)))
        assert club is not None
        club.timezone = tz
