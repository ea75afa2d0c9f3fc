from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import AfterValidator, AwareDatetime

from app.audit import service as audit_service
from app.audit.schemas import AuditEntryRead
from app.auth.permissions import Perm, Principal
from app.core.schemas import Page
from app.dependencies import PageDep, SessionDep, requires
from app.errors import error_responses
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.AUDIT_READ))]


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text64 = Annotated[str | None, AfterValidator(_no_nul)]


@router.get(
    "/audit",
    summary="Read the audit trail",
    status_code=status.HTTP_200_OK,
    response_model=Page[AuditEntryRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_audit(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    entity: Annotated[
        Text64,
        Query(
            max_length=64,
            description="Kind of record: `member`, `membership` (freezes and bonus days are "
            "audited on their membership), `plan`, `club`, `staff`, `token`, `webhook`, "
            "`complaint`, `referral`, `feedback`, ...",
        ),
    ] = None,
    entity_id: Annotated[Text64, Query(max_length=64, description="The record's id.")] = None,
    club_id: Annotated[uuid.UUID | None, Query(description="Only this club's entries.")] = None,
    action: Annotated[
        Text64,
        Query(max_length=64, description="e.g. `created`, `updated`, `bonus_days_added`."),
    ] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Entries at or after this instant.")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Entries before this instant.")
    ] = None,
) -> Page[AuditEntryRead]:
    """Who changed money, dates, consents, flags and compensation, newest first."""
    flt = audit_service.AuditFilter(
        club_id=club_id,
        entity=entity,
        entity_id=entity_id,
        action=action,
        since=since,
        until=until,
    )
    entries, cursor = await audit_service.search(session, principal, page, flt)
    return Page[AuditEntryRead](
        items=[AuditEntryRead.model_validate(e) for e in entries], next_cursor=cursor
    )
