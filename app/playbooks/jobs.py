"""The `playbook` job: turn every club's due playbook steps into calls, messages and
tasks (DESIGN §5)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

import structlog

from app.db import Database
from app.playbooks.service import CHUNK, COUNT_KEYS, playbook_service

log = structlog.get_logger(__name__)

# A step never needs more chunks than this in one run; the next run goes on.
MAX_CHUNKS_PER_STEP = 500


async def playbook(db: Database, as_of: datetime) -> Mapping[str, int]:
    """Every 15 minutes: for each active club, on its local today (DST-correct), each
    enabled step in chunks of one short transaction each. Safe to rerun, to catch up
    after downtime (a step stays due for its window) and to run in two replicas at once:
    the effects' unique key claims each (member, step, anchor) once. A failing chunk is
    logged and counted; the other steps and clubs go on, and the next run retries it."""
    async with db.sessionmaker() as s:
        clubs = await playbook_service.clubs(s, as_of)
    counts: Counter[str] = Counter()
    for club in clubs:
        try:
            async with db.session_scope() as s:
                steps = await playbook_service.enabled_steps(s, club.club_id)
        except Exception:
            log.exception("playbook_club_failed", club_id=str(club.club_id))
            counts["failed"] += 1
            continue
        counts["clubs"] += 1
        for step in steps:
            for _ in range(MAX_CHUNKS_PER_STEP):
                try:
                    async with db.session_scope() as s:
                        chunk = await playbook_service.materialise(s, club, step, as_of=as_of)
                except Exception:
                    log.exception("playbook_step_failed", club_id=str(club.club_id), step=step.key)
                    counts["failed"] += 1
                    break
                counts.update(chunk.counts)
                # Fewer than a chunk left, or another runner holds the rest: done for now.
                if chunk.found < CHUNK or chunk.claimed == 0:
                    break
    return {
        "clubs": counts["clubs"],
        **{k: counts[k] for k in COUNT_KEYS},
        "failed": counts["failed"],
    }
