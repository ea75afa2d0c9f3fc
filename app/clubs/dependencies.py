from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from app.clubs.service import club_service
from app.dependencies import CurrentPrincipal, SessionDep
from app.models import Club


async def get_club(
    club_id: Annotated[uuid.UUID, Path(description="Club id.")],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Club:
    return await club_service.get(session, principal, club_id)


ClubDep = Annotated[Club, Depends(get_club)]
