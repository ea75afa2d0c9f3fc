"""Access decisions: which membership speaks for the member, and what it allows.

Pure functions over already-loaded facts; the service loads them and counts visits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

from app.memberships.status import MembershipStatus, status_on
from app.models import Freeze, Membership


class AccessReason(StrEnum):
    OK = "ok"
    NO_MEMBERSHIP = "no_membership"
    EXPIRED = "expired"
    NOT_STARTED = "not_started"
    FROZEN = "frozen"
    OUTSIDE_PLAN_HOURS = "outside_plan_hours"
    VISIT_LIMIT_REACHED = "visit_limit_reached"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Term:
    """A membership as the access decision sees it on one club-local date."""

    membership_id: uuid.UUID
    start_date: date
    end_date: date
    status: MembershipStatus
    visit_limit: int | None
    access_hours: list[Any] | None


@dataclass(frozen=True, slots=True)
class MembershipFacts:
    """A membership's raw facts, loaded without a date in mind (the PostgreSQL check-in
    statement loads them before it knows the club's local date)."""

    membership_id: uuid.UUID
    start_date: date
    end_date: date
    cancelled: bool
    visit_limit: int | None
    access_hours: list[Any] | None
    freezes: list[tuple[date, date]]  # live (not cancelled) freezes, inclusive


_CANCELLED = datetime(2000, 1, 1, tzinfo=UTC)


def terms_on(facts: Sequence[MembershipFacts], day: date) -> list[Term]:
    """Terms with their status on `day`, by `memberships.status.status_on` (the Python
    twin of the SQL rule the portable path uses), on transient, never-persisted rows."""
    out = []
    for f in facts:
        membership = Membership(
            id=f.membership_id,
            start_date=f.start_date,
            end_date=f.end_date,
            cancelled_at=_CANCELLED if f.cancelled else None,
        )
        freezes = [
            Freeze(membership_id=f.membership_id, start_date=s, end_date=e, cancelled_at=None)
            for s, e in f.freezes
        ]
        status = status_on(membership, freezes, day)
        out.append(
            Term(f.membership_id, f.start_date, f.end_date, status, f.visit_limit, f.access_hours)
        )
    return out


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: AccessReason
    membership_id: uuid.UUID | None = None


def precedence(terms: Sequence[Term]) -> tuple[list[Term], Decision | None]:
    """Order the member's memberships for a decision on one local date.

    1. `active` ones (the term covers the date, not frozen, not cancelled), newest start
       first: these are checked for plan hours and visit limit, and the first that
       admits the member decides `ok`; if none does, the first one's denial stands.
    2. Otherwise a `frozen` one (the term covers the date) -> `frozen`.
    3. Otherwise a `pending` one (starts later; the earliest start) -> `not_started`:
       a member between an expired card and a renewal that has not begun is told
       about the renewal, not the past.
    4. Otherwise the most recent contract (latest start) among `expired` and
       `cancelled` ones -> `expired` or `cancelled`.
    5. No membership at all -> `no_membership`.

    Returns the active terms to evaluate (in order) and, when there are none, the
    decision already reached.
    """
    active = sorted(
        (t for t in terms if t.status is MembershipStatus.ACTIVE),
        key=lambda t: (t.start_date, t.membership_id),
        reverse=True,
    )
    if active:
        return active, None
    frozen = [t for t in terms if t.status is MembershipStatus.FROZEN]
    if frozen:
        first = max(frozen, key=lambda t: (t.start_date, t.membership_id))
        return [], Decision(False, AccessReason.FROZEN, first.membership_id)
    pending = [t for t in terms if t.status is MembershipStatus.PENDING]
    if pending:
        first = min(pending, key=lambda t: (t.start_date, t.membership_id))
        return [], Decision(False, AccessReason.NOT_STARTED, first.membership_id)
    past = [t for t in terms if t.status in (MembershipStatus.EXPIRED, MembershipStatus.CANCELLED)]
    if past:
        last = max(past, key=lambda t: (t.start_date, t.membership_id))
        reason = (
            AccessReason.CANCELLED
            if last.status is MembershipStatus.CANCELLED
            else AccessReason.EXPIRED
        )
        return [], Decision(False, reason, last.membership_id)
    return [], Decision(False, AccessReason.NO_MEMBERSHIP)


def _clock(value: Any) -> time | None:
    """'HH:MM' -> time; '24:00' -> None (end of day)."""
    text = str(value)
    if text == "24:00":
        return None
    return time.fromisoformat(text)


def within_hours(access_hours: list[Any] | None, local: datetime) -> bool:
    """Whether club-local wall time `local` falls in the plan's access hours.

    `access_hours` is `[{"weekday": 1..7, "from": "HH:MM", "to": "HH:MM"}]` (ISO weekdays,
    `to` exclusive, "24:00" = end of day); null means any time. A window whose `to` is
    not after `from` runs past midnight into the next weekday. A malformed window admits
    nobody rather than everybody.
    """
    if access_hours is None:
        return True
    weekday = local.isoweekday()
    previous = 7 if weekday == 1 else weekday - 1
    now = local.time().replace(tzinfo=None)
    for window in access_hours:
        try:
            day = int(window["weekday"])
            start = _clock(window["from"])
            end = _clock(window["to"])
        except (KeyError, TypeError, ValueError):
            continue
        if start is None:
            continue
        if end is None or end > start:
            if day == weekday and start <= now and (end is None or now < end):
                return True
        elif (day == weekday and now >= start) or (day == previous and now < end):
            return True
    return False
