from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.schemas import InputSchema, Name, Schema, example
from app.models.outreach import CallKind, StepAction, Trigger
from app.risk.scoring import Level

MAX_STEPS = 50
MAX_OFFSET_DAYS = 365
MAX_WINDOW_DAYS = 90
# A monthly step's first day must stay inside its month (28 days in February).
MAX_MONTHLY_OFFSET_DAYS = 27

StepKey = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
]
TemplateName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
]


class MessageCategory(StrEnum):
    SERVICE = "service"
    MARKETING = "marketing"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"


class StepBase(Schema):
    key: str = Field(description="Stable slug, unique in the playbook (e.g. `welcome_call`).")
    trigger: Trigger = Field(
        description="What starts the clock: `purchase` (a new member's day one), "
        "`expiry_approaching` (the membership's end date), `freeze_ended` (a freeze's last "
        "day), `birthday`, `meeting_no_show`, `complaint_resolved`, `lapse` (the first scan "
        "day of a member's current at-risk run) or `monthly` (the 1st of each month).",
    )
    offset_days: int = Field(
        description="Club-local days after the trigger date the step becomes due (negative "
        "only for `expiry_approaching`: days before the end)."
    )
    window_days: int = Field(
        description="How many more days the step stays due (0: on that day only)."
    )
    action: StepAction = Field(description="`call`, `message` or `task`.")
    call_kind: CallKind | None = Field(default=None, description="The call's kind (calls).")
    template: str | None = Field(default=None, description="Message template (messages).")
    category: MessageCategory = Field(
        default=MessageCategory.SERVICE,
        description="Messages: `service` or `marketing` (needs marketing consent); must be "
        "a category of the template. Other actions: `service`.",
    )
    title: str | None = Field(
        default=None, description="Label shown to staff; required for tasks (the task)."
    )
    priority: int = Field(description="0-100; calls add the member's risk and value.")
    enabled: bool = True
    risk_levels: list[Level] | None = Field(
        default=None, description="`lapse` steps: the risk levels that trigger it (required)."
    )


class StepRead(StepBase):
    pass


class StepWrite(InputSchema):
    key: StepKey = Field(description="Stable slug, unique in the playbook (e.g. `welcome_call`).")
    trigger: Trigger
    offset_days: int = Field(ge=-MAX_OFFSET_DAYS, le=MAX_OFFSET_DAYS)
    window_days: int = Field(default=0, ge=0, le=MAX_WINDOW_DAYS)
    action: StepAction
    call_kind: CallKind | None = None
    template: TemplateName | None = None
    category: MessageCategory = MessageCategory.SERVICE
    title: Name | None = None
    priority: int = Field(default=50, ge=0, le=100)
    enabled: bool = True
    risk_levels: list[Level] | None = Field(default=None, min_length=1, max_length=4)


class PlaybookWrite(InputSchema):
    """The whole plan: PUT replaces every step (send the `ETag` from GET as `If-Match`)."""

    steps: list[StepWrite] = Field(max_length=MAX_STEPS)

    model_config = {
        "json_schema_extra": example(
            steps=[
                {
                    "key": "thank_you",
                    "trigger": "purchase",
                    "offset_days": 0,
                    "window_days": 1,
                    "action": "message",
                    "template": "thank_you",
                    "priority": 50,
                },
                {
                    "key": "welcome_call",
                    "trigger": "purchase",
                    "offset_days": 3,
                    "window_days": 4,
                    "action": "call",
                    "call_kind": "welcome",
                    "title": "Welcome call",
                    "priority": 60,
                },
                {
                    "key": "renewal_call_30",
                    "trigger": "expiry_approaching",
                    "offset_days": -30,
                    "window_days": 7,
                    "action": "call",
                    "call_kind": "renewal",
                    "priority": 70,
                },
                {
                    "key": "lapse_call",
                    "trigger": "lapse",
                    "offset_days": 0,
                    "window_days": 7,
                    "action": "call",
                    "call_kind": "lapse",
                    "priority": 85,
                    "risk_levels": ["at_risk", "lapsed"],
                },
            ]
        )
    }


class PlaybookRead(Schema):
    club_id: uuid.UUID
    version: int = Field(description="Bumped by every PUT; the `ETag` is built from it.")
    updated_at: datetime
    updated_by_id: uuid.UUID | None
    steps: list[StepRead]


class TaskRead(Schema):
    """A staff task the playbook created for one member (a `task` step)."""

    id: uuid.UUID
    club_id: uuid.UUID
    member_id: uuid.UUID
    membership_id: uuid.UUID | None
    step_key: str
    anchor: str = Field(description="What triggered it, e.g. `membership:<id>`, `month:2026-11`.")
    title: str | None
    status: TaskStatus
    due_on: datetime | None = Field(
        description="When the step's window ends (club-local midnight after its last day)."
    )
    created_at: datetime
    completed_at: datetime | None
    completed_by_id: uuid.UUID | None
