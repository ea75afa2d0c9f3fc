"""Member value: what a member has paid, so a club knows what keeping them is worth."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.core.timezones import local_date, local_midnight_utc
from app.errors import NotFound
from app.member_value import repository
from app.member_value.schemas import MemberValueRead


def trailing_year_start(today: date) -> date:
    """The first day of the 12 months ending `today`: the day after the same date a year
    earlier (29 February counts from 1 March)."""
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = date(today.year - 1, 2, 28)
    return year_ago + timedelta(days=1)


class MemberValueService:
    async def value(
        self, session: AsyncSession, actor: Principal, member_id: uuid.UUID, as_of: datetime
    ) -> MemberValueRead:
        member = await repository.get_member(session, member_id)
        if member is None or (actor.member_id is not None and actor.member_id != member.id):
            raise NotFound("Member not found.", code="member_not_found")
        actor.require_club(member.club_id, "member")
        club = await repository.get_club(session, member.club_id)
        assert club is not None
        since_day = trailing_year_start(local_date(club.timezone, as_of))
        lifetime, trailing = await repository.revenue(
            session,
            club_id=member.club_id,
            member_id=member.id,
            since=local_midnight_utc(club.timezone, since_day),
        )
        return MemberValueRead(
            member_id=member.id,
            lifetime_revenue=lifetime,
            trailing_12m_revenue=trailing,
            trailing_12m_since=since_day,
            currency=club.currency,
        )


member_value_service = MemberValueService()
