"""Club-local calendar helpers on zoneinfo (DST-correct)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_valid_timezone(name: str) -> bool:
    if name in _known_zones():
        return True
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return "/" in name or name == "UTC"


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def local_now(tz: str, as_of: datetime) -> datetime:
    return as_of.astimezone(zone(tz))


def local_date(tz: str, as_of: datetime) -> date:
    """The club's calendar date at instant `as_of`."""
    return as_of.astimezone(zone(tz)).date()


def local_midnight_utc(tz: str, day: date) -> datetime:
    """The UTC instant at which `day` starts in `tz` (handles DST gaps)."""
    return local_to_utc(tz, day, time(0, 0))


def local_to_utc(tz: str, day: date, at: time) -> datetime:
    """Combine a club-local date and wall-clock time into a UTC instant.

    A wall time inside a spring-forward gap is moved forward by the gap (02:30 on a
    day that skips 02:00-03:00 becomes 03:30), the usual reading of "02:30" that day;
    an ambiguous fall-back time takes its first occurrence (fold=0).
    """
    z = zone(tz)
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=z)
    # Round-trip detects non-existent times: they do not survive UTC and back.
    back = aware.astimezone(UTC).astimezone(z)
    if back.replace(tzinfo=None) != naive:
        aware = (naive + timedelta(hours=1)).replace(tzinfo=z)
    return aware.astimezone(UTC)


def local_day_bounds_utc(tz: str, day: date) -> tuple[datetime, datetime]:
    """[start, end) of a club-local day as UTC instants (23 or 25 hours on DST days)."""
    return local_midnight_utc(tz, day), local_midnight_utc(tz, day + timedelta(days=1))
