"""Work about a club's day: at a local hour, DST-correct, once per club and date."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.models import ClubDayRun
from app.scheduling.club_days import ClubDay, due_club_days, due_local_date
from app.scheduling.service import for_each_club_day
from tests.fixtures.factories import make_club


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


class TestDueLocalDate:
    def test_six_am_on_the_spring_forward_day_in_new_york_is_10_utc(self) -> None:
        assert due_local_date("America/New_York", time(6), at(2026, 3, 8, 10)) == (
            date(2026, 3, 8),
            at(2026, 3, 8, 10),
        )

    def test_a_minute_earlier_the_due_day_is_still_yesterday_at_11_utc(self) -> None:
        assert due_local_date("America/New_York", time(6), at(2026, 3, 8, 9, 59)) == (
            date(2026, 3, 7),
            at(2026, 3, 7, 11),  # 06:00 EST
        )

    def test_six_am_on_the_fall_back_day_is_11_utc(self) -> None:
        day, scheduled = due_local_date("America/New_York", time(6), at(2026, 11, 1, 12))
        assert (day, scheduled) == (date(2026, 11, 1), at(2026, 11, 1, 11))

    def test_an_hour_skipped_by_dst_runs_when_the_clock_reaches_it(self) -> None:
        # 02:30 does not exist on 8 March in New York: it happens at 03:30 EDT.
        day, scheduled = due_local_date("America/New_York", time(2, 30), at(2026, 3, 8, 8))
        assert (day, scheduled) == (date(2026, 3, 8), at(2026, 3, 8, 7, 30))

    def test_auckland_is_already_on_the_next_day(self) -> None:
        # 18:00 UTC on 13 Jan is 07:00 on 14 Jan in Auckland (UTC+13).
        day, scheduled = due_local_date("Pacific/Auckland", time(6), at(2026, 1, 13, 18))
        assert (day, scheduled) == (date(2026, 1, 14), at(2026, 1, 13, 17))

    def test_catch_up_lists_missed_days_oldest_first(self) -> None:
        days = due_club_days(
            [(uuid.uuid4(), "Europe/Moscow")], time(5), at(2026, 3, 10, 3), catch_up_days=2
        )
        assert [d.local_date for d in days] == [
            date(2026, 3, 8),
            date(2026, 3, 9),
            date(2026, 3, 10),
        ]
        assert days[-1].scheduled_at == at(2026, 3, 10, 2)


class TestForEachClubDay:
    @pytest.fixture
    async def clubs(self, client: AsyncClient, admin_token: str) -> dict[str, uuid.UUID]:
        msk = await make_club(client, admin_token, name="Moscow", timezone="Europe/Moscow")
        ny = await make_club(client, admin_token, name="NYC", timezone="America/New_York")
        return {"msk": uuid.UUID(msk["id"]), "ny": uuid.UUID(ny["id"])}

    async def test_each_club_runs_once_when_its_local_hour_comes(
        self, db: Database, clubs: dict[str, uuid.UUID]
    ) -> None:
        done: list[tuple[uuid.UUID, date]] = []

        async def work(session: AsyncSession, day: ClubDay) -> None:
            done.append((day.club_id, day.local_date))

        # 04:00 UTC: 07:00 in Moscow (due), midnight in New York (EDT since 8 March).
        first = await for_each_club_day(db, "test_job", at(2026, 3, 10, 4), at=time(6), work=work)
        assert (clubs["msk"], date(2026, 3, 10)) in done
        assert (clubs["ny"], date(2026, 3, 9)) in done  # yesterday's 06:00 has passed
        assert first["done"] == 2
        again = await for_each_club_day(db, "test_job", at(2026, 3, 10, 5), at=time(6), work=work)
        assert again == {"done": 0, "already_done": 2, "failed": 0}
        # 11:00 UTC = 07:00 EDT: New York's 10 March is due now.
        later = await for_each_club_day(db, "test_job", at(2026, 3, 10, 11), at=time(6), work=work)
        assert later["done"] == 1
        assert done[-1] == (clubs["ny"], date(2026, 3, 10))
        async with db.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(ClubDayRun)) == 3

    async def test_a_failing_club_is_retried_next_run_and_does_not_block_others(
        self, db: Database, clubs: dict[str, uuid.UUID]
    ) -> None:
        calls: list[uuid.UUID] = []

        async def flaky(session: AsyncSession, day: ClubDay) -> None:
            calls.append(day.club_id)
            if day.club_id == clubs["msk"] and calls.count(clubs["msk"]) == 1:
                raise RuntimeError("boom")

        when = at(2026, 3, 10, 12)
        first = await for_each_club_day(db, "flaky_job", when, at=time(6), work=flaky)
        assert first == {"done": 1, "already_done": 0, "failed": 1}
        second = await for_each_club_day(db, "flaky_job", when, at=time(6), work=flaky)
        assert second == {"done": 1, "already_done": 1, "failed": 0}
        assert calls.count(clubs["msk"]) == 2
        assert calls.count(clubs["ny"]) == 1
