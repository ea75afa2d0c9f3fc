"""Campaigns: a marketing message to a segment of a club's members, sent exactly once.

The segment is one set-based query (never a per-member loop of queries). Sending goes
through the messages outbox, so the contact policy decides for every member (marketing
consent for the channel, caps, quiet hours, do-not-contact) and refusals are counted by
reason. A campaign is sent once: its status flips to `sent` in one guarded UPDATE in the
same transaction as its messages, and each message's dedupe key is per campaign and
member, so two requests, or two workers, racing to send it queue every message once.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.campaigns import repository
from app.campaigns.repository import SegmentQuery
from app.campaigns.schemas import (
    ATTRIBUTION_DAYS,
    SAMPLE_SIZE,
    AttributedRenewals,
    CampaignCreate,
    CampaignSegment,
    CampaignStatus,
    DeliveryCounts,
)
from app.core.clock import utcnow
from app.core.pagination import PageParams, SortKey, paginate
from app.core.timezones import local_date
from app.errors import Conflict, NotFound, RuleViolation
from app.members.consents import ConsentPurpose
from app.messaging.service import Recipient, messaging_service
from app.messaging.templates import TemplateError
from app.models import Campaign, CampaignRecipient, Member
from app.policy.contact import Category, Channel, consent_purpose
from app.promotions.pricing import Reason as PricingReason
from app.promotions.service import promotion_service
from app.risk.service import risk_service

log = structlog.get_logger(__name__)

SEND_CHUNK = 500
DUE_PER_RUN = 50
MARKETING_PURPOSES = frozenset({ConsentPurpose.MARKETING_SMS, ConsentPurpose.MARKETING_EMAIL})
# Stand-ins for rendering a template once at creation, to catch bad context early.
_PROBE_MEMBER = {"first_name": "Maria", "last_name": "Ivanova", "club_name": "Club"}


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[Member]


@dataclass(frozen=True)
class SendResult:
    queued: int
    suppressed: dict[str, int]
    deferred: dict[str, int]


@dataclass(frozen=True)
class Results:
    delivery: DeliveryCounts
    renewals: AttributedRenewals


def dedupe_key(campaign_id: uuid.UUID, member_id: uuid.UUID) -> str:
    return f"campaign:{campaign_id}:{member_id}"


class CampaignService:
    # ------------------------------------------------------------------- create

    async def create(
        self,
        session: AsyncSession,
        actor: Principal,
        data: CampaignCreate,
        *,
        as_of: datetime | None = None,
    ) -> Campaign:
        """Check the channel, template, context and plans; a draft, or scheduled."""
        as_of = as_of or utcnow()
        actor.require_club(data.club_id, "club")
        club = await repository.club(session, data.club_id)
        if club is None:
            raise NotFound("Club not found.", code="club_not_found")
        channel = Channel(data.channel.value)
        purpose = consent_purpose(channel, Category.MARKETING)
        if purpose not in MARKETING_PURPOSES:
            raise RuleViolation(
                f"Members give no marketing consent for the {data.channel.value} channel; "
                "campaigns go by sms or email.",
                code="channel_without_consent",
                errors=[{"pointer": "/channel", "detail": "no marketing consent purpose"}],
            )
        template = messaging_service.template(data.template, Category.MARKETING)
        context = dict(data.context)
        if data.segment.promotion_id is not None:
            audience = await promotion_service.audience(
                session,
                actor,
                data.segment.promotion_id,
                club_id=club.id,
                today=local_date(club.timezone, as_of),
            )
            if audience.closed is not None:
                raise RuleViolation(
                    f"The segment's promotion is over ({audience.closed.value}).",
                    code="promotion_expired"
                    if audience.closed is PricingReason.EXPIRED
                    else "promotion_not_eligible",
                    errors=[{"pointer": "/segment/promotion_id", "detail": audience.closed.value}],
                )
            # Promotions in general terms with their end date (DESIGN 1.2).
            facts = {
                "promotion_name": audience.promotion.name,
                "valid_until": audience.promotion.valid_until.isoformat(),
            }
            for key, value in facts.items():
                if key in template.context_keys:
                    context.setdefault(key, value)
        if data.segment.plan_ids:
            known = await repository.plans_for_club(session, club.id, data.segment.plan_ids)
            for n, plan_id in enumerate(data.segment.plan_ids):
                if plan_id not in known:
                    raise RuleViolation(
                        "The segment names a plan this club does not sell.",
                        code="validation_error",
                        errors=[{"pointer": f"/segment/plan_ids/{n}", "detail": "unknown plan"}],
                    )
        try:
            template.render(channel, member=_PROBE_MEMBER, context=context)
        except TemplateError as exc:
            raise RuleViolation(
                str(exc),
                code="template_error",
                errors=[{"pointer": "/context", "detail": "does not fit the template"}],
            ) from exc
        if data.send_at is not None and data.send_at <= as_of:
            raise RuleViolation(
                "send_at must be in the future; send a draft now with /send.",
                code="validation_error",
                errors=[{"pointer": "/send_at", "detail": "not in the future"}],
            )
        campaign = Campaign(
            club_id=club.id,
            name=data.name,
            template=data.template,
            channel=data.channel.value,
            segment=data.segment.model_dump(mode="json", exclude_none=True),
            context=context,
            status=(CampaignStatus.SCHEDULED if data.send_at else CampaignStatus.DRAFT).value,
            send_at=data.send_at,
            created_by_id=actor.staff_id,
            created_at=as_of,
            updated_at=as_of,
        )
        repository.add(session, campaign)
        await session.flush()
        return campaign

    # ------------------------------------------------------------------ reading

    async def get(
        self, session: AsyncSession, actor: Principal, campaign_id: uuid.UUID
    ) -> Campaign:
        """Another club's campaign is reported as missing."""
        campaign = await repository.get(session, campaign_id)
        if campaign is None or not actor.sees_club(campaign.club_id):
            raise NotFound("Campaign not found.", code="campaign_not_found")
        return campaign

    async def results(self, session: AsyncSession, campaign: Campaign) -> Results | None:
        """What became of its messages (from the outbox now) and the renewals it earned."""
        if campaign.sent_at is None:
            return None
        queued = sent = failed = 0
        suppressed: Counter[str] = Counter()
        for status, reason, n in await repository.delivery_counts(session, campaign.id):
            if status == "queued":
                queued += n
            elif status == "sent":
                sent += n
            elif status == "failed":
                failed += n
            else:
                suppressed[reason or "unknown"] += n
        count, revenue = await repository.attributed_renewals(
            session, campaign.id, campaign.sent_at, ATTRIBUTION_DAYS
        )
        return Results(
            DeliveryCounts(queued=queued, sent=sent, failed=failed, suppressed=dict(suppressed)),
            AttributedRenewals(count=count, revenue=revenue),
        )

    # ------------------------------------------------------------------ segment

    async def _query(
        self, session: AsyncSession, campaign: Campaign, as_of: datetime
    ) -> SegmentQuery:
        club = await repository.club(session, campaign.club_id)
        assert club is not None  # foreign key
        segment = CampaignSegment.model_validate(campaign.segment)
        today = local_date(club.timezone, as_of)
        promotion_member_ids = None
        if segment.promotion_id is not None:
            # Judged again at every preview and send: a promotion over by then reaches no one.
            audience = await promotion_service.audience(
                session, None, segment.promotion_id, club_id=club.id, today=today
            )
            promotion_member_ids = audience.member_ids
        return SegmentQuery(
            club_id=club.id,
            today=today,
            plan_ids=segment.plan_ids,
            ending_within_days=segment.ending_within_days,
            interests=segment.interests,
            birthday_month=segment.birthday_month,
            promotion_member_ids=promotion_member_ids,
            risk_member_ids=(
                risk_service.members_at_levels(club.id, segment.risk_levels)
                if segment.risk_levels
                else None
            ),
        )

    async def preview(
        self, session: AsyncSession, campaign: Campaign, *, as_of: datetime | None = None
    ) -> Preview:
        """Who the segment holds now; nothing is written."""
        q = await self._query(session, campaign, as_of or utcnow())
        return Preview(
            count=await repository.segment_count(session, q),
            sample=await repository.segment_sample(session, q, SAMPLE_SIZE),
        )

    # --------------------------------------------------------------------- send

    async def send(
        self,
        session: AsyncSession,
        campaign: Campaign,
        *,
        as_of: datetime | None = None,
    ) -> SendResult:
        """Send now: 409 `campaign_already_sent` if it was (or is being) sent."""
        as_of = as_of or utcnow()
        claimed = await repository.claim_send(
            session,
            campaign.id,
            as_of,
            statuses=(CampaignStatus.DRAFT.value, CampaignStatus.SCHEDULED.value),
        )
        if not claimed:
            raise Conflict("This campaign was already sent.", code="campaign_already_sent")
        return await self._deliver(session, campaign.id, as_of)

    async def due(self, session: AsyncSession, as_of: datetime) -> list[uuid.UUID]:
        """Scheduled campaigns whose send_at has come, oldest first."""
        return await repository.due_campaign_ids(session, as_of, DUE_PER_RUN)

    async def send_due(
        self, session: AsyncSession, campaign_id: uuid.UUID, *, as_of: datetime
    ) -> SendResult | None:
        """The job's send: None if another worker (or a manual send) got there first."""
        claimed = await repository.claim_send(
            session,
            campaign_id,
            as_of,
            statuses=(CampaignStatus.SCHEDULED.value,),
            due_by=as_of,
        )
        if not claimed:
            return None
        return await self._deliver(session, campaign_id, as_of)

    async def _deliver(
        self, session: AsyncSession, campaign_id: uuid.UUID, as_of: datetime
    ) -> SendResult:
        campaign = await repository.get(session, campaign_id)
        assert campaign is not None  # just claimed
        q = await self._query(session, campaign, as_of)
        queued = 0
        suppressed: Counter[str] = Counter()
        deferred: Counter[str] = Counter()
        after: uuid.UUID | None = None
        while True:
            members = await repository.segment_chunk(session, q, after, SEND_CHUNK)
            if not members:
                break
            after = members[-1].id
            messages = await messaging_service.queue_many(
                session,
                [Recipient(m, dedupe_key(campaign.id, m.id), campaign.context) for m in members],
                template=campaign.template,
                category=Category.MARKETING,
                channel=Channel(campaign.channel),
                as_of=as_of,
            )
            repository.add_recipients(
                session,
                [
                    CampaignRecipient(
                        campaign_id=campaign.id,
                        club_id=campaign.club_id,
                        member_id=msg.member_id,
                        message_id=msg.id,
                        created_at=as_of,
                    )
                    for msg in messages
                ],
            )
            await session.flush()
            for msg in messages:
                if msg.status == "queued":
                    queued += 1
                    if msg.deferred_reason:
                        deferred[msg.deferred_reason] += 1
                else:
                    suppressed[msg.suppressed_reason or "unknown"] += 1
        summary = {"queued": queued, "suppressed": dict(suppressed), "deferred": dict(deferred)}
        campaign.send_summary = summary
        await session.flush()
        log.info("campaign_sent", campaign_id=str(campaign.id), queued=queued)
        return SendResult(queued, dict(suppressed), dict(deferred))

    async def list(
        self,
        session: AsyncSession,
        actor: Principal,
        page: PageParams,
        *,
        club_id: uuid.UUID | None,
    ) -> tuple[list[Campaign], str | None]:
        """Newest first."""
        if club_id is not None:
            actor.require_club(club_id, "club")
        return await paginate(
            session,
            repository.listing(actor.club_ids, club_id),
            [SortKey(Campaign.created_at, descending=True), SortKey(Campaign.id, True)],
            page,
            scope="campaigns",
            key_of=lambda c: [c.created_at, c.id],
        )


campaign_service = CampaignService()
