"""Webhook rules: who may subscribe to what, fan-out, signed delivery, retries.

Fan-out turns committed outbox events into one delivery per matching subscription
(unique per subscription and event, so a repeated fan-out adds nothing). Delivery is
three short transactions per batch, never holding one open across HTTP: claim (lock
due rows with SKIP LOCKED, lease them by pushing `next_attempt_at` past the send),
send (no database), record (guarded by the attempt number). A worker that dies
mid-send leaves its rows leased; they are due again once the lease ends, and receivers
drop the repeat by `Webhook-Id`.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Perm, Principal
from app.config import Settings
from app.core.clock import utcnow
from app.core.ids import new_id
from app.core.pagination import PageParams, SortKey, paginate
from app.errors import NotFound, RuleViolation
from app.models import Event, WebhookDelivery, WebhookSubscription
from app.scheduling.runs import backoff
from app.webhooks import repository, signing
from app.webhooks.schemas import WebhookCreate, WebhookUpdate
from app.webhooks.targets import ResolvedTarget, TargetGuard, TargetNotAllowed

ATTEMPT_LOG_SIZE = 10
MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class DeliveryConfig:
    batch_size: int = 20
    timeout: float = 10.0
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(hours=1)
    retry_window: timedelta = timedelta(hours=24)
    disable_after: int = 50
    lease: timedelta = timedelta(seconds=60)

    @classmethod
    def from_settings(cls, s: Settings) -> DeliveryConfig:
        return cls(
            batch_size=s.webhook_batch_size,
            timeout=s.webhook_timeout_seconds,
            retry_base=timedelta(seconds=s.webhook_retry_base_seconds),
            retry_max=timedelta(seconds=s.webhook_retry_max_seconds),
            retry_window=timedelta(hours=s.webhook_retry_window_hours),
            disable_after=s.webhook_disable_after_failures,
            lease=timedelta(seconds=s.delivery_lease_seconds),
        )


@dataclass(frozen=True)
class OutgoingDelivery:
    id: uuid.UUID
    subscription_id: uuid.UUID
    url: str
    secret: str
    webhook_id: str
    body: bytes
    attempt: int
    attempt_log: list[Any]
    expires_at: datetime


@dataclass(frozen=True)
class DeliveryOutcome:
    delivery: OutgoingDelivery
    status_code: int | None
    error: str | None
    duration_ms: int
    finished: float  # monotonic, to order outcomes of one batch

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class ClaimedDeliveries:
    deliveries: list[OutgoingDelivery] = field(default_factory=list)
    expired: int = 0


def event_body(event: Event) -> bytes:
    """The JSON body of a delivery: identical on every attempt."""
    payload = {
        "id": str(event.public_id),
        "type": event.type,
        "created_at": event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "club_id": str(event.club_id) if event.club_id else None,
        "data": event.data,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class WebhookService:
    # ---- subscriptions -----------------------------------------------------------------

    async def _resolve_club(
        self, session: AsyncSession, actor: Principal, club_id: uuid.UUID | None
    ) -> uuid.UUID | None:
        if club_id is None:
            if actor.is_admin:
                return None
            if actor.club_ids is not None and len(actor.club_ids) == 1:
                return next(iter(actor.club_ids))
            raise RuleViolation(
                "Give club_id: only a chain-wide admin may subscribe to every club's events.",
                code="club_id_required",
                errors=[{"pointer": "/club_id", "detail": "required for this token"}],
            )
        actor.require_club(club_id, "club")
        if not await repository.club_exists(session, club_id):
            raise NotFound("Club not found.", code="club_not_found")
        return club_id

    async def create(
        self,
        session: AsyncSession,
        actor: Principal,
        data: WebhookCreate,
        *,
        guard: TargetGuard,
    ) -> tuple[WebhookSubscription, str]:
        """Create a subscription; returns it with its secret (shown only now)."""
        actor.require(Perm.WEBHOOKS_MANAGE)
        club_id = await self._resolve_club(session, actor, data.club_id)
        await guard.check(data.url)
        secret = signing.new_secret()
        now = utcnow()
        sub = WebhookSubscription(
            id=new_id(),
            club_id=club_id,
            url=data.url,
            events=list(data.events),
            description=data.description,
            secret=secret,
            active=True,
            consecutive_failures=0,
            created_by_id=actor.staff_id,
            created_at=now,
            updated_at=now,
        )
        session.add(sub)
        await session.flush()
        audit_service.record(
            session,
            actor,
            entity="webhook",
            entity_id=sub.id,
            action="created",
            changes={"url": sub.url, "events": sub.events, "club_id": club_id},
            club_id=club_id,
        )
        return sub, secret

    async def get(
        self, session: AsyncSession, actor: Principal, subscription_id: uuid.UUID
    ) -> WebhookSubscription:
        sub = await repository.get(session, subscription_id)
        if sub is None or not self._visible(actor, sub):
            raise NotFound("Webhook subscription not found.", code="webhook_not_found")
        return sub

    @staticmethod
    def _visible(actor: Principal, sub: WebhookSubscription) -> bool:
        # Chain-wide subscriptions are for chain-wide eyes only.
        return actor.chain_wide if sub.club_id is None else actor.sees_club(sub.club_id)

    async def update(
        self,
        session: AsyncSession,
        actor: Principal,
        sub: WebhookSubscription,
        data: WebhookUpdate,
        *,
        guard: TargetGuard,
    ) -> WebhookSubscription:
        actor.require(Perm.WEBHOOKS_MANAGE)
        changes = data.model_dump(exclude_unset=True)
        for name in ("url", "events", "active"):
            if name in changes and changes[name] is None:
                raise RuleViolation(
                    f"{name} cannot be null.",
                    code="validation_error",
                    errors=[{"pointer": f"/{name}", "detail": "cannot be null"}],
                )
        if "url" in changes:
            await guard.check(changes["url"])
        before = {k: getattr(sub, k) for k in changes}
        now = utcnow()
        for key in ("url", "events", "description"):
            if key in changes:
                setattr(sub, key, changes[key])
        if "active" in changes:
            if changes["active"] and not sub.active:
                sub.consecutive_failures = 0
                sub.disabled_at = None
                sub.disabled_reason = None
            elif not changes["active"] and sub.active:
                sub.disabled_at = now
                sub.disabled_reason = "paused by a user"
            sub.active = changes["active"]
        sub.updated_at = now
        diff = audit_service.diff(before, {k: getattr(sub, k) for k in changes})
        if diff:
            audit_service.record(
                session,
                actor,
                entity="webhook",
                entity_id=sub.id,
                action="updated",
                changes=diff,
                club_id=sub.club_id,
            )
        await session.flush()
        return sub

    async def delete(
        self, session: AsyncSession, actor: Principal, sub: WebhookSubscription
    ) -> None:
        actor.require(Perm.WEBHOOKS_MANAGE)
        audit_service.record(
            session,
            actor,
            entity="webhook",
            entity_id=sub.id,
            action="deleted",
            changes={"url": sub.url},
            club_id=sub.club_id,
        )
        await repository.delete(session, sub)
        await session.flush()

    async def deliveries(
        self,
        session: AsyncSession,
        sub: WebhookSubscription,
        page: PageParams,
        *,
        status: str | None,
    ) -> tuple[list[WebhookDelivery], str | None]:
        return await paginate(
            session,
            repository.deliveries(sub.id, status=status),
            [
                SortKey(WebhookDelivery.created_at, descending=True),
                SortKey(WebhookDelivery.id, descending=True),
            ],
            page,
            scope=f"deliveries:{sub.id}",
            key_of=lambda d: [d.created_at, d.id],
        )

    # ---- fan-out -----------------------------------------------------------------------

    async def fan_out(self, session: AsyncSession, as_of: datetime, *, limit: int) -> int:
        """Turn a batch of new events into deliveries. Returns the events handled."""
        dialect = session.get_bind().dialect.name
        events = await repository.claim_unfanned_events(
            session, limit, skip_locked=dialect == "postgresql"
        )
        if not events:
            return 0
        subs = await repository.active_subscriptions(session)
        rows = []
        for event in events:
            for sub in subs:
                if event.type not in sub.events:
                    continue
                if sub.club_id is not None and sub.club_id != event.club_id:
                    continue
                rows.append(
                    {
                        "id": new_id(),
                        "subscription_id": sub.id,
                        "event_id": event.id,
                        "event_public_id": event.public_id,
                        "club_id": event.club_id,
                        "event_type": event.type,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": as_of,
                        "attempt_log": [],
                        "created_at": as_of,
                    }
                )
        await repository.insert_deliveries(session, rows)
        await repository.mark_fanned_out(session, [e.id for e in events], as_of)
        return len(events)

    # ---- delivery ----------------------------------------------------------------------

    async def claim_due(
        self,
        session: AsyncSession,
        as_of: datetime,
        config: DeliveryConfig,
        *,
        lease_from: datetime | None = None,
    ) -> ClaimedDeliveries:
        dialect = session.get_bind().dialect.name
        rows = await repository.claim_due_deliveries(
            session, as_of, config.batch_size, skip_locked=dialect == "postgresql"
        )
        out = ClaimedDeliveries()
        if not rows:
            return out
        events = await repository.events_by_ids(session, [d.event_id for d in rows])
        subs = await repository.subscriptions_by_ids(session, [d.subscription_id for d in rows])
        lease_until = max(as_of, lease_from or as_of) + config.lease
        for d in rows:
            expires_at = d.created_at + config.retry_window
            if as_of >= expires_at:
                d.status, d.next_attempt_at = "failed", None
                d.last_error = (d.last_error or "retry window exceeded")[:MAX_ERROR_CHARS]
                out.expired += 1
                continue
            d.attempts += 1
            d.next_attempt_at = lease_until
            sub, event = subs[d.subscription_id], events[d.event_id]
            out.deliveries.append(
                OutgoingDelivery(
                    id=d.id,
                    subscription_id=sub.id,
                    url=sub.url,
                    secret=sub.secret,
                    webhook_id=str(event.public_id),
                    body=event_body(event),
                    attempt=d.attempts,
                    attempt_log=list(d.attempt_log or []),
                    expires_at=expires_at,
                )
            )
        await session.flush()
        return out

    async def send(
        self,
        client: httpx.AsyncClient,
        guard: TargetGuard,
        deliveries: Sequence[OutgoingDelivery],
        *,
        limit_s: float,
    ) -> list[DeliveryOutcome]:
        """POST every delivery concurrently; never raises."""
        # Check each URL once per batch (again at every batch: DNS may have changed).
        checks: dict[str, asyncio.Future[ResolvedTarget]] = {}

        def checked(url: str) -> asyncio.Future[ResolvedTarget]:
            if url not in checks:
                checks[url] = asyncio.ensure_future(guard.check(url))
            return checks[url]

        async def one(d: OutgoingDelivery) -> DeliveryOutcome:
            started = time.monotonic()
            status_code: int | None = None
            error: str | None = None
            try:
                target = await checked(d.url)
                headers = {
                    "Content-Type": "application/json",
                    **target.headers(),
                    # Wall-clock on purpose: receivers compare it with their own clock.
                    **signing.headers(d.secret, d.webhook_id, int(time.time()), d.body),
                }
                response = await asyncio.wait_for(
                    client.post(
                        target.request_url(),
                        content=d.body,
                        headers=headers,
                        timeout=limit_s,
                        extensions=target.extensions(),
                    ),
                    limit_s + 1,
                )
                status_code = response.status_code
                if not response.is_success:
                    error = f"HTTP {status_code}"
            except TargetNotAllowed as exc:
                error = f"target not allowed: {exc.detail}"
            except TimeoutError:
                error = "timed out"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            except Exception as exc:  # one bad delivery must not lose the batch's outcomes
                error = f"{type(exc).__name__}: {exc}"
            finished = time.monotonic()
            return DeliveryOutcome(
                d, status_code, error, int((finished - started) * 1000), finished
            )

        return list(await asyncio.gather(*(one(d) for d in deliveries)))

    async def record(
        self,
        session: AsyncSession,
        outcomes: Sequence[DeliveryOutcome],
        now: datetime,
        config: DeliveryConfig,
    ) -> dict[str, int]:
        counts = {"delivered": 0, "retried": 0, "failed": 0, "stale": 0, "disabled": 0}
        ordered = sorted(outcomes, key=lambda o: o.finished)
        for o in ordered:
            d = o.delivery
            entry = {
                "at": now.isoformat(),
                "status_code": o.status_code,
                "error": o.error[:300] if o.error else None,
                "duration_ms": o.duration_ms,
            }
            values: dict[str, Any] = {
                "last_attempt_at": now,
                "last_status_code": o.status_code,
                "last_error": o.error[:MAX_ERROR_CHARS] if o.error else None,
                "last_duration_ms": o.duration_ms,
                "attempt_log": [*d.attempt_log, entry][-ATTEMPT_LOG_SIZE:],
            }
            if o.ok:
                key = "delivered"
                values.update(status="delivered", delivered_at=now, next_attempt_at=None)
            else:
                retry_at = now + backoff(d.attempt, config.retry_base, config.retry_max)
                if retry_at >= d.expires_at:
                    key = "failed"
                    values.update(status="failed", next_attempt_at=None)
                else:
                    key = "retried"
                    values.update(next_attempt_at=retry_at)
            if await repository.finish_delivery(session, d.id, d.attempt, values):
                counts[key] += 1
            else:
                counts["stale"] += 1

        # Consecutive failures per subscription, in the order the attempts finished.
        subs = await repository.subscriptions_by_ids(
            session, sorted({o.delivery.subscription_id for o in ordered}), lock=True
        )
        for sub_id, sub in subs.items():
            for o in (o for o in ordered if o.delivery.subscription_id == sub_id):
                sub.consecutive_failures = 0 if o.ok else sub.consecutive_failures + 1
            if sub.active and sub.consecutive_failures >= config.disable_after:
                sub.active = False
                sub.disabled_at = now
                sub.disabled_reason = (
                    f"disabled after {sub.consecutive_failures} consecutive failed deliveries"
                )
                counts["disabled"] += 1
        await session.flush()
        return counts

    async def list(
        self,
        session: AsyncSession,
        actor: Principal,
        page: PageParams,
        *,
        club_id: uuid.UUID | None,
    ) -> tuple[list[WebhookSubscription], str | None]:
        if club_id is not None:
            actor.require_club(club_id, "club")
        stmt = repository.listing(actor.club_ids, club_id=club_id)
        return await paginate(
            session,
            stmt,
            [SortKey(WebhookSubscription.id)],
            page,
            scope="webhooks",
            key_of=lambda s: [s.id],
        )


webhook_service = WebhookService()
