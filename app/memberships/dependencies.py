from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from app.dependencies import CurrentPrincipal, SessionDep
from app.memberships.freeze_service import freeze_service
from app.memberships.service import membership_service
from app.models import Freeze, Membership


async def get_membership(
    membership_id: Annotated[uuid.UUID, Path(description="Membership id.")],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Membership:
    return await membership_service.get(session, principal, membership_id)


MembershipDep = Annotated[Membership, Depends(get_membership)]


async def get_freeze(
    membership: MembershipDep,
    freeze_id: Annotated[uuid.UUID, Path(description="Freeze id.")],
    session: SessionDep,
) -> Freeze:
    return await freeze_service.get(session, membership, freeze_id)


FreezeDep = Annotated[Freeze, Depends(get_freeze)]
