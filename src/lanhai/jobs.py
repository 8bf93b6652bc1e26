"""Background jobs: long work started from the API (annotation, big searches, breeding runs).

A job is a JSON file under ``LANHAI_DATA_DIR/jobs/<id>.json``, rewritten atomically (temp
file + rename) whenever its status or progress changes, so a reader never sees half of one.
Tasks run in a small thread pool inside the serving process; a task may itself use a process
pool (annotation does). A job that was queued or running in a server process that is gone is
reported as ``interrupted``: starting the same work again resumes it, because the work itself
is resumable (annotation markers, idempotent imports).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: a task reports progress as (done, total, what)
Progress = Callable[[int, int, str], None]
Task = Callable[[Progress], Mapping[str, Any]]

QUEUED, RUNNING, DONE, FAILED, INTERRUPTED = "queued", "running", "done", "failed", "interrupted"
FINISHED = (DONE, FAILED, INTERRUPTED)
#: progress is written to disk at most this often (seconds); status changes always are
WRITE_INTERVAL = 0.5
#: ids of the jobs running in this process (any runner), to tell them from leftovers
_RUNNING_HERE: set[str] = set()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    """One background job and what is known of it."""

    id: str
    kind: str
    owner: str
    params: dict[str, Any]
    status: str = QUEUED
    progress: dict[str, Any] = field(default_factory=lambda: {"done": 0, "total": 0,
                                                                "what": ""})
    result: dict[str, Any] | None = None
    error: str | None = None
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)

    def to_dict(self) -> dict[str, Any]:
        """The job as the API shows it."""
        return {"id": self.id, "kind": self.kind, "owner": self.owner, "params": self.params,
                "status": self.status, "progress": dict(self.progress),
                "result": self.result, "error": self.error, "created_at": self.created_at,
                "started_at": self.started_at, "finished_at": self.finished_at}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Job:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


class JobStore:
    """Job files in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, job_id: str) -> Path:
        return self.folder / f"{job_id}.json"

    def save(self, job: Job) -> None:
        """Write the job atomically (a reader sees the old file or the new one)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {**job.to_dict(), "host": job.host, "pid": job.pid}
        tmp = self.folder / f".{job.id}.{uuid.uuid4().hex}.tmp"
        tmp.write_text(json.dumps(data, indent=1, default=str), "utf-8")
        os.replace(tmp, self.path(job.id))

    def load(self, job_id: str) -> Job | None:
        if not _is_job_id(job_id):
            return None
        try:
            data = json.loads(self.path(job_id).read_text("utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return Job.from_dict(data) if isinstance(data, dict) else None

    def all(self) -> list[Job]:
        """Every job on disk, newest first."""
        if not self.folder.is_dir():
            return []
        jobs = [job for path in self.folder.glob("*.json")
                if (job := self.load(path.stem)) is not None]
        return sorted(jobs, key=lambda job: (job.created_at, job.id), reverse=True)


class JobRunner:
    """Starts tasks as jobs and keeps their files up to date."""

    def __init__(self, data_dir: Path, *, workers: int = 2,
                 executor: Executor | None = None) -> None:
        self.store = JobStore(Path(data_dir) / "jobs")
        self._own = executor is None
        self._executor = executor or ThreadPoolExecutor(max_workers=workers,
                                                        thread_name_prefix="lanhai-job")
        self._lock = threading.Lock()
        self._live: dict[str, Job] = {}
        self._finished = threading.Condition(self._lock)

    def submit(self, kind: str, owner: str, params: Mapping[str, Any], task: Task) -> Job:
        """Queue ``task`` as a new job and return it (status ``queued``)."""
        job = Job(id=uuid.uuid4().hex, kind=kind, owner=owner, params=dict(params))
        with self._lock:
            self._live[job.id] = job
            _RUNNING_HERE.add(job.id)
            self.store.save(job)
            queued = self._copy(job)
        self._executor.submit(self._run, job, task)
        return queued

    def get(self, job_id: str) -> Job | None:
        """The job with this id (live or on disk); a dead process's job is ``interrupted``."""
        with self._lock:
            live = self._live.get(job_id)
            if live is not None:
                return self._copy(live)
        job = self.store.load(job_id)
        return _settle(job) if job is not None else None

    def list(self, owner: str | None = None) -> list[Job]:
        """Jobs newest first; only ``owner``'s when given."""
        with self._lock:
            live = {job_id: self._copy(job) for job_id, job in self._live.items()}
        jobs = [live.get(job.id) or _settle(job) for job in self.store.all()]
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
        if self._own:
            self._executor.shutdown(wait=False, cancel_futures=True)

    # -- running -----------------------------------------------------------------------------
    def _run(self, job: Job, task: Task) -> None:
        last_write = 0.0

        def progress(done: int, total: int, what: str) -> None:
            nonlocal last_write
            with self._lock:
                job.progress = {"done": done, "total": total, "what": what}
                now = time.monotonic()
                if now - last_write >= WRITE_INTERVAL or (total and done >= total):
                    last_write = now
                    self.store.save(job)

        with self._lock:
            job.status, job.started_at = RUNNING, _now()
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
            job.finished_at = _now()
            self.store.save(job)
            del self._live[job.id]
            _RUNNING_HERE.discard(job.id)
            self._finished.notify_all()

    def _copy(self, job: Job) -> Job:
        return Job.from_dict({**job.to_dict(), "host": job.host, "pid": job.pid})


def _settle(job: Job) -> Job:
    """A job a vanished process left queued or running is reported as interrupted."""
    if job.status in FINISHED or _alive(job):
        return job
    job.status = INTERRUPTED
    job.error = ("the server stopped before this job finished; start the same work again "
                 "(finished parts are not redone)")
    return job


def _alive(job: Job) -> bool:
    if job.host != socket.gethostname():
        return True  # another machine's job: we cannot tell, trust its file
    if job.pid == os.getpid():
        return job.id in _RUNNING_HERE  # else left by an earlier run with a reused pid
    try:
        os.kill(job.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _describe(err: Exception) -> str:
    message = getattr(err, "message", None) or str(err) or type(err).__name__
    problems = getattr(err, "problems", None)
    if problems:
        message += ": " + "; ".join(p.describe() for p in problems[:20])
    return str(message)


def _jsonable(result: Mapping[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(result, default=str))
    return loaded


def _is_job_id(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)
