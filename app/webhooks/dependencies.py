from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from app.auth.permissions import Perm, Principal
from app.dependencies import SessionDep, SettingsDep, requires
from app.models import WebhookSubscription
from app.webhooks.service import webhook_service
from app.webhooks.targets import TargetGuard

Manager = Annotated[Principal, Depends(requires(Perm.WEBHOOKS_MANAGE))]


async def get_target_guard(settings: SettingsDep) -> TargetGuard:
    """The SSRF guard for webhook URLs (tests override it with a fake resolver)."""
    return TargetGuard(allow_private=settings.webhook_allow_private_targets)


async def get_webhook(
    webhook_id: Annotated[uuid.UUID, Path(description="Webhook subscription id.")],
    session: SessionDep,
    principal: Manager,
) -> WebhookSubscription:
    return await webhook_service.get(session, principal, webhook_id)


TargetGuardDep = Annotated[TargetGuard, Depends(get_target_guard)]
WebhookDep = Annotated[WebhookSubscription, Depends(get_webhook)]
