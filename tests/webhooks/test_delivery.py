"""Fan-out and delivery: once per (subscription, event), signed, retried, disabled."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from app.db import Database
from app.models import Event, WebhookDelivery, WebhookSubscription
from app.webhooks.jobs import deliver
from app.webhooks.service import DeliveryConfig, webhook_service
from app.webhooks.targets import TargetGuard
from tests.fixtures.factories import bearer, make_club
from tests.fixtures.integrations import MSK_NOON, Receiver, live_database, make_event, wipe
from tests.webhooks.conftest import PUBLIC_IP, FakeDns

CONFIG = DeliveryConfig(
    batch_size=10,
    timeout=2,
    retry_base=timedelta(seconds=30),
    retry_max=timedelta(hours=1),
    retry_window=timedelta(hours=24),
    disable_after=5,
    lease=timedelta(seconds=60),
)
OPEN = TargetGuard(allow_private=True)


async def subscribe(
    db: Database,
    *,
    club_id: uuid.UUID | None,
    events: list[str] | None = None,
    url: str = "http://receiver.test/hook",
    active: bool = True,
) -> WebhookSubscription:
    async with db.session_scope() as s:
        sub = WebhookSubscription(
            club_id=club_id,
            url=url,
            events=events or ["meeting.booked"],
            secret="whsec_" + uuid.uuid4().hex,
            active=active,
            consecutive_failures=0,
        )
        s.add(sub)
    return sub


async def deliveries(db: Database) -> list[WebhookDelivery]:
    async with db.sessionmaker() as s:
        return list(await s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)))


async def get_sub(db: Database, sub_id: uuid.UUID) -> WebhookSubscription:
    async with db.sessionmaker() as s:
        sub = await s.get(WebhookSubscription, sub_id)
        assert sub is not None
        return sub


@pytest.fixture
def club_id(club: dict[str, object]) -> uuid.UUID:
    return uuid.UUID(str(club["id"]))


@pytest.fixture
async def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def http(receiver: Receiver) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver)) as client:
        yield client


class TestFanOut:
    async def test_an_event_goes_to_every_matching_subscription_once(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        a = await subscribe(db, club_id=club_id)
        b = await subscribe(db, club_id=None, events=["meeting.booked", "call.due"])
        await subscribe(db, club_id=club_id, events=["call.due"])  # other type
        await subscribe(db, club_id=club_id, active=False)  # disabled
        event = await make_event(db, "meeting.booked", club_id=club_id)
        async with db.session_scope() as s:
            assert await webhook_service.fan_out(s, MSK_NOON, limit=100) == 1
        async with db.session_scope() as s:
            assert await webhook_service.fan_out(s, MSK_NOON, limit=100) == 0
        rows = await deliveries(db)
        assert {d.subscription_id for d in rows} == {a.id, b.id}
        assert {(d.event_public_id, d.status, d.attempts) for d in rows} == {
            (event.public_id, "pending", 0)
        }

    async def test_a_club_subscription_gets_only_its_clubs_events(
        self, db: Database, client: AsyncClient, admin_token: str, club_id: uuid.UUID
    ) -> None:
        other = uuid.UUID((await make_club(client, admin_token, name="Other"))["id"])
        mine = await subscribe(db, club_id=club_id)
        chain = await subscribe(db, club_id=None)
        await make_event(db, club_id=club_id)
        await make_event(db, club_id=other)
        await make_event(db, club_id=None)
        async with db.session_scope() as s:
            await webhook_service.fan_out(s, MSK_NOON, limit=100)
        per_sub: dict[uuid.UUID, set[Any]] = {}
        for d in await deliveries(db):
            per_sub.setdefault(d.subscription_id, set()).add(d.club_id)
        assert per_sub == {mine.id: {club_id}, chain.id: {club_id, other, None}}

    async def test_fanning_out_the_same_event_twice_adds_nothing(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        await subscribe(db, club_id=club_id)
        event = await make_event(db, club_id=club_id)
        async with db.session_scope() as s:
            await webhook_service.fan_out(s, MSK_NOON, limit=100)
            # Simulate a second fan-out of the same event (e.g. a crashed run re-done).
            await s.execute(
                Event.__table__.update().where(Event.id == event.id).values(fanned_out_at=None)
            )
            await webhook_service.fan_out(s, MSK_NOON, limit=100)
        assert len(await deliveries(db)) == 1


class TestDelivery:
    async def test_delivers_a_signed_json_post_that_an_integrator_can_verify(
        self, db: Database, club_id: uuid.UUID, receiver: Receiver, http: httpx.AsyncClient
    ) -> None:
        sub = await subscribe(db, club_id=club_id)
        event = await make_event(db, club_id=club_id, data={"meeting_id": "m-1", "n": 2})
        counts = await deliver(db, MSK_NOON, http, OPEN, CONFIG)
        assert counts["delivered"] == 1
        assert counts["events"] == 1
        (got,) = receiver.received
        assert got.path == "/hook"
        assert got.headers["content-type"] == "application/json"

        # What an integrator does: recompute from the raw body and the three headers.
        msg_id = got.headers["webhook-id"]
        timestamp = got.headers["webhook-timestamp"]
        expected = base64.b64encode(
            hmac.new(
                sub.secret.encode(), f"{msg_id}.{timestamp}.".encode() + got.body, hashlib.sha256
            ).digest()
        ).decode()
        assert got.headers["webhook-signature"] == f"v1,{expected}"
        assert abs(time.time() - int(timestamp)) < 60

        payload = json.loads(got.body)
        assert payload == {
            "id": str(event.public_id),
            "type": "meeting.booked",
            "created_at": payload["created_at"],
            "club_id": str(club_id),
            "data": {"meeting_id": "m-1", "n": 2},
        }
        assert msg_id == str(event.public_id)
        assert payload["created_at"].endswith("Z")
        (row,) = await deliveries(db)
        assert (row.status, row.attempts, row.last_status_code) == ("delivered", 1, 200)
        assert row.delivered_at is not None
        assert len(row.attempt_log) == 1

    async def test_a_non_2xx_answer_is_retried_with_backoff_and_logged(
        self, db: Database, club_id: uuid.UUID, receiver: Receiver, http: httpx.AsyncClient
    ) -> None:
        await subscribe(db, club_id=club_id)
        await make_event(db, club_id=club_id)
        receiver.status = 503
        assert (await deliver(db, MSK_NOON, http, OPEN, CONFIG))["retried"] == 1
        (row,) = await deliveries(db)
        assert (row.status, row.attempts, row.last_status_code, row.last_error) == (
            "pending",
            1,
            503,
            "HTTP 503",
        )
        assert row.next_attempt_at is not None
        first_delay = row.next_attempt_at - MSK_NOON
        assert timedelta(seconds=30) <= first_delay <= timedelta(seconds=34)
        # Not due yet: nothing is sent.
        await deliver(db, MSK_NOON + timedelta(seconds=10), http, OPEN, CONFIG)
        assert len(receiver.received) == 1
        when = row.next_attempt_at
        await deliver(db, when, http, OPEN, CONFIG)
        (row,) = await deliveries(db)
        assert row.attempts == 2
        assert row.next_attempt_at is not None
        assert timedelta(seconds=60) <= row.next_attempt_at - when <= timedelta(seconds=67)
        receiver.status = 204
        await deliver(db, row.next_attempt_at, http, OPEN, CONFIG)
        (row,) = await deliveries(db)
        assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 204)
        assert [a["status_code"] for a in row.attempt_log] == [503, 503, 204]
        # Same Webhook-Id on every attempt, so the receiver can drop repeats.
        assert len({r.headers["webhook-id"] for r in receiver.received}) == 1

    async def test_connection_errors_and_timeouts_are_retried(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

        await subscribe(db, club_id=club_id)
        await make_event(db, club_id=club_id)
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
            assert (await deliver(db, MSK_NOON, client, OPEN, CONFIG))["retried"] == 1
        (row,) = await deliveries(db)
        assert row.last_status_code is None
        assert "ConnectError" in (row.last_error or "")

        slow = Receiver(delay=5)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=slow)) as client:
            cfg = DeliveryConfig(timeout=0.2, lease=timedelta(seconds=5))
            await deliver(db, MSK_NOON + timedelta(hours=1), client, OPEN, cfg)
        (row,) = await deliveries(db)
        assert row.attempts == 2
        assert row.status == "pending"
        assert row.last_error in ("timed out", "ReadTimeout")

    async def test_retries_stop_after_the_retry_window(
        self, db: Database, club_id: uuid.UUID, receiver: Receiver, http: httpx.AsyncClient
    ) -> None:
        await subscribe(db, club_id=club_id)
        await make_event(db, club_id=club_id)
        receiver.status = 500
        when = MSK_NOON
        cfg = DeliveryConfig(
            retry_base=timedelta(hours=4), retry_max=timedelta(hours=8), disable_after=99
        )
        for _ in range(10):
            await deliver(db, when, http, OPEN, cfg)
            (row,) = await deliveries(db)
            if row.status != "pending":
                break
            assert row.next_attempt_at is not None
            when = row.next_attempt_at
        assert row.status == "failed"
        assert row.next_attempt_at is None
        # 4h + 8h + 8h = 20h; the next 8h would pass 24h: failed after the 4th attempt.
        assert row.attempts == 4
        assert when - MSK_NOON < timedelta(hours=24)

    async def test_a_run_of_failures_disables_the_subscription_until_re_enabled(
        self,
        db: Database,
        club_id: uuid.UUID,
        receiver: Receiver,
        http: httpx.AsyncClient,
        client: AsyncClient,
        admin_token: str,
    ) -> None:
        sub = await subscribe(db, club_id=club_id)
        for _ in range(6):
            await make_event(db, club_id=club_id)
        receiver.status = 410
        counts = await deliver(db, MSK_NOON, http, OPEN, CONFIG)
        assert counts["disabled"] == 1
        state = await get_sub(db, sub.id)
        assert not state.active
        assert state.consecutive_failures == 6
        assert "6 consecutive" in (state.disabled_reason or "")
        # Disabled: nothing is attempted, nothing new is fanned out to it.
        await make_event(db, club_id=club_id)
        sent = len(receiver.received)
        await deliver(db, MSK_NOON + timedelta(hours=2), http, OPEN, CONFIG)
        assert len(receiver.received) == sent
        assert len(await deliveries(db)) == 6
        # Re-enabled over the API: pending deliveries resume and succeed.
        r = await client.patch(
            f"/api/v1/webhooks/{sub.id}", json={"active": True}, headers=bearer(admin_token)
        )
        assert r.status_code == 200
        receiver.status = 200
        await deliver(db, MSK_NOON + timedelta(hours=2), http, OPEN, CONFIG)
        assert {d.status for d in await deliveries(db)} == {"delivered"}
        assert (await get_sub(db, sub.id)).consecutive_failures == 0

    async def test_a_success_resets_the_failure_count(
        self, db: Database, club_id: uuid.UUID, receiver: Receiver, http: httpx.AsyncClient
    ) -> None:
        sub = await subscribe(db, club_id=club_id)
        await make_event(db, club_id=club_id)
        receiver.status = 500
        await deliver(db, MSK_NOON, http, OPEN, CONFIG)
        assert (await get_sub(db, sub.id)).consecutive_failures == 1
        receiver.status = 200
        await deliver(db, MSK_NOON + timedelta(hours=1), http, OPEN, CONFIG)
        assert (await get_sub(db, sub.id)).consecutive_failures == 0

    async def test_dns_rebinding_to_a_private_address_is_refused_at_delivery(
        self, db: Database, club_id: uuid.UUID, receiver: Receiver, http: httpx.AsyncClient
    ) -> None:
        dns = FakeDns()
        guard = TargetGuard(resolver=dns)
        await subscribe(db, club_id=club_id, url="https://hooks.example.com/in")
        await make_event(db, club_id=club_id)
        dns.records["hooks.example.com"] = ["127.0.0.1"]  # rebound after creation
        counts = await deliver(db, MSK_NOON, http, guard, CONFIG)
        assert counts["retried"] == 1
        assert receiver.received == []
        (row,) = await deliveries(db)
        assert "target not allowed" in (row.last_error or "")
        assert "loopback" in (row.last_error or "")

    async def test_delivery_connects_to_the_checked_address_with_the_original_host(
        self, db: Database, club_id: uuid.UUID
    ) -> None:
        seen: list[httpx.Request] = []

        def capture(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200)

        guard = TargetGuard(resolver=FakeDns())
        await subscribe(db, club_id=club_id, url="https://hooks.example.com/in")
        await make_event(db, club_id=club_id)
        async with httpx.AsyncClient(transport=httpx.MockTransport(capture)) as client:
            await deliver(db, MSK_NOON, client, guard, CONFIG)
        (req,) = seen
        assert req.url.host == PUBLIC_IP
        assert req.headers["host"] == "hooks.example.com"
        assert req.extensions["sni_hostname"] == "hooks.example.com"

    async def test_a_crashed_delivery_is_retried_after_the_lease(
        self, db: Database, club_id: uuid.UUID, receiver: Receiver, http: httpx.AsyncClient
    ) -> None:
        await subscribe(db, club_id=club_id)
        await make_event(db, club_id=club_id)
        async with db.session_scope() as s:
            await webhook_service.fan_out(s, MSK_NOON, limit=10)
        async with db.session_scope() as s:
            crashed = await webhook_service.claim_due(s, MSK_NOON, CONFIG)
        assert len(crashed.deliveries) == 1  # claimed, then the worker "died"
        await deliver(db, MSK_NOON + timedelta(seconds=59), http, OPEN, CONFIG)
        assert receiver.received == []
        await deliver(db, MSK_NOON + timedelta(seconds=61), http, OPEN, CONFIG)
        (row,) = await deliveries(db)
        assert (row.status, row.attempts) == ("delivered", 2)


class TestDeliveryLog:
    async def test_lists_deliveries_newest_first_with_attempts(
        self,
        db: Database,
        club_id: uuid.UUID,
        receiver: Receiver,
        http: httpx.AsyncClient,
        client: AsyncClient,
        admin_token: str,
    ) -> None:
        sub = await subscribe(db, club_id=club_id)
        first = await make_event(db, club_id=club_id)
        receiver.status = 502
        await deliver(db, MSK_NOON, http, OPEN, CONFIG)
        await make_event(db, club_id=club_id)
        receiver.status = 200
        await deliver(db, MSK_NOON + timedelta(seconds=1), http, OPEN, CONFIG)
        r = await client.get(f"/api/v1/webhooks/{sub.id}/deliveries", headers=bearer(admin_token))
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert len(items) == 2
        old = items[1]
        assert old["event_id"] == str(first.public_id)
        assert old["event_type"] == "meeting.booked"
        assert (old["status"], old["attempts"], old["last_status_code"]) == ("pending", 1, 502)
        assert old["attempt_log"][0]["status_code"] == 502
        assert old["attempt_log"][0]["duration_ms"] >= 0
        r = await client.get(
            f"/api/v1/webhooks/{sub.id}/deliveries",
            params={"status": "delivered"},
            headers=bearer(admin_token),
        )
        assert [d["status"] for d in r.json()["items"]] == ["delivered"]


async def test_webhooks_job_runs_over_the_api(
    client: AsyncClient, admin_token: str, db: Database, club_id: uuid.UUID
) -> None:
    await subscribe(db, club_id=club_id, url="http://127.0.0.1:9/unreachable")
    await make_event(db, club_id=club_id)
    r = await client.post("/api/v1/jobs/webhooks/run", json={}, headers=bearer(admin_token))
    assert r.status_code == 200, r.text
    counts = r.json()["counts"]
    # The test settings refuse private targets: the attempt fails before connecting.
    assert counts["events"] == 1
    assert counts["retried"] == 1
    (row,) = await deliveries(db)
    assert "target not allowed" in (row.last_error or "")


@pytest.fixture(scope="module")
async def live() -> AsyncIterator[Database]:
    async with live_database() as database:
        yield database


@pytest.fixture
async def live_db(live: Database) -> AsyncIterator[Database]:
    yield live
    await wipe(live)


@pytest.mark.postgres_only
async def test_concurrent_claims_take_disjoint_deliveries(live_db: Database) -> None:
    db = live_db
    await subscribe(db, club_id=None)
    for _ in range(6):
        await make_event(db, club_id=None)
    async with db.session_scope() as s:
        await webhook_service.fan_out(s, MSK_NOON, limit=100)
    cfg = DeliveryConfig(batch_size=4)
    async with db.sessionmaker() as s1, db.sessionmaker() as s2:
        first = await webhook_service.claim_due(s1, MSK_NOON, cfg)
        second = await asyncio.wait_for(webhook_service.claim_due(s2, MSK_NOON, cfg), 5)
        a = {d.id for d in first.deliveries}
        b = {d.id for d in second.deliveries}
        assert len(a) == 4
        assert len(b) == 2
        assert not a & b
        await s1.commit()
        await s2.commit()


@pytest.mark.postgres_only
async def test_concurrent_fan_outs_take_disjoint_events(live_db: Database) -> None:
    db = live_db
    await subscribe(db, club_id=None)
    for _ in range(5):
        await make_event(db, club_id=None)
    async with db.sessionmaker() as s1, db.sessionmaker() as s2:
        n1 = await webhook_service.fan_out(s1, MSK_NOON, limit=3)
        n2 = await asyncio.wait_for(webhook_service.fan_out(s2, MSK_NOON, limit=3), 5)
        await s1.commit()
        await s2.commit()
    assert (n1, n2) == (3, 2)
    async with db.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(WebhookDelivery)) == 5


async def test_a_batch_resolves_each_host_once(db: Database, club_id: uuid.UUID) -> None:
    lookups: list[str] = []
    dns = FakeDns()

    async def counting(host: str, port: int) -> list[str]:
        lookups.append(host)
        return await dns(host, port)

    await subscribe(db, club_id=club_id, url="https://hooks.example.com/in")
    for _ in range(5):
        await make_event(db, club_id=club_id)
    transport = httpx.MockTransport(lambda r: httpx.Response(200))
    async with httpx.AsyncClient(transport=transport) as client:
        counts = await deliver(db, MSK_NOON, client, TargetGuard(resolver=counting), CONFIG)
    assert counts["delivered"] == 5
    assert lookups == ["hooks.example.com"]


async def test_the_documented_verification_snippet_accepts_a_real_delivery(
    db: Database, club_id: uuid.UUID, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "integrations.md").read_text()
    (snippet,) = [
        block
        for block in re.findall(r"```python\n(.*?)```", doc, re.S)
        if "def verify_webhook" in block
    ]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "docs/integrations.md", "exec"), namespace)
    verify_webhook = namespace["verify_webhook"]

    sub = await subscribe(db, club_id=club_id)
    await make_event(db, club_id=club_id)
    await deliver(db, MSK_NOON, http, OPEN, CONFIG)
    (got,) = receiver.received
    assert verify_webhook(sub.secret, got.headers, got.body)
    assert not verify_webhook(sub.secret, got.headers, got.body + b" ")
    assert not verify_webhook("whsec_wrong", got.headers, got.body)
