"""Complaint rules. `complaint_service.open` is the one way a case is opened: from the
API (desk, app), from a call attempt with the `complaint` outcome, or from a meeting."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Principal
from app.events.service import emit
from app.models import Complaint, Member
from app.models.outreach import ComplaintSeverity, ComplaintStatus


class ComplaintSource(StrEnum):
    CALL = "call"
    DESK = "desk"
    APP = "app"
    EMAIL = "email"
    SOCIAL = "social"
    MEETING = "meeting"
    OTHER = "other"


class ComplaintCategory(StrEnum):
    STAFF = "staff"
    CLEANLINESS = "cleanliness"
    EQUIPMENT = "equipment"
    CLASSES = "classes"
    CROWDING = "crowding"
    BILLING = "billing"
    FACILITIES = "facilities"
    OTHER = "other"


# How soon a case must be resolved, by severity.
DUE_WITHIN: dict[ComplaintSeverity, timedelta] = {
    ComplaintSeverity.CRITICAL: timedelta(hours=4),
    ComplaintSeverity.HIGH: timedelta(hours=24),
    ComplaintSeverity.MEDIUM: timedelta(hours=72),
    ComplaintSeverity.LOW: timedelta(days=7),
}


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


complaint_service = ComplaintService()
