from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from app.auth.permissions import Perm, Principal
from app.core.clock import utcnow
from app.dependencies import SessionDep, requires
from app.errors import error_responses
from app.outreach.briefing import briefing_service
from app.outreach.briefing_schemas import Briefing
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.CALLS_READ))]

_RESPONSES = error_responses(401, 403, 404, 422)
_RESPONSES[404] = {**_RESPONSES[404], "description": "`call_not_found` (or another club's)"}


@router.get(
    "/calls/{call_id}/briefing",
    summary="Brief the caller",
    status_code=status.HTTP_200_OK,
    response_model=Briefing,
    responses=_RESPONSES,
)
async def call_briefing(
    call_id: Annotated[uuid.UUID, Path(description="Service call id.")],
    session: SessionDep,
    principal: Reader,
) -> Response:
    """Everything for one call: member card, membership marks, attendance, risk, history,
    open complaints, personal dates, promotions (no prices), free slots, talking points."""
    call, club = await briefing_service.load(session, principal, call_id)
    briefing = await briefing_service.build(session, call, club, utcnow())
    # Built from typed models already: serialised once, not validated again against
    # `response_model` (which documents it) - the largest response on the hot path.
    return Response(content=briefing.model_dump_json(), media_type="application/json")
