"""The `webhooks` job: fan new events out to deliveries, then deliver what is due."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

import httpx

from app.core.clock import utcnow
from app.db import Database
from app.integrations import runtime
from app.scheduling.runs import MAX_BATCHES_PER_RUN, RunClock
from app.webhooks.service import DeliveryConfig, webhook_service
from app.webhooks.targets import TargetGuard

FAN_OUT_BATCH = 500


async def deliver(
    db: Database,
    as_of: datetime,
    client: httpx.AsyncClient,
    guard: TargetGuard,
    config: DeliveryConfig,
) -> dict[str, int]:
    clock = RunClock(as_of)
    totals: Counter[str] = Counter()
    for _ in range(MAX_BATCHES_PER_RUN):
        async with db.session_scope() as s:
            handled = await webhook_service.fan_out(s, clock.now(), limit=FAN_OUT_BATCH)
        totals["events"] += handled
        if handled < FAN_OUT_BATCH or clock.exhausted:
            break
    for _ in range(MAX_BATCHES_PER_RUN):
        if clock.exhausted:
            break
        async with db.session_scope() as s:
            claimed = await webhook_service.claim_due(s, clock.now(), config, lease_from=utcnow())
        totals["failed"] += claimed.expired
        if not claimed.deliveries and not claimed.expired:
            break
        outcomes = await webhook_service.send(
            client, guard, claimed.deliveries, limit_s=config.timeout
        )
        async with db.session_scope() as s:
            totals.update(await webhook_service.record(s, outcomes, clock.now(), config))
    keys = ("events", "delivered", "retried", "failed", "disabled", "stale")
    return {k: totals[k] for k in keys}


async def webhooks(db: Database, as_of: datetime) -> Mapping[str, int]:
    rt = runtime.current()
    guard = TargetGuard(allow_private=rt.settings.webhook_allow_private_targets)
    return await deliver(db, as_of, rt.http, guard, DeliveryConfig.from_settings(rt.settings))
