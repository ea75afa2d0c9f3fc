"""The scan on the real database (both dialects): each signal and each suppression with
its exact level, the features against a plain-Python recount, idempotency, history,
events and the number of statements."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import event, func, select

from app.core.timezones import local_to_utc
from app.db import Database
from app.models import Checkin, Event, RiskAssessment
from app.risk.jobs import run_scan
from app.risk.repository import UPSERT_ROWS, stream_features
from app.risk.service import features_from_row, scan_window
from bench.lapse_histories import generate, reference_features
from bench.lapse_quality import load
from tests.fixtures.ledger import make_freeze, make_membership
from tests.fixtures.meetings import make_meeting
from tests.risk.conftest import AS_OF, TODAY, Cast, add_visits, days_ago, every


class TestSignals:
    async def test_a_member_keeping_their_habit_is_ok(self, cast: Cast) -> None:
        m, _ = await cast.member(every(2, since=180))
        a = await cast.scan_one(m)
        assert (a.level, a.score, a.reasons, a.suppressed) == ("ok", a.score, [], None)
        assert a.score < 40
        assert a.segment == "active"

    async def test_a_gap_long_for_this_member_is_at_risk(self, cast: Cast) -> None:
        m, _ = await cast.member(every(2, since=180, until=9))
        a = await cast.scan_one(m)
        assert a.level == "at_risk"
        assert a.reasons[0] == "no visit for 9 days; usually every 2 days"
        assert a.gap_days == 9

    async def test_the_same_gap_is_ok_for_a_fortnightly_member(self, cast: Cast) -> None:
        m, _ = await cast.member(every(14, since=177, until=9))
        a = await cast.scan_one(m)
        assert a.level == "ok"

    async def test_a_month_of_silence_after_a_regular_habit_is_lapsed(self, cast: Cast) -> None:
        m, _ = await cast.member(every(2, since=180, until=30))
        a = await cast.scan_one(m)
        assert a.level == "lapsed"
        assert a.reasons[0] == "no visit for 30 days; usually every 2 days"
        assert "visits down 100% against the previous 8 weeks" in a.reasons

    async def test_a_drop_against_the_previous_eight_weeks_is_at_risk(self, cast: Cast) -> None:
        # Every other day for five months, then once a week; came yesterday.
        m, _ = await cast.member(every(2, since=180, until=28) + every(7, since=22))
        a = await cast.scan_one(m)
        assert a.level == "at_risk"
        assert a.reasons == ["visits down 71% against the previous 8 weeks"]
        assert (a.visits_last_4_weeks, a.visits_previous_8_weeks) == (4, 28)

    async def test_one_visit_in_the_first_three_weeks_is_at_risk(self, cast: Cast) -> None:
        m, _ = await cast.member([28], joined=30)
        a = await cast.scan_one(m)
        assert a.level == "at_risk"
        assert "1 visit in the first 3 weeks" in a.reasons
        assert a.visits_first_3_weeks == 1
        assert a.tenure_days == 30

    async def test_term_end_without_renewal_alone_is_watch(self, cast: Cast) -> None:
        m, _ = await cast.member(every(2, since=180), ends_in=12)
        a = await cast.scan_one(m)
        assert a.level == "watch"
        assert a.reasons == ["term ends in 12 days, no renewal booked"]
        assert a.days_to_end == 12

    async def test_almost_no_visit_in_eight_weeks_is_a_sleeper(self, cast: Cast) -> None:
        m, _ = await cast.member(every(3, since=180, until=100) + [30])
        a = await cast.scan_one(m)
        assert (a.level, a.segment) == ("lapsed", "sleeper")
        assert a.reasons[0] == "1 visit in the last 8 weeks"
        assert a.score <= 50

    async def test_frozen_days_are_not_missed_days(self, cast: Cast) -> None:
        m, live = await cast.member(every(2, since=180, until=24))
        await make_freeze(cast.db, live, start_date=days_ago(23), end_date=days_ago(3))
        a = await cast.scan_one(m)
        assert a.gap_days == 24 - 21
        assert (a.level, a.suppressed) == ("ok", None)

    async def test_visits_after_the_scan_instant_do_not_count(self, cast: Cast) -> None:
        m, _ = await cast.member(every(2, since=180, until=10))
        await add_visits(cast.db, m, [0], at=time(18))  # later today than the 05:00 scan
        a = await cast.scan_one(m)
        assert a.gap_days == 10


class TestSuppression:
    async def test_frozen_now_is_scored_but_suppressed(self, cast: Cast) -> None:
        m, live = await cast.member(every(2, since=180, until=12))
        await make_freeze(cast.db, live, start_date=days_ago(11), end_date=TODAY + timedelta(9))
        a = await cast.scan_one(m)
        assert (a.level, a.suppressed) == ("ok", "frozen")

    async def test_the_first_fourteen_days_belong_to_onboarding(self, cast: Cast) -> None:
        m, _ = await cast.member([], joined=13)
        a = await cast.scan_one(m)
        assert (a.level, a.suppressed) == ("at_risk", "new_member")
        assert a.reasons[0] == "no visit since joining 13 days ago; usually every 5 days"

    async def test_an_already_renewed_membership_is_suppressed(self, cast: Cast) -> None:
        m, live = await cast.member(every(2, since=180, until=12), ends_in=20)
        assert cast.plan is not None
        await make_membership(
            cast.db,
            m,
            cast.plan,
            start_date=live.end_date + timedelta(days=1),
            renews_id=live.id,
            source="renewal",
        )
        a = await cast.scan_one(m)
        assert (a.level, a.suppressed) == ("at_risk", "renewed")
        assert not any("term ends" in r for r in a.reasons)

    async def test_an_upcoming_renewal_meeting_is_suppressed(self, cast: Cast) -> None:
        m, _ = await cast.member(every(2, since=180, until=12), ends_in=12)
        await make_meeting(cast.db, m, starts_at=AS_OF + timedelta(days=2))
        a = await cast.scan_one(m)
        assert (a.level, a.suppressed) == ("at_risk", "renewal_booked")
        assert not any("term ends" in r for r in a.reasons)

    async def test_only_an_open_renewal_meeting_ahead_counts_as_booked(self, cast: Cast) -> None:
        m, _ = await cast.member(every(2, since=180), ends_in=12)
        await make_meeting(cast.db, m, starts_at=AS_OF - timedelta(hours=1))  # stale
        await make_meeting(cast.db, m, starts_at=AS_OF + timedelta(days=1), status="cancelled")
        await make_meeting(cast.db, m, starts_at=AS_OF + timedelta(days=3), purpose="feedback")
        a = await cast.scan_one(m)
        assert (a.level, a.suppressed) == ("watch", None)
        assert a.reasons == ["term ends in 12 days, no renewal booked"]

    async def test_do_not_contact_is_suppressed(self, cast: Cast) -> None:
        m, _ = await cast.member(every(2, since=180, until=12), do_not_contact=True)
        a = await cast.scan_one(m)
        assert (a.level, a.suppressed) == ("at_risk", "do_not_contact")

    async def test_members_without_a_live_membership_are_not_assessed(self, cast: Cast) -> None:
        m, _ = await cast.member(every(2, since=180), ends_in=-1)
        counts = await cast.scan()
        assert counts.members == 0
        async with cast.db.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(RiskAssessment)) == 0
        del m


class TestFeatures:
    async def test_sql_features_equal_a_plain_python_recount(self, db: Database) -> None:
        """Generated histories in a DST zone (the window crosses the spring change)."""
        today, tz = date(2026, 4, 14), "Europe/Berlin"
        members = generate(70, seed=3, today=today, tz=tz)
        club_id, by_id = await load(db, members, tz=tz)
        as_of = local_to_utc(tz, today, time(5))
        window = scan_window(club_id, tz, today, as_of)
        seen = 0
        async with db.sessionmaker() as s:
            async for chunk in stream_features(s, window):
                for row in chunk:
                    m = by_id[row.member_id]
                    got = features_from_row(row, tz, today)
                    assert got == reference_features(m, today=today, tz=tz, as_of=as_of), m.kind
                    seen += 1
        assert seen == len(members)

    async def test_local_midnight_decides_the_day(self, cast: Cast) -> None:
        # 00:30 Moscow time is still the previous evening in UTC.
        m, _ = await cast.member([])
        await add_visits(cast.db, m, [5], at=time(0, 30))
        a = await cast.scan_one(m)
        assert a.gap_days == 5


class TestIdempotence:
    async def test_scanning_the_same_day_twice_changes_nothing(self, cast: Cast) -> None:
        m1, _ = await cast.member(every(2, since=180, until=9))
        m2, _ = await cast.member(every(3, since=180))
        await cast.scan()
        first = await _snapshot(cast.db)
        await cast.scan()
        assert await _snapshot(cast.db) == first
        assert len(first) == 2
        del m1, m2

    async def test_each_scan_day_keeps_its_own_row(self, cast: Cast) -> None:
        m, _ = await cast.member(every(2, since=180, until=9))
        await cast.scan()
        await cast.scan(AS_OF + timedelta(days=1))
        async with cast.db.sessionmaker() as s:
            days = (
                await s.scalars(
                    select(RiskAssessment.scan_date)
                    .where(RiskAssessment.member_id == m.id)
                    .order_by(RiskAssessment.scan_date)
                )
            ).all()
        assert days == [TODAY, TODAY + timedelta(days=1)]


class TestEvents:
    async def test_member_at_risk_is_emitted_once_per_rise(self, cast: Cast) -> None:
        m, _ = await cast.member(every(2, since=180, until=3))
        await cast.scan(AS_OF - timedelta(days=4))  # came yesterday then: ok
        assert await _at_risk_events(cast.db) == []
        await cast.scan()  # 3 days later, nothing since: still ok
        await cast.scan(AS_OF + timedelta(days=7))  # 10 days: at risk
        events = await _at_risk_events(cast.db)
        assert [e["level"] for e in events] == ["at_risk"]
        assert events[0]["member_id"] == str(m.id)
        assert events[0]["reasons"][0].startswith("no visit for 10 days")
        await cast.scan(AS_OF + timedelta(days=7))  # the same day again
        await cast.scan(AS_OF + timedelta(days=8))  # still at risk
        assert len(await _at_risk_events(cast.db)) == 1
        await cast.scan(AS_OF + timedelta(days=40))  # a further rise to lapsed
        assert [e["level"] for e in await _at_risk_events(cast.db)] == ["at_risk", "lapsed"]

    async def test_no_event_while_suppressed(self, cast: Cast) -> None:
        await cast.member(every(2, since=180, until=12), do_not_contact=True)
        await cast.scan()
        assert await _at_risk_events(cast.db) == []


class TestSetBased:
    async def test_a_scan_is_one_read_and_one_write_per_thousand_members(
        self, cast: Cast, db: Database, dialect: str
    ) -> None:
        for _ in range(3):
            await cast.member(every(3, since=180))
        statements = await _count_statements(db, cast)
        # The clubs lookup, 1 feature query, 1 upsert (an executemany per 1,000 rows) —
        # for 3 members as for 1,000. PostgreSQL adds `SET LOCAL jit = off`.
        assert statements == 1 + 1 + 1 + (dialect == "postgresql")
        assert UPSERT_ROWS >= 1000

    async def test_each_window_counts_its_local_days(self, cast: Cast) -> None:
        m, _ = await cast.member(every(1, since=181))
        a = await cast.scan_one(m)
        async with cast.db.sessionmaker() as s:
            total = await s.scalar(select(func.count()).select_from(Checkin))
        assert total == 181
        assert a.visits_last_4_weeks == 27  # days 1-27 ago; today's visit is yet to come
        assert a.visits_previous_8_weeks == 56


async def _snapshot(db: Database) -> list[tuple[object, ...]]:
    async with db.sessionmaker() as s:
        rows = (await s.scalars(select(RiskAssessment).order_by(RiskAssessment.member_id))).all()
    return [
        (r.member_id, r.scan_date, r.score, r.level, r.reasons, r.suppressed, r.notified)
        for r in rows
    ]


async def _at_risk_events(db: Database) -> list[dict[str, object]]:
    async with db.sessionmaker() as s:
        rows = (
            await s.scalars(select(Event).where(Event.type == "member.at_risk").order_by(Event.id))
        ).all()
    return [dict(r.data) for r in rows]


async def _count_statements(db: Database, cast: Cast) -> int:
    count = 0

    def on_execute(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        nonlocal count
        # The test database wraps every unit of work in a SAVEPOINT; those are not
        # the scan's.
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            count += 1

    sync_engine = db.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", on_execute)
    try:
        await run_scan(db, AS_OF, club_id=cast.club_id)
    finally:
        event.remove(sync_engine, "before_cursor_execute", on_execute)
    return count


class TestWindow:
    def test_day_boundaries_follow_the_clubs_clock_changes(self) -> None:
        club = uuid.uuid4()
        # Berlin springs forward on 2026-03-29: that local day is 23 hours long.
        w = scan_window(club, "Europe/Berlin", date(2026, 3, 29), datetime(2026, 4, 1, tzinfo=UTC))
        assert w.cutoff == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # end of the local day
        assert w.recent_start_at == datetime(2026, 3, 1, 23, 0, tzinfo=UTC)  # still CET
        first_day, starts, ends = w.early_bounds[0]
        assert first_day == date(2026, 3, 29)
        assert starts == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
        assert ends == datetime(2026, 4, 18, 22, 0, tzinfo=UTC)  # CEST by then

    def test_the_scan_instant_caps_the_day(self) -> None:
        w = scan_window(uuid.uuid4(), "Europe/Moscow", TODAY, AS_OF)
        assert w.cutoff == AS_OF
        assert len(w.early_bounds) == 91
