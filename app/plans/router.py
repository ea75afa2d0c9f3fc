from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.permissions import Perm, Principal
from app.core.schemas import Page
from app.dependencies import PageDep, SessionDep, requires
from app.errors import error_responses
from app.plans.dependencies import PlanDep
from app.plans.schemas import PlanCreate, PlanRead, PlanUpdate
from app.plans.service import plan_service
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.PLANS_READ))]
Writer = Annotated[Principal, Depends(requires(Perm.PLANS_WRITE))]


@router.post(
    "/plans",
    summary="Create a plan",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanRead,
    responses=error_responses(401, 403, 404, 422),
)
async def create_plan(data: PlanCreate, session: SessionDep, principal: Writer) -> PlanRead:
    """Create a membership type for a club (priced in its currency) or, for admins, chain-wide."""
    plan = await plan_service.create(session, principal, data)
    return PlanRead.model_validate(plan)


@router.get(
    "/plans",
    summary="List plans",
    response_model=Page[PlanRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_plans(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    club_id: Annotated[
        uuid.UUID | None,
        Query(description="Plans this club sells: its own and the chain-wide ones."),
    ] = None,
    active: Annotated[bool | None, Query(description="Filter by the active flag.")] = None,
) -> Page[PlanRead]:
    """Plans this token may see, including chain-wide plans, oldest first."""
    items, cursor = await plan_service.list(
        session, principal, page, club_id=club_id, active=active
    )
    return Page[PlanRead](items=[PlanRead.model_validate(p) for p in items], next_cursor=cursor)


@router.get(
    "/plans/{plan_id}",
    summary="Get a plan",
    response_model=PlanRead,
    responses=error_responses(401, 403, 404),
)
async def get_plan(plan: PlanDep, _: Reader) -> PlanRead:
    """One plan with its duration, price, hours, freeze policy and renewal targets."""
    return PlanRead.model_validate(plan)


@router.patch(
    "/plans/{plan_id}",
    summary="Update a plan",
    response_model=PlanRead,
    responses=error_responses(401, 403, 404, 422),
)
async def update_plan(
    plan: PlanDep, data: PlanUpdate, session: SessionDep, principal: Writer
) -> PlanRead:
    """Change price, limits, hours, freeze policy, targets or active (sales keep theirs)."""
    plan = await plan_service.update(session, principal, plan, data)
    return PlanRead.model_validate(plan)
