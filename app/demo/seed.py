"""A realistic demo club, built through the real services.

Everything but the year of check-ins goes through the domain services with a real
principal (so rules, audit and events apply exactly as for API calls); the check-ins go
through the batch ingest service (the COPY fast path on PostgreSQL). The club is dated
relative to `as_of`: memberships end within the coming month, lapsing members stopped
visiting a few weeks ago, whatever day the demo is built.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal, Role
from app.auth.service import auth_service
from app.checkins.parsing import Item, RowContext
from app.checkins.service import checkin_service
from app.clubs.schemas import ClubCreate
from app.clubs.service import club_service
from app.complaints.schemas import Compensation, ComplaintResolve, RootCause
from app.complaints.service import ComplaintCategory, ComplaintSource, complaint_service
from app.core.clock import utcnow
from app.core.timezones import local_date, local_to_utc
from app.db import Database
from app.demo import people
from app.meetings.schemas import MeetingCreate
from app.meetings.service import meeting_service
from app.members.schemas import ConsentChoices, MemberCreate, PersonalDateIn
from app.members.service import member_service
from app.memberships.freeze_service import freeze_service
from app.memberships.schemas import FreezeCreate, MembershipCreate
from app.memberships.service import membership_service
from app.memberships.terms import anniversary
from app.models import Club, Plan, ServiceCall, Staff
from app.models.meeting import MeetingPurpose
from app.models.outreach import ComplaintSeverity
from app.outreach.jobs import call_maintenance
from app.outreach.repository import OPEN_VALUES
from app.plans.schemas import AccessWindow, FreezePolicy, PlanCreate
from app.plans.service import plan_service
from app.playbooks.jobs import playbook
from app.promotions.pricing import PromotionKind
from app.promotions.schemas import PromotionCreate
from app.promotions.service import promotion_service
from app.risk.service import risk_service
from app.staff.schemas import StaffCreate
from app.staff.service import staff_service

TIMEZONE = "Europe/Moscow"
CLUB_NAME = "Riverside Fitness (demo)"
CHECKIN_CHUNK_ROWS = 5000


class DemoRefused(Exception):
    """The database is not empty: the demo club is only ever built into an empty one."""


class Habit(StrEnum):
    STEADY = "steady"  # two to four visits a week, all year
    LAPSING = "lapsing"  # used to come often, tailed off and stopped weeks ago
    SLEEPER = "sleeper"  # paid, came a few times at the start, never since


class Term(StrEnum):
    ACTIVE = "active"
    ENDING_SOON = "ending_soon"  # ends within 30 days: the renewal window
    EXPIRED = "expired"  # ended in the last two months, not renewed
    FROZEN = "frozen"  # frozen today
    NEW = "new"  # bought this month


@dataclass
class StaffToken:
    role: str
    name: str
    staff_id: uuid.UUID
    token: str


@dataclass
class DemoResult:
    club_id: uuid.UUID
    admin_token: str
    staff: list[StaffToken] = field(default_factory=list)
    plans: int = 0
    promotions: int = 0
    members: int = 0
    memberships: dict[str, int] = field(default_factory=dict)
    habits: dict[str, int] = field(default_factory=dict)
    freezes: int = 0
    meetings: int = 0
    checkins: int = 0
    assessed: int = 0
    risk_levels: dict[str, int] = field(default_factory=dict)
    complaints: int = 0
    calls: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        def counts(d: dict[str, int]) -> str:
            return ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(d.items()))

        return (
            f"Demo club {self.club_id} ({CLUB_NAME}, {TIMEZONE}, RUB): "
            f"{self.plans} plans, {self.promotions} promotions, {len(self.staff)} staff, "
            f"{self.members} members ({counts(self.habits)}); memberships: "
            f"{counts(self.memberships)}; {self.freezes} freezes; "
            f"{self.meetings} renewal meetings booked; "
            f"{self.checkins:,} check-ins; "
            f"lapse scan of {self.assessed} members: {counts(self.risk_levels)}; "
            f"{self.complaints} complaints; open service calls: {counts(self.calls)}."
        )


STAFF = (
    (Role.MANAGER, "Elena Sokolova"),
    (Role.CALLER, "Daria Morozova"),
    (Role.CALLER, "Pavel Orlov"),
    (Role.CONSULTANT, "Irina Volkova"),
    (Role.CONSULTANT, "Maxim Lebedev"),
    (Role.TRAINER, "Marina Kozlova"),
    (Role.FRONT_DESK, "Oleg Nikitin"),
)


async def is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count()).select_from(Club))


async def _principal(session: AsyncSession, staff: Staff, as_of: datetime) -> tuple[Principal, str]:
    _, raw = await auth_service.issue_staff_token(
        session, None, staff, name=f"demo token for {staff.name}", scopes=None
    )
    return await auth_service.authenticate(session, raw, as_of), raw


def _months_before(day: date, months: int) -> date:
    """The day whose `months`-month anniversary is `day` (clamped at month ends)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for d in range(day.day, 0, -1):
        try:
            candidate = date(year, month, d)
        except ValueError:
            continue
        if anniversary(candidate, months) >= day:
            return candidate
    return date(year, month, 1)


async def build(
    db: Database, *, members: int = 300, seed: int = 12, as_of: datetime | None = None
) -> DemoResult:
    """Build the demo club into an empty database (raises DemoRefused otherwise)."""
    as_of = as_of or utcnow()
    rng = random.Random(seed)
    async with db.session_scope() as s:
        if not await is_empty(s):
            raise DemoRefused(
                "the database already holds clubs; demo-data only fills an empty database "
                "(point CLUB_RENEWAL_DATABASE_URL at a new one)"
            )
        admin_staff = await staff_service.create(
            s, None, StaffCreate(name="Demo Admin", roles=[Role.ADMIN], club_ids=[])
        )
        admin, admin_raw = await _principal(s, admin_staff, as_of)
        club = await club_service.create(
            s,
            admin,
            ClubCreate(
                name=CLUB_NAME,
                timezone=TIMEZONE,
                currency="RUB",
                address="12 Sadovaya St, Moscow",
                phone="+74951234567",
                # Round the clock, so that the README walkthrough's call can be made at
                # whatever hour it is tried; a real club keeps 09:00-21:00 or its own.
                quiet_hours_start=time(0),
                quiet_hours_end=time(23, 59, 59),
            ),
        )
        result = DemoResult(club_id=club.id, admin_token=admin_raw)
        today = local_date(TIMEZONE, as_of)

        principals: dict[Role, list[Principal]] = {}
        for role, name in STAFF:
            staff = await staff_service.create(
                s,
                admin,
                StaffCreate(
                    name=name,
                    email=f"{name.split()[0].lower()}@riverside.example",
                    roles=[role],
                    club_ids=[club.id],
                ),
            )
            p, raw = await _principal(s, staff, as_of)
            principals.setdefault(role, []).append(p)
            result.staff.append(StaffToken(role.value, name, staff.id, raw))
        manager = principals[Role.MANAGER][0]
        consultants = principals[Role.CONSULTANT]

        year = await plan_service.create(
            s,
            manager,
            PlanCreate(
                club_id=club.id,
                name="12 months, any time",
                duration_months=12,
                price=4_200_000,
                freeze_policy=FreezePolicy(
                    max_freezes=2, min_days=7, max_days=30, max_total_days=45, fee=0
                ),
            ),
        )
        half = await plan_service.create(
            s,
            manager,
            PlanCreate(
                club_id=club.id,
                name="6 months, any time",
                duration_months=6,
                price=2_600_000,
                freeze_policy=FreezePolicy(
                    max_freezes=1, min_days=7, max_days=21, max_total_days=21, fee=0
                ),
                renewal_target_ids=[year.id],
            ),
        )
        daytime = await plan_service.create(
            s,
            manager,
            PlanCreate(
                club_id=club.id,
                name="Daytime card, 12 months (weekdays 07-17)",
                duration_months=12,
                price=2_900_000,
                access_hours=[
                    AccessWindow(weekday=d, **{"from": "07:00"}, to="17:00") for d in range(1, 6)
                ],
                freeze_policy=FreezePolicy(
                    max_freezes=1, min_days=7, max_days=21, max_total_days=21, fee=50_000
                ),
                renewal_target_ids=[year.id, half.id],
            ),
        )
        result.plans = 3
        plans = [year, year, year, half, half, daytime]

        await promotion_service.create(
            s,
            manager,
            PromotionCreate(
                club_id=club.id,
                name="Early renewal: 15% off",
                description="Renew up to 30 days before the end and save 15%.",
                kind=PromotionKind.RENEWAL,
                discount_percent=15,
                plan_ids=[year.id, half.id],
                valid_from=today - timedelta(days=30),
                valid_until=today + timedelta(days=90),
                early_renewal_days=30,
                max_uses_per_member=1,
            ),
        )
        await promotion_service.create(
            s,
            manager,
            PromotionCreate(
                club_id=club.id,
                name="Loyalty month",
                description="Renew the year and get a month on top.",
                kind=PromotionKind.RENEWAL,
                bonus_days=30,
                plan_ids=[year.id],
                valid_from=today - timedelta(days=10),
                valid_until=today + timedelta(days=60),
            ),
        )
        await promotion_service.create(
            s,
            manager,
            PromotionCreate(
                club_id=club.id,
                name="New season: 10% off a first membership",
                kind=PromotionKind.PURCHASE,
                discount_percent=10,
                valid_from=today - timedelta(days=20),
                valid_until=today + timedelta(days=40),
            ),
        )
        result.promotions = 3

        schedules: list[_Schedule] = []
        # Members in the renewal window with more than a week to go (those ending sooner
        # are left for the caller to book: the README walkthrough books one of them).
        renewing: list[uuid.UUID] = []
        for i in range(members):
            female = rng.random() < 0.55
            first = rng.choice(people.FIRST_NAMES_F if female else people.FIRST_NAMES_M)
            last = rng.choice(people.LAST_NAMES) + ("a" if female else "")
            consultant = consultants[i % len(consultants)]
            decline_marketing = rng.random() < 0.3
            dnc = rng.random() < 0.03
            window = rng.random() < 0.3
            view = await member_service.create(
                s,
                consultant,
                MemberCreate(
                    club_id=club.id,
                    first_name=first,
                    last_name=last,
                    phone=f"+7916{1_000_000 + i * 37:07d}",
                    email=f"{first.lower()}.{last.lower()}{i}@mail.example"
                    if rng.random() < 0.7
                    else None,
                    birth_date=date(
                        rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28)
                    ),
                    card_number=f"RF-{10_000 + i}",
                    contact_window_start="10:00" if window else None,
                    contact_window_end="20:00" if window else None,
                    interests=rng.sample(people.INTERESTS, rng.randint(1, 3)),
                    personal_dates=[
                        PersonalDateIn(kind=k, date=d, label=label)
                        for k, d, label in rng.sample(people.PERSONAL_DATES, rng.randint(0, 1))
                    ],
                    goals=rng.choice(people.GOALS),
                    notes=rng.choice(people.HANDOFF_NOTES) if rng.random() < 0.6 else None,
                    do_not_contact=dnc,
                    consents=ConsentChoices(
                        calls=not dnc,
                        service_sms=True,
                        marketing_sms=not decline_marketing,
                        marketing_email=not decline_marketing and rng.random() < 0.7,
                    ),
                ),
            )
            habit, term = _profile(rng)
            plan = rng.choice(plans)
            schedules.append(
                await _sell(
                    s,
                    manager,
                    rng,
                    view.member.id,
                    plan,
                    habit,
                    term,
                    today,
                    as_of,
                    sold_by=consultant.staff_id,
                )
            )
            result.habits[habit.value] = result.habits.get(habit.value, 0) + 1
            result.memberships[term.value] = result.memberships.get(term.value, 0) + 1
            result.freezes += term is Term.FROZEN
            if term is Term.ENDING_SOON and schedules[-1].ends > today + timedelta(days=7):
                renewing.append(view.member.id)
        result.members = members

        report = await checkin_service.ingest(
            s,
            _checkins(schedules, club.id, rng, as_of),
            RowContext(as_of=as_of, visible_clubs=None, default_source="turnstile"),
            max_rows=None,
            chunk_rows=CHECKIN_CHUNK_ROWS,
        )
        result.checkins = report.accepted

        # Callers have already booked some of the renewal window into the coming days.
        caller = principals[Role.CALLER][0]
        booked = 0
        for ahead in (1, 2, 3):
            slots = await meeting_service.slots(
                s,
                caller,
                club,
                day=today + timedelta(days=ahead),
                consultant_id=None,
                purpose=MeetingPurpose.RENEWAL,
                as_of=as_of,
            )
            for slot in slots.items[::4][:3]:
                if booked >= len(renewing):
                    break
                await meeting_service.book(
                    s,
                    caller,
                    MeetingCreate(
                        member_id=renewing[booked],
                        club_id=club.id,
                        consultant_id=slot.consultant_id,
                        starts_at=slot.starts_at,
                        purpose=MeetingPurpose.RENEWAL,
                    ),
                    as_of=as_of,
                )
                booked += 1
        result.meetings = booked

        # Today's lapse scan, so the risk list (the callers' list) is there from the start.
        (to_scan,) = await risk_service.clubs_to_scan(s, as_of, club_id=club.id)
        scanned = await risk_service.scan_club(s, to_scan, as_of=as_of)
        result.assessed = scanned.members
        result.risk_levels = {k: v for k, v in scanned.levels.items() if v}

        # Complaints from the desk: two open, one resolved with a week of compensation
        # (whose follow-up call the playbook schedules).
        desk = principals[Role.FRONT_DESK][0]
        complainants = [sch.member_id for sch in schedules if sch.end >= today][-3:]
        for member_id, (category, text, severity) in zip(
            complainants, people.COMPLAINTS, strict=False
        ):
            member = await member_service.get(s, desk, member_id)
            complaint = await complaint_service.open(
                s,
                desk,
                member,
                category=ComplaintCategory(category),
                description=text,
                severity=ComplaintSeverity(severity),
                source=ComplaintSource.DESK,
                as_of=as_of - timedelta(days=5),
                owner_id=manager.staff_id,
            )
            result.complaints += 1
            if category == "equipment":
                await complaint_service.resolve(
                    s,
                    manager,
                    complaint,
                    ComplaintResolve(
                        resolution="The treadmills were repaired the same day; we apologised.",
                        root_cause=RootCause.EQUIPMENT_FAILURE,
                        compensation=Compensation(bonus_days=7),
                    ),
                    as_of=as_of - timedelta(days=3),
                )

    # Today's playbook and call upkeep: the callers' queue for the day.
    await playbook(db, as_of)
    await call_maintenance(db, as_of)
    async with db.sessionmaker() as s:
        rows = await s.execute(
            select(ServiceCall.kind, func.count())
            .where(ServiceCall.club_id == result.club_id, ServiceCall.status.in_(OPEN_VALUES))
            .group_by(ServiceCall.kind)
        )
        result.calls = {kind: int(n) for kind, n in rows}
    return result


def _profile(rng: random.Random) -> tuple[Habit, Term]:
    habit = rng.choices(list(Habit), weights=(60, 25, 15))[0]
    term = rng.choices(list(Term), weights=(45, 20, 15, 8, 12))[0]
    if term is Term.NEW and habit is Habit.LAPSING:
        habit = Habit.STEADY  # one cannot lapse in a membership a week old
    return habit, term


@dataclass
class _Schedule:
    member_id: uuid.UUID
    habit: Habit
    start: date
    end: date  # last day visits may happen (today for live memberships)
    ends: date  # the membership's end date
    frozen: tuple[date, date] | None
    daytime: bool


async def _sell(
    s: AsyncSession,
    manager: Principal,
    rng: random.Random,
    member_id: uuid.UUID,
    plan: Plan,
    habit: Habit,
    term: Term,
    today: date,
    as_of: datetime,
    *,
    sold_by: uuid.UUID | None,
) -> _Schedule:
    months = plan.duration_months
    assert months is not None  # the demo's plans all run in months
    if term is Term.ENDING_SOON:
        start = _months_before(today + timedelta(days=rng.randint(1, 30)), months)
    elif term is Term.EXPIRED:
        start = _months_before(today - timedelta(days=rng.randint(1, 60)), months)
    elif term is Term.NEW:
        start = today - timedelta(days=rng.randint(0, 25))
    else:  # ACTIVE, FROZEN: at least a month in, at least 45 days to go
        end = today + timedelta(days=rng.randint(45, months * 30 - 35))
        start = _months_before(end, months)
    view = await membership_service.create(
        s,
        manager,
        MembershipCreate(
            member_id=member_id, plan_id=plan.id, start_date=start, sold_by_id=sold_by
        ),
        as_of=as_of,
    )
    m = view.membership
    # Sold on its first day (a history, not all "just bought": the days of silence after
    # a purchase would otherwise hold every member's calls).
    m.created_at = min(as_of, local_to_utc(TIMEZONE, start, time(12)))
    frozen = None
    if term is Term.FROZEN:
        first = today - timedelta(days=rng.randint(2, 6))
        last = first + timedelta(days=rng.randint(plan.freeze_min_days, plan.freeze_max_days) - 1)
        await freeze_service.create(
            s,
            manager,
            m,
            FreezeCreate(start_date=first, end_date=last, reason=rng.choice(people.FREEZE_REASONS)),
            as_of=as_of,
        )
        frozen = (first, last)
    return _Schedule(
        member_id=member_id,
        habit=habit,
        start=max(start, today - timedelta(days=365)),
        end=min(m.end_date, today),
        ends=m.end_date,
        frozen=frozen,
        daytime=plan.access_hours is not None,
    )


def _visit_days(sch: _Schedule, today: date, rng: random.Random) -> list[date]:
    span = (sch.end - sch.start).days + 1
    if span <= 0:
        return []
    per_week = rng.uniform(2.0, 4.0)
    days: list[date] = []
    if sch.habit is Habit.SLEEPER:
        return sorted(
            {sch.start + timedelta(days=rng.randint(0, min(20, span - 1))) for _ in range(3)}
        )
    # A lapsing member's visits thin out over six weeks and stop 3-8 weeks before today.
    stop = today - timedelta(days=rng.randint(21, 56))
    for offset in range(span):
        day = sch.start + timedelta(days=offset)
        p = per_week / 7
        if sch.habit is Habit.LAPSING:
            if day > stop:
                break
            left = (stop - day).days
            if left < 42:
                p *= left / 42
        if sch.frozen is not None and sch.frozen[0] <= day <= sch.frozen[1]:
            continue
        if sch.daytime and day.isoweekday() > 5:
            continue
        if rng.random() < p:
            days.append(day)
    return days


async def _checkins(
    schedules: list[_Schedule], club_id: uuid.UUID, rng: random.Random, as_of: datetime
) -> AsyncIterator[list[Item]]:
    today = local_date(TIMEZONE, as_of)
    batch: list[Item] = []
    index = 0
    for sch in schedules:
        # Each member has a usual hour (mornings, lunch or evenings) and keeps to it.
        usual = rng.choice((7, 8, 12, 13, 18, 19, 20)) if not sch.daytime else rng.choice((8, 12))
        for day in _visit_days(sch, today, rng):
            at = time(min(21, max(7, usual + rng.choice((-1, 0, 0, 1)))), rng.randrange(60))
            instant = local_to_utc(TIMEZONE, day, at)
            if instant > as_of:
                continue
            batch.append(
                (
                    index,
                    None,
                    {
                        "club_id": str(club_id),
                        "member_id": str(sch.member_id),
                        "checked_in_at": instant.isoformat(),
                        "source": "turnstile",
                        "device_id": "turnstile-1",
                        "device_event_id": f"demo-{index}",
                    },
                )
            )
            index += 1
            if len(batch) >= CHECKIN_CHUNK_ROWS:
                yield batch
                batch = []
    if batch:
        yield batch
