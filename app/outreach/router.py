"""Service calls: the queue, manual calls, assignment and attempts."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status

from app.auth.permissions import Perm, Principal
from app.core.clock import utcnow
from app.core.etags import etag_for
from app.core.schemas import Instant, Page
from app.dependencies import IfMatch, PageDep, SessionDep, SettingsDep, requires
from app.errors import error_responses
from app.models import ServiceCall
from app.models.outreach import CallKind, CallStatus
from app.outreach.schemas import (
    CallAttemptCreate,
    CallAttemptRead,
    CallCreate,
    CallRead,
    CallUpdate,
)
from app.outreach.service import call_service
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.CALLS_READ))]
Writer = Annotated[Principal, Depends(requires(Perm.CALLS_WRITE))]
CallId = Annotated[uuid.UUID, Path(description="Service call id.")]

_MERGED: dict[int | str, dict[str, Any]] = {
    200: {
        "model": CallRead,
        "description": "The member already had an open call: the new reason was merged "
        "into it (most important kind, higher priority, wider window) and that call is "
        "returned.",
    }
}


def _read(call: ServiceCall, response: Response) -> CallRead:
    response.headers["ETag"] = etag_for(call.id, call.version)
    return CallRead.of(call)


@router.get(
    "/calls",
    summary="The call queue",
    status_code=status.HTTP_200_OK,
    response_model=Page[CallRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_calls(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    club_id: Annotated[uuid.UUID | None, Query(description="Only this club.")] = None,
    statuses: Annotated[
        list[CallStatus] | None,
        Query(alias="status", description="Only these statuses (repeat the parameter)."),
    ] = None,
    kinds: Annotated[
        list[CallKind] | None,
        Query(alias="kind", description="Only these kinds (repeat the parameter)."),
    ] = None,
    assignee_id: Annotated[uuid.UUID | None, Query(description="Only this caller's.")] = None,
    member_id: Annotated[uuid.UUID | None, Query(description="Only this member's.")] = None,
    due_before: Annotated[
        Instant | None,
        Query(description="Only calls that may be dialled before this instant (with offset)."),
    ] = None,
) -> Page[CallRead]:
    """Calls in the clubs this token sees, most urgent first: highest priority, then the
    earliest time the call may be dialled (`next_attempt_at`, else `due_from`)."""
    items, cursor = await call_service.list(
        session,
        principal,
        page,
        club_id=club_id,
        statuses=statuses or (),
        kinds=kinds or (),
        assignee_id=assignee_id,
        member_id=member_id,
        due_before=due_before,
    )
    return Page[CallRead](items=[CallRead.of(c) for c in items], next_cursor=cursor)


@router.post(
    "/calls",
    summary="Open a call by hand",
    status_code=status.HTTP_201_CREATED,
    response_model=CallRead,
    responses={**_MERGED, **error_responses(401, 403, 404, 409, 422)},
)
async def create_call(
    data: CallCreate, response: Response, session: SessionDep, principal: Writer
) -> CallRead:
    """201 with a new call (assigned round-robin to the club's callers), or 200 with the
    member's open call when the reason merged into it. 409 `contact_not_allowed` (with
    `reason` and `retry_after`) when the contact policy refuses the member."""
    opened = await call_service.create(session, principal, data, as_of=utcnow())
    if not opened.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/v1/calls/{opened.call.id}"
    return _read(opened.call, response)


@router.get(
    "/calls/{call_id}",
    summary="Get a call",
    status_code=status.HTTP_200_OK,
    response_model=CallRead,
    responses=error_responses(401, 403, 404),
)
async def get_call(
    call_id: CallId, session: SessionDep, principal: Reader, response: Response
) -> CallRead:
    """One call with its reasons and state; the `ETag` header is for `If-Match` on PATCH."""
    return _read(await call_service.get(session, principal, call_id), response)


@router.patch(
    "/calls/{call_id}",
    summary="Assign, re-prioritise or cancel a call",
    status_code=status.HTTP_200_OK,
    response_model=CallRead,
    responses=error_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_call(
    call_id: CallId,
    data: CallUpdate,
    response: Response,
    session: SessionDep,
    principal: Writer,
    settings: SettingsDep,
    if_match: IfMatch = None,
) -> CallRead:
    """`assignee_id` (an active caller of the club, else 422 `assignee_not_eligible`;
    null unassigns), `priority`, `notes`, or `status: cancelled` with a `close_reason`.
    409 `call_closed` once the call is closed; a stale `If-Match` gets 412."""
    call = await call_service.get(session, principal, call_id, lock=True)
    call = await call_service.update(
        session,
        principal,
        call,
        data,
        if_match=if_match,
        require_if_match=settings.require_if_match,
        as_of=utcnow(),
    )
    return _read(call, response)


@router.post(
    "/calls/{call_id}/attempts",
    summary="Record a call attempt and its outcome",
    status_code=status.HTTP_201_CREATED,
    response_model=CallAttemptRead,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def record_attempt(
    call_id: CallId,
    data: CallAttemptCreate,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> CallAttemptRead:
    """The contact policy is checked now (409 `contact_not_allowed` with `retry_after`);
    409 `call_closed` on a closed call. `meeting_booked` books the meeting (its 409s:
    `slot_taken`, `member_has_meeting`) and completes the call; `no_answer`/`voicemail`
    retry on a later day at another time of day, and the third unanswered attempt expires
    the call; `callback_requested` schedules it at `callback_at`; `declined` needs a
    `decline_reason`; `wrong_number` marks the phone invalid; `do_not_call` sets the
    member's do-not-contact flag and withdraws the calls consent; `complaint` opens a
    case. Send an `Idempotency-Key` to retry safely."""
    call = await call_service.get(session, principal, call_id, lock=True)
    attempt = await call_service.attempt(session, principal, call, data, as_of=utcnow())
    response.headers["Location"] = f"/api/v1/calls/{call.id}"
    return CallAttemptRead.of(attempt, call)
