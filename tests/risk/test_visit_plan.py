"""The visit plan agreed at onboarding feeds the scan: the last 2 weeks are compared with
it, and before a member has a history the plan is their baseline (both dialects)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from app.db import Database
from app.models import Member, VisitPlanSlot
from tests.risk.conftest import Cast, days_ago
from tests.risk.test_scan import _count_statements


async def plan(cast: Cast, member: Member, weekdays: list[int], *, saved_days_ago: int) -> None:
    """A visit plan on `weekdays` (two slots on the first day), saved that long ago."""
    at = datetime.combine(days_ago(saved_days_ago), time(12), UTC)
    slots = [(weekdays[0], time(7))] + [(d, time(19)) for d in weekdays]
    async with cast.db.session_scope() as s:
        s.add_all(
            VisitPlanSlot(
                club_id=member.club_id,
                member_id=member.id,
                weekday=day,
                time=t,
                activity="gym",
                created_at=at,
                updated_at=at,
            )
            for day, t in slots
        )


REASON = "planned 3 visits a week, made 1 in the last 2 weeks"


async def test_planned_three_a_week_and_made_one_in_two_weeks_is_at_risk(cast: Cast) -> None:
    # Every other day for six weeks, then one visit in the last two weeks.
    m, _ = await cast.member([*range(16, 60, 2), 5], joined=60)
    await plan(cast, m, [1, 3, 5], saved_days_ago=60)
    a = await cast.scan_one(m)
    assert REASON in a.reasons
    assert a.level == "at_risk"


async def test_half_the_planned_visits_is_a_shortfall(cast: Cast) -> None:
    m, _ = await cast.member([*range(16, 60, 2), 2, 6, 10], joined=60)
    await plan(cast, m, [1, 3, 5], saved_days_ago=60)
    a = await cast.scan_one(m)
    assert "planned 3 visits a week, made 3 in the last 2 weeks" in a.reasons


async def test_the_same_visits_without_a_plan_give_no_plan_reason(cast: Cast) -> None:
    m, _ = await cast.member([*range(16, 60, 2), 5], joined=60)
    a = await cast.scan_one(m)
    assert not any(r.startswith("planned") for r in a.reasons)


async def test_more_than_half_the_planned_visits_is_not_a_shortfall(cast: Cast) -> None:
    # 4 of the 6 planned visits.
    m, _ = await cast.member([*range(16, 60, 2), 2, 5, 8, 11], joined=60)
    await plan(cast, m, [1, 3, 5], saved_days_ago=60)
    a = await cast.scan_one(m)
    assert not any(r.startswith("planned") for r in a.reasons)


async def test_a_plan_older_than_thirteen_weeks_no_longer_judges(cast: Cast) -> None:
    m, _ = await cast.member([*range(16, 120, 2), 5], joined=120)
    await plan(cast, m, [1, 3, 5], saved_days_ago=91)
    a = await cast.scan_one(m)
    assert REASON not in a.reasons


async def test_a_plan_saved_inside_the_two_weeks_is_not_judged_yet(cast: Cast) -> None:
    m, _ = await cast.member([*range(16, 60, 2), 5], joined=60)
    await plan(cast, m, [1, 3, 5], saved_days_ago=10)
    a = await cast.scan_one(m)
    assert REASON not in a.reasons


async def test_frozen_days_are_not_planned_days(cast: Cast) -> None:
    from tests.fixtures.ledger import make_freeze

    m, live = await cast.member([*range(16, 60, 2), 5], joined=60)
    await plan(cast, m, [1, 3, 5], saved_days_ago=60)
    # Frozen 10 of the last 14 days: 4 days left, too few to judge against the plan.
    await make_freeze(cast.db, live, start_date=days_ago(13), end_date=days_ago(4))
    a = await cast.scan_one(m)
    assert not any(r.startswith("planned") for r in a.reasons)


async def test_a_new_member_is_judged_by_their_plan_before_they_have_a_history(
    cast: Cast,
) -> None:
    planned, _ = await cast.member([], joined=10)
    await plan(cast, planned, [1, 3, 5], saved_days_ago=10)
    unplanned, _ = await cast.member([], joined=10)
    await cast.scan()
    with_plan = await cast.assessment(planned)
    without = await cast.assessment(unplanned)
    # Three planned visits a week make 11 silent days a strong signal; the club's
    # default norm (1.5 a week) only a weak one.
    assert with_plan.reasons[0] == "no visit since joining 10 days ago; planned 3 visits a week"
    assert (with_plan.level, without.level) == ("at_risk", "watch")
    assert with_plan.score > without.score
    assert with_plan.usual_visits_per_week == 3.0
    # The first 14 days still belong to onboarding: scored, not called.
    assert with_plan.suppressed == without.suppressed == "new_member"


async def test_the_scan_stays_one_read_and_one_write_with_plans(
    cast: Cast, db: Database, dialect: str
) -> None:
    for n in range(3):
        m, _ = await cast.member(range(1, 60, 2), joined=60)  # keeping to the plan
        await plan(cast, m, [1, 3, 5][: n + 1], saved_days_ago=60)
    # The clubs lookup, 1 feature query, 1 upsert (no events: nobody is at risk);
    # PostgreSQL adds `SET LOCAL jit = off`.
    assert await _count_statements(db, cast) == 1 + 1 + 1 + (dialect == "postgresql")
