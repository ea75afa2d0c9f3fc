"""Phone numbers in E.164, with the `phonenumbers` library (libphonenumber's metadata)."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat


def region_of(phone: str | None) -> str | None:
    """The region (e.g. "RU") of a valid international number, else None."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, None)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.region_code_for_number(number)


def to_e164(raw: str, *, fallback_region: str | None = None) -> str | None:
    """`raw` as E.164, or None when it is not a valid phone number.

    Parsed as an international number first; only when that fails (no country code) is
    it read as a national number of `fallback_region` (the club's own country).
    """
    try:
        number = phonenumbers.parse(raw, None)
    except NumberParseException:
        if fallback_region is None:
            return None
        try:
            number = phonenumbers.parse(raw, fallback_region)
        except NumberParseException:
            return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def digits(raw: str) -> str:
    return "".join(c for c in raw if c.isdigit() and c.isascii())
