"""The contact policy as a pure function: one test per rule, DST and date-line cases."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.members.consents import ConsentPurpose
from app.policy.contact import (
    Category,
    Channel,
    ClubPolicy,
    ContactRequest,
    Decision,
    MemberFacts,
    Reason,
    consent_purpose,
    decide,
    next_contact_time,
)

ALL_CONSENTS = dict.fromkeys(ConsentPurpose, True)
MOSCOW = ClubPolicy(timezone="Europe/Moscow")  # UTC+3 all year, 09:00-21:00
NOON_MSK = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 12:00 in Moscow


def facts(**kw: object) -> MemberFacts:
    values: dict[str, object] = {"member_id": uuid.uuid4(), "consents": ALL_CONSENTS}
    values.update(kw)
    return MemberFacts(**values)  # type: ignore[arg-type]


def sms(category: Category = Category.SERVICE, **kw: object) -> ContactRequest:
    return ContactRequest(Channel.SMS, category, **kw)  # type: ignore[arg-type]


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


class TestAllowed:
    def test_a_consenting_member_inside_hours_may_be_contacted(self) -> None:
        assert decide(MOSCOW, facts(), sms(), NOON_MSK) == Decision(True)


class TestBlockingRules:
    def test_erased_member_is_never_contacted(self) -> None:
        d = decide(MOSCOW, facts(erased=True), sms(), NOON_MSK)
        assert (d.allowed, d.reason, d.next_allowed_at) == (False, Reason.MEMBER_ERASED, None)

    def test_do_not_contact_blocks_every_channel(self) -> None:
        for channel in Channel:
            d = decide(MOSCOW, facts(do_not_contact=True), ContactRequest(channel), NOON_MSK)
            assert d.reason is Reason.DO_NOT_CONTACT
            assert not d.deferrable

    def test_sms_needs_a_usable_phone(self) -> None:
        assert decide(MOSCOW, facts(has_phone=False), sms(), NOON_MSK).reason is Reason.NO_ADDRESS

    def test_email_needs_an_address(self) -> None:
        d = decide(MOSCOW, facts(has_email=False), ContactRequest(Channel.EMAIL), NOON_MSK)
        assert d.reason is Reason.NO_ADDRESS

    @pytest.mark.parametrize(
        ("channel", "category", "purpose"),
        [
            (Channel.SMS, Category.SERVICE, ConsentPurpose.SERVICE_SMS),
            (Channel.SMS, Category.MARKETING, ConsentPurpose.MARKETING_SMS),
            (Channel.EMAIL, Category.MARKETING, ConsentPurpose.MARKETING_EMAIL),
            (Channel.CALL, Category.SERVICE, ConsentPurpose.CALLS),
        ],
    )
    def test_each_channel_and_category_needs_its_own_consent(
        self, channel: Channel, category: Category, purpose: ConsentPurpose
    ) -> None:
        assert consent_purpose(channel, category) is purpose
        without = {**ALL_CONSENTS, purpose: False}
        d = decide(MOSCOW, facts(consents=without), ContactRequest(channel, category), NOON_MSK)
        assert d.reason is Reason.NO_CONSENT
        assert decide(MOSCOW, facts(), ContactRequest(channel, category), NOON_MSK).allowed

    def test_service_email_needs_no_extra_consent(self) -> None:
        d = decide(MOSCOW, facts(consents={}), ContactRequest(Channel.EMAIL), NOON_MSK)
        assert d.allowed

    def test_service_sms_consent_does_not_cover_marketing_sms(self) -> None:
        only_service = {ConsentPurpose.SERVICE_SMS: True}
        d = decide(MOSCOW, facts(consents=only_service), sms(Category.MARKETING), NOON_MSK)
        assert d.reason is Reason.NO_CONSENT


class TestCaps:
    def test_messages_are_capped_per_30_days_with_the_time_it_frees_up(self) -> None:
        sent = tuple(NOON_MSK - timedelta(days=d) for d in (25, 20, 10, 1))
        d = decide(MOSCOW, facts(recent_messages=sent), sms(), NOON_MSK)
        assert d.reason is Reason.CAP_REACHED
        # The oldest of the four leaves the rolling window 30 days after it was sent.
        assert d.next_allowed_at == NOON_MSK - timedelta(days=25) + timedelta(days=30)
        assert not d.deferrable

    def test_contacts_older_than_30_days_do_not_count(self) -> None:
        sent = tuple(NOON_MSK - timedelta(days=d) for d in (40, 31, 20, 1))
        assert decide(MOSCOW, facts(recent_messages=sent), sms(), NOON_MSK).allowed

    def test_the_cap_is_the_clubs_setting(self) -> None:
        club = ClubPolicy(timezone="Europe/Moscow", max_messages_per_30_days=1)
        d = decide(club, facts(recent_messages=(NOON_MSK - timedelta(days=2),)), sms(), NOON_MSK)
        assert d.reason is Reason.CAP_REACHED

    def test_calls_have_their_own_cap(self) -> None:
        calls = (NOON_MSK - timedelta(days=3), NOON_MSK - timedelta(days=2))
        member = facts(recent_calls=calls)
        assert decide(MOSCOW, member, ContactRequest(Channel.CALL), NOON_MSK).reason is (
            Reason.CAP_REACHED
        )
        assert decide(MOSCOW, member, sms(), NOON_MSK).allowed

    def test_a_service_reminder_for_a_booked_meeting_is_exempt(self) -> None:
        sent = tuple(NOON_MSK - timedelta(days=d) for d in range(1, 5))
        d = decide(MOSCOW, facts(recent_messages=sent), sms(exempt_from_caps=True), NOON_MSK)
        assert d.allowed

    def test_marketing_can_never_be_exempt_from_caps(self) -> None:
        sent = tuple(NOON_MSK - timedelta(days=d) for d in range(1, 5))
        request = sms(Category.MARKETING, exempt_from_caps=True)
        assert decide(MOSCOW, facts(recent_messages=sent), request, NOON_MSK).reason is (
            Reason.CAP_REACHED
        )

    def test_a_cap_of_zero_blocks_without_a_next_time(self) -> None:
        club = ClubPolicy(timezone="Europe/Moscow", max_messages_per_30_days=0)
        d = decide(club, facts(), sms(), NOON_MSK)
        assert (d.reason, d.next_allowed_at) == (Reason.CAP_REACHED, None)


class TestSilenceDays:
    def test_no_contact_in_the_first_days_after_a_purchase(self) -> None:
        member = facts(latest_purchase_on=date(2026, 3, 9))
        d = decide(MOSCOW, member, sms(), NOON_MSK)  # 10 March: day 1 of 3
        assert d.reason is Reason.SILENCE_PERIOD
        # Day 3 (12 March) starts at local midnight; contact hours open at 09:00 MSK.
        assert d.next_allowed_at == at(2026, 3, 12, 6)
        assert d.deferrable

    def test_contact_resumes_on_day_silence_days(self) -> None:
        member = facts(latest_purchase_on=date(2026, 3, 7))
        assert decide(MOSCOW, member, sms(), NOON_MSK).allowed  # 10 March = day 3

    def test_the_thank_you_message_is_exempt(self) -> None:
        member = facts(latest_purchase_on=date(2026, 3, 10))
        assert decide(MOSCOW, member, sms(kind="thank_you"), NOON_MSK).allowed

    def test_silence_days_are_the_clubs_setting(self) -> None:
        club = ClubPolicy(timezone="Europe/Moscow", silence_days=0)
        assert decide(club, facts(latest_purchase_on=date(2026, 3, 10)), sms(), NOON_MSK).allowed

    def test_blocking_rules_win_over_silence(self) -> None:
        member = facts(latest_purchase_on=date(2026, 3, 10), do_not_contact=True)
        assert decide(MOSCOW, member, sms(), NOON_MSK).reason is Reason.DO_NOT_CONTACT


class TestQuietHours:
    def test_before_quiet_hours_start_waits_until_they_open(self) -> None:
        d = decide(MOSCOW, facts(), sms(), at(2026, 3, 10, 5, 30))  # 08:30 MSK
        assert (d.reason, d.next_allowed_at) == (Reason.QUIET_HOURS, at(2026, 3, 10, 6))

    def test_after_quiet_hours_end_waits_until_the_next_morning(self) -> None:
        d = decide(MOSCOW, facts(), sms(), at(2026, 3, 10, 18))  # 21:00 MSK, end exclusive
        assert (d.reason, d.next_allowed_at) == (Reason.QUIET_HOURS, at(2026, 3, 11, 6))

    def test_quiet_hours_are_the_clubs_setting(self) -> None:
        club = ClubPolicy(
            timezone="Europe/Moscow", quiet_hours_start=time(7), quiet_hours_end=time(23)
        )
        assert decide(club, facts(), sms(), at(2026, 3, 10, 4, 30)).allowed  # 07:30 MSK

    def test_the_members_preferred_window_narrows_the_clubs_hours(self) -> None:
        member = facts(contact_window_start=time(18), contact_window_end=time(20))
        d = decide(MOSCOW, member, sms(), NOON_MSK)
        assert (d.reason, d.next_allowed_at) == (
            Reason.OUTSIDE_CONTACT_WINDOW,
            at(2026, 3, 10, 15),
        )
        assert decide(MOSCOW, member, sms(), at(2026, 3, 10, 15, 30)).allowed

    def test_a_window_past_midnight_is_cut_by_the_clubs_hours(self) -> None:
        member = facts(contact_window_start=time(20), contact_window_end=time(8))
        d = decide(MOSCOW, member, sms(), NOON_MSK)
        assert d.next_allowed_at == at(2026, 3, 10, 17)  # 20:00 MSK, until 21:00

    def test_a_window_that_never_meets_the_clubs_hours_blocks(self) -> None:
        member = facts(contact_window_start=time(22), contact_window_end=time(23))
        d = decide(MOSCOW, member, sms(), NOON_MSK)
        assert (d.reason, d.next_allowed_at) == (Reason.NO_CONTACT_WINDOW, None)

    def test_silence_then_quiet_hours_combine_into_one_next_time(self) -> None:
        member = facts(
            latest_purchase_on=date(2026, 3, 9),
            contact_window_start=time(18),
            contact_window_end=time(20),
        )
        d = decide(MOSCOW, member, sms(), NOON_MSK)
        assert (d.reason, d.next_allowed_at) == (Reason.SILENCE_PERIOD, at(2026, 3, 12, 15))


class TestDaylightSaving:
    """America/New_York: EST (UTC-5) until 2026-03-08 02:00, then EDT (UTC-4)."""

    NY = ClubPolicy(timezone="America/New_York")

    def test_the_evening_before_the_change_waits_for_9am_daylight_time(self) -> None:
        d = decide(self.NY, facts(), sms(), at(2026, 3, 8, 3))  # 22:00 EST on the 7th
        # 09:00 on the 8th is already EDT: 13:00 UTC, not 14:00.
        assert d.next_allowed_at == at(2026, 3, 8, 13)

    def test_9_30_local_on_the_change_day_is_inside_hours(self) -> None:
        assert decide(self.NY, facts(), sms(), at(2026, 3, 8, 13, 30)).allowed

    def test_the_same_utc_instant_the_day_before_is_too_early(self) -> None:
        d = decide(self.NY, facts(), sms(), at(2026, 3, 7, 13, 30))  # 08:30 EST
        assert (d.reason, d.next_allowed_at) == (Reason.QUIET_HOURS, at(2026, 3, 7, 14))

    def test_fall_back_evening_ends_at_21_standard_time(self) -> None:
        # 2026-11-01: EDT -> EST at 02:00; 21:00 EST is 02:00 UTC on the 2nd.
        assert decide(self.NY, facts(), sms(), at(2026, 11, 2, 1, 30)).allowed
        d = decide(self.NY, facts(), sms(), at(2026, 11, 2, 2))
        assert d.next_allowed_at == at(2026, 11, 2, 14)

    def test_a_window_in_the_skipped_hour_moves_with_the_clock(self) -> None:
        club = ClubPolicy(
            timezone="America/New_York", quiet_hours_start=time(0), quiet_hours_end=time(23)
        )
        member = facts(contact_window_start=time(2, 30), contact_window_end=time(4))
        # 02:30 does not exist on 8 March; it reads as 03:30 EDT = 07:30 UTC.
        d = decide(club, member, sms(), at(2026, 3, 8, 6))
        assert d.next_allowed_at == at(2026, 3, 8, 7, 30)

    def test_silence_ends_at_local_midnight_across_the_change(self) -> None:
        member = facts(latest_purchase_on=date(2026, 3, 6))
        club = ClubPolicy(
            timezone="America/New_York", quiet_hours_start=time(0), quiet_hours_end=time(23, 59)
        )
        d = decide(club, member, sms(), at(2026, 3, 9, 3))  # 23:00 EDT on the 8th
        assert d.next_allowed_at == at(2026, 3, 9, 4)  # midnight EDT on the 9th


class TestClubDayDiffersFromUtc:
    """Pacific/Auckland in January is UTC+13: its date is a day ahead for half the day."""

    AKL = ClubPolicy(timezone="Pacific/Auckland")

    def test_silence_counts_club_local_days(self) -> None:
        # Bought 11 Jan local (10 Jan UTC); day 3 is 14 Jan local = 13 Jan 11:00 UTC.
        member = facts(latest_purchase_on=date(2026, 1, 11))
        d = decide(self.AKL, member, sms(), at(2026, 1, 13, 10))  # 23:00 on 13 Jan local
        assert d.reason is Reason.SILENCE_PERIOD
        assert d.next_allowed_at == at(2026, 1, 13, 20)  # 09:00 on 14 Jan local

    def test_quiet_hours_use_the_local_day_not_utcs(self) -> None:
        # 20:00 UTC on 13 Jan is 09:00 on 14 Jan in Auckland: inside hours.
        assert decide(self.AKL, facts(), sms(), at(2026, 1, 13, 20)).allowed
        d = decide(self.AKL, facts(), sms(), at(2026, 1, 13, 8))  # 21:00 local
        assert d.next_allowed_at == at(2026, 1, 13, 20)


def test_next_contact_time_is_the_instant_itself_inside_the_window() -> None:
    assert next_contact_time(MOSCOW, facts(), NOON_MSK) == NOON_MSK
