"""Access decisions, evaluated in the club's local time on the member's memberships."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.access import repository
from app.access.rules import (
    AccessReason,
    Decision,
    MembershipFacts,
    precedence,
    terms_on,
    within_hours,
)
from app.access.schemas import AccessCheck
from app.auth.permissions import Principal
from app.core.timezones import local_midnight_utc, local_now
from app.errors import NotFound

MEMBER_NOT_FOUND = "Member not found in this club."


class AccessService:
    async def check(
        self, session: AsyncSession, principal: Principal, data: AccessCheck, *, as_of: datetime
    ) -> tuple[uuid.UUID, Decision]:
        """Would the member be let in at `data.at` (default `as_of`)?"""
        principal.require_club(data.club_id, "member")
        found = await repository.resolve_member(
            session, data.club_id, member_id=data.member_id, card_number=data.card_number
        )
        if found is None or (principal.member_id is not None and found[0] != principal.member_id):
            raise NotFound(MEMBER_NOT_FOUND, code="member_not_found")
        member_id, timezone = found
        decision = await self.decide(
            session,
            club_id=data.club_id,
            member_id=member_id,
            timezone=timezone,
            at=data.at or as_of,
        )
        return member_id, decision

    async def decide(
        self,
        session: AsyncSession,
        *,
        club_id: uuid.UUID,
        member_id: uuid.UUID,
        timezone: str,
        at: datetime,
        exclude_checkin_id: int | None = None,
        memberships: list[MembershipFacts] | None = None,
    ) -> Decision:
        """The decision at instant `at`, in the club's time zone.

        Membership precedence is `rules.precedence`. Plan hours are the wall-clock hours
        of the club. The visit limit counts the member's check-ins at this club from the
        local start of the term up to and including `at` (a visit is decided on what
        happened before it, not after), except the visit being decided
        (`exclude_checkin_id` when it is already recorded).
        `memberships`: the member's memberships when the caller loaded them already.
        """
        local = local_now(timezone, at)
        if memberships is not None:
            terms = terms_on(memberships, local.date())
        else:
            terms = await repository.terms(
                session, club_id=club_id, member_id=member_id, on=local.date()
            )
        active, decided = precedence(terms)
        if decided is not None:
            return decided
        denial: Decision | None = None
        for term in active:
            if not within_hours(term.access_hours, local):
                reason = AccessReason.OUTSIDE_PLAN_HOURS
            elif term.visit_limit is not None and (
                await repository.count_visits(
                    session,
                    club_id=club_id,
                    member_id=member_id,
                    since=local_midnight_utc(timezone, term.start_date),
                    until=at,  # inside the term: an active term covers the local date
                    exclude_id=exclude_checkin_id,
                )
                >= term.visit_limit
            ):
                reason = AccessReason.VISIT_LIMIT_REACHED
            else:
                return Decision(True, AccessReason.OK, term.membership_id)
            denial = denial or Decision(False, reason, term.membership_id)
        assert denial is not None
        return denial


access_service = AccessService()
