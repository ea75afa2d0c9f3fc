"""Queuing through the contact policy, dedupe, channel choice, erasure."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from app.db import Database
from app.errors import RuleViolation
from app.messaging.service import messaging_service
from app.models import Member, Message
from tests.fixtures.integrations import MSK_NOON, SMS_CONSENTS
from tests.fixtures.ledger import make_member, make_membership, make_plan


@pytest.fixture
def club_id(club: dict[str, object]) -> uuid.UUID:
    return uuid.UUID(str(club["id"]))


async def queue(db: Database, member: Member, **kw: object) -> Message:
    values: dict[str, object] = {
        "template": "birthday_greeting",
        "category": "service",
        "dedupe_key": f"test:{uuid.uuid4().hex}",
        "as_of": MSK_NOON,
    }
    values.update(kw)
    async with db.session_scope() as s:
        return await messaging_service.queue(s, member, **values)  # type: ignore[arg-type]


async def count(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Message)) or 0)


class TestQueue:
    async def test_an_allowed_message_is_queued_due_now_with_rendered_text(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        member = await make_member(db, club_id, preferred_channel="sms", consents=SMS_CONSENTS)
        msg = await queue(db, member, template="thank_you")
        assert (msg.status, msg.channel, msg.next_attempt_at) == ("queued", "sms", MSK_NOON)
        assert msg.to_address == member.phone
        assert msg.body.startswith("Thank you for joining Riverside Fitness, Maria!")
        assert (msg.attempts, msg.suppressed_reason, msg.deferred_reason) == (0, None, None)

    async def test_the_same_dedupe_key_creates_one_row(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        member = await make_member(db, club_id, consents=SMS_CONSENTS)
        first = await queue(db, member, dedupe_key="thank_you:membership-1")
        again = await queue(db, member, dedupe_key="thank_you:membership-1", template="thank_you")
        assert again.id == first.id
        assert await count(db) == 1

    async def test_without_consent_it_is_suppressed_with_the_reason(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        member = await make_member(db, club_id, preferred_channel="sms")
        msg = await queue(db, member, category="marketing", channel="sms")
        assert (msg.status, msg.suppressed_reason, msg.next_attempt_at) == (
            "suppressed",
            "no_consent",
            None,
        )

    async def test_do_not_contact_suppresses(self, db: Database, club_id: uuid.UUID) -> None:
        member = await make_member(db, club_id, do_not_contact=True, consents=SMS_CONSENTS)
        msg = await queue(db, member)
        assert (msg.status, msg.suppressed_reason) == ("suppressed", "do_not_contact")

    async def test_the_fifth_message_in_30_days_is_suppressed_by_the_cap(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        member = await make_member(db, club_id, consents=SMS_CONSENTS)
        statuses = [(await queue(db, member)).status for _ in range(5)]
        last = await queue(db, member)
        assert statuses == ["queued"] * 4 + ["suppressed"]
        assert last.suppressed_reason == "cap_reached"

    async def test_a_meeting_reminder_exempt_from_caps_still_goes(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        member = await make_member(db, club_id, consents=SMS_CONSENTS)
        for _ in range(4):
            await queue(db, member)
        msg = await queue(
            db,
            member,
            template="meeting_reminder",
            context={"meeting_time": "12 Mar 18:30"},
            exempt_from_caps=True,
        )
        assert msg.status == "queued"
        assert msg.exempt_from_caps

    async def test_outside_quiet_hours_it_waits_for_the_next_allowed_time(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        member = await make_member(db, club_id, consents=SMS_CONSENTS)
        late = MSK_NOON.replace(hour=19)  # 22:00 in Moscow
        msg = await queue(db, member, as_of=late)
        assert (msg.status, msg.deferred_reason) == ("queued", "quiet_hours")
        assert msg.next_attempt_at == MSK_NOON.replace(day=11, hour=6)

    async def test_silence_after_a_purchase_defers_all_but_the_thank_you(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        member = await make_member(db, club_id, consents=SMS_CONSENTS)
        plan = await make_plan(db, club_id)
        await make_membership(db, member, plan, start_date=date(2026, 3, 10), created_at=MSK_NOON)
        greeting = await queue(db, member)
        thanks = await queue(db, member, template="thank_you")
        assert (greeting.status, greeting.deferred_reason) == ("queued", "silence_period")
        assert greeting.next_attempt_at == MSK_NOON.replace(day=13, hour=6)
        assert (thanks.status, thanks.next_attempt_at) == ("queued", MSK_NOON)

    async def test_the_members_window_is_respected(self, db: Database, club_id: uuid.UUID) -> None:
        member = await make_member(
            db,
            club_id,
            consents=SMS_CONSENTS,
            contact_window_start=time(18),
            contact_window_end=time(20),
        )
        msg = await queue(db, member)
        assert (msg.deferred_reason, msg.next_attempt_at) == (
            "outside_contact_window",
            MSK_NOON.replace(hour=15),
        )

    async def test_template_category_must_match(self, db: Database, club_id: uuid.UUID) -> None:
        member = await make_member(db, club_id, consents=SMS_CONSENTS)
        with pytest.raises(RuleViolation) as err:
            await queue(db, member, template="promotion_news", category="service")
        assert err.value.code == "template_category_mismatch"
        assert await count(db) == 0

    async def test_missing_context_is_a_template_error(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        member = await make_member(db, club_id, consents=SMS_CONSENTS)
        with pytest.raises(RuleViolation) as err:
            await queue(db, member, template="meeting_reminder")
        assert err.value.code == "template_error"
        assert await count(db) == 0

    async def test_unknown_template(self, db: Database, club_id: uuid.UUID) -> None:
        member = await make_member(db, club_id, consents=SMS_CONSENTS)
        with pytest.raises(RuleViolation) as err:
            await queue(db, member, template="win_back_discount")
        assert err.value.code == "unknown_template"


class TestChannel:
    async def test_preferred_email_is_used(self, db: Database, club_id: uuid.UUID) -> None:
        member = await make_member(db, club_id, preferred_channel="email", consents=SMS_CONSENTS)
        msg = await queue(db, member)
        assert (msg.channel, msg.to_address, msg.subject) == (
            "email",
            member.email,
            "Happy birthday from Riverside Fitness",
        )

    async def test_a_caller_preferring_member_gets_sms_when_consented(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        member = await make_member(db, club_id, preferred_channel="call", consents=SMS_CONSENTS)
        assert (await queue(db, member)).channel == "sms"

    async def test_falls_back_to_email_without_sms_consent(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        member = await make_member(db, club_id, preferred_channel="sms")
        msg = await queue(db, member)  # service e-mail needs no consent
        assert (msg.channel, msg.status) == ("email", "queued")

    async def test_falls_back_to_sms_without_an_email_address(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        member = await make_member(
            db, club_id, preferred_channel="email", email=None, consents=SMS_CONSENTS
        )
        assert (await queue(db, member)).channel == "sms"

    async def test_when_nothing_reaches_the_member_the_preferred_channel_says_why(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        member = await make_member(db, club_id, preferred_channel="sms")
        msg = await queue(db, member, category="marketing")
        assert (msg.channel, msg.status, msg.suppressed_reason) == (
            "sms",
            "suppressed",
            "no_consent",
        )

    async def test_an_explicit_channel_is_not_replaced(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        member = await make_member(db, club_id, preferred_channel="sms")
        msg = await queue(db, member, channel="sms")
        assert (msg.channel, msg.suppressed_reason) == ("sms", "no_consent")

    async def test_calls_are_not_a_message_channel(self, db: Database, club_id: uuid.UUID) -> None:
        member = await make_member(db, club_id, consents=SMS_CONSENTS)
        with pytest.raises(RuleViolation) as err:
            await queue(db, member, channel="call")
        assert err.value.code == "invalid_channel"


class TestErasure:
    async def test_erase_member_blanks_text_and_address_and_stops_sending(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        member = await make_member(db, club_id, consents=SMS_CONSENTS)
        other = await make_member(db, club_id, consents=SMS_CONSENTS)
        queued = await queue(db, member)
        sent = await queue(db, member, template="thank_you", channel="email")
        kept = await queue(db, other)
        async with db.session_scope() as s:
            await s.execute(
                Message.__table__.update()
                .where(Message.id == sent.id)
                .values(status="sent", sent_at=MSK_NOON, last_error="+7916 unreachable")
            )
        async with db.session_scope() as s:
            scrubbed = await messaging_service.erase_member(s, member.id, as_of=MSK_NOON)
        assert scrubbed == 2
        async with db.sessionmaker() as s:
            rows = {m.id: m for m in await s.scalars(select(Message))}
        for mid in (queued.id, sent.id):
            m = rows[mid]
            assert (m.body, m.to_address, m.subject, m.last_error) == ("", "", None, None)
            assert m.erased_at == MSK_NOON
        assert (rows[queued.id].status, rows[queued.id].suppressed_reason) == (
            "suppressed",
            "member_erased",
        )
        assert rows[sent.id].status == "sent"  # history (and caps) keep the fact
        assert rows[kept.id].body
        assert rows[kept.id].to_address == other.phone


async def test_queue_for_a_message_a_day_later_is_due_then(
    db: Database, club_id: uuid.UUID
) -> None:
    member = await make_member(db, club_id, consents=SMS_CONSENTS)
    msg = await queue(db, member, as_of=MSK_NOON + timedelta(days=1))
    assert msg.next_attempt_at == MSK_NOON + timedelta(days=1)
