"""Visit plans: the weekly routine agreed with a new member (weekday, time, activity).

Every slot must fall inside the club's opening hours that weekday. Saving a non-empty
plan completes the member's `visit_plan` item. The lapse scan reads the plan (the days
with a slot) as the member's intended visits a week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.core.clock import utcnow
from app.errors import RuleViolation
from app.members.privacy import register_erasure, register_export_section, row_dict
from app.models import Club, Member, VisitPlanSlot
from app.onboarding import repository
from app.onboarding.rules import OnboardingKind
from app.onboarding.schemas import VisitPlanUpdate
from app.onboarding.service import club_of, onboarding_service

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class VisitPlanView:
    member_id: Any
    slots: list[VisitPlanSlot]

    @property
    def visits_per_week(self) -> int:
        return len({s.weekday for s in self.slots})

    @property
    def updated_at(self) -> datetime | None:
        return max((s.updated_at for s in self.slots), default=None)


def opening_hours(club: Club, weekday: int) -> tuple[time, time] | None:
    """The club's (opens, closes) on ISO `weekday`, or None when it is closed."""
    span = (club.opening_hours or {}).get(str(weekday))
    if not span:
        return None
    return time.fromisoformat(span[0]), time.fromisoformat(span[1])


class VisitPlanService:
    async def get(self, session: AsyncSession, member: Member) -> VisitPlanView:
        return VisitPlanView(member.id, await repository.visit_plan(session, member.id))

    async def save(
        self,
        session: AsyncSession,
        actor: Principal,
        member: Member,
        data: VisitPlanUpdate,
        *,
        as_of: datetime | None = None,
    ) -> VisitPlanView:
        """Replace the member's plan; each slot inside the club's opening hours."""
        as_of = as_of or utcnow()
        if member.erased_at is not None:
            raise RuleViolation("This member's data was erased.", code="member_erased")
        club = await club_of(session, member.club_id)
        for n, slot in enumerate(data.slots):
            hours = opening_hours(club, slot.weekday)
            if hours is None or not hours[0] <= slot.time < hours[1]:
                day = _WEEKDAYS[slot.weekday - 1]
                when = f"open {hours[0]:%H:%M}-{hours[1]:%H:%M}" if hours else "closed"
                raise RuleViolation(
                    f"Slot {n + 1} ({day} {slot.time:%H:%M}) is outside the club's opening "
                    f"hours ({day}: {when}).",
                    code="outside_opening_hours",
                    errors=[{"pointer": f"/slots/{n}/time", "detail": "outside opening hours"}],
                )
        slots = [
            VisitPlanSlot(
                club_id=member.club_id,
                member_id=member.id,
                weekday=s.weekday,
                time=s.time,
                activity=s.activity,
                created_at=as_of,
                updated_at=as_of,
            )
            for s in sorted(data.slots, key=lambda s: (s.weekday, s.time))
        ]
        await repository.replace_visit_plan(session, member.id, slots)
        if slots:
            await onboarding_service.complete(
                session,
                member.id,
                OnboardingKind.VISIT_PLAN,
                as_of=as_of,
                via="visit_plan",
                by_staff_id=actor.staff_id,
            )
        return VisitPlanView(member.id, slots)


visit_plan_service = VisitPlanService()


async def _export(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    return [row_dict(s) for s in await repository.visit_plan(session, member.id)]


async def _erase(session: AsyncSession, member: Member) -> None:
    # A personal routine (when the member comes and for what); nothing counts on it.
    await repository.delete_visit_plan(session, member.id)


register_export_section("visit_plan", _export)
register_erasure(_erase)
