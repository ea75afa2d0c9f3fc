"""The briefing: calls to brief, the product's statements captured for the bare floor.

    python -m bench.briefing SPEC.json    # capture; prints JSON {"capture": path, ...}

The floor must run *the briefing's queries*. Rather than a hand translation that drifts
from the product, the harness builds each call's briefing once through
`app.outreach.briefing.briefing_service.build` with a SQLAlchemy `before_cursor_execute`
hook, and keeps the exact statements (asyncpg `$n` SQL) and parameters. The bare route
(`bench.bare`) replays them on raw asyncpg: same SQL, same number of round trips, none
of the ORM, auth, middleware, transaction handling or response models.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import sys
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any


def available() -> bool:
    try:
        from app.outreach.briefing import briefing_service  # noqa: F401
    except ImportError:
        return False
    return True


async def capture(spec: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy import event, select

    from app.config import Settings
    from app.db import Database
    from app.models import Club, ServiceCall
    from app.outreach.briefing import briefing_service

    db = Database.from_settings(Settings(database_url=spec["url"], scheduler="off"))
    as_of = datetime.fromisoformat(spec["as_of"])
    captured: list[list[tuple[str, tuple[Any, ...]]]] = []
    current: list[tuple[str, tuple[Any, ...]]] = []

    def hook(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "ROLLBACK", "COMMIT", "SAVEPOINT")):
            current.append((statement, tuple(params or ())))

    try:
        for raw in spec["call_ids"]:
            async with db.sessionmaker() as s:
                call = await s.get(ServiceCall, uuid.UUID(raw))
                assert call is not None
                club = (await s.execute(select(Club).where(Club.id == call.club_id))).scalar_one()
                current.clear()
                event.listen(db.engine.sync_engine, "before_cursor_execute", hook)
                try:
                    await briefing_service.build(s, call, club, as_of)
                finally:
                    event.remove(db.engine.sync_engine, "before_cursor_execute", hook)
                captured.append(list(current))
    finally:
        await db.dispose()
    path = _write(captured)
    return {
        "capture": path,
        "calls": len(captured),
        "statements_per_briefing": sorted({len(c) for c in captured}),
    }


def _write(captured: list[list[tuple[str, tuple[Any, ...]]]]) -> str:
    fd, path = tempfile.mkstemp(prefix="crbench-briefing-", suffix=".pickle")
    with open(fd, "wb") as f:
        pickle.dump(captured, f)
    return path


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(capture(spec))))


if __name__ == "__main__":
    main()
