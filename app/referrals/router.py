from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status

from app.auth.permissions import Perm, Principal
from app.core.schemas import Page
from app.dependencies import PageDep, SessionDep, requires
from app.errors import error_responses
from app.members.dependencies import MemberDep
from app.models import Referral
from app.referrals.schemas import (
    ReferralCreate,
    ReferralRead,
    ReferralStatus,
    ReferralUpdate,
    ReferrerSummary,
)
from app.referrals.service import referral_service
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.MEMBERS_READ))]
Writer = Annotated[Principal, Depends(requires(Perm.MEMBERS_WRITE))]


async def get_referral(
    referral_id: Annotated[uuid.UUID, Path(description="Referral id.")],
    session: SessionDep,
    principal: Reader,
) -> Referral:
    """The referral, or 404 `referral_not_found` when missing or outside the token's scope."""
    return await referral_service.get(session, principal, referral_id)


ReferralDep = Annotated[Referral, Depends(get_referral)]


def _responses(*statuses: int, codes: dict[int, str]) -> dict[int | str, Any]:
    out = error_responses(*statuses)
    for code, text in codes.items():
        out[code] = {**out[code], "description": text}
    return out


@router.post(
    "/referrals",
    summary="Record a referral",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralRead,
    responses=_responses(
        401,
        403,
        404,
        409,
        422,
        codes={
            404: "`member_not_found` (the referrer)",
            409: "`already_a_member` (the phone is a current member's), `referral_exists` "
            "(an open lead with this phone; `referral_id` names it), `member_erased`",
            422: "`validation_error` (e.g. not a valid phone number)",
        },
    ),
)
async def create_referral(
    data: ReferralCreate, session: SessionDep, principal: Writer
) -> ReferralRead:
    """A member recommends a person; the lead starts in status `lead`."""
    return ReferralRead.model_validate(await referral_service.create(session, principal, data))


@router.get(
    "/referrals",
    summary="List referrals",
    status_code=status.HTTP_200_OK,
    response_model=Page[ReferralRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_referrals(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    club_id: Annotated[uuid.UUID | None, Query(description="Only this club's.")] = None,
    referrer_id: Annotated[
        uuid.UUID | None, Query(description="Only this member's recommendations.")
    ] = None,
    status: Annotated[ReferralStatus | None, Query(description="Only in this status.")] = None,
) -> Page[ReferralRead]:
    """Referrals of the clubs this token sees, newest first."""
    items, cursor = await referral_service.list(
        session, principal, page, club_id=club_id, referrer_id=referrer_id, status=status
    )
    return Page[ReferralRead](
        items=[ReferralRead.model_validate(r) for r in items], next_cursor=cursor
    )


@router.get(
    "/referrals/{referral_id}",
    summary="Get a referral",
    status_code=status.HTTP_200_OK,
    response_model=ReferralRead,
    responses=error_responses(401, 403, 404, 422),
)
async def get_referral_route(referral: ReferralDep) -> ReferralRead:
    """One referral with its status and credit."""
    return ReferralRead.model_validate(referral)


@router.patch(
    "/referrals/{referral_id}",
    summary="Change a referral's status",
    status_code=status.HTTP_200_OK,
    response_model=ReferralRead,
    responses=_responses(
        401,
        403,
        404,
        409,
        422,
        codes={
            404: "`referral_not_found`, `member_not_found`",
            409: "`referral_already_joined` (joined is final), `member_already_referred` "
            "(the new member came through another referral), `referral_exists` (reopening "
            "a lead whose phone has another open lead), `member_erased`",
            422: "`validation_error` (`member_id` missing with `joined`, given with another "
            "status, of another club, or the referrer)",
        },
    ),
)
async def update_referral(
    data: ReferralUpdate, session: SessionDep, principal: Writer, referral: ReferralDep
) -> ReferralRead:
    """`joined` links the new member and credits the referrer; or mark `lost`/`lead`."""
    updated = await referral_service.update(session, principal, referral, data)
    return ReferralRead.model_validate(updated)


@router.get(
    "/members/{member_id}/referrals",
    summary="A member's referral record",
    status_code=status.HTTP_200_OK,
    response_model=ReferrerSummary,
    responses=error_responses(401, 403, 404, 422),
)
async def referrer_summary(session: SessionDep, _: Reader, member: MemberDep) -> ReferrerSummary:
    """How many people the member recommended, and how many joined (their credits)."""
    return ReferrerSummary.model_validate(await referral_service.summary(session, member))
