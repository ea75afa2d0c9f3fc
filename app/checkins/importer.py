"""`club-renewal import-checkins`: an access-control export (CSV or NDJSON) into a club.

The edge of a file import, as a router is the edge of a request: it opens the session,
streams the file through the same ingest service as `POST /checkins/batch`, and commits
after every chunk, so a huge file never becomes one huge transaction and an interrupted
import keeps what it committed.

Re-running is safe. Rows with a device event id are deduplicated by it; rows without
one get `device_id` "import" (when they have none) and a `device_event_id` derived from
their content (`row-` + SHA-256 of club, member or card, instant, source and device),
so the same row imported twice is one visit. Two identical rows are therefore one
visit, which is what a file listing the same card at the same second means. Rows must
carry `checked_in_at` (a derived id needs a stable instant); `club_id` and `source`
default to the `--club` and `turnstile`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from app.checkins.parsing import Format, RowContext, parse
from app.checkins.service import IngestReport, checkin_service
from app.core.clock import utcnow
from app.db import Database

READ_BYTES = 256 * 1024

Progress = Callable[[int, IngestReport], Awaitable[None] | None]


def format_of(path: Path, given: str | None) -> Format | None:
    if given is not None:
        return Format(given) if given in (Format.CSV, Format.NDJSON) else None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return Format.CSV
    if suffix in (".ndjson", ".jsonl"):
        return Format.NDJSON
    return None


async def _chunks(path: Path, seen: list[int]) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        while chunk := await asyncio.to_thread(f.read, READ_BYTES):
            seen[0] += len(chunk)
            yield chunk


async def import_file(
    db: Database,
    path: Path,
    *,
    club_id: uuid.UUID,
    fmt: Format,
    chunk_rows: int,
    progress: Progress | None = None,
) -> IngestReport:
    """Import `path` into `club_id`, committing chunk by chunk. Raises `NotFound`
    (`club_not_found`) for an unknown club and `RuleViolation` for a bad CSV header,
    before anything is written."""
    seen = [0]
    async with db.sessionmaker() as session:
        await checkin_service.require_club(session, club_id)
        ctx = RowContext(
            as_of=utcnow(),
            visible_clubs=frozenset({club_id}),
            default_club_id=club_id,
            default_source="turnstile",
            require_instant=True,
            derive_event_ids=True,
        )

        async def committed(report: IngestReport) -> None:
            await session.commit()
            if progress is not None:
                result = progress(seen[0], report)
                if result is not None:
                    await result

        try:
            report = await checkin_service.ingest(
                session,
                parse(fmt, _chunks(path, seen), ctx),
                ctx,
                max_rows=None,
                chunk_rows=chunk_rows,
                after_chunk=committed,
            )
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
    if progress is not None:
        result = progress(seen[0], report)
        if result is not None:
            await result
    return report
