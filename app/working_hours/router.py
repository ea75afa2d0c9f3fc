from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.permissions import Perm, Principal
from app.clubs.service import club_service
from app.core.clock import utcnow
from app.dependencies import SessionDep, requires
from app.errors import error_responses
from app.routing import AppRoute
from app.staff.dependencies import StaffDep
from app.working_hours.schemas import WorkingHoursPut, WorkingHoursRead
from app.working_hours.service import working_hours_service

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.STAFF_READ))]
Writer = Annotated[Principal, Depends(requires(Perm.STAFF_WRITE))]
ClubQuery = Annotated[uuid.UUID, Query(description="The club these hours are for.")]


@router.get(
    "/staff/{staff_id}/working-hours",
    summary="Get a consultant's working hours in a club",
    status_code=status.HTTP_200_OK,
    response_model=WorkingHoursRead,
    responses=error_responses(401, 403, 404, 422),
)
async def get_working_hours(
    staff: StaffDep, club_id: ClubQuery, session: SessionDep, principal: Reader
) -> WorkingHoursRead:
    """Weekly pattern and exceptions from today on, in club-local time; the club's
    opening hours when no pattern is set (`source`)."""
    club = await club_service.get(session, principal, club_id)
    return await working_hours_service.get(session, staff, club, as_of=utcnow())


@router.put(
    "/staff/{staff_id}/working-hours",
    summary="Set a consultant's working hours in a club",
    status_code=status.HTTP_200_OK,
    response_model=WorkingHoursRead,
    responses=error_responses(401, 403, 404, 422),
)
async def put_working_hours(
    staff: StaffDep,
    club_id: ClubQuery,
    data: WorkingHoursPut,
    session: SessionDep,
    principal: Writer,
) -> WorkingHoursRead:
    """Replace the weekly pattern and every exception from today on. Meetings are only
    offered while the club is also open; meetings already booked are not moved."""
    club = await club_service.get(session, principal, club_id)
    return await working_hours_service.put(session, principal, staff, club, data, as_of=utcnow())


@router.delete(
    "/staff/{staff_id}/working-hours",
    summary="Reset a consultant's working hours to the club's opening hours",
    status_code=status.HTTP_200_OK,
    response_model=WorkingHoursRead,
    responses=error_responses(401, 403, 404, 422),
)
async def delete_working_hours(
    staff: StaffDep, club_id: ClubQuery, session: SessionDep, principal: Writer
) -> WorkingHoursRead:
    """Drop the weekly pattern and the exceptions from today on: the consultant works the
    club's opening hours again. Returns the hours now in force."""
    club = await club_service.get(session, principal, club_id)
    return await working_hours_service.clear(session, principal, staff, club, as_of=utcnow())
