"""Working windows: own hours, exceptions, opening hours, and DST days (pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from app.working_hours.availability import Window, to_windows, working_windows

OPEN_ALL_DAY = {str(d): ["00:00", "23:59"] for d in range(1, 8)}
NY = "America/New_York"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class TestWorkingWindows:
    def test_without_a_pattern_the_opening_hours_apply(self) -> None:
        got = working_windows(
            "UTC",
            date(2027, 1, 4),
            weekly=None,
            exception=None,
            opening_hours={"1": ["07:00", "22:00"]},
        )
        assert got == [Window(utc(2027, 1, 4, 7), utc(2027, 1, 4, 22))]

    def test_own_hours_are_cut_to_opening_hours(self) -> None:
        got = working_windows(
            "UTC",
            date(2027, 1, 4),
            weekly={"1": [["06:00", "09:00"], ["20:00", "23:00"]]},
            exception=None,
            opening_hours={"1": ["07:00", "22:00"]},
        )
        assert got == [
            Window(utc(2027, 1, 4, 7), utc(2027, 1, 4, 9)),
            Window(utc(2027, 1, 4, 20), utc(2027, 1, 4, 22)),
        ]

    def test_a_weekday_missing_from_the_pattern_is_off(self) -> None:
        got = working_windows(
            "UTC",
            date(2027, 1, 5),
            weekly={"1": [["09:00", "17:00"]]},
            exception=None,
            opening_hours=OPEN_ALL_DAY,
        )
        assert got == []

    def test_an_exception_replaces_the_day(self) -> None:
        kwargs = {"weekly": {"1": [["09:00", "17:00"]]}, "opening_hours": OPEN_ALL_DAY}
        assert working_windows("UTC", date(2027, 1, 4), exception=[], **kwargs) == []
        assert working_windows(
            "UTC", date(2027, 1, 4), exception=[["12:00", "13:00"]], **kwargs
        ) == [Window(utc(2027, 1, 4, 12), utc(2027, 1, 4, 13))]

    def test_a_closed_club_has_no_windows(self) -> None:
        got = working_windows(
            "UTC",
            date(2027, 1, 10),  # a Sunday; the club lists weekdays only
            weekly={"7": [["09:00", "17:00"]]},
            exception=None,
            opening_hours={str(d): ["07:00", "22:00"] for d in range(1, 6)},
        )
        assert got == []


class TestDaylightSaving:
    def test_spring_forward_window_is_an_hour_shorter(self) -> None:
        # 2027-03-14: New York skips 02:00-03:00; 01:00-04:00 on the wall is two hours.
        [w] = to_windows(NY, date(2027, 3, 14), [(_t("01:00"), _t("04:00"))])
        assert (w.start, w.end) == (utc(2027, 3, 14, 6), utc(2027, 3, 14, 8))

    def test_fall_back_window_is_an_hour_longer(self) -> None:
        # 2027-11-07: 01:00-02:00 happens twice; 01:00-03:00 on the wall is three hours.
        [w] = to_windows(NY, date(2027, 11, 7), [(_t("01:00"), _t("03:00"))])
        assert (w.start, w.end) == (utc(2027, 11, 7, 5), utc(2027, 11, 7, 8))

    def test_wall_times_in_the_gap_move_forward_with_it(self) -> None:
        # 02:00-02:30 does not exist that day; read as usual, it is 03:00-03:30 EDT.
        [w] = to_windows(NY, date(2027, 3, 14), [(_t("02:00"), _t("02:30"))])
        assert (w.start, w.end) == (utc(2027, 3, 14, 7), utc(2027, 3, 14, 7, 30))

    def test_a_span_that_ends_where_the_gap_ends_vanishes(self) -> None:
        # 02:30 reads as 03:30 EDT, after 03:00: nothing is left of 02:30-03:00.
        assert to_windows(NY, date(2027, 3, 14), [(_t("02:30"), _t("03:00"))]) == []


def _t(hhmm: str) -> time:
    return time.fromisoformat(hhmm)
