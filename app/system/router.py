from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.dependencies import DatabaseDep
from app.system.service import readiness

router = APIRouter(tags=["Health"])


@router.get("/healthz", summary="Liveness", responses={200: {"description": "Process is up"}})
async def healthz() -> dict[str, str]:
    """The process is up. Does not touch the database."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness",
    responses={
        200: {"description": "Ready"},
        503: {"description": "Database unreachable or migrations not at head"},
    },
)
async def readyz(db: DatabaseDep) -> JSONResponse:
    """Ready when the database answers and its schema is at the latest migration."""
    ok, checks = await readiness(db)
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus exposition"}},
)
async def metrics() -> Response:
    """Request counts and latency by route template, in Prometheus text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
