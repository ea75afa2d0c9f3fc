"""Feedback: a member's satisfaction score (0-10) and comment, from feedback calls,
meetings or the desk. Scores feed NPS (analytics); comments are personal data."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Perm, Principal
from app.core.clock import utcnow
from app.core.pagination import PageParams, SortKey, paginate
from app.errors import Conflict, RuleViolation
from app.feedback import repository
from app.feedback.schemas import FeedbackCreate
from app.meetings.service import meeting_service
from app.members.privacy import REDACTED, register_erasure, register_export_section, row_dict
from app.members.service import member_service
from app.models import Feedback, Member, ServiceCall


def _already_given() -> Conflict:
    return Conflict(
        "Feedback for this call or meeting was already recorded.", code="feedback_exists"
    )


def _mismatch(what: str) -> RuleViolation:
    return RuleViolation(
        f"That {what} is another member's.",
        code=f"{what}_mismatch",
        errors=[{"pointer": f"/{what}_id", "detail": "belongs to another member"}],
    )


class FeedbackService:
    async def create(
        self,
        session: AsyncSession,
        actor: Principal,
        data: FeedbackCreate,
        *,
        as_of: datetime | None = None,
    ) -> Feedback:
        """Record a score; a call or meeting gets one answer (409 `feedback_exists`)."""
        actor.require(Perm.COMPLAINTS_WRITE)
        member = await member_service.get(session, actor, data.member_id)
        if member.erased_at is not None:
            raise Conflict("This member's personal data was erased.", code="member_erased")
        if data.meeting_id is not None:
            meeting = await meeting_service.get(session, actor, data.meeting_id)
            if meeting.member_id != member.id:
                raise _mismatch("meeting")
        if data.call_id is not None:
            call = await session.get(ServiceCall, data.call_id)
            if call is None or call.member_id != member.id:
                raise _mismatch("call")
        if await repository.by_source(session, call_id=data.call_id, meeting_id=data.meeting_id):
            raise _already_given()
        feedback = Feedback(
            club_id=member.club_id,
            member_id=member.id,
            score=data.score,
            comment=data.comment,
            call_id=data.call_id,
            meeting_id=data.meeting_id,
            recorded_by_id=actor.staff_id,
            created_at=as_of or utcnow(),
        )
        try:
            # A concurrent answer for the same call loses here, not at commit.
            async with session.begin_nested():
                session.add(feedback)
                await session.flush()
        except IntegrityError as exc:
            raise _already_given() from exc
        return feedback

    async def list(
        self,
        session: AsyncSession,
        actor: Principal,
        page: PageParams,
        *,
        club_id: uuid.UUID | None,
        member_id: uuid.UUID | None,
        since: datetime | None,
        until: datetime | None,
    ) -> tuple[list[Feedback], str | None]:
        """Newest first. `since` inclusive, `until` exclusive."""
        actor.require(Perm.COMPLAINTS_READ)
        if club_id is not None:
            actor.require_club(club_id, "club")
        if since is not None and until is not None and since > until:
            raise RuleViolation(
                "since must not be after until.",
                code="validation_error",
                errors=[{"pointer": "/query/since", "detail": "after until"}],
            )
        if actor.member_id is not None:
            if member_id is not None and member_id != actor.member_id:
                return [], None
            member_id = actor.member_id
        stmt = repository.listing(
            actor.club_ids, club_id=club_id, member_id=member_id, since=since, until=until
        )
        return await paginate(
            session,
            stmt,
            [SortKey(Feedback.created_at, descending=True), SortKey(Feedback.id, descending=True)],
            page,
            scope="feedback",
            key_of=lambda f: [f.created_at, f.id],
        )


feedback_service = FeedbackService()


async def _export_feedback(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    return [row_dict(f) for f in await repository.of_member(session, member.id)]


async def _erase_feedback(session: AsyncSession, member: Member) -> None:
    # Scores and dates stay (NPS); what the member said in their own words goes.
    await repository.redact_comments(session, member.id, REDACTED)


register_export_section("feedback", _export_feedback)
register_erasure(_erase_feedback)
