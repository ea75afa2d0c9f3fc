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
from app.db import Database
from app.errors import Unauthorized


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
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


async def get_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(
            "Send `Authorization: Bearer <token>`.",
            code="missing_token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = await auth_service.authenticate(session, credentials.credentials, utcnow())
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
