"""Working hours per consultant and club: pattern, exceptions, defaults, who may set them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select

from app.db import Database
from app.models import AuditEntry, WorkingHoursException
from tests.fixtures.factories import bearer, make_club, make_token
from tests.fixtures.meetings import add_staff

WEEKLY = [
    {"weekday": 1, "starts": "09:00", "ends": "13:00"},
    {"weekday": 1, "starts": "14:00", "ends": "18:00"},
    {"weekday": 3, "starts": "12:00", "ends": "20:00"},
]


def url(staff_id: str, club: dict[str, Any]) -> str:
    return f"/api/v1/staff/{staff_id}/working-hours?club_id={club['id']}"


async def put(
    client: AsyncClient, token: str, staff_id: str, club: dict[str, Any], body: dict[str, Any]
) -> Any:
    return await client.put(url(staff_id, club), json=body, headers=bearer(token))


class TestDefaults:
    async def test_without_hours_a_consultant_works_the_opening_hours(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str
    ) -> None:
        r = await client.get(url(consultant, club), headers=bearer(admin_token))
        assert r.status_code == 200
        body = r.json()
        assert body["source"] == "club_opening_hours"
        assert body["timezone"] == "Europe/Moscow"
        assert len(body["weekly"]) == 7
        assert body["weekly"][0] == {"weekday": 1, "starts": "07:00:00", "ends": "22:00:00"}
        assert body["exceptions"] == []


class TestPut:
    async def test_pattern_and_exceptions_are_replaced_and_read_back(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str
    ) -> None:
        body = {
            "weekly": WEEKLY,
            "exceptions": [
                {"date": "2026-12-31", "hours": [], "note": "Day off"},
                {"date": "2026-12-07", "hours": [{"starts": "10:00", "ends": "12:00"}]},
            ],
        }
        r = await put(client, admin_token, consultant, club, body)
        assert r.status_code == 200, r.text
        got = (await client.get(url(consultant, club), headers=bearer(admin_token))).json()
        assert got == r.json()
        assert got["source"] == "explicit"
        assert [(w["weekday"], w["starts"], w["ends"]) for w in got["weekly"]] == [
            (1, "09:00:00", "13:00:00"),
            (1, "14:00:00", "18:00:00"),
            (3, "12:00:00", "20:00:00"),
        ]
        assert [e["date"] for e in got["exceptions"]] == ["2026-12-07", "2026-12-31"]
        assert got["exceptions"][1] == {"date": "2026-12-31", "hours": [], "note": "Day off"}

        r = await put(client, admin_token, consultant, club, {"weekly": WEEKLY[:1]})
        assert [w["weekday"] for w in r.json()["weekly"]] == [1]
        assert r.json()["exceptions"] == []

    async def test_null_pattern_keeps_opening_hours_with_exceptions(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str
    ) -> None:
        r = await put(
            client,
            admin_token,
            consultant,
            club,
            {"weekly": None, "exceptions": [{"date": "2026-12-03", "hours": []}]},
        )
        assert r.json()["source"] == "club_opening_hours"
        assert r.json()["exceptions"][0]["date"] == "2026-12-03"

    async def test_earlier_exceptions_are_kept_as_history(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, db: Database
    ) -> None:
        async with db.session_scope() as s:
            s.add(
                WorkingHoursException(
                    club_id=uuid.UUID(club["id"]),
                    staff_id=uuid.UUID(consultant),
                    on_date=date(2026, 11, 20),
                    hours=[],
                )
            )
        r = await put(client, admin_token, consultant, club, {"weekly": WEEKLY})
        assert r.json()["exceptions"] == []
        async with db.sessionmaker() as s:
            kept = (await s.scalars(select(WorkingHoursException.on_date))).all()
        assert kept == [date(2026, 11, 20)]

    async def test_an_exception_before_today_is_refused(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str
    ) -> None:
        r = await put(
            client,
            admin_token,
            consultant,
            club,
            {"weekly": WEEKLY, "exceptions": [{"date": "2026-11-30", "hours": []}]},
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["pointer"] == "/exceptions/0/date"
        got = (await client.get(url(consultant, club), headers=bearer(admin_token))).json()
        assert got["source"] == "club_opening_hours"

    async def test_overlapping_spans_are_refused(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str
    ) -> None:
        overlapping = [
            {"weekday": 2, "starts": "09:00", "ends": "13:00"},
            {"weekday": 2, "starts": "12:00", "ends": "15:00"},
        ]
        r = await put(client, admin_token, consultant, club, {"weekly": overlapping})
        assert r.status_code == 422
        assert r.json()["code"] == "validation_error"

    async def test_a_span_must_end_after_it_starts(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str
    ) -> None:
        bad = [{"weekday": 2, "starts": "18:00", "ends": "09:00"}]
        r = await put(client, admin_token, consultant, club, {"weekly": bad})
        assert r.status_code == 422

    async def test_a_date_listed_twice_is_refused(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str
    ) -> None:
        twice = [{"date": "2026-12-03", "hours": []}, {"date": "2026-12-03", "hours": []}]
        r = await put(client, admin_token, consultant, club, {"weekly": None, "exceptions": twice})
        assert r.status_code == 422

    async def test_the_change_is_audited(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str, db: Database
    ) -> None:
        await put(client, admin_token, consultant, club, {"weekly": WEEKLY})
        async with db.sessionmaker() as s:
            entry = (
                await s.scalars(select(AuditEntry).where(AuditEntry.entity == "working_hours"))
            ).one()
        assert entry.entity_id == consultant
        assert entry.changes["source"] == ["club_opening_hours", "explicit"]


class TestWhoTakesMeetings:
    async def test_trainers_have_working_hours_too(
        self, client: AsyncClient, admin_token: str, club: dict
    ) -> None:
        trainer = await add_staff(client, admin_token, club, "trainer", name="Tim Trainer")
        r = await put(client, admin_token, trainer, club, {"weekly": WEEKLY})
        assert r.status_code == 200

    async def test_staff_who_take_no_meetings_have_no_working_hours(
        self, client: AsyncClient, admin_token: str, club: dict
    ) -> None:
        caller = await add_staff(client, admin_token, club, "caller", name="Carl Caller")
        r = await put(client, admin_token, caller, club, {"weekly": WEEKLY})
        assert r.status_code == 422
        assert r.json()["code"] == "consultant_not_eligible"
        r = await client.get(url(caller, club), headers=bearer(admin_token))
        assert r.json()["code"] == "consultant_not_eligible"

    async def test_hours_are_per_club_the_consultant_works_in(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str
    ) -> None:
        other = await make_club(client, admin_token, name="Other")
        r = await put(client, admin_token, consultant, other, {"weekly": WEEKLY})
        assert r.status_code == 422
        assert r.json()["code"] == "consultant_not_eligible"


class TestDelete:
    async def test_reset_goes_back_to_opening_hours(
        self, client: AsyncClient, admin_token: str, club: dict, consultant: str
    ) -> None:
        await put(
            client,
            admin_token,
            consultant,
            club,
            {"weekly": WEEKLY, "exceptions": [{"date": "2026-12-03", "hours": []}]},
        )
        r = await client.delete(url(consultant, club), headers=bearer(admin_token))
        assert r.status_code == 200
        assert r.json()["source"] == "club_opening_hours"
        assert r.json()["exceptions"] == []


class TestAccess:
    async def test_a_consultant_reads_but_does_not_set_hours(
        self, client: AsyncClient, db: Database, club: dict, consultant: str
    ) -> None:
        token = await make_token(db, "consultant", club_ids=[uuid.UUID(club["id"])])
        assert (await client.get(url(consultant, club), headers=bearer(token))).status_code == 200
        r = await put(client, token, consultant, club, {"weekly": WEEKLY})
        assert r.status_code == 403

    async def test_a_manager_of_another_club_sees_neither_staff_nor_club(
        self, client: AsyncClient, admin_token: str, db: Database, club: dict, consultant: str
    ) -> None:
        other = await make_club(client, admin_token, name="Other")
        manager = await make_token(db, "manager", club_ids=[uuid.UUID(other["id"])])
        r = await put(client, manager, consultant, club, {"weekly": WEEKLY})
        assert r.status_code == 404

    async def test_an_unknown_club_is_404(
        self, client: AsyncClient, admin_token: str, consultant: str
    ) -> None:
        r = await put(
            client, admin_token, consultant, {"id": str(uuid.uuid4())}, {"weekly": WEEKLY}
        )
        assert r.status_code == 404
        assert r.json()["code"] == "club_not_found"
