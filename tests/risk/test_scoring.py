"""The lapse score as pure arithmetic: calibration, each signal, suppression, reasons."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.risk.scoring import (
    AT_RISK_SCORE,
    DEFAULT_RATE_PER_WEEK,
    SLEEPER_SCORE_CAP,
    WATCH_SCORE,
    ClubPrior,
    Level,
    MemberFeatures,
    Segment,
    Suppression,
    assess,
    club_prior,
    poisson_log_cdf,
    score_from_evidence,
    shrunk_rate_per_day,
    usual_interval_phrase,
)

TODAY = date(2026, 3, 10)
PRIOR = ClubPrior(median_per_week=1.5, members=500)


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def habit(per_week: float, *, gap: int, tenure: int = 400, **overrides: Any) -> MemberFeatures:
    """A member who came `per_week` times a week, evenly, and then not for `gap` days."""
    first = max(days_ago(181), days_ago(tenure))

    def visits(lo: date, hi: date) -> int:
        hi = min(hi, days_ago(gap))
        lo = max(lo, first)
        return max(0, round(per_week * ((hi - lo).days + 1) / 7))

    values: dict[str, Any] = {
        "today": TODAY,
        "tenure_start": days_ago(tenure),
        "end_date": TODAY + timedelta(days=200),
        "last_visit": days_ago(gap),
        "visits_window": visits(days_ago(181), TODAY),
        "visits_recent": visits(days_ago(27), TODAY),
        "visits_baseline": visits(days_ago(83), days_ago(28)),
        "visits_8_weeks": visits(days_ago(55), TODAY),
        "visits_early": None,
    }
    values.update(overrides)
    return MemberFeatures(**values)


class TestCalibration:
    def test_a_gap_that_happens_five_percent_of_the_time_is_the_at_risk_line(self) -> None:
        assert score_from_evidence(-math.log(0.05)) == AT_RISK_SCORE

    @pytest.mark.parametrize(("per_week", "days"), [(1.5, 14), (1.0, 21), (3.0, 7)])
    def test_the_five_percent_gap_is_two_weeks_at_one_and_a_half_and_three_at_one(
        self, per_week: float, days: int
    ) -> None:
        assert math.exp(-per_week * days / 7) == pytest.approx(0.05, abs=0.005)
        prior = ClubPrior(per_week, 500)
        before = assess(habit(per_week, gap=days - 3, visits_recent=99), prior)
        at = assess(habit(per_week, gap=days, visits_recent=99), prior)
        assert before.level is Level.WATCH
        assert at.level is Level.AT_RISK

    def test_the_same_gap_means_different_things_for_different_habits(self) -> None:
        every_other_day = assess(habit(3.5, gap=10), ClubPrior(3.5, 500))
        fortnightly = assess(habit(0.5, gap=10), ClubPrior(0.5, 500))
        assert every_other_day.level is Level.AT_RISK
        assert fortnightly.level is Level.OK

    def test_watch_starts_at_a_gap_seen_a_fifth_of_the_time(self) -> None:
        assert score_from_evidence(-math.log(0.19)) == WATCH_SCORE

    @given(st.integers(min_value=0, max_value=150), st.floats(min_value=0.3, max_value=6))
    def test_a_longer_gap_never_lowers_the_score(self, gap: int, per_week: float) -> None:
        prior = ClubPrior(per_week, 500)
        a = habit(per_week, gap=gap, visits_8_weeks=9)
        b = replace(a, last_visit=days_ago(gap + 1))  # same visits, one more silent day
        assert assess(b, prior).score >= assess(a, prior).score


class TestUsualRate:
    def test_a_short_history_is_shrunk_towards_the_club_median(self) -> None:
        # Two visits in three days says little: the club's 1.5/week dominates.
        rate = 7 * shrunk_rate_per_day(2, 3, PRIOR)
        assert 1.5 < rate < 2.2

    def test_a_long_history_speaks_for_itself(self) -> None:
        rate = 7 * shrunk_rate_per_day(100, 175, PRIOR)  # 4 a week for 25 weeks
        assert 3.6 < rate < 4.0

    def test_club_median_needs_enough_members(self) -> None:
        assert club_prior([2.0] * 5).median_per_week == DEFAULT_RATE_PER_WEEK
        prior = club_prior([1.0] * 15 + [3.0] * 16 + [None] * 40)
        assert (prior.median_per_week, prior.members) == (3.0, 31)

    def test_poisson_cdf(self) -> None:
        direct = sum(math.exp(-6) * 6**i / math.factorial(i) for i in range(3))
        assert math.exp(poisson_log_cdf(2, 6.0)) == pytest.approx(direct)
        assert poisson_log_cdf(3, 0.0) == 0.0
        assert poisson_log_cdf(5, 2000.0) < -1500  # no underflow to -inf or error


class TestSignals:
    def test_gap_reason_says_how_long_and_what_is_usual(self) -> None:
        a = assess(habit(2.3, gap=18), ClubPrior(2.3, 500))
        assert a.level is Level.AT_RISK
        assert a.reasons[0] == "no visit for 18 days; usually every 3 days"

    def test_a_drop_against_the_previous_eight_weeks(self) -> None:
        # Three a week for eight weeks, then 1 visit a week; came yesterday.
        f = habit(3.0, gap=1, visits_recent=4, visits_baseline=24, visits_8_weeks=16)
        a = assess(f, ClubPrior(3.0, 500))
        assert a.level is Level.AT_RISK
        assert a.reasons == ["visits down 67% against the previous 8 weeks"]

    def test_a_drop_against_a_shorter_tenure_says_so(self) -> None:
        f = habit(3.0, gap=1, tenure=55, visits_recent=3, visits_baseline=12, visits_8_weeks=15)
        a = assess(f, ClubPrior(3.0, 500))
        assert "visits down 75% against the previous 4 weeks" in a.reasons

    def test_few_visits_in_the_first_three_weeks(self) -> None:
        f = habit(
            2.0,
            gap=20,
            tenure=30,
            visits_window=1,
            visits_recent=1,
            visits_baseline=0,
            visits_8_weeks=1,
            visits_early=1,
        )
        a = assess(f, ClubPrior(2.0, 500))
        assert a.level is Level.AT_RISK
        assert "1 visit in the first 3 weeks" in a.reasons

    def test_a_slow_start_that_caught_up_is_not_flagged(self) -> None:
        f = habit(
            3.0,
            gap=1,
            tenure=50,
            visits_window=13,
            visits_recent=12,
            visits_baseline=1,
            visits_8_weeks=13,
            visits_early=1,
        )
        a = assess(f, ClubPrior(2.0, 500))
        assert a.level is Level.OK
        assert not any("first 3 weeks" in r for r in a.reasons)

    def test_term_ending_without_renewal_alone_is_watch(self) -> None:
        f = habit(2.0, gap=1, end_date=TODAY + timedelta(days=12))
        a = assess(f, ClubPrior(2.0, 500))
        assert a.level is Level.WATCH
        assert a.reasons == ["term ends in 12 days, no renewal booked"]

    def test_term_ending_adds_to_slipping_attendance(self) -> None:
        slipping = habit(1.5, gap=11)
        alone = assess(slipping, PRIOR)
        ending = assess(replace(slipping, end_date=TODAY + timedelta(days=12)), PRIOR)
        assert alone.level is Level.WATCH
        assert ending.level is Level.AT_RISK
        assert ending.reasons[-1] == "term ends in 12 days, no renewal booked"

    @pytest.mark.parametrize(("days", "text"), [(0, "today"), (1, "tomorrow"), (25, "in 25 days")])
    def test_term_reason_wording(self, days: int, text: str) -> None:
        a = assess(habit(2.0, gap=1, end_date=TODAY + timedelta(days=days)), PRIOR)
        assert a.reasons[-1] == f"term ends {text}, no renewal booked"

    def test_a_very_long_gap_is_lapsed(self) -> None:
        a = assess(habit(2.0, gap=30, visits_8_weeks=7), ClubPrior(2.0, 500))
        assert a.level is Level.LAPSED
        assert a.segment is Segment.ACTIVE

    def test_frozen_days_do_not_count_as_missed(self) -> None:
        f = habit(2.0, gap=30, visits_8_weeks=7, frozen=((days_ago(29), days_ago(3)),))
        a = assess(f, ClubPrior(2.0, 500))
        assert a.gap_days == 3
        assert a.level is Level.OK
        assert not a.reasons

    def test_no_visit_since_joining(self) -> None:
        f = habit(
            2.0,
            gap=0,
            tenure=20,
            last_visit=None,
            visits_window=0,
            visits_recent=0,
            visits_baseline=0,
            visits_8_weeks=0,
            visits_early=0,
        )
        a = assess(f, ClubPrior(2.0, 500))
        assert a.level is Level.AT_RISK
        assert a.reasons[0] == "no visit since joining 20 days ago; usually every 4 days"


class TestSleepers:
    def test_almost_never_came_in_eight_weeks_is_a_sleeper(self) -> None:
        f = habit(1.0, gap=40, visits_8_weeks=1, visits_recent=0)
        a = assess(f, ClubPrior(2.0, 500))
        assert (a.level, a.segment) == (Level.LAPSED, Segment.SLEEPER)
        assert a.reasons[0] == "1 visit in the last 8 weeks"
        assert a.score <= SLEEPER_SCORE_CAP

    def test_sleepers_rank_below_everyone_at_risk_now(self) -> None:
        sleeper = assess(habit(3.0, gap=70, visits_8_weeks=0), ClubPrior(3.0, 500))
        fresh = assess(habit(3.0, gap=9), ClubPrior(3.0, 500))
        assert fresh.level is Level.AT_RISK
        assert sleeper.score < AT_RISK_SCORE <= fresh.score

    def test_eight_weeks_are_needed_to_call_anyone_a_sleeper(self) -> None:
        f = habit(1.0, gap=40, tenure=50, visits_8_weeks=1)
        assert assess(f, PRIOR).segment is Segment.ACTIVE


class TestSuppression:
    @pytest.mark.parametrize(
        ("overrides", "expected"),
        [
            ({"frozen_now": True, "frozen": ((days_ago(3), TODAY + timedelta(days=9)),)}, "frozen"),
            ({"tenure": 13}, "new_member"),
            ({"renewed": True}, "renewed"),
            ({"renewal_booked": True}, "renewal_booked"),
            ({"do_not_contact": True}, "do_not_contact"),
            ({}, None),
        ],
    )
    def test_each_suppression_is_named(self, overrides: dict[str, Any], expected: str) -> None:
        tenure = overrides.pop("tenure", 400)
        a = assess(habit(2.0, gap=25, tenure=tenure, **overrides), PRIOR)
        assert a.suppressed == (Suppression(expected) if expected else None)
        assert a.level in (Level.AT_RISK, Level.LAPSED) or expected in ("frozen", "new_member")

    def test_do_not_contact_wins_over_everything(self) -> None:
        f = habit(2.0, gap=25, do_not_contact=True, frozen_now=True, renewed=True)
        assert assess(f, PRIOR).suppressed is Suppression.DO_NOT_CONTACT

    def test_fourteenth_day_leaves_onboarding(self) -> None:
        assert assess(habit(2.0, gap=1, tenure=14), PRIOR).suppressed is None

    def test_renewal_silences_the_term_reason(self) -> None:
        f = habit(2.0, gap=1, end_date=TODAY + timedelta(days=5), renewal_booked=True)
        a = assess(f, PRIOR)
        assert a.reasons == []
        assert a.level is Level.OK


@pytest.mark.parametrize(
    ("per_week", "text"),
    [
        (6.0, "usually almost every day"),
        (2.3, "usually every 3 days"),
        (1.0, "usually once a week"),
        (0.5, "usually every 2 weeks"),
        (0.25, "usually every 4 weeks"),
        (0.05, "usually rarely"),
    ],
)
def test_usual_interval_wording(per_week: float, text: str) -> None:
    assert usual_interval_phrase(per_week) == text
