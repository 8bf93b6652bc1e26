"""Background jobs: GET /api/jobs (your jobs) and GET /api/jobs/{id} (one job's status)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from lanhai.api.deps import ActorDep
from lanhai.errors import NotFound, Unauthorized
from lanhai.jobs import Job, JobRunner

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


def job_runner(request: Request) -> JobRunner:
    """The application's job runner."""
    runner: JobRunner = request.app.state.jobs
    return runner


@router.get("")
def list_jobs(request: Request, actor: ActorDep) -> dict[str, Any]:
    """Your jobs, newest first (admins see everyone's)."""
    if actor.role == "anonymous":
        raise Unauthorized("sign in to list your jobs; a job started anonymously is read by "
                           "its id at /api/jobs/{id}")
    owner = None if actor.is_admin else actor.username
    return {"jobs": [job.to_dict() for job in job_runner(request).list(owner)]}


@router.get("/{job_id}")
def get_job(job_id: str, request: Request, actor: ActorDep) -> dict[str, Any]:
    """One job: status, progress, result or error. Only its owner (or an admin) may read a
    signed-in user's job; an anonymous job is readable by anyone holding its id."""
    job = job_runner(request).get(job_id)
    if job is None or not _may_read(job, actor.username, actor.is_admin):
        raise NotFound(f"no job {job_id!r}")
    return job.to_dict()


def _may_read(job: Job, username: str, is_admin: bool) -> bool:
    return is_admin or job.owner == username or job.owner == "anonymous"
