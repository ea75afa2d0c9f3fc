"""Gathers the contact policy's inputs for many members at once and applies it."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.clubs.schemas import ContactPolicy
from app.core.timezones import local_date
from app.members.consents import current_consents
from app.models import Club, Member
from app.policy import repository
from app.policy.contact import (
    CAP_WINDOW,
    ClubPolicy,
    ContactRequest,
    Decision,
    MemberFacts,
    decide,
)


@dataclass(frozen=True)
class Subject:
    """Everything the policy knows about one member: their club's rules and their facts."""

    member: Member
    club: Club
    policy: ClubPolicy
    facts: MemberFacts

    def decide(self, request: ContactRequest, as_of: datetime) -> Decision:
        return decide(self.policy, self.facts, request, as_of)


def club_policy(club: Club) -> ClubPolicy:
    knobs = ContactPolicy.model_validate(club.contact_policy or {})
    return ClubPolicy(
        timezone=club.timezone,
        quiet_hours_start=club.quiet_hours_start,
        quiet_hours_end=club.quiet_hours_end,
        silence_days=knobs.silence_days,
        max_messages_per_30_days=knobs.max_messages_per_30_days,
        max_calls_per_30_days=knobs.max_calls_per_30_days,
    )


class ContactPolicyService:
    async def subjects(
        self,
        session: AsyncSession,
        member_ids: Sequence[uuid.UUID],
        as_of: datetime,
        *,
        exclude_message_ids: Collection[uuid.UUID] = (),
        exclude_call_ids: Collection[uuid.UUID] = (),
    ) -> dict[uuid.UUID, Subject]:
        """Policy inputs for every member in `member_ids` (unknown ids are left out).
        `exclude_message_ids` / `exclude_call_ids`: the messages being re-checked or the
        call being attempted, which must not count against themselves."""
        ids = list(dict.fromkeys(member_ids))
        members = await repository.members(session, ids)
        clubs = {c.id: c for c in await repository.clubs(session, {m.club_id for m in members})}
        consents = await current_consents(session, ids)
        purchases = await repository.latest_purchases(session, ids)
        recent = await repository.recent_messages(
            session, ids, as_of, CAP_WINDOW, exclude_message_ids
        )
        calls = await repository.recent_calls(session, ids, as_of, CAP_WINDOW, exclude_call_ids)
        today = {m.id: local_date(clubs[m.club_id].timezone, as_of) for m in members}
        frozen = await repository.frozen_until(session, ids, today)
        renewal_booked = await repository.renewal_meetings_booked(session, ids)
        open_calls = await repository.open_calls(session, ids)
        out: dict[uuid.UUID, Subject] = {}
        for m in members:
            club = clubs[m.club_id]
            policy = club_policy(club)
            bought = purchases.get(m.id)
            out[m.id] = Subject(
                member=m,
                club=club,
                policy=policy,
                facts=MemberFacts(
                    member_id=m.id,
                    do_not_contact=m.do_not_contact,
                    erased=m.erased_at is not None,
                    has_phone=bool(m.phone) and m.phone_invalid_at is None,
                    has_email=bool(m.email),
                    contact_window_start=m.contact_window_start,
                    contact_window_end=m.contact_window_end,
                    consents=consents.get(m.id, {}),
                    latest_purchase_on=local_date(club.timezone, bought) if bought else None,
                    recent_messages=tuple(recent.get(m.id, ())),
                    recent_calls=tuple(calls.get(m.id, ())),
                    frozen_until=frozen.get(m.id),
                    renewal_meeting_booked=m.id in renewal_booked,
                    open_call_id=open_calls.get(m.id),
                ),
            )
        return out


contact_policy_service = ContactPolicyService()
