from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import cast

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import Base, IdMixin, TimestampMixin
from app.models.club import Club
from app.models.member import Member


class MeetingPurpose(StrEnum):
    RENEWAL = "renewal"
    PLAN_CHANGE = "plan_change"
    FEEDBACK = "feedback"
    ONBOARDING = "onboarding"


class MeetingStatus(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class MeetingResult(StrEnum):
    RENEWED = "renewed"
    SWITCHED_PLAN = "switched_plan"
    DECLINED = "declined"
    POSTPONED = "postponed"


class DeclineReason(StrEnum):
    """Why a member said no (DESIGN §1.7); the same taxonomy serves declined calls."""

    PRICE = "price"
    SCHEDULE = "schedule"
    MOVED = "moved"
    HEALTH = "health"
    DISSATISFIED = "dissatisfied"
    COMPETITOR = "competitor"
    NO_TIME = "no_time"
    OTHER = "other"


# A meeting in these states holds its consultant's time (and the member's).
HOLDS_TIME = (MeetingStatus.BOOKED, MeetingStatus.CONFIRMED, MeetingStatus.ATTENDED)
# Not yet happened and not called off: "upcoming" for the one-renewal-meeting rule.
OPEN = (MeetingStatus.BOOKED, MeetingStatus.CONFIRMED)


def _in(column: str, values: tuple[StrEnum, ...] | type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


_HOLDS_TIME_SQL = _in("status", HOLDS_TIME)
_OPEN_RENEWAL_SQL = f"purpose = 'renewal' AND {_in('status', OPEN)}"


class Meeting(IdMixin, TimestampMixin, Base):
    """An in-club meeting of a member with a consultant (or a trainer, for onboarding).

    `blocked_until` is `ends_at` plus the club's buffer at booking time: a consultant's
    meetings never overlap on `[starts_at, blocked_until)`, which keeps the buffer
    between any two of them. On PostgreSQL exclusion constraints enforce that (and that
    a member is never in two meetings at once); SQLite gets the same check inside its
    serialised write transaction (see meetings.repository).
    """

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint(_in("status", MeetingStatus), name="status"),
        CheckConstraint(_in("purpose", MeetingPurpose), name="purpose"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', MeetingResult)}", name="outcome"),
        CheckConstraint(
            f"decline_reason IS NULL OR {_in('decline_reason', DeclineReason)}",
            name="decline_reason",
        ),
        CheckConstraint("starts_at < ends_at AND ends_at <= blocked_until", name="times"),
        Index("ix_meetings_club_id_starts_at", "club_id", "starts_at"),
        Index("ix_meetings_consultant_id_starts_at", "consultant_id", "starts_at"),
        Index("ix_meetings_member_id_starts_at", "member_id", "starts_at"),
        Index("ix_meetings_status_starts_at", "status", "starts_at"),
        # A member has at most one upcoming renewal meeting.
        Index(
            "ix_meetings_member_id_open_renewal",
            "member_id",
            unique=True,
            postgresql_where=text(_OPEN_RENEWAL_SQL),
            sqlite_where=text(_OPEN_RENEWAL_SQL),
        ),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    consultant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    # The service call that booked it.
    # use_alter: meetings and service_calls reference each other.
    call_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("service_calls.id", use_alter=True), index=True
    )
    booked_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    purpose: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=MeetingStatus.BOOKED.value)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    blocked_until: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    attended_at: Mapped[datetime | None]
    # When it was marked a no-show: the outreach playbook's `meeting_no_show` trigger.
    no_show_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    outcome: Mapped[str | None] = mapped_column(String(16))
    # The membership the meeting produced (renewed / switched_plan): call → meeting → renewal.
    outcome_membership_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("memberships.id"), index=True
    )
    decline_reason: Mapped[str | None] = mapped_column(String(16))
    outcome_notes: Mapped[str | None] = mapped_column(Text)
    outcome_at: Mapped[datetime | None]
    outcome_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    # The start the day-before reminder was queued for; a rescheduled meeting differs
    # and is reminded again. Bookkeeping: written without bumping `version` (no new ETag).
    reminded_for: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    club: Mapped[Club] = relationship(lazy="raise")
    member: Mapped[Member] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


# PostgreSQL only (SQLite has no exclusion constraints; see the class docstring). Their
# names are what meetings.repository maps back to `slot_taken` / `member_has_meeting`.
CONSULTANT_TIME_CONSTRAINT = "ex_meetings_consultant_time"
MEMBER_TIME_CONSTRAINT = "ex_meetings_member_time"
OPEN_RENEWAL_INDEX = "ix_meetings_member_id_open_renewal"

_table = cast(Table, Meeting.__table__)
_t = _table.c
_table.append_constraint(
    ExcludeConstraint(
        (_t.consultant_id, "="),
        (func.tstzrange(_t.starts_at, _t.blocked_until, "[)"), "&&"),
        name=CONSULTANT_TIME_CONSTRAINT,
        using="gist",
        where=text(_HOLDS_TIME_SQL),
    ).ddl_if(dialect="postgresql")
)
_table.append_constraint(
    ExcludeConstraint(
        (_t.member_id, "="),
        (func.tstzrange(_t.starts_at, _t.ends_at, "[)"), "&&"),
        name=MEMBER_TIME_CONSTRAINT,
        using="gist",
        where=text(_HOLDS_TIME_SQL),
    ).ddl_if(dialect="postgresql")
)
