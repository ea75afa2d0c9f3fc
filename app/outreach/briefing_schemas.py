"""The call briefing: everything a caller needs for one call, in one response.

Promotions appear in general terms (name, kind, end date) with no price or discount:
the phone books meetings, prices are discussed face to face (DESIGN principle 2)."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import date, datetime, time
from typing import Any

from pydantic import Field

from app.core.schemas import Schema
from app.meetings.schemas import MeetingSlot


class BriefingCall(Schema):
    id: uuid.UUID
    member_id: uuid.UUID
    membership_id: uuid.UUID | None
    kind: str
    status: str
    reasons: list[dict[str, Any]]
    priority: int
    due_from: datetime
    due_until: datetime
    attempts: int
    assignee_id: uuid.UUID | None
    notes: str | None


class HandoffNote(Schema):
    body: str
    created_at: datetime


class BriefingMember(Schema):
    id: uuid.UUID
    first_name: str
    last_name: str
    phone: str | None
    email: str | None
    birth_date: date | None
    preferred_channel: str
    contact_window_start: time | None = Field(description="Club-local; null: any time.")
    contact_window_end: time | None
    interests: list[str]
    goals: str | None
    do_not_contact: bool
    handoff_notes: list[HandoffNote] = Field(description="What sales learned, newest first.")


class BriefingFreeze(Schema):
    start_date: date
    end_date: date
    reason: str


class BriefingMembership(Schema):
    id: uuid.UUID
    plan_name: str
    start_date: date
    end_date: date
    days_left: int = Field(description="Club-local days to the end date (negative: ended).")
    status: str
    frozen_now: bool
    freeze: BriefingFreeze | None = Field(
        description="The freeze covering today, or the next one within 30 days."
    )
    special_conditions: str | None
    promotion_name: str | None = Field(description="The promotion it was bought on.")
    source: str
    list_price: int
    price_paid: int
    currency: str


class WeeklyVisits(Schema):
    week_start: date
    visits: int


class BriefingAttendance(Schema):
    last_visit_at: datetime | None
    days_since_last_visit: int | None
    visits_last_28_days: int
    usual_visits_per_week: float = Field(
        description="The lapse scan's baseline (the member's own habit) when assessed, else "
        "the average over the last 26 weeks of tenure."
    )
    weekly_counts: list[WeeklyVisits] = Field(description="The last 12 club-local weeks.")


class BriefingRisk(Schema):
    level: str
    score: int
    reasons: list[str]
    suppressed: str | None
    assessed_at: datetime


class AttemptSummary(Schema):
    attempted_at: datetime
    outcome: str
    decline_reason: str | None
    notes: str | None


class CallSummary(Schema):
    id: uuid.UUID
    kind: str
    status: str
    outcome: str | None
    created_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    attempts: list[AttemptSummary]


class MeetingSummary(Schema):
    id: uuid.UUID
    starts_at: datetime
    purpose: str
    status: str
    outcome: str | None
    decline_reason: str | None


class BriefingHistory(Schema):
    calls: list[CallSummary]
    meetings: list[MeetingSummary]


class BriefingComplaint(Schema):
    id: uuid.UUID
    category: str
    severity: str
    status: str
    description: str
    due_at: datetime
    overdue: bool
    created_at: datetime


class PersonalDate(Schema):
    kind: str = Field(description="birthday, family_birthday, name_day, other")
    label: str | None
    date: dt.date = Field(description="The next club-local occurrence.")
    days_until: int


class BriefingPromotion(Schema):
    """General terms only: no price, no discount."""

    name: str
    kind: str
    valid_until: date
    days_left: int


class OnboardingStep(Schema):
    kind: str
    status: str
    due_date: date
    completed_at: datetime | None


class Briefing(Schema):
    call: BriefingCall
    member: BriefingMember
    membership: BriefingMembership | None
    attendance: BriefingAttendance
    risk: BriefingRisk | None
    history: BriefingHistory
    complaints: list[BriefingComplaint]
    personal_dates: list[PersonalDate]
    promotions: list[BriefingPromotion]
    meeting_slots: list[MeetingSlot]
    onboarding: list[OnboardingStep] = Field(
        description="A new membership's checklist (first 100 days); empty otherwise."
    )
    talking_points: list[str]
