"""What other domains do when a meeting is attended.

Meetings never import the domains that care (an attended onboarding meeting completes
the member's first session, for instance); those register a hook here once, at import
time of their service module, like the privacy registry:

    from app.meetings.hooks import register_attended

    async def first_session_attended(session, meeting, as_of) -> None: ...

    register_attended(first_session_attended)

A hook runs in the transaction that marks the meeting attended (by PATCH status or by
recording an outcome), never commits, and must not rely on the meeting row being
flushed yet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Meeting

AttendedHook = Callable[[AsyncSession, Meeting, datetime], Awaitable[None]]

_attended: list[AttendedHook] = []


def register_attended(fn: AttendedHook) -> AttendedHook:
    """Run `fn` whenever a meeting becomes attended."""
    if fn not in _attended:
        _attended.append(fn)
    return fn


async def attended(session: AsyncSession, meeting: Meeting, as_of: datetime) -> None:
    # The meeting's own change is flushed by the meetings service (which turns constraint
    # violations into clean 409s); a hook's statements must not flush it first.
    with session.no_autoflush:
        for fn in _attended:
            await fn(session, meeting, as_of)
