from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from app.auth.permissions import Perm, Principal
from app.clubs.dependencies import ClubDep
from app.core.clock import utcnow
from app.core.etags import etag_for
from app.core.schemas import Page
from app.dependencies import IfMatch, PageDep, SessionDep, SettingsDep, requires
from app.errors import error_responses
from app.models import Playbook, PlaybookStep
from app.playbooks.schemas import PlaybookRead, PlaybookWrite, StepRead, TaskRead, TaskStatus
from app.playbooks.service import playbook_service
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

# Reading the plan and its tasks is outreach work; changing the plan is a club setting.
Reader = Annotated[Principal, Depends(requires(Perm.CALLS_READ))]
Editor = Annotated[Principal, Depends(requires(Perm.CLUBS_WRITE))]
Worker = Annotated[Principal, Depends(requires(Perm.CALLS_WRITE))]


def _read(playbook: Playbook, steps: list[PlaybookStep], response: Response) -> PlaybookRead:
    response.headers["ETag"] = etag_for(playbook.club_id, playbook.version)
    return PlaybookRead(
        club_id=playbook.club_id,
        version=playbook.version,
        updated_at=playbook.updated_at,
        updated_by_id=playbook.updated_by_id,
        steps=[StepRead.model_validate(s) for s in steps],
    )


@router.get(
    "/clubs/{club_id}/playbook",
    summary="Get a club's playbook",
    status_code=status.HTTP_200_OK,
    response_model=PlaybookRead,
    responses=error_responses(401, 403, 404),
)
async def get_playbook(
    club: ClubDep, _: Reader, session: SessionDep, response: Response
) -> PlaybookRead:
    """The club's touchpoint plan (the defaults until changed); `ETag` is for PUT."""
    playbook, steps = await playbook_service.get(session, club)
    return _read(playbook, steps, response)


@router.put(
    "/clubs/{club_id}/playbook",
    summary="Replace a club's playbook",
    status_code=status.HTTP_200_OK,
    response_model=PlaybookRead,
    responses=error_responses(401, 403, 404, 412, 422, 428),
)
async def replace_playbook(
    club: ClubDep,
    data: PlaybookWrite,
    principal: Editor,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
) -> PlaybookRead:
    """Replace every step at once; invalid steps get 422 and change nothing."""
    playbook, steps = await playbook_service.replace(
        session,
        principal,
        club,
        data,
        if_match=if_match,
        require_if_match=settings.require_if_match,
        as_of=utcnow(),
    )
    return _read(playbook, steps, response)


@router.get(
    "/clubs/{club_id}/playbook/tasks",
    summary="List playbook tasks",
    status_code=status.HTTP_200_OK,
    response_model=Page[TaskRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_playbook_tasks(
    club: ClubDep,
    _: Reader,
    session: SessionDep,
    page: PageDep,
    task_status: Annotated[
        TaskStatus | None, Query(alias="status", description="open, done or skipped.")
    ] = None,
) -> Page[TaskRead]:
    """Staff tasks the playbook's `task` steps created for members, soonest due first."""
    items, cursor = await playbook_service.tasks(session, club, page, status=task_status)
    return Page[TaskRead](items=[TaskRead.model_validate(t) for t in items], next_cursor=cursor)


@router.post(
    "/clubs/{club_id}/playbook/tasks/{task_id}/complete",
    summary="Complete a playbook task",
    status_code=status.HTTP_200_OK,
    response_model=TaskRead,
    responses=error_responses(401, 403, 404, 409),
)
async def complete_playbook_task(
    club: ClubDep,
    task_id: Annotated[uuid.UUID, Path(description="Task id.")],
    principal: Worker,
    session: SessionDep,
) -> TaskRead:
    """Mark an open task done (409 `task_closed` if it is not open any more)."""
    task = await playbook_service.complete_task(session, principal, club, task_id, as_of=utcnow())
    return TaskRead.model_validate(task)
