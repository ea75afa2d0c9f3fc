"""The `messages` job: claim, re-check the policy, send, retry with backoff, fail."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from app.core.clock import utcnow
from app.db import Database
from app.messaging.jobs import dispatch
from app.messaging.providers import LocalProvider, OutgoingMessage, ProviderError, SendResult
from app.messaging.service import DispatchConfig, messaging_service
from app.models import Member, Message
from tests.fixtures.factories import bearer
from tests.fixtures.integrations import MSK_NOON, SMS_CONSENTS, set_consent
from tests.fixtures.ledger import make_member

CONFIG = DispatchConfig(
    batch_size=5,
    max_attempts=3,
    retry_base=timedelta(seconds=60),
    retry_max=timedelta(minutes=10),
    lease=timedelta(seconds=30),
    send_timeout=2,
)


class FlakyProvider:
    name = "flaky"

    def __init__(self, *, fail: int = 0, retryable: bool = True) -> None:
        self.fail, self.retryable = fail, retryable
        self.calls: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.calls.append(message)
        if len(self.calls) <= self.fail:
            raise ProviderError("gateway answered 503", retryable=self.retryable)
        return SendResult(provider_message_id=f"p-{len(self.calls)}")


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


async def reload(db: Database, message: Message) -> Message:
    async with db.sessionmaker() as s:
        row = await s.get(Message, message.id)
        assert row is not None
        return row


async def test_local_provider_marks_due_messages_sent(db: Database, club_id: uuid.UUID) -> None:
    members = [await make_member(db, club_id, consents=SMS_CONSENTS) for _ in range(7)]
    queued = [await queue(db, m) for m in members]
    counts = await dispatch(db, MSK_NOON, LocalProvider(), CONFIG)
    assert counts["sent"] == 7  # two batches of at most 5
    for q in queued:
        m = await reload(db, q)
        assert (m.status, m.attempts, m.provider) == ("sent", 1, "local")
        assert m.provider_message_id == f"local-{m.id}"
        assert m.sent_at is not None
    assert (await dispatch(db, MSK_NOON, LocalProvider(), CONFIG))["sent"] == 0


async def test_a_deferred_message_waits_for_its_time(db: Database, club_id: uuid.UUID) -> None:
    member = await make_member(db, club_id, consents=SMS_CONSENTS)
    night = MSK_NOON.replace(hour=19)  # 22:00 Moscow
    msg = await queue(db, member, as_of=night)
    assert (await dispatch(db, night + timedelta(hours=1), LocalProvider(), CONFIG))["sent"] == 0
    assert msg.next_attempt_at is not None
    assert (await dispatch(db, msg.next_attempt_at, LocalProvider(), CONFIG))["sent"] == 1
    sent = await reload(db, msg)
    assert (sent.status, sent.deferred_reason) == ("sent", None)


async def test_failures_retry_with_exponential_backoff_then_succeed(
    db: Database, club_id: uuid.UUID
) -> None:
    member = await make_member(db, club_id, consents=SMS_CONSENTS)
    msg = await queue(db, member)
    provider = FlakyProvider(fail=2)
    first = await dispatch(db, MSK_NOON, provider, CONFIG)
    m = await reload(db, msg)
    assert first["retried"] == 1
    assert m.status == "queued"
    assert m.attempts == 1
    assert m.next_attempt_at is not None
    assert m.last_error == "gateway answered 503"
    delay1 = m.next_attempt_at - MSK_NOON
    assert timedelta(seconds=60) <= delay1 <= timedelta(seconds=67)
    await dispatch(db, m.next_attempt_at, provider, CONFIG)
    m2 = await reload(db, msg)
    assert m2.next_attempt_at is not None
    delay2 = m2.next_attempt_at - m.next_attempt_at
    assert timedelta(seconds=120) <= delay2 <= timedelta(seconds=134)
    await dispatch(db, m2.next_attempt_at, provider, CONFIG)
    done = await reload(db, msg)
    assert (done.status, done.attempts, done.last_error) == ("sent", 3, None)


async def test_after_max_attempts_the_message_fails(db: Database, club_id: uuid.UUID) -> None:
    member = await make_member(db, club_id, consents=SMS_CONSENTS)
    msg = await queue(db, member)
    provider = FlakyProvider(fail=99)
    when = MSK_NOON
    for _ in range(3):
        await dispatch(db, when, provider, CONFIG)
        when += timedelta(hours=1)
    m = await reload(db, msg)
    assert (m.status, m.attempts, m.next_attempt_at) == ("failed", 3, None)
    assert len(provider.calls) == 3
    await dispatch(db, when, provider, CONFIG)
    assert len(provider.calls) == 3


async def test_a_refused_message_fails_at_once(db: Database, club_id: uuid.UUID) -> None:
    member = await make_member(db, club_id, consents=SMS_CONSENTS)
    msg = await queue(db, member)
    counts = await dispatch(db, MSK_NOON, FlakyProvider(fail=1, retryable=False), CONFIG)
    m = await reload(db, msg)
    assert counts["failed"] == 1
    assert (m.status, m.attempts) == ("failed", 1)


async def test_consent_withdrawn_after_queuing_suppresses_at_dispatch(
    db: Database, club_id: uuid.UUID
) -> None:
    member = await make_member(db, club_id, preferred_channel="sms", consents=SMS_CONSENTS)
    msg = await queue(db, member, channel="sms")
    await set_consent(db, member.id, club_id, "service_sms", False, utcnow() + timedelta(seconds=1))
    provider = FlakyProvider()
    counts = await dispatch(db, MSK_NOON, provider, CONFIG)
    m = await reload(db, msg)
    assert counts["suppressed"] == 1
    assert provider.calls == []
    assert (m.status, m.suppressed_reason) == ("suppressed", "no_consent")


async def test_dispatch_recheck_does_not_let_a_message_count_against_itself(
    db: Database, club_id: uuid.UUID
) -> None:
    member = await make_member(db, club_id, consents=SMS_CONSENTS)
    msgs = [await queue(db, member) for _ in range(4)]  # exactly the cap
    counts = await dispatch(db, MSK_NOON, LocalProvider(), CONFIG)
    assert counts["sent"] == 4
    assert counts["suppressed"] == 0
    assert {(await reload(db, m)).status for m in msgs} == {"sent"}


async def test_two_messages_admitted_past_the_cap_by_a_race_send_only_the_first(
    db: Database, club_id: uuid.UUID
) -> None:
    member = await make_member(db, club_id, consents=SMS_CONSENTS)
    msgs = [await queue(db, member) for _ in range(4)]
    # A fifth row admitted by a racing transaction (bypassing the cap at queue time).
    async with db.session_scope() as s:
        extra = Message(
            club_id=club_id,
            member_id=member.id,
            channel="sms",
            template="birthday_greeting",
            category="service",
            body="x",
            to_address=member.phone or "",
            status="queued",
            attempts=0,
            next_attempt_at=MSK_NOON,
            dedupe_key="race",
            created_at=MSK_NOON + timedelta(seconds=1),
            updated_at=MSK_NOON,
        )
        s.add(extra)
    counts = await dispatch(db, MSK_NOON + timedelta(seconds=1), LocalProvider(), CONFIG)
    assert counts["sent"] == 4
    assert (await reload(db, extra)).suppressed_reason == "cap_reached"
    assert {(await reload(db, m)).status for m in msgs} == {"sent"}


async def test_a_crashed_send_is_retried_after_the_lease_and_a_stale_result_is_ignored(
    db: Database, club_id: uuid.UUID
) -> None:
    member = await make_member(db, club_id, consents=SMS_CONSENTS)
    msg = await queue(db, member)
    async with db.session_scope() as s:
        crashed = await messaging_service.claim_due(s, MSK_NOON, CONFIG)
    assert [m.id for m in crashed.messages] == [msg.id]
    # Leased: not due again during the lease...
    assert (await dispatch(db, MSK_NOON + timedelta(seconds=29), LocalProvider(), CONFIG))[
        "sent"
    ] == 0
    # ...and due after it.
    counts = await dispatch(db, MSK_NOON + timedelta(seconds=31), LocalProvider(), CONFIG)
    assert counts["sent"] == 1
    # The crashed worker's late outcome must not overwrite attempt 2.
    outcomes = await messaging_service.send(FlakyProvider(fail=1), crashed.messages, 1)
    async with db.session_scope() as s:
        late = await messaging_service.record(s, outcomes, MSK_NOON, CONFIG)
    assert late["stale"] == 1
    m = await reload(db, msg)
    assert (m.status, m.attempts, m.last_error) == ("sent", 2, None)


async def test_a_slow_provider_is_cut_off_by_the_send_timeout(
    db: Database, club_id: uuid.UUID
) -> None:
    class Slow:
        name = "slow"

        async def send(self, message: OutgoingMessage) -> SendResult:
            await asyncio.sleep(5)
            return SendResult(None)

    member = await make_member(db, club_id, consents=SMS_CONSENTS)
    msg = await queue(db, member)
    cfg = DispatchConfig(max_attempts=3, send_timeout=0.1)
    counts = await dispatch(db, MSK_NOON, Slow(), cfg)
    m = await reload(db, msg)
    assert counts["retried"] == 1
    assert m.last_error == "timed out"


async def test_messages_job_runs_over_the_api(
    client: AsyncClient, admin_token: str, db: Database, club_id: uuid.UUID
) -> None:
    member = await make_member(db, club_id, consents=SMS_CONSENTS)
    msg = await queue(db, member)
    r = await client.post(
        "/api/v1/jobs/messages/run",
        json={"as_of": MSK_NOON.isoformat()},
        headers=bearer(admin_token),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "succeeded"
    assert r.json()["counts"]["sent"] == 1
    assert (await reload(db, msg)).status == "sent"


@pytest.mark.postgres_only
async def test_concurrent_claims_take_disjoint_rows_with_skip_locked(
    isolated_db: Database,
) -> None:
    db = isolated_db
    async with db.session_scope() as s:
        from app.models import Club

        club = Club(
            name="C",
            timezone="Europe/Moscow",
            currency="RUB",
            quiet_hours_start=MSK_NOON.time().replace(hour=0),
            quiet_hours_end=MSK_NOON.time().replace(hour=23),
            opening_hours={},
            contact_policy={"max_messages_per_30_days": 60},
            meeting_settings={},
        )
        s.add(club)
    members = [await make_member(db, club.id, consents=SMS_CONSENTS) for _ in range(6)]
    for m in members:
        await queue(db, m)
    cfg = DispatchConfig(batch_size=4)
    async with db.sessionmaker() as s1, db.sessionmaker() as s2:
        first = await messaging_service.claim_due(s1, MSK_NOON, cfg)  # holds its locks
        second = await asyncio.wait_for(messaging_service.claim_due(s2, MSK_NOON, cfg), 5)
        ids1 = {m.id for m in first.messages}
        ids2 = {m.id for m in second.messages}
        assert len(ids1) == 4
        assert len(ids2) == 2
        assert not ids1 & ids2
        await s1.commit()
        await s2.commit()
    async with db.sessionmaker() as s:
        attempts = list(await s.scalars(select(Message.attempts)))
    assert sorted(attempts) == [1] * 6
