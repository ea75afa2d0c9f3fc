"""Complaint rules. `complaint_service.open` is the one way a case is opened: from the
API (desk, app), from a call attempt with the `complaint` outcome, or from a meeting."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Perm, Principal, Role
from app.complaints import repository
from app.complaints.schemas import (
    ComplaintCategory,
    ComplaintCreate,
    ComplaintResolve,
    ComplaintSource,
    ComplaintUpdate,
)
from app.core.clock import utcnow
from app.core.etags import check_if_match
from app.core.pagination import PageParams, SortKey, paginate
from app.core.timezones import local_date
from app.errors import Conflict, Forbidden, NotFound, RuleViolation
from app.events.service import emit
from app.members.privacy import REDACTED, register_erasure, register_export_section, row_dict
from app.members.service import member_service
from app.memberships.service import membership_service
from app.models import Complaint, Member, Membership
from app.models.outreach import ComplaintSeverity, ComplaintStatus

__all__ = [
    "DUE_WITHIN",
    "ComplaintCategory",
    "ComplaintService",
    "ComplaintSource",
    "complaint_service",
]

ENTITY = "complaint"
MANAGER_ROLES = frozenset({Role.MANAGER.value, Role.ADMIN.value})

# How soon a case must be resolved, by severity.
DUE_WITHIN: dict[ComplaintSeverity, timedelta] = {
    ComplaintSeverity.CRITICAL: timedelta(hours=4),
    ComplaintSeverity.HIGH: timedelta(hours=24),
    ComplaintSeverity.MEDIUM: timedelta(hours=72),
    ComplaintSeverity.LOW: timedelta(days=7),
}


def _invalid(pointer: str, detail: str, *, code: str = "validation_error") -> RuleViolation:
    return RuleViolation(
        f"{pointer.strip('/')} {detail}.",
        code=code,
        errors=[{"pointer": pointer, "detail": detail}],
    )


def _not_found() -> NotFound:
    return NotFound("Complaint not found.", code="complaint_not_found")


def _already_resolved() -> Conflict:
    return Conflict("This complaint is already resolved.", code="complaint_already_resolved")


def is_overdue(complaint: Complaint, as_of: datetime) -> bool:
    return complaint.status != ComplaintStatus.RESOLVED.value and complaint.due_at < as_of


class ComplaintService:
    async def open(
        self,
        session: AsyncSession,
        actor: Principal | None,
        member: Member,
        *,
        category: ComplaintCategory,
        description: str,
        severity: ComplaintSeverity,
        source: ComplaintSource,
        as_of: datetime,
        membership_id: uuid.UUID | None = None,
        call_id: uuid.UUID | None = None,
        meeting_id: uuid.UUID | None = None,
        owner_id: uuid.UUID | None = None,
    ) -> Complaint:
        """Open a case due by its severity; emits `complaint.opened`, audited. The caller
        has checked the actor may see `member`."""
        complaint = Complaint(
            club_id=member.club_id,
            member_id=member.id,
            membership_id=membership_id,
            call_id=call_id,
            meeting_id=meeting_id,
            source=source.value,
            category=category.value,
            description=description,
            severity=severity.value,
            status=ComplaintStatus.OPEN.value,
            owner_id=owner_id,
            reported_by_id=actor.staff_id if actor else None,
            due_at=as_of + DUE_WITHIN[severity],
            created_at=as_of,
            updated_at=as_of,
        )
        session.add(complaint)
        await session.flush()
        await emit(
            session,
            "complaint.opened",
            {
                "complaint_id": complaint.id,
                "member_id": member.id,
                "category": complaint.category,
                "severity": complaint.severity,
                "source": complaint.source,
                "call_id": call_id,
                "due_at": complaint.due_at,
            },
            club_id=member.club_id,
        )
        audit_service.record(
            session,
            actor,
            entity="complaint",
            entity_id=complaint.id,
            action="opened",
            changes={"severity": complaint.severity, "category": complaint.category},
            club_id=member.club_id,
        )
        return complaint

    # ------------------------------------------------------------------ API

    async def get(
        self, session: AsyncSession, actor: Principal, complaint_id: uuid.UUID
    ) -> Complaint:
        """A complaint this token may see; another club's (or, for a token pinned to one
        member, another member's) is reported as missing."""
        actor.require(Perm.COMPLAINTS_READ)
        complaint = await repository.get(session, complaint_id)
        if (
            complaint is None
            or not actor.sees_club(complaint.club_id)
            or (actor.member_id is not None and actor.member_id != complaint.member_id)
        ):
            raise _not_found()
        return complaint

    async def create(
        self,
        session: AsyncSession,
        actor: Principal,
        data: ComplaintCreate,
        *,
        as_of: datetime | None = None,
    ) -> Complaint:
        """Open a case from the API after checking what it points at (422 when the
        membership, call or meeting is another member's, or the owner is not active
        staff of the club)."""
        actor.require(Perm.COMPLAINTS_WRITE)
        member = await member_service.get(session, actor, data.member_id)
        if member.erased_at is not None:
            raise Conflict("This member's personal data was erased.", code="member_erased")
        for what, row_id in (
            ("membership", data.membership_id),
            ("call", data.call_id),
            ("meeting", data.meeting_id),
        ):
            if row_id is None:
                continue
            owner = await repository.owner_of(session, repository.OWNED_TABLES[what], row_id)
            if owner is None or owner[0] != member.id:
                raise _invalid(f"/{what}_id", "is not this member's", code=f"{what}_mismatch")
        if data.owner_id is not None:
            await self._check_owner(session, data.owner_id, member.club_id)
        return await self.open(
            session,
            actor,
            member,
            category=data.category,
            description=data.description,
            severity=data.severity,
            source=data.source,
            as_of=as_of or utcnow(),
            membership_id=data.membership_id,
            call_id=data.call_id,
            meeting_id=data.meeting_id,
            owner_id=data.owner_id,
        )

    async def _check_owner(
        self, session: AsyncSession, owner_id: uuid.UUID, club_id: uuid.UUID
    ) -> None:
        if not await repository.active_staff_of_club(session, owner_id, club_id):
            raise _invalid("/owner_id", "is not active staff of the club", code="owner_not_allowed")

    async def list(
        self,
        session: AsyncSession,
        actor: Principal,
        page: PageParams,
        *,
        club_id: uuid.UUID | None,
        status: ComplaintStatus | None,
        member_id: uuid.UUID | None,
        owner_id: uuid.UUID | None,
        overdue: bool | None,
        as_of: datetime,
    ) -> tuple[list[Complaint], str | None]:
        """Most urgent first: by due time, then id."""
        actor.require(Perm.COMPLAINTS_READ)
        if club_id is not None:
            actor.require_club(club_id, "club")
        if actor.member_id is not None:
            if member_id is not None and member_id != actor.member_id:
                return [], None
            member_id = actor.member_id
        stmt = repository.listing(
            actor.club_ids,
            club_id=club_id,
            status=status.value if status else None,
            member_id=member_id,
            owner_id=owner_id,
            overdue=overdue,
            as_of=as_of,
        )
        return await paginate(
            session,
            stmt,
            [SortKey(Complaint.due_at), SortKey(Complaint.id)],
            page,
            scope="complaints",
            key_of=lambda c: [c.due_at, c.id],
        )

    async def update(
        self,
        session: AsyncSession,
        actor: Principal,
        complaint: Complaint,
        data: ComplaintUpdate,
        *,
        if_match: str | None,
        require_if_match: bool,
        as_of: datetime | None = None,
    ) -> Complaint:
        """Assign an owner, move between `open` and `in_progress`, or change the
        severity (the due time is recomputed from the creation time). A resolved case is
        final (409 `complaint_already_resolved`)."""
        actor.require(Perm.COMPLAINTS_WRITE)
        c = await repository.lock(session, complaint.id)
        if c is None:
            raise _not_found()
        check_if_match(if_match, c.id, c.version, required=require_if_match)
        if c.status == ComplaintStatus.RESOLVED.value:
            raise _already_resolved()
        fields = data.model_fields_set
        before: dict[str, Any] = {
            "owner_id": c.owner_id,
            "status": c.status,
            "severity": c.severity,
            "due_at": c.due_at,
        }
        if "owner_id" in fields and data.owner_id != c.owner_id:
            if data.owner_id is not None:
                await self._check_owner(session, data.owner_id, c.club_id)
            c.owner_id = data.owner_id
        if data.status is not None:
            c.status = data.status.value
        if data.severity is not None:
            c.severity = data.severity.value
            c.due_at = c.created_at + DUE_WITHIN[data.severity]
        after: dict[str, Any] = {
            "owner_id": c.owner_id,
            "status": c.status,
            "severity": c.severity,
            "due_at": c.due_at,
        }
        changes = audit_service.diff(before, after)
        if not changes:
            return c
        c.updated_at = as_of or utcnow()
        audit_service.record(
            session,
            actor,
            entity=ENTITY,
            entity_id=c.id,
            action="updated",
            changes=changes,
            club_id=c.club_id,
        )
        await session.flush()
        return c

    async def resolve(
        self,
        session: AsyncSession,
        actor: Principal,
        complaint: Complaint,
        data: ComplaintResolve,
        *,
        as_of: datetime | None = None,
    ) -> Complaint:
        """Resolve once with a resolution and a root cause; compensation (managers and
        admins only) adds bonus days to the member's current membership and records
        free sessions. Everything is audited; the follow-up call is the playbook's."""
        actor.require(Perm.COMPLAINTS_WRITE)
        now = as_of or utcnow()
        c = await repository.lock(session, complaint.id)
        if c is None:
            raise _not_found()
        if c.status == ComplaintStatus.RESOLVED.value:
            raise _already_resolved()
        comp = data.compensation
        if comp is not None and not (MANAGER_ROLES & actor.roles):
            raise Forbidden(
                "Only a manager or an admin may grant compensation.",
                code="compensation_not_allowed",
            )
        before: dict[str, Any] = {"status": c.status}
        if comp is not None and comp.bonus_days is not None:
            membership = await self._membership_to_extend(session, c, now)
            extended = await membership_service.add_bonus_days(
                session,
                actor,
                membership,
                comp.bonus_days,
                f"complaint {c.id}",
                today=local_date(await repository.club_timezone(session, c.club_id), now),
            )
            c.membership_id = c.membership_id or extended.id
            audit_service.record(
                session,
                actor,
                entity=ENTITY,
                entity_id=c.id,
                action="compensated",
                changes={
                    "bonus_days": comp.bonus_days,
                    "free_sessions": comp.free_sessions,
                    "membership_id": extended.id,
                    "end_date": extended.end_date,
                },
                club_id=c.club_id,
            )
        elif comp is not None:
            audit_service.record(
                session,
                actor,
                entity=ENTITY,
                entity_id=c.id,
                action="compensated",
                changes={"free_sessions": comp.free_sessions},
                club_id=c.club_id,
            )
        c.status = ComplaintStatus.RESOLVED.value
        c.resolution = data.resolution
        c.root_cause = data.root_cause.value
        c.compensation_bonus_days = comp.bonus_days if comp else None
        c.compensation_free_sessions = comp.free_sessions if comp else None
        c.resolved_at = now
        c.resolved_by_id = actor.staff_id
        c.updated_at = now
        audit_service.record(
            session,
            actor,
            entity=ENTITY,
            entity_id=c.id,
            action="resolved",
            changes={
                **audit_service.diff(before, {"status": c.status}),
                "root_cause": c.root_cause,
                "compensation_bonus_days": c.compensation_bonus_days,
                "compensation_free_sessions": c.compensation_free_sessions,
            },
            club_id=c.club_id,
        )
        await session.flush()
        return c

    async def _membership_to_extend(
        self, session: AsyncSession, c: Complaint, now: datetime
    ) -> Membership:
        """The member's current live membership (covering the club's today); failing
        that, the complaint's own membership if it is still to start."""
        today = local_date(await repository.club_timezone(session, c.club_id), now)
        current = await membership_service.current_for_member(session, c.member_id, today)
        if current is not None:
            return current
        if c.membership_id is not None:
            own = await session.get(Membership, c.membership_id)
            if own is not None and own.cancelled_at is None and own.start_date > today:
                return own
        raise _invalid(
            "/compensation/bonus_days",
            "needs a live membership to extend",
            code="no_live_membership",
        )


complaint_service = ComplaintService()


async def _export_complaints(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    return [row_dict(c) for c in await repository.of_member(session, member.id)]


async def _erase_complaints(session: AsyncSession, member: Member) -> None:
    # Categories, severities, root causes, dates and compensation stay (analytics); the
    # words go.
    await repository.redact_texts(session, member.id, REDACTED)


register_export_section("complaints", _export_complaints)
register_erasure(_erase_complaints)
