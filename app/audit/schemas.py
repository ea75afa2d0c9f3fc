from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from app.core.schemas import Schema


class AuditEntryRead(Schema):
    model_config = {
        "from_attributes": True,
        "json_schema_extra": {
            "examples": [
                {
                    "id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0d01",
                    "club_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0a11",
                    "at": "2026-03-10T06:00:00Z",
                    "actor_staff_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0b21",
                    "actor_token_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0b22",
                    "actor_label": "staff:Ada Admin",
                    "entity": "membership",
                    "entity_id": "0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0c01",
                    "action": "bonus_days_added",
                    "changes": {
                        "end_date": ["2027-03-09", "2027-03-16"],
                        "bonus_days": [0, 7],
                        "days": 7,
                        "reason": "complaint 0190f5a2-7b7e-7c4e-9a35-2f1d1c8e0e01",
                    },
                }
            ]
        },
    }

    id: uuid.UUID
    club_id: uuid.UUID | None = Field(description="Null for chain-level entries (staff).")
    at: datetime
    actor_staff_id: uuid.UUID | None
    actor_token_id: uuid.UUID | None
    actor_label: str = Field(description="`staff:<name>`, `integration:<name>` or `system`.")
    entity: str = Field(description="What changed: member, membership, plan, complaint, ...")
    entity_id: str
    action: str
    changes: dict[str, Any] = Field(
        description="`{field: [old, new]}` for changed fields, plus details of the act."
    )
