"""Lapse risk: the score, the level and the reasons, as pure functions.

Members rarely cancel; they stop coming. A fixed "no visit for 14 days" rule calls the
once-a-fortnight member every other week and misses the daily member who vanished nine
days ago. Here every member is judged against their *own* habit, and every flag comes
with the numbers behind it. See docs/lapse-detection.md for the full design and the
measured quality.

Inputs are one `MemberFeatures` row per member with a live membership, built by the
set-based scan (repository) in club-local calendar days. Everything below is
arithmetic on those rows; no I/O.

The model, in one paragraph
---------------------------
Visits are treated as a Poisson process at the member's *usual rate*. The rate is
estimated empirical-Bayes style: a Gamma prior worth `PRIOR_DAYS` (28) days of history
at the club's median rate, updated with the member's own visits and exposure (days
with a live, unfrozen membership), so a member with two weeks of history is judged
mostly by the club's norm and a member with six months by their own. Three tests
then measure *evidence* in the same unit, -ln(p) ("how surprising is this, in nats"):

- **gap**: p = P(no visit in g days) = exp(-rate * g / 7). The evidence is simply
  rate * g / 7, the number of visits the member would usually have made in the gap.
  p < 5% (evidence >= 3) is the strong signal: ~14 days at 1.5 visits/week, ~21 days at
  1/week, ~7 days at 3/week.
- **drop**: visits in the last 4 weeks against the member's baseline (the 8 weeks
  before, or whatever tenure there is): p = P(X <= recent | Poisson(baseline rate *
  recent exposure)).
- **early**: visits in the first 3 weeks of tenure against 3/4 of the club median
  (new members need not match regulars, but 0-1 visits is the classic early
  drop-out): p = P(X <= early | Poisson(0.75 * median * 21 days)), only while the
  member is 3 weeks to 13 weeks in and has not caught up since.

The tests overlap (a member who stopped shows both a gap and a drop), so they are not
added up: attendance evidence = the strongest one + 1/4 of the others. The end of the
term with no renewal adds `TERM_EVIDENCE_30` / `TERM_EVIDENCE_14` (1.0 / 1.7) on top.
The score is `100 * (1 - exp(-evidence / SCORE_SCALE))`, with `SCORE_SCALE` chosen so
that the 5% gap (evidence 3) lands exactly on 60.

A member's **visit plan** (agreed at onboarding: the days a week they mean to come) is
the yardstick for 13 weeks after it was agreed. It is their baseline before they have a
history (the usual rate is shrunk towards the plan instead of the club median), and a
fourth test, **plan**, compares the last 2 weeks with it: p = P(X <= visits | Poisson(
planned rate * exposure)), speaking only when at most half the planned visits were made
("planned 3 visits a week, made 1 in the last 2 weeks").

Levels: `ok` < 40 <= `watch` < 60 <= `at_risk`; `lapsed` when the gap alone is below
0.1% and at least 3 weeks long, or for a sleeper (at most 1 visit in the last 8 unfrozen
weeks; score capped at 50 so sleepers sit below everyone at risk now).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from statistics import median

# --- windows (club-local days; `today` is day 0 and counts as observed) ----------------
WINDOW_DAYS = 182  # 26 weeks of check-ins are read; nothing older
RECENT_DAYS = 28  # "the last 4 weeks"
BASELINE_DAYS = 56  # "the previous 8 weeks"
EARLY_DAYS = 21  # "the first 3 weeks" of tenure
EARLY_UNTIL_DAYS = 91  # the early-tenure test applies from day 21 to day 90 (13 weeks)
NEW_MEMBER_DAYS = 14  # onboarding owns the first 14 days
SLEEPER_DAYS = 56  # "almost never came in the last 8 weeks"
SLEEPER_MAX_VISITS = 1
TERM_WATCH_DAYS = 30  # term ends within 30 days, no renewal
PLAN_DAYS = 14  # "the last 2 weeks" against the visit plan
PLAN_FRESH_DAYS = 91  # a visit plan is the yardstick for 13 weeks after it was agreed
PLAN_MIN_EXPOSURE_DAYS = 7  # the plan test needs a week the member could have come
PLAN_MAX_SHARE = 0.5  # ... and speaks when at most half the planned visits were made

# --- the model ------------------------------------------------------------------------
PRIOR_DAYS = 28.0  # weight of the club median in the usual-rate estimate, in days
DEFAULT_RATE_PER_WEEK = 1.5  # the club prior when fewer than PRIOR_MIN_MEMBERS qualify
PRIOR_MIN_MEMBERS = 20
PRIOR_MIN_EXPOSURE_DAYS = 28  # a member's rate enters the club median after 4 weeks
EARLY_TARGET_SHARE = 0.75  # early tenure is judged against 3/4 of the club median
MIN_DROP_EXPOSURE_DAYS = 14  # both windows need two unfrozen weeks for a drop test
OTHER_EVIDENCE_WEIGHT = 0.25
TERM_EVIDENCE_30 = 1.0  # term ends within 30 days, no renewal
TERM_EVIDENCE_14 = 1.7  # ... within 14 days (alone: `watch`)

# --- score and levels -----------------------------------------------------------------
# Evidence 3 (the 5% gap) maps to score 60: 1 - exp(-3 / s) = 0.6.
SCORE_SCALE = 3.0 / math.log(2.5)
WATCH_SCORE = 40  # evidence >= ~1.67: p <= ~0.19, worth a look
AT_RISK_SCORE = 60  # evidence >= 3: p <= 0.05, call them
LAPSED_GAP_EVIDENCE = -math.log(0.001)  # P(gap) < 0.1%: they have stopped
LAPSED_MIN_GAP_DAYS = 21
SLEEPER_SCORE_CAP = 50  # sleepers are listed, below everyone who is at risk now
MAX_REASONS = 3
REASON_MIN_EVIDENCE = 1.0  # p <= ~0.37: below that a test has nothing to say


class Level(StrEnum):
    OK = "ok"
    WATCH = "watch"
    AT_RISK = "at_risk"
    LAPSED = "lapsed"


LEVEL_RANK = {Level.OK: 0, Level.WATCH: 1, Level.AT_RISK: 2, Level.LAPSED: 3}


class Segment(StrEnum):
    ACTIVE = "active"  # judged against their habit; the call list
    SLEEPER = "sleeper"  # pays, almost never comes: a win-back case, not a lapse call


class Suppression(StrEnum):
    """Why a scored member is not on the call list (most important first)."""

    DO_NOT_CONTACT = "do_not_contact"
    FROZEN = "frozen"  # the post-freeze check takes over
    RENEWED = "renewed"
    RENEWAL_BOOKED = "renewal_booked"
    NEW_MEMBER = "new_member"  # onboarding owns the first days


@dataclass(frozen=True, slots=True)
class MemberFeatures:
    """What the scan knows about one member with a live membership, in local days."""

    today: date
    tenure_start: date  # start of the member's current run of memberships
    end_date: date  # last day of the live membership (inclusive)
    last_visit: date | None  # local date of the last visit in the window, if any
    visits_window: int  # visits in the 26-week window, up to the scan instant
    visits_recent: int  # visits in the last 4 weeks (today - 27 .. today)
    visits_baseline: int  # visits in the 8 weeks before (today - 83 .. today - 28)
    visits_8_weeks: int  # visits in the last 8 weeks (today - 55 .. today)
    visits_early: int | None  # visits in the first 3 weeks of tenure, when known
    frozen: tuple[tuple[date, date], ...] = ()  # live freezes touching the window
    frozen_now: bool = False
    do_not_contact: bool = False
    renewed: bool = False
    renewal_booked: bool = False
    visits_2_weeks: int = 0  # visits in the last 2 weeks (today - 13 .. today)
    planned_per_week: int | None = None  # days a week in the member's visit plan
    plan_since: date | None = None  # local date the visit plan was last saved
    # Derived once in __post_init__: a scan scores every member, and these were
    # recomputed dozens of times per member (exposure() is called for every window).
    _window_start: date = field(init=False, repr=False, compare=False)
    _history_start: date = field(init=False, repr=False, compare=False)
    _gap_days: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        window_start = self.today - timedelta(days=WINDOW_DAYS - 1)
        object.__setattr__(self, "_window_start", window_start)
        object.__setattr__(self, "_history_start", max(window_start, self.tenure_start))
        if self.last_visit is None:
            # No visit at all: the first day of the history counts as missed too.
            gap = self.exposure(self._history_start, self.today)
        else:
            gap = self.exposure(self.last_visit + timedelta(days=1), self.today)
        object.__setattr__(self, "_gap_days", gap)

    @property
    def window_start(self) -> date:
        return self._window_start

    @property
    def history_start(self) -> date:
        """First day that counts: the window start or the tenure start, if later."""
        return self._history_start

    @property
    def fresh_plan(self) -> int | None:
        """Planned visits a week while the plan is the yardstick (13 weeks after it was
        agreed), else None."""
        if not self.planned_per_week or self.plan_since is None:
            return None
        if not 0 <= (self.today - self.plan_since).days < PLAN_FRESH_DAYS:
            return None
        return self.planned_per_week

    @property
    def tenure_days(self) -> int:
        """Whole days since the tenure started (0 on the first day)."""
        return (self.today - self.tenure_start).days

    @property
    def days_to_end(self) -> int:
        return (self.end_date - self.today).days

    def frozen_days(self, first: date, last: date) -> int:
        """Days in [first, last] covered by a freeze."""
        total = 0
        for start, end in self.frozen:
            lo, hi = max(first, start), min(last, end)
            if hi >= lo:
                total += (hi - lo).days + 1
        return total

    def exposure(self, first: date, last: date) -> int:
        """Days in [first, last] on which the member could have come: inside the tenure
        and the window, and not frozen."""
        if first < self._history_start:
            first = self._history_start
        if last > self.today:
            last = self.today
        if last < first:
            return 0
        days = (last - first).days + 1
        return days - self.frozen_days(first, last) if self.frozen else days

    @property
    def gap_days(self) -> int:
        """Days without a visit, not counting frozen days: since the last visit, or
        since the history started when there was no visit in it."""
        return self._gap_days

    @property
    def window_rate_per_week(self) -> float | None:
        """Raw rate over the whole window (for the club median), None if too short."""
        days = self.exposure(self.window_start, self.today)
        if days < PRIOR_MIN_EXPOSURE_DAYS:
            return None
        return 7.0 * self.visits_window / days


@dataclass(frozen=True, slots=True)
class ClubPrior:
    """The club's norm, the prior every member's rate is shrunk towards."""

    median_per_week: float
    members: int  # how many members the median was taken over (0: the default)

    @property
    def per_day(self) -> float:
        return self.median_per_week / 7.0


def club_prior(rates_per_week: Iterable[float | None]) -> ClubPrior:
    """Median weekly rate over members with at least 4 unfrozen weeks in the window;
    `DEFAULT_RATE_PER_WEEK` when too few qualify. A floor keeps the prior meaningful
    in a club of sleepers."""
    rates = [r for r in rates_per_week if r is not None]
    if len(rates) < PRIOR_MIN_MEMBERS:
        return ClubPrior(DEFAULT_RATE_PER_WEEK, 0)
    return ClubPrior(max(median(rates), 0.25), len(rates))


def shrunk_rate_per_day(visits: int, days: int, prior: ClubPrior) -> float:
    """Posterior mean of a Gamma-Poisson rate: `PRIOR_DAYS` of pseudo-history at the
    club median, plus the member's own `visits` in `days` of exposure."""
    return (visits + prior.per_day * PRIOR_DAYS) / (days + PRIOR_DAYS)


def poisson_log_cdf(k: int, mu: float) -> float:
    """ln P(X <= k) for X ~ Poisson(mu), stable for large mu (log-sum-exp)."""
    if k < 0:
        return -math.inf
    if mu <= 0:
        return 0.0
    log_mu = math.log(mu)
    terms = [i * log_mu - mu - math.lgamma(i + 1) for i in range(k + 1)]
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


def shortfall_evidence(observed: int, expected: float) -> float:
    """-ln P(X <= observed) when fewer visits than expected were seen, else 0."""
    if observed >= expected:
        return 0.0
    return max(0.0, -poisson_log_cdf(observed, expected))


@dataclass(frozen=True, slots=True)
class Signal:
    kind: str  # gap | drop | early | plan | term | sleeper
    evidence: float
    reason: str


@dataclass(frozen=True, slots=True)
class Assessment:
    score: int
    level: Level
    segment: Segment
    suppressed: Suppression | None
    reasons: list[str]
    evidence: float
    usual_visits_per_week: float
    gap_days: int
    p_gap: float
    signals: list[Signal] = field(default_factory=list)


# --- the three attendance tests ---------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def usual_interval_phrase(rate_per_week: float) -> str:
    """'usually every 3 days', 'usually once a week', 'usually every 3 weeks'."""
    if rate_per_week >= 5.0:
        return "usually almost every day"
    days = 7.0 / max(rate_per_week, 1e-9)
    if days < 6.5:
        return f"usually every {max(2, round(days))} days"
    if days < 10.5:
        return "usually once a week"
    weeks = round(days / 7.0)
    if weeks > 8:
        return "usually rarely"
    return f"usually every {weeks} weeks"


def _gap_signal(
    f: MemberFeatures, rate_day: float, basis: str | None = None
) -> tuple[Signal, float]:
    gap = f.gap_days
    evidence = rate_day * gap  # -ln exp(-rate * g)
    p = math.exp(-evidence)
    if f.last_visit is None:
        if f.history_start == f.tenure_start:
            ago = "today" if f.tenure_days == 0 else f"{_plural(f.tenure_days, 'day')} ago"
            head = f"no visit since joining {ago}"
        else:
            head = f"no visit in the last {WINDOW_DAYS // 7} weeks"
    else:
        head = f"no visit for {_plural(gap, 'day')}"
        frozen = f.frozen_days(f.last_visit + timedelta(days=1), f.today)
        if frozen:
            head += f" (not counting {frozen} frozen)"
    reason = f"{head}; {basis or usual_interval_phrase(7.0 * rate_day)}"
    return Signal("gap", evidence, reason), p


def _drop_signal(f: MemberFeatures, prior: ClubPrior) -> Signal | None:
    recent_first = f.today - timedelta(days=RECENT_DAYS - 1)
    base_first = recent_first - timedelta(days=BASELINE_DAYS)
    base_last = recent_first - timedelta(days=1)
    recent_days = f.exposure(recent_first, f.today)
    base_days = f.exposure(base_first, base_last)
    if recent_days < MIN_DROP_EXPOSURE_DAYS or base_days < MIN_DROP_EXPOSURE_DAYS:
        return None
    if f.visits_baseline == 0:
        return None  # nothing to drop from; the gap test speaks for them
    base_rate = shrunk_rate_per_day(f.visits_baseline, base_days, prior)
    evidence = shortfall_evidence(f.visits_recent, base_rate * recent_days)
    raw_drop = 1.0 - (f.visits_recent / recent_days) / (f.visits_baseline / base_days)
    if evidence <= 0.0 or raw_drop < 0.3:
        return None
    pct = min(100, round(100 * raw_drop))
    if base_first >= f.history_start:
        against = "the previous 8 weeks"
    else:
        against = f"the previous {_plural(max(1, round(base_days / 7)), 'week')}"
    return Signal("drop", evidence, f"visits down {pct}% against {against}")


def _early_signal(f: MemberFeatures, prior: ClubPrior) -> Signal | None:
    if f.visits_early is None or not (EARLY_DAYS <= f.tenure_days < EARLY_UNTIL_DAYS):
        return None
    target_day = EARLY_TARGET_SHARE * prior.per_day
    early_expected = target_day * f.exposure(
        f.tenure_start, f.tenure_start + timedelta(days=EARLY_DAYS - 1)
    )
    evidence = shortfall_evidence(f.visits_early, early_expected)
    if evidence <= 0.0:
        return None
    # Caught up since? Visits after the first 3 weeks at the same target pace clear it.
    after_first = f.tenure_start + timedelta(days=EARLY_DAYS)
    later_days = f.exposure(after_first, f.today)
    later_visits = f.visits_window - f.visits_early
    if later_days >= 7 and later_visits >= target_day * later_days:
        return None
    visits = "no visits" if f.visits_early == 0 else _plural(f.visits_early, "visit")
    return Signal("early", evidence, f"{visits} in the first 3 weeks")


def _plan_signal(f: MemberFeatures) -> Signal | None:
    """The last 2 weeks against a fresh visit plan in force all that time."""
    planned = f.fresh_plan
    first = f.today - timedelta(days=PLAN_DAYS - 1)
    if planned is None or f.plan_since is None or f.plan_since > first:
        return None
    days = f.exposure(first, f.today)
    if days < PLAN_MIN_EXPOSURE_DAYS:
        return None
    expected = planned * days / 7.0
    if f.visits_2_weeks > PLAN_MAX_SHARE * expected:
        return None
    evidence = shortfall_evidence(f.visits_2_weeks, expected)
    if evidence <= 0.0:
        return None
    made = "none" if f.visits_2_weeks == 0 else str(f.visits_2_weeks)
    return Signal(
        "plan",
        evidence,
        f"planned {_plural(planned, 'visit')} a week, made {made} in the last 2 weeks",
    )


def _term_signal(f: MemberFeatures) -> Signal | None:
    if f.renewed or f.renewal_booked or f.days_to_end > TERM_WATCH_DAYS:
        return None
    days = f.days_to_end
    when = {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")
    evidence = TERM_EVIDENCE_14 if days <= 14 else TERM_EVIDENCE_30
    return Signal("term", evidence, f"term ends {when}, no renewal booked")


def is_sleeper(f: MemberFeatures) -> bool:
    """Paid up, but (almost) never came in the last 8 unfrozen weeks."""
    first = f.today - timedelta(days=SLEEPER_DAYS - 1)
    if f.frozen_now or f.exposure(first, f.today) < SLEEPER_DAYS:
        return False
    return f.visits_8_weeks <= SLEEPER_MAX_VISITS


def suppression(f: MemberFeatures) -> Suppression | None:
    if f.do_not_contact:
        return Suppression.DO_NOT_CONTACT
    if f.frozen_now:
        return Suppression.FROZEN
    if f.renewed:
        return Suppression.RENEWED
    if f.renewal_booked:
        return Suppression.RENEWAL_BOOKED
    if f.tenure_days < NEW_MEMBER_DAYS:
        return Suppression.NEW_MEMBER
    return None


def score_from_evidence(evidence: float) -> int:
    return round(100.0 * (1.0 - math.exp(-max(0.0, evidence) / SCORE_SCALE)))


def level_for(score: int) -> Level:
    if score >= AT_RISK_SCORE:
        return Level.AT_RISK
    if score >= WATCH_SCORE:
        return Level.WATCH
    return Level.OK


def combine(evidences: Sequence[float]) -> float:
    """The strongest test counts in full, the others by a quarter: they overlap."""
    if not evidences:
        return 0.0
    ordered = sorted(evidences, reverse=True)
    return ordered[0] + OTHER_EVIDENCE_WEIGHT * sum(ordered[1:])


def assess(f: MemberFeatures, prior: ClubPrior) -> Assessment:
    """Score one member. Pure: the same features and prior give the same answer."""
    history_days = f.exposure(f.history_start, f.last_visit or f.history_start)
    history_visits = f.visits_window if f.last_visit is not None else 0
    if f.last_visit is None:
        history_days = 0
    # A fresh visit plan is the member's own baseline before they have a history.
    planned = f.fresh_plan
    own_prior = ClubPrior(float(planned), 0) if planned else prior
    rate_day = shrunk_rate_per_day(history_visits, history_days, own_prior)
    basis = None
    if planned and history_days < PRIOR_DAYS:
        basis = f"planned {_plural(planned, 'visit')} a week"

    gap, p_gap = _gap_signal(f, rate_day, basis)
    tests = (gap, _drop_signal(f, prior), _early_signal(f, prior), _plan_signal(f))
    attendance = [s for s in tests if s]
    evidence = combine([s.evidence for s in attendance])
    term = _term_signal(f)
    total = evidence + (term.evidence if term else 0.0)
    score = score_from_evidence(total)
    level = level_for(score)
    if gap.evidence >= LAPSED_GAP_EVIDENCE and f.gap_days >= LAPSED_MIN_GAP_DAYS:
        level = Level.LAPSED

    segment = Segment.ACTIVE
    signals = sorted(attendance, key=lambda s: s.evidence, reverse=True)
    if is_sleeper(f):
        # Gone for two months is a win-back case, not a lapse call: listed with its own
        # segment, and capped so it never outranks a member who is at risk right now.
        segment = Segment.SLEEPER
        level = Level.LAPSED
        score = min(score, SLEEPER_SCORE_CAP)
        visits = "no visit" if f.visits_8_weeks == 0 else _plural(f.visits_8_weeks, "visit")
        signals.insert(0, Signal("sleeper", math.inf, f"{visits} in the last 8 weeks"))

    # Reasons: the tests that actually say something, strongest first; the term last.
    shown = [s.reason for s in signals if s.evidence >= REASON_MIN_EVIDENCE]
    if term is not None:
        shown = shown[: MAX_REASONS - 1] + [term.reason]
        signals.append(term)
    return Assessment(
        score=score,
        level=level,
        segment=segment,
        suppressed=suppression(f),
        reasons=shown[:MAX_REASONS],
        evidence=total,
        usual_visits_per_week=round(7.0 * rate_day, 2),
        gap_days=f.gap_days,
        p_gap=p_gap,
        signals=signals,
    )
