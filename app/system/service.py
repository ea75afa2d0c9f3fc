from __future__ import annotations

import secrets

from app.config import Settings
from app.db import Database
from app.migrate import head_revision, revision_in_session
from app.system import repository


async def signing_key(db: Database, settings: Settings) -> bytes:
    """The cursor signing key: configured, or generated once and shared by all replicas."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    async with db.session_scope() as s:
        value = await repository.get_or_create_setting(
            s, "cursor_signing_key", secrets.token_hex(32)
        )
    return value.encode()


async def readiness(db: Database) -> tuple[bool, dict[str, str]]:
    checks: dict[str, str] = {}
    async with db.sessionmaker() as s:
        try:
            await repository.ping(s)
            checks["database"] = "ok"
        except Exception as exc:  # any failure means "not ready", with the reason
            checks["database"] = f"unreachable: {type(exc).__name__}"
            return False, checks
        try:
            at_head = await revision_in_session(s) == head_revision()
        except Exception as exc:
            checks["migrations"] = f"unknown: {type(exc).__name__}"
            return False, checks
    checks["migrations"] = "at head" if at_head else f"behind head {head_revision()}"
    return at_head, checks
