from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from app.dependencies import CurrentPrincipal, SessionDep
from app.meetings.service import meeting_service
from app.models import Meeting

MeetingId = Annotated[uuid.UUID, Path(description="Meeting id.")]


async def get_meeting(
    meeting_id: MeetingId, session: SessionDep, principal: CurrentPrincipal
) -> Meeting:
    return await meeting_service.get(session, principal, meeting_id)


async def get_meeting_for_update(
    meeting_id: MeetingId, session: SessionDep, principal: CurrentPrincipal
) -> Meeting:
    """The meeting row locked until the request's transaction ends (writes)."""
    return await meeting_service.get(session, principal, meeting_id, lock=True)


MeetingDep = Annotated[Meeting, Depends(get_meeting)]
LockedMeetingDep = Annotated[Meeting, Depends(get_meeting_for_update)]
