"""The first session is an onboarding meeting with a trainer; attending it completes the
item (the meetings domain notifies through its attended hook)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from app.core.clock import freeze
from app.db import Database
from app.models import Meeting
from tests.fixtures.factories import bearer
from tests.fixtures.meetings import MSK, add_staff, at, book
from tests.memberships.helpers import problem, sold
from tests.onboarding.conftest import snapshot

# Tuesday 1 December 2026, 09:00 in Moscow: the meetings tests' clock.
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=MSK)


@pytest.fixture(autouse=True)
def _meetings_now() -> Any:
    with freeze(NOW):
        yield


@pytest.fixture
async def new_membership(
    client: AsyncClient, manager: str, member: Any, plan: dict[str, Any]
) -> dict[str, Any]:
    return await sold(client, manager, member.id, plan["id"], NOW.date())


async def items(client: AsyncClient, token: str, membership_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/memberships/{membership_id}/onboarding", headers=bearer(token))
    return {i["kind"]: i for i in r.json()["items"]}


async def attend(client: AsyncClient, token: str, meeting: dict[str, Any]) -> None:
    with freeze(datetime.fromisoformat(meeting["starts_at"]) + timedelta(minutes=5)):
        r = await client.patch(
            f"/api/v1/meetings/{meeting['id']}", json={"status": "attended"}, headers=bearer(token)
        )
    assert r.status_code == 200, r.text


async def meetings(db: Database) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Meeting)) or 0)


async def test_an_attended_onboarding_meeting_completes_the_first_session(
    client: AsyncClient,
    manager: str,
    admin_token: str,
    club: dict[str, Any],
    member: Any,
    new_membership: dict[str, Any],
) -> None:
    trainer = await add_staff(client, admin_token, club, "trainer", name="Tim Trainer")
    r = await book(client, manager, club, member, trainer, at(2, 10), purpose="onboarding")
    assert r.status_code == 201, r.text
    meeting = r.json()
    assert (await items(client, manager, new_membership["id"]))["first_session"]["status"] == "open"
    await attend(client, manager, meeting)
    item = (await items(client, manager, new_membership["id"]))["first_session"]
    assert (item["status"], item["completed_via"]) == ("done", "meeting")
    assert (item["meeting_id"], item["completed_by_id"]) == (meeting["id"], trainer)
    assert item["completed_at"] is not None


async def test_a_no_show_leaves_the_first_session_open(
    client: AsyncClient,
    manager: str,
    admin_token: str,
    club: dict[str, Any],
    member: Any,
    new_membership: dict[str, Any],
) -> None:
    trainer = await add_staff(client, admin_token, club, "trainer", name="Tim Trainer")
    meeting = (
        await book(client, manager, club, member, trainer, at(2, 10), purpose="onboarding")
    ).json()
    with freeze(datetime.fromisoformat(meeting["starts_at"]) + timedelta(minutes=30)):
        r = await client.patch(
            f"/api/v1/meetings/{meeting['id']}", json={"status": "no_show"}, headers=bearer(manager)
        )
    assert r.status_code == 200, r.text
    assert (await items(client, manager, new_membership["id"]))["first_session"]["status"] == "open"


async def test_an_attended_renewal_meeting_is_not_a_first_session(
    client: AsyncClient,
    manager: str,
    admin_token: str,
    club: dict[str, Any],
    member: Any,
    new_membership: dict[str, Any],
) -> None:
    consultant = await add_staff(client, admin_token, club, "consultant", name="Olga")
    meeting = (await book(client, manager, club, member, consultant, at(2, 10))).json()
    await attend(client, manager, meeting)
    assert (await items(client, manager, new_membership["id"]))["first_session"]["status"] == "open"


@pytest.mark.parametrize("role", ["consultant", "caller", "front_desk"])
async def test_an_onboarding_meeting_with_a_non_trainer_is_refused(
    client: AsyncClient,
    manager: str,
    admin_token: str,
    club: dict[str, Any],
    member: Any,
    db: Database,
    new_membership: dict[str, Any],
    role: str,
) -> None:
    staff = await add_staff(client, admin_token, club, role, name="Not A Trainer")
    before, booked = await snapshot(db), await meetings(db)
    r = await book(client, manager, club, member, staff, at(2, 10), purpose="onboarding")
    body = problem(r, 422, "consultant_not_eligible")
    assert body["errors"] == [
        {"pointer": "/consultant_id", "detail": "needs the trainer role here"}
    ]
    assert (await snapshot(db), await meetings(db)) == (before, booked)


async def test_a_trainer_of_another_club_cannot_hold_the_first_session(
    client: AsyncClient,
    manager: str,
    admin_token: str,
    club: dict[str, Any],
    other_club: dict[str, Any],
    member: Any,
    db: Database,
) -> None:
    elsewhere = await add_staff(client, admin_token, other_club, "trainer", name="Far Away")
    booked = await meetings(db)
    # A chain-wide admin sees the other club's trainer; the club's manager would get 404.
    r = await book(client, admin_token, club, member, elsewhere, at(2, 10), purpose="onboarding")
    problem(r, 422, "consultant_not_eligible")
    assert await meetings(db) == booked
