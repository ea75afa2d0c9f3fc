"""Outreach: playbooks, the effects they materialise, service calls and their attempts.

The uniqueness that keeps outreach idempotent lives here, in the database:

- `playbook_effects (member_id, step_key, anchor)` — one effect per member, playbook step
  and anchor period (the membership whose start/end/freeze triggered it, the birthday
  year, the no-show meeting, the resolved complaint, the month). Running the playbook
  job twice, or in two replicas at once, creates nothing twice.
- `service_calls` partial unique index on `member_id` over the open statuses — a member
  has at most one open call; new reasons merge into it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class Trigger(StrEnum):
    PURCHASE = "purchase"
    EXPIRY_APPROACHING = "expiry_approaching"
    LAPSE = "lapse"
    FREEZE_ENDED = "freeze_ended"
    BIRTHDAY = "birthday"
    MEETING_NO_SHOW = "meeting_no_show"
    COMPLAINT_RESOLVED = "complaint_resolved"
    # Once per club-local calendar month (the "what's new" message).
    MONTHLY = "monthly"


class StepAction(StrEnum):
    CALL = "call"
    MESSAGE = "message"
    TASK = "task"


class CallKind(StrEnum):
    WELCOME = "welcome"
    ONBOARDING = "onboarding"
    LAPSE = "lapse"
    RENEWAL = "renewal"
    POST_FREEZE = "post_freeze"
    BIRTHDAY = "birthday"
    FEEDBACK = "feedback"
    NO_SHOW = "no_show"
    COMPLAINT_FOLLOW_UP = "complaint_follow_up"


# DESIGN §2: a merged call takes the most important kind among its reasons (first wins).
KIND_PRECEDENCE: tuple[CallKind, ...] = (
    CallKind.COMPLAINT_FOLLOW_UP,
    CallKind.LAPSE,
    CallKind.RENEWAL,
    CallKind.NO_SHOW,
    CallKind.POST_FREEZE,
    CallKind.WELCOME,
    CallKind.ONBOARDING,
    CallKind.FEEDBACK,
    CallKind.BIRTHDAY,
)


class CallStatus(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its due window (or the next allowed time)
    DUE = "due"  # callable now; `call.due` emitted once
    IN_PROGRESS = "in_progress"  # a caller is on it (attempted, to be retried)
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # closed as moot or by staff, with `close_reason`
    EXPIRED = "expired"  # the window passed or the attempts ran out


OPEN_CALL_STATUSES: tuple[CallStatus, ...] = (
    CallStatus.SCHEDULED,
    CallStatus.DUE,
    CallStatus.IN_PROGRESS,
)


class CallOutcome(StrEnum):
    """What one attempt achieved. There is deliberately no "sold": the phone books
    meetings (DESIGN principle 2)."""

    MEETING_BOOKED = "meeting_booked"
    CALLBACK_REQUESTED = "callback_requested"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    DECLINED = "declined"
    WRONG_NUMBER = "wrong_number"
    DO_NOT_CALL = "do_not_call"
    COMPLAINT = "complaint"


def _in(column: str, values: Any) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


_OPEN_CALL_SQL = _in("status", OPEN_CALL_STATUSES)


class Playbook(TimestampMixin, Base):
    """One club's touchpoint plan; its steps are `playbook_steps`. `version` is the
    playbook's ETag: PUT replaces every step and bumps it."""

    __tablename__ = "playbooks"

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))

    __mapper_args__ = {"version_id_col": version}


class PlaybookStep(IdMixin, Base):
    """One step: when (`trigger` + `offset_days`, callable for `window_days`), what
    (`action` with a call kind, a message template or a task title) and how urgent."""

    __tablename__ = "playbook_steps"
    __table_args__ = (
        UniqueConstraint("club_id", "key"),
        CheckConstraint(_in("trigger", Trigger), name="trigger"),
        CheckConstraint(_in("action", StepAction), name="action"),
        CheckConstraint(f"call_kind IS NULL OR {_in('call_kind', CallKind)}", name="call_kind"),
        CheckConstraint("window_days >= 0", name="window_days"),
        CheckConstraint("priority >= 0 AND priority <= 100", name="priority"),
        CheckConstraint(
            "(action = 'call' AND call_kind IS NOT NULL)"
            " OR (action = 'message' AND template IS NOT NULL)"
            " OR (action = 'task' AND title IS NOT NULL)",
            name="action_target",
        ),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("playbooks.club_id", ondelete="CASCADE"), index=True
    )
    # Stable slug (e.g. "welcome_call"): the effects' uniqueness key, survives edits.
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(SmallInteger)
    trigger: Mapped[str] = mapped_column(String(32))
    # Days after the trigger date (negative: before it, e.g. before the membership end).
    offset_days: Mapped[int] = mapped_column(Integer)
    # The step is live from trigger + offset for this many more days.
    window_days: Mapped[int] = mapped_column(Integer, default=0)
    action: Mapped[str] = mapped_column(String(16))
    call_kind: Mapped[str | None] = mapped_column(String(32))
    template: Mapped[str | None] = mapped_column(String(64))
    # service | marketing (messages); marketing needs marketing consent
    category: Mapped[str] = mapped_column(String(16), default="service")
    title: Mapped[str | None] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(SmallInteger, default=50)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Only members whose risk level is one of these (lapse trigger); null: any.
    risk_levels: Mapped[list[str] | None] = mapped_column(default=None)


class PlaybookEffect(IdMixin, Base):
    """What the playbook did for one (member, step, anchor): a call (new or merged into
    the open one), a queued message, a task, or a skip with why. The unique key is the
    idempotency of the playbook job."""

    __tablename__ = "playbook_effects"
    __table_args__ = (
        UniqueConstraint("member_id", "step_key", "anchor"),
        CheckConstraint("status IN ('open', 'done', 'skipped')", name="status"),
        Index("ix_playbook_effects_club_id_created_at", "club_id", "created_at"),
        Index("ix_playbook_effects_club_id_action_status", "club_id", "action", "status"),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    membership_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("memberships.id"))
    step_key: Mapped[str] = mapped_column(String(64))
    # The anchor period, e.g. "membership:<id>", "birthday:2026", "month:2026-11".
    anchor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(16))
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service_calls.id"))
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id"))
    title: Mapped[str | None] = mapped_column(String(200))
    # Tasks: open -> done; calls/messages: done; a step the policy refused: skipped.
    status: Mapped[str] = mapped_column(String(16))
    skip_reason: Mapped[str | None] = mapped_column(String(64))
    due_on: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]


class ServiceCall(IdMixin, TimestampMixin, Base):
    """A task for a caller whose only positive outcome is a meeting booked in the club.

    `reasons` is a list of `{"kind", "code", "text", "source", "at"}`: every reason the
    call exists, merged from the playbook, the lapse scan and staff. `next_attempt_at`
    is when the caller may dial next (the contact policy's next allowed time, a
    requested callback or a no-answer retry)."""

    __tablename__ = "service_calls"
    __table_args__ = (
        CheckConstraint(_in("kind", CallKind), name="kind"),
        CheckConstraint(_in("status", CallStatus), name="status"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', CallOutcome)}", name="outcome"),
        CheckConstraint("due_from < due_until", name="due_window"),
        CheckConstraint("priority >= 0 AND priority <= 100", name="priority"),
        CheckConstraint("attempts >= 0", name="attempts"),
        # A member has at most one open call (DESIGN §3): enforced here, not only in Python.
        Index(
            "ix_service_calls_member_id_open",
            "member_id",
            unique=True,
            postgresql_where=text(_OPEN_CALL_SQL),
            sqlite_where=text(_OPEN_CALL_SQL),
        ),
        # The queue: a club's calls by status, most urgent first.
        Index("ix_service_calls_club_id_status_due_from", "club_id", "status", "due_from"),
        Index("ix_service_calls_assignee_id_status", "assignee_id", "status"),
        Index("ix_service_calls_member_id_created_at", "member_id", "created_at"),
        Index("ix_service_calls_status_next_attempt_at", "status", "next_attempt_at"),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    membership_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("memberships.id"))
    kind: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[list[Any]]
    priority: Mapped[int] = mapped_column(SmallInteger, default=50)
    due_from: Mapped[datetime]
    due_until: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=CallStatus.SCHEDULED.value)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    # playbook | lapse_scan | manual | meeting | complaint
    source: Mapped[str] = mapped_column(String(32))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    # The final outcome (the attempt that closed it), the meeting it booked.
    outcome: Mapped[str | None] = mapped_column(String(32))
    meeting_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("meetings.id"))
    callback_at: Mapped[datetime | None]
    # Set once `call.due` was emitted: never twice, whoever runs the job.
    due_notified_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class CallAttempt(IdMixin, Base):
    """One dial: who, when, what came of it."""

    __tablename__ = "call_attempts"
    __table_args__ = (
        CheckConstraint(_in("outcome", CallOutcome), name="outcome"),
        CheckConstraint(
            "decline_reason IS NULL OR decline_reason IN ('price', 'schedule', 'moved', "
            "'health', 'dissatisfied', 'competitor', 'no_time', 'other')",
            name="decline_reason",
        ),
        CheckConstraint("outcome <> 'declined' OR decline_reason IS NOT NULL", name="declined"),
        Index("ix_call_attempts_call_id_attempted_at", "call_id", "attempted_at"),
        Index("ix_call_attempts_club_id_attempted_at", "club_id", "attempted_at"),
        Index("ix_call_attempts_member_id_attempted_at", "member_id", "attempted_at"),
    )

    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_calls.id"))
    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    # The call's kind when this attempt was made (analytics by kind).
    call_kind: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(32))
    decline_reason: Mapped[str | None] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    callback_at: Mapped[datetime | None]
    meeting_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("meetings.id"))
    complaint_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("complaints.id"))
    attempted_at: Mapped[datetime]


class ComplaintSeverity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ComplaintStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"


class Complaint(IdMixin, TimestampMixin, Base):
    """A tracked case (DESIGN principle 8): owner, due time by severity, resolution,
    root cause and compensation applied to the membership."""

    __tablename__ = "complaints"
    __table_args__ = (
        CheckConstraint(_in("severity", ComplaintSeverity), name="severity"),
        CheckConstraint(_in("status", ComplaintStatus), name="status"),
        CheckConstraint(
            "compensation_bonus_days IS NULL OR compensation_bonus_days > 0", name="bonus_days"
        ),
        CheckConstraint(
            "compensation_free_sessions IS NULL OR compensation_free_sessions > 0",
            name="free_sessions",
        ),
        Index("ix_complaints_club_id_status_due_at", "club_id", "status", "due_at"),
        Index("ix_complaints_member_id_created_at", "member_id", "created_at"),
        Index("ix_complaints_club_id_resolved_at", "club_id", "resolved_at"),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    membership_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("memberships.id"))
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service_calls.id"))
    meeting_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("meetings.id"))
    # call | desk | app | email | social | meeting | other
    source: Mapped[str] = mapped_column(String(16))
    # staff | cleanliness | equipment | classes | crowding | billing | facilities | other
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ComplaintStatus.OPEN.value)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    reported_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    due_at: Mapped[datetime]
    resolution: Mapped[str | None] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(String(32))
    compensation_bonus_days: Mapped[int | None] = mapped_column(Integer)
    compensation_free_sessions: Mapped[int | None] = mapped_column(Integer)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
