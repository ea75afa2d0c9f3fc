from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from app.auth.permissions import Perm, Principal
from app.auth.schemas import IntegrationTokenCreate, StaffTokenCreate, TokenIssued, TokenRead
from app.auth.service import auth_service
from app.clubs.service import club_service
from app.core.clock import utcnow
from app.dependencies import CurrentPrincipal, SessionDep, requires
from app.errors import error_responses
from app.routing import AppRoute
from app.staff.dependencies import StaffDep

router = APIRouter(route_class=AppRoute)

TokenWriter = Annotated[Principal, Depends(requires(Perm.TOKENS_WRITE))]


@router.post(
    "/staff/{staff_id}/tokens",
    summary="Issue a token for a staff member",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenIssued,
    responses=error_responses(401, 403, 404, 422),
)
async def issue_staff_token(
    staff: StaffDep, data: StaffTokenCreate, session: SessionDep, principal: CurrentPrincipal
) -> TokenIssued:
    """A bearer token acting as this staff member. The secret is in `token` and is shown
    only in this response; only its hash is stored. Anyone may issue one for themselves."""
    token, raw = await auth_service.issue_staff_token(
        session, principal, staff, name=data.name, scopes=data.scopes
    )
    return TokenIssued.model_validate(
        {**TokenRead.model_validate(token).model_dump(), "token": raw}
    )


@router.get(
    "/staff/{staff_id}/tokens",
    summary="List a staff member's tokens",
    response_model=list[TokenRead],
    responses=error_responses(401, 403, 404),
)
async def list_staff_tokens(
    staff: StaffDep, session: SessionDep, principal: CurrentPrincipal
) -> list[TokenRead]:
    """Tokens of one staff member (never the secrets), with last use and revocation."""
    tokens = await auth_service.list_for_staff(session, principal, staff)
    return [TokenRead.model_validate(t) for t in tokens]


@router.post(
    "/tokens",
    summary="Issue an integration token",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenIssued,
    responses=error_responses(401, 403, 404, 422),
)
async def issue_integration_token(
    data: IntegrationTokenCreate, session: SessionDep, principal: TokenWriter
) -> TokenIssued:
    """A token for a device or app (turnstile, SMS gateway, member app) limited to the
    given scopes and one club, optionally pinned to one member."""
    club = await club_service.get(session, principal, data.club_id)
    token, raw = await auth_service.issue_integration_token(
        session, principal, club, name=data.name, scopes=data.scopes, member_id=data.member_id
    )
    return TokenIssued.model_validate(
        {**TokenRead.model_validate(token).model_dump(), "token": raw}
    )


@router.delete(
    "/tokens/{token_id}",
    summary="Revoke a token",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404),
)
async def revoke_token(
    token_id: Annotated[uuid.UUID, Path(description="Token id.")],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Revoke a token. It stops working on the very next request."""
    token = await auth_service.get_visible(session, principal, token_id)
    await auth_service.revoke(session, principal, token, utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
