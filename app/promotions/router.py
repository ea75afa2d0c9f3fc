from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from app.auth.permissions import Perm, Principal
from app.core.clock import utcnow
from app.core.schemas import Page
from app.dependencies import PageDep, SessionDep, requires
from app.errors import error_responses
from app.models import Promotion
from app.promotions.schemas import (
    PromotionCreate,
    PromotionRead,
    PromotionUpdate,
    QuoteRead,
    QuoteRequest,
)
from app.promotions.service import promotion_service
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)
quotes_router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.PROMOTIONS_READ))]
Writer = Annotated[Principal, Depends(requires(Perm.PROMOTIONS_WRITE))]


async def get_promotion(
    promotion_id: Annotated[uuid.UUID, Path(description="Promotion id.")],
    session: SessionDep,
    principal: Reader,
) -> Promotion:
    return await promotion_service.get(session, principal, promotion_id)


PromotionDep = Annotated[Promotion, Depends(get_promotion)]


@router.post(
    "/promotions",
    summary="Create a promotion",
    status_code=status.HTTP_201_CREATED,
    response_model=PromotionRead,
    responses=error_responses(401, 403, 404, 422),
)
async def create_promotion(
    data: PromotionCreate, session: SessionDep, principal: Writer
) -> PromotionRead:
    """Create a purchase or renewal offer with exactly one discount and a date window."""
    return await promotion_service.create(session, principal, data)


@router.get(
    "/promotions",
    summary="List promotions",
    status_code=status.HTTP_200_OK,
    response_model=Page[PromotionRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_promotions(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    club_id: Annotated[uuid.UUID | None, Query(description="Only this club's.")] = None,
    active_on: Annotated[
        date | None,
        Query(description="Only those switched on and running on this club-local date."),
    ] = None,
) -> Page[PromotionRead]:
    """Promotions this token may see, oldest first."""
    items, cursor = await promotion_service.list(
        session, principal, page, club_id=club_id, active_on=active_on
    )
    return Page[PromotionRead](items=items, next_cursor=cursor)


@router.get(
    "/promotions/{promotion_id}",
    summary="Get a promotion",
    status_code=status.HTTP_200_OK,
    response_model=PromotionRead,
    responses=error_responses(401, 403, 404),
)
async def get_promotion_route(promotion: PromotionDep, session: SessionDep) -> PromotionRead:
    """One promotion with its terms and how often it was used."""
    return await promotion_service.view(session, promotion)


@router.patch(
    "/promotions/{promotion_id}",
    summary="Update a promotion",
    status_code=status.HTTP_200_OK,
    response_model=PromotionRead,
    responses=error_responses(401, 403, 404, 422),
)
async def update_promotion(
    promotion: PromotionDep, data: PromotionUpdate, session: SessionDep, principal: Writer
) -> PromotionRead:
    """Change a promotion's terms; only the fields sent change, past sales keep their price."""
    return await promotion_service.update(session, principal, promotion, data)


@quotes_router.post(
    "/quotes",
    summary="Quote a plan for a member",
    status_code=status.HTTP_200_OK,
    response_model=QuoteRead,
    responses=error_responses(401, 403, 404, 422),
)
async def create_quote(data: QuoteRequest, session: SessionDep, principal: Reader) -> QuoteRead:
    """Price, discount and final price with every promotion considered; nothing is written."""
    return await promotion_service.quote(session, principal, data, utcnow())
