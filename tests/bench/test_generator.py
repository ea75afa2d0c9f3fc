"""The benchmark's data generator at a tiny scale: consistent data, distinct habits.

The benchmark itself never runs in CI; these checks keep its data honest."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from app.db import Database
from bench import generator as gen

AS_OF = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TINY = gen.Scale("tiny", 50, members_per_club=25)


@pytest.fixture(scope="module")
def chain() -> gen.Chain:
    return gen.build_chain(TINY, AS_OF, seed=5)


@pytest.fixture(scope="module")
def visits(chain: gen.Chain) -> list[gen.CheckinRecord]:
    return [row for chunk in gen.checkins(chain, chunk=100) for row in chunk]


class TestGenerator:
    def test_tiny_chain_has_the_asked_shape(
        self, chain: gen.Chain, visits: list[gen.CheckinRecord]
    ) -> None:
        assert len(chain.members) == 50
        assert len(chain.clubs) == 2
        assert 300 <= len(visits) <= 20_000

    def test_every_checkin_belongs_to_a_member_of_its_club(
        self, chain: gen.Chain, visits: list[gen.CheckinRecord]
    ) -> None:
        club_of = {m.id: m.club.id for m in chain.members}
        assert all(club_of[member] == club for club, member, *_ in visits)

    def test_checkins_fall_in_the_year_before_as_of_and_inside_a_term(
        self, chain: gen.Chain, visits: list[gen.CheckinRecord]
    ) -> None:
        by_id = {m.id: m for m in chain.members}
        for _, member_id, at, *_ in visits:
            assert AS_OF - timedelta(days=366) <= at <= AS_OF
            m = by_id[member_id]
            assert at.date() >= m.join_date - timedelta(days=1)  # local vs UTC date
            assert any(s - timedelta(days=1) <= at.date() <= e for _, s, _, e, _ in m.memberships)

    def test_device_events_are_unique_per_club(self, visits: list[gen.CheckinRecord]) -> None:
        keys = [(club, device, event) for club, _, _, _, device, event, _ in visits]
        assert len(keys) == len(set(keys))

    def test_no_visit_while_frozen_or_after_stopping(
        self, chain: gen.Chain, visits: list[gen.CheckinRecord]
    ) -> None:
        by_id = {m.id: m for m in chain.members}
        for _, member_id, at, *_ in visits:
            m = by_id[member_id]
            day = at.date()
            if m.stop_date is not None:
                assert day <= m.stop_date
            if m.freeze is not None:
                assert not (m.freeze[0] + timedelta(days=1) <= day < m.freeze[1])

    def test_membership_chains_are_contiguous_and_reach_as_of(self, chain: gen.Chain) -> None:
        for m in chain.members:
            assert m.memberships[0][1] == m.join_date
            for (_, _, _, end, _), (_, start, _, _, _) in zip(
                m.memberships, m.memberships[1:], strict=False
            ):
                assert start == end + timedelta(days=1)
            assert m.memberships[-1][3] >= AS_OF.date()

    def test_habits_produce_distinct_rates(self) -> None:
        # 400 members: enough for every habit to show its own shape.
        chain = gen.build_chain(gen.Scale("habits", 400, members_per_club=200), AS_OF, seed=9)
        recent = defaultdict(int)
        earlier = defaultdict(int)
        for chunk in gen.checkins(chain):
            for _, member_id, at, *_ in chunk:
                if at >= AS_OF - timedelta(days=28):
                    recent[member_id] += 1
                elif AS_OF - timedelta(days=140) <= at < AS_OF - timedelta(days=84):
                    earlier[member_id] += 1
        by_habit: dict[gen.Habit, list[gen.MemberSpec]] = defaultdict(list)
        for m in chain.members:
            by_habit[m.habit].append(m)

        def recent_share(habit: gen.Habit) -> float:
            ms = [m for m in by_habit[habit] if m.join_date < AS_OF.date() - timedelta(days=140)]
            return sum(recent[m.id] for m in ms) / max(1, sum(earlier[m.id] for m in ms))

        # Steady members keep their habit; decliners fall; stoppers mostly vanish.
        assert recent_share(gen.Habit.STOPPER) < recent_share(gen.Habit.DECLINER)
        assert recent_share(gen.Habit.DECLINER) < 0.6 * recent_share(gen.Habit.STEADY)
        # Weekly rates differ between members: the habit is each member's own.
        assert len({m.weekly_rate for m in chain.members}) >= 5

    def test_generation_is_deterministic_for_a_seed(self) -> None:
        a = gen.build_chain(TINY, AS_OF, seed=3)
        b = gen.build_chain(TINY, AS_OF, seed=3)
        assert [m.id for m in a.members] == [m.id for m in b.members]
        assert next(gen.checkins(a)) == next(gen.checkins(b))


@pytest.mark.postgres_only
async def test_tiny_chain_loads_through_copy_into_the_migrated_schema(
    isolated_db: Database,
) -> None:
    from bench.database import load

    chain = gen.build_chain(TINY, AS_OF, seed=5)
    loaded = await load(isolated_db.engine.url, chain)
    async with isolated_db.engine.connect() as conn:
        orphans = await conn.scalar(
            text(
                "SELECT count(*) FROM checkins c LEFT JOIN members m "
                "ON m.id = c.member_id AND m.club_id = c.club_id WHERE m.id IS NULL"
            )
        )
        stored = await conn.scalar(text("SELECT count(*) FROM checkins"))
        without_term = await conn.scalar(
            text(
                "SELECT count(*) FROM members m WHERE NOT EXISTS (SELECT 1 FROM memberships s "
                "WHERE s.member_id = m.id AND s.end_date >= DATE '2026-03-10')"
            )
        )
    assert orphans == 0
    assert stored == loaded.checkins > 300
    assert without_term == 0
