"""Plans: what a club sells. A plan belongs to one club or to the whole chain."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Perm, Principal
from app.core.pagination import PageParams, SortKey, paginate
from app.errors import NotFound, RuleViolation
from app.models import Plan
from app.plans import repository
from app.plans.schemas import NO_FREEZES, AccessWindow, FreezePolicy, PlanCreate, PlanUpdate


def _policy_columns(policy: FreezePolicy) -> dict[str, int]:
    return {
        "freeze_max_count": policy.max_freezes,
        "freeze_min_days": policy.min_days,
        "freeze_max_days": policy.max_days,
        "freeze_max_total_days": policy.max_total_days,
        "freeze_fee": policy.fee,
    }


def _hours_json(windows: list[AccessWindow] | None) -> list[Any] | None:
    if windows is None:
        return None
    return [
        w.model_dump(by_alias=True) for w in sorted(windows, key=lambda w: (w.weekday, w.from_))
    ]


def _invalid(pointer: str, detail: str, *, code: str = "validation_error") -> RuleViolation:
    return RuleViolation(detail, code=code, errors=[{"pointer": pointer, "detail": detail}])


class PlanService:
    @staticmethod
    def visible(actor: Principal, plan: Plan) -> bool:
        """Chain-wide plans are visible to every club; a club's plans to that club."""
        return plan.club_id is None or actor.sees_club(plan.club_id)

    def _require_write(self, actor: Principal, club_id: uuid.UUID | None) -> None:
        actor.require(Perm.PLANS_WRITE)
        if club_id is None:
            actor.require_admin()
        else:
            actor.require_club(club_id, "club")

    async def _targets(
        self,
        session: AsyncSession,
        actor: Principal,
        ids: list[uuid.UUID],
        club_id: uuid.UUID | None,
    ) -> list[str]:
        unique = list(dict.fromkeys(ids))
        found = {p.id: p for p in await repository.by_ids(session, unique)}
        for i, target_id in enumerate(unique):
            target = found.get(target_id)
            if target is None or not self.visible(actor, target):
                raise NotFound(f"Renewal target plan {target_id} not found.", code="plan_not_found")
            if target.club_id is not None and target.club_id != club_id:
                raise _invalid(
                    f"/renewal_target_ids/{i}",
                    "A renewal target must be a plan of the same club or a chain-wide plan; "
                    "a chain-wide plan may only target chain-wide plans.",
                    code="invalid_renewal_target",
                )
        return [str(t) for t in unique]

    async def create(self, session: AsyncSession, actor: Principal, data: PlanCreate) -> Plan:
        self._require_write(actor, data.club_id)
        if data.club_id is not None:
            club = await repository.club(session, data.club_id)
            if club is None:
                raise NotFound("Club not found.", code="club_not_found")
            if data.currency is not None and data.currency != club.currency:
                raise _invalid(
                    "/currency",
                    f"A club plan is priced in the club's currency ({club.currency}).",
                    code="currency_mismatch",
                )
            currency = club.currency
        else:
            if data.currency is None:
                raise _invalid("/currency", "A chain-wide plan needs a currency.")
            currency = data.currency
        targets = await self._targets(session, actor, data.renewal_target_ids, data.club_id)
        plan = Plan(
            club_id=data.club_id,
            name=data.name,
            duration_months=data.duration_months,
            duration_days=data.duration_days,
            price=data.price,
            currency=currency,
            visit_limit=data.visit_limit,
            access_hours=_hours_json(data.access_hours),
            renewal_target_ids=targets,
            active=data.active,
            **_policy_columns(data.freeze_policy or NO_FREEZES),
        )
        session.add(plan)
        await session.flush()
        audit_service.record(
            session,
            actor,
            entity="plan",
            entity_id=plan.id,
            action="created",
            changes={"name": plan.name, "price": plan.price, "currency": plan.currency},
            club_id=plan.club_id,
        )
        return plan

    async def get(self, session: AsyncSession, actor: Principal, plan_id: uuid.UUID) -> Plan:
        plan = await repository.get(session, plan_id)
        if plan is None or not self.visible(actor, plan):
            raise NotFound("Plan not found.", code="plan_not_found")
        return plan

    async def list(
        self,
        session: AsyncSession,
        actor: Principal,
        page: PageParams,
        *,
        club_id: uuid.UUID | None,
        active: bool | None,
    ) -> tuple[list[Plan], str | None]:
        if club_id is not None:
            actor.require_club(club_id, "club")
        stmt = repository.listing(actor.club_ids, club_id=club_id, active=active)
        return await paginate(
            session, stmt, [SortKey(Plan.id)], page, scope="plans", key_of=lambda p: [p.id]
        )

    async def update(
        self, session: AsyncSession, actor: Principal, plan: Plan, data: PlanUpdate
    ) -> Plan:
        self._require_write(actor, plan.club_id)
        changes = data.model_dump(exclude_unset=True)
        for field in ("name", "price", "active", "freeze_policy", "renewal_target_ids"):
            if field in changes and changes[field] is None:
                raise _invalid(f"/{field}", "cannot be null")
        values: dict[str, Any] = {}
        for field in ("name", "price", "active", "visit_limit"):
            if field in changes:
                values[field] = changes[field]
        if "access_hours" in changes:
            values["access_hours"] = _hours_json(data.access_hours)
        if data.freeze_policy is not None:
            values.update(_policy_columns(data.freeze_policy))
        if data.renewal_target_ids is not None:
            values["renewal_target_ids"] = await self._targets(
                session, actor, data.renewal_target_ids, plan.club_id
            )
        before = {k: getattr(plan, k) for k in values}
        for k, v in values.items():
            setattr(plan, k, v)
        diff = audit_service.diff(before, values)
        if diff:
            audit_service.record(
                session,
                actor,
                entity="plan",
                entity_id=plan.id,
                action="updated",
                changes=diff,
                club_id=plan.club_id,
            )
        await session.flush()
        return plan


plan_service = PlanService()
