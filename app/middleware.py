"""Pure ASGI middleware: request ids and access logs, metrics, and the body-size limit."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_JSON, TYPE_BASE

log = structlog.get_logger("app.access")

REQUESTS = Counter(
    "club_renewal_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
LATENCY = Histogram(
    "club_renewal_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Request id (accepted from X-Request-ID or generated), access log and metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            template = _route_template(scope)
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(elapsed)
            # Paths may carry ids but never personal data; query strings are not logged.
            log.info(
                "request",
                method=scope["method"],
                route=template,
                status=status,
                ms=round(elapsed * 1000, 1),
            )


def _route_template(scope: Scope) -> str:
    """The matched route's full template, e.g. /api/v1/clubs/{club_id} (never raw ids).

    Routes inside included routers know only their own part of the path; the prefix is
    the concrete path minus as many segments as the route's template has.
    """
    route_path = getattr(scope.get("route"), "path", None)
    if not isinstance(route_path, str) or not route_path:
        return "unmatched"
    depth = route_path.rstrip("/").count("/")
    path: str = scope["path"].rstrip("/")
    parts = path.split("/")
    prefix = "/".join(parts[: len(parts) - depth]) if depth else path
    return prefix + route_path


class _TooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """413 for bodies over the limit, without reading them whole.

    Content-Length is checked up front; chunked bodies are counted as they stream in.
    Upload endpoints whose path ends in `/batch` get the larger batch limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, batch_max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.batch_max_bytes = batch_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.batch_max_bytes if scope["path"].endswith("/batch") else self.max_bytes
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False
            if too_big:
                await _send_413(send, scope["path"], limit)
                return
        received = 0
        exceeded = False
        replaced = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The framework may turn the aborted read into its own error response;
            # whatever it answers, the client gets the 413.
            nonlocal replaced, started
            if exceeded:
                if not replaced and message["type"] == "http.response.start":
                    replaced = True
                    await _send_413(send, scope["path"], limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if exceeded and not started and not replaced:
                await _send_413(send, scope["path"], limit)
            elif not exceeded:
                raise


async def _send_413(send: Send, path: str, limit: int) -> None:
    body: dict[str, Any] = {
        "type": TYPE_BASE + "payload_too_large",
        "title": "Content Too Large",
        "status": 413,
        "detail": f"The request body exceeds the limit of {limit} bytes.",
        "code": "payload_too_large",
        "instance": path,
    }
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(raw)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})
