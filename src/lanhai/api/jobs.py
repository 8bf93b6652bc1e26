"""Background jobs: GET /api/jobs (your jobs) and GET /api/jobs/{id} (one job's status)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lanhai.api.deps import ActorDep, BankDep

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.get("")
def list_jobs(actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """Your jobs, newest first (admins see everyone's)."""
    return {"jobs": [job.to_dict() for job in bank.jobs.of(actor)]}


@router.get("/{job_id}")
def get_job(job_id: str, actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """One job: status, progress, result or error. Only its owner (or an admin) may read a
    signed-in user's job; an anonymous job is readable by anyone holding its id."""
    return bank.jobs.read(actor, job_id).to_dict()
