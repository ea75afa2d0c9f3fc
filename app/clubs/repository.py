from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select

from app.models import Club


def visible(club_ids: frozenset[uuid.UUID] | None) -> Select[Any]:
    stmt = select(Club)
    if club_ids is not None:
        stmt = stmt.where(Club.id.in_(club_ids))
    return stmt
