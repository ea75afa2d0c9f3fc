"""Freezes: pausing a membership. The end date moves by the frozen days.

Every change takes the membership row lock first (`repository.lock`), then re-reads the
freezes, so two concurrent requests on one membership are judged one after the other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.core.clock import utcnow
from app.core.etags import check_if_match
from app.core.pagination import PageParams, SortKey, paginate
from app.core.timezones import local_date
from app.errors import Conflict, Forbidden, NotFound, RuleViolation
from app.events.service import emit
from app.memberships import ledger, repository
from app.memberships.schemas import FreezeCreate, FreezeStatus
from app.memberships.status import MembershipStatus, status_on
from app.models import Freeze, Membership, Plan

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class FreezeView:
    freeze: Freeze
    status: FreezeStatus


def _invalid(detail: str, pointer: str = "/end_date") -> RuleViolation:
    return RuleViolation(
        detail, code="validation_error", errors=[{"pointer": pointer, "detail": detail}]
    )


class FreezeService:
    # ------------------------------------------------------------------ loading

    async def get(
        self, session: AsyncSession, membership: Membership, freeze_id: uuid.UUID
    ) -> Freeze:
        """A freeze of this membership; any other (another member's, another club's) is
        reported as missing."""
        freeze = await repository.get_freeze(session, freeze_id)
        if freeze is None or freeze.membership_id != membership.id:
            raise NotFound("Freeze not found.", code="freeze_not_found")
        return freeze

    async def view(
        self, session: AsyncSession, freeze: Freeze, *, as_of: datetime | None = None
    ) -> FreezeView:
        today = await ledger.club_today(session, freeze.club_id, as_of or utcnow())
        return FreezeView(freeze, ledger.freeze_status(freeze, today))

    async def _locked(
        self, session: AsyncSession, membership: Membership
    ) -> tuple[Membership, list[Freeze], Plan]:
        locked = await repository.lock(session, membership.id)
        if locked is None:
            raise NotFound("Membership not found.", code="membership_not_found")
        live = await repository.freezes_of(session, [locked.id])
        plan = await repository.plan(session, locked.plan_id)
        assert plan is not None  # foreign key
        return locked, live, plan

    # ------------------------------------------------------------------- create

    async def create(
        self,
        session: AsyncSession,
        actor: Principal,
        membership: Membership,
        data: FreezeCreate,
        *,
        as_of: datetime | None = None,
    ) -> FreezeView:
        """Freeze `membership` from `start_date` to `end_date` (inclusive).

        Checked in this order: the membership is active or frozen today
        (`membership_not_active`); a start before today needs a manager
        (`backdating_not_allowed`); the freeze lies inside the current term
        (`freeze_outside_term`); no overlap with a live freeze (`freeze_overlap`); the
        plan's policy: count, min and max days, total days (`freeze_limit_reached`,
        `freeze_too_short`, `freeze_too_long`, `freeze_total_exceeded`).
        """
        as_of = as_of or utcnow()
        m, live, plan = await self._locked(session, membership)
        today = await ledger.club_today(session, m.club_id, as_of)
        status = status_on(m, live, today)
        if status not in (MembershipStatus.ACTIVE, MembershipStatus.FROZEN):
            raise RuleViolation(
                f"Only an active membership can be frozen; this one is {status.value}.",
                code="membership_not_active",
            )
        if data.start_date < today and not ledger.is_manager(actor):
            raise Forbidden(
                "Only managers and admins may enter a freeze that started in the past.",
                code="backdating_not_allowed",
            )
        if data.start_date < m.start_date or data.end_date > m.end_date:
            raise RuleViolation(
                f"A freeze must lie inside the membership term {m.start_date}..{m.end_date}.",
                code="freeze_outside_term",
            )
        for other in live:
            if other.start_date <= data.end_date and data.start_date <= other.end_date:
                raise Conflict(
                    f"Overlaps the freeze {other.start_date}..{other.end_date}.",
                    code="freeze_overlap",
                    freeze_id=str(other.id),
                )
        days = (data.end_date - data.start_date).days + 1
        if len(live) >= plan.freeze_max_count:
            raise RuleViolation(
                "This plan cannot be frozen."
                if plan.freeze_max_count == 0
                else f"This plan allows {plan.freeze_max_count} freeze(s) per term; all used.",
                code="freeze_limit_reached",
            )
        if days < plan.freeze_min_days:
            raise RuleViolation(
                f"A freeze lasts at least {plan.freeze_min_days} days; this is {days}.",
                code="freeze_too_short",
            )
        if days > plan.freeze_max_days:
            raise RuleViolation(
                f"A freeze lasts at most {plan.freeze_max_days} days; this is {days}.",
                code="freeze_too_long",
            )
        used = sum(f.days for f in live)
        if used + days > plan.freeze_max_total_days:
            raise RuleViolation(
                f"This plan allows {plan.freeze_max_total_days} frozen days per term; "
                f"{used} used, {days} asked.",
                code="freeze_total_exceeded",
            )
        freeze = Freeze(
            club_id=m.club_id,
            membership_id=m.id,
            start_date=data.start_date,
            end_date=data.end_date,
            reason=data.reason,
            fee=plan.freeze_fee,
            created_by_id=actor.staff_id,
        )
        session.add(freeze)
        await session.flush()
        ledger.reconcile(
            session,
            actor,
            m,
            [*live, freeze],
            action="freeze_added",
            details={
                "freeze_id": freeze.id,
                "freeze": [freeze.start_date, freeze.end_date],
                "fee": freeze.fee,
            },
        )
        await session.flush()
        # Started today (or entered after the fact): report now; later: the daily job.
        if freeze.start_date <= today:
            await ledger.emit_started(session, freeze, m, as_of)
        if freeze.end_date <= today:
            await ledger.emit_ended(session, freeze, m, as_of)
        return FreezeView(freeze, ledger.freeze_status(freeze, today))

    # ---------------------------------------------------------------- end early

    async def end_early(
        self,
        session: AsyncSession,
        actor: Principal,
        membership: Membership,
        freeze: Freeze,
        new_end: date,
        *,
        if_match: str | None,
        require_if_match: bool,
        as_of: datetime | None = None,
    ) -> FreezeView:
        """Move a freeze's end earlier; the membership's end moves back by the same days."""
        as_of = as_of or utcnow()
        m, live, plan = await self._locked(session, membership)
        freeze = await self._fresh(session, freeze)
        check_if_match(if_match, freeze.id, freeze.version, required=require_if_match)
        today = await ledger.club_today(session, m.club_id, as_of)
        state = ledger.freeze_status(freeze, today)
        if state is FreezeStatus.CANCELLED:
            raise Conflict("This freeze was cancelled.", code="freeze_already_cancelled")
        if state is FreezeStatus.ENDED:
            raise Conflict("This freeze has already ended.", code="freeze_already_ended")
        if new_end < freeze.start_date:
            raise _invalid(f"end_date must not be before the start {freeze.start_date}.")
        if new_end >= freeze.end_date:
            raise RuleViolation(
                f"A freeze can only be ended earlier than its end {freeze.end_date}.",
                code="freeze_end_not_earlier",
            )
        if state is FreezeStatus.RUNNING and new_end < today:
            raise RuleViolation(
                f"A running freeze cannot end before today ({today}).",
                code="freeze_end_in_past",
            )
        days = (new_end - freeze.start_date).days + 1
        if state is FreezeStatus.SCHEDULED and days < plan.freeze_min_days:
            raise RuleViolation(
                f"A freeze lasts at least {plan.freeze_min_days} days; this would be {days}.",
                code="freeze_too_short",
            )
        old_end = freeze.end_date
        freeze.end_date = new_end
        if state is FreezeStatus.RUNNING:
            freeze.ended_early_at = as_of
        ledger.check_term(m, live)
        ledger.reconcile(
            session,
            actor,
            m,
            live,
            action="freeze_ended_early" if state is FreezeStatus.RUNNING else "freeze_shortened",
            details={"freeze_id": freeze.id, "freeze_end_date": [old_end, new_end]},
        )
        await session.flush()
        if state is FreezeStatus.RUNNING:
            await ledger.emit_ended(session, freeze, m, as_of)
        return FreezeView(freeze, ledger.freeze_status(freeze, today))

    # ------------------------------------------------------------------- cancel

    async def cancel(
        self,
        session: AsyncSession,
        actor: Principal,
        membership: Membership,
        freeze: Freeze,
        *,
        if_match: str | None,
        require_if_match: bool,
        as_of: datetime | None = None,
    ) -> FreezeView:
        """Withdraw a freeze that has not started; the membership's end moves back."""
        as_of = as_of or utcnow()
        m, live, _ = await self._locked(session, membership)
        freeze = await self._fresh(session, freeze)
        check_if_match(if_match, freeze.id, freeze.version, required=require_if_match)
        today = await ledger.club_today(session, m.club_id, as_of)
        state = ledger.freeze_status(freeze, today)
        if state is FreezeStatus.CANCELLED:
            raise Conflict("This freeze was already cancelled.", code="freeze_already_cancelled")
        if state is not FreezeStatus.SCHEDULED:
            raise Conflict(
                "This freeze has started; end it early instead (PATCH end_date).",
                code="freeze_already_started",
            )
        freeze.cancelled_at = as_of
        remaining = [f for f in live if f.id != freeze.id]
        ledger.check_term(m, remaining)
        ledger.reconcile(
            session,
            actor,
            m,
            remaining,
            action="freeze_cancelled",
            details={"freeze_id": freeze.id, "freeze": [freeze.start_date, freeze.end_date]},
        )
        await session.flush()
        return FreezeView(freeze, FreezeStatus.CANCELLED)

    async def _fresh(self, session: AsyncSession, freeze: Freeze) -> Freeze:
        # Re-read under the membership lock: the copy loaded before it may be stale.
        for f in await repository.freezes_of(session, [freeze.membership_id], live_only=False):
            if f.id == freeze.id:
                return f
        raise NotFound("Freeze not found.", code="freeze_not_found")

    # ------------------------------------------------------ for other domains

    async def end_on_visit(
        self,
        session: AsyncSession,
        membership_id: uuid.UUID,
        visit_date: date,
        *,
        actor: Principal | None = None,
        as_of: datetime | None = None,
    ) -> Freeze | None:
        """End the freeze running on `visit_date` because the member came in that day.

        For clubs with `freeze_ends_on_visit` (the caller, check-ins, applies that
        setting). The visit day counts as an *active* day: the freeze ends on
        `visit_date - 1`, and the membership end moves back by the unused days. A visit
        on the freeze's first day withdraws the freeze entirely (cancelled, zero days).
        Returns the freeze changed, or None when no freeze covers `visit_date` (calling
        it again for the same visit is therefore harmless). Emits `freeze.ended`.
        """
        as_of = as_of or utcnow()
        m = await repository.lock(session, membership_id)
        if m is None or m.cancelled_at is not None:
            return None
        freeze = await repository.running_freeze(session, m.id, visit_date)
        if freeze is None:
            return None
        live = await repository.freezes_of(session, [m.id])
        old_end = freeze.end_date
        if visit_date == freeze.start_date:
            freeze.cancelled_at = as_of
            live = [f for f in live if f.id != freeze.id]
            action = "freeze_withdrawn_on_visit"
        else:
            freeze.end_date = visit_date - timedelta(days=1)
            freeze.ended_early_at = as_of
            action = "freeze_ended_on_visit"
        # A later freeze that now hangs past the term is left as it is: the visit
        # happened, and refusing it would keep a present member frozen. It is logged.
        try:
            ledger.check_term(m, live)
        except RuleViolation:
            log.warning("freeze_outside_term_after_visit", membership_id=str(m.id))
        ledger.reconcile(
            session,
            actor,
            m,
            live,
            action=action,
            details={
                "freeze_id": freeze.id,
                "visit_date": visit_date,
                "freeze_end_date": [old_end, freeze.end_date],
            },
        )
        await session.flush()
        if freeze.cancelled_at is not None:
            await ledger.close_if_started(session, freeze, m, as_of)
        else:
            await ledger.emit_ended(session, freeze, m, as_of)
        return freeze

    async def on_membership_cancelled(
        self,
        session: AsyncSession,
        actor: Principal,
        membership: Membership,
        live: list[Freeze],
        today: date,
        as_of: datetime,
    ) -> list[Freeze]:
        """A cancelled membership keeps no plans: scheduled freezes are withdrawn and a
        running one is reported ended. Returns the freezes still counted."""
        kept: list[Freeze] = []
        for f in live:
            state = ledger.freeze_status(f, today)
            if state is FreezeStatus.SCHEDULED:
                f.cancelled_at = as_of
                continue
            kept.append(f)
            if state is FreezeStatus.RUNNING:
                await ledger.emit_ended(session, f, membership, as_of)
        return kept

    # --------------------------------------------------------------------- job

    async def emit_due_events(self, session: AsyncSession, as_of: datetime) -> dict[str, int]:
        """freeze.started / freeze.ended for every freeze whose start / end day has
        arrived in its club's local date and was not reported yet. Idempotent: each
        freeze is marked in the same statement that selects it."""
        by_day: dict[date, list[str]] = {}
        for tz in await repository.distinct_timezones(session):
            by_day.setdefault(local_date(tz, as_of), []).append(tz)
        started = await repository.claim_due_started(session, by_day, as_of)
        ended = await repository.claim_due_ended(session, by_day, as_of)
        rows = {
            f.id: (f, m)
            for f, m in await repository.freezes_with_memberships(session, [*started, *ended])
        }
        for fid in started:
            f, m = rows[fid]
            await _emit(session, "freeze.started", f, m)
        for fid in ended:
            f, m = rows[fid]
            await _emit(session, "freeze.ended", f, m)
        return {"started": len(started), "ended": len(ended)}

    # -------------------------------------------------------------------- list

    async def list(
        self,
        session: AsyncSession,
        membership: Membership,
        page: PageParams,
        *,
        as_of: datetime | None = None,
    ) -> tuple[list[FreezeView], str | None]:
        today = await ledger.club_today(session, membership.club_id, as_of or utcnow())
        rows, cursor = await paginate(
            session,
            repository.freeze_listing(membership.id),
            [SortKey(Freeze.start_date), SortKey(Freeze.id)],
            page,
            scope=f"freezes:{membership.id}",
            key_of=lambda f: [f.start_date, f.id],
        )
        return [FreezeView(f, ledger.freeze_status(f, today)) for f in rows], cursor


async def _emit(session: AsyncSession, type_: str, freeze: Freeze, membership: Membership) -> None:
    await emit(session, type_, ledger.freeze_payload(freeze, membership), club_id=freeze.club_id)


freeze_service = FreezeService()
