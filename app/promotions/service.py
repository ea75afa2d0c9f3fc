"""Promotions: the club's offers, quotes, and the pricing of every sale.

`promotion_service.price_sale()` is the one entry point sales and renewals use; quotes
use the same engine (`app.promotions.pricing`) without writing anything.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Perm, Principal
from app.core.pagination import PageParams, SortKey, paginate
from app.core.timezones import local_date
from app.errors import NotFound, RuleViolation
from app.members.privacy import register_export_section, row_dict
from app.members.service import member_service
from app.memberships.terms import base_end_date
from app.models import Member, Membership, Plan, Promotion
from app.plans.service import plan_service
from app.promotions import pricing, repository
from app.promotions.pricing import Offer, Priced, SaleContext, SaleKind
from app.promotions.schemas import (
    ConsideredPromotion,
    OfferSummary,
    PromotionCreate,
    PromotionRead,
    PromotionUpdate,
    QuotePromotion,
    QuoteRead,
    QuoteRequest,
    terms_errors,
)

# Promotions that ended up to this many days before the sale date are still listed in a
# quote's `considered` (as `expired`), so staff see that one just ended; older ones are not.
RECENTLY_ENDED_DAYS = 31

_NOT_NULL = ("name", "kind", "plan_ids", "valid_from", "valid_until", "active")
_TERMS = (
    "kind",
    "discount_percent",
    "discount_amount",
    "bonus_days",
    "free_sessions",
    "session_value",
    "plan_ids",
    "valid_from",
    "valid_until",
    "early_renewal_days",
    "max_uses",
    "max_uses_per_member",
    "active",
)


def term_days(plan: Plan, start: date) -> int:
    """Days in one term of `plan` starting on `start` (values bonus days)."""
    end = base_end_date(start, months=plan.duration_months, days=plan.duration_days)
    return (end - start).days + 1


def _invalid(errors: list[dict[str, str]]) -> RuleViolation:
    return RuleViolation(
        "The promotion's terms are invalid; see errors.", code="validation_error", errors=errors
    )


def _summary(offer: Offer | None, list_price: int) -> OfferSummary:
    if offer is None:
        return OfferSummary(
            promotion_id=None, discount=0, bonus_days=0, final_price=list_price, value=0
        )
    return OfferSummary(
        promotion_id=offer.promotion.id,
        discount=offer.discount,
        bonus_days=offer.bonus_days,
        final_price=max(0, list_price - offer.discount),
        value=offer.value,
    )


class PromotionService:
    # --- promotions -------------------------------------------------------------------

    async def create(
        self, session: AsyncSession, actor: Principal, data: PromotionCreate
    ) -> PromotionRead:
        actor.require(Perm.PROMOTIONS_WRITE)
        actor.require_club(data.club_id, "club")
        club = await repository.get_club(session, data.club_id)
        if club is None:
            raise NotFound("Club not found.", code="club_not_found")
        values = data.model_dump()
        errors = terms_errors(values)
        if errors:
            raise _invalid(errors)
        await self._check_plans(session, data.plan_ids, club.id)
        values["plan_ids"] = [str(p) for p in data.plan_ids]
        promotion = Promotion(**values)
        session.add(promotion)
        await session.flush()
        audit_service.record(
            session,
            actor,
            entity="promotion",
            entity_id=promotion.id,
            action="created",
            changes={k: values[k] for k in ("name", *_TERMS)},
            club_id=promotion.club_id,
        )
        return await self.view(session, promotion)

    async def get(
        self, session: AsyncSession, actor: Principal, promotion_id: uuid.UUID
    ) -> Promotion:
        promotion = await repository.get(session, promotion_id)
        if promotion is None or not actor.sees_club(promotion.club_id):
            raise NotFound("Promotion not found.", code="promotion_not_found")
        return promotion

    async def view(self, session: AsyncSession, promotion: Promotion) -> PromotionRead:
        return (await self.views(session, [promotion]))[0]

    async def views(
        self, session: AsyncSession, promotions: list[Promotion]
    ) -> list[PromotionRead]:
        """Promotions with their use counts (one query for any number)."""
        counts = await repository.use_counts(session, [p.id for p in promotions])
        return [
            PromotionRead.model_validate(_with_uses(p, counts.get(p.id, 0))) for p in promotions
        ]

    async def list(
        self,
        session: AsyncSession,
        actor: Principal,
        page: PageParams,
        *,
        club_id: uuid.UUID | None,
        active_on: date | None,
    ) -> tuple[list[PromotionRead], str | None]:
        if club_id is not None:
            actor.require_club(club_id, "club")
        stmt = repository.listing(actor.club_ids, club_id=club_id, active_on=active_on)
        rows, cursor = await paginate(
            session,
            stmt,
            [SortKey(Promotion.id)],
            page,
            scope="promotions",
            key_of=lambda p: [p.id],
        )
        return await self.views(session, rows), cursor

    async def update(
        self,
        session: AsyncSession,
        actor: Principal,
        promotion: Promotion,
        data: PromotionUpdate,
    ) -> PromotionRead:
        actor.require(Perm.PROMOTIONS_WRITE)
        changes = data.model_dump(exclude_unset=True)
        nulls = [f for f in _NOT_NULL if f in changes and changes[f] is None]
        if nulls:
            raise _invalid([{"pointer": f"/{f}", "detail": "cannot be null"} for f in nulls])
        before = {k: getattr(promotion, k) for k in changes}
        merged = {k: getattr(promotion, k) for k in ("name", *_TERMS)} | changes
        errors = terms_errors(merged)
        if errors:
            raise _invalid(errors)
        if "plan_ids" in changes:
            await self._check_plans(session, data.plan_ids or [], promotion.club_id)
            changes["plan_ids"] = [str(p) for p in data.plan_ids or []]
        for k, v in changes.items():
            setattr(promotion, k, v)
        diff = audit_service.diff(before, changes)
        if diff:
            audit_service.record(
                session,
                actor,
                entity="promotion",
                entity_id=promotion.id,
                action="updated",
                changes=diff,
                club_id=promotion.club_id,
            )
        await session.flush()
        return await self.view(session, promotion)

    async def _check_plans(
        self, session: AsyncSession, plan_ids: Sequence[uuid.UUID], club_id: uuid.UUID
    ) -> None:
        known = await repository.sellable_plan_ids(session, plan_ids, club_id)
        missing = [
            {"pointer": f"/plan_ids/{i}", "detail": "no such plan in this club"}
            for i, p in enumerate(plan_ids)
            if p not in known
        ]
        if missing:
            raise RuleViolation(
                "Some plan_ids are not plans of this club.", code="plan_not_found", errors=missing
            )

    # --- pricing ------------------------------------------------------------------------

    async def considered(
        self,
        session: AsyncSession,
        *,
        member: Member,
        ctx: SaleContext,
        include: uuid.UUID | None = None,
    ) -> tuple[builtins.list[Promotion], dict[uuid.UUID, pricing.Usage]]:
        """The promotions a sale considers, and their uses so far (read, no locks)."""
        promotions = await repository.candidates(
            session,
            member.club_id,
            ending_since=ctx.on_date - timedelta(days=RECENTLY_ENDED_DAYS),
            include=include,
        )
        if include is not None and not any(p.id == include for p in promotions):
            raise NotFound("Promotion not found.", code="promotion_not_found")
        usage = await repository.usage(session, [p.id for p in promotions], member.id)
        return promotions, usage

    async def price_sale(
        self,
        session: AsyncSession,
        *,
        member: Member,
        plan: Plan,
        start_date: date,
        on_date: date,
        kind: SaleKind,
        current_end_date: date | None = None,
        promotion_id: uuid.UUID | None = None,
    ) -> Priced:
        """Price a sale that is about to be written, in the caller's transaction.

        The chosen promotion is locked (`FOR UPDATE`) and its uses counted again under
        the lock, so two sales at once cannot both take the last use; if the best one
        was taken meanwhile the next best is used. Call `record_use()` once the
        membership exists, in the same transaction.
        """
        ctx = SaleContext(
            plan_id=plan.id,
            list_price=plan.price,
            term_days=term_days(plan, start_date),
            on_date=on_date,
            kind=kind,
            current_end_date=current_end_date,
        )
        promotions, usage = await self.considered(
            session, member=member, ctx=ctx, include=promotion_id
        )
        while True:
            priced = pricing.price(promotions, ctx, usage, named=promotion_id)
            if priced.chosen is None:
                return priced
            chosen_id = priced.chosen.promotion.id
            locked = await repository.lock(session, chosen_id)
            assert locked is not None  # promotions are never deleted
            fresh = await repository.usage(session, [chosen_id], member.id)
            usage = {**usage, chosen_id: fresh.get(chosen_id, pricing.Usage())}
            promotions = [locked if p.id == chosen_id else p for p in promotions]
            offer = pricing.evaluate(locked, ctx, usage[chosen_id])
            if offer.eligible:
                return pricing.price(promotions, ctx, usage, named=chosen_id)
            if promotion_id is not None:
                raise pricing.PromotionNotApplicable(offer)
            # Taken meanwhile: forget it and choose again among the rest.
            promotions = [p for p in promotions if p.id != chosen_id]

    async def record_use(
        self,
        session: AsyncSession,
        priced: Priced,
        *,
        member_id: uuid.UUID,
        membership_id: uuid.UUID,
        used_at: datetime,
    ) -> None:
        """Record that a sale used the promotion `price_sale()` chose (if any)."""
        if priced.chosen is None:
            return
        repository.add_use(
            session,
            promotion=priced.chosen.promotion,
            member_id=member_id,
            membership_id=membership_id,
            used_at=used_at,
        )
        await session.flush()

    # --- quotes -------------------------------------------------------------------------

    async def quote(
        self, session: AsyncSession, actor: Principal, data: QuoteRequest, as_of: datetime
    ) -> QuoteRead:
        """Price a plan for a member as of a date. Reads only: nothing is written."""
        member = await member_service.get(session, actor, data.member_id)
        club = await repository.get_club(session, member.club_id)
        assert club is not None
        plan = await plan_service.get(session, actor, data.plan_id)
        if plan.club_id not in (None, member.club_id):
            raise RuleViolation(
                "This plan is sold by another club.",
                code="plan_not_available",
                errors=[{"pointer": "/plan_id", "detail": "plan of another club"}],
            )
        on_date = data.on_date or local_date(club.timezone, as_of)
        current = await self._current(session, member, data.membership_id)
        kind = data.kind or (SaleKind.RENEWAL if current is not None else SaleKind.PURCHASE)
        renews = current if kind is SaleKind.RENEWAL else None

        def ctx_for(sale: SaleKind, base: Membership | None) -> SaleContext:
            start = on_date
            if base is not None and base.end_date >= on_date:
                start = base.end_date + timedelta(days=1)
            return SaleContext(
                plan_id=plan.id,
                list_price=plan.price,
                term_days=term_days(plan, start),
                on_date=on_date,
                kind=sale,
                current_end_date=base.end_date if base is not None else None,
            )

        ctx = ctx_for(kind, renews)
        promotions, usage = await self.considered(
            session, member=member, ctx=ctx, include=data.promotion_id
        )
        priced = pricing.price(promotions, ctx, usage, named=data.promotion_id)
        purchase = (
            priced.considered
            if kind is SaleKind.PURCHASE
            else [
                pricing.evaluate(p, ctx_for(SaleKind.PURCHASE, None), usage.get(p.id))
                for p in promotions
            ]
        )
        best_purchase = pricing.best(purchase)
        best_renewal: Offer | None = None
        if current is not None:
            renewal = (
                priced.considered
                if kind is SaleKind.RENEWAL
                else [
                    pricing.evaluate(p, ctx_for(SaleKind.RENEWAL, current), usage.get(p.id))
                    for p in promotions
                ]
            )
            best_renewal = pricing.best(renewal)
        renewal_beats_purchase = (
            current is not None
            and best_renewal is not None
            and best_renewal.value > (best_purchase.value if best_purchase else 0)
        )
        chosen = priced.chosen
        return QuoteRead(
            member_id=member.id,
            plan_id=plan.id,
            on_date=on_date,
            kind=kind,
            renews_membership_id=renews.id if renews is not None else None,
            list_price=priced.list_price,
            discount=priced.discount,
            final_price=priced.final_price,
            currency=plan.currency,
            bonus_days=priced.bonus_days,
            free_sessions=priced.free_sessions,
            promotion=None
            if chosen is None
            else QuotePromotion(
                id=chosen.promotion.id,
                name=chosen.promotion.name,
                description=chosen.promotion.description,
                kind=pricing.PromotionKind(chosen.promotion.kind),
                valid_until=chosen.promotion.valid_until,
                days_left=(chosen.promotion.valid_until - on_date).days,
            ),
            considered=[
                ConsideredPromotion(
                    promotion_id=o.promotion.id,
                    name=o.promotion.name,
                    discount=o.discount,
                    bonus_days=o.bonus_days,
                    free_sessions=o.free_sessions,
                    value=o.value,
                    eligible=o.eligible,
                    reason=o.reason,
                    valid_until=o.promotion.valid_until,
                )
                for o in priced.considered
            ],
            renewal_beats_purchase=renewal_beats_purchase,
            best_purchase=_summary(best_purchase, plan.price),
            best_renewal=_summary(best_renewal, plan.price) if current is not None else None,
        )

    # --- campaigns ----------------------------------------------------------------------

    async def audience(
        self,
        session: AsyncSession,
        actor: Principal | None,
        promotion_id: uuid.UUID,
        *,
        club_id: uuid.UUID,
        today: date,
    ) -> Audience:
        """Who may use the promotion as of club-local `today`, set-based (for campaign
        segments): the member-dependent checks of the pricing engine as a query of member
        ids, or no one with the reason when the promotion itself is over (expired,
        switched off, used up). One that has not started yet may still be announced."""
        promotion = await repository.get(session, promotion_id)
        if (
            promotion is None
            or promotion.club_id != club_id
            or (actor is not None and not actor.sees_club(promotion.club_id))
        ):
            raise NotFound("Promotion not found.", code="promotion_not_found")
        reason: pricing.Reason | None = None
        if promotion.valid_until < today:
            reason = pricing.Reason.EXPIRED
        elif not promotion.active:
            reason = pricing.Reason.INACTIVE
        elif promotion.max_uses is not None:
            used = (await repository.use_counts(session, [promotion.id])).get(promotion.id, 0)
            if used >= promotion.max_uses:
                reason = pricing.Reason.USED_UP
        if reason is not None:
            return Audience(promotion, repository.no_members(), reason)
        return Audience(promotion, repository.eligible_member_ids(promotion, today), None)

    async def renewal_candidate(self, session: AsyncSession, member: Member) -> Membership | None:
        """The membership a renewal of `member` renews by default: the latest one that is
        neither cancelled nor already renewed."""
        return await repository.renewal_candidate(session, member.id, member.club_id)

    async def _current(
        self, session: AsyncSession, member: Member, membership_id: uuid.UUID | None
    ) -> Membership | None:
        if membership_id is None:
            return await self.renewal_candidate(session, member)
        membership = await repository.get_membership(session, membership_id)
        if membership is None or membership.member_id != member.id:
            raise NotFound("Membership not found.", code="membership_not_found")
        if membership.cancelled_at is not None:
            raise RuleViolation(
                "A cancelled membership cannot be renewed.", code="membership_not_active"
            )
        return membership


@dataclass(frozen=True)
class Audience:
    """A promotion's possible users: `member_ids` is a query of member ids; `closed` says
    why nobody may use it any more (then the query is empty)."""

    promotion: Promotion
    member_ids: Select[Any]
    closed: pricing.Reason | None


def _with_uses(promotion: Promotion, uses: int) -> dict[str, Any]:
    values = {c: getattr(promotion, c) for c in PromotionRead.model_fields if c != "uses"}
    values["uses"] = uses
    return values


promotion_service = PromotionService()


async def _export_promotion_uses(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    # Which offers a member bought on is part of their data; there is no free text to erase.
    rows = await repository.uses_of_member(session, member.club_id, member.id)
    return [row_dict(use) | {"promotion_name": name} for use, name in rows]


register_export_section("promotion_uses", _export_promotion_uses)
