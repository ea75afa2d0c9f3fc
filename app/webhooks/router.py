from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from app.core.schemas import Page
from app.dependencies import PageDep, SessionDep
from app.errors import error_responses
from app.routing import AppRoute
from app.webhooks.dependencies import Manager, TargetGuardDep, WebhookDep
from app.webhooks.schemas import (
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)
from app.webhooks.service import webhook_service

router = APIRouter(route_class=AppRoute)


@router.post(
    "/webhooks",
    summary="Subscribe to events",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    responses=error_responses(401, 403, 404, 422),
)
async def create_webhook(
    data: WebhookCreate, session: SessionDep, principal: Manager, guard: TargetGuardDep
) -> WebhookCreated:
    """Create a subscription; the response carries its signing `secret`, shown only once."""
    sub, secret = await webhook_service.create(session, principal, data, guard=guard)
    return WebhookCreated.model_validate(
        {**WebhookRead.model_validate(sub).model_dump(), "secret": secret}
    )


@router.get(
    "/webhooks",
    summary="List webhook subscriptions",
    status_code=status.HTTP_200_OK,
    response_model=Page[WebhookRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_webhooks(
    session: SessionDep,
    principal: Manager,
    page: PageDep,
    club_id: Annotated[uuid.UUID | None, Query(description="Only this club's.")] = None,
) -> Page[WebhookRead]:
    """Subscriptions of the clubs this token may see (chain-wide ones for admins)."""
    items, cursor = await webhook_service.list(session, principal, page, club_id=club_id)
    return Page[WebhookRead](
        items=[WebhookRead.model_validate(s) for s in items], next_cursor=cursor
    )


@router.get(
    "/webhooks/{webhook_id}",
    summary="Get a webhook subscription",
    status_code=status.HTTP_200_OK,
    response_model=WebhookRead,
    responses=error_responses(401, 403, 404),
)
async def get_webhook(sub: WebhookDep) -> WebhookRead:
    """One subscription with its state (the secret is never shown again)."""
    return WebhookRead.model_validate(sub)


@router.patch(
    "/webhooks/{webhook_id}",
    summary="Update or re-enable a webhook subscription",
    status_code=status.HTTP_200_OK,
    response_model=WebhookRead,
    responses=error_responses(401, 403, 404, 422),
)
async def update_webhook(
    sub: WebhookDep,
    data: WebhookUpdate,
    session: SessionDep,
    principal: Manager,
    guard: TargetGuardDep,
) -> WebhookRead:
    """Change url, events or description; `active: true` re-enables a disabled one."""
    sub = await webhook_service.update(session, principal, sub, data, guard=guard)
    return WebhookRead.model_validate(sub)


@router.delete(
    "/webhooks/{webhook_id}",
    summary="Delete a webhook subscription",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404),
)
async def delete_webhook(sub: WebhookDep, session: SessionDep, principal: Manager) -> Response:
    """Stop deliveries at once and forget the subscription and its delivery log."""
    await webhook_service.delete(session, principal, sub)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    summary="List a subscription's deliveries",
    status_code=status.HTTP_200_OK,
    response_model=Page[DeliveryRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_deliveries(
    sub: WebhookDep,
    session: SessionDep,
    page: PageDep,
    status: Annotated[
        Literal["pending", "delivered", "failed"] | None, Query(description="Filter by status.")
    ] = None,
) -> Page[DeliveryRead]:
    """The delivery log, newest first: attempts, status codes, errors and durations."""
    items, cursor = await webhook_service.deliveries(session, sub, page, status=status)
    return Page[DeliveryRead](
        items=[DeliveryRead.model_validate(d) for d in items], next_cursor=cursor
    )
