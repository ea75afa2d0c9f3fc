"""Row helpers for the call analytics tests (funnel, decline reasons, lapse recovery,
staff): everything is inserted as-is, in the default club's zone (Europe/Moscow)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from app.core.timezones import local_to_utc
from app.db import Database
from app.models import Checkin, Member, Membership, RiskAssessment, ServiceCall, Staff
from tests.fixtures.ledger import make_member
from tests.fixtures.outreach import make_call

TZ = "Europe/Moscow"


def local(month: int, day: int, hh: int = 12, mm: int = 0) -> datetime:
    """An instant of 2026 in Moscow time."""
    return local_to_utc(TZ, date(2026, month, day), time(hh, mm))


async def staff(db: Database, name: str, *roles: str) -> Staff:
    async with db.session_scope() as s:
        row = Staff(name=name, roles=list(roles or ("caller",)), active=True)
        s.add(row)
    return row


async def member_with_call(
    db: Database, club_id: Any, kind: str = "renewal", **call: Any
) -> tuple[Member, ServiceCall]:
    member = await make_member(db, club_id)
    return member, await make_call(db, member.id, member.club_id, kind=kind, **call)


async def visit(db: Database, member: Member, at: datetime, club_id: Any = None) -> None:
    async with db.session_scope() as s:
        s.add(
            Checkin(
                club_id=uuid.UUID(str(club_id)) if club_id else member.club_id,
                member_id=member.id,
                checked_in_at=at,
                source="turnstile",
            )
        )


async def risk(db: Database, membership: Membership, scan_date: date, level: str) -> None:
    async with db.session_scope() as s:
        s.add(
            RiskAssessment(
                member_id=membership.member_id,
                scan_date=scan_date,
                club_id=membership.club_id,
                membership_id=membership.id,
                assessed_at=local_to_utc(TZ, scan_date, time(3, 0)),
                score=70 if level != "ok" else 10,
                level=level,
                segment="active",
                suppressed=None,
                reasons=[],
                last_visit_at=None,
                gap_days=20,
                usual_visits_per_week=2.0,
                visits_last_4_weeks=0,
                visits_previous_8_weeks=10,
                visits_first_3_weeks=None,
                tenure_days=400,
                days_to_end=60,
            )
        )
