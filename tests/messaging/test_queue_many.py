"""queue_many: `queue` for a batch, with the policy inputs read set-wise."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, func, select

from app.db import Database
from app.messaging.service import Recipient, messaging_service
from app.models import Message
from tests.fixtures.integrations import MSK_NOON, SMS_CONSENTS
from tests.fixtures.ledger import make_member


@pytest.fixture
def club_id(club: dict[str, object]) -> uuid.UUID:
    return uuid.UUID(str(club["id"]))


async def test_one_row_per_dedupe_key_in_recipient_order(db: Database, club_id: uuid.UUID) -> None:
    a = await make_member(db, club_id, consents=SMS_CONSENTS)
    b = await make_member(db, club_id, consents=SMS_CONSENTS)
    async with db.session_scope() as s:
        existing = await messaging_service.queue(
            s, b, template="thank_you", category="service", dedupe_key="k-b", as_of=MSK_NOON
        )
        rows = await messaging_service.queue_many(
            s,
            [Recipient(a, "k-a"), Recipient(b, "k-b"), Recipient(a, "k-a")],
            template="thank_you",
            category="service",
            as_of=MSK_NOON,
        )
    assert [r.member_id for r in rows] == [a.id, b.id, a.id]
    assert rows[0] is rows[2]
    assert rows[1].id == existing.id
    async with db.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Message)) == 2


async def test_earlier_messages_in_the_batch_count_toward_the_caps(
    db: Database, club_id: uuid.UUID
) -> None:
    member = await make_member(db, club_id, consents=SMS_CONSENTS)
    async with db.session_scope() as s:
        rows = await messaging_service.queue_many(
            s,
            [Recipient(member, f"k-{n}") for n in range(5)],
            template="birthday_greeting",
            category="service",
            as_of=MSK_NOON,
        )
    assert [r.status for r in rows] == ["queued"] * 4 + ["suppressed"]
    assert rows[4].suppressed_reason == "cap_reached"


async def test_the_number_of_statements_does_not_grow_with_the_batch(
    db: Database, club_id: uuid.UUID
) -> None:
    async def statements(n: int) -> int:
        members = [await make_member(db, club_id, consents=SMS_CONSENTS) for _ in range(n)]
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        async with db.session_scope() as s:
            conn = await s.connection()
            event.listen(conn.sync_connection, "before_cursor_execute", count)
            try:
                await messaging_service.queue_many(
                    s,
                    [Recipient(m, f"n{n}-{m.id}") for m in members],
                    template="thank_you",
                    category="service",
                    as_of=MSK_NOON,
                )
                await s.flush()
            finally:
                event.remove(conn.sync_connection, "before_cursor_execute", count)
        return len([q for q in seen if not q.upper().startswith(("SAVEPOINT", "RELEASE"))])

    assert await statements(3) == await statements(12)
