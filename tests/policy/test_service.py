"""The policy's inputs are gathered from the database set-wise and correctly."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from app.core.clock import utcnow
from app.db import Database
from app.members.consents import ConsentPurpose
from app.models import Message
from app.policy.service import contact_policy_service
from tests.fixtures.integrations import MSK_NOON, set_consent
from tests.fixtures.ledger import make_member, make_membership, make_plan


@pytest.fixture
def club_id(club: dict[str, object]) -> uuid.UUID:
    return uuid.UUID(str(club["id"]))


def _message(member_id: uuid.UUID, club_id: uuid.UUID, **kw: object) -> Message:
    values: dict[str, object] = {
        "club_id": club_id,
        "member_id": member_id,
        "channel": "sms",
        "template": "birthday_greeting",
        "category": "service",
        "body": "x",
        "to_address": "+70000000000",
        "status": "sent",
        "attempts": 1,
        "dedupe_key": uuid.uuid4().hex,
        "created_at": MSK_NOON,
        "updated_at": MSK_NOON,
    }
    values.update(kw)
    return Message(**values)


async def test_facts_reflect_consents_flags_and_club_settings(
    db: Database, club_id: uuid.UUID
) -> None:
    member = await make_member(
        db, club_id, do_not_contact=True, email=None, consents={"calls": True}
    )
    await set_consent(db, member.id, club_id, "calls", False, utcnow() + timedelta(seconds=1))
    async with db.sessionmaker() as s:
        subject = (await contact_policy_service.subjects(s, [member.id], MSK_NOON))[member.id]
    assert subject.policy.timezone == "Europe/Moscow"
    assert subject.policy.max_messages_per_30_days == 4
    assert subject.facts.do_not_contact is True
    assert subject.facts.has_email is False
    assert subject.facts.consents[ConsentPurpose.CALLS] is False  # latest event wins


async def test_latest_purchase_is_the_club_local_date_of_the_sale(
    db: Database, club_id: uuid.UUID
) -> None:
    member = await make_member(db, club_id)
    plan = await make_plan(db, club_id)
    # 22:30 UTC on 8 March is already 9 March in Moscow.
    sold = MSK_NOON.replace(day=8, hour=22, minute=30)
    await make_membership(db, member, plan, start_date=date(2026, 3, 9), created_at=sold)
    await make_membership(
        db, member, plan, start_date=date(2025, 3, 9), created_at=sold - timedelta(days=365)
    )
    async with db.sessionmaker() as s:
        subject = (await contact_policy_service.subjects(s, [member.id], MSK_NOON))[member.id]
    assert subject.facts.latest_purchase_on == date(2026, 3, 9)


async def test_recent_messages_count_sent_in_window_and_queued_only(
    db: Database, club_id: uuid.UUID
) -> None:
    member = await make_member(db, club_id)
    old = MSK_NOON - timedelta(days=31)
    async with db.session_scope() as s:
        s.add_all(
            [
                _message(member.id, club_id, sent_at=MSK_NOON - timedelta(days=2)),
                _message(member.id, club_id, sent_at=old),
                _message(member.id, club_id, status="queued", next_attempt_at=MSK_NOON),
                _message(member.id, club_id, status="suppressed"),
                _message(member.id, club_id, status="failed"),
                _message(member.id, club_id, sent_at=MSK_NOON, exempt_from_caps=True),
            ]
        )
    async with db.sessionmaker() as s:
        subject = (await contact_policy_service.subjects(s, [member.id], MSK_NOON))[member.id]
    assert sorted(subject.facts.recent_messages) == [MSK_NOON - timedelta(days=2), MSK_NOON]


async def test_inputs_for_many_members_take_a_fixed_number_of_queries(
    db: Database, club_id: uuid.UUID
) -> None:
    members = [await make_member(db, club_id, consents={"service_sms": True}) for _ in range(12)]

    async def selects(ids: list[uuid.UUID]) -> tuple[int, int]:
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        async with db.sessionmaker() as s:
            conn = await s.connection()
            event.listen(conn.sync_connection, "before_cursor_execute", count)
            try:
                subjects = await contact_policy_service.subjects(s, ids, MSK_NOON)
            finally:
                event.remove(conn.sync_connection, "before_cursor_execute", count)
        assert all(sub.facts.consents[ConsentPurpose.SERVICE_SMS] for sub in subjects.values())
        n = len([q for q in statements if q.lstrip().upper().startswith("SELECT")])
        return len(subjects), n

    one, one_selects = await selects([members[0].id])
    many, many_selects = await selects([m.id for m in members])
    assert (one, many) == (1, 12)
    # The same statements for 1 or 12 members: no per-member round trips.
    assert many_selects == one_selects <= 10
