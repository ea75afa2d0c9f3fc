"""Check-in rows from the outside world: instants, one row's fields, and streaming parsers.

Pure code, no database. The single-check-in schema and the batch/CLI ingest share
`parse_instant`, the field limits and the sources, so one rule decides what a valid
check-in looks like everywhere.

Batch rows are validated by hand rather than through a pydantic model: at ~100k rows/s
the per-row budget is a few microseconds, and a model per row would cost more than the
database does. The batch index of a row is its 0-based position among the records of
the body (array elements; non-blank NDJSON lines; CSV records after the header).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

import ijson

from app.errors import RuleViolation


class Source(StrEnum):
    TURNSTILE = "turnstile"
    FRONT_DESK = "front_desk"
    APP = "app"


SOURCES = frozenset(s.value for s in Source)
FIELDS = (
    "club_id",
    "member_id",
    "card_number",
    "checked_in_at",
    "source",
    "device_id",
    "device_event_id",
)
FIELD_SET = frozenset(FIELDS)
CARD_NUMBER_MAX = 64
DEVICE_ID_MAX = 64
DEVICE_EVENT_ID_MAX = 128
# A device clock may run a little fast; anything further ahead is a bug or a forgery.
FUTURE_TOLERANCE = timedelta(minutes=5)
# Older instants are certainly wrong (and year-1 instants would overflow in UTC).
EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)
# Longest NDJSON/CSV line accepted; a longer one is rejected without being buffered.
MAX_LINE_BYTES = 64 * 1024
# Deepest nesting of a JSON array body (the array itself is level 1).
MAX_JSON_DEPTH = 32
# Device id given to file rows without one when the CLI derives event ids.
IMPORT_DEVICE_ID = "import"

MEMBER_NOT_FOUND = "Member not found in this club."

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?P<offset>Z|[+-]\d{2}:\d{2})?"
)


class Format(StrEnum):
    JSON = "json"
    NDJSON = "ndjson"
    CSV = "csv"


class InstantError(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def parse_instant(value: object) -> datetime:
    """An RFC 3339 date-time with an offset, as an aware UTC datetime.

    A naive value raises `InstantError` with code `naive_instant`; anything else that is
    not RFC 3339 (numbers, dates, other ISO 8601 forms) with code `invalid_field`.
    """
    if not isinstance(value, str):
        raise InstantError("invalid_field", "must be an RFC 3339 string")
    text = value.strip().upper()
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise InstantError(
            "invalid_field", "must be an RFC 3339 instant such as 2026-03-10T07:45:00+03:00"
        )
    if match.group("offset") is None:
        raise InstantError(
            "naive_instant", "needs a UTC offset (Z or +03:00): a naive time is ambiguous"
        )
    try:
        instant = datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):
        raise InstantError("invalid_field", "is not a valid date and time") from None
    if instant < EARLIEST_INSTANT:
        raise InstantError("invalid_field", "must be after 2000-01-01")
    return instant


def check_not_future(instant: datetime, as_of: datetime) -> bool:
    return instant <= as_of + FUTURE_TOLERANCE


class StagedRow(NamedTuple):
    """A validated row, in the column order of the PostgreSQL staging table."""

    idx: int
    line: int | None
    club_id: uuid.UUID
    member_id: uuid.UUID | None
    card_number: str | None
    checked_in_at: datetime
    source: str
    device_id: str | None
    device_event_id: str | None
    # False when the instant defaulted to "now": replays then compare the member only.
    instant_given: bool

    @property
    def keyed(self) -> bool:
        return self.device_id is not None and self.device_event_id is not None


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    code: str
    detail: str
    line: int | None = None


# What a parser yields per record: (index, line, the decoded object or (code, detail)).
Item = tuple[int, int | None, Any]


@dataclass(frozen=True, slots=True)
class RowContext:
    """What a row is validated against.

    `visible_clubs` None: every club; a row for a club outside it is reported exactly like
    an unknown member, so a club-scoped token learns nothing about other clubs.
    """

    as_of: datetime
    visible_clubs: frozenset[uuid.UUID] | None
    default_club_id: uuid.UUID | None = None
    default_source: str | None = None
    require_instant: bool = False
    derive_event_ids: bool = False

    def required_columns(self) -> set[str]:
        required = set()
        if self.default_club_id is None:
            required.add("club_id")
        if self.default_source is None:
            required.add("source")
        if self.require_instant:
            required.add("checked_in_at")
        return required


def _text(raw: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if type(value) is str:  # the common case first (every CSV cell)
        value = value.strip()
        if not value:
            return None
        if len(value) > limit:
            raise _Bad("invalid_field", f"{name} must be at most {limit} characters")
        if "\x00" in value:
            raise _Bad("invalid_field", f"{name} must not contain NUL characters")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _Bad("invalid_field", f"{name} must be a string")
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        raise _Bad("invalid_field", f"{name} must be at most {limit} characters")
    if "\x00" in value:
        raise _Bad("invalid_field", f"{name} must not contain NUL characters")
    return value


@lru_cache(maxsize=65_536)
def _parse_uuid(text: str) -> uuid.UUID:
    # A batch repeats a club id on every row and a few thousand member ids; parsing
    # them once each saves more than the rest of the row's validation costs.
    return uuid.UUID(text.strip())


def _uuid(raw: Mapping[str, Any], name: str) -> uuid.UUID | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Bad("invalid_field", f"{name} must be a UUID string")
    try:
        return _parse_uuid(value)
    except ValueError:
        raise _Bad("invalid_field", f"{name} must be a UUID") from None


class _Bad(Exception):
    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        self.detail = detail


def derived_event_id(
    club_id: uuid.UUID,
    member_id: uuid.UUID | None,
    card_number: str | None,
    checked_in_at: datetime,
    source: str,
    device_id: str,
) -> str:
    """A stable event id for a file row that carries none: the same row content always
    gives the same id, so importing a file twice records each visit once."""
    content = "|".join(
        (
            str(club_id),
            str(member_id or ""),
            card_number or "",
            checked_in_at.astimezone(UTC).isoformat(),
            source,
            device_id,
        )
    )
    return "row-" + hashlib.sha256(content.encode()).hexdigest()[:40]


def validate_row(raw: Any, index: int, line: int | None, ctx: RowContext) -> StagedRow | Rejection:
    """One decoded record -> a row to store, or the reason it is rejected."""
    if isinstance(raw, tuple):  # the parser already rejected it
        return Rejection(index, raw[0], raw[1], line)
    if not isinstance(raw, dict):
        return Rejection(index, "invalid_row", "each check-in must be an object", line)
    try:
        if not raw.keys() <= FIELD_SET:
            unknown = sorted(str(k)[:40] for k in raw if k not in FIELD_SET)
            raise _Bad("invalid_field", f"unknown field {unknown[0]!r}")
        club_id = _uuid(raw, "club_id") or ctx.default_club_id
        if club_id is None:
            raise _Bad("missing_field", "club_id is required")
        member_id = _uuid(raw, "member_id")
        card_number = _text(raw, "card_number", CARD_NUMBER_MAX)
        if member_id is None and card_number is None:
            raise _Bad("missing_field", "member_id or card_number is required")
        if member_id is not None and card_number is not None:
            raise _Bad("invalid_field", "send exactly one of member_id or card_number")
        source = raw.get("source")
        if source is None or source == "":
            source = ctx.default_source
            if source is None:
                raise _Bad("missing_field", "source is required")
        elif not isinstance(source, str) or source.strip() not in SOURCES:
            raise _Bad("invalid_field", "source must be one of turnstile, front_desk, app")
        else:
            source = source.strip()
        device_id = _text(raw, "device_id", DEVICE_ID_MAX)
        device_event_id = _text(raw, "device_event_id", DEVICE_EVENT_ID_MAX)
        if device_event_id is not None and device_id is None:
            raise _Bad("invalid_field", "device_event_id needs device_id")
        value = raw.get("checked_in_at")
        if value is None or value == "":
            if ctx.require_instant:
                raise _Bad("missing_field", "checked_in_at is required")
            instant, given = ctx.as_of, False
        else:
            try:
                instant = parse_instant(value)
            except InstantError as exc:
                raise _Bad(exc.code, f"checked_in_at {exc.detail}") from None
            if not check_not_future(instant, ctx.as_of):
                raise _Bad("checkin_in_future", "checked_in_at is more than 5 minutes ahead")
            given = True
    except _Bad as bad:
        return Rejection(index, bad.code, bad.detail, line)
    if ctx.visible_clubs is not None and club_id not in ctx.visible_clubs:
        return Rejection(index, "member_not_found", MEMBER_NOT_FOUND, line)
    if ctx.derive_event_ids and device_event_id is None:
        device_id = device_id or IMPORT_DEVICE_ID
        device_event_id = derived_event_id(
            club_id, member_id, card_number, instant, source, device_id
        )
    return StagedRow(
        index,
        line,
        club_id,
        member_id,
        card_number,
        instant,
        source,
        device_id,
        device_event_id,
        given,
    )


# ---- streaming parsers --------------------------------------------------------------


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[list[tuple[int, bytes | None]]]:
    """Physical lines as (1-based number, bytes without the newline), a list per body
    chunk. A line longer than MAX_LINE_BYTES is yielded as None and never buffered whole."""
    number = 0
    pending = b""
    skipping = False
    async for chunk in chunks:
        if not chunk:
            continue
        parts = chunk.split(b"\n")
        out: list[tuple[int, bytes | None]] = []
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                if skipping:
                    break
                pending += part
                if len(pending) > MAX_LINE_BYTES:
                    pending, skipping = b"", True
                break
            number += 1
            if skipping:
                out.append((number, None))
                skipping = False
                continue
            data = pending + part if pending else part
            pending = b""
            out.append((number, None if len(data) > MAX_LINE_BYTES else data))
        if out:
            yield out
    if skipping:
        yield [(number + 1, None)]
    elif pending:
        yield [(number + 1, pending)]


_TOO_LONG = ("malformed_row", f"line longer than {MAX_LINE_BYTES} bytes")


async def parse_ndjson(chunks: AsyncIterator[bytes]) -> AsyncIterator[list[Item]]:
    index = 0
    loads = json.loads
    async for lines in _lines(chunks):
        out: list[Item] = []
        for number, data in lines:
            if data is None:
                out.append((index, number, _TOO_LONG))
                index += 1
                continue
            if not data.strip():
                continue
            try:
                obj = loads(data)
            except (ValueError, RecursionError):
                obj = ("malformed_json", "line is not valid JSON")
            out.append((index, number, obj))
            index += 1
        yield out


def _csv_fields(text: str) -> list[str]:
    if '"' not in text:
        return text.split(",")
    return next(csv.reader((text,), strict=True))


def _check_header(columns: list[str], ctx: RowContext) -> None:
    unknown = sorted({c for c in columns if c not in FIELD_SET})
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if unknown or duplicated:
        problems = [f"unknown column {c!r}" for c in unknown]
        problems += [f"column {c!r} appears twice" for c in duplicated]
        raise RuleViolation(
            "The CSV header has columns this endpoint does not take: " + "; ".join(problems),
            code="unknown_columns",
        )
    missing = sorted(ctx.required_columns() - set(columns))
    if not {"member_id", "card_number"} & set(columns):
        missing.append("member_id or card_number")
    if missing:
        raise RuleViolation(
            "The CSV header lacks required columns: " + ", ".join(missing) + ".",
            code="missing_columns",
        )


async def parse_csv(chunks: AsyncIterator[bytes], ctx: RowContext) -> AsyncIterator[list[Item]]:
    """RFC 4180 CSV with a header row of field names, one record per line (a quoted
    field may not span lines). Empty cells are absent values."""
    header: list[str] | None = None
    index = 0
    async for lines in _lines(chunks):
        out: list[Item] = []
        for number, data in lines:
            if data is None:
                if header is None:
                    raise RuleViolation("The CSV header line is too long.", code="missing_columns")
                out.append((index, number, _TOO_LONG))
                index += 1
                continue
            try:
                text = data.decode("utf-8").rstrip("\r")
            except UnicodeDecodeError:
                if header is None:
                    raise RuleViolation(
                        "The CSV header is not UTF-8.", code="missing_columns"
                    ) from None
                out.append((index, number, ("malformed_csv", "line is not UTF-8")))
                index += 1
                continue
            if not text.strip():
                continue
            if header is None:
                try:
                    names = _csv_fields(text.removeprefix("\ufeff"))
                except csv.Error:
                    raise RuleViolation(
                        "The CSV header line is malformed.", code="missing_columns"
                    ) from None
                header = [n.strip().lower() for n in names]
                _check_header(header, ctx)
                continue
            try:
                fields = _csv_fields(text)
            except csv.Error:
                out.append((index, number, ("malformed_csv", "line is not valid CSV")))
                index += 1
                continue
            if len(fields) != len(header):
                detail = f"expected {len(header)} fields, got {len(fields)}"
                out.append((index, number, ("malformed_csv", detail)))
            else:
                row = {n: v for n, f in zip(header, fields, strict=True) if (v := f.strip())}
                out.append((index, number, row))
            index += 1
        if out:
            yield out
    if header is None:
        raise RuleViolation("The CSV body has no header row.", code="missing_columns")


async def parse_json_array(chunks: AsyncIterator[bytes]) -> AsyncIterator[list[Item]]:
    """A JSON array parsed incrementally: memory holds one body chunk and the items
    decoded from it, never the whole document. A syntax error cannot be resumed from,
    so it fails the whole request (422 `malformed_json`), as does nesting deeper than
    MAX_JSON_DEPTH (a check-in is a flat object; deep nesting is an attack on memory).

    ijson's low-level event parser (C) feeds a small builder here: its `items` API
    tracks a prefix string per nesting level, which is slower and grows quadratically
    with depth.
    """
    events = ijson.sendable_list()
    coro = ijson.basic_parse_coro(events, use_float=False)
    stack: list[Any] = []  # stack[0] is the top-level array; stack[1:] the item being built
    key: Any = None
    index = 0
    started = False
    try:
        async for chunk in chunks:
            if not chunk:  # b"" would tell ijson the document ended
                continue
            if not started:
                stripped = chunk.lstrip()
                if not stripped:
                    continue
                if not stripped.startswith(b"["):
                    raise RuleViolation(
                        "The body must be a JSON array of check-ins.", code="malformed_json"
                    )
                started = True
            coro.send(chunk)
            out: list[Item] = []
            for event, value in events:
                if event == "map_key":
                    key = value
                    continue
                if event == "start_map" or event == "start_array":
                    if len(stack) >= MAX_JSON_DEPTH:
                        raise RuleViolation(
                            f"The body nests deeper than {MAX_JSON_DEPTH} levels.",
                            code="malformed_json",
                        )
                    container: Any = {} if event == "start_map" else []
                    if len(stack) > 1:
                        parent = stack[-1]
                        if type(parent) is dict:
                            parent[key] = container
                        else:
                            parent.append(container)
                    stack.append(container)
                    continue
                if event == "end_map" or event == "end_array":
                    done = stack.pop()
                    if len(stack) == 1:
                        out.append((index, None, done))
                        index += 1
                    continue
                if len(stack) == 1:
                    out.append((index, None, value))
                    index += 1
                else:
                    parent = stack[-1]
                    if type(parent) is dict:
                        parent[key] = value
                    else:
                        parent.append(value)
            del events[:]
            if out:
                yield out
        coro.close()
    except ijson.JSONError:
        # ijson's message quotes the input; it is not echoed back.
        raise RuleViolation(
            f"The body is not valid JSON (after {index} complete items).", code="malformed_json"
        ) from None
    if not started:
        raise RuleViolation("The body must be a JSON array of check-ins.", code="malformed_json")


def parse(fmt: Format, chunks: AsyncIterator[bytes], ctx: RowContext) -> AsyncIterator[list[Item]]:
    if fmt is Format.CSV:
        return parse_csv(chunks, ctx)
    if fmt is Format.NDJSON:
        return parse_ndjson(chunks)
    return parse_json_array(chunks)


_MEDIA_TYPES = {
    "application/json": Format.JSON,
    "application/x-ndjson": Format.NDJSON,
    "application/ndjson": Format.NDJSON,
    "application/jsonl": Format.NDJSON,
    "text/csv": Format.CSV,
}


def format_for(content_type: str | None) -> Format | None:
    """The batch format of a Content-Type header (UTF-8 only), or None if unsupported."""
    if not content_type:
        return None
    media, _, params = content_type.partition(";")
    charset = re.search(r"charset\s*=\s*\"?([\w-]+)", params, re.IGNORECASE)
    if charset and charset.group(1).lower() not in {"utf-8", "utf8"}:
        return None
    return _MEDIA_TYPES.get(media.strip().lower())
