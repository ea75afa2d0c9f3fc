"""Free meeting slots: working hours, opening hours, booked meetings and their buffer,
the past, who is eligible, and days when the clocks change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.clock import freeze
from app.models import Member
from tests.fixtures.factories import bearer, make_club
from tests.fixtures.ledger import make_member
from tests.fixtures.meetings import add_staff, at, book
from tests.working_hours.test_router import put


async def slots(client: AsyncClient, token: str, club: dict[str, Any], **params: str) -> Any:
    r = await client.get(
        f"/api/v1/clubs/{club['id']}/meeting-slots", params=params, headers=bearer(token)
    )
    assert r.status_code == 200, r.text
    return r.json()


def starts(body: Any) -> list[str]:
    return [s["starts_at"] for s in body["items"]]


class TestSlots:
    async def test_a_consultant_without_hours_is_offered_all_opening_hours(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str
    ) -> None:
        body = await slots(client, admin_token, club, date="2026-12-02")
        assert body["timezone"] == "Europe/Moscow"
        assert body["slot_minutes"] == 30
        got = starts(body)
        assert got[0] == "2026-12-02T07:00:00+03:00"
        assert got[-1] == "2026-12-02T21:30:00+03:00"
        assert len(got) == 30
        first = body["items"][0]
        assert first == {
            "starts_at": "2026-12-02T07:00:00+03:00",
            "ends_at": "2026-12-02T07:30:00+03:00",
            "consultant_id": consultant,
        }

    async def test_booked_meetings_are_not_offered(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
    ) -> None:
        assert (
            await book(client, admin_token, club, member, consultant, at(2, 10))
        ).status_code == 201
        got = starts(await slots(client, admin_token, club, date="2026-12-02"))
        assert "2026-12-02T10:00:00+03:00" not in got
        assert "2026-12-02T09:30:00+03:00" in got
        assert "2026-12-02T10:30:00+03:00" in got

    async def test_the_buffer_after_a_meeting_is_kept_free(
        self, client: AsyncClient, admin_token: str, db: Any
    ) -> None:
        club = await make_club(
            client, admin_token, meeting_settings={"slot_minutes": 45, "buffer_minutes": 15}
        )
        consultant = await add_staff(client, admin_token, club)
        member = await make_member(db, club["id"])
        r = await book(client, admin_token, club, member, consultant, at(2, 10))
        assert r.status_code == 201
        got = starts(await slots(client, admin_token, club, date="2026-12-02"))
        # A slot every hour (45 + 15); 09:00 would run into 10:00 with its buffer.
        assert got[:3] == [
            "2026-12-02T07:00:00+03:00",
            "2026-12-02T08:00:00+03:00",
            "2026-12-02T09:00:00+03:00",
        ]
        assert "2026-12-02T10:00:00+03:00" not in got
        assert "2026-12-02T11:00:00+03:00" in got  # 10:45 + 15 minutes of buffer

    async def test_slots_fill_the_time_around_an_off_grid_meeting(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, member: Member
    ) -> None:
        await book(client, admin_token, club, member, consultant, at(2, 10, 15))
        got = starts(await slots(client, admin_token, club, date="2026-12-02"))
        assert "2026-12-02T09:30:00+03:00" in got
        assert "2026-12-02T10:00:00+03:00" not in got
        assert "2026-12-02T10:45:00+03:00" in got

    async def test_past_times_are_not_offered(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str
    ) -> None:
        body = await slots(client, admin_token, club)  # today: 2026-12-01, now 09:00
        assert body["date"] == "2026-12-01"
        assert starts(body)[0] == "2026-12-01T09:00:00+03:00"
        with freeze(datetime(2026, 12, 1, 9, 1, tzinfo=UTC) + timedelta(hours=-3)):
            assert starts(await slots(client, admin_token, club))[0].endswith("T09:30:00+03:00")
        past = await slots(client, admin_token, club, date="2026-11-30")
        assert past["items"] == []

    async def test_closed_days_have_no_slots(
        self, client: AsyncClient, admin_token: str, db: Any
    ) -> None:
        weekdays = [{"weekday": d, "opens": "09:00", "closes": "18:00"} for d in range(1, 6)]
        club = await make_club(client, admin_token, opening_hours=weekdays)
        await add_staff(client, admin_token, club)
        assert (await slots(client, admin_token, club, date="2026-12-05"))["items"] == []  # Sat
        got = starts(await slots(client, admin_token, club, date="2026-12-04"))
        assert (got[0], got[-1]) == ("2026-12-04T09:00:00+03:00", "2026-12-04T17:30:00+03:00")

    async def test_working_hours_and_day_offs_shape_the_slots(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str
    ) -> None:
        await put(
            client,
            admin_token,
            consultant,
            club,
            {
                "weekly": [
                    {"weekday": 3, "starts": "06:00", "ends": "08:00"},  # the club opens at 7
                    {"weekday": 3, "starts": "12:00", "ends": "13:00"},
                ],
                "exceptions": [{"date": "2026-12-09", "hours": []}],
            },
        )
        got = starts(await slots(client, admin_token, club, date="2026-12-02"))
        assert got == [
            "2026-12-02T07:00:00+03:00",
            "2026-12-02T07:30:00+03:00",
            "2026-12-02T12:00:00+03:00",
            "2026-12-02T12:30:00+03:00",
        ]
        assert (await slots(client, admin_token, club, date="2026-12-09"))["items"] == []
        assert (await slots(client, admin_token, club, date="2026-12-03"))["items"] == []

    async def test_one_consultant_or_every_eligible_one(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str
    ) -> None:
        other = await add_staff(client, admin_token, club, "consultant", name="Second")
        await add_staff(client, admin_token, club, "caller", name="Not a consultant")
        both = await slots(client, admin_token, club, date="2026-12-02")
        assert {s["consultant_id"] for s in both["items"]} == {consultant, other}
        assert len(both["items"]) == 60
        assert both["items"][0]["starts_at"] == both["items"][1]["starts_at"]
        one = await slots(client, admin_token, club, date="2026-12-02", consultant_id=other)
        assert {s["consultant_id"] for s in one["items"]} == {other}

    async def test_trainers_are_offered_for_onboarding_only(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str
    ) -> None:
        trainer = await add_staff(client, admin_token, club, "trainer", name="Tim")
        renewal = await slots(client, admin_token, club, date="2026-12-02")
        assert {s["consultant_id"] for s in renewal["items"]} == {consultant}
        onboarding = await slots(client, admin_token, club, date="2026-12-02", purpose="onboarding")
        assert {s["consultant_id"] for s in onboarding["items"]} == {consultant, trainer}
        r = await client.get(
            f"/api/v1/clubs/{club['id']}/meeting-slots",
            params={"date": "2026-12-02", "consultant_id": trainer},
            headers=bearer(admin_token),
        )
        assert r.status_code == 422
        assert r.json()["code"] == "consultant_not_eligible"

    async def test_an_unknown_consultant_is_404(
        self, client: AsyncClient, admin_token: str, club: dict
    ) -> None:
        r = await client.get(
            f"/api/v1/clubs/{club['id']}/meeting-slots",
            params={"consultant_id": "01a2048a-0000-7000-8000-000000000000"},
            headers=bearer(admin_token),
        )
        assert r.status_code == 404
        assert r.json()["code"] == "staff_not_found"

    async def test_every_slot_offered_can_be_booked(
        self, client: AsyncClient, admin_token: str, db: Any
    ) -> None:
        club = await make_club(
            client, admin_token, meeting_settings={"slot_minutes": 40, "buffer_minutes": 10}
        )
        consultant = await add_staff(client, admin_token, club)
        await book(
            client, admin_token, club, await make_member(db, club["id"]), consultant, at(2, 11, 7)
        )
        for slot in (await slots(client, admin_token, club, date="2026-12-02"))["items"]:
            member = await make_member(db, club["id"])
            r = await book(client, admin_token, club, member, consultant, slot["starts_at"])
            assert r.status_code == 201, (slot, r.json())
        assert (await slots(client, admin_token, club, date="2026-12-02"))["items"] == []


class TestDaylightSaving:
    """New York, open round the clock; the consultant works 01:00-04:00 on the wall."""

    @pytest.fixture
    async def ny(self, client: AsyncClient, admin_token: str) -> tuple[dict[str, Any], str]:
        hours = [{"weekday": d, "opens": "00:00", "closes": "23:59"} for d in range(1, 8)]
        club = await make_club(
            client, admin_token, timezone="America/New_York", opening_hours=hours
        )
        consultant = await add_staff(client, admin_token, club)
        await put(
            client,
            admin_token,
            consultant,
            club,
            {"weekly": [{"weekday": 7, "starts": "01:00", "ends": "04:00"}]},
        )
        return club, consultant

    async def test_spring_forward_offers_no_wall_time_that_does_not_exist(
        self, client: AsyncClient, admin_token: str, ny: tuple[dict[str, Any], str]
    ) -> None:
        club, _ = ny
        got = starts(await slots(client, admin_token, club, date="2027-03-14"))
        assert got == [
            "2027-03-14T01:00:00-05:00",
            "2027-03-14T01:30:00-05:00",
            "2027-03-14T03:00:00-04:00",
            "2027-03-14T03:30:00-04:00",
        ]

    async def test_fall_back_offers_each_instant_once(
        self, client: AsyncClient, admin_token: str, ny: tuple[dict[str, Any], str]
    ) -> None:
        club, _ = ny
        got = starts(await slots(client, admin_token, club, date="2027-11-07"))
        assert got == [
            "2027-11-07T01:00:00-04:00",
            "2027-11-07T01:30:00-04:00",
            "2027-11-07T01:00:00-05:00",  # the same wall time, an hour later
            "2027-11-07T01:30:00-05:00",
            "2027-11-07T02:00:00-05:00",
            "2027-11-07T02:30:00-05:00",
            "2027-11-07T03:00:00-05:00",
            "2027-11-07T03:30:00-05:00",
        ]
        instants = [datetime.fromisoformat(s) for s in got]
        assert len(set(instants)) == len(instants)
        assert all(
            b - a == timedelta(minutes=30) for a, b in zip(instants, instants[1:], strict=False)
        )

    async def test_a_dst_slot_books_and_is_taken_once(
        self, client: AsyncClient, admin_token: str, db: Any, ny: tuple[dict[str, Any], str]
    ) -> None:
        club, consultant = ny
        member = await make_member(db, club["id"])
        r = await book(client, admin_token, club, member, consultant, "2027-11-07T01:00:00-05:00")
        assert r.status_code == 201
        assert r.json()["starts_at"] == "2027-11-07T01:00:00-05:00"
        got = starts(await slots(client, admin_token, club, date="2027-11-07"))
        assert "2027-11-07T01:00:00-04:00" in got
        assert "2027-11-07T01:00:00-05:00" not in got
