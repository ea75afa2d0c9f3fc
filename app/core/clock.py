"""The one time seam. Business code takes `as_of`; edges call `utcnow()`.

Tests move time by `freeze(...)` instead of patching datetime everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_frozen: ContextVar[datetime | None] = ContextVar("frozen_now", default=None)


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    frozen = _frozen.get()
    return frozen if frozen is not None else datetime.now(UTC)


@contextmanager
def freeze(at: datetime) -> Iterator[None]:
    """Pin `utcnow()` to `at` inside the block (tests and simulations)."""
    if at.tzinfo is None:
        raise ValueError("freeze() needs a timezone-aware instant")
    token = _frozen.set(at.astimezone(UTC))
    try:
        yield
    finally:
        _frozen.reset(token)
