"""The service-call core: open a call or merge new reasons into the member's open one.

Every path that creates a call (the playbook job, the lapse trigger, manual `POST
/calls`, a no-show) goes through `call_service.open_or_merge`, which

- merges into the member's open call when there is one (a member has at most one open
  call; the call takes the most important kind, the higher priority and the wider due
  window), so a retried job or two replicas never open a second call - the partial
  unique index `ix_service_calls_member_id_open` is the last word under a race;
- otherwise asks the contact policy (`app.policy.contact.decide`, the one policy
  function) whether a call may be made: "not yet" (silence days, quiet hours, a freeze,
  the cap freeing up) schedules the call at the next allowed instant when that is
  inside the due window; anything else refuses with 409 `contact_not_allowed`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict
from app.events.service import emit
from app.models import Member, ServiceCall
from app.models.outreach import KIND_PRECEDENCE, CallKind, CallStatus
from app.outreach import repository
from app.policy.contact import Category, Channel, ContactRequest, Decision, Reason
from app.policy.service import Subject, contact_policy_service


class ContactNotAllowed(Conflict):
    """409 `contact_not_allowed`: the contact policy refused; `reason` says why and
    `retry_after` (an instant) when it may be tried again, if known."""

    code = "contact_not_allowed"

    def __init__(self, decision: Decision) -> None:
        retry = decision.next_allowed_at
        super().__init__(
            f"The member may not be called now: {decision.detail}.",
            reason=decision.reason.value if decision.reason else None,
            retry_after=retry.isoformat() if retry else None,
        )


def reason(kind: CallKind | str, code: str, text: str, source: str, at: datetime) -> dict[str, Any]:
    """One entry of `ServiceCall.reasons`: why the call exists, from where."""
    return {"kind": str(kind), "code": code, "text": text, "source": source, "at": at.isoformat()}


def more_important(a: str, b: str) -> str:
    """The kind a merged call takes (DESIGN §2 precedence)."""
    order = [k.value for k in KIND_PRECEDENCE]
    return a if order.index(a) <= order.index(b) else b


@dataclass(frozen=True)
class Opened:
    call: ServiceCall
    created: bool  # False: the reason merged into the member's open call


class CallService:
    def call_request(
        self, kind: CallKind | str, call_id: uuid.UUID | None = None
    ) -> ContactRequest:
        return ContactRequest(Channel.CALL, Category.SERVICE, str(kind), call_id=call_id)

    async def subject(
        self,
        session: AsyncSession,
        member_id: uuid.UUID,
        as_of: datetime,
        *,
        exclude_call_id: uuid.UUID | None = None,
    ) -> Subject:
        subjects = await contact_policy_service.subjects(
            session,
            [member_id],
            as_of,
            exclude_call_ids=[exclude_call_id] if exclude_call_id else (),
        )
        return subjects[member_id]

    async def open_or_merge(
        self,
        session: AsyncSession,
        member: Member,
        *,
        kind: CallKind,
        reasons: list[dict[str, Any]],
        priority: int,
        due_from: datetime,
        due_until: datetime,
        as_of: datetime,
        source: str,
        membership_id: uuid.UUID | None = None,
        created_by_id: uuid.UUID | None = None,
        notes: str | None = None,
    ) -> Opened:
        existing = await repository.open_call_for_update(session, member.id)
        if existing is not None:
            self.merge(existing, kind, reasons, priority, due_from, due_until, membership_id)
            return Opened(existing, created=False)

        subject = await self.subject(session, member.id, as_of)
        decision = subject.decide(self.call_request(kind), as_of)
        next_at = max(due_from, as_of)
        if not decision.allowed:
            later = decision.next_allowed_at
            if later is None or later >= due_until or decision.reason is Reason.OPEN_CALL:
                raise ContactNotAllowed(decision)
            next_at = max(next_at, later)
        call = ServiceCall(
            club_id=member.club_id,
            member_id=member.id,
            membership_id=membership_id,
            kind=kind.value,
            reasons=list(reasons),
            priority=priority,
            due_from=due_from,
            due_until=due_until,
            next_attempt_at=next_at,
            status=CallStatus.SCHEDULED.value,
            attempts=0,
            source=source,
            created_by_id=created_by_id,
            notes=notes,
            created_at=as_of,
            updated_at=as_of,
        )
        try:
            async with session.begin_nested():
                session.add(call)
                await session.flush()
        except IntegrityError:
            # Another transaction opened this member's call first: merge into it.
            existing = await repository.open_call_for_update(session, member.id)
            if existing is None:
                raise
            self.merge(existing, kind, reasons, priority, due_from, due_until, membership_id)
            return Opened(existing, created=False)
        if next_at <= as_of:
            await self.mark_due(session, call, as_of)
        return Opened(call, created=True)

    @staticmethod
    def merge(
        call: ServiceCall,
        kind: CallKind,
        reasons: list[dict[str, Any]],
        priority: int,
        due_from: datetime,
        due_until: datetime,
        membership_id: uuid.UUID | None,
    ) -> None:
        known = {(r.get("code"), r.get("kind")) for r in call.reasons}
        fresh = [r for r in reasons if (r.get("code"), r.get("kind")) not in known]
        if fresh:
            call.reasons = [*call.reasons, *fresh]
        call.kind = more_important(call.kind, kind.value)
        call.priority = max(call.priority, priority)
        call.due_from = min(call.due_from, due_from)
        call.due_until = max(call.due_until, due_until)
        if call.membership_id is None and membership_id is not None:
            call.membership_id = membership_id

    async def mark_due(self, session: AsyncSession, call: ServiceCall, as_of: datetime) -> None:
        """scheduled -> due, with `call.due` emitted once per call (`due_notified_at`)."""
        if call.status == CallStatus.SCHEDULED.value:
            call.status = CallStatus.DUE.value
        if call.due_notified_at is None:
            call.due_notified_at = as_of
            await emit(
                session,
                "call.due",
                {
                    "call_id": call.id,
                    "member_id": call.member_id,
                    "membership_id": call.membership_id,
                    "kind": call.kind,
                    "priority": call.priority,
                    "due_until": call.due_until,
                    "assignee_id": call.assignee_id,
                },
                club_id=call.club_id,
            )


call_service = CallService()
