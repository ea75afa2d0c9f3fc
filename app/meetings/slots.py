"""Free meeting slots inside working windows (pure; UTC instants in, UTC instants out)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from app.working_hours.availability import Window


def free_starts(
    windows: Sequence[Window],
    busy: Sequence[Window],
    *,
    length: timedelta,
    buffer: timedelta,
    not_before: datetime,
) -> Iterator[datetime]:
    """Start instants of free slots, earliest first.

    A slot at `t` needs `[t, t + length)` inside a window and `[t, t + length + buffer)`
    clear of every busy block (a booked meeting's `[starts_at, blocked_until)`): the same
    test a booking must pass, so every slot offered can be booked. Slots follow each
    other every `length + buffer` from the window's start; after a busy block the grid
    restarts where the block ends, so the time between meetings is offered too. Stepping
    on instants, not wall times, keeps DST days right.
    """
    block = length + buffer
    ordered = sorted(busy)
    for window in windows:
        t = window.start
        while t + length <= window.end:
            clash = next((b for b in ordered if b.start < t + block and t < b.end), None)
            if clash is not None:
                # Every start before the clash's end overlaps it too.
                t = clash.end
                continue
            if t >= not_before:
                yield t
            t += block
