"""Membership status is derived from dates, freezes and cancellation as of the club's
local today — never stored, so no missed job can leave it stale.

`status_on()` decides for loaded objects; `status_case()` is the same rule as SQL for
filters and set-based reads. Keep the two in step (tests cover both on both dialects).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, case, exists, select

from app.models import Freeze, Membership


class MembershipStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    FROZEN = "frozen"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


def freeze_covers(freeze: Freeze, day: date) -> bool:
    return freeze.cancelled_at is None and freeze.start_date <= day <= freeze.end_date


def status_on(membership: Membership, freezes: Iterable[Freeze], today: date) -> MembershipStatus:
    if membership.cancelled_at is not None:
        return MembershipStatus.CANCELLED
    if today < membership.start_date:
        return MembershipStatus.PENDING
    if today > membership.end_date:
        return MembershipStatus.EXPIRED
    if any(freeze_covers(f, today) for f in freezes if f.membership_id == membership.id):
        return MembershipStatus.FROZEN
    return MembershipStatus.ACTIVE


def frozen_on(today: date) -> Any:
    """SQL: the membership has a live freeze covering `today`."""
    return exists(
        select(Freeze.id).where(
            Freeze.membership_id == Membership.id,
            Freeze.cancelled_at.is_(None),
            Freeze.start_date <= today,
            Freeze.end_date >= today,
        )
    )


def status_case(today: date) -> Any:
    """SQL CASE giving the status string of `Membership` rows as of `today`."""
    return case(
        (Membership.cancelled_at.is_not(None), MembershipStatus.CANCELLED.value),
        (Membership.start_date > today, MembershipStatus.PENDING.value),
        (Membership.end_date < today, MembershipStatus.EXPIRED.value),
        (frozen_on(today), MembershipStatus.FROZEN.value),
        else_=MembershipStatus.ACTIVE.value,
    )


def is_status(status: MembershipStatus, today: date) -> Any:
    """SQL filter for one status (cheaper than comparing the CASE)."""
    live = Membership.cancelled_at.is_(None)
    in_term = and_(Membership.start_date <= today, Membership.end_date >= today)
    match status:
        case MembershipStatus.CANCELLED:
            return Membership.cancelled_at.is_not(None)
        case MembershipStatus.PENDING:
            return and_(live, Membership.start_date > today)
        case MembershipStatus.EXPIRED:
            return and_(live, Membership.end_date < today)
        case MembershipStatus.FROZEN:
            return and_(live, in_term, frozen_on(today))
        case MembershipStatus.ACTIVE:
            return and_(live, in_term, ~frozen_on(today))
