"""Synthetic chain data with realistic visit habits, as plain records ready for COPY.

Pure Python and deterministic for a seed: no database, no clock (everything is relative
to `as_of`). The loader (`bench.load_data`) streams the records into PostgreSQL with
`copy_records_to_table`; the smoke test checks them in memory.

Habits (each member gets one, with its own weekly rate, weekday preference and hour):

- `steady`: visits at their own rate all year;
- `stopper`: stops coming on a day in the last ~4 months (still holds a live membership:
  the members the lapse scan must find);
- `decliner`: the rate falls to 10-30% of the habit over the last 4-12 weeks;
- `freezer`: a 14-45 day freeze inside the year (no visits while frozen; the
  membership's end moves by the frozen days), some still frozen today;
- `newcomer`: joined in the last 90 days; a third of them hardly start.

Everyone's rate dips in summer and over the new-year holidays and rises in January.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

TIMEZONES = ("Europe/Moscow", "Europe/London", "America/New_York", "Asia/Yekaterinburg")
WEEKLY_RATES = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0)
RATE_WEIGHTS = (0.10, 0.12, 0.18, 0.22, 0.18, 0.12, 0.08)
HISTORY_DAYS = 365


class Habit(StrEnum):
    STEADY = "steady"
    STOPPER = "stopper"
    DECLINER = "decliner"
    FREEZER = "freezer"
    NEWCOMER = "newcomer"


HABIT_WEIGHTS: dict[Habit, float] = {
    Habit.STEADY: 0.60,
    Habit.STOPPER: 0.10,
    Habit.DECLINER: 0.10,
    Habit.FREEZER: 0.08,
    Habit.NEWCOMER: 0.12,
}


@dataclass(frozen=True)
class Scale:
    name: str
    members: int
    members_per_club: int = 5_000

    @property
    def clubs(self) -> int:
        return max(1, math.ceil(self.members / self.members_per_club))

    def tenth(self) -> Scale:
        """The same chain shape with a tenth of the members (the memory comparison)."""
        return Scale(f"{self.name}/10", max(1, self.members // 10), self.members_per_club // 10)


QUICK = Scale("quick", 10_000)
FULL = Scale("full", 100_000)


@dataclass(frozen=True)
class ClubSpec:
    id: uuid.UUID
    name: str
    timezone: str
    plan_ids: tuple[uuid.UUID, uuid.UUID]  # 12-month, 6-month


@dataclass
class MemberSpec:
    id: uuid.UUID
    club: ClubSpec
    card_number: str
    habit: Habit
    weekly_rate: float
    join_date: date
    weekday_weights: tuple[float, ...]
    hour: float
    stop_date: date | None = None
    decline_from: date | None = None
    decline_to: float = 1.0
    freeze: tuple[date, date] | None = None
    plan_months: int = 12
    memberships: list[tuple[uuid.UUID, date, date, date, int]] = field(default_factory=list)
    """(id, start, base_end, end, frozen_days), oldest first."""

    def factor(self, day: date, as_of: date) -> float:
        """The member's own multiplier on their habit for `day` (0 = no visit possible)."""
        if day < self.join_date:
            return 0.0
        if self.stop_date is not None and day >= self.stop_date:
            return 0.0
        if self.freeze is not None and self.freeze[0] <= day <= self.freeze[1]:
            return 0.0
        if self.decline_from is not None and day >= self.decline_from:
            span = max(1, (as_of - self.decline_from).days)
            done = (day - self.decline_from).days / span
            return 1.0 - (1.0 - self.decline_to) * done
        return 1.0


def seasonal(day: date) -> float:
    """Chain-wide seasonality: summer and holiday dips, the January resolution boost."""
    md = (day.month, day.day)
    if md >= (12, 24) or md <= (1, 7):
        return 0.4
    if (1, 8) <= md <= (2, 28):
        return 1.2
    if (6, 15) <= md <= (8, 31):
        return 0.75
    return 1.0


SEASONAL_MAX = 1.2


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass
class Chain:
    as_of: datetime
    clubs: list[ClubSpec]
    members: list[MemberSpec]
    seed: int

    @property
    def as_of_date(self) -> date:
        return self.as_of.date()


def build_chain(scale: Scale, as_of: datetime, seed: int = 11) -> Chain:
    """Clubs, plans, members and their membership chains (no check-ins yet)."""
    rng = random.Random(seed)
    today = as_of.date()
    clubs = [
        ClubSpec(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            name=f"Bench Club {i + 1}",
            timezone=TIMEZONES[i % len(TIMEZONES)],
            plan_ids=(
                uuid.UUID(int=rng.getrandbits(128), version=4),
                uuid.UUID(int=rng.getrandbits(128), version=4),
            ),
        )
        for i in range(scale.clubs)
    ]
    habits = list(HABIT_WEIGHTS)
    habit_weights = list(HABIT_WEIGHTS.values())
    members: list[MemberSpec] = []
    for i in range(scale.members):
        club = clubs[i % len(clubs)]
        habit = rng.choices(habits, habit_weights)[0]
        rate = rng.choices(WEEKLY_RATES, RATE_WEIGHTS)[0]
        if habit is Habit.NEWCOMER:
            join = today - timedelta(days=rng.randint(1, 90))
            if rng.random() < 1 / 3:
                rate = 0.5  # hardly starts: the "1 visit in the first 3 weeks" case
        else:
            join = today - timedelta(days=rng.randint(120, 3 * 365))
        # Weekday preference: two or three favourite days carry most of the visits.
        favourites = set(rng.sample(range(7), rng.randint(2, 3)))
        raw = [3.0 if d in favourites else 1.0 for d in range(7)]
        total = sum(raw)
        m = MemberSpec(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            club=club,
            card_number=f"{i + 1:010d}",
            habit=habit,
            weekly_rate=rate,
            join_date=join,
            weekday_weights=tuple(7 * w / total for w in raw),
            hour=rng.choice((7.0, 8.5, 12.5, 18.0, 19.5, 20.5)) + rng.random(),
            plan_months=rng.choice((12, 12, 6)),
        )
        if habit is Habit.STOPPER:
            m.stop_date = today - timedelta(days=rng.randint(10, 120))
        elif habit is Habit.DECLINER:
            m.decline_from = today - timedelta(days=rng.randint(28, 84))
            m.decline_to = rng.uniform(0.1, 0.3)
        elif habit is Habit.FREEZER:
            earliest = max((today - join).days, 20)
            start = today - timedelta(days=rng.randint(20, min(300, earliest)))
            m.freeze = (start, start + timedelta(days=rng.randint(14, 45) - 1))
        _membership_chain(m, today, rng)
        members.append(m)
    return Chain(as_of=as_of, clubs=clubs, members=members, seed=seed)


def _membership_chain(m: MemberSpec, today: date, rng: random.Random) -> None:
    """Consecutive terms from the join date until one covers today (freezes push ends)."""
    start = m.join_date
    while True:
        base_end = add_months(start, m.plan_months) - timedelta(days=1)
        frozen = 0
        if m.freeze is not None and start <= m.freeze[0] <= base_end:
            frozen = (m.freeze[1] - m.freeze[0]).days + 1
        end = base_end + timedelta(days=frozen)
        m.memberships.append(
            (uuid.UUID(int=rng.getrandbits(128), version=4), start, base_end, end, frozen)
        )
        if end >= today:
            return
        start = end + timedelta(days=1)


def expected_weekly_visits(m: MemberSpec, day: date, as_of: date) -> float:
    """The generating rate on `day` (visits per week): the known answer for the scan."""
    return m.weekly_rate * seasonal(day) * m.factor(day, as_of)


CHECKIN_COLUMNS = (
    "club_id",
    "member_id",
    "checked_in_at",
    "source",
    "device_id",
    "device_event_id",
    "created_at",
)
CheckinRecord = tuple[uuid.UUID, uuid.UUID, datetime, str, str, str, datetime]


def checkins(
    chain: Chain, *, chunk: int = 50_000, days: int = HISTORY_DAYS
) -> Iterator[list[CheckinRecord]]:
    """A year of visits for every member, in chunks of about `chunk` records.

    Visits are a thinned Poisson process per member: candidate gaps at the member's
    highest possible rate, each kept with probability (rate on that day / highest rate),
    so the number of random draws follows the number of visits, not members x days.
    Instants are the member's habitual hour (+-1 h) in the club's local time.
    """
    rng = random.Random(chain.seed * 7919 + 1)
    as_of_date = chain.as_of_date
    first_day = as_of_date - timedelta(days=days)
    latest = chain.as_of - timedelta(minutes=30)
    # UTC instant of each local midnight, per club: one zoneinfo conversion per club-day.
    midnights: dict[uuid.UUID, list[datetime]] = {}
    for club in chain.clubs:
        tz = ZoneInfo(club.timezone)
        midnights[club.id] = [
            datetime.combine(first_day + timedelta(days=k), time(), tz).astimezone(UTC)
            for k in range(days + 1)
        ]
    counters = dict.fromkeys(midnights, 0)
    # Per-day tables so the inner loop does list lookups, not date arithmetic.
    day_dates = [first_day + timedelta(days=k) for k in range(days + 1)]
    season = [seasonal(d) for d in day_dates]
    weekday = [d.weekday() for d in day_dates]
    never = days + 1
    random_, expo = rng.random, rng.expovariate
    out: list[CheckinRecord] = []
    for m in chain.members:
        start_k = max(0, (m.join_date - first_day).days)
        stop_k = never if m.stop_date is None else (m.stop_date - first_day).days
        fz0, fz1 = (
            (never, never)
            if m.freeze is None
            else (
                (m.freeze[0] - first_day).days,
                (m.freeze[1] - first_day).days,
            )
        )
        dk = never if m.decline_from is None else (m.decline_from - first_day).days
        span = max(1, days - dk)
        drop = 1.0 - m.decline_to
        ww = m.weekday_weights
        cap = SEASONAL_MAX * max(ww)
        top = m.weekly_rate / 7 * cap
        mid = midnights[m.club.id]
        club_id, member_id = m.club.id, m.id
        device = f"gate-{m.card_number[-1]}"
        hour, n = m.hour, counters[club_id]
        t = start_k + expo(top)
        limit = min(days, stop_k)
        while t < limit:
            k = int(t)
            p = season[k] * ww[weekday[k]]
            if fz0 <= k <= fz1:
                p = 0.0
            elif k >= dk:
                p *= 1.0 - drop * (k - dk) / span
            if random_() * cap < p:
                h = min(22.5, max(6.5, rng.gauss(hour, 0.75)))
                at = mid[k] + timedelta(seconds=int(h * 3600))
                if at <= latest:
                    n += 1
                    out.append((club_id, member_id, at, "turnstile", device, f"g{n}", at))
                # One visit a day at most: the next candidate starts tomorrow.
                t = k + 1 + expo(top)
            else:
                t += expo(top)
        counters[club_id] = n
        if len(out) >= chunk:
            yield out
            out = []
    if out:
        yield out


# --- rows for the other tables (column order = the tuples' order) --------------------

CLUB_COLUMNS = (
    "id",
    "name",
    "timezone",
    "currency",
    "opening_hours",
    "quiet_hours_start",
    "quiet_hours_end",
    "contact_policy",
    "meeting_settings",
    "freeze_ends_on_visit",
    "active",
    "created_at",
    "updated_at",
)
PLAN_COLUMNS = (
    "id",
    "club_id",
    "name",
    "duration_months",
    "price",
    "currency",
    "freeze_max_count",
    "freeze_min_days",
    "freeze_max_days",
    "freeze_max_total_days",
    "freeze_fee",
    "renewal_target_ids",
    "active",
    "created_at",
    "updated_at",
)
MEMBER_COLUMNS = (
    "id",
    "club_id",
    "first_name",
    "last_name",
    "phone",
    "email",
    "birth_date",
    "card_number",
    "preferred_channel",
    "interests",
    "personal_dates",
    "do_not_contact",
    "created_at",
    "updated_at",
)
MEMBERSHIP_COLUMNS = (
    "id",
    "club_id",
    "member_id",
    "plan_id",
    "start_date",
    "base_end_date",
    "end_date",
    "frozen_days",
    "bonus_days",
    "list_price",
    "price_paid",
    "currency",
    "source",
    "renews_id",
    "version",
    "created_at",
    "updated_at",
)
FREEZE_COLUMNS = (
    "id",
    "club_id",
    "membership_id",
    "start_date",
    "end_date",
    "reason",
    "fee",
    "started_event_at",
    "ended_event_at",
    "version",
    "created_at",
    "updated_at",
)

PRICES = {12: 3_500_000, 6: 2_000_000}
FIRST_NAMES = ("Anna", "Boris", "Chen", "Dana", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jon")
LAST_NAMES = ("Ivanova", "Smith", "Garcia", "Okafor", "Novak", "Tanaka", "Silva", "Kowalski")


def club_rows(chain: Chain) -> list[tuple[object, ...]]:
    now = chain.as_of
    return [
        (
            c.id,
            c.name,
            c.timezone,
            "RUB",
            "{}",
            time(9),
            time(21),
            "{}",
            "{}",
            False,
            True,
            now,
            now,
        )
        for c in chain.clubs
    ]


def plan_rows(chain: Chain) -> list[tuple[object, ...]]:
    now = chain.as_of
    rows: list[tuple[object, ...]] = []
    for c in chain.clubs:
        ids = [str(p) for p in c.plan_ids]
        for plan_id, months in zip(c.plan_ids, (12, 6), strict=True):
            rows.append(
                (
                    plan_id,
                    c.id,
                    f"{months}-month unlimited",
                    months,
                    PRICES[months],
                    "RUB",
                    2,
                    7,
                    45,
                    60,
                    0,
                    json.dumps(ids),
                    True,
                    now,
                    now,
                )
            )
    return rows


def member_rows(chain: Chain) -> list[tuple[object, ...]]:
    rng = random.Random(chain.seed * 31 + 7)
    rows: list[tuple[object, ...]] = []
    for i, m in enumerate(chain.members):
        created = datetime.combine(m.join_date, time(12), UTC)
        rows.append(
            (
                m.id,
                m.club.id,
                FIRST_NAMES[i % len(FIRST_NAMES)],
                LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)],
                f"+4420{i:08d}",
                f"member{i}@example.org",
                date(1960, 1, 1) + timedelta(days=rng.randint(0, 16_000)),
                m.card_number,
                "call",
                json.dumps(rng.sample(["gym", "pool", "group_classes", "martial_arts"], 2)),
                "[]",
                rng.random() < 0.03,
                created,
                created,
            )
        )
    return rows


def membership_rows(chain: Chain) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for m in chain.members:
        plan_id = m.club.plan_ids[0 if m.plan_months == 12 else 1]
        previous: uuid.UUID | None = None
        for ms_id, start, base_end, end, frozen in m.memberships:
            created = datetime.combine(start, time(10), UTC)
            price = PRICES[m.plan_months]
            rows.append(
                (
                    ms_id,
                    m.club.id,
                    m.id,
                    plan_id,
                    start,
                    base_end,
                    end,
                    frozen,
                    0,
                    price,
                    price,
                    "RUB",
                    "new" if previous is None else "renewal",
                    previous,
                    1,
                    created,
                    created,
                )
            )
            previous = ms_id
    return rows


def freeze_rows(chain: Chain) -> list[tuple[object, ...]]:
    rng = random.Random(chain.seed * 17 + 3)
    rows: list[tuple[object, ...]] = []
    for m in chain.members:
        if m.freeze is None:
            continue
        start, end = m.freeze
        ms_id = next(ms[0] for ms in m.memberships if ms[1] <= start <= ms[3])
        created = datetime.combine(start - timedelta(days=1), time(10), UTC)
        started = datetime.combine(start, time(0, 5), UTC)
        ended = datetime.combine(end + timedelta(days=1), time(0, 5), UTC)
        today = chain.as_of_date
        rows.append(
            (
                uuid.UUID(int=rng.getrandbits(128), version=4),
                m.club.id,
                ms_id,
                start,
                end,
                "travel",
                0,
                started if start <= today else None,
                ended if end < today else None,
                1,
                created,
                created,
            )
        )
    return rows
