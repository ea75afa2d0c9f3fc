"""Lapse risk: the scan (SQL features → score → assessments and events) and the list.

A scan of one club is one transaction: one streamed feature query, the score in Python
over those rows (no I/O per member), assessments upserted in chunks, `member.at_risk`
events for members whose level rose. Scanning the same club-local day again replaces
that day's rows with the same values and emits nothing new.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.clubs.service import club_service
from app.core.pagination import PageParams, SortKey, paginate
from app.core.timezones import local_date, local_midnight_utc
from app.errors import NotFound
from app.events.service import emit_many
from app.members.privacy import register_export_section, row_dict
from app.models import Member, RiskAssessment
from app.risk import repository
from app.risk.repository import ScanWindow
from app.risk.scoring import (
    BASELINE_DAYS,
    EARLY_DAYS,
    EARLY_UNTIL_DAYS,
    LEVEL_RANK,
    PLAN_DAYS,
    RECENT_DAYS,
    SLEEPER_DAYS,
    WINDOW_DAYS,
    Assessment,
    Level,
    MemberFeatures,
    Segment,
    assess,
    club_prior,
)

ALERT_RANK = LEVEL_RANK[Level.AT_RISK]


def scan_window(club_id: uuid.UUID, tz: str, scan_date: date, as_of: datetime) -> ScanWindow:
    """Every boundary of a scan as a UTC instant, from the club's calendar (zoneinfo,
    DST-correct: a local day may be 23 or 25 hours long)."""

    def midnight(days_back: int) -> datetime:
        return local_midnight_utc(tz, scan_date - timedelta(days=days_back))

    early = []
    for back in range(EARLY_UNTIL_DAYS):
        start = scan_date - timedelta(days=back)
        early.append(
            (
                start,
                local_midnight_utc(tz, start),
                local_midnight_utc(tz, start + timedelta(days=EARLY_DAYS)),
            )
        )
    return ScanWindow(
        club_id=club_id,
        today=scan_date,
        cutoff=min(as_of, midnight(-1)),
        window_start_at=midnight(WINDOW_DAYS - 1),
        eight_weeks_start_at=midnight(SLEEPER_DAYS - 1),
        baseline_start_at=midnight(RECENT_DAYS + BASELINE_DAYS - 1),
        recent_start_at=midnight(RECENT_DAYS - 1),
        two_weeks_start_at=midnight(PLAN_DAYS - 1),
        early_bounds=early,
    )


def _ranges(text: str | None) -> tuple[tuple[date, date], ...]:
    if not text:
        return ()
    out = []
    for part in text.split(","):
        start, end = part.split("/")
        out.append((date.fromisoformat(start[:10]), date.fromisoformat(end[:10])))
    return tuple(sorted(out))


def features_from_row(row: Any, tz: str, today: date) -> MemberFeatures:
    frozen = _ranges(row.frozen)
    tenure_days = (today - row.tenure_start).days
    return MemberFeatures(
        today=today,
        tenure_start=row.tenure_start,
        end_date=row.end_date,
        last_visit=local_date(tz, row.last_visit_at) if row.last_visit_at else None,
        visits_window=int(row.visits_window),
        visits_recent=int(row.visits_recent),
        visits_baseline=int(row.visits_baseline),
        visits_8_weeks=int(row.visits_8_weeks),
        visits_early=int(row.visits_early) if tenure_days < EARLY_UNTIL_DAYS else None,
        frozen=frozen,
        frozen_now=any(start <= today <= end for start, end in frozen),
        do_not_contact=bool(row.do_not_contact),
        renewed=bool(row.renewed),
        renewal_booked=bool(row.renewal_booked),
        visits_2_weeks=int(row.visits_2_weeks),
        planned_per_week=int(row.planned_per_week) if row.planned_per_week else None,
        plan_since=local_date(tz, row.planned_at) if row.planned_at else None,
    )


def alert_rank(level: str | None, suppressed: str | None) -> int:
    """How loudly an assessment asks for a call: a suppressed one does not."""
    if level is None or suppressed is not None:
        return 0
    return LEVEL_RANK[Level(level)]


@dataclass
class ScanCounts:
    clubs: int = 0
    members: int = 0
    events: int = 0
    statements: int = 0
    levels: Counter[str] = field(default_factory=Counter)

    def add(self, other: ScanCounts) -> None:
        self.clubs += other.clubs
        self.members += other.members
        self.events += other.events
        self.statements += other.statements
        self.levels.update(other.levels)

    def as_dict(self) -> dict[str, int]:
        out = {
            "clubs": self.clubs,
            "members": self.members,
            "events": self.events,
            "statements": self.statements,
        }
        for key in ("ok", "watch", "at_risk", "lapsed", "sleeper", "suppressed"):
            out[key] = self.levels[key]
        return out


@dataclass(frozen=True)
class ClubToScan:
    club_id: uuid.UUID
    timezone: str
    scan_date: date


class RiskService:
    # --- the scan ------------------------------------------------------------------

    async def clubs_to_scan(
        self, session: AsyncSession, as_of: datetime, *, club_id: uuid.UUID | None = None
    ) -> list[ClubToScan]:
        """Every active club (or `club_id`, active or not) with its local day at `as_of`."""
        clubs = await repository.active_clubs(session, club_id)
        if club_id is not None and not clubs:
            raise NotFound("Club not found.", code="club_not_found")
        return [ClubToScan(c.id, c.timezone, local_date(c.timezone, as_of)) for c in clubs]

    async def scan_club(
        self, session: AsyncSession, club: ClubToScan, *, as_of: datetime
    ) -> ScanCounts:
        """Assess every member with a live membership in the club on `club.scan_date`."""
        window = scan_window(club.club_id, club.timezone, club.scan_date, as_of)
        rows: list[tuple[Any, MemberFeatures]] = []
        async for chunk in repository.stream_features(session, window):
            rows.extend((r, features_from_row(r, club.timezone, window.today)) for r in chunk)
        prior = club_prior(f.window_rate_per_week for _, f in rows)
        counts = ScanCounts(clubs=1, members=len(rows), statements=1)
        batch: list[dict[str, Any]] = []
        risen: list[dict[str, Any]] = []
        for row, features in rows:
            a = assess(features, prior)
            rank = alert_rank(a.level, a.suppressed)
            rises = rank >= ALERT_RANK and rank > alert_rank(
                row.previous_level, row.previous_suppressed
            )
            already = bool(row.notified_today)
            if rises and not already:
                risen.append(self._at_risk(club, row, a, as_of))
            batch.append(self._row(club, row, features, a, as_of, rises or already))
            counts.levels[a.level.value] += 1
            counts.levels["sleeper"] += a.segment is Segment.SLEEPER
            counts.levels["suppressed"] += a.suppressed is not None
        # One multi-row INSERT per batch of events (in member order), before the
        # assessments, in this transaction: a first scan emits thousands.
        counts.events = await emit_many(session, "member.at_risk", risen, club_id=club.club_id)
        counts.statements += await repository.upsert_assessments(session, batch)
        await session.flush()
        return counts

    @staticmethod
    def _row(
        club: ClubToScan,
        row: Any,
        f: MemberFeatures,
        a: Assessment,
        as_of: datetime,
        notified: bool,
    ) -> dict[str, Any]:
        return {
            "member_id": row.member_id,
            "scan_date": f.today,
            "club_id": club.club_id,
            "membership_id": row.membership_id,
            "assessed_at": as_of,
            "score": a.score,
            "level": a.level.value,
            "segment": a.segment.value,
            "suppressed": a.suppressed.value if a.suppressed else None,
            "reasons": a.reasons,
            "last_visit_at": row.last_visit_at,
            "gap_days": a.gap_days,
            "usual_visits_per_week": a.usual_visits_per_week,
            "visits_last_4_weeks": f.visits_recent,
            "visits_previous_8_weeks": f.visits_baseline,
            "visits_first_3_weeks": f.visits_early,
            "tenure_days": f.tenure_days,
            "days_to_end": f.days_to_end,
            "notified": notified,
        }

    @staticmethod
    def _at_risk(club: ClubToScan, row: Any, a: Assessment, as_of: datetime) -> dict[str, Any]:
        """The `member.at_risk` payload of a member whose level rose."""
        return {
            "member_id": row.member_id,
            "membership_id": row.membership_id,
            "score": a.score,
            "level": a.level.value,
            "previous_level": row.previous_level,
            "segment": a.segment.value,
            "reasons": a.reasons,
            "scan_date": club.scan_date,
            "assessed_at": as_of,
        }

    # --- reading -------------------------------------------------------------------

    async def list_latest(
        self,
        session: AsyncSession,
        principal: Principal,
        page: PageParams,
        *,
        club_id: uuid.UUID | None = None,
        level: Level | None = None,
        suppressed: str | None = None,
        segment: Segment | None = None,
    ) -> tuple[list[RiskAssessment], str | None]:
        """Latest assessment of every member still under assessment, highest score
        first. `suppressed`: a reason, `none` (the call list) or `any`."""
        club_ids = principal.club_ids
        if club_id is not None:
            await club_service.get(session, principal, club_id)
            club_ids = frozenset({club_id})
        stmt = repository.risk_list(
            club_ids,
            member_id=principal.member_id,  # a token pinned to one member sees only them
            level=level.value if level else None,
            suppressed=suppressed,
            segment=segment.value if segment else None,
        )
        keys = [
            SortKey(RiskAssessment.score, descending=True),
            SortKey(RiskAssessment.member_id, descending=True),
        ]
        return await paginate(
            session, stmt, keys, page, scope="risk", key_of=lambda r: [r.score, r.member_id]
        )

    def members_at_levels(self, club_id: uuid.UUID, levels: Sequence[Level]) -> Select[Any]:
        """A query of the ids of the club's members whose latest assessment is at one of
        `levels` (suppressed ones included), for campaign segments."""
        return repository.members_at_levels(club_id, [lv.value for lv in levels])

    async def history(
        self, session: AsyncSession, member: Member, *, days: int
    ) -> list[RiskAssessment]:
        """The member's assessments, newest first (at most `days` scan days). The member
        was loaded and authorised by its resource dependency."""
        return await repository.member_history(session, member.id, days)


risk_service = RiskService()


async def _export_risk(session: AsyncSession, member: Member) -> list[dict[str, Any]]:
    return [row_dict(a) for a in await repository.all_of_member(session, member.id)]


# Assessments profile the member: part of the export. Erasure keeps them (numbers and
# generated reasons, no contact data or free text), like visit counts.
register_export_section("risk_assessments", _export_risk)
