"""The contact policy (DESIGN §3): may this member be contacted by this channel now?

`decide()` is a pure function of its inputs, so every rule is testable without a
database and the same answer comes out wherever it is asked (queueing a message,
dispatching it later, and - in a later issue - creating and attempting calls). The
inputs are gathered set-wise by `app.policy.repository`.

Rules run in two groups. *Blocking* rules say "not by this channel" (erased,
do-not-contact, no address, no consent, cap reached); a blocked contact is dropped or
recorded as suppressed. *Timing* rules say "not yet" and push the earliest allowed
instant forward (silence after a purchase); the result is then moved into the next
window that is inside both the club's quiet hours and the member's preferred window,
in the club's local time (DST-correct). A "not yet" decision carries that instant as
`next_allowed_at`.

Calls add their own rules over more `MemberFacts` fields: never a second open call
for one member (the call service merges new reasons into the open one instead), no
renewal call once a renewal meeting is booked, and no renewal or lapse call while the
membership is frozen - those move to the day after the freeze (a timing rule). The cap
on calls counts *service calls* dialled in the last 30 days (a call's retries are one
contact), other than the call being attempted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from app.core.timezones import local_date, local_midnight_utc, local_to_utc
from app.members.consents import ConsentPurpose

CAP_WINDOW = timedelta(days=30)
# Templates (message) or kinds (call) that may reach a member during the silence days.
SILENCE_EXEMPT_KINDS = frozenset({"thank_you"})
# Call kinds that wait while the membership is frozen (DESIGN §3).
FREEZE_DEFERRED_CALL_KINDS = frozenset({"renewal", "lapse"})
# How far ahead to look for an allowed window before declaring there is none.
_SEARCH_DAYS = 8


class Channel(StrEnum):
    CALL = "call"
    SMS = "sms"
    EMAIL = "email"


class Category(StrEnum):
    SERVICE = "service"
    MARKETING = "marketing"


class Reason(StrEnum):
    """Why a contact is not allowed. Stable codes, shown to staff and stored on rows."""

    MEMBER_ERASED = "member_erased"
    DO_NOT_CONTACT = "do_not_contact"
    NO_ADDRESS = "no_address"
    NO_CONSENT = "no_consent"
    CAP_REACHED = "cap_reached"
    NO_CONTACT_WINDOW = "no_contact_window"
    SILENCE_PERIOD = "silence_period"
    QUIET_HOURS = "quiet_hours"
    OUTSIDE_CONTACT_WINDOW = "outside_contact_window"
    OPEN_CALL = "open_call"
    RENEWAL_MEETING_BOOKED = "renewal_meeting_booked"
    FROZEN = "frozen"


# "Not yet" reasons: the contact may happen at `next_allowed_at`.
DEFERRABLE = frozenset(
    {Reason.SILENCE_PERIOD, Reason.QUIET_HOURS, Reason.OUTSIDE_CONTACT_WINDOW, Reason.FROZEN}
)

REASON_TEXT: Mapping[Reason, str] = {
    Reason.MEMBER_ERASED: "the member's personal data was erased",
    Reason.DO_NOT_CONTACT: "the member asked not to be contacted",
    Reason.NO_ADDRESS: "no usable phone number or e-mail address for this channel",
    Reason.NO_CONSENT: "the member has not consented to this kind of contact",
    Reason.CAP_REACHED: "the member was already contacted as often as the club allows in 30 days",
    Reason.NO_CONTACT_WINDOW: "the member's preferred window never overlaps the club's quiet hours",
    Reason.SILENCE_PERIOD: "the member bought a membership a few days ago (days of silence)",
    Reason.QUIET_HOURS: "outside the club's contact hours",
    Reason.OUTSIDE_CONTACT_WINDOW: "outside the member's preferred contact window",
    Reason.OPEN_CALL: "the member already has an open call; new reasons merge into it",
    Reason.RENEWAL_MEETING_BOOKED: "a renewal meeting is already booked",
    Reason.FROZEN: "the membership is frozen; renewal and lapse calls wait until it ends",
}


@dataclass(frozen=True)
class ClubPolicy:
    """A club's contact settings (DESIGN §2 Club, §3)."""

    timezone: str
    quiet_hours_start: time = time(9)
    quiet_hours_end: time = time(21)
    silence_days: int = 3
    max_messages_per_30_days: int = 4
    max_calls_per_30_days: int = 2


@dataclass(frozen=True)
class MemberFacts:
    """What the policy needs to know about one member, as of the decision."""

    member_id: object
    do_not_contact: bool = False
    erased: bool = False
    has_phone: bool = True
    has_email: bool = True
    contact_window_start: time | None = None
    contact_window_end: time | None = None
    consents: Mapping[ConsentPurpose, bool] = field(default_factory=dict)
    # Club-local date of the latest purchase (sale) of a membership, if any.
    latest_purchase_on: date | None = None
    # Instants of earlier contacts that count toward the caps (queued ones count "now").
    recent_messages: tuple[datetime, ...] = ()
    # When each other service call was first dialled (one contact per call).
    recent_calls: tuple[datetime, ...] = ()
    # Club-local last day of the freeze covering today, if the membership is frozen now.
    frozen_until: date | None = None
    renewal_meeting_booked: bool = False
    # The member's open service call, if any.
    open_call_id: object | None = None


@dataclass(frozen=True)
class ContactRequest:
    channel: Channel
    category: Category = Category.SERVICE
    # Message template or call kind: some rules exempt particular kinds.
    kind: str = ""
    # Service reminders for a booked meeting do not count toward (nor hit) the caps.
    exempt_from_caps: bool = False
    # Calls: the call being attempted (None when asking whether to open a new one).
    call_id: object | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: Reason | None = None
    next_allowed_at: datetime | None = None

    @property
    def deferrable(self) -> bool:
        """Not now, but at `next_allowed_at`."""
        return not self.allowed and self.reason in DEFERRABLE and self.next_allowed_at is not None

    @property
    def detail(self) -> str:
        return "allowed" if self.reason is None else REASON_TEXT[self.reason]


ALLOWED = Decision(True)


def consent_purpose(channel: Channel, category: Category) -> ConsentPurpose | None:
    """The consent a contact needs; service e-mail needs none beyond the relationship."""
    if channel is Channel.CALL:
        return ConsentPurpose.CALLS
    if channel is Channel.SMS:
        return (
            ConsentPurpose.SERVICE_SMS
            if category is Category.SERVICE
            else ConsentPurpose.MARKETING_SMS
        )
    return None if category is Category.SERVICE else ConsentPurpose.MARKETING_EMAIL


def counts_toward_caps(request: ContactRequest) -> bool:
    # Only service contacts may be exempt: a marketing message can never skip the caps.
    return not (request.exempt_from_caps and request.category is Category.SERVICE)


# ---- blocking rules: return a Decision to refuse, None to pass -------------------------

BlockingRule = Callable[[ClubPolicy, MemberFacts, ContactRequest, datetime], Decision | None]


def _erased(_c: ClubPolicy, m: MemberFacts, _r: ContactRequest, _t: datetime) -> Decision | None:
    return Decision(False, Reason.MEMBER_ERASED) if m.erased else None


def _do_not_contact(
    _c: ClubPolicy, m: MemberFacts, _r: ContactRequest, _t: datetime
) -> Decision | None:
    return Decision(False, Reason.DO_NOT_CONTACT) if m.do_not_contact else None


def _address(_c: ClubPolicy, m: MemberFacts, r: ContactRequest, _t: datetime) -> Decision | None:
    usable = m.has_email if r.channel is Channel.EMAIL else m.has_phone
    return None if usable else Decision(False, Reason.NO_ADDRESS)


def _consent(_c: ClubPolicy, m: MemberFacts, r: ContactRequest, _t: datetime) -> Decision | None:
    purpose = consent_purpose(r.channel, r.category)
    if purpose is None or m.consents.get(purpose, False):
        return None
    return Decision(False, Reason.NO_CONSENT)


def _cap(c: ClubPolicy, m: MemberFacts, r: ContactRequest, as_of: datetime) -> Decision | None:
    if not counts_toward_caps(r):
        return None
    if r.channel is Channel.CALL:
        cap, recent = c.max_calls_per_30_days, m.recent_calls
    else:
        cap, recent = c.max_messages_per_30_days, m.recent_messages
    in_window = sorted(t for t in recent if t > as_of - CAP_WINDOW)
    if len(in_window) < cap:
        return None
    # Allowed again once only cap-1 of them remain inside the rolling window.
    if cap == 0:
        return Decision(False, Reason.CAP_REACHED)
    frees_at = in_window[len(in_window) - cap] + CAP_WINDOW
    return Decision(False, Reason.CAP_REACHED, frees_at if frees_at > as_of else None)


def _open_call(_c: ClubPolicy, m: MemberFacts, r: ContactRequest, _t: datetime) -> Decision | None:
    if r.channel is not Channel.CALL or m.open_call_id is None:
        return None
    return None if m.open_call_id == r.call_id else Decision(False, Reason.OPEN_CALL)


def _renewal_booked(
    _c: ClubPolicy, m: MemberFacts, r: ContactRequest, _t: datetime
) -> Decision | None:
    if r.channel is Channel.CALL and r.kind == "renewal" and m.renewal_meeting_booked:
        return Decision(False, Reason.RENEWAL_MEETING_BOOKED)
    return None


BLOCKING_RULES: tuple[BlockingRule, ...] = (
    _erased,
    _do_not_contact,
    _address,
    _consent,
    _open_call,
    _renewal_booked,
    _cap,
)


# ---- timing rules: return the earliest instant they allow (and why), or None -----------

TimingRule = Callable[
    [ClubPolicy, MemberFacts, ContactRequest, datetime], tuple[datetime, Reason] | None
]


def _silence(
    c: ClubPolicy, m: MemberFacts, r: ContactRequest, as_of: datetime
) -> tuple[datetime, Reason] | None:
    if c.silence_days <= 0 or m.latest_purchase_on is None or r.kind in SILENCE_EXEMPT_KINDS:
        return None
    # The purchase day is day 0; contact may resume on local day `silence_days`.
    ends = local_midnight_utc(c.timezone, m.latest_purchase_on + timedelta(days=c.silence_days))
    return (ends, Reason.SILENCE_PERIOD) if as_of < ends else None


def _frozen(
    c: ClubPolicy, m: MemberFacts, r: ContactRequest, as_of: datetime
) -> tuple[datetime, Reason] | None:
    if (
        r.channel is not Channel.CALL
        or r.kind not in FREEZE_DEFERRED_CALL_KINDS
        or m.frozen_until is None
    ):
        return None
    # The first club-local day after the freeze.
    ends = local_midnight_utc(c.timezone, m.frozen_until + timedelta(days=1))
    return (ends, Reason.FROZEN) if as_of < ends else None


TIMING_RULES: tuple[TimingRule, ...] = (_silence, _frozen)


# ---- contact windows -------------------------------------------------------------------

Span = tuple[datetime, datetime]


def _day_spans(tz: str, day: date, start: time | None, end: time | None) -> list[Span]:
    """A daily local window on `day` as UTC spans. start > end wraps past midnight;
    an open bound is the day's edge; start == end means the whole day."""
    midnight, next_midnight = (
        local_midnight_utc(tz, day),
        local_midnight_utc(tz, day + timedelta(days=1)),
    )
    lo = local_to_utc(tz, day, start) if start is not None else midnight
    hi = local_to_utc(tz, day, end) if end is not None else next_midnight
    if start is None or end is None or start < end:
        return [(lo, hi)] if lo < hi else []
    if start == end:
        return [(midnight, next_midnight)]
    return [s for s in ((midnight, hi), (lo, next_midnight)) if s[0] < s[1]]


def _intersect(a: list[Span], b: list[Span]) -> list[Span]:
    out = []
    for a0, a1 in a:
        for b0, b1 in b:
            lo, hi = max(a0, b0), min(a1, b1)
            if lo < hi:
                out.append((lo, hi))
    return sorted(out)


def _next_in(spans_for_day: Callable[[date], list[Span]], tz: str, at: datetime) -> datetime | None:
    day = local_date(tz, at)
    for offset in range(_SEARCH_DAYS):
        for lo, hi in spans_for_day(day + timedelta(days=offset)):
            if hi > at:
                return max(lo, at)
    return None


def next_contact_time(club: ClubPolicy, member: MemberFacts, at: datetime) -> datetime | None:
    """The first instant >= `at` inside both the club's quiet hours and the member's
    preferred window (club-local wall clock), or None if the two never overlap."""
    tz = club.timezone

    def spans(day: date) -> list[Span]:
        club_spans = _day_spans(tz, day, club.quiet_hours_start, club.quiet_hours_end)
        member_spans = _day_spans(tz, day, member.contact_window_start, member.contact_window_end)
        return _intersect(club_spans, member_spans)

    return _next_in(spans, tz, at)


def _in_club_hours(club: ClubPolicy, at: datetime) -> bool:
    day = local_date(club.timezone, at)
    spans = _day_spans(club.timezone, day, club.quiet_hours_start, club.quiet_hours_end)
    return any(lo <= at < hi for lo, hi in spans)


# ---- the decision ----------------------------------------------------------------------


def decide(
    club: ClubPolicy, member: MemberFacts, request: ContactRequest, as_of: datetime
) -> Decision:
    """May `member` be contacted by `request.channel` at `as_of`? If not, why, and
    (for "not yet" reasons) from when."""
    for rule in BLOCKING_RULES:
        refused = rule(club, member, request, as_of)
        if refused is not None:
            return refused

    earliest, reason = as_of, None
    for timing in TIMING_RULES:
        constraint = timing(club, member, request, as_of)
        if constraint is not None and constraint[0] > earliest:
            earliest, reason = constraint

    window = next_contact_time(club, member, earliest)
    if window is None:
        return Decision(False, Reason.NO_CONTACT_WINDOW)
    if window > earliest and reason is None:
        reason = (
            Reason.OUTSIDE_CONTACT_WINDOW if _in_club_hours(club, earliest) else Reason.QUIET_HOURS
        )
    if reason is not None:
        return Decision(False, reason, window)
    return ALLOWED
