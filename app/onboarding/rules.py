"""Onboarding's fixed rules: the checklist, its due dates and the retention horizon.

Day 0 is the membership's start date (club-local). The first session and the visit
plan are due within the first week, so the member has a routine before the habit
forms; the wellness test within two weeks, as a baseline to compare against at the
renewal meeting; meeting the trainers within three weeks. Day 100 is when analytics
judge whether the member stayed (DESIGN §1.1: the first 100 days decide).
"""

from __future__ import annotations

from enum import StrEnum


class OnboardingKind(StrEnum):
    FIRST_SESSION = "first_session"
    WELLNESS_TEST = "wellness_test"
    MEET_TRAINERS = "meet_trainers"
    VISIT_PLAN = "visit_plan"


class ItemStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"


# Days after the start date by which each item is due (checklist order).
DUE_DAYS: dict[OnboardingKind, int] = {
    OnboardingKind.FIRST_SESSION: 7,
    OnboardingKind.VISIT_PLAN: 7,
    OnboardingKind.WELLNESS_TEST: 14,
    OnboardingKind.MEET_TRAINERS: 21,
}
ORDER = {kind: i for i, kind in enumerate(DUE_DAYS)}
RETENTION_DAYS = 100

DUE_RULE = (
    "Due dates count from the membership's start date (day 0, club-local): "
    + ", ".join(f"`{k.value}` within {d} days" for k, d in DUE_DAYS.items())
    + f". Checklists are created at the sale of a `new` membership (not renewals), unless "
    f"its first {RETENTION_DAYS} days are already over (a historical entry)."
)
