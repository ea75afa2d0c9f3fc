"""One place that mounts every domain router under /api/v1 with its tag."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.access.router import router as access_router
from app.auth.router import router as auth_router
from app.checkins.router import router as checkins_router
from app.clubs.router import router as clubs_router
from app.jobs.router import router as jobs_router
from app.staff.router import router as staff_router

API_PREFIX = "/api/v1"

TAGS: list[dict[str, Any]] = [
    {"name": "Clubs", "description": "Clubs with time zone, currency, hours and policies."},
    {"name": "Staff", "description": "People, their roles and the clubs they act for."},
    {
        "name": "Tokens",
        "description": "Bearer tokens for staff and integrations. Secrets are "
        "shown once and stored hashed.",
    },
    {
        "name": "Check-ins",
        "description": "Visits from turnstiles, front desks and apps: one at a time or in "
        "bulk (JSON, NDJSON, CSV), idempotent by device event; the visit log and a "
        "member's attendance.",
    },
    {
        "name": "Access",
        "description": "May this member enter now? Allow or deny with the reason, in the "
        "club's local time.",
    },
    {"name": "Jobs", "description": "Recurring jobs, their runs, and running one now."},
    {"name": "Health", "description": "Liveness, readiness and metrics."},
]

api_router = APIRouter(prefix=API_PREFIX)
api_router.include_router(clubs_router, tags=["Clubs"])
api_router.include_router(staff_router, tags=["Staff"])
api_router.include_router(auth_router, tags=["Tokens"])
api_router.include_router(checkins_router, tags=["Check-ins"])
api_router.include_router(access_router, tags=["Access"])
api_router.include_router(jobs_router, tags=["Jobs"])
