"""Background jobs: long work started from the API and the pages (annotation, big searches,
breeding runs), and who may read them.

Tasks run in a small thread pool inside the serving process; a task may itself use a process
pool (annotation does). Each job is a file the store rewrites atomically as it moves
(:mod:`lanhai.store.jobs`); a job that was queued or running in a server that is gone is
reported as ``interrupted``: starting the same work again resumes it, because the work itself
is resumable (annotation markers, idempotent imports). A job is read by its owner or an admin;
one started anonymously by whoever holds its id.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lanhai.errors import NotFound, Unauthorized
from lanhai.services.access import Actor, may_read_job
from lanhai.store.jobs import DONE, FAILED, FINISHED, RUNNING, Job, JobStorage, JobStore, now

#: a task reports progress as (done, total, what)
Progress = Callable[[int, int, str], None]
Task = Callable[[Progress], Mapping[str, Any]]
#: progress is written to disk at most this often (seconds); status changes always are
WRITE_INTERVAL = 0.5


class JobRunner:
    """Starts tasks as jobs and keeps their files up to date."""

    def __init__(self, folder: Path | None = None, *, workers: int = 2,
                 executor: Executor | None = None, store: JobStorage | None = None) -> None:
        if store is None:
            if folder is None:
                raise ValueError("a job runner needs a folder or a store")
            store = JobStore(folder)
        self.store: JobStorage = store
        self._workers = workers
        self._given = executor
        self._executor: Executor | None = executor
        self._lock = threading.Lock()
        self._live: dict[str, Job] = {}
        self._finished = threading.Condition(self._lock)

    def _pool(self) -> Executor:
        with self._lock:
            if self._executor is None:  # started with the first job, not with the bank
                self._executor = ThreadPoolExecutor(max_workers=self._workers,
                                                    thread_name_prefix="lanhai-job")
            return self._executor

    # -- for everyone, under the access rule ----------------------------------------------
    def read(self, actor: Actor, job_id: str) -> Job:
        """One job ``actor`` may read (404 otherwise, the same as for no such job)."""
        job = self.get(job_id)
        if job is None or not may_read_job(actor, job.owner):
            raise NotFound(f"no job {job_id!r}")
        return job

    def of(self, actor: Actor) -> list[Job]:
        """The caller's jobs, newest first (admins: everyone's). Signed-in callers only: a
        job started anonymously is read by its id."""
        if not actor.signed_in:
            raise Unauthorized("sign in to list your jobs; a job started anonymously is read "
                               "by its id at /api/jobs/{id}")
        return self.list(None if actor.is_admin else actor.username)

    # -- running ---------------------------------------------------------------------------
    def submit(self, kind: str, owner: str, params: Mapping[str, Any], task: Task) -> Job:
        """Queue ``task`` as a new job and return it (status ``queued``)."""
        job = Job(id=uuid.uuid4().hex, kind=kind, owner=owner, params=dict(params))
        pool = self._pool()
        handle = self.store.hold(job.id)
        with self._lock:
            self._live[job.id] = job
            self.store.save(job)
            queued = self._copy(job)
        pool.submit(self._run, job, task, handle)
        return queued

    def get(self, job_id: str) -> Job | None:
        """The job with this id (live or on disk); a dead server's job is ``interrupted``."""
        with self._lock:
            live = self._live.get(job_id)
            if live is not None:
                return self._copy(live)
        return self.store.read(job_id)

    def list(self, owner: str | None = None) -> list[Job]:
        """Jobs newest first; only ``owner``'s when given."""
        with self._lock:
            live = {job_id: self._copy(job) for job_id, job in self._live.items()}
        jobs = [live.get(job.id) or job for job in self.store.all()]
        return [job for job in jobs if owner is None or job.owner == owner]

    def wait(self, job_id: str, timeout: float = 60.0) -> Job:
        """Block until the job has finished (for tests and the CLI); TimeoutError if not."""
        deadline = time.monotonic() + timeout
        with self._finished:
            while True:
                live = self._live.get(job_id)
                if live is None or live.status in FINISHED:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"job {job_id} still {live.status} after {timeout} s")
                self._finished.wait(left)
        job = self.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    def shutdown(self) -> None:
        """Stop taking jobs; running ones finish (the server is stopping)."""
        if self._given is None and self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, job: Job, task: Task, handle: int) -> None:
        last_write = 0.0

        def progress(done: int, total: int, what: str) -> None:
            nonlocal last_write
            with self._lock:
                job.progress = {"done": done, "total": total, "what": what}
                moment = time.monotonic()
                if moment - last_write >= WRITE_INTERVAL or (total and done >= total):
                    last_write = moment
                    self.store.save(job)

        try:
            with self._lock:
                job.status, job.started_at = RUNNING, now()
                self.store.save(job)
            result_: dict[str, Any] | None = None
            error: str | None = None
            try:
                result_ = _jsonable(task(progress))
            except Exception as err:  # a failed task is reported on the job, never raised
                status, error = FAILED, _describe(err)
            else:
                status = DONE
            with self._finished:
                job.status, job.result, job.error = status, result_, error
                job.finished_at = now()
                self.store.save(job)
                del self._live[job.id]
                self._finished.notify_all()
        finally:
            self.store.release(job.id, handle)

    def _copy(self, job: Job) -> Job:
        return Job.from_dict({**job.to_dict(), "host": job.host, "pid": job.pid})


def _describe(err: Exception) -> str:
    message = getattr(err, "message", None) or str(err) or type(err).__name__
    problems = getattr(err, "problems", None)
    if problems:
        message += ": " + "; ".join(p.describe() for p in problems[:20])
    return str(message)


def _jsonable(result: Mapping[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(result, default=str))
    return loaded


__all__ = ["Job", "JobRunner", "Progress", "Task"]
