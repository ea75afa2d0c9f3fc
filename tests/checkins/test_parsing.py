"""Parsing and row validation, without a database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from app.checkins.parsing import (
    MAX_LINE_BYTES,
    Format,
    InstantError,
    Rejection,
    RowContext,
    StagedRow,
    derived_event_id,
    format_for,
    parse,
    parse_instant,
    validate_row,
)
from app.errors import RuleViolation

NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
CLUB = uuid.UUID(int=1)
MEMBER = uuid.UUID(int=2)
CTX = RowContext(as_of=NOW, visible_clubs=None)


class TestInstants:
    @pytest.mark.parametrize(
        ("text", "utc"),
        [
            ("2026-03-10T08:59:30+03:00", "2026-03-10T05:59:30+00:00"),
            ("2026-03-10t05:59:30z", "2026-03-10T05:59:30+00:00"),
            ("2026-03-10 05:59:30.123456789Z", "2026-03-10T05:59:30.123456+00:00"),
            ("2026-03-09T21:00:00-08:00", "2026-03-10T05:00:00+00:00"),
        ],
    )
    def test_rfc3339_with_an_offset(self, text: str, utc: str) -> None:
        assert parse_instant(text).isoformat() == utc

    def test_a_naive_time_is_naive_instant(self) -> None:
        with pytest.raises(InstantError) as e:
            parse_instant("2026-03-10T08:59:30")
        assert e.value.code == "naive_instant"

    @pytest.mark.parametrize(
        "value",
        [
            1773122370,
            "2026-03-10",
            "20260310T085930+0300",
            "2026-02-30T10:00:00Z",
            "1999-12-31T23:59:59Z",
            None,
        ],
    )
    def test_anything_else_is_invalid(self, value: Any) -> None:
        with pytest.raises(InstantError) as e:
            parse_instant(value)
        assert e.value.code == "invalid_field"

    def test_year_one_with_a_positive_offset_does_not_overflow(self) -> None:
        with pytest.raises(InstantError):
            parse_instant("0001-01-01T00:00:00+05:00")


def row(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"club_id": str(CLUB), "member_id": str(MEMBER), "source": "app"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


class TestValidateRow:
    def test_a_good_row(self) -> None:
        r = validate_row(row(checked_in_at="2026-03-10T05:00:00Z"), 7, 9, CTX)
        assert isinstance(r, StagedRow)
        assert (r.idx, r.line, r.club_id, r.member_id, r.source) == (7, 9, CLUB, MEMBER, "app")
        assert r.instant_given

    def test_the_instant_defaults_to_as_of(self) -> None:
        r = validate_row(row(), 0, None, CTX)
        assert isinstance(r, StagedRow)
        assert (r.checked_in_at, r.instant_given) == (NOW, False)

    def test_numbers_are_taken_as_device_and_card_ids(self) -> None:
        r = validate_row(row(device_id=7, device_event_id=184467), 0, None, CTX)
        assert isinstance(r, StagedRow)
        assert (r.device_id, r.device_event_id) == ("7", "184467")

    @pytest.mark.parametrize(
        ("fields", "code"),
        [
            ({"member_id": None}, "missing_field"),
            ({"club_id": None}, "missing_field"),
            ({"source": None}, "missing_field"),
            ({"card_number": "C1"}, "invalid_field"),
            ({"member_id": "not-a-uuid"}, "invalid_field"),
            ({"member_id": 5}, "invalid_field"),
            ({"source": "kiosk"}, "invalid_field"),
            ({"device_event_id": "e1"}, "invalid_field"),
            ({"device_id": "x" * 65}, "invalid_field"),
            ({"device_id": "a\x00b"}, "invalid_field"),
            ({"device_id": True}, "invalid_field"),
            ({"allowed": True}, "invalid_field"),
            ({"checked_in_at": "2026-03-10T05:00:00"}, "naive_instant"),
            ({"checked_in_at": "2026-03-10T06:05:01Z"}, "checkin_in_future"),
        ],
    )
    def test_rejections(self, fields: dict[str, Any], code: str) -> None:
        r = validate_row(row(**fields), 3, 4, CTX)
        assert isinstance(r, Rejection)
        assert (r.index, r.code, r.line) == (3, code, 4)

    def test_not_an_object_is_invalid_row(self) -> None:
        r = validate_row(["a"], 0, None, CTX)
        assert isinstance(r, Rejection)
        assert r.code == "invalid_row"

    def test_a_club_the_caller_cannot_see_looks_like_an_unknown_member(self) -> None:
        ctx = RowContext(as_of=NOW, visible_clubs=frozenset({uuid.UUID(int=9)}))
        r = validate_row(row(), 0, None, ctx)
        assert isinstance(r, Rejection)
        assert (r.code, r.detail) == ("member_not_found", "Member not found in this club.")

    def test_import_rows_get_a_content_derived_event_id(self) -> None:
        ctx = RowContext(as_of=NOW, visible_clubs=None, require_instant=True, derive_event_ids=True)
        a = validate_row(row(checked_in_at="2026-03-10T08:00:00+03:00"), 0, 1, ctx)
        b = validate_row(row(checked_in_at="2026-03-10T05:00:00Z"), 5, 9, ctx)
        c = validate_row(row(checked_in_at="2026-03-10T05:00:01Z"), 0, 1, ctx)
        assert isinstance(a, StagedRow)
        assert isinstance(b, StagedRow)
        assert isinstance(c, StagedRow)
        assert a.device_id == "import"
        assert a.device_event_id == b.device_event_id  # same content, another line
        assert a.device_event_id != c.device_event_id
        assert a.device_event_id == derived_event_id(
            CLUB, MEMBER, None, a.checked_in_at, "app", "import"
        )
        missing = validate_row(row(), 0, 1, ctx)
        assert isinstance(missing, Rejection)
        assert missing.code == "missing_field"


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]
    yield b""  # Starlette ends a body with an empty chunk


async def items(fmt: Format, data: bytes, size: int = 7, ctx: RowContext = CTX) -> list[Any]:
    out = []
    async for batch in parse(fmt, chunks(data, size), ctx):
        out.extend(batch)
    return out


class TestStreams:
    @pytest.mark.parametrize("size", [1, 5, 64, 10_000])
    async def test_ndjson_in_any_chunking(self, size: int) -> None:
        data = b'{"a": 1}\n\n{"a": 2}\r\n{oops\n{"a": 3}'
        got = await items(Format.NDJSON, data, size)
        assert got == [
            (0, 1, {"a": 1}),
            (1, 3, {"a": 2}),
            (2, 4, ("malformed_json", "line is not valid JSON")),
            (3, 5, {"a": 3}),
        ]

    @pytest.mark.parametrize("size", [1, 5, 64, 10_000])
    async def test_json_array_in_any_chunking(self, size: int) -> None:
        got = await items(Format.JSON, b' [{"a": 1}, "x", {"b": [1, 2]}] \n', size)
        assert got == [(0, None, {"a": 1}), (1, None, "x"), (2, None, {"b": [1, 2]})]

    async def test_nested_values_are_built_whole(self) -> None:
        got = await items(Format.JSON, b'[{"a": {"b": [1, {"c": null}]}}, [2]]', 3)
        assert got == [(0, None, {"a": {"b": [1, {"c": None}]}}), (1, None, [2])]

    async def test_a_nesting_bomb_fails_fast_without_eating_memory(self) -> None:
        bomb = b"[" * 1_000_000 + b"]" * 1_000_000
        with pytest.raises(RuleViolation) as e:
            await items(Format.JSON, bomb, 65536)
        assert e.value.code == "malformed_json"

    async def test_a_deeply_nested_ndjson_line_is_one_rejected_row(self) -> None:
        got = await items(Format.NDJSON, b"[" * 60_000 + b"\n{}\n", 65536)
        assert got == [(0, 1, ("malformed_json", "line is not valid JSON")), (1, 2, {})]

    async def test_an_empty_json_array(self) -> None:
        assert await items(Format.JSON, b"[]") == []

    @pytest.mark.parametrize("body", [b"", b"  ", b'{"a": 1}', b"[1, 2", b"[1] [2]", b"\xff["])
    async def test_json_that_is_not_one_array_fails_the_request(self, body: bytes) -> None:
        with pytest.raises(RuleViolation) as e:
            await items(Format.JSON, body)
        assert e.value.code == "malformed_json"

    @pytest.mark.parametrize("size", [1, 5, 64, 10_000])
    async def test_csv_in_any_chunking(self, size: int) -> None:
        data = (
            b"member_id,club_id,source\n"
            b'm1,"c,1",app\n'
            b"\n"
            b"m2,c2\n"
            b"m3,c3,app,extra\n"
            b'm4,"c4,app\n'
            b"m5,,front_desk"
        )
        got = await items(Format.CSV, data, size)
        assert got == [
            (0, 2, {"member_id": "m1", "club_id": "c,1", "source": "app"}),
            (1, 4, ("malformed_csv", "expected 3 fields, got 2")),
            (2, 5, ("malformed_csv", "expected 3 fields, got 4")),
            (3, 6, ("malformed_csv", "line is not valid CSV")),
            (4, 7, {"member_id": "m5", "source": "front_desk"}),
        ]

    async def test_a_csv_line_that_is_not_utf8_is_rejected_alone(self) -> None:
        got = await items(Format.CSV, b"member_id,club_id,source\n\xff,c,app\nm,c,app\n")
        assert [g[2] if isinstance(g[2], tuple) else "ok" for g in got] == [
            ("malformed_csv", "line is not UTF-8"),
            "ok",
        ]

    @pytest.mark.parametrize("fmt", [Format.NDJSON, Format.CSV])
    async def test_an_overlong_line_is_rejected_without_being_buffered(self, fmt: Format) -> None:
        head = b"member_id,club_id,source\n" if fmt is Format.CSV else b""
        good = b"m,c,app" if fmt is Format.CSV else b'{"a": 1}'
        data = (
            head + b"x" * (MAX_LINE_BYTES * 3) + b"\n" + good + b"\n" + b"y" * (MAX_LINE_BYTES + 1)
        )
        got = await items(fmt, data, 4096)
        assert [g[2][0] if isinstance(g[2], tuple) else "ok" for g in got] == [
            "malformed_row",
            "ok",
            "malformed_row",
        ]

    @pytest.mark.parametrize(
        ("header", "code"),
        [
            (b"member_id,club_id\n", "missing_columns"),
            (b"club_id,source\n", "missing_columns"),
            (b"member_id,club_id,source,colour\n", "unknown_columns"),
            (b"member_id,club_id,source,source\n", "unknown_columns"),
        ],
    )
    async def test_a_bad_csv_header_fails_the_request(self, header: bytes, code: str) -> None:
        with pytest.raises(RuleViolation) as e:
            await items(Format.CSV, header + b"a,b,c\n")
        assert e.value.code == code

    async def test_import_defaults_relax_the_required_columns(self) -> None:
        ctx = RowContext(
            as_of=NOW,
            visible_clubs=None,
            default_club_id=CLUB,
            default_source="turnstile",
            require_instant=True,
        )
        got = await items(
            Format.CSV, b"card_number,checked_in_at\nC1,2026-03-10T05:00:00Z\n", ctx=ctx
        )
        assert got == [(0, 2, {"card_number": "C1", "checked_in_at": "2026-03-10T05:00:00Z"})]
        with pytest.raises(RuleViolation):
            await items(Format.CSV, b"card_number\nC1\n", ctx=ctx)  # no checked_in_at


class TestMediaTypes:
    @pytest.mark.parametrize(
        ("header", "fmt"),
        [
            ("application/json", Format.JSON),
            ("application/json; charset=utf-8", Format.JSON),
            ("application/x-ndjson", Format.NDJSON),
            ("text/csv; charset=UTF-8", Format.CSV),
            ("TEXT/CSV", Format.CSV),
            ("text/csv; charset=latin-1", None),
            ("application/xml", None),
            (None, None),
        ],
    )
    def test_format_for(self, header: str | None, fmt: Format | None) -> None:
        assert format_for(header) is fmt
