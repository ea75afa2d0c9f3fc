"""E.164 normalisation (pure functions)."""

from __future__ import annotations

import pytest

from app.members.phones import digits, region_of, to_e164


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+7 916 123-45-67", None, "+79161234567"),
        ("+7 916 123-45-67", "DE", "+79161234567"),  # international wins over the region
        ("8 916 123 45 67", "RU", "+79161234567"),
        ("8 916 123 45 67", None, None),
        ("030 901820", "DE", "+4930901820"),
        ("+7 000", "RU", None),  # parses, but is not a valid number: no retry
        ("", "RU", None),
        ("call me", "RU", None),
        ("+" + "9" * 31, None, None),
    ],
)
def test_to_e164(raw: str, region: str | None, expected: str | None) -> None:
    assert to_e164(raw, fallback_region=region) == expected


@pytest.mark.parametrize(
    ("phone", "region"),
    [
        ("+74951234567", "RU"),
        ("+49 30 901820", "DE"),
        ("84951234567", None),  # not international
        ("+7 000", None),
        (None, None),
        ("", None),
    ],
)
def test_region_of_club_phone(phone: str | None, region: str | None) -> None:
    assert region_of(phone) == region


def test_digits_keeps_ascii_digits_only() -> None:
    assert digits("+7 (916) ١٢٣-45") == "791645"
