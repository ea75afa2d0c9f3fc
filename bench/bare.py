"""The briefing's floor: a bare FastAPI route that runs the briefing's queries with raw
asyncpg and returns their rows as JSON (no ORM, no auth, no middleware, no schemas).

    uvicorn bench.bare:create_app --factory     # BENCH_BARE_DSN=postgresql://...

`GET /bare/briefing/{i}` replays the statements the product's briefing of the i-th
benchmark call ran (captured by `bench.briefing`, file in `BENCH_BARE_CAPTURE`) and
returns their rows as JSON; `GET /healthz` lets the harness wait for it.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def create_app() -> FastAPI:
    dsn = os.environ["BENCH_BARE_DSN"]
    # Written by this benchmark run's own capture step (a private temp file).
    captured: list[list[tuple[str, tuple[Any, ...]]]] = pickle.loads(
        Path(os.environ["BENCH_BARE_CAPTURE"]).read_bytes()
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=4, max_size=16)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/bare/briefing/{i}")
    async def briefing(i: int, request: Request) -> Response:
        if not 0 <= i < len(captured):
            raise HTTPException(404)
        out: list[list[dict[str, Any]]] = []
        async with request.app.state.pool.acquire() as conn:
            for sql, params in captured[i]:
                rows = await conn.fetch(sql, *params)
                out.append([_jsonable(dict(r)) for r in rows])
        return JSONResponse(out)

    return app
