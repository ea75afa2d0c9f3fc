"""The `messages` job: dispatch due messages through the configured provider."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from app.core.clock import utcnow
from app.db import Database
from app.integrations import runtime
from app.messaging.providers import MessageProvider, build_provider
from app.messaging.service import DispatchConfig, messaging_service
from app.scheduling.runs import MAX_BATCHES_PER_RUN, RunClock


async def dispatch(
    db: Database, as_of: datetime, provider: MessageProvider, config: DispatchConfig
) -> dict[str, int]:
    clock = RunClock(as_of)
    totals: Counter[str] = Counter()
    for _ in range(MAX_BATCHES_PER_RUN):
        if clock.exhausted:
            break
        async with db.session_scope() as s:
            batch = await messaging_service.claim_due(s, clock.now(), config, lease_from=utcnow())
        totals["deferred"] += batch.deferred
        totals["suppressed"] += batch.suppressed
        totals["failed"] += batch.failed
        if not batch.touched:
            break
        outcomes = await messaging_service.send(provider, batch.messages, config.send_timeout)
        async with db.session_scope() as s:
            totals.update(await messaging_service.record(s, outcomes, clock.now(), config))
    return {k: totals[k] for k in ("sent", "retried", "failed", "deferred", "suppressed", "stale")}


async def messages(db: Database, as_of: datetime) -> Mapping[str, int]:
    rt = runtime.current()
    provider = build_provider(rt.settings, rt.http)
    return await dispatch(db, as_of, provider, DispatchConfig.from_settings(rt.settings))
