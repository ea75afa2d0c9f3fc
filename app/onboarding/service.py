"""Onboarding checklists: created at the sale of a new membership, completed by hand or
by what the member does (a wellness test, a visit plan, an attended onboarding meeting),
and the analytics that show whether completing them keeps members.

Other domains call in (the sale creates the checklist; wellness tests and visit plans
complete items) or notify through a registry (an attended onboarding meeting completes
the first session via `app.meetings.hooks`); this module imports none of their services.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit_service
from app.auth.permissions import Principal, Role
from app.core.clock import utcnow
from app.core.ids import new_id
from app.core.timezones import local_date, local_midnight_utc
from app.errors import NotFound, RuleViolation
from app.meetings.hooks import register_attended
from app.models import Club, Meeting, Member, Membership, Onboarding, OnboardingItem
from app.models.meeting import MeetingPurpose
from app.onboarding import repository
from app.onboarding.rules import DUE_DAYS, ORDER, RETENTION_DAYS, ItemStatus, OnboardingKind
from app.onboarding.schemas import (
    ItemStats,
    OnboardingAnalytics,
    OnboardingItemRead,
    OnboardingItemUpdate,
    OnboardingRead,
    RetentionGroup,
    RetentionStats,
)

MAX_ANALYTICS_DAYS = 3 * 366


@dataclass(frozen=True)
class ChecklistView:
    membership_id: uuid.UUID
    member_id: uuid.UUID
    onboarding: Onboarding | None
    items: list[OnboardingItem]
    today: date

    def read(self) -> OnboardingRead:
        items = sorted(self.items, key=lambda i: ORDER.get(OnboardingKind(i.kind), 99))
        return OnboardingRead(
            membership_id=self.membership_id,
            member_id=self.member_id,
            started_on=self.onboarding.started_on if self.onboarding else None,
            retention_on=self.onboarding.retention_on if self.onboarding else None,
            completed=bool(items) and all(i.status == ItemStatus.DONE for i in items),
            items=[item_read(i, self.today) for i in items],
        )


def item_read(item: OnboardingItem, today: date) -> OnboardingItemRead:
    return OnboardingItemRead(
        kind=OnboardingKind(item.kind),
        status=ItemStatus(item.status),
        due_date=item.due_date,
        overdue=item.status == ItemStatus.OPEN and item.due_date < today,
        completed_at=item.completed_at,
        completed_by_id=item.completed_by_id,
        completed_via=item.completed_via,
        note=item.note,
        trainer_ids=[uuid.UUID(str(t)) for t in item.trainer_ids or []],
        meeting_id=item.meeting_id,
        updated_at=item.updated_at,
    )


async def club_of(session: AsyncSession, club_id: uuid.UUID) -> Club:
    club = await repository.club(session, club_id)
    if club is None:  # a foreign key guarantees it
        raise NotFound("Club not found.", code="club_not_found")
    return club


async def check_trainers(
    session: AsyncSession, club_id: uuid.UUID, staff_ids: Iterable[uuid.UUID], pointer: str
) -> list[uuid.UUID]:
    """`staff_ids` (deduplicated, in order) if each is an active trainer of the club;
    otherwise 422 `not_a_trainer` naming the first that is not."""
    ids = list(dict.fromkeys(staff_ids))
    found = {
        s.id for s in await repository.club_staff(session, club_id, ids) if Role.TRAINER in s.roles
    }
    for n, staff_id in enumerate(ids):
        if staff_id not in found:
            where = pointer if pointer.endswith("_id") else f"{pointer}/{n}"
            raise RuleViolation(
                "Only an active trainer of this club can do this.",
                code="not_a_trainer",
                errors=[{"pointer": where, "detail": "not an active trainer of the club"}],
            )
    return ids


class OnboardingService:
    # ------------------------------------------------------------- at the sale

    async def start(
        self, session: AsyncSession, membership: Membership, *, timezone: str, today: date
    ) -> Onboarding | None:
        """Create the checklist of a new membership (the caller checks the source). A
        historical entry whose first 100 days are already over gets none."""
        day0 = membership.start_date
        retention_on = day0 + timedelta(days=RETENTION_DAYS)
        if retention_on < today:
            return None
        onboarding = Onboarding(
            id=new_id(),
            club_id=membership.club_id,
            membership_id=membership.id,
            member_id=membership.member_id,
            started_on=day0,
            retention_on=retention_on,
            retention_at=local_midnight_utc(timezone, retention_on),
        )
        items = [
            OnboardingItem(
                club_id=membership.club_id,
                onboarding_id=onboarding.id,
                membership_id=membership.id,
                member_id=membership.member_id,
                kind=kind.value,
                status=ItemStatus.OPEN.value,
                due_date=day0 + timedelta(days=days),
                trainer_ids=[],
            )
            for kind, days in DUE_DAYS.items()
        ]
        repository.add_checklist(session, onboarding, items)
        await session.flush()
        return onboarding

    # ----------------------------------------------------------------- reading

    async def checklist(
        self, session: AsyncSession, membership: Membership, *, as_of: datetime | None = None
    ) -> ChecklistView:
        """The membership's checklist (no items for a membership without onboarding)."""
        club = await club_of(session, membership.club_id)
        return ChecklistView(
            membership_id=membership.id,
            member_id=membership.member_id,
            onboarding=await repository.onboarding_of(session, membership.id),
            items=await repository.items_of(session, membership.id),
            today=local_date(club.timezone, as_of or utcnow()),
        )

    async def for_member(
        self, session: AsyncSession, member: Member, *, as_of: datetime | None = None
    ) -> ChecklistView:
        """The checklist of the member's latest new membership, for the member card."""
        onboarding = await repository.latest_onboarding_of_member(session, member.id)
        if onboarding is None:
            raise NotFound(
                "This member has no onboarding (no new membership sold here).",
                code="onboarding_not_found",
            )
        club = await club_of(session, member.club_id)
        return ChecklistView(
            membership_id=onboarding.membership_id,
            member_id=member.id,
            onboarding=onboarding,
            items=await repository.items_of(session, onboarding.membership_id),
            today=local_date(club.timezone, as_of or utcnow()),
        )

    # ---------------------------------------------------------------- changing

    async def update_item(
        self,
        session: AsyncSession,
        actor: Principal,
        membership: Membership,
        kind: OnboardingKind,
        data: OnboardingItemUpdate,
        *,
        as_of: datetime | None = None,
    ) -> OnboardingItemRead:
        """Mark an item done, skipped or open again, with a note and (meet_trainers) the
        trainers met."""
        as_of = as_of or utcnow()
        item = await repository.lock_item(session, membership.id, kind.value)
        if item is None:
            raise NotFound(
                "This membership has no such onboarding item (renewals have no onboarding).",
                code="onboarding_item_not_found",
            )
        fields = data.model_fields_set
        trainer_ids: list[uuid.UUID] | None = None
        if data.trainer_ids is not None:
            if kind is not OnboardingKind.MEET_TRAINERS:
                raise RuleViolation(
                    "trainer_ids belong to the meet_trainers item only.",
                    code="validation_error",
                    errors=[{"pointer": "/trainer_ids", "detail": "only for meet_trainers"}],
                )
            trainer_ids = await check_trainers(
                session, membership.club_id, data.trainer_ids, "/trainer_ids"
            )
        before = {"status": item.status, "note": item.note, "trainer_ids": item.trainer_ids}
        if data.status is ItemStatus.DONE:
            if item.status != ItemStatus.DONE:
                item.completed_at = as_of
                item.completed_by_id = actor.staff_id
                item.completed_via = "staff"
        elif data.status is ItemStatus.SKIPPED:
            item.completed_at, item.completed_via = None, None
            item.completed_by_id = actor.staff_id
            item.meeting_id = None
        else:
            item.completed_at, item.completed_by_id, item.completed_via = None, None, None
            item.meeting_id = None
        item.status = data.status.value
        if "note" in fields:
            item.note = data.note
        if trainer_ids is not None:
            item.trainer_ids = [str(t) for t in trainer_ids]
        item.updated_at = as_of
        after = {"status": item.status, "note": item.note, "trainer_ids": item.trainer_ids}
        changes = audit_service.diff(before, after)
        if changes:
            audit_service.record(
                session,
                actor,
                entity="onboarding_item",
                entity_id=item.id,
                action="updated",
                changes={**changes, "kind": item.kind, "membership_id": membership.id},
                club_id=membership.club_id,
            )
        await session.flush()
        club = await club_of(session, membership.club_id)
        return item_read(item, local_date(club.timezone, as_of))

    async def complete(
        self,
        session: AsyncSession,
        member_id: uuid.UUID,
        kind: OnboardingKind,
        *,
        as_of: datetime,
        via: str,
        by_staff_id: uuid.UUID | None = None,
        meeting_id: uuid.UUID | None = None,
    ) -> int:
        """Something the member did completes their open `kind` items (on memberships not
        cancelled). Items already done or skipped are left as they are."""
        return await repository.complete_open_items(
            session,
            member_id,
            kind.value,
            at=as_of,
            via=via,
            by_staff_id=by_staff_id,
            meeting_id=meeting_id,
        )

    # --------------------------------------------------------------- analytics

    async def analytics(
        self,
        session: AsyncSession,
        actor: Principal,
        club_id: uuid.UUID,
        *,
        start: date | None,
        end: date | None,
        as_of: datetime | None = None,
    ) -> OnboardingAnalytics:
        """Completion per item and day-100 retention, completed vs not, for the new
        memberships starting in [start, end] (club-local dates, inclusive)."""
        actor.require_club(club_id, "club")
        as_of = as_of or utcnow()
        club = await repository.club(session, club_id)
        if club is None:
            raise NotFound("Club not found.", code="club_not_found")
        today = local_date(club.timezone, as_of)
        end = end or today
        start = start or end - timedelta(days=365)
        if end < start:
            raise RuleViolation(
                "`to` must not be before `from`.",
                code="validation_error",
                errors=[{"pointer": "to", "detail": "before from"}],
            )
        if (end - start).days > MAX_ANALYTICS_DAYS:
            raise RuleViolation(
                "The range may span at most three years.",
                code="validation_error",
                errors=[{"pointer": "from", "detail": "range longer than three years"}],
            )
        by_kind = {
            row.kind: row
            for row in await repository.item_stats(session, club_id, start, end, today)
        }
        items = []
        for kind in DUE_DAYS:
            row = by_kind.get(kind.value)
            total = int(row.total) if row else 0
            done = int(row.done or 0) if row else 0
            items.append(
                ItemStats(
                    kind=kind,
                    total=total,
                    done=done,
                    skipped=int(row.skipped or 0) if row else 0,
                    open=int(row.open or 0) if row else 0,
                    overdue=int(row.overdue or 0) if row else 0,
                    completion_rate=_rate(done, total),
                )
            )
        groups = await repository.completion_and_retention(session, club_id, start, end, as_of)
        onboardings = sum(int(g.onboardings) for g in groups)
        fully = sum(int(g.fully_completed or 0) for g in groups)
        judged = {int(g.completed): g for g in groups if int(g.judged) == 1}
        pending = sum(int(g.onboardings) for g in groups if int(g.judged) == 0)

        def group(completed: int) -> RetentionGroup:
            g = judged.get(completed)
            n = int(g.onboardings) if g else 0
            kept = int(g.retained or 0) if g else 0
            return RetentionGroup(memberships=n, retained=kept, rate=_rate(kept, n))

        return OnboardingAnalytics(
            club_id=club_id,
            from_date=start,
            to_date=end,
            memberships=onboardings,
            fully_completed=fully,
            items=items,
            retention=RetentionStats(completed=group(1), not_completed=group(0), pending=pending),
        )


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


onboarding_service = OnboardingService()


async def _first_session_attended(session: AsyncSession, meeting: Meeting, as_of: datetime) -> None:
    # The first session is an onboarding meeting with a trainer: attending it completes
    # the item, credited to the trainer who held it.
    if meeting.purpose == MeetingPurpose.ONBOARDING.value:
        await onboarding_service.complete(
            session,
            meeting.member_id,
            OnboardingKind.FIRST_SESSION,
            as_of=as_of,
            via="meeting",
            by_staff_id=meeting.consultant_id,
            meeting_id=meeting.id,
        )


register_attended(_first_session_attended)
