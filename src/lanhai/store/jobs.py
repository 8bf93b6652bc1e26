"""Background jobs, as files (:class:`JobStore`, an embedded bank) or in the catalogue database
(:class:`DatabaseJobStore`, a bank on PostgreSQL that several servers share).

On disk: ``LANHAI_DATA_DIR/jobs/<id>.json``, rewritten atomically (temp
file + rename) whenever a job's status or progress changes, so a reader never sees half of
one, and ``<id>.lock``, locked (``flock``) by the runner for as long as the job is queued or
running. A job whose file says queued or running but whose lock nobody holds was left by a
server that is gone: it is reported as ``interrupted``. The runner is
:mod:`lanhai.services.jobs`. The partial file of a rewrite is locked while it is written
(:mod:`lanhai.store.leftovers`), so one a killed server left is told from one being written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import itertools
import json
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, insert, select, update

from lanhai.db.schema import jobs as jobs_table
from lanhai.store.leftovers import hold_file, replace_file

QUEUED, RUNNING, DONE, FAILED, INTERRUPTED = "queued", "running", "done", "failed", "interrupted"
FINISHED = (DONE, FAILED, INTERRUPTED)


def now() -> str:
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
    created_at: str = field(default_factory=now)
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


INTERRUPTED_ERROR = ("the server stopped before this job finished; start the same work "
                     "again (finished parts are not redone)")
#: a runner says it is alive this often (seconds) while it holds a job in the database
HEARTBEAT = 10.0
#: a queued or running job in the database whose runner has been silent this long (seconds)
#: was left by a server that is gone
SILENT = 60.0


class JobStorage(Protocol):
    """Where jobs are kept: what :class:`lanhai.services.jobs.JobRunner` needs."""

    def save(self, job: Job) -> None: ...
    def read(self, job_id: str) -> Job | None: ...
    def all(self) -> list[Job]: ...
    def hold(self, job_id: str) -> int: ...
    def release(self, job_id: str, handle: int) -> None: ...


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
        replace_file(self.path(job.id), json.dumps(data, indent=1, default=str).encode())

    def load(self, job_id: str) -> Job | None:
        if not _is_job_id(job_id):
            return None
        try:
            data = json.loads(self.path(job_id).read_text("utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return Job.from_dict(data) if isinstance(data, dict) else None

    def all(self) -> list[Job]:
        """Every job on disk, newest first (a vanished server's are ``interrupted``)."""
        if not self.folder.is_dir():
            return []
        jobs = [job for path in self.folder.glob("*.json")
                if (job := self.read(path.stem)) is not None]
        return sorted(jobs, key=lambda job: (job.created_at, job.id), reverse=True)

    def read(self, job_id: str) -> Job | None:
        """The job as it stands: one left queued or running by a server that is gone (its
        lock is free) is reported ``interrupted``."""
        job = self.load(job_id)
        if job is None or job.status in FINISHED or _alive(self, job):
            return job
        # the runner writes the final status before it lets the lock go: read once more
        job = self.load(job_id)
        if job is None or job.status in FINISHED:
            return job
        job.status = INTERRUPTED
        job.error = INTERRUPTED_ERROR
        return job

    # -- the lock a runner holds while a job is queued or running --------------------------
    def hold(self, job_id: str) -> int:
        """Lock the job for this runner; returns the handle :meth:`release` takes."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = hold_file(self.folder / f"{job_id}.lock").fd
        assert fd is not None
        return fd

    def release(self, job_id: str, fd: int) -> None:
        """Let the lock go (after the job's final status is written) and remove it."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.folder / f"{job_id}.lock")
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def held(self, job_id: str) -> bool:
        """Whether a live runner (in any process on this machine) holds the job's lock."""
        try:
            fd = os.open(self.folder / f"{job_id}.lock", os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False


class DatabaseJobStore:
    """Jobs in the catalogue database's ``jobs`` table, so that every server of a bank on
    PostgreSQL sees them. A runner rewrites a job's row as it moves and, while it holds the
    job, says it is alive every :data:`HEARTBEAT` seconds; a queued or running job silent for
    :data:`SILENT` seconds was left by a server that is gone and reads as ``interrupted``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._handles = itertools.count(1)
        self._beating: threading.Thread | None = None

    def save(self, job: Job) -> None:
        document = json.loads(json.dumps({**job.to_dict(), "host": job.host, "pid": job.pid},
                                         default=str))
        values = {"owner": job.owner, "status": job.status, "created_at": job.created_at,
                  "document": document, "beat": time.time()}
        with self.engine.begin() as conn:
            if not conn.execute(update(jobs_table).where(jobs_table.c.id == job.id)
                                .values(**values)).rowcount:
                conn.execute(insert(jobs_table).values(id=job.id, **values))

    def _row(self, job_id: str) -> tuple[Job, float] | None:
        if not _is_job_id(job_id):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs_table.c.document, jobs_table.c.beat)
                               .where(jobs_table.c.id == job_id)).first()
        return None if row is None else (Job.from_dict(row.document), float(row.beat))

    def load(self, job_id: str) -> Job | None:
        found = self._row(job_id)
        return None if found is None else found[0]

    def all(self) -> list[Job]:
        """Every job, newest first (those of a server that is gone are ``interrupted``)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(jobs_table.c.document, jobs_table.c.beat)
                                .order_by(jobs_table.c.created_at.desc(),
                                          jobs_table.c.id.desc())).all()
        return [self._as_seen(Job.from_dict(row.document), float(row.beat)) for row in rows]

    def read(self, job_id: str) -> Job | None:
        found = self._row(job_id)
        return None if found is None else self._as_seen(*found)

    def _as_seen(self, job: Job, beat: float) -> Job:
        if job.status in FINISHED or job.id in self._held or time.time() - beat < SILENT:
            return job
        job.status, job.error = INTERRUPTED, INTERRUPTED_ERROR
        return job

    def hold(self, job_id: str) -> int:
        """Say this runner holds the job (a heartbeat keeps it alive); a handle."""
        with self._lock:
            self._held.add(job_id)
            if self._beating is None:
                self._beating = threading.Thread(target=self._beat, name="lanhai-job-beat",
                                                 daemon=True)
                self._beating.start()
            return next(self._handles)

    def release(self, job_id: str, handle: int) -> None:
        with self._lock:
            self._held.discard(job_id)

    def held(self, job_id: str) -> bool:
        return job_id in self._held

    def _beat(self) -> None:
        while True:
            time.sleep(HEARTBEAT)
            with self._lock:
                held = sorted(self._held)
            if not held:
                continue
            # a database gone for a moment: the next beat tries again
            with contextlib.suppress(Exception), self.engine.begin() as conn:
                conn.execute(update(jobs_table).where(jobs_table.c.id.in_(held))
                             .values(beat=time.time()))


def _alive(store: JobStore, job: Job) -> bool:
    if job.host != socket.gethostname():
        return True  # another machine's job: its lock may not reach us, trust its file
    return store.held(job.id)


def _is_job_id(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)
