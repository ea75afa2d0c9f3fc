from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.access.schemas import AccessCheck, AccessCheckResult
from app.access.service import access_service
from app.auth.permissions import Perm, Principal
from app.core.clock import utcnow
from app.dependencies import SessionDep, requires
from app.errors import error_responses
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Checker = Annotated[Principal, Depends(requires(Perm.ACCESS_CHECK))]


@router.post(
    "/access/check",
    summary="Decide whether a member may enter",
    status_code=status.HTTP_200_OK,
    response_model=AccessCheckResult,
    responses=error_responses(401, 403, 404, 422),
)
async def check_access(
    data: AccessCheck, session: SessionDep, principal: Checker
) -> AccessCheckResult:
    """Allow or deny a member (by id or card) at a club at an instant, with the reason."""
    member_id, decision = await access_service.check(session, principal, data, as_of=utcnow())
    return AccessCheckResult(
        allowed=decision.allowed,
        reason=decision.reason,
        membership_id=decision.membership_id,
        member_id=member_id,
    )
