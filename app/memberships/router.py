from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from app.auth.permissions import Perm, Principal
from app.core.etags import etag_for
from app.core.schemas import Page
from app.dependencies import IfMatch, PageDep, SessionDep, SettingsDep, requires
from app.errors import error_responses
from app.memberships.dependencies import FreezeDep, MembershipDep
from app.memberships.freeze_service import FreezeView, freeze_service
from app.memberships.schemas import (
    FreezeCreate,
    FreezeRead,
    FreezeUpdate,
    MembershipCancel,
    MembershipCreate,
    MembershipRead,
    MembershipUpdate,
)
from app.memberships.service import MembershipView, membership_service
from app.memberships.status import MembershipStatus
from app.memberships.terms import TERM_RULE
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.MEMBERSHIPS_READ))]
Writer = Annotated[Principal, Depends(requires(Perm.MEMBERSHIPS_WRITE))]

_ETAG_HEADER = {"ETag": {"description": "Send it back as `If-Match` to change this resource."}}


def _responses(*statuses: int, codes: dict[int, str] | None = None) -> dict[int | str, Any]:
    """Problem responses, with the business codes a status can carry spelled out."""
    out = error_responses(*statuses)
    for status_code, text in (codes or {}).items():
        out[status_code] = {**out[status_code], "description": text}
    return out


_SALE_CODES = {
    403: "Not allowed: `forbidden`, `backdating_not_allowed` (start before today needs a "
    "manager), `price_override_not_allowed` (a price other than the list price needs a manager)",
    404: "`member_not_found`, `plan_not_found`, `staff_not_found`, `promotion_not_found`",
    422: "`validation_error`, `plan_inactive`, `plan_not_available` (another club's plan), "
    "`currency_mismatch`, `member_erased`",
}
_FREEZE_CODES = {
    403: "`forbidden`, `backdating_not_allowed` (a start before today needs a manager)",
    404: "`membership_not_found`",
    409: "`freeze_overlap` (another live freeze covers some of these days)",
    422: "`validation_error` (e.g. end before start), `membership_not_active`, "
    "`freeze_outside_term`, `freeze_limit_reached`, `freeze_too_short`, `freeze_too_long`, "
    "`freeze_total_exceeded`",
}
_END_EARLY_CODES = {
    404: "`membership_not_found`, `freeze_not_found`",
    409: "`freeze_already_ended`, `freeze_already_cancelled`",
    412: "`precondition_failed`: the freeze changed since its ETag was read",
    422: "`validation_error` (end before start), `freeze_end_not_earlier`, "
    "`freeze_end_in_past` (a running freeze ends today at the earliest), `freeze_too_short` "
    "(a scheduled freeze), `freeze_outside_term` (a later freeze would fall past the end)",
}
_CANCEL_FREEZE_CODES = {
    404: "`membership_not_found`, `freeze_not_found`",
    409: "`freeze_already_started` (end it early instead), `freeze_already_cancelled`",
    412: "`precondition_failed`: the freeze changed since its ETag was read",
    422: "`freeze_outside_term` (a later freeze would fall past the end)",
}
_CANCEL_CODES = {
    404: "`membership_not_found`",
    409: "`membership_already_cancelled`",
    412: "`precondition_failed`: the membership changed since its ETag was read",
    422: "`validation_error` (a reason is required), `membership_not_active` (expired)",
}


def _membership(view: MembershipView, response: Response) -> MembershipRead:
    response.headers["ETag"] = etag_for(view.membership.id, view.membership.version)
    return MembershipRead.of(view.membership, view.status)


def _freeze(view: FreezeView, response: Response) -> FreezeRead:
    response.headers["ETag"] = etag_for(view.freeze.id, view.freeze.version)
    return FreezeRead.of(view.freeze, view.status)


# ------------------------------------------------------------------ memberships


@router.post(
    "/memberships",
    summary="Sell a membership",
    description="Sell a plan to a member from a start date; the end date is computed.\n\n"
    + TERM_RULE
    + "\n\nStatus is derived as of the club-local today. Emits `membership.created`.",
    status_code=status.HTTP_201_CREATED,
    response_model=MembershipRead,
    responses={
        **_responses(401, 403, 404, 409, 422, codes=_SALE_CODES),
        201: {"headers": _ETAG_HEADER},
    },
)
async def create_membership(
    data: MembershipCreate, session: SessionDep, principal: Writer, response: Response
) -> MembershipRead:
    """Sell a plan to a member from a start date; the end date is computed."""
    view = await membership_service.create(session, principal, data)
    response.headers["Location"] = f"/api/v1/memberships/{view.membership.id}"
    return _membership(view, response)


@router.get(
    "/memberships",
    summary="List memberships",
    response_model=Page[MembershipRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_memberships(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    member_id: Annotated[uuid.UUID | None, Query(description="One member's memberships.")] = None,
    club_id: Annotated[uuid.UUID | None, Query(description="One club's memberships.")] = None,
    status: Annotated[
        MembershipStatus | None,
        Query(description="Derived status as of each club's local today."),
    ] = None,
) -> Page[MembershipRead]:
    """Memberships this token may see, newest start first, filtered by member, club, status."""
    views, cursor = await membership_service.list(
        session, principal, page, member_id=member_id, club_id=club_id, status=status
    )
    return Page[MembershipRead](
        items=[MembershipRead.of(v.membership, v.status) for v in views], next_cursor=cursor
    )


@router.get(
    "/memberships/{membership_id}",
    summary="Get a membership",
    response_model=MembershipRead,
    responses={**error_responses(401, 403, 404), 200: {"headers": _ETAG_HEADER}},
)
async def get_membership(
    membership: MembershipDep, session: SessionDep, _: Reader, response: Response
) -> MembershipRead:
    """One membership with its derived status; the `ETag` guards later changes."""
    return _membership(await membership_service.view(session, membership), response)


@router.patch(
    "/memberships/{membership_id}",
    summary="Update a membership",
    response_model=MembershipRead,
    responses=error_responses(401, 403, 404, 412, 422, 428),
)
async def update_membership(
    membership: MembershipDep,
    data: MembershipUpdate,
    session: SessionDep,
    settings: SettingsDep,
    principal: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> MembershipRead:
    """Change the special conditions or the seller; send `If-Match` with the ETag."""
    view = await membership_service.update(
        session,
        principal,
        membership,
        data,
        if_match=if_match,
        require_if_match=settings.require_if_match,
    )
    return _membership(view, response)


@router.post(
    "/memberships/{membership_id}/cancel",
    summary="Cancel a membership",
    status_code=status.HTTP_200_OK,
    response_model=MembershipRead,
    responses=_responses(401, 403, 404, 409, 412, 422, 428, codes=_CANCEL_CODES),
)
async def cancel_membership(
    membership: MembershipDep,
    data: MembershipCancel,
    session: SessionDep,
    settings: SettingsDep,
    principal: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> MembershipRead:
    """Cancel with a reason; scheduled freezes are withdrawn (409 if already cancelled)."""
    view = await membership_service.cancel(
        session,
        principal,
        membership,
        data.reason,
        if_match=if_match,
        require_if_match=settings.require_if_match,
    )
    return _membership(view, response)


# ---------------------------------------------------------------------- freezes


@router.post(
    "/memberships/{membership_id}/freezes",
    summary="Freeze a membership",
    status_code=status.HTTP_201_CREATED,
    response_model=FreezeRead,
    responses={
        **_responses(401, 403, 404, 409, 422, codes=_FREEZE_CODES),
        201: {"headers": _ETAG_HEADER},
    },
)
async def create_freeze(
    membership: MembershipDep,
    data: FreezeCreate,
    session: SessionDep,
    principal: Writer,
    response: Response,
) -> FreezeRead:
    """Pause a membership for a date range inside its term; its end date moves by the days."""
    view = await freeze_service.create(session, principal, membership, data)
    response.headers["Location"] = f"/api/v1/memberships/{membership.id}/freezes/{view.freeze.id}"
    return _freeze(view, response)


@router.get(
    "/memberships/{membership_id}/freezes",
    summary="List a membership's freezes",
    response_model=Page[FreezeRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_freezes(
    membership: MembershipDep, session: SessionDep, _: Reader, page: PageDep
) -> Page[FreezeRead]:
    """Every freeze of the membership, cancelled ones included, earliest first."""
    views, cursor = await freeze_service.list(session, membership, page)
    return Page[FreezeRead](
        items=[FreezeRead.of(v.freeze, v.status) for v in views], next_cursor=cursor
    )


@router.get(
    "/memberships/{membership_id}/freezes/{freeze_id}",
    summary="Get a freeze",
    response_model=FreezeRead,
    responses={**error_responses(401, 403, 404), 200: {"headers": _ETAG_HEADER}},
)
async def get_freeze(
    freeze: FreezeDep, session: SessionDep, _: Reader, response: Response
) -> FreezeRead:
    """One freeze with its status; the `ETag` guards ending or cancelling it."""
    return _freeze(await freeze_service.view(session, freeze), response)


@router.patch(
    "/memberships/{membership_id}/freezes/{freeze_id}",
    summary="End a freeze early",
    response_model=FreezeRead,
    responses=_responses(401, 403, 404, 409, 412, 422, 428, codes=_END_EARLY_CODES),
)
async def end_freeze_early(
    membership: MembershipDep,
    freeze: FreezeDep,
    data: FreezeUpdate,
    session: SessionDep,
    settings: SettingsDep,
    principal: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> FreezeRead:
    """Move the freeze's end earlier (not before today if running); the term shrinks back."""
    view = await freeze_service.end_early(
        session,
        principal,
        membership,
        freeze,
        data.end_date,
        if_match=if_match,
        require_if_match=settings.require_if_match,
    )
    return _freeze(view, response)


@router.delete(
    "/memberships/{membership_id}/freezes/{freeze_id}",
    summary="Cancel a freeze not yet started",
    response_model=FreezeRead,
    responses=_responses(401, 403, 404, 409, 412, 422, 428, codes=_CANCEL_FREEZE_CODES),
)
async def cancel_freeze(
    membership: MembershipDep,
    freeze: FreezeDep,
    session: SessionDep,
    settings: SettingsDep,
    principal: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> FreezeRead:
    """Withdraw a freeze before its first day (409 `freeze_already_started` after)."""
    view = await freeze_service.cancel(
        session,
        principal,
        membership,
        freeze,
        if_match=if_match,
        require_if_match=settings.require_if_match,
    )
    return _freeze(view, response)
