"""Keyset pagination with opaque, tamper-evident cursors.

A cursor holds the sort-key values of the last row of a page, signed with HMAC so that
an edited cursor is refused instead of silently skipping or repeating rows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Query
from sqlalchemy import ColumnElement, Select, and_, literal, or_, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import AppError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

T = TypeVar("T")

_signing_key: bytes = b"unset"


def set_signing_key(key: bytes) -> None:
    global _signing_key
    _signing_key = key


class InvalidCursor(AppError):
    status = 422
    code = "invalid_cursor"


def _encode_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return {"t": v.isoformat()}
    if isinstance(v, date):
        return {"d": v.isoformat()}
    if isinstance(v, uuid.UUID):
        return {"u": str(v)}
    return v


def _decode_value(v: Any) -> Any:
    if isinstance(v, dict):
        if "t" in v:
            return datetime.fromisoformat(v["t"])
        if "d" in v:
            return date.fromisoformat(v["d"])
        if "u" in v:
            return uuid.UUID(v["u"])
    return v


def _sign(payload: bytes) -> str:
    return hmac.new(_signing_key, payload, hashlib.sha256).hexdigest()[:32]


def encode_cursor(scope: str, values: Sequence[Any]) -> str:
    payload = json.dumps([scope, [_encode_value(v) for v in values]], separators=(",", ":"))
    raw = payload.encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + "." + _sign(raw)


def decode_cursor(scope: str, cursor: str, width: int) -> list[Any]:
    try:
        body, sig = cursor.rsplit(".", 1)
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        if not hmac.compare_digest(sig, _sign(raw)):
            raise ValueError("bad signature")
        got_scope, values = json.loads(raw)
        if got_scope != scope or not isinstance(values, list) or len(values) != width:
            raise ValueError("cursor for another list")
        return [_decode_value(v) for v in values]
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidCursor(
            "The cursor is not valid for this list; start again without a cursor."
        ) from exc


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None


async def page_params(  # async: no I/O, so no thread-pool hop per request
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (max {MAX_LIMIT}).")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=2000, description="`next_cursor` from the previous page.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


@dataclass(frozen=True)
class SortKey:
    column: Any  # a mapped attribute or column expression
    descending: bool = False


def _after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order of `keys` (mixed directions allowed).

    When every key runs the same way a row-value comparison `(a, b) > (x, y)` is used: it
    lets PostgreSQL seek straight into a matching index instead of scanning from the start.
    """
    if len(keys) > 1 and len({k.descending for k in keys}) == 1:
        left = tuple_(*(k.column for k in keys))
        right = tuple_(*(literal(v) for v in values))
        return left < right if keys[0].descending else left > right
    clauses = []
    for i, key in enumerate(keys):
        prefix = [keys[j].column == values[j] for j in range(i)]
        step = key.column < values[i] if key.descending else key.column > values[i]
        clauses.append(and_(*prefix, step))
    return or_(*clauses)


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    keys: Sequence[SortKey],
    params: PageParams,
    *,
    scope: str,
    key_of: Any,
) -> tuple[list[Any], str | None]:
    """Run `stmt` in the order of `keys`, one page after `params.cursor`.

    `keys` must end with a unique column (the id) so the order is total and stable.
    `key_of(row)` returns the sort values of a result row, in the order of `keys`.
    """
    if params.cursor:
        values = decode_cursor(scope, params.cursor, len(keys))
        stmt = stmt.where(_after(keys, values))
    order = [k.column.desc() if k.descending else k.column.asc() for k in keys]
    rows = list((await session.scalars(stmt.order_by(*order).limit(params.limit + 1))).all())
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        next_cursor = encode_cursor(scope, key_of(rows[-1]))
    return rows, next_cursor
