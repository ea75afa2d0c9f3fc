"""The process's integration runtime: settings and one shared `httpx.AsyncClient`.

The API process opens it in its lifespan and `club-renewal worker` around the scheduler,
so the `messages` and `webhooks` jobs (plain `job(db, as_of)` functions) reuse one
connection pool per process instead of opening a client per run.
"""

from __future__ import annotations

import httpx

from app import __version__
from app.config import Settings

USER_AGENT = f"club-renewal/{__version__}"


class Runtime:
    """Settings plus the shared client, created on first use (building an SSL context
    costs ~50 ms, which a process that never sends anything should not pay)."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._http = http

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = make_client(self.settings)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


_current: Runtime | None = None


def make_client(settings: Settings) -> httpx.AsyncClient:
    longest = max(settings.webhook_timeout_seconds, settings.gateway_timeout_seconds)
    return httpx.AsyncClient(
        # Per-request timeouts are set by each caller; this is the upper bound.
        timeout=httpx.Timeout(longest, connect=min(5.0, longest)),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        follow_redirects=False,  # a redirect could lead a webhook to a private address
        headers={"User-Agent": USER_AGENT},
        trust_env=False,  # never route deliveries through an ambient proxy by accident
    )


async def start(settings: Settings, *, http: httpx.AsyncClient | None = None) -> Runtime:
    """Open the runtime (idempotent per process: a second start replaces the first)."""
    global _current
    if _current is not None:
        await stop()
    _current = Runtime(settings, http)
    return _current


async def stop() -> None:
    global _current
    runtime, _current = _current, None
    if runtime is not None:
        await runtime.aclose()


def current() -> Runtime:
    if _current is None:
        raise RuntimeError(
            "the integration runtime is not started (the API lifespan and "
            "`club-renewal worker` start it)"
        )
    return _current
