"""The calendar constructs give the same answers as Python on both dialects, across
daylight-saving changes and at the exact boundaries of local days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Date, literal, select

from app.analytics.sql import (
    LocalDays,
    day_month,
    day_number,
    day_of,
    utc_offsets,
    year_month,
)
from app.core.timezones import local_date, local_midnight_utc
from app.core.types import UTCDateTime
from app.db import Database

SPAN = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def instants(tz: str) -> list[datetime]:
    """Local midnights (and a microsecond either side) around both 2026 clock changes,
    and the changes themselves."""
    out = []
    for day in (date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30), date(2026, 10, 25),
                date(2026, 10, 26), date(2026, 1, 1)):  # fmt: skip
        midnight = local_midnight_utc(tz, day)
        out += [midnight - timedelta(microseconds=1), midnight, midnight + timedelta(hours=23)]
    out += [datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 10, 25, 1, 0, tzinfo=UTC)]
    return out


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Europe/Moscow", "UTC"])
async def test_local_day_matches_zoneinfo(db: Database, tz: str) -> None:
    days = LocalDays(tz, *SPAN)
    async with db.sessionmaker() as s:
        for at in instants(tz):
            got = await s.scalar(select(days.of(literal(at, UTCDateTime()))))
            assert got == day_of(local_date(tz, at)), (tz, at)


def test_offsets_change_at_the_transitions() -> None:
    pieces = utc_offsets(
        "Europe/Berlin", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert pieces == [
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 3600),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 7200),
        (None, 3600),
    ]


def test_a_zone_without_changes_is_one_piece() -> None:
    assert utc_offsets("Europe/Moscow", *SPAN) == [(None, 10800)]


async def test_day_number_and_year_month(db: Database) -> None:
    async with db.sessionmaker() as s:
        for d in (date(1970, 1, 1), date(2024, 2, 29), date(2026, 12, 31)):
            value = literal(d, Date())
            assert await s.scalar(select(day_number(value))) == day_of(d)
            assert await s.scalar(select(year_month(value))) == d.strftime("%Y-%m")


async def test_day_month_is_the_month_of_a_day_number(db: Database) -> None:
    async with db.sessionmaker() as s:
        for d in (date(1970, 1, 1), date(2024, 2, 29), date(2026, 3, 31), date(2026, 12, 31)):
            assert await s.scalar(select(day_month(literal(day_of(d))))) == d.strftime("%Y-%m")
