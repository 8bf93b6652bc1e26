"""Background jobs: GET /api/jobs (your jobs) and GET /api/jobs/{id} (one job's status)."""

from __future__ import annotations

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from lanhai.api import schemas
from lanhai.api.deps import ActorDep, BankDep
from lanhai.api.routing import api_router

router = api_router(prefix="/api/jobs", tags=["jobs"])


@router.get("", summary="Your background jobs", response_model=schemas.Jobs)
def list_jobs(actor: ActorDep, bank: BankDep) -> JSONResponse:
    """Your jobs, newest first (admins see everyone's)."""
    jobs = [job.to_dict() for job in bank.jobs.of(actor)]
    return JSONResponse(jsonable_encoder({"jobs": jobs}))


@router.get("/{job_id}", summary="One job: status, progress, result or error",
            response_model=schemas.Job)
def get_job(job_id: str, actor: ActorDep, bank: BankDep) -> JSONResponse:
    """One job: status, progress, result or error. Only its owner (or an admin) may read a
    signed-in user's job; an anonymous job is readable by anyone holding its id. A job
    left by a server that stopped is ``interrupted``."""
    return JSONResponse(jsonable_encoder(bank.jobs.read(actor, job_id).to_dict()))
