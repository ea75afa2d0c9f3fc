from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status

from app.auth.permissions import Perm, Principal
from app.core.schemas import Page
from app.dependencies import PageDep, SessionDep, requires
from app.errors import error_responses
from app.members.dependencies import MemberDep
from app.memberships.dependencies import MembershipDep
from app.memberships.schemas import LocalDate
from app.onboarding.rules import DUE_RULE, RETENTION_DAYS, OnboardingKind
from app.onboarding.schemas import (
    OnboardingAnalytics,
    OnboardingItemRead,
    OnboardingItemUpdate,
    OnboardingRead,
    VisitPlanRead,
    VisitPlanUpdate,
    VisitSlotRead,
    WellnessTestCreate,
    WellnessTestRead,
)
from app.onboarding.service import onboarding_service
from app.onboarding.visit_plan_service import VisitPlanView, visit_plan_service
from app.onboarding.wellness_service import wellness_service
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.ONBOARDING_READ))]
Writer = Annotated[Principal, Depends(requires(Perm.ONBOARDING_WRITE))]
Analyst = Annotated[Principal, Depends(requires(Perm.ANALYTICS_READ))]


def _responses(*statuses: int, codes: dict[int, str] | None = None) -> dict[int | str, Any]:
    """Problem responses, with the business codes a status can carry spelled out."""
    out = error_responses(*statuses)
    for status_code, text in (codes or {}).items():
        out[status_code] = {**out[status_code], "description": text}
    return out


def _plan(view: VisitPlanView) -> VisitPlanRead:
    return VisitPlanRead(
        member_id=view.member_id,
        slots=[VisitSlotRead.model_validate(s) for s in view.slots],
        visits_per_week=view.visits_per_week,
        updated_at=view.updated_at,
    )


# ------------------------------------------------------------------------- checklist


@router.get(
    "/memberships/{membership_id}/onboarding",
    summary="Get a membership's onboarding checklist",
    description="The onboarding checklist of a new membership: first session with a trainer, "
    "wellness test, meeting the trainers and a weekly visit plan, each with its due date "
    "and status. " + DUE_RULE,
    status_code=status.HTTP_200_OK,
    response_model=OnboardingRead,
    responses=_responses(401, 403, 404, codes={404: "`membership_not_found`"}),
)
async def get_onboarding(
    membership: MembershipDep, session: SessionDep, _: Reader
) -> OnboardingRead:
    """The checklist with due dates; empty for memberships without onboarding (renewals)."""
    view = await onboarding_service.checklist(session, membership)
    return view.read()


@router.patch(
    "/memberships/{membership_id}/onboarding/{kind}",
    summary="Mark an onboarding item",
    status_code=status.HTTP_200_OK,
    response_model=OnboardingItemRead,
    responses=_responses(
        401,
        403,
        404,
        422,
        codes={
            404: "`membership_not_found` (also another club's), `onboarding_item_not_found` "
            "(a membership without onboarding)",
            422: "`validation_error` (e.g. trainer_ids on another item), `not_a_trainer` "
            "(trainer_ids must be active trainers of the membership's club)",
        },
    ),
)
async def update_onboarding_item(
    membership: MembershipDep,
    kind: Annotated[OnboardingKind, Path(description="The checklist item.")],
    data: OnboardingItemUpdate,
    session: SessionDep,
    principal: Writer,
) -> OnboardingItemRead:
    """Mark the item done, skipped or open again, with a note and the trainers met."""
    return await onboarding_service.update_item(session, principal, membership, kind, data)


@router.get(
    "/members/{member_id}/onboarding",
    summary="Get a member's onboarding",
    status_code=status.HTTP_200_OK,
    response_model=OnboardingRead,
    responses=_responses(401, 403, 404, codes={404: "`member_not_found`, `onboarding_not_found`"}),
)
async def get_member_onboarding(
    member: MemberDep, session: SessionDep, _: Reader
) -> OnboardingRead:
    """The checklist of the member's latest new membership, for the member card."""
    view = await onboarding_service.for_member(session, member)
    return view.read()


# ---------------------------------------------------------------------- wellness tests


@router.post(
    "/members/{member_id}/wellness-tests",
    summary="Record a wellness test",
    status_code=status.HTTP_201_CREATED,
    response_model=WellnessTestRead,
    responses=_responses(
        401,
        403,
        404,
        422,
        codes={
            404: "`member_not_found`",
            422: "`validation_error` (impossible metrics: weight not in (0, 500] kg, body fat "
            "or water not in (0, 100) %, muscle mass above weight, BMR not in (0, 10000] "
            "kcal; measured_on in the club's future), `not_a_trainer`, `member_erased`",
        },
    ),
)
async def record_wellness_test(
    member: MemberDep, data: WellnessTestCreate, session: SessionDep, principal: Writer
) -> WellnessTestRead:
    """Record a body-composition test; it completes the member's wellness_test item."""
    test = await wellness_service.record(session, principal, member, data)
    return WellnessTestRead.build(test, await wellness_service.first(session, member))


@router.get(
    "/members/{member_id}/wellness-tests",
    summary="List a member's wellness tests",
    status_code=status.HTTP_200_OK,
    response_model=Page[WellnessTestRead],
    responses=_responses(401, 403, 404, 422, codes={404: "`member_not_found`"}),
)
async def list_wellness_tests(
    member: MemberDep, session: SessionDep, _: Reader, page: PageDep
) -> Page[WellnessTestRead]:
    """Progress over time, newest first, each with its change since the first test."""
    tests, cursor = await wellness_service.list(session, member, page)
    first = await wellness_service.first(session, member)
    return Page[WellnessTestRead](
        items=[WellnessTestRead.build(t, first) for t in tests], next_cursor=cursor
    )


# -------------------------------------------------------------------------- visit plan


@router.put(
    "/members/{member_id}/visit-plan",
    summary="Save a member's visit plan",
    status_code=status.HTTP_200_OK,
    response_model=VisitPlanRead,
    responses=_responses(
        401,
        403,
        404,
        422,
        codes={
            404: "`member_not_found`",
            422: "`validation_error`, `outside_opening_hours` (a slot when the club is "
            "closed that weekday), `member_erased`",
        },
    ),
)
async def save_visit_plan(
    member: MemberDep, data: VisitPlanUpdate, session: SessionDep, principal: Writer
) -> VisitPlanRead:
    """Replace the weekly plan; a non-empty plan completes the visit_plan item."""
    return _plan(await visit_plan_service.save(session, principal, member, data))


@router.get(
    "/members/{member_id}/visit-plan",
    summary="Get a member's visit plan",
    status_code=status.HTTP_200_OK,
    response_model=VisitPlanRead,
    responses=_responses(401, 403, 404, codes={404: "`member_not_found`"}),
)
async def get_visit_plan(member: MemberDep, session: SessionDep, _: Reader) -> VisitPlanRead:
    """The member's weekly plan (no slots if none was agreed) and visits a week."""
    return _plan(await visit_plan_service.get(session, member))


# --------------------------------------------------------------------------- analytics


@router.get(
    "/analytics/onboarding",
    summary="Onboarding completion and retention",
    description="For new memberships starting in [from, to] (club-local, inclusive; default "
    "the year up to today): completion per checklist item, and the share of members still "
    f"holding a membership on day {RETENTION_DAYS} among those who completed every item "
    f"before day {RETENTION_DAYS} and those who did not. Onboardings whose day "
    f"{RETENTION_DAYS} is still ahead are counted as pending.",
    status_code=status.HTTP_200_OK,
    response_model=OnboardingAnalytics,
    responses=_responses(
        401, 403, 404, 422, codes={404: "`club_not_found`", 422: "`validation_error`"}
    ),
)
async def onboarding_analytics(
    session: SessionDep,
    principal: Analyst,
    club_id: Annotated[uuid.UUID, Query(description="The club.")],
    from_: Annotated[
        LocalDate | None, Query(alias="from", description="First start date (YYYY-MM-DD).")
    ] = None,
    to: Annotated[LocalDate | None, Query(description="Last start date (YYYY-MM-DD).")] = None,
) -> OnboardingAnalytics:
    """Completion rate per item and 100-day retention, completed vs not completed."""
    return await onboarding_service.analytics(session, principal, club_id, start=from_, end=to)
