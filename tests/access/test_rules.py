"""Access rules as pure functions: membership precedence and plan hours."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import pytest

from app.access.rules import AccessReason, Term, precedence, within_hours
from app.memberships.status import MembershipStatus as S


def term(status: S, start: date, end: date | None = None, **kw: Any) -> Term:
    return Term(
        membership_id=uuid.uuid4(),
        start_date=start,
        end_date=end or date(start.year + 1, start.month, start.day),
        status=status,
        visit_limit=kw.get("visit_limit"),
        access_hours=kw.get("access_hours"),
    )


class TestPrecedence:
    def test_no_membership_at_all(self) -> None:
        assert precedence([]) == ([], precedence([])[1])
        assert precedence([])[1].reason is AccessReason.NO_MEMBERSHIP  # type: ignore[union-attr]

    def test_active_terms_are_evaluated_newest_first_before_anything_else(self) -> None:
        old = term(S.ACTIVE, date(2025, 6, 1))
        new = term(S.ACTIVE, date(2026, 1, 1))
        others = [term(S.FROZEN, date(2026, 2, 1)), term(S.PENDING, date(2027, 1, 1))]
        active, decided = precedence([old, *others, new])
        assert active == [new, old]
        assert decided is None

    def test_a_frozen_term_decides_frozen_when_none_is_active(self) -> None:
        frozen = term(S.FROZEN, date(2026, 1, 1))
        _, decided = precedence([term(S.EXPIRED, date(2024, 1, 1)), frozen])
        assert decided is not None
        assert (decided.reason, decided.membership_id) == (
            AccessReason.FROZEN,
            frozen.membership_id,
        )

    def test_a_pending_renewal_beats_the_expired_term_before_it(self) -> None:
        soon = term(S.PENDING, date(2026, 4, 1))
        later = term(S.PENDING, date(2027, 4, 1))
        _, decided = precedence([term(S.EXPIRED, date(2025, 3, 1)), later, soon])
        assert decided is not None
        assert (decided.reason, decided.membership_id) == (
            AccessReason.NOT_STARTED,
            soon.membership_id,
        )

    @pytest.mark.parametrize(
        ("latest", "reason"),
        [(S.CANCELLED, AccessReason.CANCELLED), (S.EXPIRED, AccessReason.EXPIRED)],
    )
    def test_among_past_terms_the_most_recent_contract_decides(
        self, latest: S, reason: AccessReason
    ) -> None:
        older = S.EXPIRED if latest is S.CANCELLED else S.CANCELLED
        recent = term(latest, date(2025, 6, 1))
        _, decided = precedence([term(older, date(2024, 6, 1)), recent])
        assert decided is not None
        assert (decided.reason, decided.membership_id) == (reason, recent.membership_id)


DAYTIME = [{"weekday": d, "from": "07:00", "to": "16:00"} for d in range(1, 6)]
NIGHT = [{"weekday": 1, "from": "22:00", "to": "02:00"}]  # Monday night into Tuesday


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 3, 8 + day, hh, mm)  # 2026-03-09 is a Monday (day=1)


class TestWithinHours:
    def test_no_hours_means_any_time(self) -> None:
        assert within_hours(None, at(7, 3))

    def test_an_empty_list_means_never(self) -> None:
        assert not within_hours([], at(1, 12))

    @pytest.mark.parametrize(
        ("when", "inside"),
        [
            (at(1, 7), True),  # from is inclusive
            (at(1, 15, 59), True),
            (at(1, 16), False),  # to is exclusive
            (at(1, 6, 59), False),
            (at(6, 12), False),  # Saturday: no window
        ],
    )
    def test_windows_are_per_weekday_from_inclusive_to_exclusive(
        self, when: datetime, inside: bool
    ) -> None:
        assert within_hours(DAYTIME, when) is inside

    def test_24_00_means_until_midnight(self) -> None:
        assert within_hours([{"weekday": 1, "from": "20:00", "to": "24:00"}], at(1, 23, 59))

    @pytest.mark.parametrize(
        ("when", "inside"),
        [(at(1, 23), True), (at(2, 1, 59), True), (at(2, 2), False), (at(1, 21), False)],
    )
    def test_a_window_past_midnight_runs_into_the_next_day(
        self, when: datetime, inside: bool
    ) -> None:
        assert within_hours(NIGHT, when) is inside

    def test_a_malformed_window_admits_nobody(self) -> None:
        assert not within_hours([{"weekday": 1, "from": "soon"}, {"day": 1}], at(1, 12))
