"""Bounds and time for one job run."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

# A run stops taking new batches after this long; the next run continues.
RUN_BUDGET_SECONDS = 120.0
MAX_BATCHES_PER_RUN = 500


class RunClock:
    """`as_of` at the start of the run, advancing with real time during it, so a long
    run stamps later batches later while a simulated `as_of` stays the reference."""

    def __init__(self, as_of: datetime) -> None:
        self._as_of, self._start = as_of, time.monotonic()

    def now(self) -> datetime:
        return self._as_of + timedelta(seconds=self.elapsed)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._start

    @property
    def exhausted(self) -> bool:
        return self.elapsed > RUN_BUDGET_SECONDS


def backoff(attempt: int, base: timedelta, cap: timedelta, *, jitter: float = 0.1) -> timedelta:
    """Exponential backoff (base, 2*base, 4*base, ... up to cap) plus up to `jitter` of
    it at random, so the retries of a burst spread out instead of arriving together."""
    delay: timedelta = min(base * (2.0 ** max(attempt - 1, 0)), cap)
    return delay + delay * (random.random() * jitter)
