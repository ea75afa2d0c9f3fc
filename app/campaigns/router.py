from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from app.auth.permissions import Perm, Principal
from app.campaigns.dependencies import CampaignDep
from app.campaigns.schemas import (
    CampaignCreate,
    CampaignPreview,
    CampaignRead,
    CampaignResults,
    CampaignSendResult,
    PreviewMember,
)
from app.campaigns.service import campaign_service
from app.core.schemas import Page
from app.dependencies import PageDep, SessionDep, requires
from app.errors import error_responses
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.CAMPAIGNS_READ))]
Writer = Annotated[Principal, Depends(requires(Perm.CAMPAIGNS_WRITE))]


def _responses(*statuses: int, codes: dict[int, str] | None = None) -> dict[int | str, Any]:
    """Problem responses, with the business codes a status can carry spelled out."""
    out = error_responses(*statuses)
    for status_code, text in (codes or {}).items():
        out[status_code] = {**out[status_code], "description": text}
    return out


def _read(campaign: Any) -> CampaignRead:
    return CampaignRead.model_validate(campaign)


@router.post(
    "/campaigns",
    summary="Create a campaign",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignRead,
    responses=_responses(
        401,
        403,
        404,
        422,
        codes={
            404: "`club_not_found`, `promotion_not_found` (the segment's promotion)",
            422: "`validation_error` (e.g. an unknown plan in the segment, send_at not in the "
            "future), `channel_without_consent` (no marketing consent exists for the "
            "channel: `call`), `unknown_template`, `template_category_mismatch` (not a "
            "marketing template), `template_error` (context does not fit the template), "
            "`promotion_expired`, `promotion_not_eligible` (switched off or used up)",
        },
    ),
)
async def create_campaign(
    data: CampaignCreate, session: SessionDep, principal: Writer, response: Response
) -> CampaignRead:
    """A marketing message for a segment: a draft, or scheduled with `send_at`."""
    campaign = await campaign_service.create(session, principal, data)
    response.headers["Location"] = f"/api/v1/campaigns/{campaign.id}"
    return _read(campaign)


@router.get(
    "/campaigns",
    summary="List campaigns",
    status_code=status.HTTP_200_OK,
    response_model=Page[CampaignRead],
    responses=_responses(401, 403, 404, 422, codes={404: "`club_not_found`"}),
)
async def list_campaigns(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    club_id: Annotated[uuid.UUID | None, Query(description="One club's campaigns.")] = None,
) -> Page[CampaignRead]:
    """Campaigns of the clubs this token sees, newest first."""
    rows, cursor = await campaign_service.list(session, principal, page, club_id=club_id)
    return Page[CampaignRead](items=[_read(c) for c in rows], next_cursor=cursor)


@router.get(
    "/campaigns/{campaign_id}",
    summary="Get a campaign and its results",
    status_code=status.HTTP_200_OK,
    response_model=CampaignResults,
    responses=_responses(401, 403, 404, codes={404: "`campaign_not_found`"}),
)
async def get_campaign(campaign: CampaignDep, session: SessionDep, _: Reader) -> CampaignResults:
    """The campaign, its messages' fate (queued, sent, suppressed, failed) and renewals."""
    results = await campaign_service.results(session, campaign)
    return CampaignResults.model_validate(
        {
            **_read(campaign).model_dump(),
            "results": results.delivery if results else None,
            "renewals": results.renewals if results else None,
        }
    )


@router.post(
    "/campaigns/{campaign_id}/preview",
    summary="Preview a campaign's segment",
    status_code=status.HTTP_200_OK,
    response_model=CampaignPreview,
    responses=_responses(401, 403, 404, codes={404: "`campaign_not_found`"}),
)
async def preview_campaign(
    campaign: CampaignDep, session: SessionDep, _: Reader
) -> CampaignPreview:
    """How many members the segment holds now, and a sample; nothing is written."""
    preview = await campaign_service.preview(session, campaign)
    return CampaignPreview(
        count=preview.count,
        sample=[
            PreviewMember(member_id=m.id, first_name=m.first_name, last_name=m.last_name)
            for m in preview.sample
        ],
    )


@router.post(
    "/campaigns/{campaign_id}/send",
    summary="Send a campaign now",
    status_code=status.HTTP_200_OK,
    response_model=CampaignSendResult,
    responses=_responses(
        401,
        403,
        404,
        409,
        codes={
            404: "`campaign_not_found`",
            409: "`campaign_already_sent` (sent before, or by a concurrent request or the "
            "`campaigns` job)",
        },
    ),
)
async def send_campaign(
    campaign: CampaignDep, session: SessionDep, _: Writer
) -> CampaignSendResult:
    """Queue one marketing message per member through the contact policy, exactly once."""
    result = await campaign_service.send(session, campaign)
    return CampaignSendResult(
        queued=result.queued, suppressed=result.suppressed, deferred=result.deferred
    )
