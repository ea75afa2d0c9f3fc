from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from app.auth.permissions import Perm, Principal
from app.checkins.service import MemberRef, checkin_service
from app.dependencies import SessionDep, requires

Reader = Annotated[Principal, Depends(requires(Perm.CHECKINS_READ))]


async def get_member_ref(
    member_id: Annotated[uuid.UUID, Path(description="Member id.")],
    session: SessionDep,
    principal: Reader,
) -> MemberRef:
    """The member (with the club's time zone), or 404 when missing or out of scope."""
    return await checkin_service.member(session, principal, member_id)


MemberRefDep = Annotated[MemberRef, Depends(get_member_ref)]
