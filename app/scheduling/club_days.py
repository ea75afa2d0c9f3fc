"""Work "about a club's day": once per club and local date, at a local wall-clock time.

Later jobs (lapse scan at 05:00, meeting reminders at 10:00, birthdays at 09:00) run on
a short interval and ask which clubs' local time has reached their hour today. This is
DST-correct (the hour is combined with the club's local date through zoneinfo) and
catches up after downtime; the `club_day_runs` table makes each (job, club, day) happen
once, even with several workers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from app.core.timezones import local_date, local_to_utc


@dataclass(frozen=True)
class ClubDay:
    club_id: uuid.UUID
    timezone: str
    local_date: date
    scheduled_at: datetime  # the UTC instant of `at` on that local date


def due_local_date(tz: str, at: time, as_of: datetime) -> tuple[date, datetime]:
    """The latest club-local date whose `at` has arrived by `as_of`, and that instant."""
    today = local_date(tz, as_of)
    scheduled = local_to_utc(tz, today, at)
    if scheduled <= as_of:
        return today, scheduled
    yesterday = today - timedelta(days=1)
    return yesterday, local_to_utc(tz, yesterday, at)


def due_club_days(
    clubs: list[tuple[uuid.UUID, str]], at: time, as_of: datetime, *, catch_up_days: int = 0
) -> list[ClubDay]:
    """For each (club_id, timezone): the due local day, plus up to `catch_up_days`
    earlier days (oldest first) for a job that must not skip a day after downtime."""
    out = []
    for club_id, tz in clubs:
        day, _ = due_local_date(tz, at, as_of)
        for back in range(catch_up_days, -1, -1):
            d = day - timedelta(days=back)
            out.append(ClubDay(club_id, tz, d, local_to_utc(tz, d, at)))
    return out
