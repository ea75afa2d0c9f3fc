from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from app.dependencies import CurrentPrincipal, SessionDep
from app.models import Staff
from app.staff.service import staff_service


async def get_staff(
    staff_id: Annotated[uuid.UUID, Path(description="Staff id.")],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Staff:
    return await staff_service.get(session, principal, staff_id)


StaffDep = Annotated[Staff, Depends(get_staff)]
