from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Any, Self

from pydantic import Field, StringConstraints, model_validator

from app.core.schemas import InputSchema, Schema, ShortText
from app.members.schemas import ClockTime, ClockTimeOut
from app.memberships.schemas import LocalDate
from app.onboarding.rules import DUE_RULE, RETENTION_DAYS, ItemStatus, OnboardingKind

MAX_TRAINERS = 20
MAX_SLOTS = 21

# ------------------------------------------------------------------------- checklist


class OnboardingItemRead(Schema):
    kind: OnboardingKind
    status: ItemStatus
    due_date: date = Field(description="Club-local date the item is due by.")
    overdue: bool = Field(description="Still open after its due date (club-local today).")
    completed_at: datetime | None = Field(description="When it was marked done; null otherwise.")
    completed_by_id: uuid.UUID | None = Field(description="Staff member who marked it.")
    completed_via: str | None = Field(
        description="What completed it: `staff` (marked by hand), `wellness_test`, "
        "`visit_plan` or `meeting` (an attended onboarding meeting)."
    )
    note: str | None
    trainer_ids: list[uuid.UUID] = Field(description="meet_trainers: trainers met.")
    meeting_id: uuid.UUID | None = Field(description="first_session: the attended meeting.")
    updated_at: datetime


class OnboardingRead(Schema):
    membership_id: uuid.UUID
    member_id: uuid.UUID
    started_on: date | None = Field(description="Day 0: the membership's start date.")
    retention_on: date | None = Field(
        description=f"Day {RETENTION_DAYS}, when analytics judge whether the member stayed."
    )
    completed: bool = Field(description="Every item is done.")
    items: list[OnboardingItemRead] = Field(
        description="The checklist; empty for memberships without onboarding (renewals). "
        + DUE_RULE
    )


class OnboardingItemUpdate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "status": "done",
                    "note": "Met both gym trainers on the floor.",
                    "trainer_ids": ["0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a51"],
                },
                {"status": "skipped", "note": "Declined the body-composition test."},
            ]
        }
    }

    status: ItemStatus = Field(description="`open` reopens a done or skipped item.")
    note: ShortText | None = Field(default=None, description="Omitted: the note is kept.")
    trainer_ids: list[uuid.UUID] | None = Field(
        default=None,
        max_length=MAX_TRAINERS,
        description="Only for `meet_trainers`: the trainers the member met (active staff "
        "with the trainer role in the membership's club).",
    )


# ---------------------------------------------------------------------- wellness tests

_METRICS = ("weight_kg", "body_fat_pct", "muscle_mass_kg", "body_water_pct", "bmr_kcal")


class WellnessTestCreate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "measured_on": "2026-03-12",
                    "weight_kg": 72.4,
                    "body_fat_pct": 24.8,
                    "muscle_mass_kg": 51.3,
                    "body_water_pct": 53.1,
                    "bmr_kcal": 1540,
                    "trainer_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a51",
                }
            ]
        }
    }

    measured_on: LocalDate = Field(description="Club-local date; not in the future.")
    weight_kg: float = Field(gt=0, le=500, allow_inf_nan=False)
    body_fat_pct: float = Field(gt=0, lt=100, allow_inf_nan=False)
    muscle_mass_kg: float = Field(gt=0, le=500, allow_inf_nan=False)
    body_water_pct: float = Field(gt=0, lt=100, allow_inf_nan=False)
    bmr_kcal: int = Field(gt=0, le=10_000, description="Basal metabolic rate, kcal a day.")
    trainer_id: uuid.UUID | None = Field(
        default=None, description="The trainer who measured (trainer role, member's club)."
    )

    @model_validator(mode="after")
    def _muscle_within_weight(self) -> Self:
        if self.muscle_mass_kg > self.weight_kg:
            raise ValueError("muscle_mass_kg cannot exceed weight_kg")
        return self


class WellnessChange(Schema):
    weight_kg: float
    body_fat_pct: float
    muscle_mass_kg: float
    body_water_pct: float
    bmr_kcal: int


class WellnessTestRead(Schema):
    id: uuid.UUID
    member_id: uuid.UUID
    measured_on: date
    weight_kg: float | None
    body_fat_pct: float | None
    muscle_mass_kg: float | None
    body_water_pct: float | None
    bmr_kcal: int | None
    trainer_id: uuid.UUID | None
    recorded_by_id: uuid.UUID | None
    created_at: datetime
    change_since_first: WellnessChange | None = Field(
        description="This test minus the member's first test (null for the first test, or "
        "once erased): progress to show at the renewal meeting."
    )

    @classmethod
    def build(cls, test: Any, first: Any | None) -> Self:
        values = {k: getattr(test, k) for k in cls.model_fields if k != "change_since_first"}
        change = None
        if (
            first is not None
            and first.id != test.id
            and all(getattr(t, m) is not None for t in (test, first) for m in _METRICS)
        ):
            change = WellnessChange(
                **{m: round(getattr(test, m) - getattr(first, m), 2) for m in _METRICS}
            )
        return cls.model_validate({**values, "change_since_first": change})


# -------------------------------------------------------------------------- visit plan

Activity = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class VisitSlot(InputSchema):
    weekday: int = Field(ge=1, le=7, description="ISO weekday, 1 = Monday.")
    time: ClockTime = Field(description="Club-local HH:MM, inside the club's opening hours.")
    activity: Activity = Field(examples=["gym"])


class VisitPlanUpdate(InputSchema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "slots": [
                        {"weekday": 1, "time": "19:00", "activity": "gym"},
                        {"weekday": 3, "time": "19:00", "activity": "group classes"},
                        {"weekday": 6, "time": "10:00", "activity": "pool"},
                    ]
                }
            ]
        }
    }

    slots: list[VisitSlot] = Field(
        max_length=MAX_SLOTS,
        description="The whole weekly plan (replaces the previous one); empty clears it.",
    )

    @model_validator(mode="after")
    def _unique(self) -> Self:
        seen: set[tuple[int, time]] = set()
        for slot in self.slots:
            key = (slot.weekday, slot.time)
            if key in seen:
                raise ValueError("two slots at the same weekday and time")
            seen.add(key)
        return self


class VisitSlotRead(Schema):
    weekday: int
    time: ClockTimeOut
    activity: str


class VisitPlanRead(Schema):
    member_id: uuid.UUID
    slots: list[VisitSlotRead] = Field(description="By weekday, then time.")
    visits_per_week: int = Field(
        description="Planned visits a week: the days with at least one slot. The lapse scan "
        "compares actual visits against it."
    )
    updated_at: datetime | None = Field(description="When the plan was last saved.")


# --------------------------------------------------------------------------- analytics


class ItemStats(Schema):
    kind: OnboardingKind
    total: int
    done: int
    skipped: int
    open: int
    overdue: int = Field(description="Open past the due date (club-local today).")
    completion_rate: float | None = Field(description="done / total; null without any.")


class RetentionGroup(Schema):
    memberships: int = Field(description="Onboardings whose day 100 has come.")
    retained: int = Field(
        description="...of which the member held a live membership on day 100 (this one or "
        "another, frozen counts, cancelled before that day does not)."
    )
    rate: float | None = Field(description="retained / memberships; null without any.")


class RetentionStats(Schema):
    day: int = RETENTION_DAYS
    completed: RetentionGroup = Field(description=f"Every item done before day {RETENTION_DAYS}.")
    not_completed: RetentionGroup
    pending: int = Field(description=f"Onboardings whose day {RETENTION_DAYS} is still ahead.")


class OnboardingAnalytics(Schema):
    club_id: uuid.UUID
    from_date: date = Field(serialization_alias="from")
    to_date: date = Field(serialization_alias="to")
    memberships: int = Field(description="New memberships starting in the range (onboardings).")
    fully_completed: int = Field(description="...of which every item is done.")
    items: list[ItemStats]
    retention: RetentionStats
