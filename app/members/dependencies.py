from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from app.dependencies import CurrentPrincipal, SessionDep
from app.members.service import member_service
from app.models import Member


async def get_member(
    member_id: Annotated[uuid.UUID, Path(description="Member id.")],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Member:
    """The member, or 404 `member_not_found` when missing or outside the token's scope."""
    return await member_service.get(session, principal, member_id)


MemberDep = Annotated[Member, Depends(get_member)]
