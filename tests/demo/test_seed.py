"""The demo club: built through the services, dated relative to today, refused twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from app.config import Settings
from app.core.clock import freeze
from app.core.timezones import local_date
from app.db import Database
from app.demo.seed import TIMEZONE, DemoRefused, DemoResult, build
from app.main import create_app
from app.models import (
    ApiToken,
    Checkin,
    Complaint,
    Freeze,
    Member,
    Membership,
    RiskAssessment,
    ServiceCall,
)
from tests.fixtures.factories import bearer

AS_OF = datetime(2026, 3, 15, 9, 30, tzinfo=UTC)


async def _built(isolated_db: Database, members: int = 60) -> DemoResult:
    # The demo runs at "now": rows stamped by the clock (sales, resolutions) and the
    # jobs' as_of must agree, as they do in `serve --demo`.
    with freeze(AS_OF):
        return await build(isolated_db, members=members, as_of=AS_OF)


class TestBuild:
    async def test_builds_a_club_with_staff_plans_members_and_a_year_of_visits(
        self, isolated_db: Database
    ) -> None:
        result = await _built(isolated_db)
        assert [s.role for s in result.staff] == [
            "manager",
            "caller",
            "caller",
            "consultant",
            "consultant",
            "trainer",
            "front_desk",
        ]
        async with isolated_db.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(Member)) == 60
            assert await s.scalar(select(func.count()).select_from(Membership)) == 60
            assert await s.scalar(select(func.count()).select_from(ApiToken)) == 8
            assert await s.scalar(select(func.count()).select_from(Freeze)) == result.freezes
            visits = await s.scalar(select(func.count()).select_from(Checkin))
            first = await s.scalar(select(func.min(Checkin.checked_in_at)))
            last = await s.scalar(select(func.max(Checkin.checked_in_at)))
        assert visits == result.checkins > 1000
        assert first is not None
        assert last is not None
        assert AS_OF - first.replace(tzinfo=UTC) > timedelta(days=300)
        assert last.replace(tzinfo=UTC) <= AS_OF
        assert set(result.habits) == {"steady", "lapsing", "sleeper"}

    async def test_todays_lapse_scan_has_run_and_finds_members_at_risk(
        self, isolated_db: Database
    ) -> None:
        result = await _built(isolated_db, members=120)
        async with isolated_db.sessionmaker() as s:
            assessed = await s.scalar(select(func.count()).select_from(RiskAssessment))
        assert assessed == result.assessed > 50
        assert result.risk_levels.get("ok", 0) > 0
        assert result.risk_levels.get("at_risk", 0) + result.risk_levels.get("lapsed", 0) > 0

    async def test_memberships_span_the_renewal_window_expiry_and_freezes(
        self, isolated_db: Database
    ) -> None:
        result = await _built(isolated_db, members=120)
        today = local_date(TIMEZONE, AS_OF)
        async with isolated_db.sessionmaker() as s:
            ends = (await s.scalars(select(Membership.end_date))).all()
        kinds = Counter(
            "expired"
            if end < today
            else "ending_soon"
            if end <= today + timedelta(days=30)
            else "later"
            for end in ends
        )
        assert kinds["expired"] >= 5
        assert kinds["ending_soon"] >= 10
        assert kinds["later"] >= 30
        assert result.freezes >= 1
        assert result.meetings >= 3

    async def test_tokens_it_prints_work_with_their_roles(
        self, isolated_db: Database, settings: Settings
    ) -> None:
        result = await _built(isolated_db, members=10)
        url = isolated_db.engine.url.render_as_string(hide_password=False)
        app = create_app(
            settings.model_copy(update={"database_url": url}),
            db=isolated_db,
            run_scheduler=False,
        )
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
            clubs = await c.get("/api/v1/clubs", headers=bearer(result.admin_token))
            assert clubs.status_code == 200
            assert clubs.json()["items"][0]["timezone"] == "Europe/Moscow"
            manager = result.staff[0]
            members = await c.get("/api/v1/members", headers=bearer(manager.token))
            assert members.status_code == 200
            assert len(members.json()["items"]) == 10
            desk, club_id = result.staff[-1], result.club_id
            denied = await c.post(
                "/api/v1/plans",
                headers=bearer(desk.token),
                json={
                    "name": "x",
                    "duration_months": 1,
                    "price": 1,
                    "club_id": str(club_id),
                },
            )
            assert denied.status_code == 403


class TestRefusal:
    async def test_refuses_a_database_that_holds_a_club_and_adds_nothing(
        self, isolated_db: Database
    ) -> None:
        await _built(isolated_db, members=5)
        with pytest.raises(DemoRefused, match="already holds clubs"):
            await _built(isolated_db, members=5)
        async with isolated_db.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(Member)) == 5


class TestOutreach:
    async def test_the_callers_queue_and_complaints_are_there_from_the_start(
        self, isolated_db: Database
    ) -> None:
        result = await _built(isolated_db, members=120)
        assert result.complaints == 3
        async with isolated_db.sessionmaker() as s:
            rows = await s.execute(
                select(ServiceCall.kind, func.count())
                .where(ServiceCall.status.in_(["scheduled", "due", "in_progress"]))
                .group_by(ServiceCall.kind)
            )
            kinds = {kind: int(n) for kind, n in rows}
            resolved = (
                await s.scalars(select(Complaint).where(Complaint.status == "resolved"))
            ).one()
            extended = await s.get(Membership, resolved.membership_id)
            members_with_open_calls = await s.scalar(
                select(func.count(func.distinct(ServiceCall.member_id))).where(
                    ServiceCall.status.in_(["scheduled", "due", "in_progress"])
                )
            )
        assert kinds == result.calls
        assert kinds.get("lapse", 0) > 0
        assert kinds.get("renewal", 0) > 0
        assert kinds.get("complaint_follow_up", 0) == 1  # 3 days after the resolution
        assert sum(kinds.values()) == members_with_open_calls  # one open call per member
        assert resolved.compensation_bonus_days == 7
        assert extended is not None
        assert extended.bonus_days == 7
