"""One place that mounts every domain router under /api/v1 with its tag."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.auth.router import router as auth_router
from app.clubs.router import router as clubs_router
from app.events.router import router as events_router
from app.jobs.router import router as jobs_router
from app.messaging.router import router as messages_router
from app.staff.router import router as staff_router
from app.webhooks.router import router as webhooks_router

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
        "name": "Messages",
        "description": "The outbox of SMS and e-mail to members: what was sent, what waits "
        "for quiet hours, and what the contact policy suppressed and why.",
    },
    {
        "name": "Webhooks",
        "description": "Subscribe an endpoint to events. Deliveries are signed "
        "(`Webhook-Signature`), retried with backoff for 24 hours, and logged.",
    },
    {
        "name": "Events",
        "description": "Every event as a replayable feed in a stable order: poll with "
        "`after` to catch up after downtime or instead of webhooks.",
    },
    {"name": "Jobs", "description": "Recurring jobs, their runs, and running one now."},
    {"name": "Health", "description": "Liveness, readiness and metrics."},
]

api_router = APIRouter(prefix=API_PREFIX)
api_router.include_router(clubs_router, tags=["Clubs"])
api_router.include_router(staff_router, tags=["Staff"])
api_router.include_router(auth_router, tags=["Tokens"])
api_router.include_router(messages_router, tags=["Messages"])
api_router.include_router(webhooks_router, tags=["Webhooks"])
api_router.include_router(events_router, tags=["Events"])
api_router.include_router(jobs_router, tags=["Jobs"])
