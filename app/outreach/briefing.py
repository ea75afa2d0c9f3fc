"""The call briefing (DESIGN principles 2, 3, 9): member card, membership marks, the
attendance picture, risk reasons, earlier calls and meetings, open complaints, upcoming
personal dates, promotions in general terms, free meeting slots, the onboarding
checklist and talking points for the call kind.

Built from a fixed number of set-based statements (about a dozen, whatever the member's
history): every list is bounded in SQL, nothing is lazy-loaded. The benchmark replays
exactly these statements on raw asyncpg as the floor (bench/briefing.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Perm, Principal
from app.checkins.repository import MemberRef
from app.checkins.service import checkin_service
from app.clubs.schemas import MeetingSettings
from app.core.timezones import local_date, local_day_bounds_utc, zone
from app.errors import NotFound
from app.meetings import repository as meetings_repository
from app.meetings.schemas import MeetingSlot
from app.meetings.slots import free_starts
from app.members.service import member_service
from app.models import Club, Member, Membership, ServiceCall
from app.models.outreach import CallKind
from app.outreach import briefing_repository as repository
from app.outreach.briefing_schemas import (
    AttemptSummary,
    Briefing,
    BriefingAttendance,
    BriefingCall,
    BriefingComplaint,
    BriefingFreeze,
    BriefingHistory,
    BriefingMember,
    BriefingMembership,
    BriefingPromotion,
    BriefingRisk,
    CallSummary,
    HandoffNote,
    MeetingSummary,
    OnboardingStep,
    PersonalDate,
    WeeklyVisits,
)
from app.working_hours.availability import opening_spans, working_windows

# Bounds: the briefing never grows with the member's history.
SPARKLINE_WEEKS = 12
HISTORY_CALLS = 5
ATTEMPTS_PER_CALL = 10
HISTORY_MEETINGS = 5
COMPLAINTS = 10
PROMOTIONS = 10
HANDOFF_NOTES = 10
PERSONAL_DATES_DAYS = 30
FREEZE_SOON_DAYS = 30
SLOT_DAYS = 3
SLOTS_PER_DAY = 4
ONBOARDING_DAYS = 100
TERM_ENDING_DAYS = 60
SLOT_ROLE = "consultant"

GOAL = "The only goal of this call is a meeting booked in the club; prices and offers are "
GOAL += "discussed there, face to face."

KIND_POINTS: dict[str, tuple[str, ...]] = {
    CallKind.WELCOME: (
        "Thank them for joining and ask how the first visits went.",
        "Offer the free first session with an instructor and the wellness test.",
    ),
    CallKind.ONBOARDING: (
        "Ask how their visit plan is going and what would help them come regularly.",
        "Offer to introduce them to a trainer in the club.",
    ),
    CallKind.LAPSE: (
        "Ask how they are and what changed; listen before proposing anything.",
        "Invite them to a short meeting in the club to plan their return.",
    ),
    CallKind.RENEWAL: (
        "Ask what they liked this term and what they want next.",
        "Book a renewal meeting in the club; do not quote prices by phone.",
    ),
    CallKind.POST_FREEZE: ("Welcome them back after the freeze and help plan the first visits.",),
    CallKind.BIRTHDAY: ("Congratulate them warmly; this call is not about sales.",),
    CallKind.FEEDBACK: (
        "Ask how likely they are to recommend the club (0-10) and what to improve.",
    ),
    CallKind.NO_SHOW: (
        "They missed their meeting: ask what got in the way, without blame.",
        "Offer a new time that suits them.",
    ),
    CallKind.COMPLAINT_FOLLOW_UP: (
        "Ask whether the resolution of their complaint satisfied them.",
        "Thank them for telling us; note anything still open.",
    ),
}


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _next_occurrence(month: int, day: int, today: date) -> date:
    for year in (today.year, today.year + 1):
        try:
            d = date(year, month, day)
        except ValueError:  # 29 February in a common year
            d = date(year, 2, 28)
        if d >= today:
            return d
    raise AssertionError("unreachable")  # pragma: no cover


def personal_dates(member: Member, today: date, within_days: int) -> list[PersonalDate]:
    """Birthday and the member's personal dates ("MM-DD") in the next `within_days`."""
    found: list[tuple[str, str | None, int, int]] = []
    if member.birth_date is not None:
        found.append(("birthday", None, member.birth_date.month, member.birth_date.day))
    for item in member.personal_dates or []:
        try:
            month, day = (int(p) for p in str(item.get("date", "")).split("-")[-2:])
            date(2000, month, day)
        except (ValueError, TypeError, AttributeError):
            continue
        found.append((str(item.get("kind") or "other"), item.get("label"), month, day))
    out = []
    for kind, label, month, day in found:
        when = _next_occurrence(month, day, today)
        days = (when - today).days
        if days <= within_days:
            out.append(PersonalDate(kind=kind, label=label, date=when, days_until=days))
    out.sort(key=lambda p: (p.days_until, p.kind))
    return out


class BriefingService:
    async def load(
        self, session: AsyncSession, actor: Principal, call_id: uuid.UUID
    ) -> tuple[ServiceCall, Club]:
        """The call and its club in one statement; another club's call (or another
        member's, for a token pinned to one member) is reported as missing."""
        actor.require(Perm.CALLS_READ)
        row = (
            await session.execute(
                select(ServiceCall, Club)
                .join(Club, Club.id == ServiceCall.club_id)
                .where(ServiceCall.id == call_id)
            )
        ).first()
        if (
            row is None
            or not actor.sees_club(row[0].club_id)
            or (actor.member_id is not None and actor.member_id != row[0].member_id)
        ):
            raise NotFound("Call not found.", code="call_not_found")
        return row[0], row[1]

    async def build(
        self, session: AsyncSession, call: ServiceCall, club: Club, as_of: datetime
    ) -> Briefing:
        tz = club.timezone
        today = local_date(tz, as_of)
        found = await repository.member_and_membership(
            session, call.member_id, call.membership_id, today
        )
        if found is None:  # a foreign key guarantees the member; a broken database
            raise NotFound("Member not found.", code="member_not_found")
        member: Member = found[0]
        ms: Membership | None = found[1]
        notes = (
            await member_service.handoff_notes(session, [member.id], per_member=HANDOFF_NOTES)
        )[member.id]
        membership = None
        if ms is not None:
            freezes = await repository.live_freezes(session, ms.id, today)
            membership = self._membership(ms, found[2], found[3], freezes, today)
        attendance = await self._attendance(session, member, tz, as_of)
        risk_row = await repository.latest_risk(session, member.id)
        if risk_row is not None:
            # The lapse scan's baseline is the member's own habit (DESIGN §4); the plain
            # 26-week average is diluted by holidays and freezes.
            attendance.usual_visits_per_week = round(risk_row.usual_visits_per_week, 2)
        risk = None
        if risk_row is not None:
            risk = BriefingRisk(
                level=risk_row.level,
                score=risk_row.score,
                reasons=list(risk_row.reasons or []),
                suppressed=risk_row.suppressed,
                assessed_at=risk_row.assessed_at,
            )
        history = BriefingHistory(
            calls=self._calls(
                await repository.earlier_calls(
                    session,
                    member.id,
                    call.id,
                    calls=HISTORY_CALLS,
                    attempts=ATTEMPTS_PER_CALL,
                )
            ),
            meetings=[
                MeetingSummary(
                    id=r.id,
                    starts_at=r.starts_at,
                    purpose=r.purpose,
                    status=r.status,
                    outcome=r.outcome,
                    decline_reason=r.decline_reason,
                )
                for r in await repository.recent_meetings(session, member.id, HISTORY_MEETINGS)
            ],
        )
        complaints = [
            BriefingComplaint(
                id=r.id,
                category=r.category,
                severity=r.severity,
                status=r.status,
                description=r.description,
                due_at=r.due_at,
                overdue=r.due_at < as_of,
                created_at=r.created_at,
            )
            for r in await repository.open_complaints(session, member.id, COMPLAINTS)
        ]
        promotions = [
            BriefingPromotion(
                name=r.name,
                kind=r.kind,
                valid_until=r.valid_until,
                days_left=(r.valid_until - today).days,
            )
            for r in await repository.active_promotions(session, club.id, today, PROMOTIONS)
        ]
        onboarding: list[OnboardingStep] = []
        if (
            ms is not None
            and ms.source == "new"
            and 0 <= (today - ms.start_date).days <= ONBOARDING_DAYS
        ):
            onboarding = [
                OnboardingStep(
                    kind=r.kind, status=r.status, due_date=r.due_date, completed_at=r.completed_at
                )
                for r in await repository.onboarding_items(session, ms.id)
            ]
        dates = personal_dates(member, today, PERSONAL_DATES_DAYS)
        slots = await self._slots(session, club, today, as_of)
        member_card = BriefingMember(
            id=member.id,
            first_name=member.first_name,
            last_name=member.last_name,
            phone=member.phone,
            email=member.email,
            birth_date=member.birth_date,
            preferred_channel=member.preferred_channel,
            contact_window_start=member.contact_window_start,
            contact_window_end=member.contact_window_end,
            interests=list(member.interests or []),
            goals=member.goals,
            do_not_contact=member.do_not_contact,
            handoff_notes=[HandoffNote(body=n.body, created_at=n.created_at) for n in notes],
        )
        briefing = Briefing(
            call=BriefingCall(
                id=call.id,
                member_id=call.member_id,
                membership_id=call.membership_id,
                kind=call.kind,
                status=call.status,
                reasons=list(call.reasons or []),
                priority=call.priority,
                due_from=call.due_from,
                due_until=call.due_until,
                attempts=call.attempts,
                assignee_id=call.assignee_id,
                notes=call.notes,
            ),
            member=member_card,
            membership=membership,
            attendance=attendance,
            risk=risk,
            history=history,
            complaints=complaints,
            personal_dates=dates,
            promotions=promotions,
            meeting_slots=slots,
            onboarding=onboarding,
            talking_points=[],
        )
        briefing.talking_points = talking_points(briefing)
        return briefing

    # ------------------------------------------------------------------ sections

    def _membership(
        self,
        ms: Membership,
        plan_name: str | None,
        promotion_name: str | None,
        freezes: Sequence[Any],
        today: date,
    ) -> BriefingMembership:
        current = next((f for f in freezes if f.start_date <= today <= f.end_date), None)
        upcoming = next(
            (
                f
                for f in freezes
                if today < f.start_date <= today + timedelta(days=FREEZE_SOON_DAYS)
            ),
            None,
        )
        shown = current or upcoming
        if ms.cancelled_at is not None:
            status = "cancelled"
        elif today < ms.start_date:
            status = "pending"
        elif today > ms.end_date:
            status = "expired"
        elif current is not None:
            status = "frozen"
        else:
            status = "active"
        return BriefingMembership(
            id=ms.id,
            plan_name=plan_name or "",
            start_date=ms.start_date,
            end_date=ms.end_date,
            days_left=(ms.end_date - today).days,
            status=status,
            frozen_now=current is not None,
            freeze=(
                BriefingFreeze(
                    start_date=shown.start_date, end_date=shown.end_date, reason=shown.reason
                )
                if shown is not None
                else None
            ),
            special_conditions=ms.special_conditions,
            promotion_name=promotion_name,
            source=ms.source,
            list_price=ms.list_price,
            price_paid=ms.price_paid,
            currency=ms.currency,
        )

    async def _attendance(
        self, session: AsyncSession, member: Member, tz: str, as_of: datetime
    ) -> BriefingAttendance:
        # The same one-statement picture as GET /members/{id}/attendance, so the caller
        # and the member card never disagree.
        a = await checkin_service.attendance(
            session, MemberRef(id=member.id, club_id=member.club_id, timezone=tz), as_of=as_of
        )
        last: datetime | None = a["last_visit_at"]
        return BriefingAttendance(
            last_visit_at=last,
            days_since_last_visit=(
                (local_date(tz, as_of) - local_date(tz, last)).days if last else None
            ),
            visits_last_28_days=a["visits_last_28_days"],
            usual_visits_per_week=a["usual_visits_per_week"],
            weekly_counts=[
                WeeklyVisits(week_start=w["week_start"], visits=w["visits"])
                for w in a["weekly_counts"][-SPARKLINE_WEEKS:]
            ],
        )

    def _calls(self, rows: Sequence[Any]) -> list[CallSummary]:
        calls: dict[uuid.UUID, CallSummary] = {}
        for r in rows:
            summary = calls.get(r[0])
            if summary is None:
                summary = calls[r[0]] = CallSummary(
                    id=r[0],
                    kind=r[1],
                    status=r[2],
                    outcome=r[3],
                    created_at=r[4],
                    closed_at=r[5],
                    close_reason=r[6],
                    attempts=[],
                )
            if r[7] is not None and len(summary.attempts) < ATTEMPTS_PER_CALL:
                summary.attempts.append(
                    AttemptSummary(
                        attempted_at=r[7], outcome=r[8], decline_reason=r[9], notes=r[10]
                    )
                )
        return list(calls.values())

    async def _slots(
        self, session: AsyncSession, club: Club, today: date, as_of: datetime
    ) -> list[MeetingSlot]:
        """Free consultant slots over the next `SLOT_DAYS` club-local days, the first
        `SLOTS_PER_DAY` of each day: the booking rules of app/meetings (working hours
        inside opening hours, clear of booked meetings and their buffer, not in the
        past), with three statements for all days."""
        staff = [
            r
            for r in await repository.meeting_staff(session, club.id)
            if SLOT_ROLE in (r.roles or [])
        ]
        if not staff:
            return []
        days = [today + timedelta(days=i) for i in range(SLOT_DAYS)]
        ids = [r.id for r in staff]
        exceptions = {
            (r.staff_id, r.on_date): r.hours
            for r in await repository.working_exceptions(session, club.id, ids, days[0], days[-1])
        }
        start, _ = local_day_bounds_utc(club.timezone, days[0])
        _, end = local_day_bounds_utc(club.timezone, days[-1])
        busy = await meetings_repository.busy(session, ids, start, end)
        settings = MeetingSettings.model_validate(club.meeting_settings or {})
        length = timedelta(minutes=settings.slot_minutes)
        buffer = timedelta(minutes=settings.buffer_minutes)
        tz = zone(club.timezone)
        out: list[MeetingSlot] = []
        for day in days:
            if not opening_spans(club.opening_hours, day):
                continue
            free: list[tuple[datetime, uuid.UUID]] = []
            for r in staff:
                windows = working_windows(
                    club.timezone,
                    day,
                    weekly=r.weekly,
                    exception=exceptions.get((r.id, day)),
                    opening_hours=club.opening_hours,
                )
                for t in free_starts(
                    windows, busy[r.id], length=length, buffer=buffer, not_before=as_of
                ):
                    free.append((t, r.id))
            free.sort()
            out.extend(
                MeetingSlot(
                    starts_at=t.astimezone(tz),
                    ends_at=(t + length).astimezone(tz),
                    consultant_id=sid,
                )
                for t, sid in free[:SLOTS_PER_DAY]
            )
        return out


def talking_points(b: Briefing) -> list[str]:
    """Static guidance for the call kind, then points drawn from the data, most
    important first (an open complaint is acknowledged before anything else)."""
    points: list[str] = []
    for c in b.complaints[:2]:
        points.append(f"Has an open complaint about {c.category} — acknowledge it first.")
    points.extend(KIND_POINTS.get(b.call.kind, ()))
    m = b.membership
    if m is not None:
        if m.frozen_now and m.freeze is not None:
            points.append(f"The card is frozen until {m.freeze.end_date.isoformat()}.")
        elif m.freeze is not None:
            points.append(
                f"A freeze starts on {m.freeze.start_date.isoformat()} "
                f"(until {m.freeze.end_date.isoformat()})."
            )
        if m.status in ("active", "frozen") and m.days_left <= TERM_ENDING_DAYS:
            points.append(f"Term ends in {_days(m.days_left)}.")
        elif m.status == "expired":
            points.append(f"Term ended {_days(-m.days_left)} ago.")
        if m.promotion_name:
            points.append(f"Bought on the promotion “{m.promotion_name}”.")
        if m.special_conditions:
            points.append(f"Special conditions: {m.special_conditions}")
    a = b.attendance
    if a.last_visit_at is None:
        points.append("No visits recorded yet.")
    elif a.days_since_last_visit is not None and a.days_since_last_visit >= 7:
        text = f"No visit for {_days(a.days_since_last_visit)}"
        if a.usual_visits_per_week > 0:
            every = max(1, round(7 / a.usual_visits_per_week))
            text += f"; usually every {_days(every)}"
        points.append(text + ".")
    if b.risk is not None:
        points.extend(b.risk.reasons[:2])
    for p in b.personal_dates:
        if p.days_until > 7:
            continue
        what = p.label or p.kind.replace("_", " ")
        when = "today" if p.days_until == 0 else f"in {_days(p.days_until)}"
        points.append(f"{what.capitalize()} {when} ({p.date.isoformat()}).")
    for s in b.onboarding:
        if s.status == "open":
            points.append(f"Onboarding: {s.kind.replace('_', ' ')} still open.")
    if b.promotions:
        promo = b.promotions[0]
        points.append(
            f"“{promo.name}” runs until {promo.valid_until.isoformat()}: invite them to hear "
            "the details in the club."
        )
    points.append(GOAL)
    return points


briefing_service = BriefingService()
