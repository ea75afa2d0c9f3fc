"""Calendar arithmetic for analytics, one SQL construct per operation, rendered for
each dialect (PostgreSQL and SQLite have no common date functions). Every statement
that uses them is the same statement on both; only these leaves differ.

- `day_number(d)`: the date as whole days since 1970-01-01 (so day differences and
  "N days after" are integer arithmetic).
- `year_month(d)`: the date's month as text, `YYYY-MM`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

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
