"""GET /members/{id}/attendance and GET /checkins."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from httpx import AsyncClient

from app.core.clock import freeze
from app.db import Database
from app.models import Checkin, Member
from tests.checkins.conftest import World, integration_token
from tests.fixtures.factories import bearer, make_club
from tests.fixtures.ledger import make_member, make_membership, make_plan

# Wednesday 2026-04-08, 12:00 in Berlin (CEST, UTC+2). Summer time began on Sunday
# 2026-03-29; it ended on Sunday 2025-10-26. Both fall inside the 26-week window, which
# starts on Monday 2025-10-13.
NOW = datetime(2026, 4, 8, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with freeze(NOW):
        yield


@pytest_asyncio.fixture
async def berlin(client: AsyncClient, admin_token: str, db: Database) -> dict[str, Any]:
    club = await make_club(client, admin_token, name="Spree Fitness", timezone="Europe/Berlin")
    club_id = uuid.UUID(club["id"])
    member = await make_member(db, club_id)
    token = await integration_token(client, admin_token, club_id, ["checkins:read"])
    return {"club_id": club_id, "member": member, "token": token}


async def visits(db: Database, club_id: uuid.UUID, member: Member, *instants: str) -> None:
    async with db.session_scope() as s:
        for at in instants:
            s.add(
                Checkin(
                    club_id=club_id,
                    member_id=member.id,
                    checked_in_at=datetime.fromisoformat(at),
                    source="turnstile",
                )
            )


async def attendance(client: AsyncClient, token: str, member_id: uuid.UUID) -> dict[str, Any]:
    r = await client.get(f"/api/v1/members/{member_id}/attendance", headers=bearer(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


def weeks(body: dict[str, Any]) -> dict[str, int]:
    return {w["week_start"]: w["visits"] for w in body["weekly_counts"]}


class TestAttendance:
    async def test_26_club_local_weeks_starting_on_mondays(
        self, client: AsyncClient, berlin: dict[str, Any]
    ) -> None:
        body = await attendance(client, berlin["token"], berlin["member"].id)
        starts = [date.fromisoformat(w["week_start"]) for w in body["weekly_counts"]]
        assert len(starts) == 26
        assert starts[0] == date(2025, 10, 13)
        assert starts[-1] == date(2026, 4, 6)
        assert all(d.isoweekday() == 1 for d in starts)
        assert body["last_visit_at"] is None
        assert body["visits_last_28_days"] == 0
        assert body["usual_visits_per_week"] == 0

    async def test_visits_fall_in_the_local_week_across_dst_changes(
        self, client: AsyncClient, berlin: dict[str, Any], db: Database
    ) -> None:
        await visits(
            db,
            berlin["club_id"],
            berlin["member"],
            "2026-03-22T22:30:00+00:00",  # Sunday 23:30 CET: week of March 16
            "2026-03-22T23:30:00+00:00",  # Monday 00:30 CET: week of March 23
            "2026-03-29T21:30:00+00:00",  # Sunday 23:30 CEST (after the switch): March 23
            "2026-03-29T22:30:00+00:00",  # Monday 00:30 CEST: week of March 30
            "2025-10-26T22:30:00+00:00",  # Sunday 23:30 CET (after fall back): October 20
            "2025-10-26T23:30:00+00:00",  # Monday 00:30 CET: week of October 27
            "2025-10-12T21:59:00+00:00",  # Sunday 23:59 CEST, before the window
        )
        counts = weeks(await attendance(client, berlin["token"], berlin["member"].id))
        assert counts["2026-03-16"] == 1
        assert counts["2026-03-23"] == 2
        assert counts["2026-03-30"] == 1
        assert counts["2025-10-20"] == 1
        assert counts["2025-10-27"] == 1
        assert sum(counts.values()) == 6

    async def test_last_28_days_are_local_days_ending_today(
        self, client: AsyncClient, berlin: dict[str, Any], db: Database
    ) -> None:
        # The 28 days are March 12 .. April 8; March 12 began at 23:00Z on March 11.
        await visits(
            db,
            berlin["club_id"],
            berlin["member"],
            "2026-03-11T22:59:00+00:00",
            "2026-03-11T23:00:00+00:00",
            "2026-04-08T09:59:00+00:00",
            "2026-04-08T10:03:00+00:00",  # a device clock a little ahead: not yet
        )
        body = await attendance(client, berlin["token"], berlin["member"].id)
        assert body["visits_last_28_days"] == 2
        assert body["last_visit_at"] == "2026-04-08T09:59:00Z"

    async def test_last_visit_is_found_outside_the_window(
        self, client: AsyncClient, berlin: dict[str, Any], db: Database
    ) -> None:
        await visits(db, berlin["club_id"], berlin["member"], "2024-12-01T10:00:00+00:00")
        body = await attendance(client, berlin["token"], berlin["member"].id)
        assert body["last_visit_at"] == "2024-12-01T10:00:00Z"
        assert sum(weeks(body).values()) == 0

    async def test_usual_rate_is_over_the_window_for_long_standing_members(
        self, client: AsyncClient, berlin: dict[str, Any], db: Database
    ) -> None:
        plan = await make_plan(db, berlin["club_id"])
        await make_membership(db, berlin["member"], plan, start_date=date(2025, 1, 1))
        start = datetime(2025, 10, 14, 8, tzinfo=UTC)
        await visits(
            db,
            berlin["club_id"],
            berlin["member"],
            *[(start + timedelta(days=2 * i)).isoformat() for i in range(89)],
        )
        body = await attendance(client, berlin["token"], berlin["member"].id)
        # 89 visits over October 13 .. April 8 (178 days).
        assert body["usual_visits_per_week"] == round(89 / (178 / 7), 2)

    async def test_usual_rate_is_over_the_tenure_when_shorter(
        self, client: AsyncClient, berlin: dict[str, Any], db: Database
    ) -> None:
        plan = await make_plan(db, berlin["club_id"])
        await make_membership(db, berlin["member"], plan, start_date=date(2026, 3, 11))
        await visits(
            db,
            berlin["club_id"],
            berlin["member"],
            *[f"2026-03-{d:02d}T17:00:00+00:00" for d in (12, 14, 17, 19, 21, 24, 26, 28)],
        )
        body = await attendance(client, berlin["token"], berlin["member"].id)
        # Tenure March 11 .. April 8 is 29 days.
        assert body["usual_visits_per_week"] == round(8 / (29 / 7), 2)

    async def test_a_visit_before_the_first_membership_starts_the_tenure(
        self, client: AsyncClient, berlin: dict[str, Any], db: Database
    ) -> None:
        plan = await make_plan(db, berlin["club_id"])
        await make_membership(db, berlin["member"], plan, start_date=date(2026, 4, 1))
        await visits(db, berlin["club_id"], berlin["member"], "2026-03-26T17:00:00+00:00")
        body = await attendance(client, berlin["token"], berlin["member"].id)
        assert body["usual_visits_per_week"] == round(1 / (14 / 7), 2)  # March 26 .. April 8

    async def test_a_brand_new_member_is_divided_by_one_week_at_least(
        self, client: AsyncClient, berlin: dict[str, Any], db: Database
    ) -> None:
        plan = await make_plan(db, berlin["club_id"])
        await make_membership(db, berlin["member"], plan, start_date=date(2026, 4, 7))
        await visits(
            db,
            berlin["club_id"],
            berlin["member"],
            "2026-04-07T08:00:00+00:00",
            "2026-04-07T18:00:00+00:00",
            "2026-04-08T07:00:00+00:00",
        )
        body = await attendance(client, berlin["token"], berlin["member"].id)
        assert body["usual_visits_per_week"] == 3.0

    async def test_another_clubs_token_gets_404(
        self, client: AsyncClient, berlin: dict[str, Any], world: World
    ) -> None:
        r = await client.get(
            f"/api/v1/members/{berlin['member'].id}/attendance", headers=bearer(world.turnstile)
        )
        assert r.status_code == 404
        assert r.json()["code"] == "member_not_found"

    async def test_unknown_member_is_404(self, client: AsyncClient, berlin: dict[str, Any]) -> None:
        r = await client.get(
            f"/api/v1/members/{uuid.uuid4()}/attendance", headers=bearer(berlin["token"])
        )
        assert r.status_code == 404

    async def test_needs_checkins_read(
        self, client: AsyncClient, berlin: dict[str, Any], admin_token: str
    ) -> None:
        writer = await integration_token(client, admin_token, berlin["club_id"], ["checkins:write"])
        r = await client.get(
            f"/api/v1/members/{berlin['member'].id}/attendance", headers=bearer(writer)
        )
        assert r.status_code == 403


class TestList:
    async def _seed(self, db: Database, world: World) -> None:
        await visits(
            db,
            world.club_id,
            world.alice,
            *[f"2026-04-0{d}T0{h}:00:00+00:00" for d in (1, 2, 3) for h in (6, 7)],
        )
        await visits(db, world.club_id, world.bob, "2026-04-02T06:30:00+00:00")
        await visits(db, world.other_club_id, world.stranger, "2026-04-02T06:30:00+00:00")

    async def _list(self, client: AsyncClient, token: str, **params: Any) -> Any:
        r = await client.get("/api/v1/checkins", params=params, headers=bearer(token))
        return r

    async def test_newest_first_in_cursor_pages(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        await self._seed(db, world)
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 3}
            if cursor:
                params["cursor"] = cursor
            page = (await self._list(client, world.turnstile, **params)).json()
            seen += [i["checked_in_at"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 7  # the other club's visit is not listed
        assert seen == sorted(seen, reverse=True)

    async def test_filters_by_member_and_time(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        await self._seed(db, world)
        r = await self._list(
            client,
            world.turnstile,
            member_id=str(world.alice.id),
            since="2026-04-02T00:00:00Z",
            until="2026-04-03T07:00:00Z",
        )
        assert [i["checked_in_at"] for i in r.json()["items"]] == [
            "2026-04-03T06:00:00Z",
            "2026-04-02T07:00:00Z",
            "2026-04-02T06:00:00Z",
        ]

    async def test_another_clubs_filter_is_404(self, client: AsyncClient, world: World) -> None:
        r = await self._list(client, world.turnstile, club_id=str(world.other_club_id))
        assert r.status_code == 404
        assert r.json()["code"] == "club_not_found"

    async def test_another_clubs_member_lists_nothing(
        self, client: AsyncClient, world: World, db: Database
    ) -> None:
        await self._seed(db, world)
        r = await self._list(client, world.turnstile, member_id=str(world.stranger.id))
        assert r.json()["items"] == []

    async def test_a_naive_since_is_422(self, client: AsyncClient, world: World) -> None:
        r = await self._list(client, world.turnstile, since="2026-04-02T00:00:00")
        assert r.status_code == 422
