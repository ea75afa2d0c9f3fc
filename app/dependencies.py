"""Annotated dependency aliases used by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Perm, Principal
from app.auth.service import auth_service
from app.config import Settings
from app.core.clock import utcnow
from app.core.pagination import PageParams, page_params
from app.core.ratelimit import RateLimiter
from app.db import Database
from app.errors import TooManyRequests, Unauthorized


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in
# the thread pool, two thread hand-offs per call on every request that uses it.
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request. The route class commits it before the response is
    returned (see app/routing.py); anything not committed is rolled back on close."""
    db: Database = request.app.state.db
    async with db.sessionmaker() as session:
        request.state.session = session
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
PageDep = Annotated[PageParams, Depends(page_params)]

_bearer = HTTPBearer(auto_error=False, description="A staff or integration token: `crk_...`")


def _client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _limiter(request: Request, name: str, per_minute: int) -> RateLimiter:
    limiters: dict[str, RateLimiter] = request.app.state.rate_limiters
    if name not in limiters:
        limiters[name] = RateLimiter(limit=per_minute, window_seconds=60)
    return limiters[name]


async def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(
            "Send `Authorization: Bearer <token>`.",
            code="missing_token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    failures = _limiter(request, "auth_failures", settings.auth_failures_per_minute)
    client = _client_key(request)
    wait = failures.retry_after(client)
    if wait:
        raise TooManyRequests(
            "Too many failed authentications from this address; wait and retry.",
            headers={"Retry-After": str(wait)},
        )
    try:
        principal = await auth_service.authenticate(session, credentials.credentials, utcnow())
    except Unauthorized:
        failures.hit(client)
        raise
    if session.get_bind().dialect.name == "sqlite":
        # End the auth transaction now: on SQLite every transaction holds the single
        # write lock, and work that opens its own sessions (jobs) must not wait on it.
        # (On PostgreSQL the last-used touch simply commits with the request.)
        await session.commit()
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def requires(perm: Perm) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that resolves the principal and checks one permission."""

    async def _dep(principal: CurrentPrincipal) -> Principal:
        principal.require(perm)
        return principal

    _dep.__name__ = f"requires_{perm.value.replace(':', '_')}"
    return _dep


def expensive(name: str) -> Callable[..., Coroutine[Any, Any, None]]:
    """A dependency that limits how often one token may call an expensive endpoint."""

    async def _dep(request: Request, principal: CurrentPrincipal, settings: SettingsDep) -> None:
        limiter = _limiter(request, f"expensive:{name}", settings.expensive_requests_per_minute)
        key = str(principal.token_id)
        wait = limiter.retry_after(key)
        if wait:
            raise TooManyRequests(
                "This endpoint is rate limited; wait and retry.",
                headers={"Retry-After": str(wait)},
            )
        limiter.hit(key)

    _dep.__name__ = f"rate_limit_{name}"
    return _dep


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="ETag from a previous GET; a stale value gets 412.",
    ),
]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Client retry key: a replay returns the first response; the same key "
        "with another body gets 422 `idempotency_key_reused`.",
    ),
]
