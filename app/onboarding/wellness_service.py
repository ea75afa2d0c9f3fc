"""Wellness (body-composition) tests: recorded by trainers, shown as progress over time
at the renewal meeting. Recording one completes the member's `wellness_test` item."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.core.clock import utcnow
from app.core.pagination import PageParams, SortKey, paginate
from app.core.timezones import local_date
from app.errors import RuleViolation
from app.members.privacy import register_erasure, register_export_section, row_dict
from app.models import Member, WellnessTest
from app.onboarding import repository
from app.onboarding.rules import OnboardingKind
from app.onboarding.schemas import WellnessTestCreate
from app.onboarding.service import check_trainers, club_of, onboarding_service


def _live(member: Member) -> None:
    if member.erased_at is not None:
        raise RuleViolation("This member's data was erased.", code="member_erased")


class WellnessService:
    async def record(
        self,
        session: AsyncSession,
        actor: Principal,
        member: Member,
        data: WellnessTestCreate,
        *,
        as_of: datetime | None = None,
    ) -> WellnessTest:
        """Record a test (not dated in the club's future) and complete the member's open
        wellness_test item."""
        as_of = as_of or utcnow()
        _live(member)
        club = await club_of(session, member.club_id)
        today = local_date(club.timezone, as_of)
        if data.measured_on > today:
            raise RuleViolation(
                f"measured_on is after today ({today}, club time).",
                code="validation_error",
                errors=[{"pointer": "/measured_on", "detail": "in the future"}],
            )
        if data.trainer_id is not None:
            await check_trainers(session, member.club_id, [data.trainer_id], "/trainer_id")
        test = WellnessTest(
            club_id=member.club_id,
            member_id=member.id,
            measured_on=data.measured_on,
            weight_kg=round(data.weight_kg, 2),
            body_fat_pct=round(data.body_fat_pct, 2),
            muscle_mass_kg=round(data.muscle_mass_kg, 2),
            body_water_pct=round(data.body_water_pct, 2),
            bmr_kcal=data.bmr_kcal,
            trainer_id=data.trainer_id,
            recorded_by_id=actor.staff_id,
            created_at=as_of,
            updated_at=as_of,
        )
        repository.add(session, test)
        await session.flush()
        await onboarding_service.complete(
            session,
            member.id,
            OnboardingKind.WELLNESS_TEST,
            as_of=as_of,
            via="wellness_test",
            by_staff_id=actor.staff_id,
        )
        return test

    async def first(self, session: AsyncSession, member: Member) -> WellnessTest | None:
        """The member's first test: the baseline every later test is compared with."""
        return await repository.first_wellness_test(session, member.id)

    async def list(
        self, session: AsyncSession, member: Member, page: PageParams
    ) -> tuple[list[WellnessTest], str | None]:
        """Newest measurement first."""
        return await paginate(
            session,
            repository.wellness_listing(member.id),
            [
                SortKey(WellnessTest.measured_on, descending=True),
                SortKey(WellnessTest.id, descending=True),
            ],
            page,
            scope="wellness_tests",
            key_of=lambda t: [t.measured_on, t.id],
        )


wellness_service = WellnessService()


async def _export(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    return [row_dict(t) for t in await repository.wellness_tests_of(session, member.id)]


async def _erase(session: AsyncSession, member: Member) -> None:
    await repository.erase_wellness_tests(session, member.id, member.erased_at or utcnow())


# Body measurements are health data: part of the member's export and erasure.
register_export_section("wellness_tests", _export)
register_erasure(_erase)
