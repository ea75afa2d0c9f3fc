"""The consultant's .ics feed: parsed with icalendar, it holds the upcoming meetings with
member name, purpose and club, and only what the token may see."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from httpx import AsyncClient
from icalendar import Calendar

from app.core.clock import freeze
from app.db import Database
from app.models import Member
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.ledger import make_member
from tests.fixtures.meetings import add_staff, at, book


def feed_url(staff_id: str) -> str:
    return f"/api/v1/staff/{staff_id}/meetings.ics"


def events(body: bytes) -> dict[str, Any]:
    cal = Calendar.from_ical(body)
    return {str(e["UID"]).split("@")[0]: e for e in cal.walk("VEVENT")}


class TestFeed:
    async def test_the_feed_lists_upcoming_meetings_with_member_purpose_and_club(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        member: Member,
        db: Database,
    ) -> None:
        renewal = (await book(client, admin_token, club, member, consultant, at(2, 10))).json()
        other = await make_member(db, club["id"], first_name="Pavel", last_name="Smirnov")
        feedback = (
            await book(client, admin_token, club, other, consultant, at(3, 18), purpose="feedback")
        ).json()
        r = await client.get(feed_url(consultant), headers=bearer(admin_token))
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/calendar")
        cal = Calendar.from_ical(r.content)
        assert str(cal["X-WR-CALNAME"]) == "Olga Consultant: meetings"
        found = events(r.content)
        assert set(found) == {renewal["id"], feedback["id"]}
        first = found[renewal["id"]]
        assert str(first["SUMMARY"]) == "Renewal meeting: Maria Ivanova"
        assert str(first["LOCATION"]) == "Riverside Fitness"
        assert "Purpose: Renewal meeting" in str(first["DESCRIPTION"])
        assert first.decoded("DTSTART") == datetime(2026, 12, 2, 7, tzinfo=UTC)
        assert first.decoded("DTEND") == datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
        assert str(first["STATUS"]) == "TENTATIVE"
        assert str(found[feedback["id"]]["SUMMARY"]) == "Feedback meeting: Pavel Smirnov"

    async def test_cancelled_meetings_and_other_consultants_are_left_out(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        member: Member,
        db: Database,
    ) -> None:
        kept = (await book(client, admin_token, club, member, consultant, at(2, 10))).json()
        gone = (
            await book(client, admin_token, club, member, consultant, at(2, 12), purpose="feedback")
        ).json()
        await client.patch(
            f"/api/v1/meetings/{gone['id']}",
            json={"status": "cancelled"},
            headers=bearer(admin_token),
        )
        second = await add_staff(client, admin_token, club, name="Second")
        elsewhere = await make_member(db, club["id"])
        await book(client, admin_token, club, elsewhere, second, at(2, 10))
        r = await client.get(feed_url(consultant), headers=bearer(admin_token))
        assert set(events(r.content)) == {kept["id"]}

    async def test_a_confirmed_meeting_is_confirmed_and_changes_bump_the_sequence(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
    ) -> None:
        m = (await book(client, admin_token, club, member, consultant, at(2, 10))).json()
        await client.patch(
            f"/api/v1/meetings/{m['id']}", json={"status": "confirmed"}, headers=bearer(admin_token)
        )
        r = await client.get(feed_url(consultant), headers=bearer(admin_token))
        event = events(r.content)[m["id"]]
        assert str(event["STATUS"]) == "CONFIRMED"
        assert int(event["SEQUENCE"]) == 2

    async def test_meetings_more_than_a_day_old_drop_out(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
    ) -> None:
        m = (await book(client, admin_token, club, member, consultant, at(2, 10))).json()
        with freeze(datetime(2026, 12, 3, 6, 59, tzinfo=UTC)):
            r = await client.get(feed_url(consultant), headers=bearer(admin_token))
            assert set(events(r.content)) == {m["id"]}
        with freeze(datetime(2026, 12, 3, 7, 1, tzinfo=UTC)):
            r = await client.get(feed_url(consultant), headers=bearer(admin_token))
            assert events(r.content) == {}

    async def test_an_empty_feed_is_still_a_calendar(
        self, client: AsyncClient, admin_token: str, consultant: str
    ) -> None:
        r = await client.get(feed_url(consultant), headers=bearer(admin_token))
        assert events(r.content) == {}


class TestAccess:
    async def test_the_consultant_subscribes_with_a_read_only_token(
        self,
        client: AsyncClient,
        admin_token: str,
        club: dict,
        consultant: str,
        member: Member,
    ) -> None:
        m = (await book(client, admin_token, club, member, consultant, at(2, 10))).json()
        r = await client.post(
            f"/api/v1/staff/{consultant}/tokens",
            json={"name": "calendar", "scopes": ["meetings:read"]},
            headers=bearer(admin_token),
        )
        token = r.json()["token"]
        r = await client.get(feed_url(consultant), headers=bearer(token))
        assert r.status_code == 200
        assert set(events(r.content)) == {m["id"]}

    async def test_without_a_token_or_permission_there_is_no_feed(
        self, client: AsyncClient, db: Database, club: dict, consultant: str
    ) -> None:
        assert (await client.get(feed_url(consultant))).status_code == 401
        no_meetings = await make_token(
            db, "consultant", club_ids=[uuid.UUID(club["id"])], scopes=["clubs:read"]
        )
        assert (
            await client.get(feed_url(consultant), headers=bearer(no_meetings))
        ).status_code == 403

    async def test_another_clubs_staff_get_404(
        self, client: AsyncClient, admin_token: str, db: Database, consultant: str
    ) -> None:
        other = await make_club(client, admin_token, name="Other")
        manager = await make_token(db, "manager", club_ids=[uuid.UUID(other["id"])])
        r = await client.get(feed_url(consultant), headers=bearer(manager))
        assert r.status_code == 404
