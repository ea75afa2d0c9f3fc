from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.analytics.schemas import (
    CohortReport,
    DeclineReasonReport,
    FunnelReport,
    LapseRecoveryReport,
    NpsReport,
    ReferralReport,
    RenewalReport,
    StaffReport,
)
from app.analytics.service import DEFAULT_DAYS, MAX_DAYS, Scope, analytics_service
from app.auth.permissions import Perm, Principal
from app.dependencies import SessionDep, expensive, requires
from app.errors import error_responses
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute, dependencies=[Depends(expensive("analytics"))])

Reader = Annotated[Principal, Depends(requires(Perm.ANALYTICS_READ))]
_RESPONSES = error_responses(401, 403, 404, 422)


async def get_scope(
    session: SessionDep,
    principal: Reader,
    club_id: Annotated[uuid.UUID, Query(description="The club (404 outside the token's scope).")],
    from_: Annotated[
        date | None,
        Query(
            alias="from",
            description=f"First club-local day, inclusive. Default: {DEFAULT_DAYS - 1} days "
            "before `to`. From 1970-01-01.",
        ),
    ] = None,
    to: Annotated[
        date | None,
        Query(
            description=f"Last club-local day, inclusive. Default: the club's today. At most "
            f"{MAX_DAYS} days in all; until 2999-12-31."
        ),
    ] = None,
) -> Scope:
    """One club and a period of its local days."""
    return await analytics_service.scope(session, principal, club_id, from_, to)


ScopeDep = Annotated[Scope, Depends(get_scope)]


@router.get(
    "/analytics/renewals",
    summary="Renewal rate by month and plan",
    status_code=status.HTTP_200_OK,
    response_model=RenewalReport,
    responses=_RESPONSES,
)
async def renewals(session: SessionDep, scope: ScopeDep) -> RenewalReport:
    """Memberships ending in the period: renewed before the end, within 30 days, or lost."""
    return RenewalReport.model_validate(await analytics_service.renewals(session, scope))


@router.get(
    "/analytics/nps",
    summary="Net Promoter Score",
    status_code=status.HTTP_200_OK,
    response_model=NpsReport,
    responses=_RESPONSES,
)
async def nps(session: SessionDep, scope: ScopeDep) -> NpsReport:
    """NPS of the feedback given in the period: % promoters (9-10) - % detractors (0-6)."""
    return NpsReport.model_validate(await analytics_service.nps(session, scope))


@router.get(
    "/analytics/referrals",
    summary="Referral results",
    status_code=status.HTTP_200_OK,
    response_model=ReferralReport,
    responses=_RESPONSES,
)
async def referrals(session: SessionDep, scope: ScopeDep) -> ReferralReport:
    """People recommended in the period, how many joined, and the referrers credited."""
    return ReferralReport.model_validate(await analytics_service.referrals(session, scope))


@router.get(
    "/analytics/cohorts",
    summary="Join cohorts: retention and first-100-day visits",
    status_code=status.HTTP_200_OK,
    response_model=CohortReport,
    responses=_RESPONSES,
)
async def cohorts(session: SessionDep, scope: ScopeDep) -> CohortReport:
    """Members who joined in the period, by month: still members at 30/60/100 days, visits."""
    return CohortReport.model_validate(await analytics_service.cohorts(session, scope))


@router.get(
    "/analytics/funnel",
    summary="Call funnel: calls, reached, meetings booked and attended, renewals",
    status_code=status.HTTP_200_OK,
    response_model=FunnelReport,
    responses=_RESPONSES,
)
async def funnel(session: SessionDep, scope: ScopeDep) -> FunnelReport:
    """Service calls first dialled in the period and how far each got, in all and by kind."""
    return FunnelReport.model_validate(await analytics_service.funnel(session, scope))


@router.get(
    "/analytics/decline-reasons",
    summary="Why members said no",
    status_code=status.HTTP_200_OK,
    response_model=DeclineReasonReport,
    responses=_RESPONSES,
)
async def decline_reasons(session: SessionDep, scope: ScopeDep) -> DeclineReasonReport:
    """Declined call attempts and declined meeting outcomes in the period, by reason."""
    return DeclineReasonReport.model_validate(
        await analytics_service.decline_reasons(session, scope)
    )


@router.get(
    "/analytics/staff",
    summary="Retention credit per staff member",
    status_code=status.HTTP_200_OK,
    response_model=StaffReport,
    responses=_RESPONSES,
)
async def staff_results(session: SessionDep, scope: ScopeDep) -> StaffReport:
    """Per staff member: calls, reached, meetings booked and held, renewals, recovered
    lapsers, new sales."""
    return StaffReport.model_validate(await analytics_service.staff(session, scope))


@router.get(
    "/analytics/lapse-recovery",
    summary="Lapsing members won back by a call",
    status_code=status.HTTP_200_OK,
    response_model=LapseRecoveryReport,
    responses=_RESPONSES,
)
async def lapse_recovery(session: SessionDep, scope: ScopeDep) -> LapseRecoveryReport:
    """At-risk members called in the period who came back within 30 days of being reached."""
    return LapseRecoveryReport.model_validate(
        await analytics_service.lapse_recovery(session, scope)
    )
