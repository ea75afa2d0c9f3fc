from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import AwareDatetime

from app.auth.permissions import Perm, Principal
from app.core.schemas import Page
from app.dependencies import PageDep, SessionDep, requires
from app.errors import error_responses
from app.feedback.schemas import FeedbackCreate, FeedbackRead
from app.feedback.service import feedback_service
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.COMPLAINTS_READ))]
Writer = Annotated[Principal, Depends(requires(Perm.COMPLAINTS_WRITE))]

_CREATE_RESPONSES = error_responses(401, 403, 404, 409, 422)
_CREATE_RESPONSES[404] = {
    **_CREATE_RESPONSES[404],
    "description": "`member_not_found`, `call_not_found`, `meeting_not_found`",
}
_CREATE_RESPONSES[422] = {
    **_CREATE_RESPONSES[422],
    "description": "`validation_error` (e.g. a score outside 0-10), `call_mismatch` / "
    "`meeting_mismatch` (another member's call or meeting)",
}
_CREATE_RESPONSES[409] = {
    **_CREATE_RESPONSES[409],
    "description": "`feedback_exists` (the call or meeting already has an answer), `member_erased`",
}


@router.post(
    "/feedback",
    summary="Record feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackRead,
    responses=_CREATE_RESPONSES,
)
async def create_feedback(
    data: FeedbackCreate, session: SessionDep, principal: Writer
) -> FeedbackRead:
    """Record a member's 0-10 score and comment, optionally from a call or a meeting."""
    feedback = await feedback_service.create(session, principal, data)
    return FeedbackRead.model_validate(feedback)


@router.get(
    "/feedback",
    summary="List feedback",
    status_code=status.HTTP_200_OK,
    response_model=Page[FeedbackRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_feedback(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    club_id: Annotated[uuid.UUID | None, Query(description="Only this club's.")] = None,
    member_id: Annotated[uuid.UUID | None, Query(description="Only this member's.")] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Recorded at or after this instant.")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Recorded before this instant.")
    ] = None,
) -> Page[FeedbackRead]:
    """Scores and comments of the clubs this token sees, newest first."""
    items, cursor = await feedback_service.list(
        session, principal, page, club_id=club_id, member_id=member_id, since=since, until=until
    )
    return Page[FeedbackRead](
        items=[FeedbackRead.model_validate(f) for f in items], next_cursor=cursor
    )
