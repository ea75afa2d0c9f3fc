"""Club-local calendar helpers: DST gaps and folds, days of 23 and 25 hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from app.core.timezones import (
    is_valid_timezone,
    local_date,
    local_day_bounds_utc,
    local_to_utc,
)


def test_moscow_date_differs_from_utc_near_midnight() -> None:
    at = datetime(2026, 3, 9, 22, 30, tzinfo=UTC)  # 01:30 on the 10th in Moscow
    assert local_date("Europe/Moscow", at) == date(2026, 3, 10)
    assert local_date("UTC", at) == date(2026, 3, 9)


def test_spring_forward_gap_moves_forward() -> None:
    # 2026-03-08 02:30 does not exist in New York (02:00 -> 03:00).
    got = local_to_utc("America/New_York", date(2026, 3, 8), time(2, 30))
    assert got == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT


def test_fall_back_ambiguity_takes_first_occurrence() -> None:
    # 2026-11-01 01:30 happens twice in New York; the first is EDT (UTC-4).
    got = local_to_utc("America/New_York", date(2026, 11, 1), time(1, 30))
    assert got == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_dst_days_have_23_and_25_hours() -> None:
    start, end = local_day_bounds_utc("America/New_York", date(2026, 3, 8))
    assert (end - start).total_seconds() == 23 * 3600
    start, end = local_day_bounds_utc("America/New_York", date(2026, 11, 1))
    assert (end - start).total_seconds() == 25 * 3600
    start, end = local_day_bounds_utc("Europe/Moscow", date(2026, 3, 29))
    assert (end - start).total_seconds() == 24 * 3600  # Moscow has no DST


def test_timezone_validation() -> None:
    assert is_valid_timezone("Europe/Moscow")
    assert is_valid_timezone("UTC")
    assert not is_valid_timezone("Mars/Olympus")
    assert not is_valid_timezone("../../etc/passwd")
