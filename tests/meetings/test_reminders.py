"""The `meeting_reminders` job: the day before, club-local, one service reminder per
meeting and start time through the messages outbox, in the member's channel, with
consent, outside the caps."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from app.core.clock import freeze
from app.db import Database
from app.meetings.jobs import meeting_reminders
from app.messaging.service import messaging_service
from app.models import Member, Message
from tests.fixtures.factories import bearer, make_club
from tests.fixtures.integrations import SMS_CONSENTS
from tests.fixtures.ledger import make_member
from tests.fixtures.meetings import MSK, add_staff, at, book

BEFORE_TEN = datetime(2026, 12, 1, 9, 59, tzinfo=MSK)
TEN = datetime(2026, 12, 1, 10, 0, tzinfo=MSK)


async def messages(db: Database) -> list[Message]:
    async with db.sessionmaker() as s:
        return list((await s.scalars(select(Message).order_by(Message.created_at))).all())


@pytest.fixture
async def texter(db: Database, club: dict) -> Member:
    return await make_member(
        db, club["id"], first_name="Maria", preferred_channel="sms", consents=SMS_CONSENTS
    )


@pytest.fixture
async def meeting(
    client: AsyncClient, admin_token: str, club: dict, consultant: str, texter: Member
) -> dict[str, Any]:
    r = await book(client, admin_token, club, texter, consultant, at(2, 10))
    assert r.status_code == 201
    return dict(r.json())


class TestReminders:
    async def test_the_day_before_from_ten_a_reminder_is_queued(
        self, db: Database, meeting: dict, texter: Member
    ) -> None:
        assert (await meeting_reminders(db, BEFORE_TEN))["due"] == 0
        assert await messages(db) == []
        counts = await meeting_reminders(db, TEN)
        assert counts == {"due": 1, "queued": 1, "suppressed": 0, "skipped": 0, "failed": 0}
        [msg] = await messages(db)
        assert (msg.template, msg.category, msg.channel) == ("meeting_reminder", "service", "sms")
        assert msg.member_id == texter.id
        assert msg.exempt_from_caps
        assert msg.status == "queued"
        assert "Wednesday 2 December at 10:00" in msg.body
        assert msg.dedupe_key == f"meeting_reminder:{meeting['id']}:20261202T0700Z"

    async def test_it_is_sent_once(self, db: Database, meeting: dict) -> None:
        await meeting_reminders(db, TEN)
        again = await meeting_reminders(db, TEN.replace(hour=15))
        assert again["due"] == 0
        assert len(await messages(db)) == 1

    async def test_the_reminder_does_not_change_the_meetings_etag(
        self, client: AsyncClient, admin_token: str, db: Database, meeting: dict
    ) -> None:
        await meeting_reminders(db, TEN)
        r = await client.get(f"/api/v1/meetings/{meeting['id']}", headers=bearer(admin_token))
        assert r.headers["etag"].endswith('-1"')
        assert r.json()["updated_at"] == meeting["updated_at"]

    async def test_meetings_further_ahead_wait_for_their_day_before(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        texter: Member,
        db: Database,
    ) -> None:
        await book(client, admin_token, club, texter, consultant, at(3, 10))
        assert (await meeting_reminders(db, TEN))["due"] == 0
        assert (await meeting_reminders(db, TEN.replace(day=2)))["queued"] == 1

    async def test_a_cancelled_meeting_is_not_reminded(
        self, client: AsyncClient, admin_token: str, db: Database, meeting: dict
    ) -> None:
        await client.patch(
            f"/api/v1/meetings/{meeting['id']}",
            json={"status": "cancelled"},
            headers=bearer(admin_token),
        )
        assert (await meeting_reminders(db, TEN))["due"] == 0

    async def test_a_rescheduled_meeting_is_reminded_of_its_new_time(
        self, client: AsyncClient, admin_token: str, db: Database, meeting: dict
    ) -> None:
        await meeting_reminders(db, TEN)
        with freeze(TEN.replace(hour=11)):
            await client.patch(
                f"/api/v1/meetings/{meeting['id']}",
                json={"starts_at": at(2, 18)},
                headers=bearer(admin_token),
            )
        assert (await meeting_reminders(db, TEN.replace(hour=11, minute=15)))["queued"] == 1
        first, second = await messages(db)
        assert "at 10:00" in first.body
        assert "at 18:00" in second.body
        assert (await meeting_reminders(db, TEN.replace(hour=12)))["due"] == 0

    async def test_a_meeting_booked_later_that_day_is_still_reminded(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        texter: Member,
        db: Database,
    ) -> None:
        await meeting_reminders(db, TEN)
        with freeze(TEN.replace(hour=16)):
            await book(client, admin_token, club, texter, consultant, at(2, 12))
        assert (await meeting_reminders(db, TEN.replace(hour=16, minute=15)))["queued"] == 1

    async def test_the_caps_do_not_hold_a_reminder_back(
        self, db: Database, meeting: dict, texter: Member
    ) -> None:
        async with db.session_scope() as s:
            for _ in range(4):
                await messaging_service.queue(
                    s,
                    texter,
                    template="birthday_greeting",
                    category="service",
                    dedupe_key=f"test:{uuid.uuid4().hex}",
                    as_of=TEN,
                )
        assert (await meeting_reminders(db, TEN))["queued"] == 1

    async def test_without_consent_it_is_suppressed_and_not_retried(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, db: Database
    ) -> None:
        silent = await make_member(db, club["id"], preferred_channel="sms", email=None)
        await book(client, admin_token, club, silent, consultant, at(2, 10))
        counts = await meeting_reminders(db, TEN)
        assert (counts["suppressed"], counts["queued"]) == (1, 0)
        [msg] = await messages(db)
        assert msg.suppressed_reason == "no_consent"
        assert (await meeting_reminders(db, TEN.replace(hour=11)))["due"] == 0

    async def test_the_members_channel_is_used(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, db: Database
    ) -> None:
        reader = await make_member(db, club["id"], preferred_channel="email")
        await book(client, admin_token, club, reader, consultant, at(2, 10))
        await meeting_reminders(db, TEN)
        [msg] = await messages(db)
        assert (msg.channel, msg.to_address) == ("email", reader.email)
        assert msg.subject == "Your meeting at Riverside Fitness on Wednesday 2 December at 10:00"

    async def test_each_club_reminds_by_its_own_clock(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        texter: Member,
        db: Database,
    ) -> None:
        await book(client, admin_token, club, texter, consultant, at(2, 10))  # Moscow
        east = await make_club(client, admin_token, name="East", timezone="Asia/Vladivostok")
        far = await add_staff(client, admin_token, east, name="Far")
        local = await make_member(db, east["id"], consents=SMS_CONSENTS)
        await book(client, admin_token, east, local, far, "2026-12-02T10:00:00+10:00")
        # 10:30 in Vladivostok is 03:30 in Moscow.
        early = datetime.fromisoformat("2026-12-01T10:30:00+10:00")
        counts = await meeting_reminders(db, early)
        assert (counts["due"], counts["queued"]) == (1, 1)
        [msg] = await messages(db)
        assert msg.member_id == local.id

    async def test_one_failing_reminder_does_not_hold_back_the_others(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        texter: Member,
        db: Database,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        other = await make_member(db, club["id"], consents=SMS_CONSENTS, first_name="Olga")
        await book(client, admin_token, club, texter, consultant, at(2, 10))
        await book(client, admin_token, club, other, consultant, at(2, 11))
        real = messaging_service.queue

        async def flaky(session: Any, member: Member, **kw: Any) -> Message:
            if member.id == texter.id:
                raise RuntimeError("gateway template store down")
            return await real(session, member, **kw)

        monkeypatch.setattr(messaging_service, "queue", flaky)
        counts = await meeting_reminders(db, TEN)
        assert (counts["queued"], counts["failed"]) == (1, 1)
        monkeypatch.undo()
        assert (await meeting_reminders(db, TEN.replace(minute=15)))["queued"] == 1
        assert len(await messages(db)) == 2


class TestTheJob:
    async def test_it_is_registered_and_runs_as_of_an_instant(
        self, client: AsyncClient, admin_token: str, meeting: dict
    ) -> None:
        jobs = (await client.get("/api/v1/jobs", headers=bearer(admin_token))).json()
        assert "meeting_reminders" in {j["name"] for j in jobs}
        r = await client.post(
            "/api/v1/jobs/meeting_reminders/run",
            json={"as_of": TEN.isoformat()},
            headers=bearer(admin_token),
        )
        assert r.status_code == 200
        assert r.json()["counts"]["queued"] == 1
