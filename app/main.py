"""create_app(): the app, its lifespan (database, embedded scheduler), routers, errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app import __version__
from app.api import TAGS, api_router
from app.config import Settings, get_settings
from app.core.pagination import set_signing_key
from app.db import Database
from app.errors import error_responses, install_error_handlers
from app.integrations import runtime as integrations
from app.jobs_table import load_jobs
from app.logging import configure_logging
from app.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from app.scheduler import build_scheduler
from app.system.router import router as system_router
from app.system.service import signing_key

log = structlog.get_logger(__name__)

DESCRIPTION = """
**club-renewal** keeps fitness-club members after the sale: memberships, freezes and
promotions; check-ins; members who are lapsing or near the end of their term; and
service calls whose only goal is to book an in-club renewal meeting.

**Authorise** with a bearer token (button on the right). On a fresh install run
`club-renewal token create --role admin --name "Your Name"` and paste the last line.

Errors are `application/problem+json` with a stable `code`. Lists are cursor pages:
pass `next_cursor` back as `cursor`. POSTs accept an `Idempotency-Key` header.
"""

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details with a stable `code`.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable snake_case error code."},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}


def operation_id(route: APIRoute) -> str:
    """The route's function name (snake_case) as its OpenAPI operationId.

    FastAPI's default glues the path and method onto it (`create_club_api_v1_clubs_post`),
    which generated clients turn into unreadable method names and which changes whenever a
    path does. Function names are unique across the API (tests/test_openapi.py holds that),
    so a client gets `api.clubs.create_club` and keeps it.
    """
    return route.name


# OpenAPI links: how one operation's answer feeds the next, so clients (and schemathesis'
# stateful runs) can follow the main flows: club -> member -> membership -> freeze /
# renewal; member -> call -> briefing / attempt -> meeting -> outcome; complaint ->
# resolve. (method, path, status) -> {name: link}; a link whose route is not mounted is
# skipped.
LINKS: dict[tuple[str, str, str], dict[str, Any]] = {
    ("post", "/api/v1/clubs", "201"): {
        "AddMember": {
            "operationId": "create_member",
            "requestBody": {"club_id": "$response.body#/id"},
            "description": "Add a member to the new club.",
        },
        "AddPlan": {
            "operationId": "create_plan",
            "requestBody": {"club_id": "$response.body#/id"},
            "description": "Add a plan the new club sells.",
        },
    },
    ("post", "/api/v1/members", "201"): {
        "GetMember": {
            "operationId": "get_member",
            "parameters": {"member_id": "$response.body#/id"},
        },
        "SellMembership": {
            "operationId": "create_membership",
            "requestBody": {"member_id": "$response.body#/id"},
            "description": "Sell the new member a membership (plan_id and start_date to add).",
        },
        "OpenCall": {
            "operationId": "create_call",
            "requestBody": {"member_id": "$response.body#/id"},
            "description": "Open a service call for the new member (kind to add).",
        },
        "OpenComplaint": {
            "operationId": "create_complaint",
            "requestBody": {"member_id": "$response.body#/id"},
            "description": "Record the member's complaint (category, description, ...).",
        },
    },
    ("post", "/api/v1/calls", "201"): {
        "GetCall": {
            "operationId": "get_call",
            "parameters": {"call_id": "$response.body#/id"},
        },
        "GetBriefing": {
            "operationId": "call_briefing",
            "parameters": {"call_id": "$response.body#/id"},
            "description": "Everything to know before dialling.",
        },
        "RecordAttempt": {
            "operationId": "record_attempt",
            "parameters": {"call_id": "$response.body#/id"},
            "description": "Record what came of the call (meeting_booked books the meeting).",
        },
    },
    ("post", "/api/v1/calls/{call_id}/attempts", "201"): {
        "GetCallAfterAttempt": {
            "operationId": "get_call",
            "parameters": {"call_id": "$response.body#/call_id"},
        },
        "GetBookedMeeting": {
            "operationId": "get_meeting",
            "parameters": {"meeting_id": "$response.body#/call/meeting_id"},
            "description": "The meeting a meeting_booked attempt booked.",
        },
    },
    ("post", "/api/v1/complaints", "201"): {
        "GetComplaint": {
            "operationId": "get_complaint",
            "parameters": {"complaint_id": "$response.body#/id"},
        },
        "ResolveComplaint": {
            "operationId": "resolve_complaint",
            "parameters": {"complaint_id": "$response.body#/id"},
        },
    },
    ("post", "/api/v1/memberships", "201"): {
        "GetMembership": {
            "operationId": "get_membership",
            "parameters": {"membership_id": "$response.body#/id"},
        },
        "FreezeMembership": {
            "operationId": "create_freeze",
            "parameters": {"membership_id": "$response.body#/id"},
        },
        "RenewMembership": {
            "operationId": "renew_membership",
            "parameters": {"membership_id": "$response.body#/id"},
        },
    },
    ("post", "/api/v1/memberships/{membership_id}/freezes", "201"): {
        "GetFreeze": {
            "operationId": "get_freeze",
            "parameters": {
                "membership_id": "$response.body#/membership_id",
                "freeze_id": "$response.body#/id",
            },
        },
    },
    ("post", "/api/v1/meetings", "201"): {
        "GetMeeting": {
            "operationId": "get_meeting",
            "parameters": {"meeting_id": "$response.body#/id"},
        },
        "RecordOutcome": {
            "operationId": "record_outcome",
            "parameters": {"meeting_id": "$response.body#/id"},
        },
        "RenewAtMeeting": {
            "operationId": "create_quote",
            "requestBody": {"member_id": "$response.body#/member_id"},
            "description": "Price the renewal to offer at the meeting.",
        },
    },
    ("post", "/api/v1/memberships/{membership_id}/renewals", "201"): {
        "GetRenewedMembership": {
            "operationId": "get_membership",
            "parameters": {"membership_id": "$response.body#/id"},
        },
    },
}


def problems_for_validation(schema: dict[str, Any]) -> None:
    """FastAPI documents a 422 of its own (`application/json`, HTTPValidationError) on
    every route with parameters that does not list one; ours answer problem+json."""
    problem = error_responses(422)[422]
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            response = op.get("responses", {}).get("422")
            if response is not None and "application/json" in response.get("content", {}):
                op["responses"]["422"] = dict(problem)
    schemas = schema.get("components", {}).get("schemas", {})
    text = json.dumps(schema["paths"])
    for name in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{name}" not in text:
            schemas.pop(name, None)


def add_links(schema: dict[str, Any]) -> None:
    """Attach LINKS to the responses they start from (skipping routes not mounted)."""
    for (method, path, status), links in LINKS.items():
        response = schema["paths"].get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is not None:
            response["links"] = links


async def startup(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    db: Database = app.state.db
    set_signing_key(await signing_key(db, settings))
    # One shared HTTP client for message gateways and webhooks (jobs reach it through
    # app.integrations.runtime, which `club-renewal worker` opens the same way).
    app.state.integrations = await integrations.start(settings)
    if app.state.run_scheduler:
        app.state.scheduler = build_scheduler(db)
        app.state.scheduler.start()
        log.info("scheduler_started", mode="embedded")


async def shutdown(app: FastAPI) -> None:
    scheduler = getattr(app.state, "scheduler", None)
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    await integrations.stop()
    if app.state.owns_db:
        await app.state.db.dispose()


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    run_scheduler: bool | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    load_jobs()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await startup(app)
        try:
            yield
        finally:
            await shutdown(app)

    app = FastAPI(
        title="club-renewal",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.owns_db = db is None
    app.state.rate_limiters = {}
    app.state.db = db or Database.from_settings(settings)
    app.state.run_scheduler = (
        settings.scheduler == "embedded" if run_scheduler is None else run_scheduler
    )

    install_error_handlers(app)
    app.include_router(system_router)
    app.include_router(api_router)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "X-Request-ID", "Idempotent-Replayed"],
        )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        batch_max_bytes=settings.batch_max_body_bytes,
    )
    app.add_middleware(RequestContextMiddleware)

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problems_for_validation(schema)
        add_links(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = custom_openapi  # type: ignore[method-assign]
    return app
