"""ETag / If-Match for contested resources (membership, freeze, meeting).

Every such table has an integer `version` column used by SQLAlchemy's optimistic
concurrency (`version_id_col`), so a racing write fails in the database too.
"""

from __future__ import annotations

import uuid

from app.errors import PreconditionFailed, PreconditionRequired


def etag_for(entity_id: uuid.UUID, version: int) -> str:
    return f'"{entity_id.hex}-{version}"'


def check_if_match(
    if_match: str | None, entity_id: uuid.UUID, version: int, *, required: bool
) -> None:
    if if_match is None:
        if required:
            raise PreconditionRequired(
                "This update needs an If-Match header with the ETag from a GET."
            )
        return
    current = etag_for(entity_id, version)
    candidates = [c.strip() for c in if_match.split(",")]
    if "*" in candidates:
        return
    # Weak comparison would be wrong for If-Match (RFC 9110 §13.1.1): strip W/ only to
    # compare the opaque tag itself, which is what clients that add it expect.
    if not any(c.removeprefix("W/") == current for c in candidates):
        raise PreconditionFailed(
            "The resource changed since you read it; GET it again and retry with the new ETag."
        )
