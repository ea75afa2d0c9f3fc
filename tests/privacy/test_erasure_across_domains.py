"""Erasing a member removes their personal data everywhere it is stored, and export
includes every domain's data."""

from __future__ import annotations

import uuid

from httpx import AsyncClient
from sqlalchemy import select

from app.core.clock import utcnow
from app.db import Database
from app.messaging.service import messaging_service
from app.models import Message
from tests.fixtures.factories import bearer
from tests.fixtures.ledger import make_member


async def test_erase_scrubs_messages_and_export_lists_them(
    client: AsyncClient, db: Database, admin_token: str, club: dict
) -> None:
    member = await make_member(
        db, uuid.UUID(club["id"]), consents={"service_sms": True}, first_name="Olga"
    )
    async with db.session_scope() as s:
        m = await s.get(type(member), member.id)
        assert m is not None
        await messaging_service.queue(
            s,
            m,
            template="thank_you",
            category="service",
            channel="sms",
            context={},
            dedupe_key=f"t-{member.id}",
            as_of=utcnow(),
        )
    export = await client.get(f"/api/v1/members/{member.id}/export", headers=bearer(admin_token))
    assert export.status_code == 200
    sections = export.json()["sections"]
    assert len(sections["messages"]) == 1
    assert "Olga" in sections["messages"][0]["body"]

    r = await client.delete(f"/api/v1/members/{member.id}", headers=bearer(admin_token))
    assert r.status_code == 204
    async with db.sessionmaker() as s:
        msg = (await s.scalars(select(Message).where(Message.member_id == member.id))).one()
    assert "Olga" not in (msg.body or "")
    assert member.phone not in (msg.to_address or "")


async def test_erase_blanks_membership_free_text_but_keeps_money_and_dates(
    client: AsyncClient, db: Database, admin_token: str, club: dict
) -> None:
    from datetime import date

    from app.models import Freeze, Membership
    from tests.fixtures.ledger import make_freeze, make_membership, make_plan

    member = await make_member(db, uuid.UUID(club["id"]))
    plan = await make_plan(db, club["id"])
    ms = await make_membership(
        db, member, plan, start_date=date(2026, 1, 1), special_conditions="knee surgery discount"
    )
    await make_freeze(
        db, ms, start_date=date(2026, 2, 1), end_date=date(2026, 2, 10), reason="pregnancy"
    )
    r = await client.delete(f"/api/v1/members/{member.id}", headers=bearer(admin_token))
    assert r.status_code == 204
    async with db.sessionmaker() as s:
        kept = await s.get(Membership, ms.id)
        freeze = (await s.scalars(select(Freeze).where(Freeze.membership_id == ms.id))).one()
    assert kept is not None
    assert kept.special_conditions == "[erased]"
    assert kept.price_paid == ms.price_paid
    assert kept.end_date == ms.end_date
    assert freeze.reason == "[erased]"
