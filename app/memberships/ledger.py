"""Low-level ledger operations shared by the membership and freeze services: the club's
local today, keeping `end_date` in step with freezes and bonus days, and emitting each
freeze event exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Principal, Role
from app.core.timezones import local_date
from app.errors import NotFound, RuleViolation
from app.events.service import emit
from app.memberships import repository
from app.memberships.schemas import FreezeStatus
from app.memberships.terms import effective_end_date
from app.models import Freeze, Membership


def is_manager(actor: Principal | None) -> bool:
    """Managers and admins may enter history (past dates) and set prices."""
    return actor is not None and (actor.is_admin or Role.MANAGER in actor.roles)


async def club_today(session: AsyncSession, club_id: uuid.UUID, as_of: datetime) -> date:
    club = await repository.club(session, club_id)
    if club is None:  # a foreign key guarantees it; this is a broken database
        raise NotFound("Club not found.", code="club_not_found")
    return local_date(club.timezone, as_of)


def freeze_status(freeze: Freeze, today: date) -> FreezeStatus:
    if freeze.cancelled_at is not None:
        return FreezeStatus.CANCELLED
    if today < freeze.start_date:
        return FreezeStatus.SCHEDULED
    if today > freeze.end_date:
        return FreezeStatus.ENDED
    return FreezeStatus.RUNNING


def check_term(membership: Membership, live: Sequence[Freeze]) -> None:
    """Every live freeze must lie inside the term that the *other* freezes and the bonus
    days give. Shortening or cancelling one freeze pulls the end back, which could leave
    a later freeze hanging past the end of the term: that change is refused."""
    total = sum(f.days for f in live)
    for f in live:
        others_end = effective_end_date(
            membership.base_end_date,
            frozen_days=total - f.days,
            bonus_days=membership.bonus_days,
        )
        if f.start_date < membership.start_date or f.end_date > others_end:
            raise RuleViolation(
                f"The freeze {f.start_date}..{f.end_date} would lie outside the membership "
                f"term; cancel or shorten it first.",
                code="freeze_outside_term",
            )


def reconcile(
    session: AsyncSession,
    actor: Principal | None,
    membership: Membership,
    live: Sequence[Freeze],
    *,
    action: str,
    details: dict[str, Any],
) -> None:
    """Recompute frozen days and the end date from the live freezes; audit the change."""
    before = {
        "end_date": membership.end_date,
        "frozen_days": membership.frozen_days,
        "bonus_days": membership.bonus_days,
    }
    membership.frozen_days = sum(f.days for f in live)
    membership.end_date = effective_end_date(
        membership.base_end_date,
        frozen_days=membership.frozen_days,
        bonus_days=membership.bonus_days,
    )
    after = {
        "end_date": membership.end_date,
        "frozen_days": membership.frozen_days,
        "bonus_days": membership.bonus_days,
    }
    audit_service.record(
        session,
        actor,
        entity="membership",
        entity_id=membership.id,
        action=action,
        changes={**audit_service.diff(before, after), **details},
        club_id=membership.club_id,
    )


def freeze_payload(freeze: Freeze, membership: Membership) -> dict[str, Any]:
    # The reason stays out: it is free text that may carry health details.
    return {
        "freeze_id": freeze.id,
        "membership_id": membership.id,
        "member_id": membership.member_id,
        "club_id": membership.club_id,
        "start_date": freeze.start_date,
        "end_date": freeze.end_date,
        "days": freeze.days,
        "membership_end_date": membership.end_date,
    }


async def emit_started(
    session: AsyncSession, freeze: Freeze, membership: Membership, at: datetime
) -> bool:
    """freeze.started, unless already emitted (by the job or a concurrent request)."""
    if not await repository.claim_started_event(session, freeze.id, at):
        return False
    await emit(
        session, "freeze.started", freeze_payload(freeze, membership), club_id=freeze.club_id
    )
    return True


async def emit_ended(
    session: AsyncSession, freeze: Freeze, membership: Membership, at: datetime
) -> bool:
    """freeze.ended once; a freeze.started that never went out goes out first, so every
    consumer sees the pair in order."""
    await emit_started(session, freeze, membership, at)
    if not await repository.claim_ended_event(session, freeze.id, at):
        return False
    await emit(session, "freeze.ended", freeze_payload(freeze, membership), club_id=freeze.club_id)
    return True


async def close_if_started(
    session: AsyncSession, freeze: Freeze, membership: Membership, at: datetime
) -> bool:
    """freeze.ended for a freeze withdrawn on its first day: only if its start went out."""
    if not await repository.claim_ended_event(session, freeze.id, at, only_if_started=True):
        return False
    await emit(session, "freeze.ended", freeze_payload(freeze, membership), club_id=freeze.club_id)
    return True
