"""Upkeep of a bank: ``lanhai doctor`` reports health facts that are cheap to check and what
interrupted runs left behind; ``lanhai clean`` removes those leftovers, never anything a live
process is still using (how the two are told apart: :mod:`lanhai.store.leftovers`). A server
cleans the abandoned items once when it starts, in the background. Both need an admin (the
command line acts as one on its own machine). See docs/operations.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from lanhai.errors import LanhaiError, UsageError
from lanhai.services.access import Actor, require_admin
from lanhai.settings import Settings, safe_url
from lanhai.store import leftovers
from lanhai.store.database import Database
from lanhai.store.jobs import FINISHED, INTERRUPTED, DatabaseJobStore, JobStore
from lanhai.store.layout import Layout

OK, WARNING, PROBLEM = "ok", "warning", "problem"
_RANK = {OK: 0, WARNING: 1, PROBLEM: 2}
#: less free space than this (bytes), or than :data:`LOW_SPACE_SHARE` of the device, is a
#: warning; less than :data:`NO_SPACE_BYTES`, a problem (writes are about to fail)
LOW_SPACE_BYTES = 1 << 30
LOW_SPACE_SHARE = 0.05
NO_SPACE_BYTES = 100 << 20
#: an interrupted job younger than this (seconds) is a warning; older ones are listed only
RECENT_JOBS = 7 * 86400
#: at most this many interrupted jobs are listed
LISTED_JOBS = 20
#: an attempt in object storage no pointer names is removed by `lanhai clean` after this
#: long (seconds): a younger one may be a writer's still uploading
ABANDONED_ATTEMPT_AGE = 86400


class MaintenanceService:
    """Health report and clean-up of one bank's data folder."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.layout = Layout(settings.data_dir, settings.storage_url)
        self._db = db
        self._own_db = False
        #: files written outside the data folder (exports, result tables), findable if the
        #: writer dies
        self.files = leftovers.PartialFiles(self.layout.writing)

    @classmethod
    @contextlib.contextmanager
    def for_settings(cls, settings: Settings) -> Iterator[MaintenanceService]:
        """The service for the bank ``settings`` name, as it is: nothing is created, and a
        bank whose schema is older than this Lanhai (or missing) is reported, not refused."""
        service = cls(settings)
        try:
            yield service
        finally:
            if service._own_db and service._db is not None:
                service._db.dispose()

    # -- doctor --------------------------------------------------------------------------------
    def report(self, actor: Actor) -> dict[str, Any]:
        """Health facts (data folder, disk space, schema, jobs, leftovers) and every leftover
        with its path, size, age, why it is there and whether a live process holds it."""
        require_admin(actor)
        now = time.time()
        facts = leftovers.folder_facts(self.layout.root)
        items = leftovers.scan(self.layout) if facts["exists"] else []
        checks = [_folder_check(facts), _space_check(facts), self._schema_check(),
                  self._jobs_check(now), _leftovers_check(items)]
        if self.settings.storage_url:
            checks.append(self._storage_check())
        if self.settings.dask_scheduler and facts["exists"]:
            checks.append(self._cluster_check())
        return {"data_dir": facts["path"], "database_url": safe_url(self.settings.database_url),
                "status": max((c["status"] for c in checks), key=_RANK.__getitem__),
                "checks": checks, "leftovers": [item.to_dict(now) for item in items]}

    def _cluster_check(self) -> dict[str, Any]:
        """The Dask cluster LANHAI_DASK_SCHEDULER names: reachable, its workers running this
        Lanhai and seeing this bank's sequence store (the checks annotation makes first)."""
        from lanhai.services.cluster import CONNECT_TIMEOUT, ClusterExecutor

        address = self.settings.dask_scheduler
        try:
            cluster = ClusterExecutor(address, self.layout.sequence_store().address,
                                      connect_timeout=CONNECT_TIMEOUT / 3)
        except UsageError as err:
            return _check("cluster", PROBLEM, str(err),
                          "start the scheduler and workers, or unset LANHAI_DASK_SCHEDULER "
                          "to annotate on this machine")
        threads = cluster.threads
        cluster.shutdown()
        return _check("cluster", OK, f"{address}: {threads} worker thread"
                      f"{'s' if threads != 1 else ''}, each running this Lanhai and its "
                      "engines and seeing the bank's sequence store", threads=threads)

    def _storage_check(self) -> dict[str, Any]:
        """The object storage LANHAI_STORAGE_URL names: a file written, read back, deleted."""
        from lanhai.store.remote import RemoteStorage

        url = self.settings.storage_url
        try:
            RemoteStorage(url).check()
        except LanhaiError as err:
            return _check("storage", PROBLEM, err.message,
                          "check the storage's address (AWS_ENDPOINT_URL), the bucket and "
                          "the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
        return _check("storage", OK, f"{url}: files are written, read back and deleted")

    def _database(self) -> Database | None:
        """The catalog database, without creating one (None when its SQLite file is
        missing)."""
        if self._db is None:
            file = leftovers.sqlite_file(self.settings.database_url)
            if file is not None and not file.is_file():
                return None
            self._db, self._own_db = Database(self.settings.database_url,
                                              pool=self.settings.database_pool), True
        return self._db

    def _schema_check(self) -> dict[str, Any]:
        check = "schema"
        db = self._database()
        if db is None:
            return _check(check, PROBLEM, "no catalog database at "
                          f"{safe_url(self.settings.database_url)}", "run `lanhai init`")
        try:
            revision, head = db.revision(), db.head_revision()
        except Exception as err:  # an unreachable server, a damaged file: report it
            return _check(check, PROBLEM, f"the catalog database does not answer: "
                          f"{str(err).splitlines()[0][:300]}",
                          "check LANHAI_DATABASE_URL and that the database is running")
        if revision is None:
            return _check(check, PROBLEM, "the database holds no Lanhai bank",
                          "run `lanhai init`")
        if revision != head:
            return _check(check, PROBLEM, f"schema revision {revision}; this version of "
                          f"Lanhai needs {head}", "back the database up, then run "
                          "`lanhai init` to upgrade it (records are kept)",
                          revision=revision, needed=head)
        return _check(check, OK, f"schema revision {revision} (current)", revision=revision)

    def _jobs_check(self, now: float) -> dict[str, Any]:
        db = self._database()
        if db is not None and db.dialect == "postgresql":
            try:
                jobs = DatabaseJobStore(db.engine).all()
            except Exception:  # an older schema without the jobs table: reported above
                jobs = []
        else:
            jobs = JobStore(self.layout.jobs).all()
        counts: dict[str, int] = {}
        for job in jobs:
            counts[job.status] = counts.get(job.status, 0) + 1
        stopped = [job for job in jobs if job.status == INTERRUPTED]
        recent = [job for job in stopped if now - _timestamp(job.created_at) <= RECENT_JOBS]
        listed = [{"id": job.id, "kind": job.kind, "owner": job.owner,
                   "created_at": job.created_at} for job in stopped[:LISTED_JOBS]]
        running = sum(1 for job in jobs if job.status not in FINISHED)
        message = f"{len(jobs)} job(s): {running} queued or running, " \
                  f"{len(stopped)} interrupted"
        if recent:
            return _check("jobs", WARNING, message + f" ({len(recent)} in the last 7 days)",
                          "start the same work again: finished parts are not redone",
                          counts=counts, interrupted=listed)
        return _check("jobs", OK, message, counts=counts, interrupted=listed)

    # -- clean -------------------------------------------------------------------------------
    def clean(self, actor: Actor, *, dry_run: bool = False, downloads: bool = True
              ) -> dict[str, Any]:
        """Remove what interrupted runs left (and uploads that waited longer than a day);
        a commit stopped half-way gets its old data back. Nothing a live process holds is
        touched. ``downloads`` False keeps the partial downloads of profile installs (a
        rerun resumes them); ``dry_run`` only says what would be done."""
        require_admin(actor)
        now = time.time()
        items = leftovers.scan(self.layout) if self.layout.root.is_dir() else []
        cleaned: list[dict[str, Any]] = []
        kept: list[dict[str, Any]] = []
        freed = 0
        for item in items:
            if not item.removable or not (downloads or item.at_startup):
                kept.append(item.to_dict(now))
                continue
            if dry_run:
                cleaned.append({**item.to_dict(now), "result": f"would {item.action}"})
                freed += item.size if item.action == leftovers.REMOVE else 0
                continue
            result = leftovers.remove(item)
            if result in ("removed", "restored"):
                cleaned.append({**item.to_dict(now), "result": result})
                freed += item.size if result == "removed" else 0
            elif result != "gone":  # a writer took it up again meanwhile
                kept.append({**item.to_dict(now), "state": result, "action": "keep"})
        if self.settings.storage_url:
            freed += self._clean_storage(now, dry_run, cleaned)
        return {"data_dir": str(self.layout.root.absolute()), "dry_run": dry_run,
                "cleaned": cleaned, "kept": kept, "freed_bytes": freed}

    def _clean_storage(self, now: float, dry_run: bool, cleaned: list[dict[str, Any]]) -> int:
        """Remove the object storage's abandoned attempts (older than a day); bytes freed."""
        from lanhai.store.remote import RemoteStorage

        remote = RemoteStorage(self.settings.storage_url)
        freed = 0
        for attempt in remote.abandoned(ABANDONED_ATTEMPT_AGE):
            if not dry_run:
                remote.remove(attempt["key"])
            cleaned.append({
                "path": f"{remote.url}/objects/{attempt['accession']}/{attempt['attempt']}",
                "kind": "object storage attempt",
                "why": f"files of {attempt['accession']} that no pointer names: their "
                       "writer stopped before its pointer, or the storage refused to delete "
                       "them; nothing reads them", "size": attempt["size"],
                "age_seconds": round(attempt["age"]), "state": leftovers.ABANDONED,
                "action": leftovers.REMOVE,
                "result": "would remove" if dry_run else "removed"})
            freed += attempt["size"]
        return freed

    def start_cleanup(self, actor: Actor) -> threading.Thread:
        """Clean the abandoned items once, in the background (a server does this when it
        starts; partial downloads are kept so that a rerun resumes them)."""
        require_admin(actor)

        def run() -> None:
            with contextlib.suppress(Exception):  # best effort: `lanhai doctor` tells the rest
                self.clean(actor, downloads=False)

        thread = threading.Thread(target=run, name="lanhai-cleanup", daemon=True)
        thread.start()
        return thread

    # -- files outside the data folder -------------------------------------------------------
    def write_file(self, target: Path, chunks: Iterable[bytes], what: str) -> None:
        """Write a command's output file atomically: a partial file beside ``target``, locked
        while written and noted in the data folder, renamed into place at the end."""
        self.files.write(Path(target), chunks, what)


def write_output(settings: Settings, target: Path, chunks: Iterable[bytes], what: str
                 ) -> None:
    """Write a command's output file atomically (see :meth:`MaintenanceService.write_file`)
    for the bank ``settings`` name."""
    MaintenanceService(settings).write_file(target, chunks, what)


def _check(name: str, status: str, message: str, fix: str | None = None, **facts: Any
           ) -> dict[str, Any]:
    return {"check": name, "status": status, "message": message,
            **({"fix": fix} if fix else {}), **facts}


def _folder_check(facts: dict[str, Any]) -> dict[str, Any]:
    path = facts["path"]
    if not facts["exists"]:
        return _check("data folder", PROBLEM, f"{path} does not exist",
                      "run `lanhai init`, or set LANHAI_DATA_DIR to the bank's folder")
    if not facts["writable"]:
        return _check("data folder", PROBLEM, f"{path} cannot be written"
                      + (f" ({facts['error']})" if facts.get("error") else ""),
                      "give the user running Lanhai write access to it")
    return _check("data folder", OK, f"{path} exists and is writable")


def _space_check(facts: dict[str, Any]) -> dict[str, Any]:
    if "free" not in facts:
        return _check("disk space", OK if not facts["exists"] else WARNING,
                      "unknown (no data folder)" if not facts["exists"] else "unknown")
    free, total = int(facts["free"]), int(facts["total"])
    share = free / total if total else 0.0
    message = f"{human_size(free)} free of {human_size(total)} ({share:.0%})"
    status = PROBLEM if free < NO_SPACE_BYTES else (
        WARNING if free < LOW_SPACE_BYTES or share < LOW_SPACE_SHARE else OK)
    fix = None if status == OK else ("free space on the data folder's device (`lanhai clean` "
                                     "removes what interrupted runs left)")
    return _check("disk space", status, message, fix, free_bytes=free, total_bytes=total)


def _leftovers_check(items: list[leftovers.Leftover]) -> dict[str, Any]:
    removable = [item for item in items if item.removable]
    busy = len(items) - len(removable)
    size = sum(item.size for item in removable)
    tail = f"; {busy} in use by running processes" if busy else ""
    if removable:
        return _check("leftovers", WARNING, f"{len(removable)} left by interrupted runs "
                      f"({human_size(size)}){tail}", "`lanhai clean` removes them",
                      removable=len(removable), in_use=busy, bytes=size)
    return _check("leftovers", OK, f"nothing left by interrupted runs{tail}",
                  removable=0, in_use=busy, bytes=0)


def _timestamp(text: str | None) -> float:
    try:
        return dt.datetime.fromisoformat(str(text)).timestamp()
    except ValueError:
        return 0.0


def human_size(count: float) -> str:
    """A byte count for people: 1.2 MB."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} TB"  # pragma: no cover


__all__ = ["MaintenanceService", "human_size", "write_output"]
