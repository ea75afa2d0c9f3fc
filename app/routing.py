"""The request edge: commit before the response leaves, and Idempotency-Key replay.

Every router uses `AppRoute`. After the endpoint returns normally the request's session
is committed, so a 2xx is only ever sent for work that is durable. A POST carrying an
`Idempotency-Key` is claimed in its own short transaction (visible to concurrent
retries, which get 409 while it is in flight); its response is stored in the same
transaction as the work, so a replay returns exactly what the first call returned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import structlog
from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core.clock import utcnow
from app.db import Database
from app.errors import AppError, Conflict, RuleViolation
from app.models import IdempotencyKey

log = structlog.get_logger(__name__)

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
_REPLAY_HEADERS = ("content-type", "location", "etag")


async def _commit(request: Request) -> None:
    session: AsyncSession | None = getattr(request.state, "session", None)
    if session is None:
        return
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        log.warning("commit_conflict", error=str(exc.orig)[:200])
        raise Conflict(
            "The change conflicts with data written at the same time; retry.",
            code="conflict",
        ) from exc


async def _rollback(request: Request) -> None:
    session: AsyncSession | None = getattr(request.state, "session", None)
    if session is not None:
        await session.rollback()


def _owner(request: Request) -> str:
    # Keys are scoped to the credential that sent them; the token itself is never kept.
    auth = request.headers.get("authorization", "")
    return hashlib.sha256(auth.encode()).hexdigest()


def _check_key(key: str) -> None:
    if not (1 <= len(key) <= 255) or not all(33 <= ord(c) <= 126 for c in key):
        raise RuleViolation(
            "Idempotency-Key must be 1-255 visible ASCII characters.",
            code="invalid_idempotency_key",
        )


async def _claim(
    db: Database, settings: Settings, request: Request, key: str, request_hash: str
) -> IdempotencyKey | Response | None:
    """Claim the key. Returns None when claimed, or a replay Response."""
    now = utcnow()
    owner = _owner(request)
    async with db.sessionmaker() as s:
        s.add(
            IdempotencyKey(
                owner=owner,
                key=key,
                method=request.method,
                path=request.url.path,
                request_hash=request_hash,
                state="in_flight",
                created_at=now,
                expires_at=now + timedelta(hours=settings.idempotency_ttl_hours),
            )
        )
        try:
            await s.commit()
            return None
        except IntegrityError:
            await s.rollback()
        row = (
            await s.scalars(
                select(IdempotencyKey).where(
                    IdempotencyKey.owner == owner, IdempotencyKey.key == key
                )
            )
        ).one_or_none()
        if row is None:  # deleted between our insert and select: a failed first attempt
            raise Conflict(
                "That Idempotency-Key is being retried; try again.", code="idempotency_in_flight"
            )
        if row.request_hash != request_hash:
            raise RuleViolation(
                "This Idempotency-Key was used with a different request.",
                code="idempotency_key_reused",
            )
        if row.state == "completed":
            headers = dict(row.response_headers or {})
            headers["Idempotent-Replayed"] = "true"
            return Response(
                content=row.response_body or b"",
                status_code=row.response_status or 200,
                headers=headers,
            )
        stale = now - timedelta(seconds=settings.idempotency_in_flight_timeout_seconds)
        if row.created_at < stale:
            # The first attempt died mid-flight (process killed): take the key over.
            taken = await s.execute(
                update(IdempotencyKey)
                .where(
                    IdempotencyKey.id == row.id,
                    IdempotencyKey.state == "in_flight",
                    IdempotencyKey.created_at == row.created_at,
                )
                .values(created_at=now)
            )
            await s.commit()
            if getattr(taken, "rowcount", 0) == 1:
                return None
        raise Conflict(
            "A request with this Idempotency-Key is still in progress; retry shortly.",
            code="idempotency_in_flight",
            headers={"Retry-After": "1"},
        )


async def _release(db: Database, request: Request, key: str) -> None:
    async with db.sessionmaker() as s:
        await s.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.owner == _owner(request),
                IdempotencyKey.key == key,
                IdempotencyKey.state == "in_flight",
            )
        )
        await s.commit()


async def _idempotent(request: Request, key: str, original: Handler) -> Response:
    _check_key(key)
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    body = await request.body()
    request_hash = hashlib.sha256(
        b"\n".join(
            [request.method.encode(), request.url.path.encode(), request.url.query.encode(), body]
        )
    ).hexdigest()
    replay = await _claim(db, settings, request, key, request_hash)
    if isinstance(replay, Response):
        return replay
    try:
        response = await original(request)
        if response.status_code >= 300:
            raise _Unstored(response)
        session: AsyncSession | None = getattr(request.state, "session", None)
        values = {
            "state": "completed",
            "response_status": response.status_code,
            "response_body": bytes(response.body),
            "response_headers": {
                k: v for k, v in response.headers.items() if k.lower() in _REPLAY_HEADERS
            },
            "completed_at": utcnow(),
        }
        stmt = (
            update(IdempotencyKey)
            .where(IdempotencyKey.owner == _owner(request), IdempotencyKey.key == key)
            .values(**values)
        )
        if session is not None:
            await session.execute(stmt)
            await _commit(request)
        else:
            async with db.sessionmaker() as s:
                await s.execute(stmt)
                await s.commit()
        return response
    except _Unstored as unstored:
        await _rollback(request)
        await _release(db, request, key)
        return unstored.response
    except BaseException:
        await _rollback(request)
        await _release(db, request, key)
        raise


class _Unstored(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


class AppRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            key = request.headers.get("idempotency-key")
            if key is not None and request.method == "POST":
                return await _idempotent(request, key, original)
            try:
                response = await original(request)
            except AppError:
                await _rollback(request)
                raise
            await _commit(request)
            return response

        return handler
