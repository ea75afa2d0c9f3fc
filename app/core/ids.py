"""Primary keys: time-ordered UUIDv7, so inserts stay local in B-tree indexes."""

from __future__ import annotations

import uuid

import uuid6


def new_id() -> uuid.UUID:
    return uuid.UUID(int=uuid6.uuid7().int)
