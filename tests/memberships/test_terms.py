"""The end-date rule, as pure arithmetic on calendar dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.memberships.terms import (
    MAX_DURATION_MONTHS,
    anniversary,
    base_end_date,
    effective_end_date,
    inclusive_days,
)


class TestMonthlyTerms:
    @pytest.mark.parametrize(
        ("start", "months", "end"),
        [
            (date(2026, 1, 15), 1, date(2026, 2, 14)),
            (date(2026, 3, 1), 1, date(2026, 3, 31)),
            (date(2026, 3, 10), 12, date(2027, 3, 9)),
        ],
    )
    def test_ends_the_day_before_the_anniversary(self, start: date, months: int, end: date) -> None:
        assert base_end_date(start, months=months, days=None) == end

    def test_31_january_plus_one_month_ends_on_28_february(self) -> None:
        assert base_end_date(date(2026, 1, 31), months=1, days=None) == date(2026, 2, 28)

    def test_31_january_plus_one_month_ends_on_29_february_in_a_leap_year(self) -> None:
        assert base_end_date(date(2028, 1, 31), months=1, days=None) == date(2028, 2, 29)

    def test_30_january_in_a_common_year_ends_on_28_february(self) -> None:
        assert base_end_date(date(2026, 1, 30), months=1, days=None) == date(2026, 2, 28)

    def test_29_february_plus_one_month_ends_on_28_march(self) -> None:
        assert base_end_date(date(2028, 2, 29), months=1, days=None) == date(2028, 3, 28)

    def test_29_february_plus_12_months_ends_on_28_february_of_a_common_year(self) -> None:
        # No 29 Feb 2029: the anniversary is 1 March, the term ends the day before.
        assert base_end_date(date(2028, 2, 29), months=12, days=None) == date(2029, 2, 28)

    def test_29_february_plus_48_months_ends_on_28_february_of_the_next_leap_year(self) -> None:
        # 29 Feb 2028 exists: the anniversary is that day, the term ends the day before.
        assert base_end_date(date(2024, 2, 29), months=48, days=None) == date(2028, 2, 28)

    def test_31_october_plus_one_month_ends_on_30_november(self) -> None:
        assert base_end_date(date(2026, 10, 31), months=1, days=None) == date(2026, 11, 30)

    def test_a_missing_day_makes_the_anniversary_the_first_of_the_next_month(self) -> None:
        assert anniversary(date(2026, 1, 31), 1) == date(2026, 3, 1)
        assert anniversary(date(2026, 3, 31), 1) == date(2026, 5, 1)

    def test_31_december_plus_two_months_ends_on_the_last_day_of_february(self) -> None:
        assert base_end_date(date(2026, 12, 31), months=2, days=None) == date(2027, 2, 28)
        assert base_end_date(date(2027, 12, 31), months=2, days=None) == date(2028, 2, 29)


class TestDailyTerms:
    def test_n_days_end_on_start_plus_n_minus_one(self) -> None:
        assert base_end_date(date(2026, 3, 1), months=None, days=30) == date(2026, 3, 30)

    def test_one_day_pass_ends_the_same_day(self) -> None:
        assert base_end_date(date(2026, 3, 1), months=None, days=1) == date(2026, 3, 1)

    def test_days_cross_a_leap_day(self) -> None:
        assert base_end_date(date(2028, 2, 28), months=None, days=2) == date(2028, 2, 29)


class TestDurationArguments:
    @pytest.mark.parametrize(("months", "days"), [(None, None), (1, 30)])
    def test_exactly_one_duration_is_required(self, months: int | None, days: int | None) -> None:
        with pytest.raises(ValueError, match="exactly one"):
            base_end_date(date(2026, 1, 1), months=months, days=days)

    @pytest.mark.parametrize(("months", "days"), [(0, None), (None, 0), (-1, None), (None, -5)])
    def test_duration_must_be_positive(self, months: int | None, days: int | None) -> None:
        with pytest.raises(ValueError, match="out of range"):
            base_end_date(date(2026, 1, 1), months=months, days=days)


def test_freezes_and_bonus_days_move_the_end() -> None:
    assert effective_end_date(date(2026, 12, 31), frozen_days=14, bonus_days=3) == date(2027, 1, 17)


def test_inclusive_days_count_both_ends() -> None:
    assert inclusive_days(date(2026, 3, 10), date(2026, 3, 10)) == 1
    assert inclusive_days(date(2026, 3, 10), date(2026, 3, 23)) == 14


starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
month_counts = st.integers(min_value=1, max_value=MAX_DURATION_MONTHS)


@given(start=starts, months=month_counts)
def test_monthly_terms_tile_the_calendar(start: date, months: int) -> None:
    """The next term starts the day after this one ends: no gap, no overlap."""
    end = base_end_date(start, months=months, days=None)
    assert end + timedelta(days=1) == anniversary(start, months)
    assert end >= start


@given(start=starts, months=month_counts)
def test_a_term_of_n_months_lasts_between_28n_and_31n_days(start: date, months: int) -> None:
    days = inclusive_days(start, base_end_date(start, months=months, days=None))
    assert 28 * months <= days <= 31 * months + 1


@given(start=starts, months=st.integers(min_value=1, max_value=MAX_DURATION_MONTHS - 1))
def test_a_longer_plan_never_ends_earlier(start: date, months: int) -> None:
    assert base_end_date(start, months=months + 1, days=None) > base_end_date(
        start, months=months, days=None
    )


@given(start=starts, months=month_counts)
def test_anniversary_keeps_the_day_or_falls_on_the_first(start: date, months: int) -> None:
    day = anniversary(start, months)
    assert day.day == start.day or (day.day == 1 and start.day > 28)
