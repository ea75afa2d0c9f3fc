"""A member's personal data across domains: exported on request, erased on request.

The members domain owns both acts (`GET /members/{id}/export`, `DELETE /members/{id}`)
but not all the data: check-ins, messages, call notes... live in domains that the
members domain never imports. Each of them registers what it keeps, once, at import
time of its service module (which the app always imports):

    from app.members.privacy import register_erasure, register_export_section, row_dict

    async def export_messages(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
        return [row_dict(m) for m in await repository.messages_of(session, member)]

    async def erase_messages(session: AsyncSession, member: Member) -> None:
        await repository.blank_message_texts(session, member)

    register_export_section("messages", export_messages)
    register_erasure(erase_messages)

Contract:
- An export section returns JSON-compatible data (dicts and lists of str, numbers,
  bools, None, UUIDs, dates, datetimes) about this one member; filter by
  `member.club_id` and `member.id`. Section names are unique, snake_case.
- An erasure step anonymises personal data (free text, contact details) but keeps
  money, dates and counts; it never deletes rows other domains count on and never
  commits. It runs after the member row is anonymised (`member.erased_at` is set) and
  runs again on a repeated erase, so it must be idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from app.members import repository
from app.models import Member

ExportSection = Callable[[AsyncSession, Member], Awaitable[Any]]
ErasureStep = Callable[[AsyncSession, Member], Awaitable[None]]

REDACTED = "[erased]"

_sections: dict[str, ExportSection] = {}
_erasures: list[ErasureStep] = []
_SECTION_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def register_export_section(name: str, fn: ExportSection) -> ExportSection:
    """Add `fn`'s result to every export under `sections[name]`."""
    if not _SECTION_NAME.fullmatch(name):
        raise ValueError(f"export section name {name!r} must be snake_case")
    existing = _sections.get(name)
    if existing is not None and existing is not fn:
        raise ValueError(f"export section {name!r} is already registered")
    _sections[name] = fn
    return fn


def register_erasure(fn: ErasureStep) -> ErasureStep:
    """Run `fn` whenever a member is erased (after the member row is anonymised)."""
    if fn not in _erasures:
        _erasures.append(fn)
    return fn


def export_sections() -> list[tuple[str, ExportSection]]:
    return list(_sections.items())


def erasure_steps() -> list[ErasureStep]:
    return list(_erasures)


def row_dict(obj: Any) -> dict[str, Any]:
    """Every mapped column of an ORM row, by attribute name: a row "as stored"."""
    mapper = sa_inspect(obj).mapper
    return {attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs}


# --------------------------------------------------------------------------- members' own

# Values of these fields in audit entries about a member are personal data.
PERSONAL_AUDIT_FIELDS = frozenset(
    {"first_name", "last_name", "phone", "email", "card_number", "birth_date"}
)


async def _export_consent_events(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    events = await repository.consent_history(session, member.id, newest_first=False)
    return [row_dict(e) for e in events]


async def _export_notes(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    return [row_dict(n) for n in await repository.all_notes(session, member.id)]


async def _export_memberships(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    return [row_dict(m) for m in await repository.memberships_of(session, member)]


async def _export_audit(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    return [row_dict(a) for a in await repository.audit_about(session, member.id)]


async def _erase_notes(session: AsyncSession, member: Member) -> None:
    await repository.replace_note_bodies(session, member.id, REDACTED)


async def _erase_consent_notes(session: AsyncSession, member: Member) -> None:
    # Who agreed to what, when and where stays (proof of consent); free text goes.
    await repository.clear_consent_notes(session, member.id)


def _redact(value: Any) -> Any:
    if isinstance(value, list):
        return [None if v is None else REDACTED for v in value]
    return None if value is None else REDACTED


async def _redact_audit(session: AsyncSession, member: Member) -> None:
    # The trail keeps who changed which field and when; the old and new values of
    # contact data are personal data and go.
    for entry in await repository.audit_about(session, member.id):
        changes = dict(entry.changes or {})
        redacted = {k: _redact(changes[k]) for k in PERSONAL_AUDIT_FIELDS & changes.keys()}
        if any(changes[k] != v for k, v in redacted.items()):
            entry.changes = {**changes, **redacted}


register_export_section("consent_events", _export_consent_events)
register_export_section("notes", _export_notes)
register_export_section("memberships", _export_memberships)
register_export_section("audit", _export_audit)
register_erasure(_erase_notes)
register_erasure(_erase_consent_notes)
register_erasure(_redact_audit)
