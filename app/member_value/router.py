from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.auth.permissions import Perm, Principal
from app.core.clock import utcnow
from app.dependencies import SessionDep, requires
from app.errors import error_responses
from app.member_value.schemas import MemberValueRead
from app.member_value.service import member_value_service
from app.members.dependencies import MemberDep
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.MEMBERS_READ))]


@router.get(
    "/members/{member_id}/value",
    summary="Get a member's value",
    status_code=status.HTTP_200_OK,
    response_model=MemberValueRead,
    responses=error_responses(401, 403, 404),
)
async def get_member_value(member: MemberDep, session: SessionDep, _: Reader) -> MemberValueRead:
    """Lifetime and trailing-12-month revenue from the member's memberships."""
    return await member_value_service.value(session, member, utcnow())
