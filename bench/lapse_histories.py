"""Synthetic attendance histories with a known answer, for the lapse-scan quality harness.

Every generated member has a *kind* (how they really behave) and a *truth*: True when
they belong on the lapse call list today (they stopped, are fading out, or never got
going), False when they do not (steady, a dip that recovers, frozen, new and engaged),
None for sleepers, who are their own case and are scored separately.

The generator is deliberately not built around the score's assumptions: members have
preferred weekdays (more regular than Poisson), take holidays (bursty gaps that look
like lapses to any rule), and rates spread over an order of magnitude.

Pure and deterministic per seed: no database here. `reference_features` recomputes,
in plain Python, what the SQL scan must produce, so tests can compare the two.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.risk.scoring import (
    BASELINE_DAYS,
    EARLY_DAYS,
    EARLY_UNTIL_DAYS,
    RECENT_DAYS,
    SLEEPER_DAYS,
    WINDOW_DAYS,
    MemberFeatures,
)

KINDS: dict[str, float] = {
    "steady": 0.42,
    "stopper": 0.12,
    "decliner": 0.10,
    "seasonal": 0.10,
    "frozen": 0.06,
    "new_engaged": 0.08,
    "new_dropout": 0.05,
    "sleeper": 0.07,
}
TRUTH: dict[str, bool | None] = {
    "steady": False,
    "stopper": True,
    "decliner": True,
    "seasonal": False,
    "frozen": False,
    "new_engaged": False,
    "new_dropout": True,
    "sleeper": None,
}
SIMULATED_DAYS = 230  # a little more than the scan window, so the window starts mid-life


@dataclass
class SyntheticMember:
    index: int
    kind: str
    truth: bool | None
    rate_per_week: float
    tenure_start: date
    membership_start: date
    end_date: date
    visits: list[datetime] = field(default_factory=list)  # UTC instants, ascending
    freezes: list[tuple[date, date]] = field(default_factory=list)


def _rate(rng: random.Random) -> float:
    # Median ~1.8 visits/week, from ~0.4 (twice a month) to ~6.
    return min(6.0, max(0.35, math.exp(rng.gauss(math.log(1.8), 0.55))))


def _weekday_weights(rng: random.Random, rate: float) -> list[float]:
    """Most people have their days: k preferred weekdays get most of the visits."""
    k = min(7, max(1, round(rate)))
    preferred = set(rng.sample(range(7), k))
    regularity = rng.uniform(0.3, 0.8)
    raw = [1.0 + regularity * 6 / k if d in preferred else 1.0 - regularity for d in range(7)]
    mean = sum(raw) / 7
    return [w / mean for w in raw]


def _holidays(rng: random.Random, first: date, last: date) -> list[tuple[date, date]]:
    out = []
    span = (last - first).days
    for _ in range(_poisson(rng, 1.2)):
        start = first + timedelta(days=rng.randrange(max(1, span)))
        out.append((start, start + timedelta(days=rng.randint(4, 12))))
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    k, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _inside(day: date, spans: Sequence[tuple[date, date]]) -> bool:
    return any(a <= day <= b for a, b in spans)


def generate(n: int, *, seed: int, today: date, tz: str = "Europe/Moscow") -> list[SyntheticMember]:
    """`n` members of one club as of the start of `today` (club-local): visits up to
    the end of yesterday."""
    rng = random.Random(seed)
    zone = ZoneInfo(tz)
    kinds = list(KINDS)
    weights = [KINDS[k] for k in kinds]
    sim_first = today - timedelta(days=SIMULATED_DAYS)
    out = []
    for i in range(n):
        kind = rng.choices(kinds, weights)[0]
        rate = _rate(rng)
        if kind.startswith("new_"):
            low, high = (22, 63) if kind == "new_dropout" else (1, 84)
            tenure_start = today - timedelta(days=rng.randint(low, high))
        elif kind == "sleeper":
            tenure_start = today - timedelta(days=rng.randint(140, 700))
        else:
            tenure_start = today - timedelta(days=rng.randint(100, 700))
        # Yearly memberships renewed back to back: the live one covers today.
        years = (today - tenure_start).days // 365
        membership_start = tenure_start + timedelta(days=365 * years)
        end_date = membership_start + timedelta(days=364)
        m = SyntheticMember(i, kind, TRUTH[kind], rate, tenure_start, membership_start, end_date)

        multiplier = _pattern(rng, kind, today, m)
        dow = _weekday_weights(rng, rate)
        breaks = _holidays(rng, sim_first, today)
        first = max(sim_first, tenure_start)
        for offset in range((today - first).days):
            day = first + timedelta(days=offset)
            if _inside(day, m.freezes) or _inside(day, breaks):
                continue
            p = min(0.95, rate / 7.0 * dow[day.weekday()] * multiplier(day))
            if rng.random() < p:
                at = time(rng.randint(7, 21), rng.randrange(60))
                m.visits.append(datetime.combine(day, at, zone).astimezone(UTC))
        if kind == "new_dropout":
            _dropout_visits(rng, m, zone)
        out.append(m)
    return out


def _pattern(rng: random.Random, kind: str, today: date, m: SyntheticMember) -> _Multiplier:
    if kind == "stopper":
        return _Multiplier(stop=today - timedelta(days=rng.randint(5, 42)))
    if kind == "decliner":
        start = today - timedelta(days=rng.randint(28, 70))
        return _Multiplier(decline=(start, rng.randint(35, 70)))
    if kind == "seasonal":
        end = today + timedelta(days=rng.randint(-60, 10))
        start = end - timedelta(days=rng.randint(14, 35))
        return _Multiplier(dip=(start, end, rng.uniform(0.15, 0.4)))
    if kind == "frozen":
        length = rng.randint(14, 30)
        if rng.random() < 0.5:  # frozen now
            start = today - timedelta(days=rng.randint(1, length - 1))
        else:  # back from a freeze within the last 10 days
            start = today - timedelta(days=length + rng.randint(0, 9))
        m.freezes.append((start, start + timedelta(days=length - 1)))
        return _Multiplier()
    if kind == "sleeper":
        return _Multiplier(stop=today - timedelta(days=rng.randint(60, 120)), residual=0.03)
    return _Multiplier()


@dataclass(frozen=True)
class _Multiplier:
    stop: date | None = None
    residual: float = 0.0
    decline: tuple[date, int] | None = None
    dip: tuple[date, date, float] | None = None

    def __call__(self, day: date) -> float:
        if self.stop is not None and day >= self.stop:
            return self.residual
        if self.decline is not None and day >= self.decline[0]:
            return max(0.0, 1.0 - (day - self.decline[0]).days / self.decline[1])
        if self.dip is not None and self.dip[0] <= day <= self.dip[1]:
            return self.dip[2]
        return 1.0


def _dropout_visits(rng: random.Random, m: SyntheticMember, zone: ZoneInfo) -> None:
    """Never got going: 0-2 visits in the first 3 weeks, then almost nothing."""
    m.visits.clear()
    days = rng.sample(range(EARLY_DAYS), rng.choice([0, 1, 1, 2]))
    for d in sorted(days):
        day = m.tenure_start + timedelta(days=d)
        m.visits.append(datetime.combine(day, time(rng.randint(7, 21)), zone).astimezone(UTC))


def local_days(m: SyntheticMember, tz: str) -> list[date]:
    zone = ZoneInfo(tz)
    return [v.astimezone(zone).date() for v in m.visits]


def reference_features(
    m: SyntheticMember, *, today: date, tz: str, as_of: datetime | None = None
) -> MemberFeatures:
    """What the SQL scan must compute for `m`, recomputed naively in Python."""
    zone = ZoneInfo(tz)
    cutoff = as_of or datetime.combine(today, time(0), zone)
    window_first = today - timedelta(days=WINDOW_DAYS - 1)
    days = [v.astimezone(zone).date() for v in m.visits if v < cutoff]
    days = [d for d in days if d >= window_first]

    def count(first: date, last: date) -> int:
        return sum(1 for d in days if first <= d <= last)

    recent_first = today - timedelta(days=RECENT_DAYS - 1)
    early: int | None = None
    if (today - m.tenure_start).days < EARLY_UNTIL_DAYS:
        early = count(m.tenure_start, m.tenure_start + timedelta(days=EARLY_DAYS - 1))
    return MemberFeatures(
        today=today,
        tenure_start=m.tenure_start,
        end_date=m.end_date,
        last_visit=max(days) if days else None,
        visits_window=len(days),
        visits_recent=count(recent_first, today),
        visits_baseline=count(
            recent_first - timedelta(days=BASELINE_DAYS), recent_first - timedelta(days=1)
        ),
        visits_8_weeks=count(today - timedelta(days=SLEEPER_DAYS - 1), today),
        visits_early=early,
        frozen=tuple((a, b) for a, b in m.freezes if b >= window_first and a <= today),
        frozen_now=any(a <= today <= b for a, b in m.freezes),
    )
