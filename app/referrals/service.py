"""Referrals: a member recommends a person (name, phone). The lead becomes `joined` when
the person signs up (linked to the new member, whose card then shows who referred them,
and the referrer is credited) or `lost`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Perm, Principal
from app.clubs.service import club_service
from app.core.clock import utcnow
from app.core.pagination import PageParams, SortKey, paginate
from app.errors import Conflict, NotFound, RuleViolation
from app.members import phones
from app.members.privacy import register_erasure, register_export_section, row_dict
from app.members.schemas import MemberUpdate
from app.members.service import member_service
from app.models import Member, Referral
from app.referrals import repository
from app.referrals.schemas import ReferralCreate, ReferralStatus, ReferralUpdate

ENTITY = "referral"


def _invalid(pointer: str, detail: str) -> RuleViolation:
    return RuleViolation(
        f"{pointer.strip('/')} {detail}.",
        code="validation_error",
        errors=[{"pointer": pointer, "detail": detail}],
    )


def _erased() -> Conflict:
    return Conflict("This member's personal data was erased.", code="member_erased")


def _lead_exists(existing: Referral | None) -> Conflict:
    error = Conflict(
        "This person is already an open referral lead in this club.", code="referral_exists"
    )
    if existing is not None:
        error.extra["referral_id"] = str(existing.id)
    return error


class ReferralService:
    async def get(
        self, session: AsyncSession, actor: Principal, referral_id: uuid.UUID
    ) -> Referral:
        """A referral this token may see; another club's, or (for a token pinned to one
        member) another referrer's, is reported as missing."""
        referral = await repository.get(session, referral_id)
        if (
            referral is None
            or not actor.sees_club(referral.club_id)
            or (actor.member_id is not None and actor.member_id != referral.referrer_id)
        ):
            raise NotFound("Referral not found.", code="referral_not_found")
        return referral

    async def create(
        self,
        session: AsyncSession,
        actor: Principal,
        data: ReferralCreate,
        *,
        as_of: datetime | None = None,
    ) -> Referral:
        """A new lead. Refused when the phone is a current member's (`already_a_member`) or
        already an open lead of the club (`referral_exists`)."""
        actor.require(Perm.MEMBERS_WRITE)
        referrer = await member_service.get(session, actor, data.referrer_id)
        if referrer.erased_at is not None:
            raise _erased()
        club = await club_service.get(session, actor, referrer.club_id)
        phone = phones.to_e164(data.phone, fallback_region=phones.region_of(club.phone))
        if phone is None:
            # The submitted number is deliberately not repeated back.
            raise _invalid(
                "/phone", "is not a valid phone number (include the country code, e.g. +7...)"
            )
        if await repository.member_with_phone(session, club.id, phone) is not None:
            raise Conflict(
                "Someone with this phone number is already a member of this club.",
                code="already_a_member",
            )
        existing = await repository.open_lead(session, club.id, phone)
        if existing is not None:
            raise _lead_exists(existing)
        now = as_of or utcnow()
        referral = Referral(
            club_id=club.id,
            referrer_id=referrer.id,
            name=data.name,
            phone=phone,
            status=ReferralStatus.LEAD.value,
            created_by_id=actor.staff_id,
            created_at=now,
            updated_at=now,
        )
        try:
            # A concurrent lead for the same phone loses here (partial unique index).
            async with session.begin_nested():
                session.add(referral)
                await session.flush()
        except IntegrityError as exc:
            raise _lead_exists(None) from exc
        return referral

    async def update(
        self,
        session: AsyncSession,
        actor: Principal,
        referral: Referral,
        data: ReferralUpdate,
        *,
        as_of: datetime | None = None,
    ) -> Referral:
        """Move the referral: `joined` (with the new member; final), `lost` or back to `lead`.

        Sending the current state again changes nothing."""
        actor.require(Perm.MEMBERS_WRITE)
        now = as_of or utcnow()
        r = await repository.lock(session, referral.id)
        if r is None:
            raise NotFound("Referral not found.", code="referral_not_found")
        target = data.status
        if target is not ReferralStatus.JOINED and data.member_id is not None:
            raise _invalid("/member_id", "is only given with status joined")
        if r.status == ReferralStatus.JOINED:
            if target is ReferralStatus.JOINED and data.member_id in (None, r.member_id):
                return r
            raise Conflict(
                "This referral has joined; the credit is final.", code="referral_already_joined"
            )
        if target.value == r.status:
            return r
        before = {"status": r.status, "member_id": r.member_id}
        if target is ReferralStatus.JOINED:
            await self._join(session, actor, r, data.member_id, now)
        elif target is ReferralStatus.LOST:
            r.status, r.lost_at = target.value, now
        else:
            if r.phone is not None:
                existing = await repository.open_lead(session, r.club_id, r.phone)
                if existing is not None and existing.id != r.id:
                    raise _lead_exists(existing)
            r.status, r.lost_at = target.value, None
        r.updated_at = now
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError as exc:
            raise _lead_exists(None) from exc
        audit_service.record(
            session,
            actor,
            entity=ENTITY,
            entity_id=r.id,
            action=f"status_{r.status}",
            changes=audit_service.diff(before, {"status": r.status, "member_id": r.member_id}),
            club_id=r.club_id,
        )
        await session.flush()
        return r

    async def _join(
        self,
        session: AsyncSession,
        actor: Principal,
        r: Referral,
        member_id: uuid.UUID | None,
        now: datetime,
    ) -> None:
        if member_id is None:
            raise _invalid("/member_id", "is required with status joined")
        member = await member_service.get(session, actor, member_id)
        if member.club_id != r.club_id:
            raise _invalid("/member_id", "is not a member of the referral's club")
        if member.id == r.referrer_id:
            raise _invalid("/member_id", "cannot be the referrer")
        if member.erased_at is not None:
            raise _erased()
        other = await repository.joined_through(session, member.id)
        if other is not None or member.referred_by_id not in (None, r.referrer_id):
            raise Conflict(
                "This member was already referred by someone else.",
                code="member_already_referred",
            )
        referrer = await member_service.get(session, actor, r.referrer_id)
        if referrer.erased_at is not None:
            raise _erased()
        r.status, r.member_id, r.joined_at, r.lost_at = "joined", member.id, now, None
        r.credited_at = now
        if member.referred_by_id is None:
            # The new member's card shows who brought them.
            await member_service.update(
                session, actor, member, MemberUpdate(referred_by_id=r.referrer_id)
            )
        audit_service.record(
            session,
            actor,
            entity=audit_service.MEMBER_ENTITY,
            entity_id=r.referrer_id,
            action="referral_credited",
            changes={"referral_id": r.id, "member_id": member.id},
            club_id=r.club_id,
        )

    async def list(
        self,
        session: AsyncSession,
        actor: Principal,
        page: PageParams,
        *,
        club_id: uuid.UUID | None,
        referrer_id: uuid.UUID | None,
        status: ReferralStatus | None,
    ) -> tuple[list[Referral], str | None]:
        """Newest first."""
        actor.require(Perm.MEMBERS_READ)
        if club_id is not None:
            actor.require_club(club_id, "club")
        if actor.member_id is not None:
            if referrer_id is not None and referrer_id != actor.member_id:
                return [], None
            referrer_id = actor.member_id
        stmt = repository.listing(
            actor.club_ids,
            club_id=club_id,
            referrer_id=referrer_id,
            status=status.value if status else None,
        )
        return await paginate(
            session,
            stmt,
            [SortKey(Referral.created_at, descending=True), SortKey(Referral.id, descending=True)],
            page,
            scope="referrals",
            key_of=lambda r: [r.created_at, r.id],
        )

    async def summary(self, session: AsyncSession, member: Member) -> dict[str, Any]:
        """The referrer's record: how many they recommended, and how many joined."""
        counts = await repository.referrer_counts(session, member.club_id, member.id)
        return {"member_id": member.id, **counts}


referral_service = ReferralService()


async def _export_referrals(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    return [row_dict(r) for r in await repository.of_member(session, member.id)]


async def _erase_referrals(session: AsyncSession, member: Member) -> None:
    # Counts, statuses and credits stay; the names and phones go: the member's own (they
    # joined through a referral) and those they gave us (recommendations of an erased
    # member are no longer followed up).
    await repository.blank_contact(session, member.id)


register_export_section("referrals", _export_referrals)
register_erasure(_erase_referrals)
