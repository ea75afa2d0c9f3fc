"""Errors carry their status and stable code; rendered once as problem+json (RFC 9457)."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://club-renewal.dev/problems/"

log = structlog.get_logger(__name__)


class AppError(Exception):
    """A business error: never a 500. Services raise these; the edge renders them."""

    status: int = 400
    code: str = "bad_request"
    title: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        errors: Sequence[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.errors = list(errors) if errors else None
        self.headers = headers or {}
        self.extra = extra


class NotFound(AppError):
    status = 404
    code = "not_found"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class Conflict(AppError):
    status = 409
    code = "conflict"


class RuleViolation(AppError):
    """A request that is well-formed but breaks a business rule."""

    status = 422
    code = "rule_violation"


class PreconditionFailed(AppError):
    status = 412
    code = "precondition_failed"


class PreconditionRequired(AppError):
    status = 428
    code = "precondition_required"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(AppError):
    status = 429
    code = "rate_limited"


class IntegrationError(AppError):
    status = 502
    code = "integration_error"


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    errors: Sequence[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _pointer(loc: Sequence[Any]) -> str:
    # FastAPI prefixes the source ("body", "query", "path", "header"); the pointer is
    # relative to the body for body fields and names the parameter otherwise.
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


_SAFE_MESSAGES = {
    "missing": "Field required",
    "extra_forbidden": "Unknown field",
    "json_invalid": "Malformed JSON",
}


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Pointer + message for each error; the submitted value is never echoed back."""
    out = []
    for err in exc.errors():
        kind = str(err.get("type", ""))
        msg = _SAFE_MESSAGES.get(kind) or str(err.get("msg", "Invalid value"))
        if "email address" in msg:
            # email-validator explains failures by quoting the offending characters.
            msg = "Not a valid e-mail address"
        # pydantic messages for value errors quote our own text, not the input;
        # input is only ever in err["input"], which is dropped here.
        out.append({"pointer": _pointer(err.get("loc", ())), "detail": msg})
    return out


async def _app_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem(
        exc.status,
        exc.code,
        exc.detail,
        title=exc.title,
        instance=request.url.path,
        errors=exc.errors,
        headers=exc.headers,
        **exc.extra,
    )


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc)
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return problem(
            422,
            "malformed_json",
            "The request body is not valid JSON.",
            instance=request.url.path,
            errors=errors,
        )
    return problem(
        422,
        "validation_error",
        "The request has invalid fields; see errors.",
        instance=request.url.path,
        errors=errors,
    )


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


async def _http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and "parsing the body" in str(exc.detail):
        # FastAPI reports bodies json.loads cannot take (e.g. absurd nesting) as 400;
        # for clients that is the same failure as malformed JSON.
        return problem(
            422,
            "malformed_json",
            "The request body could not be parsed as JSON.",
            instance=request.url.path,
        )
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem(
        exc.status_code, code, detail, instance=request.url.path, headers=dict(exc.headers or {})
    )


def _is_db_unavailable(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout | ConnectionError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    name = type(exc).__name__
    # asyncpg raises these outside SQLAlchemy's wrapping when a connection drops mid-use.
    return name in {
        "ConnectionDoesNotExistError",
        "CannotConnectNowError",
        "ConnectionFailureError",
        "AdminShutdownError",
    }


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    if _is_db_unavailable(exc):
        log.warning("database_unavailable", path=request.url.path, error_type=type(exc).__name__)
        return problem(
            503,
            "service_unavailable",
            "The database is unavailable; retry shortly.",
            instance=request.url.path,
            headers={"Retry-After": "2"},
        )
    log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return problem(
        500,
        "internal_error",
        "An unexpected error occurred. It has been logged; quote the request id.",
        instance=request.url.path,
    )


async def _stale_handler(request: Request, exc: Exception) -> JSONResponse:
    # Optimistic concurrency (version columns) lost a race with another writer.
    return problem(
        409,
        "concurrent_update",
        "The resource was changed by another request; retry.",
        instance=request.url.path,
    )


def install_error_handlers(app: FastAPI) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    app.add_exception_handler(StaleDataError, _stale_handler)
    app.add_exception_handler(AppError, _app_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(Exception, _unhandled_handler)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting problem responses for a route."""
    descriptions = {
        400: "Bad request",
        401: "Missing, invalid or revoked token (`unauthorized`)",
        403: "The token's role or scope does not allow this (`forbidden`)",
        404: "Not found, or belongs to a club this token cannot see (`not_found`)",
        409: "Conflict with the current state",
        412: "`If-Match` does not match the current ETag (`precondition_failed`)",
        413: "Body or batch too large (`payload_too_large`)",
        422: "Invalid input (`validation_error`) or a broken business rule",
        428: "`If-Match` is required (`precondition_required`)",
        429: "Too many requests; see `Retry-After` (`rate_limited`)",
        503: "Database unavailable (`service_unavailable`)",
    }
    if 401 in statuses and 429 not in statuses:
        statuses = (*statuses, 429)  # the auth dependency throttles failed attempts
    return {
        s: {
            "description": descriptions.get(s, HTTPStatus(s).phrase),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }
