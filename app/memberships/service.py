"""Memberships: a member's contract on a plan. Status is derived, never stored."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Perm, Principal, Role
from app.core.clock import utcnow
from app.core.etags import check_if_match
from app.core.pagination import PageParams, SortKey, paginate
from app.core.timezones import local_date
from app.errors import Conflict, Forbidden, NotFound, RuleViolation
from app.events.service import emit
from app.members.privacy import REDACTED, register_erasure
from app.memberships import ledger, repository
from app.memberships.freeze_service import freeze_service
from app.memberships.pricing import price_sale, record_sale
from app.memberships.schemas import MembershipCreate, MembershipUpdate
from app.memberships.status import MembershipStatus, status_on
from app.memberships.terms import MAX_EXTRA_DAYS, base_end_date, effective_end_date
from app.models import Freeze, Member, Membership

# Historical entries reach back to old systems; sales reach at most two years ahead.
EARLIEST_START = date(2000, 1, 1)
LATEST_START_AHEAD = timedelta(days=731)


@dataclass(frozen=True)
class MembershipView:
    membership: Membership
    status: MembershipStatus


async def _views(
    session: AsyncSession, rows: list[Membership], as_of: datetime
) -> list[MembershipView]:
    zones = await repository.club_timezones(session, list({m.club_id for m in rows}))
    by_membership: dict[uuid.UUID, list[Freeze]] = defaultdict(list)
    for f in await repository.freezes_of(session, [m.id for m in rows]):
        by_membership[f.membership_id].append(f)
    return [
        MembershipView(m, status_on(m, by_membership[m.id], local_date(zones[m.club_id], as_of)))
        for m in rows
    ]


class MembershipService:
    # ------------------------------------------------------------------ loading

    async def get(
        self, session: AsyncSession, actor: Principal, membership_id: uuid.UUID
    ) -> Membership:
        """A membership this caller may see; another club's (or, for a token pinned to
        one member, another member's) is reported as missing."""
        m = await repository.get(session, membership_id)
        if (
            m is None
            or not actor.sees_club(m.club_id)
            or (actor.member_id is not None and actor.member_id != m.member_id)
        ):
            raise NotFound("Membership not found.", code="membership_not_found")
        return m

    async def status_of(
        self, session: AsyncSession, membership: Membership, today: date
    ) -> MembershipStatus:
        """The derived status on club-local `today`."""
        live = await repository.freezes_of(session, [membership.id])
        return status_on(membership, live, today)

    async def view(
        self, session: AsyncSession, membership: Membership, *, as_of: datetime | None = None
    ) -> MembershipView:
        today = await ledger.club_today(session, membership.club_id, as_of or utcnow())
        return MembershipView(membership, await self.status_of(session, membership, today))

    async def current_for_member(
        self, session: AsyncSession, member_id: uuid.UUID, today: date
    ) -> Membership | None:
        """The membership that covers club-local `today` (active or frozen), or None.

        Cancelled memberships never count; pending and expired ones do not cover today.
        With several (say a gym card and a pool card) the one that started last wins.
        """
        return await repository.current_for_member(session, member_id, today)

    # ------------------------------------------------------------------- create

    async def _member(
        self, session: AsyncSession, actor: Principal, member_id: uuid.UUID
    ) -> Member:
        member = await repository.member(session, member_id)
        if (
            member is None
            or not actor.sees_club(member.club_id)
            or (actor.member_id is not None and actor.member_id != member.id)
        ):
            raise NotFound("Member not found.", code="member_not_found")
        if member.erased_at is not None:
            raise RuleViolation("This member's data was erased.", code="member_erased")
        return member

    async def _seller(
        self, session: AsyncSession, staff_id: uuid.UUID, club_id: uuid.UUID
    ) -> uuid.UUID:
        found = await repository.staff_club_ids(session, staff_id)
        if found is None:
            raise NotFound("Staff member not found.", code="staff_not_found")
        staff, clubs = found
        if club_id not in clubs and Role.ADMIN not in staff.roles:
            raise RuleViolation(
                "The seller does not work for this member's club.",
                code="validation_error",
                errors=[{"pointer": "/sold_by_id", "detail": "not staff of the member's club"}],
            )
        return staff.id

    async def create(
        self,
        session: AsyncSession,
        actor: Principal,
        data: MembershipCreate,
        *,
        as_of: datetime | None = None,
        renews: Membership | None = None,
        meeting_id: uuid.UUID | None = None,
    ) -> MembershipView:
        """Sell `plan` to `member` from `start_date`; the end date follows `terms`.

        A renewal (app.renewals) passes the membership it `renews` (priced with it, and
        linked by `renews_id`) and the meeting it was agreed at."""
        actor.require(Perm.MEMBERSHIPS_WRITE)
        as_of = as_of or utcnow()
        member = await self._member(session, actor, data.member_id)
        plan = await repository.plan(session, data.plan_id)
        if plan is None or (plan.club_id is not None and not actor.sees_club(plan.club_id)):
            raise NotFound("Plan not found.", code="plan_not_found")
        if plan.club_id is not None and plan.club_id != member.club_id:
            raise RuleViolation(
                "This plan is sold by another club.",
                code="plan_not_available",
                errors=[{"pointer": "/plan_id", "detail": "plan of another club"}],
            )
        if not plan.active:
            raise RuleViolation("This plan is no longer sold.", code="plan_inactive")
        club = await repository.club(session, member.club_id)
        assert club is not None  # foreign key
        if plan.currency != club.currency:
            raise RuleViolation(
                f"This plan is priced in {plan.currency}; the club sells in {club.currency}.",
                code="currency_mismatch",
            )
        today = local_date(club.timezone, as_of)
        manager = ledger.is_manager(actor)
        if data.start_date < today and not manager:
            raise Forbidden(
                f"Only managers and admins may enter a membership that started before today "
                f"({today}, club time).",
                code="backdating_not_allowed",
            )
        if not EARLIEST_START <= data.start_date <= today + LATEST_START_AHEAD:
            raise RuleViolation(
                f"start_date must be between {EARLIEST_START} and {today + LATEST_START_AHEAD}.",
                code="validation_error",
                errors=[{"pointer": "/start_date", "detail": "out of range"}],
            )
        fields = data.model_fields_set
        sold_by = data.sold_by_id if "sold_by_id" in fields else actor.staff_id
        if sold_by is not None:
            sold_by = await self._seller(session, sold_by, member.club_id)
        price = await price_sale(
            session,
            member=member,
            plan=plan,
            start_date=data.start_date,
            today=today,
            source=data.source.value,
            promotion_id=data.promotion_id,
            renews=renews,
        )
        paid = price.final_price if data.price_paid is None else data.price_paid
        if paid != price.final_price and not manager:
            raise Forbidden(
                f"Only managers and admins may sell at a price other than {price.final_price}.",
                code="price_override_not_allowed",
            )
        base_end = base_end_date(
            data.start_date, months=plan.duration_months, days=plan.duration_days
        )
        m = Membership(
            club_id=member.club_id,
            member_id=member.id,
            plan_id=plan.id,
            start_date=data.start_date,
            base_end_date=base_end,
            end_date=effective_end_date(base_end, frozen_days=0, bonus_days=price.bonus_days),
            frozen_days=0,
            bonus_days=price.bonus_days,
            list_price=price.list_price,
            price_paid=paid,
            currency=plan.currency,
            promotion_id=price.promotion_id,
            special_conditions=data.special_conditions,
            sold_by_id=sold_by,
            source=data.source.value,
            renews_id=renews.id if renews is not None else None,
            meeting_id=meeting_id,
        )
        session.add(m)
        await session.flush()
        await record_sale(session, price, m, as_of)
        audit_service.record(
            session,
            actor,
            entity="membership",
            entity_id=m.id,
            action="created",
            changes={
                "plan_id": plan.id,
                "start_date": m.start_date,
                "end_date": m.end_date,
                "list_price": m.list_price,
                "price_paid": m.price_paid,
                "currency": m.currency,
                # The promotion's discount or bonus days, and who is credited with the sale.
                "promotion_id": m.promotion_id,
                "bonus_days": m.bonus_days,
                "source": m.source,
                "sold_by_id": m.sold_by_id,
            },
            club_id=m.club_id,
        )
        await emit(
            session,
            "membership.created",
            {
                "membership_id": m.id,
                "member_id": m.member_id,
                "club_id": m.club_id,
                "plan_id": m.plan_id,
                "start_date": m.start_date,
                "end_date": m.end_date,
                "source": m.source,
                "list_price": m.list_price,
                "price_paid": m.price_paid,
                "currency": m.currency,
                "promotion_id": m.promotion_id,
                "renews_id": m.renews_id,
            },
            club_id=m.club_id,
        )
        return MembershipView(m, status_on(m, [], today))

    # ------------------------------------------------------------------- update

    async def update(
        self,
        session: AsyncSession,
        actor: Principal,
        membership: Membership,
        data: MembershipUpdate,
        *,
        if_match: str | None,
        require_if_match: bool,
        as_of: datetime | None = None,
    ) -> MembershipView:
        """Change special conditions or the seller."""
        actor.require(Perm.MEMBERSHIPS_WRITE)
        m = await repository.lock(session, membership.id)
        if m is None:
            raise NotFound("Membership not found.", code="membership_not_found")
        check_if_match(if_match, m.id, m.version, required=require_if_match)
        changes = data.model_dump(exclude_unset=True)
        if changes.get("sold_by_id") is not None:
            changes["sold_by_id"] = await self._seller(session, changes["sold_by_id"], m.club_id)
        before = {k: getattr(m, k) for k in changes}
        for k, v in changes.items():
            setattr(m, k, v)
        diff = audit_service.diff(before, changes)
        if diff:
            audit_service.record(
                session,
                actor,
                entity="membership",
                entity_id=m.id,
                action="updated",
                changes=diff,
                club_id=m.club_id,
            )
        await session.flush()
        return await self.view(session, m, as_of=as_of)

    # ------------------------------------------------------------------- cancel

    async def cancel(
        self,
        session: AsyncSession,
        actor: Principal,
        membership: Membership,
        reason: str,
        *,
        if_match: str | None,
        require_if_match: bool,
        as_of: datetime | None = None,
    ) -> MembershipView:
        """Cancel a pending, active or frozen membership. Scheduled freezes are
        withdrawn, a running one is reported ended; an expired one stays history."""
        actor.require(Perm.MEMBERSHIPS_WRITE)
        as_of = as_of or utcnow()
        m = await repository.lock(session, membership.id)
        if m is None:
            raise NotFound("Membership not found.", code="membership_not_found")
        check_if_match(if_match, m.id, m.version, required=require_if_match)
        if m.cancelled_at is not None:
            raise Conflict(
                "This membership is already cancelled.", code="membership_already_cancelled"
            )
        today = await ledger.club_today(session, m.club_id, as_of)
        live = await repository.freezes_of(session, [m.id])
        if status_on(m, live, today) is MembershipStatus.EXPIRED:
            raise RuleViolation(
                "An expired membership cannot be cancelled.", code="membership_not_active"
            )
        kept = await freeze_service.on_membership_cancelled(session, actor, m, live, today, as_of)
        if len(kept) != len(live):
            ledger.reconcile(
                session,
                actor,
                m,
                kept,
                action="freezes_withdrawn",
                details={"freeze_ids": [f.id for f in live if f not in kept]},
            )
        m.cancelled_at = as_of
        m.cancel_reason = reason
        audit_service.record(
            session,
            actor,
            entity="membership",
            entity_id=m.id,
            action="cancelled",
            changes={"cancelled_at": [None, as_of], "cancel_reason": [None, reason]},
            club_id=m.club_id,
        )
        await session.flush()
        await emit(
            session,
            "membership.cancelled",
            {
                "membership_id": m.id,
                "member_id": m.member_id,
                "club_id": m.club_id,
                "plan_id": m.plan_id,
                "cancelled_at": as_of,
                "reason": reason,
            },
            club_id=m.club_id,
        )
        return MembershipView(m, MembershipStatus.CANCELLED)

    # ------------------------------------------------------ for other domains

    async def add_bonus_days(
        self,
        session: AsyncSession,
        actor: Principal | None,
        membership: Membership,
        days: int,
        reason: str,
        *,
        today: date | None = None,
    ) -> Membership:
        """Compensation: extend the membership by `days` (1..3660), audited with `reason`.

        For a pending, active or frozen membership (`membership_not_active` otherwise);
        `today` is the club-local date (default: now in the club's time zone). Takes the
        membership row lock, so it composes safely with concurrent freezes.
        """
        if not 0 < days <= MAX_EXTRA_DAYS:
            raise RuleViolation(
                f"Bonus days must be between 1 and {MAX_EXTRA_DAYS}.",
                code="validation_error",
                errors=[{"pointer": "/bonus_days", "detail": "out of range"}],
            )
        m = await repository.lock(session, membership.id)
        if m is None:
            raise NotFound("Membership not found.", code="membership_not_found")
        if today is None:
            today = await ledger.club_today(session, m.club_id, utcnow())
        status = await self.status_of(session, m, today)
        if status in (MembershipStatus.CANCELLED, MembershipStatus.EXPIRED):
            raise RuleViolation(
                f"Bonus days extend a live membership; this one is {status.value}.",
                code="membership_not_active",
            )
        before = {"end_date": m.end_date, "bonus_days": m.bonus_days}
        m.bonus_days += days
        m.end_date = effective_end_date(
            m.base_end_date, frozen_days=m.frozen_days, bonus_days=m.bonus_days
        )
        audit_service.record(
            session,
            actor,
            entity="membership",
            entity_id=m.id,
            action="bonus_days_added",
            changes={
                **audit_service.diff(before, {"end_date": m.end_date, "bonus_days": m.bonus_days}),
                "days": days,
                "reason": reason,
            },
            club_id=m.club_id,
        )
        await session.flush()
        return m

    # --------------------------------------------------------------------- list

    async def list(
        self,
        session: AsyncSession,
        actor: Principal,
        page: PageParams,
        *,
        member_id: uuid.UUID | None,
        club_id: uuid.UUID | None,
        status: MembershipStatus | None,
        as_of: datetime | None = None,
    ) -> tuple[list[MembershipView], str | None]:
        """Newest start first. The status filter runs in SQL, each club judged by its own
        local today (clubs in different time zones may be on different dates)."""
        as_of = as_of or utcnow()
        if club_id is not None:
            actor.require_club(club_id, "club")
        if actor.member_id is not None:
            if member_id is not None and member_id != actor.member_id:
                return [], None
            member_id = actor.member_id
        stmt = repository.listing(actor.club_ids, member_id=member_id, club_id=club_id)
        if status is not None:
            scope = frozenset({club_id}) if club_id is not None else actor.club_ids
            by_day: dict[date, list[str]] = defaultdict(list)
            for tz in await repository.distinct_timezones(session, scope):
                by_day[local_date(tz, as_of)].append(tz)
            stmt = repository.with_status(stmt, status, by_day)
        rows, cursor = await paginate(
            session,
            stmt,
            [SortKey(Membership.start_date, descending=True), SortKey(Membership.id, True)],
            page,
            scope="memberships",
            key_of=lambda m: [m.start_date, m.id],
        )
        return await _views(session, rows, as_of), cursor


membership_service = MembershipService()


async def _erase_membership_text(session: AsyncSession, member: Member) -> None:
    # Special conditions, cancel and freeze reasons are free text that may hold health or
    # family details; the contract itself (dates, plan, money) is kept.
    await repository.redact_free_text(session, member.id, REDACTED)


register_erasure(_erase_membership_text)
