"""Members: contact data, preferences, consents with provenance, notes, and privacy
(export and erasure). What sales learned stays on the member and reaches every later
conversation through the hand-off notes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Perm, Principal
from app.clubs.service import club_service
from app.core.clock import utcnow
from app.core.pagination import PageParams, SortKey, paginate
from app.core.timezones import local_date
from app.errors import Conflict, Forbidden, NotFound, RuleViolation
from app.members import phones, privacy, repository
from app.members.consents import ConsentPurpose, current_consents, latest_consent_events
from app.members.repository import MEMBER_ENTITY, MemberSearch, SearchTerm
from app.members.schemas import (
    ConsentCreate,
    MemberCreate,
    MemberUpdate,
    NoteCreate,
    NoteKind,
    window_problem,
)
from app.models import Club, ConsentEvent, Member, MemberNote

# Contact data and the flags that decide whether and how a member is contacted: every
# change to these is audited.
AUDITED_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "email",
    "card_number",
    "do_not_contact",
    "preferred_channel",
)
# Cleared (or replaced) when a member is erased.
PERSONAL_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "phone_invalid_at",
    "email",
    "birth_date",
    "card_number",
    "contact_window_start",
    "contact_window_end",
    "interests",
    "personal_dates",
    "goals",
)
HANDOFF_NOTES_IN_READ = 20
MAX_SEARCH_TERMS = 8
# Clocks of desks and apps drift; a consent "recorded" a little ahead of us is fine.
CLOCK_SKEW = timedelta(minutes=5)
_PHONE_LIKE = re.compile(r"[0-9\s()+.\-]+")


@dataclass(frozen=True)
class MemberView:
    member: Member
    consents: dict[ConsentPurpose, bool]
    handoff_notes: list[MemberNote]


@dataclass(frozen=True)
class ConsentsView:
    current: dict[ConsentPurpose, ConsentEvent | None]
    history: list[ConsentEvent]


@dataclass(frozen=True)
class MemberExportView:
    member: MemberView
    exported_at: datetime
    sections: dict[str, Any]


def _invalid(field: str, detail: str, *, pointer: str | None = None) -> RuleViolation:
    return RuleViolation(
        f"{field} {detail}.",
        code="validation_error",
        errors=[{"pointer": pointer or f"/{field}", "detail": detail}],
    )


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, StrEnum) else value


def _is_card_conflict(exc: IntegrityError) -> bool:
    message = str(exc.orig)
    # PostgreSQL names the constraint; SQLite names the columns.
    return "uq_members_club_id_card_number" in message or "members.card_number" in message


class MemberService:
    # ------------------------------------------------------------------ reading

    async def get(self, session: AsyncSession, actor: Principal, member_id: uuid.UUID) -> Member:
        """The member, if this token may see it: another club's member, or any member but
        its own for a token pinned to one member, is reported as missing."""
        member = await repository.get(session, member_id)
        if member is None or (actor.member_id is not None and actor.member_id != member.id):
            raise NotFound("Member not found.", code="member_not_found")
        actor.require_club(member.club_id, "member")
        return member

    async def view(self, session: AsyncSession, member: Member) -> MemberView:
        return (await self.views(session, [member]))[0]

    async def views(self, session: AsyncSession, members: list[Member]) -> list[MemberView]:
        """Members with their current consents and latest hand-off notes (two queries for
        any number of members)."""
        ids = [m.id for m in members]
        consents = await current_consents(session, ids)
        notes = await repository.handoff_notes(session, ids, per_member=HANDOFF_NOTES_IN_READ)
        return [MemberView(m, consents[m.id], notes[m.id]) for m in members]

    async def handoff_notes(
        self, session: AsyncSession, member_ids: Iterable[uuid.UUID], *, per_member: int = 20
    ) -> dict[uuid.UUID, list[MemberNote]]:
        """What sales handed over, newest first, for briefings and other conversations."""
        return await repository.handoff_notes(session, member_ids, per_member=per_member)

    async def search(
        self,
        session: AsyncSession,
        actor: Principal,
        page: PageParams,
        *,
        club_id: uuid.UUID | None = None,
        q: str | None = None,
        do_not_contact: bool | None = None,
        include_erased: bool = False,
        updated_since: datetime | None = None,
    ) -> tuple[list[MemberView], str | None]:
        """Members of the clubs this token sees, by club, then last name and first name
        (the order of ix_members_club_id_last_name, so a chain-wide page reads the index
        instead of sorting every member)."""
        club = await club_service.get(session, actor, club_id) if club_id is not None else None
        stmt = repository.listing(
            club_ids=actor.club_ids,
            club_id=club_id,
            member_id=actor.member_id,
            search=self._search(q, club),
            do_not_contact=do_not_contact,
            include_erased=include_erased,
            updated_since=updated_since,
        )
        members, cursor = await paginate(
            session,
            stmt,
            [
                SortKey(Member.club_id),
                SortKey(Member.last_name),
                SortKey(Member.first_name),
                SortKey(Member.id),
            ],
            page,
            scope="members",
            key_of=lambda m: [m.club_id, m.last_name, m.first_name, m.id],
        )
        return await self.views(session, members), cursor

    def _search(self, q: str | None, club: Club | None) -> MemberSearch | None:
        q = (q or "").strip()
        if not q:
            return None
        words = list(dict.fromkeys(q.split()))
        if len(words) > MAX_SEARCH_TERMS:
            raise _invalid("q", f"may have at most {MAX_SEARCH_TERMS} words", pointer="/query/q")
        terms = []
        for word in words:
            word_digits = phones.digits(word)
            phone_part = _PHONE_LIKE.fullmatch(word) is not None and len(word_digits) >= 3
            terms.append(SearchTerm(word, word_digits if phone_part else None))
        phone_digits = phone_e164 = None
        if _PHONE_LIKE.fullmatch(q):
            # "8 916 123-45-67" is one phone number, not five words.
            all_digits = phones.digits(q)
            phone_digits = all_digits if len(all_digits) >= 3 else None
            region = phones.region_of(club.phone) if club is not None else None
            phone_e164 = phones.to_e164(q, fallback_region=region)
        return MemberSearch(tuple(terms), phone_digits, phone_e164)

    # ------------------------------------------------------------------ writing

    async def create(
        self, session: AsyncSession, actor: Principal, data: MemberCreate
    ) -> MemberView:
        actor.require(Perm.MEMBERS_WRITE)
        if actor.member_id is not None:
            raise Forbidden("A token pinned to one member cannot add members.")
        club = await club_service.get(session, actor, data.club_id)
        now = utcnow()
        phone = self._phone(data.phone, club)
        self._check_birth_date(data.birth_date, club, now)
        if data.referred_by_id is not None:
            await self._referrer(session, club.id, data.referred_by_id)
        member = Member(
            club_id=club.id,
            first_name=data.first_name,
            last_name=data.last_name,
            phone=phone,
            email=data.email,
            birth_date=data.birth_date,
            card_number=data.card_number,
            preferred_channel=data.preferred_channel.value,
            contact_window_start=data.contact_window_start,
            contact_window_end=data.contact_window_end,
            interests=list(data.interests),
            personal_dates=[p.model_dump(mode="json") for p in data.personal_dates],
            goals=data.goals,
            do_not_contact=data.do_not_contact,
            referred_by_id=data.referred_by_id,
        )
        await self._write(session, member, new=True)

        notes = []
        if data.notes:
            notes.append(self._note(member, NoteKind.HANDOFF, data.notes, actor, now))
            session.add(notes[0])
        consents = dict.fromkeys(ConsentPurpose, False)
        recorded: dict[str, bool] = {}
        for purpose in ConsentPurpose:
            granted = getattr(data.consents, purpose.value, None) if data.consents else None
            if granted is None:
                continue
            session.add(
                ConsentEvent(
                    club_id=club.id,
                    member_id=member.id,
                    purpose=purpose.value,
                    granted=granted,
                    source=data.consent_source.value,
                    recorded_by_staff_id=actor.staff_id,
                    recorded_at=now,
                )
            )
            consents[purpose] = recorded[purpose.value] = granted
        after = {f: getattr(member, f) for f in AUDITED_FIELDS}
        audit_service.record(
            session,
            actor,
            entity=MEMBER_ENTITY,
            entity_id=member.id,
            action="created",
            changes={
                **audit_service.diff({}, after),
                **{f"consent.{p}": [None, g] for p, g in recorded.items()},
            },
            club_id=club.id,
        )
        await session.flush()
        return MemberView(member, consents, notes)

    async def update(
        self, session: AsyncSession, actor: Principal, member: Member, data: MemberUpdate
    ) -> MemberView:
        """Change only the fields sent (null clears an optional field)."""
        actor.require(Perm.MEMBERS_WRITE)
        self._not_erased(member)
        changes: dict[str, Any] = {k: getattr(data, k) for k in data.model_fields_set}
        club = await club_service.get(session, actor, member.club_id)
        if "phone" in changes:
            changes["phone"] = self._phone(changes["phone"], club)
        if "birth_date" in changes:
            self._check_birth_date(changes["birth_date"], club, utcnow())
        start = changes.get("contact_window_start", member.contact_window_start)
        end = changes.get("contact_window_end", member.contact_window_end)
        problem = window_problem(start, end)
        if problem:
            raise RuleViolation(
                f"{problem}.",
                code="validation_error",
                errors=[{"pointer": "/contact_window_end", "detail": problem}],
            )
        referrer_id = changes.get("referred_by_id")
        if referrer_id is not None:
            if referrer_id == member.id:
                raise _invalid("referred_by_id", "cannot be the member itself")
            await self._referrer(session, member.club_id, referrer_id)
        if "personal_dates" in changes:
            changes["personal_dates"] = [
                p.model_dump(mode="json") for p in changes["personal_dates"]
            ]
        if "interests" in changes:
            changes["interests"] = list(changes["interests"])

        before = {f: getattr(member, f) for f in AUDITED_FIELDS}
        if "phone" in changes and changes["phone"] != member.phone:
            # A wrong-number mark belongs to the old number.
            member.phone_invalid_at = None
        for field, value in changes.items():
            setattr(member, field, _plain(value))
        await self._write(session, member, new=False)
        diff = audit_service.diff(before, {f: getattr(member, f) for f in AUDITED_FIELDS})
        if diff:
            audit_service.record(
                session,
                actor,
                entity=MEMBER_ENTITY,
                entity_id=member.id,
                action="updated",
                changes=diff,
                club_id=member.club_id,
            )
            await session.flush()
        return await self.view(session, member)

    # ------------------------------------------------------------------ consents

    async def record_consent(
        self, session: AsyncSession, actor: Principal, member: Member, data: ConsentCreate
    ) -> ConsentEvent:
        """Append a grant or withdrawal; history is never rewritten."""
        actor.require(Perm.MEMBERS_WRITE)
        self._not_erased(member)
        now = utcnow()
        recorded_at = data.recorded_at or now
        if recorded_at > now + CLOCK_SKEW:
            raise _invalid("recorded_at", "must not be in the future")
        purpose = data.purpose
        before = (await current_consents(session, [member.id]))[member.id][purpose]
        event = ConsentEvent(
            club_id=member.club_id,
            member_id=member.id,
            purpose=purpose.value,
            granted=data.granted,
            source=data.source.value,
            note=data.note,
            recorded_by_staff_id=actor.staff_id,
            recorded_at=recorded_at,
        )
        session.add(event)
        # Consents are part of the member card: sync clients polling `updated_since` see it.
        member.updated_at = now
        await session.flush()
        after = (await current_consents(session, [member.id]))[member.id][purpose]
        audit_service.record(
            session,
            actor,
            entity=MEMBER_ENTITY,
            entity_id=member.id,
            action="consent_recorded",
            changes={
                "event_id": event.id,
                "purpose": purpose.value,
                "granted": data.granted,
                "source": data.source.value,
                "recorded_at": recorded_at,
                **audit_service.diff(
                    {f"consent.{purpose.value}": before}, {f"consent.{purpose.value}": after}
                ),
            },
            club_id=member.club_id,
        )
        await session.flush()
        return event

    async def consents(self, session: AsyncSession, member: Member) -> ConsentsView:
        latest = (await latest_consent_events(session, [member.id]))[member.id]
        history = await repository.consent_history(session, member.id)
        return ConsentsView({p: latest.get(p) for p in ConsentPurpose}, history)

    # ------------------------------------------------------------------ notes

    async def add_note(
        self, session: AsyncSession, actor: Principal, member: Member, data: NoteCreate
    ) -> MemberNote:
        actor.require(Perm.MEMBERS_WRITE)
        self._not_erased(member)
        now = utcnow()
        note = self._note(member, data.kind, data.body, actor, now)
        session.add(note)
        if note.kind == NoteKind.HANDOFF:
            member.updated_at = now  # hand-off notes are part of the member card
        await session.flush()
        return note

    async def notes(
        self, session: AsyncSession, member: Member, page: PageParams, *, kind: NoteKind | None
    ) -> tuple[list[MemberNote], str | None]:
        """Notes, newest first."""
        stmt = repository.notes_listing(member.id, kind=kind.value if kind else None)
        return await paginate(
            session,
            stmt,
            [
                SortKey(MemberNote.created_at, descending=True),
                SortKey(MemberNote.id, descending=True),
            ],
            page,
            scope="member_notes",
            key_of=lambda n: [n.created_at, n.id],
        )

    # ------------------------------------------------------------------ privacy

    async def export(
        self, session: AsyncSession, actor: Principal, member: Member
    ) -> MemberExportView:
        """Everything kept about the member, from every domain that registered a section.

        The export is a dossier (audit trail, money, every domain's records), more than
        the member card desk staff work with: it needs `audit:read` (managers, admins),
        or a token pinned to this very member (the member's own app)."""
        actor.require(Perm.MEMBERS_READ)
        if actor.member_id != member.id and not actor.can(Perm.AUDIT_READ):
            raise Forbidden(
                "A personal-data export needs 'audit:read' or a token pinned to this member."
            )
        view = await self.view(session, member)
        sections = {name: await fn(session, member) for name, fn in privacy.export_sections()}
        audit_service.record(
            session,
            actor,
            entity=MEMBER_ENTITY,
            entity_id=member.id,
            action="exported",
            changes={"sections": sorted(sections)},
            club_id=member.club_id,
        )
        await session.flush()
        return MemberExportView(view, utcnow(), sections)

    async def erase(self, session: AsyncSession, actor: Principal, member: Member) -> None:
        """Anonymise personal data; keep money, dates and visit counts. Erasing again
        re-runs every domain's erasure step (they are idempotent) and changes nothing else."""
        actor.require(Perm.MEMBERS_ERASE)
        first_time = member.erased_at is None
        cleared: list[str] = []
        before_flag = member.do_not_contact
        if first_time:
            cleared = [f for f in PERSONAL_FIELDS if getattr(member, f) not in (None, [], "")]
            member.first_name, member.last_name = "Erased", "Member"
            member.phone = member.phone_invalid_at = member.email = None
            member.birth_date = member.card_number = member.goals = None
            member.contact_window_start = member.contact_window_end = None
            member.interests, member.personal_dates = [], []
            member.do_not_contact, member.preferred_channel = True, "none"
            member.erased_at = utcnow()
            await session.flush()
        for step in privacy.erasure_steps():
            await step(session, member)
        if first_time:
            audit_service.record(
                session,
                actor,
                entity=MEMBER_ENTITY,
                entity_id=member.id,
                action="erased",
                changes={
                    "erased_fields": cleared,
                    **audit_service.diff({"do_not_contact": before_flag}, {"do_not_contact": True}),
                },
                club_id=member.club_id,
            )
        await session.flush()

    # ------------------------------------------------------------------ helpers

    def _not_erased(self, member: Member) -> None:
        if member.erased_at is not None:
            raise Conflict(
                "This member's personal data was erased; the record can no longer be changed.",
                code="member_erased",
            )

    def _phone(self, raw: str, club: Club) -> str:
        phone = phones.to_e164(raw, fallback_region=phones.region_of(club.phone))
        if phone is None:
            # The submitted number is deliberately not repeated back.
            raise _invalid(
                "phone", "is not a valid phone number (include the country code, e.g. +7...)"
            )
        return phone

    def _check_birth_date(self, value: date | None, club: Club, now: datetime) -> None:
        if value is not None and value > local_date(club.timezone, now):
            raise _invalid("birth_date", "must not be in the future")

    async def _referrer(
        self, session: AsyncSession, club_id: uuid.UUID, referrer_id: uuid.UUID
    ) -> Member:
        referrer = await repository.get(session, referrer_id)
        if referrer is None or referrer.club_id != club_id:
            raise NotFound(
                "The referring member was not found in this club.",
                code="member_not_found",
                errors=[{"pointer": "/referred_by_id", "detail": "no such member in this club"}],
            )
        return referrer

    async def _write(self, session: AsyncSession, member: Member, *, new: bool) -> None:
        """Flush the member now, inside a savepoint, so the per-club card-number constraint
        fires here: a duplicate writes nothing and leaves the session usable."""
        try:
            async with session.begin_nested():
                if new:
                    session.add(member)
                await session.flush()
        except IntegrityError as exc:
            if not _is_card_conflict(exc):
                raise
            raise Conflict(
                "Another member of this club already has this card number.",
                code="card_number_taken",
                errors=[{"pointer": "/card_number", "detail": "already taken in this club"}],
            ) from exc

    def _note(
        self, member: Member, kind: NoteKind, body: str, actor: Principal, now: datetime
    ) -> MemberNote:
        return MemberNote(
            club_id=member.club_id,
            member_id=member.id,
            kind=kind.value,
            body=body,
            author_staff_id=actor.staff_id,
            created_at=now,
        )


member_service = MemberService()
