"""Sending: one marketing message per member through the contact policy, exactly once;
results from the outbox and the renewals that followed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select

from app.campaigns.jobs import campaigns
from app.core.clock import freeze
from app.db import Database
from app.messaging.jobs import dispatch
from app.messaging.providers import OutgoingMessage, ProviderError, SendResult
from app.messaging.service import DispatchConfig, messaging_service
from app.models import Campaign, CampaignRecipient, Member, Plan
from tests.campaigns.conftest import (
    NOW,
    URL,
    count_messages,
    created,
    current_member,
    messages,
    snapshot,
)
from tests.fixtures.factories import bearer
from tests.fixtures.ledger import make_membership
from tests.memberships.helpers import problem

CONFIG = DispatchConfig(batch_size=50, max_attempts=1, send_timeout=2)


class FailFor:
    """A provider that refuses (for good) the messages to some addresses."""

    name = "test"

    def __init__(self, *addresses: str) -> None:
        self.addresses = set(addresses)

    async def send(self, message: OutgoingMessage) -> SendResult:
        if message.to in self.addresses:
            raise ProviderError("number unreachable", retryable=False)
        return SendResult(provider_message_id=f"p-{message.id}")


async def send(client: AsyncClient, token: str, campaign_id: str) -> Any:
    return await client.post(f"{URL}/{campaign_id}/send", headers=bearer(token))


async def queue_service_messages(db: Database, member: Member, n: int) -> None:
    async with db.session_scope() as s:
        row = await s.get(Member, member.id)
        assert row is not None
        for i in range(n):
            await messaging_service.queue(
                s,
                row,
                template="birthday_greeting",
                category="service",
                channel="sms",
                dedupe_key=f"earlier:{member.id}:{i}",
                as_of=NOW - timedelta(days=1),
            )


class TestSend:
    async def test_each_member_gets_one_marketing_message_on_the_campaigns_channel(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
    ) -> None:
        a = await current_member(db, club_id, plan, preferred_channel="email")
        b = await current_member(db, club_id, plan)
        campaign = await created(client, manager, club_id)
        r = await send(client, manager, campaign["id"])
        assert r.status_code == 200, r.text
        assert r.json() == {"queued": 2, "suppressed": {}, "deferred": {}}
        rows = await messages(db)
        assert {m.member_id for m in rows} == {a.id, b.id}
        for m in rows:
            assert (m.channel, m.category, m.template, m.status) == (
                "sms",
                "marketing",
                "promotion_news",
                "queued",
            )
            assert m.dedupe_key == f"campaign:{campaign['id']}:{m.member_id}"
            assert "Spring swim weeks" in m.body
            assert "2026-04-30" in m.body
        r = await client.get(f"{URL}/{campaign['id']}", headers=bearer(manager))
        assert (r.json()["status"], r.json()["sent_at"]) == ("sent", "2026-03-10T09:00:00Z")
        assert r.json()["send_summary"] == {"queued": 2, "suppressed": {}, "deferred": {}}

    async def test_the_contact_policy_decides_and_refusals_are_counted_by_reason(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
    ) -> None:
        await current_member(db, club_id, plan, last_name="Consents")
        await current_member(
            db, club_id, plan, consents={"service_sms": True}, last_name="NoConsent"
        )
        await current_member(db, club_id, plan, do_not_contact=True, last_name="DoNotContact")
        await current_member(db, club_id, plan, phone=None, last_name="NoPhone")
        capped = await current_member(db, club_id, plan, last_name="Capped")
        await queue_service_messages(db, capped, 4)
        campaign = await created(client, manager, club_id)
        r = await send(client, manager, campaign["id"])
        assert r.json() == {
            "queued": 1,
            "suppressed": {
                "no_consent": 1,
                "do_not_contact": 1,
                "no_address": 1,
                "cap_reached": 1,
            },
            "deferred": {},
        }

    async def test_outside_quiet_hours_messages_wait_and_count_as_queued(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
    ) -> None:
        await current_member(db, club_id, plan)
        fresh = await current_member(db, club_id, plan)
        await make_membership(
            db, fresh, plan, start_date=date(2026, 9, 1), created_at=NOW - timedelta(days=1)
        )
        campaign = await created(client, manager, club_id)
        with freeze(datetime(2026, 3, 10, 19, 30, tzinfo=UTC)):  # 22:30 in Moscow
            r = await send(client, manager, campaign["id"])
        assert r.json() == {
            "queued": 2,
            "suppressed": {},
            "deferred": {"quiet_hours": 1, "silence_period": 1},
        }

    async def test_a_second_send_is_refused_and_queues_nothing(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
    ) -> None:
        await current_member(db, club_id, plan)
        campaign = await created(client, manager, club_id)
        assert (await send(client, manager, campaign["id"])).status_code == 200
        await current_member(db, club_id, plan)  # would be in the segment now
        before = await snapshot(db)
        problem(await send(client, manager, campaign["id"]), 409, "campaign_already_sent")
        assert await snapshot(db) == before

    async def test_a_retried_send_with_its_idempotency_key_replays_the_result(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
    ) -> None:
        await current_member(db, club_id, plan)
        campaign = await created(client, manager, club_id)
        headers = {**bearer(manager), "Idempotency-Key": "send-spring-1"}
        first = await client.post(f"{URL}/{campaign['id']}/send", headers=headers)
        again = await client.post(f"{URL}/{campaign['id']}/send", headers=headers)
        assert (first.status_code, again.status_code) == (200, 200)
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert await count_messages(db) == 1

    async def test_a_segment_larger_than_a_chunk_is_sent_whole(
        self,
        client: AsyncClient,
        manager: str,
        club_id: uuid.UUID,
        plan: Plan,
        db: Database,
        monkeypatch: Any,
    ) -> None:
        monkeypatch.setattr("app.campaigns.service.SEND_CHUNK", 2)
        for _ in range(5):
            await current_member(db, club_id, plan)
        campaign = await created(client, manager, club_id)
        assert (await send(client, manager, campaign["id"])).json()["queued"] == 5
        async with db.sessionmaker() as s:
            recipients = (await s.scalars(select(CampaignRecipient))).all()
        assert len({r.member_id for r in recipients}) == 5


class TestResults:
    async def test_results_follow_the_outbox_and_renewals_are_attributed(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
    ) -> None:
        renews = await current_member(db, club_id, plan, last_name="Renews")
        upgrades = await current_member(db, club_id, plan, last_name="Upgrades")
        late = await current_member(db, club_id, plan, last_name="RenewsLate")
        cancels = await current_member(db, club_id, plan, last_name="RenewsThenCancels")
        unreachable = await current_member(db, club_id, plan, last_name="Unreachable")
        refused = await current_member(
            db, club_id, plan, consents={"service_sms": True}, last_name="NoConsent"
        )
        early = await current_member(db, club_id, plan, last_name="RenewedBeforeMessage")
        # Renewed four days before the campaign (days of silence over): messaged, but the
        # renewal came before the message.
        await make_membership(
            db,
            early,
            plan,
            start_date=date(2026, 9, 1),
            source="renewal",
            created_at=NOW - timedelta(days=4),
        )
        campaign = await created(client, manager, club_id)
        await send(client, manager, campaign["id"])
        sent_at = NOW + timedelta(minutes=1)
        await dispatch(db, sent_at, FailFor(unreachable.phone or ""), CONFIG)

        def renewal(member: Member, days: float, **extra: Any) -> Any:
            return make_membership(
                db,
                member,
                plan,
                start_date=date(2026, 9, 1),
                source=extra.pop("source", "renewal"),
                created_at=NOW + timedelta(days=days),
                price_paid=1_000_000,
                **extra,
            )

        await renewal(renews, 3)
        await renewal(upgrades, 29.9, source="upgrade")
        await renewal(late, 30)
        await renewal(cancels, 5, cancelled_at=NOW + timedelta(days=6))
        await renewal(refused, 2)
        await renewal(unreachable, 2)
        await renewal(renews, 4, source="new")

        r = await client.get(f"{URL}/{campaign['id']}", headers=bearer(manager))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["results"] == {
            "queued": 0,
            "sent": 5,
            "failed": 1,
            "suppressed": {"no_consent": 1},
        }
        assert body["renewals"] == {"count": 2, "revenue": 2_000_000}


class TestScheduled:
    async def test_the_job_sends_a_scheduled_campaign_once_when_due(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
    ) -> None:
        await current_member(db, club_id, plan)
        send_at = NOW + timedelta(hours=2)
        campaign = await created(client, manager, club_id, send_at=send_at.isoformat())
        assert await campaigns(db, send_at - timedelta(seconds=1)) == {
            "sent": 0,
            "queued": 0,
            "suppressed": 0,
            "skipped": 0,
            "failed": 0,
        }
        assert await count_messages(db) == 0
        with freeze(send_at):
            counts = await campaigns(db, send_at)
        assert (counts["sent"], counts["queued"]) == (1, 1)
        assert await campaigns(db, send_at + timedelta(minutes=1)) == {
            "sent": 0,
            "queued": 0,
            "suppressed": 0,
            "skipped": 0,
            "failed": 0,
        }
        problem(await send(client, manager, campaign["id"]), 409, "campaign_already_sent")
        assert await count_messages(db) == 1

    async def test_a_scheduled_campaign_sent_by_hand_is_skipped_by_the_job(
        self, client: AsyncClient, manager: str, club_id: uuid.UUID, plan: Plan, db: Database
    ) -> None:
        await current_member(db, club_id, plan)
        send_at = NOW + timedelta(hours=2)
        campaign = await created(client, manager, club_id, send_at=send_at.isoformat())
        assert (await send(client, manager, campaign["id"])).status_code == 200
        counts = await campaigns(db, send_at)
        assert counts["sent"] == 0
        assert await count_messages(db) == 1
        async with db.sessionmaker() as s:
            row = await s.get(Campaign, uuid.UUID(campaign["id"]))
        assert row is not None
        assert row.send_summary == {"queued": 1, "suppressed": {}, "deferred": {}}

    async def test_the_campaigns_job_is_registered(self) -> None:
        from app.jobs_table import load_jobs
        from app.scheduler import JOBS

        load_jobs()
        assert JOBS["campaigns"].func is campaigns
