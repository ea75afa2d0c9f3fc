"""A campaign for members at some lapse-risk levels: their latest assessment decides."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select

from app.db import Database
from app.models import Member, Membership, Plan, RiskAssessment
from tests.campaigns.conftest import NOW, URL, create, created, current_member, snapshot
from tests.fixtures.factories import bearer
from tests.memberships.helpers import problem


async def assess(db: Database, member: Member, level: str, day: date) -> None:
    async with db.session_scope() as s:
        membership_id = await s.scalar(
            select(Membership.id).where(Membership.member_id == member.id)
        )
        s.add(
            RiskAssessment(
                member_id=member.id,
                scan_date=day,
                club_id=member.club_id,
                membership_id=membership_id,
                assessed_at=NOW,
                score={"ok": 10, "watch": 45, "at_risk": 70, "lapsed": 90}[level],
                level=level,
                segment="active",
                suppressed=None,
                reasons=[],
                gap_days=0,
                usual_visits_per_week=2.0,
                visits_last_4_weeks=4,
                visits_previous_8_weeks=8,
                tenure_days=200,
                days_to_end=100,
            )
        )


async def preview(client: AsyncClient, token: str, club_id: uuid.UUID, levels: list[str]) -> Any:
    campaign = await created(client, token, club_id, segment={"risk_levels": levels})
    r = await client.post(f"{URL}/{campaign['id']}/preview", headers=bearer(token))
    assert r.status_code == 200, r.text
    return {m["last_name"] for m in r.json()["sample"]}


async def test_the_latest_scan_decides_the_level(
    client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
) -> None:
    today, yesterday = date(2026, 3, 10), date(2026, 3, 9)
    at_risk = await current_member(db, club_id, plan, last_name="AtRisk")
    recovered = await current_member(db, club_id, plan, last_name="Recovered")
    lapsed = await current_member(db, club_id, plan, last_name="Lapsed")
    fine = await current_member(db, club_id, plan, last_name="Fine")
    await current_member(db, club_id, plan, last_name="NeverScanned")
    for member, before, now in [
        (at_risk, "watch", "at_risk"),
        (recovered, "at_risk", "ok"),
        (lapsed, "lapsed", "lapsed"),
        (fine, "ok", "ok"),
    ]:
        await assess(db, member, before, yesterday)
        await assess(db, member, now, today)
    assert await preview(client, manager, club_id, ["at_risk", "lapsed"]) == {"AtRisk", "Lapsed"}
    assert await preview(client, manager, club_id, ["ok"]) == {"Recovered", "Fine"}


async def test_an_unknown_level_is_refused(
    client: AsyncClient, manager: str, club_id: uuid.UUID, db: Database
) -> None:
    before = await snapshot(db)
    r = await create(client, manager, club_id, segment={"risk_levels": ["angry"]})
    problem(r, 422, "validation_error")
    assert await snapshot(db) == before
