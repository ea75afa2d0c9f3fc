"""Working hours: a weekly pattern plus dated exceptions per staff member and club.

Without a pattern a consultant works the club's opening hours; either way meetings only
happen while the club is open. Exceptions before today (club-local) are history and are
never rewritten.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Perm, Principal, Role
from app.core.timezones import local_date
from app.errors import RuleViolation
from app.models import Club, Staff, WorkingHoursException
from app.working_hours import repository
from app.working_hours.availability import (
    Window,
    format_spans,
    opening_spans,
    parse_spans,
    working_windows,
)
from app.working_hours.schemas import (
    DayException,
    Span,
    WeeklySpan,
    WorkingHoursPut,
    WorkingHoursRead,
)

# Who takes meetings at all; which of them may take a given meeting is the meetings' rule.
BOOKABLE_ROLES = frozenset({Role.CONSULTANT.value, Role.TRAINER.value})


def _weekly_json(spans: Iterable[WeeklySpan]) -> dict[str, Any]:
    by_day: dict[str, list[tuple[Any, Any]]] = {}
    for s in spans:
        by_day.setdefault(str(s.weekday), []).append((s.starts, s.ends))
    return {day: format_spans(v) for day, v in sorted(by_day.items())}


def _weekly_read(weekly: dict[str, Any]) -> list[WeeklySpan]:
    return [
        WeeklySpan(weekday=int(day), starts=a, ends=b)
        for day, spans in sorted(weekly.items(), key=lambda kv: int(kv[0]))
        for a, b in parse_spans(spans)
    ]


class WorkingHoursService:
    def check_takes_meetings(
        self, staff: Staff, club: Club, roles: Iterable[str] = BOOKABLE_ROLES
    ) -> None:
        """422 `consultant_not_eligible` unless `staff` is active in `club` with one of
        `roles`."""
        wanted = frozenset(roles)
        if not staff.active or club.id not in staff.club_ids or not wanted & set(staff.roles):
            names = " or ".join(sorted(wanted))
            raise RuleViolation(
                f"{staff.name} does not take these meetings in this club (needs the {names} "
                "role in the club, and an active account).",
                code="consultant_not_eligible",
                errors=[{"pointer": "/consultant_id", "detail": f"needs the {names} role here"}],
            )

    async def get(
        self, session: AsyncSession, staff: Staff, club: Club, *, as_of: datetime
    ) -> WorkingHoursRead:
        self.check_takes_meetings(staff, club)
        row = await repository.get(session, staff.id, club.id)
        today = local_date(club.timezone, as_of)
        exceptions = await repository.exceptions_from(session, staff.id, club.id, today)
        if row is not None and row.weekly is not None:
            source, weekly = "explicit", _weekly_read(row.weekly)
        else:
            source = "club_opening_hours"
            weekly = _weekly_read({day: [span] for day, span in club.opening_hours.items() if span})
        return WorkingHoursRead(
            staff_id=staff.id,
            club_id=club.id,
            timezone=club.timezone,
            source=source,
            weekly=weekly,
            exceptions=[
                DayException(
                    date=e.on_date,
                    hours=[Span(starts=a, ends=b) for a, b in parse_spans(e.hours)],
                    note=e.note,
                )
                for e in exceptions
            ],
        )

    async def put(
        self,
        session: AsyncSession,
        actor: Principal,
        staff: Staff,
        club: Club,
        data: WorkingHoursPut,
        *,
        as_of: datetime,
    ) -> WorkingHoursRead:
        actor.require(Perm.STAFF_WRITE)
        actor.require_club(club.id, "club")
        self.check_takes_meetings(staff, club)
        today = local_date(club.timezone, as_of)
        past = [i for i, e in enumerate(data.exceptions) if e.date < today]
        if past:
            raise RuleViolation(
                "Exceptions before today are history and cannot be changed.",
                code="validation_error",
                errors=[
                    {"pointer": f"/exceptions/{i}/date", "detail": "must be today or later"}
                    for i in past
                ],
            )
        before = await self.get(session, staff, club, as_of=as_of)
        weekly = None if data.weekly is None else _weekly_json(data.weekly)
        await repository.upsert_pattern(session, staff.id, club.id, weekly)
        await repository.delete_exceptions_from(session, staff.id, club.id, today)
        for e in data.exceptions:
            session.add(
                WorkingHoursException(
                    staff_id=staff.id,
                    club_id=club.id,
                    on_date=e.date,
                    hours=format_spans((s.starts, s.ends) for s in e.hours),
                    note=e.note,
                )
            )
        after = await self.get(session, staff, club, as_of=as_of)
        self._audit(session, actor, staff, club, before, after)
        return after

    async def clear(
        self, session: AsyncSession, actor: Principal, staff: Staff, club: Club, *, as_of: datetime
    ) -> WorkingHoursRead:
        """Back to the club's opening hours, without exceptions from today on."""
        actor.require(Perm.STAFF_WRITE)
        actor.require_club(club.id, "club")
        self.check_takes_meetings(staff, club)
        before = await self.get(session, staff, club, as_of=as_of)
        await repository.delete_pattern(session, staff.id, club.id)
        await repository.delete_exceptions_from(
            session, staff.id, club.id, local_date(club.timezone, as_of)
        )
        after = await self.get(session, staff, club, as_of=as_of)
        self._audit(session, actor, staff, club, before, after)
        return after

    def _audit(
        self,
        session: AsyncSession,
        actor: Principal,
        staff: Staff,
        club: Club,
        before: WorkingHoursRead,
        after: WorkingHoursRead,
    ) -> None:
        fields = {"source", "weekly", "exceptions"}
        diff = audit_service.diff(
            before.model_dump(mode="json", include=fields),
            after.model_dump(mode="json", include=fields),
        )
        if diff:
            audit_service.record(
                session,
                actor,
                entity="working_hours",
                entity_id=staff.id,
                action="updated",
                changes=diff,
                club_id=club.id,
            )

    async def windows(
        self, session: AsyncSession, club: Club, staff_ids: Sequence[uuid.UUID], day: date
    ) -> dict[uuid.UUID, list[Window]]:
        """When each of these staff can take meetings on the club-local `day` (UTC)."""
        if not opening_spans(club.opening_hours, day):
            return {sid: [] for sid in staff_ids}
        weekly, exceptions = await repository.for_day(session, club.id, staff_ids, day)
        return {
            sid: working_windows(
                club.timezone,
                day,
                weekly=weekly.get(sid),
                exception=exceptions.get(sid),
                opening_hours=club.opening_hours,
            )
            for sid in staff_ids
        }

    async def club_staff(
        self, session: AsyncSession, club: Club, roles: Iterable[str]
    ) -> list[Staff]:
        """Active staff of `club` holding one of `roles`."""
        wanted = frozenset(roles)
        return [
            s for s in await repository.active_club_staff(session, club.id) if wanted & set(s.roles)
        ]


working_hours_service = WorkingHoursService()
