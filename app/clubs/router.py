from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.auth.permissions import Perm, Principal
from app.clubs.dependencies import ClubDep
from app.clubs.schemas import ClubCreate, ClubRead, ClubUpdate
from app.clubs.service import club_service
from app.core.schemas import Page
from app.dependencies import PageDep, SessionDep, requires
from app.errors import error_responses
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.CLUBS_READ))]
Writer = Annotated[Principal, Depends(requires(Perm.CLUBS_WRITE))]


@router.post(
    "/clubs",
    summary="Create a club",
    status_code=status.HTTP_201_CREATED,
    response_model=ClubRead,
    responses=error_responses(401, 403, 422),
)
async def create_club(data: ClubCreate, session: SessionDep, principal: Writer) -> ClubRead:
    """Create a club with its time zone, currency, hours and contact policy (admins only)."""
    club = await club_service.create(session, principal, data)
    return ClubRead.model_validate(club)


@router.get(
    "/clubs",
    summary="List clubs",
    response_model=Page[ClubRead],
    responses=error_responses(401, 403, 422),
)
async def list_clubs(session: SessionDep, principal: Reader, page: PageDep) -> Page[ClubRead]:
    """The clubs this token may see, oldest first."""
    items, cursor = await club_service.list(session, principal, page)
    return Page[ClubRead](items=[ClubRead.model_validate(c) for c in items], next_cursor=cursor)


@router.get(
    "/clubs/{club_id}",
    summary="Get a club",
    response_model=ClubRead,
    responses=error_responses(401, 403, 404),
)
async def get_club(club: ClubDep, _: Reader) -> ClubRead:
    """One club with its settings."""
    return ClubRead.model_validate(club)


@router.patch(
    "/clubs/{club_id}",
    summary="Update a club",
    response_model=ClubRead,
    responses=error_responses(401, 403, 404, 422),
)
async def update_club(
    club: ClubDep, data: ClubUpdate, session: SessionDep, principal: Writer
) -> ClubRead:
    """Change a club's settings; only the fields sent are changed."""
    club = await club_service.update(session, principal, club, data)
    return ClubRead.model_validate(club)
