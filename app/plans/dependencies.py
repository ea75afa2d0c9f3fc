from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from app.dependencies import CurrentPrincipal, SessionDep
from app.models import Plan
from app.plans.service import plan_service


async def get_plan(
    plan_id: Annotated[uuid.UUID, Path(description="Plan id.")],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Plan:
    return await plan_service.get(session, principal, plan_id)


PlanDep = Annotated[Plan, Depends(get_plan)]
