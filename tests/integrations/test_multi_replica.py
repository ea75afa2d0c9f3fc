"""Several API replicas and workers on one PostgreSQL database deliver every webhook
and message exactly once, survive a dead receiver, and finish a killed worker's work.

Real processes (`club-renewal serve` x2 with the scheduler off, `club-renewal worker`
x2 with one-second intervals), a real receiver on 127.0.0.1, bounded in time.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.core.clock import utcnow
from app.db import Database
from app.events.service import emit
from app.messaging.service import messaging_service
from app.migrate import upgrade
from app.models import Event, JobRun, Member, Message, WebhookDelivery
from tests.fixtures.databases import fresh_database_url
from tests.fixtures.factories import bearer, make_token
from tests.fixtures.integrations import live_settings
from tests.fixtures.ledger import make_member
from tests.integrations.receiver import ReceiverApp, ReceiverServer, free_port

pytestmark = pytest.mark.postgres_only

CLI = Path(sys.executable).with_name("club-renewal")
LEASE_SECONDS = 4


def _env(url: str, receiver_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUB_RENEWAL_")}
    env.update(
        {
            "CLUB_RENEWAL_DATABASE_URL": url,
            "CLUB_RENEWAL_SCHEDULER": "off",
            "CLUB_RENEWAL_SECRET_KEY": "replica-test-key",
            "CLUB_RENEWAL_LOG_LEVEL": "WARNING",
            "CLUB_RENEWAL_LOG_FORMAT": "json",
            "CLUB_RENEWAL_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            "CLUB_RENEWAL_MESSAGE_PROVIDER": "http",
            "CLUB_RENEWAL_SMS_GATEWAY_URL": f"http://127.0.0.1:{receiver_port}/sms",
            "CLUB_RENEWAL_SMS_GATEWAY_TOKEN": "gateway-token",
            "CLUB_RENEWAL_MESSAGES_INTERVAL_SECONDS": "1",
            "CLUB_RENEWAL_WEBHOOKS_INTERVAL_SECONDS": "1",
            "CLUB_RENEWAL_WEBHOOK_RETRY_BASE_SECONDS": "0.5",
            "CLUB_RENEWAL_WEBHOOK_RETRY_MAX_SECONDS": "1",
            "CLUB_RENEWAL_MESSAGE_RETRY_BASE_SECONDS": "0.5",
            "CLUB_RENEWAL_MESSAGE_RETRY_MAX_SECONDS": "1",
            "CLUB_RENEWAL_MESSAGE_MAX_ATTEMPTS": "50",
            "CLUB_RENEWAL_WEBHOOK_DISABLE_AFTER_FAILURES": "10000",
            "CLUB_RENEWAL_WEBHOOK_TIMEOUT_SECONDS": "2",
            "CLUB_RENEWAL_GATEWAY_TIMEOUT_SECONDS": "2",
            "CLUB_RENEWAL_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
            "CLUB_RENEWAL_WEBHOOK_BATCH_SIZE": "8",
            "CLUB_RENEWAL_MESSAGE_BATCH_SIZE": "8",
        }
    )
    return env


async def eventually(
    what: str, check: Callable[[], Awaitable[bool]], within: float, every: float = 0.2
) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(every)


class Cluster:
    def __init__(self, url: str, receiver_port: int, workdir: Path) -> None:
        self.env = _env(url, receiver_port)
        self.workdir = workdir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.api_ports: list[int] = []

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [str(CLI), *args],
            env=self.env,
            cwd=self.workdir,  # no stray .env
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs[name] = proc
        return proc

    def start(self) -> None:
        for i in range(2):
            port = free_port()
            self.api_ports.append(port)
            self.spawn(f"api{i}", "serve", "--host", "127.0.0.1", "--port", str(port))
        for i in range(2):
            self.spawn(f"worker{i}", "worker")

    def worker_pids(self) -> dict[int, str]:
        return {p.pid: n for n, p in self.procs.items() if n.startswith("worker")}

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.workdir.glob("*.log"))
        )

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


async def test_replicas_and_workers_deliver_everything_once(tmp_path: Path) -> None:
    started = time.monotonic()
    receiver_app = ReceiverApp()
    receiver = ReceiverServer(receiver_app, free_port())
    async with fresh_database_url("replicas") as url:
        db = Database.from_settings(live_settings(url, database_pool_size=20))
        cluster = Cluster(url, receiver.port, tmp_path)
        try:
            await upgrade(db.engine)
            token = await make_token(db, "admin", name="Replica Admin")
            receiver.start()
            cluster.start()
            await _scenario(db, cluster, receiver_app, receiver, token)
        except BaseException:
            sys.stderr.write(cluster.logs())
            raise
        finally:
            cluster.stop()
            receiver.stop()
            await db.dispose()
    elapsed = time.monotonic() - started
    sys.stderr.write(f"\nmulti-replica scenario took {elapsed:.1f}s\n")
    assert elapsed < 75


async def _scenario(
    db: Database,
    cluster: Cluster,
    receiver_app: ReceiverApp,
    receiver: ReceiverServer,
    token: str,
) -> None:
    apis = [f"http://127.0.0.1:{p}" for p in cluster.api_ports]
    async with httpx.AsyncClient(timeout=10) as http:

        async def api_up() -> bool:
            for base in apis:
                try:
                    if (await http.get(f"{base}/healthz")).status_code != 200:
                        return False
                except httpx.HTTPError:
                    return False
            return True

        await eventually("both API replicas", api_up, 30)

        # Set up through the replicas: a club open around the clock, one subscription.
        r = await http.post(
            f"{apis[0]}/api/v1/clubs",
            json={
                "name": "Replica Club",
                "timezone": "UTC",
                "currency": "EUR",
                "quiet_hours_start": "00:00",
                "quiet_hours_end": "23:59:59",
                "contact_policy": {"silence_days": 0, "max_messages_per_30_days": 60},
            },
            headers=bearer(token),
        )
        assert r.status_code == 201, r.text
        club_id = uuid.UUID(r.json()["id"])
        r = await http.post(
            f"{apis[1]}/api/v1/webhooks",
            json={
                "url": f"http://127.0.0.1:{receiver.port}/hook",
                "events": ["meeting.booked", "call.due"],
                "club_id": str(club_id),
            },
            headers=bearer(token),
        )
        assert r.status_code == 201, r.text
        subscription_id = r.json()["id"]
        receiver_app.secret = r.json()["secret"]

        members = [
            await make_member(db, club_id, consents={"service_sms": True}) for _ in range(30)
        ]
        rng = random.Random(42)

        async def burst(
            n_events: int, msg_members: list[Member], tag: str
        ) -> tuple[set[str], set[str]]:
            async def one_event(i: int) -> str:
                async with db.session_scope() as s:
                    e = await emit(
                        s,
                        rng.choice(["meeting.booked", "call.due"]),
                        {"i": i, "tag": tag},
                        club_id=club_id,
                    )
                    await s.flush()
                    await asyncio.sleep(rng.random() * 0.05)  # commit out of id order
                return str(e.public_id)

            async def one_message(m: Member) -> str:
                async with db.session_scope() as s:
                    msg = await messaging_service.queue(
                        s,
                        m,
                        template="meeting_reminder",
                        category="service",
                        channel="sms",
                        context={"meeting_time": "tomorrow 18:30"},
                        dedupe_key=f"{tag}:{m.id}",
                        as_of=utcnow(),
                        exempt_from_caps=True,
                    )
                    assert msg.status == "queued", msg.suppressed_reason
                return str(msg.id)

            ids = await asyncio.gather(
                *(one_event(i) for i in range(n_events)), *(one_message(m) for m in msg_members)
            )
            return set(ids[:n_events]), set(ids[n_events:])

        async def all_done() -> bool:
            async with db.sessionmaker() as s:
                pending = await s.scalar(
                    select(func.count())
                    .select_from(WebhookDelivery)
                    .where(WebhookDelivery.status != "delivered")
                )
                unfanned = await s.scalar(
                    select(func.count()).select_from(Event).where(Event.fanned_out_at.is_(None))
                )
                queued = await s.scalar(
                    select(func.count()).select_from(Message).where(Message.status != "sent")
                )
            return pending == 0 and unfanned == 0 and queued == 0

        def hook_counts() -> Counter[str]:
            return Counter(i for i, _ in receiver_app.snapshot().hooks)

        def sms_counts() -> Counter[str]:
            return Counter(i for i, _ in receiver_app.snapshot().sms)

        # 1. A burst of due work: everything arrives exactly once.
        events1, messages1 = await burst(40, members[:10], "burst")
        await eventually("the burst to be delivered", all_done, 25)
        assert hook_counts() == Counter(events1)
        assert sms_counts() == Counter(messages1)

        # 2. The receiver is down for a while: retries, then everything arrives.
        receiver.stop()
        events2, messages2 = await burst(15, members[10:15], "outage")

        async def retried() -> bool:
            async with db.sessionmaker() as s:
                hooks = await s.scalar(
                    select(func.count())
                    .select_from(WebhookDelivery)
                    .where(WebhookDelivery.attempts >= 2)
                )
                sms = await s.scalar(
                    select(func.count()).select_from(Message).where(Message.attempts >= 2)
                )
            return bool(hooks) and bool(sms)

        await eventually("retries while the receiver is down", retried, 15)
        receiver.start()
        await eventually("delivery after the outage", all_done, 25)
        assert hook_counts() == Counter(events1 | events2)
        assert sms_counts() == Counter(messages1 | messages2)

        # 3. A worker is killed mid-send: the other one finishes, nothing is lost.
        receiver_app.delay = 1.5  # slow, but inside the 2 s timeout
        events3, messages3 = await burst(12, members[15:20], "kill")
        killed_pid, killed_at = await _kill_the_webhooks_worker(db, cluster, receiver_app)
        receiver_app.delay = 0.0
        await eventually("the survivor to finish the killed worker's work", all_done, 30)

        got = receiver_app.snapshot()
        hooks, sms = hook_counts(), sms_counts()
        assert set(hooks) == events1 | events2 | events3
        assert set(sms) == messages1 | messages2 | messages3
        # A send is repeated only if the sender died after the receiver processed it
        # and before the answer reached it; receivers drop that repeat by Webhook-Id.
        repeated = {i for i, n in hooks.items() if n > 1} | {i for i, n in sms.items() if n > 1}
        assert repeated <= events3 | messages3
        assert all(n <= 2 for n in [*hooks.values(), *sms.values()])
        assert got.bad_signatures == 0
        sys.stderr.write(
            f"\nkill phase: pid {killed_pid}, abandoned sends {got.abandoned}, "
            f"repeats {len(repeated)}\n"
        )

        # The database holds one delivery per (subscription, event), all delivered.
        async with db.sessionmaker() as s:
            rows = (await s.execute(select(WebhookDelivery.event_public_id))).scalars().all()
        assert len(rows) == len(set(rows)) == len(events1 | events2 | events3)

        # Readable through either replica.
        r = await http.get(
            f"{apis[1]}/api/v1/webhooks/{subscription_id}/deliveries",
            params={"status": "delivered", "limit": 500},
            headers=bearer(token),
        )
        assert len(r.json()["items"]) == len(rows)
        r = await http.get(
            f"{apis[0]}/api/v1/messages",
            params={"status": "sent", "limit": 500},
            headers=bearer(token),
        )
        assert len(r.json()["items"]) == len(messages1 | messages2 | messages3)

        await _assert_no_job_run_overlapped(db, killed_pid, killed_at)


async def _kill_the_webhooks_worker(
    db: Database, cluster: Cluster, receiver_app: ReceiverApp
) -> tuple[int, datetime]:
    """SIGKILL the worker whose `webhooks` run has requests in flight right now."""
    pids = cluster.worker_pids()
    target: list[int] = []

    async def sending() -> bool:
        if receiver_app.in_flight == 0:
            return False
        async with db.sessionmaker() as s:
            hosts = (
                await s.scalars(
                    select(JobRun.host).where(
                        JobRun.job_name == "webhooks", JobRun.status == "running"
                    )
                )
            ).all()
        for host in hosts:
            pid = int(str(host).rsplit(":", 1)[1])
            if pid in pids and cluster.procs[pids[pid]].poll() is None:
                target.append(pid)
                return True
        return False

    await eventually("a worker in the middle of sending webhooks", sending, 15, every=0.05)
    pid = target[0]
    os.kill(pid, signal.SIGKILL)  # one of our own worker processes, by id
    killed_at = utcnow()
    cluster.procs[pids[pid]].wait(5)
    return pid, killed_at


async def _assert_no_job_run_overlapped(db: Database, killed_pid: int, killed_at: datetime) -> None:
    async with db.sessionmaker() as s:
        runs = list(
            await s.scalars(
                select(JobRun)
                .where(JobRun.job_name.in_(["messages", "webhooks"]))
                .order_by(JobRun.job_name, JobRun.started_at)
            )
        )
    by_job: dict[str, list[JobRun]] = {}
    for run in runs:
        by_job.setdefault(run.job_name, []).append(run)
    hosts: dict[str, set[str]] = {}
    for name, job_runs in by_job.items():
        hosts[name] = {str(r.host) for r in job_runs}
        for prev, nxt in zip(job_runs, job_runs[1:], strict=False):
            end = prev.finished_at
            if end is None or prev.status == "abandoned":
                # Only the killed worker may leave a run unfinished; it ended at the kill
                # (the next run of the job marks it abandoned).
                assert str(prev.host).endswith(f":{killed_pid}"), prev.host
                end = killed_at
            assert end <= nxt.started_at, f"{name} runs overlap: {prev.id} and {nxt.id}"
        assert all(r.status in ("succeeded", "running", "abandoned") for r in job_runs), name
    sys.stderr.write(
        "job runs: "
        + ", ".join(f"{n}={len(r)} on {len(hosts[n])} hosts" for n, r in by_job.items())
        + "\n"
    )
