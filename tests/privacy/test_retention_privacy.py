"""Privacy end to end: a member with a card, notes, consents, messages, memberships,
freezes, visits, risk assessments, feedback and referrals is exported (every domain's
section) and erased: afterwards no table holds their personal data, and the aggregates
(row counts, money, visits, scores, referral statuses, NPS) are what they were."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import freeze
from app.db import Database
from app.members.privacy import export_sections
from app.messaging.service import messaging_service
from app.models import (
    AuditEntry,
    Base,
    Checkin,
    Feedback,
    Member,
    Membership,
    Referral,
    RiskAssessment,
)
from tests.fixtures.factories import bearer
from tests.fixtures.ledger import make_freeze, make_member, make_membership, make_plan

NOW = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)

# Everything personal the fixture stores about Zinaida (and about the friend she
# recommended): none of it may survive erasure, in any table.
SECRETS = (
    "Zinaida",
    "Quackenbush",
    "+79167776655",
    "zina.q@example.com",
    "ZQ-777",
    "knee surgery in May",
    "agreed at the desk with Olga",
    "the sauna smells of mould",
    "free towel due to allergy",
    "chemotherapy",
    "Friend Fyodor",
    "+79165550123",
)


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with freeze(NOW):
        yield


async def build(client: AsyncClient, db: Database, admin: str, club: dict[str, Any]) -> Member:
    h = bearer(admin)
    r = await client.post(
        "/api/v1/members",
        json={
            "club_id": club["id"],
            "first_name": "Zinaida",
            "last_name": "Quackenbush",
            "phone": "+79167776655",
            "email": "zina.q@example.com",
            "card_number": "ZQ-777",
            "notes": "knee surgery in May",
            "consents": {"calls": True, "service_sms": True},
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    r = await client.post(
        f"/api/v1/members/{mid}/consents",
        json={
            "purpose": "marketing_sms",
            "granted": True,
            "source": "desk",
            "note": "agreed at the desk with Olga",
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    async with db.sessionmaker() as s:
        member = await s.get(Member, uuid.UUID(mid))
        assert member is not None
    plan = await make_plan(db, club["id"])
    ms = await make_membership(
        db,
        member,
        plan,
        start_date=date(2026, 1, 1),
        special_conditions="free towel due to allergy",
        price_paid=3_100_000,
    )
    await make_freeze(
        db, ms, start_date=date(2026, 2, 1), end_date=date(2026, 2, 10), reason="chemotherapy"
    )
    async with db.session_scope() as s:
        m = await s.get(Member, member.id)
        assert m is not None
        await messaging_service.queue(
            s,
            m,
            template="thank_you",
            category="service",
            channel="sms",
            context={},
            dedupe_key=f"thanks-{m.id}",
            as_of=NOW,
        )
        s.add(
            Checkin(
                club_id=m.club_id,
                member_id=m.id,
                checked_in_at=datetime(2026, 5, 1, 8, tzinfo=UTC),
                source="turnstile",
            )
        )
        s.add(
            RiskAssessment(
                member_id=m.id,
                scan_date=date(2026, 6, 1),
                club_id=m.club_id,
                membership_id=ms.id,
                assessed_at=datetime(2026, 6, 1, 3, tzinfo=UTC),
                score=70,
                level="at_risk",
                segment="active",
                reasons=["no visit for 31 days; usually every 4 days"],
                gap_days=31,
                usual_visits_per_week=1.8,
                visits_last_4_weeks=0,
                visits_previous_8_weeks=14,
                tenure_days=151,
                days_to_end=200,
            )
        )
    r = await client.post(
        "/api/v1/feedback",
        json={"member_id": mid, "score": 4, "comment": "the sauna smells of mould"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/referrals",
        json={"referrer_id": mid, "name": "Friend Fyodor", "phone": "+79165550123"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    # And Zinaida herself came through a referral by another member.
    other = await make_member(db, club["id"])
    r = await client.post(
        "/api/v1/referrals",
        json={"referrer_id": str(other.id), "name": "Zinaida Q.", "phone": "+79161230000"},
        headers=h,
    )
    joined = await client.patch(
        f"/api/v1/referrals/{r.json()['id']}",
        json={"status": "joined", "member_id": mid},
        headers=h,
    )
    assert joined.status_code == 200, joined.text
    return member


async def every_row_text(session: AsyncSession) -> list[tuple[str, str]]:
    """(table, the row as text) for every row of every table."""
    out = []
    for table in Base.metadata.sorted_tables:
        for row in (await session.execute(select(table))).all():
            out.append((table.name, " ".join(str(v) for v in row)))
    return out


async def counts(session: AsyncSession) -> dict[str, int]:
    return {
        t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
        for t in Base.metadata.sorted_tables
    }


async def aggregates(session: AsyncSession, member_id: uuid.UUID) -> dict[str, Any]:
    return {
        "paid": await session.scalar(
            select(func.sum(Membership.price_paid)).where(Membership.member_id == member_id)
        ),
        "end_dates": (
            await session.scalars(
                select(Membership.end_date).where(Membership.member_id == member_id)
            )
        ).all(),
        "visits": await session.scalar(
            select(func.count()).select_from(Checkin).where(Checkin.member_id == member_id)
        ),
        "scores": (
            await session.scalars(select(Feedback.score).where(Feedback.member_id == member_id))
        ).all(),
        "referrals": sorted(
            (await session.scalars(select(Referral.status).order_by(Referral.id))).all()
        ),
        "risk": (
            await session.scalars(
                select(RiskAssessment.score).where(RiskAssessment.member_id == member_id)
            )
        ).all(),
    }


async def test_export_has_every_domains_section(
    client: AsyncClient, db: Database, admin_token: str, club: dict[str, Any]
) -> None:
    member = await build(client, db, admin_token, club)
    r = await client.get(f"/api/v1/members/{member.id}/export", headers=bearer(admin_token))
    assert r.status_code == 200, r.text
    sections = r.json()["sections"]
    assert set(sections) == {name for name, _ in export_sections()}
    for name in (
        "consent_events",
        "notes",
        "memberships",
        "audit",
        "messages",
        "checkins",
        "risk_assessments",
        "feedback",
        "referrals",
    ):
        assert sections[name], name
    assert sections["feedback"][0]["comment"] == "the sauna smells of mould"
    assert {r["name"] for r in sections["referrals"]} == {"Friend Fyodor", "Zinaida Q."}


async def test_erasure_leaves_no_personal_data_and_keeps_the_aggregates(
    client: AsyncClient, db: Database, admin_token: str, club: dict[str, Any]
) -> None:
    member = await build(client, db, admin_token, club)
    nps_before = await client.get(
        "/api/v1/analytics/nps", params={"club_id": club["id"]}, headers=bearer(admin_token)
    )
    async with db.sessionmaker() as s:
        leaks_before = [(t, x) for t, x in await every_row_text(s) if any(k in x for k in SECRETS)]
        counts_before = await counts(s)
        aggregates_before = await aggregates(s, member.id)
    assert leaks_before  # the scan can see them

    r = await client.delete(f"/api/v1/members/{member.id}", headers=bearer(admin_token))
    assert r.status_code == 204

    async with db.sessionmaker() as s:
        leaks = [
            (table, next(k for k in SECRETS if k in text))
            for table, text in await every_row_text(s)
            if any(k in text for k in SECRETS)
        ]
        assert leaks == []
        counts_after = await counts(s)
        assert await aggregates(s, member.id) == aggregates_before
        erased = await s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "erased")
        )
    assert erased == 1
    assert counts_after == {**counts_before, "audit_entries": counts_before["audit_entries"] + 1}
    nps_after = await client.get(
        "/api/v1/analytics/nps", params={"club_id": club["id"]}, headers=bearer(admin_token)
    )
    assert nps_after.json() == nps_before.json()
