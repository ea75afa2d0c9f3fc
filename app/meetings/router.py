from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from app.auth.permissions import Perm, Principal
from app.clubs.dependencies import ClubDep
from app.core.clock import utcnow
from app.core.etags import etag_for
from app.core.schemas import Instant, Page
from app.dependencies import IfMatch, PageDep, SessionDep, SettingsDep, requires
from app.errors import error_responses
from app.meetings.dependencies import LockedMeetingDep, MeetingDep
from app.meetings.schemas import (
    MeetingCreate,
    MeetingRead,
    MeetingSlots,
    MeetingUpdate,
    OutcomeCreate,
)
from app.meetings.service import meeting_service
from app.models import Meeting
from app.models.meeting import MeetingPurpose, MeetingStatus
from app.routing import AppRoute
from app.staff.dependencies import StaffDep

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.MEETINGS_READ))]
Writer = Annotated[Principal, Depends(requires(Perm.MEETINGS_WRITE))]

ICS_MEDIA_TYPE = "text/calendar"


def _read(meeting: Meeting, response: Response) -> MeetingRead:
    response.headers["ETag"] = etag_for(meeting.id, meeting.version)
    return MeetingRead.of(meeting)


@router.get(
    "/clubs/{club_id}/meeting-slots",
    summary="Free meeting slots on a day",
    status_code=status.HTTP_200_OK,
    response_model=MeetingSlots,
    responses=error_responses(401, 403, 404, 422),
)
async def meeting_slots(
    club: ClubDep,
    session: SessionDep,
    principal: Reader,
    day: Annotated[
        date | None,
        Query(alias="date", description="Club-local date; default: the club's today."),
    ] = None,
    consultant_id: Annotated[
        uuid.UUID | None, Query(description="Only this consultant; default: every eligible one.")
    ] = None,
    purpose: Annotated[
        MeetingPurpose,
        Query(description="Who is eligible: consultants; trainers for `onboarding`."),
    ] = MeetingPurpose.RENEWAL,
) -> MeetingSlots:
    """Bookable slots in club-local time: inside working hours while the club is open,
    clear of booked meetings and their buffer, not in the past."""
    return await meeting_service.slots(
        session,
        principal,
        club,
        day=day,
        consultant_id=consultant_id,
        purpose=purpose,
        as_of=utcnow(),
    )


@router.post(
    "/meetings",
    summary="Book a meeting",
    status_code=status.HTTP_201_CREATED,
    response_model=MeetingRead,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def book_meeting(
    data: MeetingCreate, response: Response, session: SessionDep, principal: Writer
) -> MeetingRead:
    """Book an in-club meeting. 409 `slot_taken` if the consultant is busy then,
    409 `member_has_meeting` if the member is, or already has an upcoming renewal
    meeting; 422 `outside_working_hours`, `consultant_not_eligible`, `starts_in_past`,
    `call_mismatch` (`call_id` is not a service call of this member).
    Send an `Idempotency-Key` to retry safely."""
    meeting = await meeting_service.book(session, principal, data, as_of=utcnow())
    response.headers["Location"] = f"/api/v1/meetings/{meeting.id}"
    return _read(meeting, response)


@router.get(
    "/meetings",
    summary="List meetings",
    status_code=status.HTTP_200_OK,
    response_model=Page[MeetingRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_meetings(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    club_id: Annotated[uuid.UUID | None, Query(description="Only this club.")] = None,
    consultant_id: Annotated[uuid.UUID | None, Query(description="Only this consultant.")] = None,
    member_id: Annotated[uuid.UUID | None, Query(description="Only this member.")] = None,
    starts_from: Annotated[
        Instant | None, Query(alias="from", description="Starting at or after (with offset).")
    ] = None,
    starts_before: Annotated[
        Instant | None, Query(alias="to", description="Starting before (with offset).")
    ] = None,
    statuses: Annotated[
        list[MeetingStatus] | None,
        Query(alias="status", description="Only these statuses (repeat the parameter)."),
    ] = None,
) -> Page[MeetingRead]:
    """Meetings in the clubs this token sees, earliest start first."""
    items, cursor = await meeting_service.list(
        session,
        principal,
        page,
        club_id=club_id,
        consultant_id=consultant_id,
        member_id=member_id,
        starts_from=starts_from,
        starts_before=starts_before,
        statuses=statuses,
    )
    return Page[MeetingRead](items=[MeetingRead.of(m) for m in items], next_cursor=cursor)


@router.get(
    "/meetings/{meeting_id}",
    summary="Get a meeting",
    status_code=status.HTTP_200_OK,
    response_model=MeetingRead,
    responses=error_responses(401, 403, 404),
)
async def get_meeting(principal: Reader, meeting: MeetingDep, response: Response) -> MeetingRead:
    """One meeting with its outcome; the `ETag` header is for `If-Match` on PATCH."""
    return _read(meeting, response)


@router.patch(
    "/meetings/{meeting_id}",
    summary="Reschedule, confirm, mark or cancel a meeting",
    status_code=status.HTTP_200_OK,
    response_model=MeetingRead,
    responses=error_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_meeting(
    principal: Writer,
    meeting: LockedMeetingDep,
    data: MeetingUpdate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    if_match: IfMatch = None,
) -> MeetingRead:
    """Change `starts_at` or `consultant_id` (same rules as booking) or `status`:
    `attended`/`no_show` from 60 minutes before the start (422 `meeting_not_started`);
    `cancelled` and `attended` are final (409 `invalid_transition`). A stale `If-Match`
    gets 412."""
    meeting = await meeting_service.update(
        session,
        principal,
        meeting,
        data,
        if_match=if_match,
        require_if_match=settings.require_if_match,
        as_of=utcnow(),
    )
    return _read(meeting, response)


@router.post(
    "/meetings/{meeting_id}/outcome",
    summary="Record a meeting's outcome",
    status_code=status.HTTP_200_OK,
    response_model=MeetingRead,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def record_outcome(
    principal: Writer,
    meeting: LockedMeetingDep,
    data: OutcomeCreate,
    response: Response,
    session: SessionDep,
) -> MeetingRead:
    """`renewed` (with the membership created with this `meeting_id`), `switched_plan`,
    `declined` (with a `decline_reason`) or `postponed`. A meeting not yet marked becomes
    `attended`. Returns the meeting; send an `Idempotency-Key` to retry safely."""
    meeting = await meeting_service.record_outcome(
        session, principal, meeting, data, as_of=utcnow()
    )
    return _read(meeting, response)


_ICS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An iCalendar (RFC 5545) feed.",
        "content": {ICS_MEDIA_TYPE: {"schema": {"type": "string"}}},
    },
    **error_responses(401, 403, 404),
}


@router.get(
    "/staff/{staff_id}/meetings.ics",
    summary="A consultant's meetings as a calendar feed",
    status_code=status.HTTP_200_OK,
    response_model=None,
    response_class=Response,
    responses=_ICS_RESPONSES,
)
async def meetings_calendar(principal: Reader, staff: StaffDep, session: SessionDep) -> Response:
    """iCalendar feed of the consultant's meetings (from a day back, 180 days ahead),
    each with member name, purpose and club. Subscribe with a calendar app that can send
    `Authorization: Bearer <token>`; a read-only token (`scopes: ["meetings:read"]`) is
    the one to hand to it."""
    body = await meeting_service.calendar(session, principal, staff, as_of=utcnow())
    return Response(
        content=body,
        media_type=f"{ICS_MEDIA_TYPE}; charset=utf-8",
        headers={
            "Content-Disposition": 'inline; filename="meetings.ics"',
            "Cache-Control": "private, max-age=300",
        },
    )
