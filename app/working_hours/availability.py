"""Wall-clock spans of a club-local day turned into UTC windows (pure, DST-correct).

Hours are kept as club-local wall times; whether a meeting fits is decided on UTC
instants. Converting each span's ends with `local_to_utc` and working on the instants
means a spring-forward day simply has a shorter window (no slot at a wall time that
does not exist) and a fall-back day a longer one (each real instant once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from app.core.timezones import local_to_utc

Span = tuple[time, time]


@dataclass(frozen=True, order=True)
class Window:
    """A half-open UTC interval [start, end)."""

    start: datetime
    end: datetime

    def covers(self, start: datetime, end: datetime) -> bool:
        return self.start <= start and end <= self.end


def parse_spans(raw: Iterable[Sequence[str]]) -> list[Span]:
    """[["09:00", "13:00"], ...] as stored in JSON columns."""
    return [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in raw]


def format_spans(spans: Iterable[Span]) -> list[list[str]]:
    return [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in sorted(spans)]


def opening_spans(opening_hours: Mapping[str, Any], day: date) -> list[Span]:
    """The club's opening hours on `day` ({"1": ["07:00", "22:00"], ...}; missing: closed)."""
    span = opening_hours.get(str(day.isoweekday()))
    return parse_spans([span]) if span else []


def own_spans(
    day: date,
    *,
    weekly: Mapping[str, Any] | None,
    exception: Sequence[Sequence[str]] | None,
    opening_hours: Mapping[str, Any],
) -> list[Span]:
    """A staff member's hours on `day`: the date's exception, else the weekly pattern,
    else (no pattern) the club's opening hours."""
    if exception is not None:
        return parse_spans(exception)
    if weekly is not None:
        return parse_spans(weekly.get(str(day.isoweekday()), []))
    return opening_spans(opening_hours, day)


def to_windows(tz: str, day: date, spans: Iterable[Span]) -> list[Window]:
    """UTC windows of club-local spans on `day`, sorted and merged."""
    windows = sorted(Window(local_to_utc(tz, day, a), local_to_utc(tz, day, b)) for a, b in spans)
    merged: list[Window] = []
    for w in windows:
        if w.start >= w.end:  # a span swallowed by a DST gap
            continue
        if merged and w.start <= merged[-1].end:
            merged[-1] = Window(merged[-1].start, max(merged[-1].end, w.end))
        else:
            merged.append(w)
    return merged


def intersect(a: Sequence[Window], b: Sequence[Window]) -> list[Window]:
    out = []
    for x in a:
        for y in b:
            start, end = max(x.start, y.start), min(x.end, y.end)
            if start < end:
                out.append(Window(start, end))
    return sorted(out)


def working_windows(
    tz: str,
    day: date,
    *,
    weekly: Mapping[str, Any] | None,
    exception: Sequence[Sequence[str]] | None,
    opening_hours: Mapping[str, Any],
) -> list[Window]:
    """When a staff member can take meetings on `day`: their own hours, only while the
    club is open (meetings happen in the club)."""
    own = own_spans(day, weekly=weekly, exception=exception, opening_hours=opening_hours)
    return intersect(
        to_windows(tz, day, own), to_windows(tz, day, opening_spans(opening_hours, day))
    )
