from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from app.core.schemas import InputSchema, Instant, Schema


class JobRunRead(Schema):
    id: uuid.UUID
    job_name: str
    trigger: str
    status: str = Field(
        description="`running`, `succeeded`, `failed`, or `abandoned`: its process died "
        "mid-run (a killed worker); the next run of the job closes it and redoes the work."
    )
    as_of: datetime
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int] | None
    error: str | None


class JobRead(Schema):
    name: str
    description: str
    schedule: str
    last_runs: list[JobRunRead]


class JobRunRequest(InputSchema):
    model_config = {"json_schema_extra": {"examples": [{}, {"as_of": "2026-03-01T06:00:00+03:00"}]}}

    as_of: Instant | None = Field(
        default=None,
        description="Run as if it were this instant (admins only; for simulation and tests).",
    )


class JobRunResult(Schema):
    run_id: uuid.UUID
    status: str
    counts: dict[str, int]
    error: str | None = None
