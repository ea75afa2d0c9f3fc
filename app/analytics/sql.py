"""Calendar arithmetic for analytics, one SQL construct per operation, rendered for
each dialect (PostgreSQL and SQLite have no common date functions). Every statement
that uses them is the same statement on both; only these leaves differ.

- `day_number(d)`: the date as whole days since 1970-01-01 (so day differences and
  "N days after" are integer arithmetic).
- `year_month(d)`: the date's month as text, `YYYY-MM`.
- `day_month(n)`: the month of a day number (see `day_number`) as text, `YYYY-MM`.
- `LocalDays(tz, ...).of(instant)`: the club-local day of an instant, as a day number.
  Neither SQLite nor a distributed shard can be relied on for the zone database, so the
  zone's UTC offsets over the span are computed here (zoneinfo) and passed as a CASE.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, case, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.core.timezones import zone
from app.core.types import UTCDateTime

EPOCH = date(1970, 1, 1)


def day_of(value: date) -> int:
    """The Python side of `day_number`."""
    return (value - EPOCH).days


class day_number(FunctionElement[int]):  # noqa: N801 (SQL function style)
    type = Integer()
    inherit_cache = True
    name = "day_number"


class year_month(FunctionElement[str]):  # noqa: N801
    type = String()
    inherit_cache = True
    name = "year_month"


def _arg(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return str(compiler.process(arg, **kw))


@compiles(day_number, "postgresql")
def _day_number_pg(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(CAST({_arg(element, compiler, **kw)} AS DATE) - DATE '1970-01-01')"


@compiles(day_number, "sqlite")
def _day_number_sqlite(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(julianday({_arg(element, compiler, **kw)}) - 2440587.5 AS INTEGER)"


@compiles(year_month, "postgresql")
def _year_month_pg(element: year_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({_arg(element, compiler, **kw)}, 'YYYY-MM')"


@compiles(year_month, "sqlite")
def _year_month_sqlite(element: year_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strftime('%Y-%m', {_arg(element, compiler, **kw)})"


class day_month(FunctionElement[str]):  # noqa: N801
    type = String()
    inherit_cache = True
    name = "day_month"


@compiles(day_month, "postgresql")
def _day_month_pg(element: day_month, compiler: SQLCompiler, **kw: Any) -> str:
    return (
        f"to_char(DATE '1970-01-01' + CAST({_arg(element, compiler, **kw)} AS INTEGER), 'YYYY-MM')"
    )


@compiles(day_month, "sqlite")
def _day_month_sqlite(element: day_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strftime('%Y-%m', ({_arg(element, compiler, **kw)}) * 86400, 'unixepoch')"


# ------------------------------------------------------------------ club-local days


def utc_offsets(tz: str, start: datetime, end: datetime) -> list[tuple[datetime | None, int]]:
    """The zone's UTC offset over [start, end) as pieces `(until, seconds)`: the offset is
    `seconds` before `until` (and after the previous piece); the last piece has `until`
    None. Transitions are found with zoneinfo, to the second."""
    z = zone(tz)

    def offset(at: datetime) -> int:
        value = at.astimezone(z).utcoffset()
        return int(value.total_seconds()) if value is not None else 0

    pieces: list[tuple[datetime | None, int]] = []
    step = timedelta(days=1)
    at, current = start, offset(start)
    while at < end:
        nxt = min(at + step, end)
        if offset(nxt) != current:
            # Bisect on whole seconds: offset(lo) == current != offset(hi).
            lo, hi = int(at.timestamp()), int(nxt.timestamp()) + 1
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(datetime.fromtimestamp(mid, UTC)) == current:
                    lo = mid
                else:
                    hi = mid
            change = datetime.fromtimestamp(hi, UTC)
            pieces.append((change, current))
            current = offset(change)
            at = change
        else:
            at = nxt
    pieces.append((None, current))
    return pieces


def offset_case(column: Any, pieces: list[tuple[datetime | None, int]]) -> ColumnElement[int]:
    """The UTC offset in seconds at instant `column`, as SQL (a CASE over the pieces)."""
    if len(pieces) == 1:
        return literal(pieces[0][1], Integer())
    whens = [
        (column < literal(until, UTCDateTime()), literal(s, Integer())) for until, s in pieces[:-1]
    ]
    return case(*whens, else_=literal(pieces[-1][1], Integer()))


class local_day(FunctionElement[int]):  # noqa: N801
    """`local_day(instant, offset)`: the club-local calendar day of an instant, as a day
    number (see `day_number`), given the UTC offset in seconds at that instant."""

    type = Integer()
    inherit_cache = True
    name = "local_day"


def _args(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [str(compiler.process(a, **kw)) for a in element.clauses]


@compiles(local_day, "postgresql")
def _local_day_pg(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    ts, off = _args(element, compiler, **kw)
    return f"CAST(FLOOR((FLOOR(EXTRACT(EPOCH FROM {ts})) + ({off})) / 86400) AS INTEGER)"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    ts, off = _args(element, compiler, **kw)
    # Whole seconds: the text is cut before the fraction (SQLite would round a fraction to
    # milliseconds, so 23:59:59.9999 became the next day); then integer division, a
    # floor for instants after 1970.
    return f"((CAST(strftime('%s', substr({ts}, 1, 19)) AS INTEGER) + ({off})) / 86400)"


class LocalDays:
    """Club-local days of instants in SQL for one club's zone over a bounded span."""

    def __init__(self, tz: str, start: datetime, end: datetime) -> None:
        self.pieces = utc_offsets(tz, start, end)

    def of(self, column: Any) -> ColumnElement[int]:
        return local_day(column, offset_case(column, self.pieces))
