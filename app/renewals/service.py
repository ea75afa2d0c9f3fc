"""Renewals: a new membership on the same or a target plan, linked to the old one.

The sale itself is `membership_service.create()` (the term rules, seller, audit, the
`membership.created` event, and pricing through the one pricing seam), given the
membership it renews. This service adds what is particular to a renewal: which plans
qualify, the source, the start date, the at-most-once rule and `membership.renewed`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Perm, Principal
from app.clubs.service import club_service
from app.core.clock import utcnow
from app.core.timezones import local_date
from app.errors import Conflict, NotFound, RuleViolation
from app.events.service import emit
from app.meetings.service import meeting_service
from app.memberships.schemas import MembershipCreate, MembershipSource
from app.memberships.service import MembershipView, membership_service
from app.models import Membership, Plan
from app.plans.service import plan_service
from app.renewals import repository
from app.renewals.schemas import RenewalCreate


def _already_renewed() -> Conflict:
    return Conflict("This membership has already been renewed.", code="already_renewed")


def renewal_source(current: Plan, target: Plan) -> MembershipSource:
    """`renewal` for the same plan; otherwise by list price (equal: `renewal`)."""
    if target.id == current.id or target.price == current.price:
        return MembershipSource.RENEWAL
    return MembershipSource.UPGRADE if target.price > current.price else MembershipSource.DOWNGRADE


def renewal_start(current: Membership, today: date) -> date:
    """The day after the current end, or today when the membership already expired."""
    return current.end_date + timedelta(days=1) if current.end_date >= today else today


class RenewalService:
    async def renew(
        self,
        session: AsyncSession,
        actor: Principal,
        membership: Membership,
        data: RenewalCreate,
        *,
        as_of: datetime | None = None,
    ) -> MembershipView:
        """Renew `membership` (one transaction; never commits)."""
        actor.require(Perm.MEMBERSHIPS_WRITE)
        as_of = as_of or utcnow()
        old = await repository.lock_membership(session, membership.id)
        if old is None:
            raise NotFound("Membership not found.", code="membership_not_found")
        if old.cancelled_at is not None:
            raise RuleViolation(
                "A cancelled membership cannot be renewed.", code="membership_not_active"
            )
        if await repository.successor_id(session, old.id) is not None:
            raise _already_renewed()
        target = await plan_service.get(session, actor, data.plan_id)
        if target.club_id is not None and target.club_id != old.club_id:
            raise RuleViolation(
                "This plan is sold by another club.",
                code="plan_not_available",
                errors=[{"pointer": "/plan_id", "detail": "plan of another club"}],
            )
        current = await repository.plan(session, old.plan_id)
        assert current is not None  # foreign key
        if target.id != current.id and str(target.id) not in {
            str(t) for t in current.renewal_target_ids
        }:
            raise RuleViolation(
                "This membership's plan cannot be renewed to that plan.",
                code="plan_not_renewable",
                errors=[{"pointer": "/plan_id", "detail": "not the plan or a renewal target"}],
            )
        if data.meeting_id is not None:
            # The chain call -> meeting -> renewal: only a real meeting of this member.
            await meeting_service.sold_at(session, actor, data.meeting_id, member_id=old.member_id)
        today = await self._today(session, actor, old, as_of)
        sale = MembershipCreate(
            member_id=old.member_id,
            plan_id=target.id,
            start_date=renewal_start(old, today),
            promotion_id=data.promotion_id,
            special_conditions=data.special_conditions,
            source=renewal_source(current, target),
        )
        if "sold_by_id" in data.model_fields_set:
            sale.sold_by_id = data.sold_by_id
        try:
            view = await membership_service.create(
                session, actor, sale, as_of=as_of, renews=old, meeting_id=data.meeting_id
            )
        except IntegrityError as exc:
            # Another renewal of the same membership won the race: the unique constraint
            # on renews_id is the guarantee, the check above only the friendly path.
            if "renews_id" in str(exc.orig):
                raise _already_renewed() from exc
            raise
        new = view.membership
        audit_service.record(
            session,
            actor,
            entity="membership",
            entity_id=old.id,
            action="renewed",
            changes={
                "renewed_by_id": new.id,
                "plan_id": [old.plan_id, new.plan_id],
                "source": new.source,
                "meeting_id": new.meeting_id,
            },
            club_id=old.club_id,
        )
        await emit(
            session,
            "membership.renewed",
            {
                "membership_id": new.id,
                "renews_id": old.id,
                "member_id": new.member_id,
                "club_id": new.club_id,
                "plan_id": new.plan_id,
                "previous_plan_id": old.plan_id,
                "source": new.source,
                "start_date": new.start_date,
                "end_date": new.end_date,
                "list_price": new.list_price,
                "price_paid": new.price_paid,
                "currency": new.currency,
                "promotion_id": new.promotion_id,
                "meeting_id": new.meeting_id,
                "sold_by_id": new.sold_by_id,
            },
            club_id=new.club_id,
        )
        return view

    async def _today(
        self, session: AsyncSession, actor: Principal, membership: Membership, as_of: datetime
    ) -> date:
        club = await club_service.get(session, actor, membership.club_id)
        return local_date(club.timezone, as_of)


renewal_service = RenewalService()
