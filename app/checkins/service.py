"""Check-ins: record one, ingest many, list them, and the attendance picture."""

from __future__ import annotations

import asyncio
import heapq
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.access.rules import Decision
from app.access.service import access_service
from app.auth.permissions import Principal
from app.checkins import repository
from app.checkins.parsing import (
    MEMBER_NOT_FOUND,
    Format,
    Item,
    Rejection,
    RowContext,
    StagedRow,
    check_not_future,
    parse,
    validate_row,
)
from app.checkins.repository import MemberRef, StoredCheckin, same_event
from app.checkins.schemas import CheckinCreate
from app.core.pagination import PageParams, SortKey, paginate
from app.core.timezones import local_date, local_midnight_utc
from app.errors import Forbidden, NotFound, PayloadTooLarge, RuleViolation
from app.events.service import emit
from app.members.privacy import register_export_section, row_dict
from app.memberships.freeze_service import freeze_service
from app.models import Checkin, Member

# Rejected rows listed in a batch response; the rest are only counted.
REJECTED_LISTED = 1000
WEEKS = 26

_DETAILS = {
    repository.MEMBER_NOT_FOUND: MEMBER_NOT_FOUND,
    repository.CONFLICT: "this device event is already recorded with another member or time",
}


@dataclass
class ClubTally:
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None

    def add(self, at: datetime) -> None:
        self.count += 1
        if self.first is None or at < self.first:
            self.first = at
        if self.last is None or at > self.last:
            self.last = at

    def merge(self, other: ClubTally) -> None:
        self.count += other.count
        for at in (other.first, other.last):
            if at is not None and (self.first is None or at < self.first):
                self.first = at
            if at is not None and (self.last is None or at > self.last):
                self.last = at


@dataclass
class IngestReport:
    """Running totals of an ingest. `rejected` keeps the first REJECTED_LISTED by index."""

    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected_count: int = 0
    _rejected: list[tuple[int, Rejection]] = field(default_factory=list)
    clubs: dict[uuid.UUID, ClubTally] = field(default_factory=dict)

    def reject(self, rejection: Rejection) -> None:
        self.rejected_count += 1
        entry = (-rejection.index, rejection)
        if len(self._rejected) < REJECTED_LISTED:
            heapq.heappush(self._rejected, entry)
        elif entry > self._rejected[0]:  # a smaller index than the largest kept
            heapq.heapreplace(self._rejected, entry)

    @property
    def rejected(self) -> list[Rejection]:
        return sorted((r for _, r in self._rejected), key=lambda r: r.index)


# Called after each stored chunk when the caller commits chunk by chunk (the CLI).
ChunkHook = Callable[[IngestReport], Awaitable[None]]


class CheckinService:
    # -- one check-in -------------------------------------------------------------------

    async def record(
        self,
        session: AsyncSession,
        principal: Principal,
        data: CheckinCreate,
        *,
        as_of: datetime,
        fast_path: bool = True,
    ) -> tuple[StoredCheckin, Decision, bool]:
        """Record a visit (even one access would deny) and decide access for it.

        Returns the check-in, the access decision at its instant, and whether it was
        created now (False: a replay of a device event already stored).
        """
        principal.require_club(data.club_id, "member")
        pinned = principal.member_id
        if pinned is not None and data.member_id is not None and data.member_id != pinned:
            raise NotFound(MEMBER_NOT_FOUND, code="member_not_found")
        given = data.checked_in_at is not None
        at = data.checked_in_at if data.checked_in_at is not None else as_of
        if not check_not_future(at, as_of):
            raise RuleViolation(
                "checked_in_at is more than 5 minutes in the future.",
                code="checkin_in_future",
                errors=[{"pointer": "/checked_in_at", "detail": "more than 5 minutes ahead"}],
            )
        row = StagedRow(
            0,
            None,
            data.club_id,
            data.member_id,
            data.card_number,
            at,
            data.source.value,
            data.device_id,
            data.device_event_id,
            given,
        )
        event = {
            "kind": "single",
            "club_id": row.club_id,
            "checked_in_at": row.checked_in_at,
            "source": row.source,
            "device_id": row.device_id,
            "device_event_id": row.device_event_id,
        }
        recorded = await repository.record_one(
            session, row, created_at=as_of, event=event, fast=fast_path
        )
        if recorded is None or (pinned is not None and recorded.member_id != pinned):
            raise NotFound(MEMBER_NOT_FOUND, code="member_not_found")
        checkin = recorded.checkin
        if not recorded.inserted:
            member = recorded.member_id
            if not same_event(checkin.member_id, checkin.checked_in_at, member, at, given):
                raise RuleViolation(
                    "This device event is already recorded with another member or time.",
                    code="device_event_conflict",
                )
        decision = await access_service.decide(
            session,
            club_id=checkin.club_id,
            member_id=checkin.member_id,
            timezone=recorded.timezone,
            at=checkin.checked_in_at,
            exclude_checkin_id=checkin.id,
            memberships=recorded.memberships,
        )
        if recorded.inserted and decision.reason == "frozen":
            # The club may end a freeze when the member comes in anyway; then the visit
            # is judged again against the membership as it now stands.
            ended = await self.end_freezes_on_visits(
                session, checkin.club_id, checkin.checked_in_at, checkin.checked_in_at, as_of
            )
            if ended:
                decision = await access_service.decide(
                    session,
                    club_id=checkin.club_id,
                    member_id=checkin.member_id,
                    timezone=recorded.timezone,
                    at=checkin.checked_in_at,
                    exclude_checkin_id=checkin.id,
                )
        if recorded.inserted and not recorded.event_written:
            await emit(
                session,
                "checkin.recorded",
                {**event, "id": checkin.id, "member_id": checkin.member_id},
                club_id=checkin.club_id,
            )
        return checkin, decision, recorded.inserted

    # -- many check-ins -----------------------------------------------------------------

    async def ingest_upload(
        self,
        session: AsyncSession,
        principal: Principal,
        fmt: Format,
        body: AsyncIterator[bytes],
        *,
        as_of: datetime,
        max_rows: int,
        chunk_rows: int,
        fast_path: bool = True,
    ) -> IngestReport:
        """A batch upload from the API: one transaction, one summary event per club."""
        if principal.member_id is not None:
            raise Forbidden("A token pinned to one member cannot upload batches.")
        ctx = RowContext(as_of=as_of, visible_clubs=principal.club_ids)
        return await self.ingest(
            session,
            parse(fmt, body, ctx),
            ctx,
            max_rows=max_rows,
            chunk_rows=chunk_rows,
            fast_path=fast_path,
        )

    async def ingest(
        self,
        session: AsyncSession,
        items: AsyncIterator[list[Item]],
        ctx: RowContext,
        *,
        max_rows: int | None,
        chunk_rows: int,
        fast_path: bool = True,
        after_chunk: ChunkHook | None = None,
    ) -> IngestReport:
        """Validate and store parsed records chunk by chunk; memory holds two chunks.

        While one chunk is being written the next one is parsed and validated (the
        database works on its core while Python parses on the other). Summary events
        (`checkin.recorded`, `kind: batch`) go out once per club: at the end, or with
        every chunk when `after_chunk` commits chunk by chunk, so an event always
        describes committed rows. More than `max_rows` records -> 413 `batch_too_large`
        (the caller's transaction is rolled back: nothing is written).
        """
        report = IngestReport()
        batch_id = uuid.uuid4()
        created_at = ctx.as_of
        buffer: list[StagedRow] = []
        writing: asyncio.Task[None] | None = None

        async def write(rows: list[StagedRow]) -> None:
            outcomes = await repository.ingest_chunk(
                session, rows, created_at=created_at, fast=fast_path
            )
            tallies = self._absorb(report, rows, outcomes)
            if after_chunk is not None:
                await self._announce(session, tallies, batch_id)
                await after_chunk(report)

        async def settle() -> None:
            nonlocal writing
            if writing is not None:
                task, writing = writing, None
                await task

        try:
            async for batch in items:
                if writing is not None:
                    # Let the write in flight take its next step (the body may be read
                    # without ever suspending); the database works while we parse.
                    await asyncio.sleep(0)
                for index, line, raw in batch:
                    report.rows += 1
                    if max_rows is not None and report.rows > max_rows:
                        raise PayloadTooLarge(
                            f"A batch may hold at most {max_rows} check-ins; split it.",
                            code="batch_too_large",
                        )
                    checked = validate_row(raw, index, line, ctx)
                    if type(checked) is not StagedRow:
                        assert isinstance(checked, Rejection)
                        report.reject(checked)
                        continue
                    buffer.append(checked)
                    if len(buffer) >= chunk_rows:
                        await settle()
                        writing = asyncio.ensure_future(write(buffer))
                        buffer = []
            await settle()
            if buffer:
                await write(buffer)
        finally:
            # Never leave a statement running on the session (the caller rolls back).
            if writing is not None:
                await asyncio.gather(writing, return_exceptions=True)
        if after_chunk is None:
            await self._announce(session, report.clubs, batch_id)
        for club_id, tally in report.clubs.items():
            if tally.first is not None and tally.last is not None:
                await self.end_freezes_on_visits(
                    session, club_id, tally.first, tally.last, ctx.as_of
                )
        return report

    async def end_freezes_on_visits(
        self,
        session: AsyncSession,
        club_id: uuid.UUID,
        first: datetime,
        last: datetime,
        as_of: datetime,
    ) -> int:
        """Apply the club setting "a visit during a freeze ends it that day" to the visits
        recorded between `first` and `last`. Returns how many freezes were ended; running
        it again for the same visits changes nothing."""
        earliest: dict[uuid.UUID, date] = {}
        for membership_id, start, end, at, tz in await repository.frozen_visits(
            session, club_id, first, last
        ):
            day = local_date(tz, at)
            if start <= day <= end and (
                membership_id not in earliest or day < earliest[membership_id]
            ):
                earliest[membership_id] = day
        ended = 0
        for membership_id, day in sorted(earliest.items(), key=lambda kv: str(kv[0])):
            if await freeze_service.end_on_visit(session, membership_id, day, as_of=as_of):
                ended += 1
        return ended

    def _absorb(
        self, report: IngestReport, rows: Sequence[StagedRow], outcomes: dict[int, str]
    ) -> dict[uuid.UUID, ClubTally]:
        chunk: dict[uuid.UUID, ClubTally] = {}
        for r in rows:
            outcome = outcomes.get(r.idx)
            if outcome is None:
                report.accepted += 1
                chunk.setdefault(r.club_id, ClubTally()).add(r.checked_in_at)
            elif outcome == repository.DUPLICATE:
                report.duplicates += 1
            else:
                report.reject(Rejection(r.idx, outcome, _DETAILS[outcome], r.line))
        for club_id, tally in chunk.items():
            report.clubs.setdefault(club_id, ClubTally()).merge(tally)
        return chunk

    async def _announce(
        self, session: AsyncSession, tallies: dict[uuid.UUID, ClubTally], batch_id: uuid.UUID
    ) -> None:
        for club_id, tally in sorted(tallies.items(), key=lambda kv: str(kv[0])):
            if tally.count:
                await emit(
                    session,
                    "checkin.recorded",
                    {
                        "kind": "batch",
                        "batch_id": batch_id,
                        "club_id": club_id,
                        "count": tally.count,
                        "first_checked_in_at": tally.first,
                        "last_checked_in_at": tally.last,
                    },
                    club_id=club_id,
                )

    # -- reads --------------------------------------------------------------------------

    async def list(
        self,
        session: AsyncSession,
        principal: Principal,
        page: PageParams,
        *,
        club_id: uuid.UUID | None,
        member_id: uuid.UUID | None,
        since: datetime | None,
        until: datetime | None,
    ) -> tuple[list[Checkin], str | None]:
        """Newest first, keyset-paged on (checked_in_at, id)."""
        if club_id is not None:
            principal.require_club(club_id, "club")
        if principal.member_id is not None:
            if member_id is not None and member_id != principal.member_id:
                raise NotFound(MEMBER_NOT_FOUND, code="member_not_found")
            member_id = principal.member_id
        stmt = repository.listing(
            principal.club_ids, club_id=club_id, member_id=member_id, since=since, until=until
        )
        keys = [
            SortKey(Checkin.checked_in_at, descending=True),
            SortKey(Checkin.id, descending=True),
        ]
        return await paginate(
            session,
            stmt,
            keys,
            page,
            scope="checkins",
            key_of=lambda c: [c.checked_in_at, c.id],
        )

    async def require_club(self, session: AsyncSession, club_id: uuid.UUID) -> None:
        if not await repository.club_exists(session, club_id):
            raise NotFound("Club not found.", code="club_not_found")

    async def member(
        self, session: AsyncSession, principal: Principal, member_id: uuid.UUID
    ) -> MemberRef:
        ref = await repository.member_ref(session, member_id)
        if (
            ref is None
            or not principal.sees_club(ref.club_id)
            or (principal.member_id is not None and principal.member_id != ref.id)
        ):
            raise NotFound("Member not found.", code="member_not_found")
        return ref

    async def attendance(
        self, session: AsyncSession, member: MemberRef, *, as_of: datetime
    ) -> dict[str, Any]:
        """The attendance picture as of `as_of`, in the club's local weeks.

        26 weeks (Monday starts), the last one being the current partial week; their
        UTC boundaries are computed here (DST-correct) and the counting is one query.
        `usual_visits_per_week` divides the window's visits by the window's length in
        weeks, or by the tenure when shorter (tenure starts at the earlier of the first
        membership start and the first visit), and never by less than one week.
        """
        tz = member.timezone
        today = local_date(tz, as_of)
        this_monday = today - timedelta(days=today.weekday())
        mondays = [this_monday - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS + 1)]
        bounds = [local_midnight_utc(tz, d) for d in mondays]
        since_28 = local_midnight_utc(tz, today - timedelta(days=27))
        counts = await repository.attendance(
            session, member, week_bounds=bounds, since_28=since_28, until=as_of
        )
        window_start = mondays[0]
        starts = [d for d in (counts.first_membership_start,) if d is not None]
        if counts.first_visit_at is not None:
            starts.append(local_date(tz, counts.first_visit_at))
        tenure_start = min(starts) if starts else today
        span_days = (today - max(window_start, tenure_start)).days + 1
        weeks = max(1.0, span_days / 7)
        usual = round(sum(counts.weekly) / weeks, 2)
        return {
            "member_id": member.id,
            "as_of": as_of,
            "last_visit_at": counts.last_visit_at,
            "visits_last_28_days": counts.visits_since_28,
            "usual_visits_per_week": usual,
            "weekly_counts": [
                {"week_start": d, "visits": v}
                for d, v in zip(mondays[:WEEKS], counts.weekly, strict=True)
            ],
        }


checkin_service = CheckinService()


async def _export_checkins(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    return [row_dict(c) for c in await repository.of_member(session, member.club_id, member.id)]


# Visits are the member's data: part of the export. Erasure keeps them (visit counts are
# kept by design; a check-in holds no contact data or free text).
register_export_section("checkins", _export_checkins)

__all__ = ["ChunkHook", "IngestReport", "MemberRef", "StoredCheckin", "checkin_service"]
