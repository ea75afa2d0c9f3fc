from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.permissions import Perm, Principal
from app.core.schemas import Page
from app.dependencies import PageDep, SessionDep, requires
from app.errors import error_responses
from app.routing import AppRoute
from app.staff.dependencies import StaffDep
from app.staff.schemas import StaffCreate, StaffRead, StaffUpdate
from app.staff.service import staff_service

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.STAFF_READ))]
Writer = Annotated[Principal, Depends(requires(Perm.STAFF_WRITE))]


@router.post(
    "/staff",
    summary="Add a staff member",
    status_code=status.HTTP_201_CREATED,
    response_model=StaffRead,
    responses=error_responses(401, 403, 404, 422),
)
async def create_staff(data: StaffCreate, session: SessionDep, principal: Writer) -> StaffRead:
    """Add a person with roles (`front_desk`, `caller`, `consultant`, `trainer`, `manager`,
    `admin`) and the clubs they act for. Managers add staff to their own clubs only."""
    staff = await staff_service.create(session, principal, data)
    return StaffRead.model_validate(staff)


@router.get(
    "/staff",
    summary="List staff",
    response_model=Page[StaffRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_staff(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    club_id: Annotated[uuid.UUID | None, Query(description="Only staff of this club.")] = None,
    active: Annotated[bool | None, Query(description="Filter by the active flag.")] = None,
) -> Page[StaffRead]:
    """Staff of the clubs this token may see."""
    items, cursor = await staff_service.list(
        session, principal, page, club_id=club_id, active=active
    )
    return Page[StaffRead](items=[StaffRead.model_validate(s) for s in items], next_cursor=cursor)


@router.get(
    "/staff/{staff_id}",
    summary="Get a staff member",
    response_model=StaffRead,
    responses=error_responses(401, 403, 404),
)
async def get_staff(staff: StaffDep, _: Reader) -> StaffRead:
    """One staff member with roles and clubs."""
    return StaffRead.model_validate(staff)


@router.patch(
    "/staff/{staff_id}",
    summary="Update a staff member",
    response_model=StaffRead,
    responses=error_responses(401, 403, 404, 422),
)
async def update_staff(
    staff: StaffDep, data: StaffUpdate, session: SessionDep, principal: Writer
) -> StaffRead:
    """Change name, roles, clubs or the active flag. Deactivating stops their tokens at once."""
    staff = await staff_service.update(session, principal, staff, data)
    return StaffRead.model_validate(staff)
