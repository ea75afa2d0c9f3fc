"""A small sliding-window rate limiter for abuse control.

It counts per process: with N replicas an attacker gets at most N times the budget,
which still turns an online password-guessing or scraping run from free into slow.
Limits that must be exact across replicas belong in the database, not here.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    limit: int
    window_seconds: float
    max_keys: int = 100_000
    _hits: dict[str, deque[float]] = field(default_factory=dict)

    def _trim(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window_seconds:
            hits.popleft()
        return hits

    def retry_after(self, key: str, now: float | None = None) -> int:
        """Seconds until `key` may try again; 0 when it is under the limit."""
        now = time.monotonic() if now is None else now
        hits = self._trim(key, now)
        if len(hits) < self.limit:
            if not hits:
                self._hits.pop(key, None)
            return 0
        return max(1, math.ceil(hits[0] + self.window_seconds - now))

    def hit(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if len(self._hits) >= self.max_keys and key not in self._hits:
            # Bounded memory under a flood of distinct keys: forget the oldest key.
            self._hits.pop(next(iter(self._hits)))
        self._trim(key, now).append(now)

    def reset(self) -> None:
        self._hits.clear()
