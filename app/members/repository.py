"""All SQL of the members domain."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import AuditEntry, ConsentEvent, Member, MemberNote, Membership

MEMBER_ENTITY = "member"


@dataclass(frozen=True)
class SearchTerm:
    text: str
    digits: str | None = None  # set when the term may be part of a phone number


@dataclass(frozen=True)
class MemberSearch:
    """A parsed `q`: every term must match a name, the e-mail or the card number (or the
    phone, by digits); alternatively the whole query may match the phone number."""

    terms: tuple[SearchTerm, ...] = ()
    phone_digits: str | None = None
    phone_e164: str | None = None


def _contains(value: str) -> str:
    """A LIKE pattern matching `value` literally anywhere: wildcards are escaped."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _term_clause(term: SearchTerm) -> ColumnElement[bool]:
    pattern = _contains(term.text)
    # ilike: ILIKE on PostgreSQL (Unicode-aware); lower() LIKE lower() on SQLite, whose
    # lower() folds ASCII only, so non-ASCII matches there are exact-case.
    parts = [
        Member.first_name.ilike(pattern, escape="\\"),
        Member.last_name.ilike(pattern, escape="\\"),
        Member.email.ilike(pattern, escape="\\"),
        Member.card_number.ilike(pattern, escape="\\"),
    ]
    if term.digits:
        parts.append(Member.phone.like(_contains(term.digits), escape="\\"))
    return or_(*parts)


def search_clause(search: MemberSearch) -> ColumnElement[bool]:
    alternatives: list[ColumnElement[bool]] = []
    if search.terms:
        alternatives.append(and_(*(_term_clause(t) for t in search.terms)))
    if search.phone_digits:
        alternatives.append(Member.phone.like(_contains(search.phone_digits), escape="\\"))
    if search.phone_e164:
        # Uses ix_members_club_id_phone for a full number.
        alternatives.append(Member.phone == search.phone_e164)
    return or_(*alternatives)


def listing(
    *,
    club_ids: frozenset[uuid.UUID] | None,
    club_id: uuid.UUID | None,
    member_id: uuid.UUID | None,
    search: MemberSearch | None,
    do_not_contact: bool | None,
    include_erased: bool,
    updated_since: datetime | None,
) -> Select[Any]:
    """Members visible to a token, filtered; the caller orders and pages.

    Every query is bounded by club (the club_id indexes), so a search scans one club's
    members, never the chain's."""
    stmt = select(Member)
    if club_ids is not None:
        stmt = stmt.where(Member.club_id.in_(club_ids))
    if club_id is not None:
        stmt = stmt.where(Member.club_id == club_id)
    if member_id is not None:
        stmt = stmt.where(Member.id == member_id)
    if search is not None:
        stmt = stmt.where(search_clause(search))
    if do_not_contact is not None:
        stmt = stmt.where(Member.do_not_contact == do_not_contact)
    if not include_erased:
        stmt = stmt.where(Member.erased_at.is_(None))
    if updated_since is not None:
        stmt = stmt.where(Member.updated_at >= updated_since)
    return stmt


async def get(session: AsyncSession, member_id: uuid.UUID) -> Member | None:
    return await session.get(Member, member_id)


_HANDOFF_NOTES: dict[str, Any] = {}


def _handoff_notes_statement() -> Any:
    """Built once with bound parameters (`ids` expanding, `per_member`): the window
    query, its aliased entity and their cache keys are not rebuilt per briefing."""
    stmt = _HANDOFF_NOTES.get("stmt")
    if stmt is None:
        ranked = (
            select(
                MemberNote,
                func.row_number()
                .over(
                    partition_by=MemberNote.member_id,
                    order_by=(MemberNote.created_at.desc(), MemberNote.id.desc()),
                )
                .label("rn"),
            )
            .where(
                MemberNote.member_id.in_(bindparam("ids", expanding=True)),
                MemberNote.kind == "handoff",
            )
            .subquery()
        )
        note = aliased(MemberNote, ranked)
        stmt = _HANDOFF_NOTES["stmt"] = (
            select(note)
            .where(ranked.c.rn <= bindparam("per_member"))
            .order_by(ranked.c.member_id, ranked.c.rn)
        )
    return stmt


async def handoff_notes(
    session: AsyncSession, member_ids: Iterable[uuid.UUID], *, per_member: int
) -> dict[uuid.UUID, list[MemberNote]]:
    """The newest `per_member` hand-off notes of each member, newest first, in one query."""
    ids = list(member_ids)
    out: dict[uuid.UUID, list[MemberNote]] = {m: [] for m in ids}
    if not ids:
        return out
    rows = await session.scalars(_handoff_notes_statement(), {"ids": ids, "per_member": per_member})
    for n in rows:
        out[n.member_id].append(n)
    return out


def notes_listing(member_id: uuid.UUID, *, kind: str | None) -> Select[Any]:
    stmt = select(MemberNote).where(MemberNote.member_id == member_id)
    if kind is not None:
        stmt = stmt.where(MemberNote.kind == kind)
    return stmt


async def all_notes(session: AsyncSession, member_id: uuid.UUID) -> list[MemberNote]:
    stmt = (
        select(MemberNote)
        .where(MemberNote.member_id == member_id)
        .order_by(MemberNote.created_at, MemberNote.id)
    )
    return list((await session.scalars(stmt)).all())


async def consent_history(
    session: AsyncSession, member_id: uuid.UUID, *, newest_first: bool = True
) -> list[ConsentEvent]:
    order = (
        (ConsentEvent.recorded_at.desc(), ConsentEvent.id.desc())
        if newest_first
        else (ConsentEvent.recorded_at, ConsentEvent.id)
    )
    stmt = select(ConsentEvent).where(ConsentEvent.member_id == member_id).order_by(*order)
    return list((await session.scalars(stmt)).all())


async def memberships_of(session: AsyncSession, member: Member) -> list[Membership]:
    stmt = (
        select(Membership)
        .where(Membership.club_id == member.club_id, Membership.member_id == member.id)
        .order_by(Membership.start_date, Membership.id)
    )
    return list((await session.scalars(stmt)).all())


async def audit_about(session: AsyncSession, member_id: uuid.UUID) -> list[AuditEntry]:
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.entity == MEMBER_ENTITY, AuditEntry.entity_id == str(member_id))
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return list((await session.scalars(stmt)).all())


async def replace_note_bodies(session: AsyncSession, member_id: uuid.UUID, body: str) -> None:
    await session.execute(
        update(MemberNote)
        .where(MemberNote.member_id == member_id)
        .values(body=body)
        .execution_options(synchronize_session="fetch")
    )


async def clear_consent_notes(session: AsyncSession, member_id: uuid.UUID) -> None:
    await session.execute(
        update(ConsentEvent)
        .where(ConsentEvent.member_id == member_id, ConsentEvent.note.is_not(None))
        .values(note=None)
        .execution_options(synchronize_session="fetch")
    )
