"""Member value: what a member has paid, so a club knows what keeping them is worth."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.timezones import local_date, local_midnight_utc
from app.member_value import repository
from app.member_value.schemas import MemberValueRead
from app.models import Member


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
        self, session: AsyncSession, member: Member, as_of: datetime
    ) -> MemberValueRead:
        """Revenue of a member the caller may see (see `MemberDep`), as of `as_of`."""
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
