from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status

from app.auth.permissions import Perm, Principal
from app.complaints.schemas import (
    ComplaintCreate,
    ComplaintRead,
    ComplaintResolve,
    ComplaintUpdate,
)
from app.complaints.service import complaint_service, is_overdue
from app.core.clock import utcnow
from app.core.etags import etag_for
from app.core.schemas import Page
from app.dependencies import IfMatch, PageDep, SessionDep, SettingsDep, requires
from app.errors import error_responses
from app.models import Complaint
from app.models.outreach import ComplaintStatus
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.COMPLAINTS_READ))]
Writer = Annotated[Principal, Depends(requires(Perm.COMPLAINTS_WRITE))]


async def complaint_of_path(
    complaint_id: Annotated[uuid.UUID, Path(description="Complaint id.")],
    session: SessionDep,
    principal: Reader,
) -> Complaint:
    """The complaint, or 404 `complaint_not_found` when missing or outside the token's
    scope."""
    return await complaint_service.get(session, principal, complaint_id)


ComplaintDep = Annotated[Complaint, Depends(complaint_of_path)]


def _responses(*statuses: int, codes: dict[int, str]) -> dict[int | str, Any]:
    out = error_responses(*statuses)
    for code, text in codes.items():
        out[code] = {**out[code], "description": text}
    return out


def _read(complaint: Complaint, as_of: datetime) -> ComplaintRead:
    return ComplaintRead.model_validate(
        {
            **{k: getattr(complaint, k) for k in ComplaintRead.model_fields if k != "overdue"},
            "overdue": is_overdue(complaint, as_of),
        }
    )


def _with_etag(complaint: Complaint, response: Response) -> ComplaintRead:
    response.headers["ETag"] = etag_for(complaint.id, complaint.version)
    return _read(complaint, utcnow())


@router.post(
    "/complaints",
    summary="Open a complaint",
    status_code=status.HTTP_201_CREATED,
    response_model=ComplaintRead,
    responses=_responses(
        401,
        403,
        404,
        409,
        422,
        codes={
            404: "`member_not_found`",
            409: "`member_erased`",
            422: "`validation_error`, `membership_mismatch` / `call_mismatch` / "
            "`meeting_mismatch` (another member's), `owner_not_allowed` (not active staff "
            "of the club)",
        },
    ),
)
async def create_complaint(
    data: ComplaintCreate, session: SessionDep, principal: Writer, response: Response
) -> ComplaintRead:
    """Open a tracked case, due by severity (critical 4 h, high 24 h, medium 72 h, low 7 d)."""
    complaint = await complaint_service.create(session, principal, data)
    return _with_etag(complaint, response)


@router.get(
    "/complaints",
    summary="List complaints",
    status_code=status.HTTP_200_OK,
    response_model=Page[ComplaintRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_complaints(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    club_id: Annotated[uuid.UUID | None, Query(description="Only this club's.")] = None,
    status: Annotated[ComplaintStatus | None, Query(description="Only in this status.")] = None,
    member_id: Annotated[uuid.UUID | None, Query(description="Only this member's.")] = None,
    owner_id: Annotated[uuid.UUID | None, Query(description="Only this owner's.")] = None,
    overdue: Annotated[
        bool | None, Query(description="true: unresolved and past due; false: the others.")
    ] = None,
) -> Page[ComplaintRead]:
    """Complaints of the clubs this token sees, the soonest due first."""
    as_of = utcnow()
    items, cursor = await complaint_service.list(
        session,
        principal,
        page,
        club_id=club_id,
        status=status,
        member_id=member_id,
        owner_id=owner_id,
        overdue=overdue,
        as_of=as_of,
    )
    return Page[ComplaintRead](items=[_read(c, as_of) for c in items], next_cursor=cursor)


@router.get(
    "/complaints/{complaint_id}",
    summary="Get a complaint",
    status_code=status.HTTP_200_OK,
    response_model=ComplaintRead,
    responses=error_responses(401, 403, 404, 422),
)
async def get_complaint(complaint: ComplaintDep, response: Response) -> ComplaintRead:
    """One case with its resolution; the `ETag` header is for `If-Match` on PATCH."""
    return _with_etag(complaint, response)


@router.patch(
    "/complaints/{complaint_id}",
    summary="Assign, progress or re-grade a complaint",
    status_code=status.HTTP_200_OK,
    response_model=ComplaintRead,
    responses=_responses(
        401,
        403,
        404,
        409,
        412,
        422,
        428,
        codes={
            409: "`complaint_already_resolved`",
            412: "`precondition_failed` (stale `If-Match`)",
            422: "`validation_error`, `owner_not_allowed`",
        },
    ),
)
async def update_complaint(
    data: ComplaintUpdate,
    session: SessionDep,
    principal: Writer,
    complaint: ComplaintDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
) -> ComplaintRead:
    """Change the owner, move between `open` and `in_progress`, or change the severity
    (the due time is recomputed from when the complaint was opened)."""
    updated = await complaint_service.update(
        session,
        principal,
        complaint,
        data,
        if_match=if_match,
        require_if_match=settings.require_if_match,
    )
    return _with_etag(updated, response)


@router.post(
    "/complaints/{complaint_id}/resolve",
    summary="Resolve a complaint",
    status_code=status.HTTP_200_OK,
    response_model=ComplaintRead,
    responses=_responses(
        401,
        403,
        404,
        409,
        422,
        codes={
            403: "`forbidden`, `compensation_not_allowed` (compensation needs a manager or "
            "an admin)",
            409: "`complaint_already_resolved`",
            422: "`validation_error` (e.g. a root cause outside the taxonomy), "
            "`no_live_membership` (bonus days with no membership to extend)",
        },
    ),
)
async def resolve_complaint(
    data: ComplaintResolve,
    session: SessionDep,
    principal: Writer,
    complaint: ComplaintDep,
    response: Response,
) -> ComplaintRead:
    """Close the case once with its resolution and root cause; bonus days extend the
    member's current membership (audited), free sessions are recorded."""
    resolved = await complaint_service.resolve(session, principal, complaint, data)
    return _with_etag(resolved, response)
