from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.permissions import Perm, Principal
from app.core.schemas import Page
from app.dependencies import PageDep, SessionDep, requires
from app.errors import error_responses
from app.members.dependencies import MemberDep
from app.risk.schemas import MemberRiskRead, RiskHistoryItem, RiskRead, SuppressedFilter
from app.risk.scoring import Level, Segment
from app.risk.service import risk_service
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.RISK_READ))]


@router.get(
    "/risk",
    summary="List members at risk of lapsing",
    status_code=status.HTTP_200_OK,
    response_model=Page[RiskRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_risk(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    club_id: Annotated[uuid.UUID | None, Query(description="Only this club.")] = None,
    level: Annotated[Level | None, Query(description="Only this level.")] = None,
    suppressed: Annotated[
        SuppressedFilter | None,
        Query(description="`none` for the call list, `any` for suppressed members, or a reason."),
    ] = None,
    segment: Annotated[
        Segment | None, Query(description="`active` (the call list) or `sleeper` (win-back).")
    ] = None,
) -> Page[RiskRead]:
    """Each member's latest assessment from the last scan, highest score first."""
    items, cursor = await risk_service.list_latest(
        session,
        principal,
        page,
        club_id=club_id,
        level=level,
        suppressed=suppressed.value if suppressed else None,
        segment=segment,
    )
    return Page[RiskRead](items=[RiskRead.model_validate(i) for i in items], next_cursor=cursor)


@router.get(
    "/members/{member_id}/risk",
    summary="Get a member's lapse risk",
    status_code=status.HTTP_200_OK,
    response_model=MemberRiskRead,
    responses=error_responses(401, 403, 404, 422),
)
async def get_member_risk(
    _: Reader,
    member: MemberDep,
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=400, description="Scan days of history.")] = 90,
) -> MemberRiskRead:
    """The member's latest assessment and its history, newest first."""
    rows = await risk_service.history(session, member, days=days)
    return MemberRiskRead(
        member_id=member.id,
        latest=RiskRead.model_validate(rows[0]) if rows else None,
        history=[RiskHistoryItem.model_validate(r) for r in rows],
    )
