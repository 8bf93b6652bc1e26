"""Annotation on a Dask cluster (``LANHAI_DASK_SCHEDULER`` or ``lanhai annotate --scheduler``).

An operator starts the cluster the ordinary way (``dask scheduler`` and ``dask worker`` on
several machines, dask-jobqueue on Slurm or PBS, dask-kubernetes) and Lanhai submits one task
per assembly to it through :class:`ClusterExecutor`, a ``concurrent.futures.Executor`` like
the local process pool it replaces. Workers read the assembly's sequences and write their
staged results straight into the bank's sequence store, so they need no database access: the
client records each finished task in the catalogue.

Before the first task the client checks every worker: it runs the same Lanhai code and
engines (:data:`FINGERPRINT`: the source digest and the pyrodigal, pyhmmer, GECCO and
pyarrow versions) and it sees the same storage (a probe file the client writes must be
readable there). Each task checks the fingerprint again on the worker that runs it, so a
worker that joins later with other code fails its task with a clear message instead of
writing different results. A worker lost in the middle of a task is the scheduler's to
handle: it runs the task again elsewhere (Dask's ``allowed-failures``), and the store's
staged writes mean the lost attempt left nothing visible.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import lanhai
from lanhai.errors import UsageError

#: the environment variable naming the scheduler (``tcp://host:8786``)
SCHEDULER_ENV = "LANHAI_DASK_SCHEDULER"
#: the engines whose versions decide the rows a task writes
ENGINES = ("pyrodigal", "pyhmmer", "gecco", "pyarrow")
#: seconds to wait for the scheduler to answer
CONNECT_TIMEOUT = 15.0


def _source_digest() -> str:
    """SHA-256 of the Lanhai source files this process imported from (sorted by path)."""
    root = Path(lanhai.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _engine_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _fingerprint() -> tuple[tuple[str, str], ...]:
    return (("lanhai", f"{lanhai.__version__} (sources {_source_digest()[:12]})"),
            *((name, _engine_version(name)) for name in ENGINES))


#: what must be the same on the client and every worker for the rows to be the same;
#: computed once, when this module is first imported in a process
FINGERPRINT: tuple[tuple[str, str], ...] = _fingerprint()


class WorkerMismatch(RuntimeError):
    """A worker runs other Lanhai code or engines than the client."""


def describe_difference(ours: Mapping[str, str], theirs: Mapping[str, str]) -> str:
    """``lanhai 0.1.0 (sources 1a2b…) here, 0.2.0 (…) there; pyhmmer …``."""
    return "; ".join(f"{name} {ours.get(name)} here, {theirs.get(name, 'absent')} there"
                     for name in ours if ours.get(name) != theirs.get(name))


def run_checked(expected: tuple[tuple[str, str], ...], fn: Callable[..., Any], /,
                *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` on a worker after checking that it runs the client's code and engines."""
    if expected != FINGERPRINT:
        raise WorkerMismatch(
            f"worker {socket.gethostname()} (pid {os.getpid()}) refused the task: "
            f"{describe_difference(dict(expected), dict(FINGERPRINT))}; install the same "
            "Lanhai and engine versions on every worker and restart it")
    return fn(*args, **kwargs)


def worker_report(store: str, probe: str, token: str) -> dict[str, Any]:
    """What a worker tells the client before the first task: its fingerprint and whether it
    reads the client's probe file (so it sees the same storage). ``store`` is the sequence
    store's address (:attr:`lanhai.store.sequences.SequenceStore.address`)."""
    from lanhai.errors import LanhaiError
    from lanhai.store.sequences import SequenceStore

    try:
        seen = SequenceStore.at(store).read_probe(probe) == token
        problem = "" if seen else "it holds another token (another storage at the same path)"
    except OSError as err:
        seen, problem = False, f"{type(err).__name__}: {err.strerror or err}"
    except LanhaiError as err:
        seen, problem = False, err.message
    return {"fingerprint": dict(FINGERPRINT), "sees_store": seen, "problem": problem,
            "host": socket.gethostname()}


class ClusterExecutor(Executor):
    """Runs tasks on the Dask cluster at ``address`` (``tcp://host:8786``), checked first.

    ``store`` is the address of the bank's sequence store
    (:attr:`lanhai.store.sequences.SequenceStore.address`): a folder every worker must read
    and write at the same path (a shared file system), or object storage every worker
    reaches with its own credentials. Raises UsageError when the scheduler cannot be reached, has
    no workers, or a worker runs other code or cannot see the store.
    """

    def __init__(self, address: str, store: str | Path, *,
                 connect_timeout: float = CONNECT_TIMEOUT) -> None:
        try:
            from distributed import Client
        except ImportError as err:  # pragma: no cover - the cluster extra is missing
            raise UsageError(
                "annotation on a Dask cluster needs the distributed package: "
                "pip install 'lanhai[cluster]'") from err
        self.address = address
        try:
            self._client = Client(address, timeout=connect_timeout, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise UsageError(
                f"cannot reach the Dask scheduler at {address} ({type(err).__name__}: "
                f"{err}); start one with `dask scheduler` and workers with `dask worker "
                f"{address}`, or unset {SCHEDULER_ENV} to annotate on this machine") from err
        try:
            self.threads = self._check(str(store))
        except BaseException:
            self._client.close()
            raise
        self._executor = self._client.get_executor(pure=False)

    def _check(self, store: str) -> int:
        """Check every worker; return the cluster's total worker threads."""
        workers: dict[str, Any] = self._client.scheduler_info(n_workers=-1)["workers"]
        if not workers:
            self._client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
            workers = self._client.scheduler_info(n_workers=-1)["workers"]
        from lanhai.store.sequences import SequenceStore

        local = SequenceStore.at(store)
        token = secrets.token_hex(16)
        probe = local.write_probe(token)
        where = local.remote.url if local.remote is not None else str(local.root)
        try:
            reports: dict[str, dict[str, Any]] = self._client.run(
                worker_report, store, probe, token)
        finally:
            local.remove_probe(probe)
        ours = dict(FINGERPRINT)
        problems = []
        for address, report in sorted(reports.items()):
            if report["fingerprint"] != ours:
                problems.append(f"worker {address} ({report['host']}) runs other code: "
                                + describe_difference(ours, report["fingerprint"]))
            elif not report["sees_store"]:
                problems.append(f"worker {address} ({report['host']}) cannot read the bank's "
                                f"sequence store at {where}: {report['problem']}")
        if problems:
            raise UsageError(
                f"the Dask cluster at {self.address} cannot annotate this bank: "
                + "; ".join(problems) + ". Every worker needs the same Lanhai and engine "
                "versions as this machine, and the bank's data folder on a shared file system "
                "mounted at the same path (or, with LANHAI_STORAGE_URL, credentials for the "
                "object storage)")
        return sum(int(w.get("nthreads", 1)) for w in workers.values()) or len(reports)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` on a worker, after the worker's fingerprint check."""
        future: Future[Any] = self._executor.submit(run_checked, FINGERPRINT, fn, *args,
                                                    **kwargs)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Release the tasks not started (``cancel_futures``) and disconnect."""
        self._executor.shutdown(wait=wait and not cancel_futures)
        self._client.close()
