from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path

from app.auth.permissions import Perm, Principal
from app.dependencies import DatabaseDep, expensive, requires
from app.errors import Forbidden, error_responses
from app.jobs.schemas import JobRead, JobRunRead, JobRunRequest, JobRunResult
from app.jobs.service import job_service
from app.routing import AppRoute
from app.scheduler import JOBS

router = APIRouter(route_class=AppRoute)


@router.get(
    "/jobs",
    summary="List scheduled jobs",
    response_model=list[JobRead],
    responses=error_responses(401, 403),
)
async def list_jobs(
    db: DatabaseDep, _: Annotated[Principal, Depends(requires(Perm.JOBS_READ))]
) -> list[JobRead]:
    """Every recurring job with its schedule and its last five runs."""
    out = []
    for spec in sorted(JOBS.values(), key=lambda s: s.name):
        runs = await job_service.recent_runs(db, spec.name)
        out.append(
            JobRead(
                name=spec.name,
                description=spec.description,
                schedule=spec.schedule,
                last_runs=[JobRunRead.model_validate(r) for r in runs],
            )
        )
    return out


@router.post(
    "/jobs/{name}/run",
    summary="Run a job now",
    response_model=JobRunResult,
    responses=error_responses(401, 403, 404, 409, 422, 429),
)
async def run_job(
    _limit: Annotated[None, Depends(expensive("job_run"))],
    db: DatabaseDep,
    principal: Annotated[Principal, Depends(requires(Perm.JOBS_RUN))],
    name: Annotated[str, Path(max_length=64, description="Job name, e.g. `lapse_scan`.")],
    data: Annotated[JobRunRequest | None, Body()] = None,
) -> JobRunResult:
    """Run a job at once and wait for it. `as_of` (admins only) runs it as if it were that
    instant. A job already running anywhere answers 409 `job_already_running`."""
    job_service.spec(name)
    as_of = data.as_of if data else None
    if as_of is not None and not principal.is_admin:
        raise Forbidden("Only a chain-wide admin may run a job with as_of.")
    run = await job_service.run(
        db, name, as_of=as_of, trigger="manual", triggered_by=principal.staff_id
    )
    assert run is not None  # manual runs raise instead of skipping
    return JobRunResult(run_id=run.id, status=run.status, counts=run.counts or {}, error=run.error)
