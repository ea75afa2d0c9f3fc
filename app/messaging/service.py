"""Messaging rules: queue through the contact policy, claim, send, record, erase.

Queue: the contact policy decides. Allowed: `queued`, due now. "Not yet" (quiet hours,
the member's window, silence days): `queued` with `next_attempt_at` at the next allowed
instant and `deferred_reason`. Refused (do-not-contact, no consent, no address, cap):
`suppressed` with the reason. The same `dedupe_key` never makes a second row.

Dispatch is three short transactions per batch, so no database transaction stays open
while a provider is called: claim (lock due rows, re-check the policy, lease the allowed
ones by pushing `next_attempt_at` past the send), send (no database), record (guarded
by the attempt number). A worker that dies mid-send leaves its rows leased; they are
due again when the lease ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.config import Settings
from app.core.clock import utcnow
from app.core.pagination import PageParams, SortKey, paginate
from app.errors import RuleViolation
from app.members.privacy import register_erasure, register_export_section, row_dict
from app.messaging import repository
from app.messaging.providers import MessageProvider, OutgoingMessage, ProviderError
from app.messaging.templates import TEMPLATES, ContextValue, MessageTemplate, TemplateError
from app.models import Member, Message
from app.policy.contact import (
    Category,
    Channel,
    ContactRequest,
    Decision,
    Reason,
    counts_toward_caps,
)
from app.policy.service import Subject, contact_policy_service
from app.scheduling.runs import backoff

MESSAGE_CHANNELS = (Channel.SMS, Channel.EMAIL)
MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class DispatchConfig:
    batch_size: int = 20
    max_attempts: int = 5
    retry_base: timedelta = timedelta(seconds=60)
    retry_max: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(seconds=60)
    send_timeout: float = 10.0

    @classmethod
    def from_settings(cls, s: Settings) -> DispatchConfig:
        return cls(
            batch_size=s.message_batch_size,
            max_attempts=s.message_max_attempts,
            retry_base=timedelta(seconds=s.message_retry_base_seconds),
            retry_max=timedelta(seconds=s.message_retry_max_seconds),
            lease=timedelta(seconds=s.delivery_lease_seconds),
            send_timeout=s.gateway_timeout_seconds,
        )


@dataclass
class ClaimedBatch:
    messages: list[OutgoingMessage] = field(default_factory=list)
    deferred: int = 0
    suppressed: int = 0
    failed: int = 0

    @property
    def touched(self) -> int:
        return len(self.messages) + self.deferred + self.suppressed + self.failed


@dataclass(frozen=True)
class SendOutcome:
    message: OutgoingMessage
    provider: str
    provider_message_id: str | None = None
    error: str | None = None
    retryable: bool = True

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Recipient:
    """One logical message of a batch: to whom, its dedupe key, its template context."""

    member: Member
    dedupe_key: str
    context: Mapping[str, ContextValue] | None = None


def _member_fields(member: Member, club_name: str) -> dict[str, str]:
    return {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "club_name": club_name,
    }


class MessagingService:
    def template(self, name: str, category: Category) -> MessageTemplate:
        tpl = TEMPLATES.get(name)
        if tpl is None:
            raise RuleViolation(f"Unknown message template {name!r}.", code="unknown_template")
        if category not in tpl.categories:
            raise RuleViolation(
                f"Template {name!r} is not a {category.value} message.",
                code="template_category_mismatch",
            )
        return tpl

    def _choose_channel(
        self, subject: Subject, category: Category, template: str, exempt: bool, as_of: datetime
    ) -> tuple[Channel, Decision]:
        """The member's preferred message channel if it can reach them, else the other
        one; if neither can, the preferred one (its refusal says why)."""
        preferred = subject.member.preferred_channel
        order = list(MESSAGE_CHANNELS)
        if preferred == Channel.EMAIL.value:
            order.reverse()
        decisions = [
            (ch, subject.decide(ContactRequest(ch, category, template, exempt), as_of))
            for ch in order
        ]
        for ch, d in decisions:
            if d.allowed or d.deferrable:
                return ch, d
        for ch, d in decisions:
            if d.reason not in (Reason.NO_ADDRESS, Reason.NO_CONSENT):
                return ch, d
        return decisions[0]

    async def queue(
        self,
        session: AsyncSession,
        member: Member,
        *,
        template: str,
        category: Category | str,
        dedupe_key: str,
        as_of: datetime,
        channel: Channel | str | None = None,
        context: Mapping[str, ContextValue] | None = None,
        exempt_from_caps: bool = False,
    ) -> Message:
        """Queue one logical message (once per `dedupe_key`) through the contact policy."""
        [row] = await self.queue_many(
            session,
            [Recipient(member, dedupe_key, context)],
            template=template,
            category=category,
            as_of=as_of,
            channel=channel,
            exempt_from_caps=exempt_from_caps,
        )
        return row

    async def queue_many(
        self,
        session: AsyncSession,
        recipients: Sequence[Recipient],
        *,
        template: str,
        category: Category | str,
        as_of: datetime,
        channel: Channel | str | None = None,
        exempt_from_caps: bool = False,
    ) -> list[Message]:
        """`queue` for many members at once (campaigns, playbook runs): the policy inputs
        and existing dedupe keys are read set-wise, a fixed number of queries per call.
        Returns one row per recipient, in order; a repeated dedupe key yields its first
        row. Members earlier in the batch count toward the caps of later ones."""
        category = Category(category)
        tpl = self.template(template, category)
        chosen_channel: Channel | None = None
        if channel is not None:
            chosen_channel = Channel(channel)
            if chosen_channel not in MESSAGE_CHANNELS:
                raise RuleViolation("Messages go by sms or email.", code="invalid_channel")
        for r in recipients:
            if not 1 <= len(r.dedupe_key) <= 200:
                raise RuleViolation(
                    "dedupe_key must be 1-200 characters.", code="invalid_dedupe_key"
                )
        rows: dict[str, Message] = await repository.by_dedupe_keys(
            session, [r.dedupe_key for r in recipients]
        )
        todo: list[Recipient] = []
        seen = set(rows)
        for r in recipients:
            if r.dedupe_key not in seen:
                seen.add(r.dedupe_key)
                todo.append(r)
        subjects = await contact_policy_service.subjects(
            session, [r.member.id for r in todo], as_of
        )
        fresh: list[Message] = []
        for r in todo:
            subject = subjects[r.member.id]
            if chosen_channel is not None:
                chosen = chosen_channel
                decision = subject.decide(
                    ContactRequest(chosen, category, template, exempt_from_caps), as_of
                )
            else:
                chosen, decision = self._choose_channel(
                    subject, category, template, exempt_from_caps, as_of
                )
            try:
                rendered = tpl.render(
                    chosen, member=_member_fields(r.member, subject.club.name), context=r.context
                )
            except TemplateError as exc:
                raise RuleViolation(str(exc), code="template_error") from exc
            address = (r.member.phone if chosen is Channel.SMS else r.member.email) or ""
            message = Message(
                club_id=r.member.club_id,
                member_id=r.member.id,
                channel=chosen.value,
                template=template,
                category=category.value,
                subject=rendered.subject,
                body=rendered.body,
                to_address=address,
                exempt_from_caps=exempt_from_caps,
                attempts=0,
                dedupe_key=r.dedupe_key,
                created_at=as_of,
                updated_at=as_of,
            )
            self._apply(message, decision, as_of)
            request = ContactRequest(chosen, category, template, exempt_from_caps)
            if message.status == "queued" and counts_toward_caps(request):
                # Queued counts as "now" against this member's next message in the batch.
                facts = dataclasses.replace(
                    subject.facts, recent_messages=(*subject.facts.recent_messages, as_of)
                )
                subjects[r.member.id] = dataclasses.replace(subject, facts=facts)
            fresh.append(message)
        for message in await repository.add_all_unique(session, fresh):
            rows[message.dedupe_key] = message
        return [rows[r.dedupe_key] for r in recipients]

    @staticmethod
    def _apply(message: Message, decision: Decision, due: datetime) -> None:
        if decision.allowed:
            message.status, message.next_attempt_at = "queued", due
            message.deferred_reason = None
        elif decision.deferrable:
            message.status, message.next_attempt_at = "queued", decision.next_allowed_at
            message.deferred_reason = decision.reason.value if decision.reason else None
        else:
            message.status, message.next_attempt_at = "suppressed", None
            message.suppressed_reason = decision.reason.value if decision.reason else None
            message.deferred_reason = None

    async def claim_due(
        self,
        session: AsyncSession,
        as_of: datetime,
        config: DispatchConfig,
        *,
        lease_from: datetime | None = None,
    ) -> ClaimedBatch:
        """Lock a batch of due messages, re-check the contact policy (consent may have
        been withdrawn, a purchase may have started silence days since queuing), and
        lease the ones that may go now."""
        dialect = session.get_bind().dialect.name
        rows = await repository.claim_due(
            session, as_of, config.batch_size, skip_locked=dialect == "postgresql"
        )
        batch = ClaimedBatch()
        if not rows:
            return batch
        subjects = await contact_policy_service.subjects(
            session,
            [m.member_id for m in rows],
            as_of,
            exclude_message_ids=[m.id for m in rows],
        )
        lease_until = max(as_of, lease_from or as_of) + config.lease
        for message in rows:
            if message.attempts >= config.max_attempts:
                # Only reachable when workers died holding it: give up like any failure.
                message.status, message.next_attempt_at = "failed", None
                message.last_error = (message.last_error or "worker lost during send")[:1000]
                batch.failed += 1
                continue
            subject = subjects.get(message.member_id)
            request = ContactRequest(
                Channel(message.channel),
                Category(message.category),
                message.template,
                message.exempt_from_caps,
            )
            if subject is None:
                decision = Decision(False, Reason.MEMBER_ERASED)
            else:
                decision = subject.decide(request, as_of)
            self._apply(message, decision, as_of)
            if message.status == "queued" and subject is not None and counts_toward_caps(request):
                # This one now counts against the next message of the same member.
                facts = dataclasses.replace(
                    subject.facts, recent_messages=(*subject.facts.recent_messages, as_of)
                )
                subjects[message.member_id] = dataclasses.replace(subject, facts=facts)
            if not decision.allowed:
                if message.status == "queued":
                    batch.deferred += 1
                else:
                    batch.suppressed += 1
                continue
            message.attempts += 1
            message.next_attempt_at = lease_until
            message.updated_at = as_of
            batch.messages.append(
                OutgoingMessage(
                    id=message.id,
                    club_id=message.club_id,
                    member_id=message.member_id,
                    channel=message.channel,
                    template=message.template,
                    to=message.to_address,
                    subject=message.subject,
                    body=message.body,
                    attempt=message.attempts,
                )
            )
        await session.flush()
        return batch

    async def send(
        self, provider: MessageProvider, messages: Sequence[OutgoingMessage], limit_s: float
    ) -> list[SendOutcome]:
        """Send concurrently; never raises (every failure becomes an outcome)."""

        async def one(message: OutgoingMessage) -> SendOutcome:
            try:
                # httpx times out per phase; this bounds the whole send.
                result = await asyncio.wait_for(provider.send(message), limit_s + 1)
            except ProviderError as exc:
                return SendOutcome(message, provider.name, error=str(exc), retryable=exc.retryable)
            except TimeoutError:
                return SendOutcome(message, provider.name, error="timed out")
            except Exception as exc:  # a provider bug must not lose the batch's outcomes
                return SendOutcome(message, provider.name, error=f"{type(exc).__name__}: {exc}")
            return SendOutcome(
                message, provider.name, provider_message_id=result.provider_message_id
            )

        return list(await asyncio.gather(*(one(m) for m in messages)))

    async def record(
        self,
        session: AsyncSession,
        outcomes: Sequence[SendOutcome],
        now: datetime,
        config: DispatchConfig,
    ) -> dict[str, int]:
        counts = {"sent": 0, "retried": 0, "failed": 0, "stale": 0}
        for o in outcomes:
            attempt = o.message.attempt
            values: dict[str, object]
            if o.ok:
                key = "sent"
                values = {
                    "status": "sent",
                    "sent_at": now,
                    "provider": o.provider,
                    "provider_message_id": o.provider_message_id,
                    "next_attempt_at": None,
                    "last_error": None,
                }
            elif not o.retryable or attempt >= config.max_attempts:
                key = "failed"
                values = {"status": "failed", "next_attempt_at": None}
            else:
                key = "retried"
                values = {
                    "next_attempt_at": now + backoff(attempt, config.retry_base, config.retry_max)
                }
            if not o.ok:
                values["last_error"] = (o.error or "")[:MAX_ERROR_CHARS]
                values["provider"] = o.provider
            values["updated_at"] = now
            if await repository.finish(session, o.message.id, attempt, values):
                counts[key] += 1
            else:
                counts["stale"] += 1
        return counts

    async def list(
        self,
        session: AsyncSession,
        actor: Principal,
        page: PageParams,
        *,
        club_id: uuid.UUID | None,
        member_id: uuid.UUID | None,
        status: str | None,
    ) -> tuple[list[Message], str | None]:
        if club_id is not None:
            actor.require_club(club_id, "club")
        if actor.member_id is not None:
            # A token pinned to one member sees only that member's messages.
            if member_id is not None and member_id != actor.member_id:
                return [], None
            member_id = actor.member_id
        stmt = repository.listing(
            actor.club_ids, club_id=club_id, member_id=member_id, status=status
        )
        return await paginate(
            session,
            stmt,
            [SortKey(Message.created_at, descending=True), SortKey(Message.id, descending=True)],
            page,
            scope="messages",
            key_of=lambda m: [m.created_at, m.id],
        )

    async def erase_member(
        self, session: AsyncSession, member_id: uuid.UUID, *, as_of: datetime | None = None
    ) -> int:
        """Blank the personal data (text, subject, address, errors) of every message to
        the member; queued ones become suppressed. Counts and statuses stay for
        reporting. Returns how many messages were scrubbed."""
        return await repository.erase_member(session, member_id, as_of or utcnow())


messaging_service = MessagingService()


async def _export_messages(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    return [row_dict(m) for m in await repository.for_member(session, member.id)]


async def _erase_messages(session: AsyncSession, member: Member) -> None:
    await messaging_service.erase_member(session, member.id)


# Messages hold personal data (addresses, rendered text): part of export and erasure.
register_export_section("messages", _export_messages)
register_erasure(_erase_messages)
