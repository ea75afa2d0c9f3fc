from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from app.campaigns.service import campaign_service
from app.dependencies import CurrentPrincipal, SessionDep
from app.models import Campaign


async def get_campaign(
    campaign_id: Annotated[uuid.UUID, Path(description="Campaign id.")],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Campaign:
    """The campaign, or 404 `campaign_not_found` when missing or another club's."""
    return await campaign_service.get(session, principal, campaign_id)


CampaignDep = Annotated[Campaign, Depends(get_campaign)]
