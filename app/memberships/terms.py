"""Term arithmetic: where a membership ends. Pure functions on club-local calendar dates.

The end-date rule (the one the OpenAPI description quotes; end dates are inclusive):

- A plan of **N days** ends on `start + N - 1`: a 30-day card bought on 1 March is valid
  1-30 March.
- A plan of **N months** ends on the day before the N-month *anniversary* of the start.
  When the start day does not exist in the anniversary's month, the anniversary is the
  1st of the following month. So 15 Jan + 1 month ends on 14 Feb; 31 Jan + 1 month
  ends on the last day of February (28th, or 29th in a leap year); 29 Feb 2024 + 12
  months ends on 28 Feb 2025 (anniversary 1 Mar 2025); 29 Feb 2024 + 48 months ends on
  28 Feb 2028 (anniversary 29 Feb 2028 exists).
- The effective end moves with freezes and compensation:
  `end_date = base_end_date + frozen_days + bonus_days`.

Consecutive monthly terms therefore tile the calendar without gaps or overlaps: the
next term starts on the anniversary, which is `end + 1`.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

# Bounds that keep every date computation far from date.max and inside PostgreSQL's int4.
MAX_DURATION_MONTHS = 120
MAX_DURATION_DAYS = 3660
MAX_EXTRA_DAYS = 3660

TERM_RULE = (
    "End dates are inclusive club-local dates. A plan of N days ends on start + N - 1. "
    "A plan of N months ends the day before the N-month anniversary of the start; when "
    "the start day does not exist in that month the anniversary is the 1st of the next "
    "month, so 15 Jan + 1 month ends 14 Feb and 31 Jan + 1 month ends on the last day of "
    "February. Freezes and bonus days move the end: end_date = base_end_date + "
    "frozen_days + bonus_days."
)


def anniversary(start: date, months: int) -> date:
    """The same day `months` later; the 1st of the following month if that day is missing."""
    if months < 0:
        raise ValueError("months must not be negative")
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    if start.day <= last:
        return date(year, month, start.day)
    return date(year, month, last) + timedelta(days=1)


def base_end_date(start: date, *, months: int | None, days: int | None) -> date:
    """The last day (inclusive) of a term of exactly one of `months` or `days`."""
    if (months is None) == (days is None):
        raise ValueError("exactly one of months or days is required")
    if months is not None:
        if not 0 < months <= MAX_DURATION_MONTHS:
            raise ValueError("months out of range")
        return anniversary(start, months) - timedelta(days=1)
    assert days is not None
    if not 0 < days <= MAX_DURATION_DAYS:
        raise ValueError("days out of range")
    return start + timedelta(days=days - 1)


def effective_end_date(base_end: date, *, frozen_days: int, bonus_days: int) -> date:
    return base_end + timedelta(days=frozen_days + bonus_days)


def inclusive_days(start: date, end: date) -> int:
    return (end - start).days + 1
