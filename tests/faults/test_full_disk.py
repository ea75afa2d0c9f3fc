"""Fault: the disk fills up under a provider that spools messages to files.

A spool provider writes each message to its own file (as a mail-drop or SMS-gateway
spool directory would). While the "disk" is full every write fails with ENOSPC and
leaves no file behind; the outbox must keep every message queued for a retry (nothing
lost, none marked failed or sent), and once space is back each message lands in the
spool exactly once (nothing duplicated), even when the dispatcher runs again."""

from __future__ import annotations

import asyncio
import errno
import os
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from app.db import Database
from app.messaging.jobs import dispatch
from app.messaging.providers import OutgoingMessage, SendResult
from app.messaging.service import DispatchConfig, messaging_service
from app.models import Message
from tests.fixtures.integrations import MSK_NOON, SMS_CONSENTS
from tests.fixtures.ledger import make_member

CONFIG = DispatchConfig(
    batch_size=4,
    max_attempts=8,
    retry_base=timedelta(seconds=60),
    retry_max=timedelta(minutes=10),
    lease=timedelta(seconds=30),
    send_timeout=2,
)


class SpoolProvider:
    """Writes each message to `<dir>/<message id>.txt` atomically (temp file + rename)."""

    name = "spool"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.disk_full = False
        self.writes = 0

    async def send(self, message: OutgoingMessage) -> SendResult:
        return await asyncio.to_thread(self._write, message)

    def _write(self, message: OutgoingMessage) -> SendResult:
        tmp = self.directory / f".{message.id}.tmp"
        with open(tmp, "w") as f:
            f.write(message.body[:10])
            if self.disk_full:
                f.close()
                tmp.unlink()
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
            f.write(message.body[10:])
        target = self.directory / f"{message.id}.txt"
        if target.exists():  # a second delivery of one message would show here
            raise AssertionError(f"{message.id} spooled twice")
        tmp.rename(target)
        self.writes += 1
        return SendResult(provider_message_id=target.name)


def spooled(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_a_full_disk_loses_and_duplicates_nothing(
    db: Database, club: dict[str, object], tmp_path: Path
) -> None:
    club_id = uuid.UUID(str(club["id"]))
    ids = []
    async with db.session_scope() as s:
        for i in range(10):
            member = await make_member(db, club_id, consents=SMS_CONSENTS)
            row = await messaging_service.queue(
                s,
                member,
                template="birthday_greeting",
                category="service",
                dedupe_key=f"full-disk:{i}",
                as_of=MSK_NOON,
            )
            ids.append(row.id)
    provider = SpoolProvider(tmp_path)

    provider.disk_full = True
    now = MSK_NOON
    for _ in range(3):
        counts = await dispatch(db, now, provider, CONFIG)
        assert (counts["sent"], counts["failed"], counts["retried"]) == (0, 0, 10)
        now += timedelta(minutes=15)
    async with db.sessionmaker() as s:
        rows = (await s.scalars(select(Message).where(Message.id.in_(ids)))).all()
    assert len(rows) == 10
    assert {r.status for r in rows} == {"queued"}
    assert all("No space left on device" in (r.last_error or "") for r in rows)
    assert spooled(tmp_path) == []  # no partial files left behind

    provider.disk_full = False
    sent = 0
    for _ in range(4):  # the space is back: drain, then run again (nothing left to send)
        sent += (await dispatch(db, now, provider, CONFIG))["sent"]
        now += timedelta(minutes=15)
    async with db.sessionmaker() as s:
        rows = (await s.scalars(select(Message).where(Message.id.in_(ids)))).all()
    assert sent == 10 == provider.writes
    assert {r.status for r in rows} == {"sent"}
    assert spooled(tmp_path) == sorted(f"{i}.txt" for i in ids)
