"""A real Dask cluster on 127.0.0.1 for the tests and benchmarks: a scheduler and worker
processes started with the ``dask`` command, as an operator would."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from distributed import Client

#: the ``dask`` command of this environment (``pip install 'lanhai[cluster]'``)
DASK = Path(sys.executable).with_name("dask")


@contextmanager
def dask_cluster(folder: Path, workers: int = 2,
                 env: dict[str, str] | None = None) -> Iterator[str]:
    """A scheduler and ``workers`` worker processes (one thread each) on 127.0.0.1."""
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / "scheduler.json"
    log = (folder / "dask.log").open("ab")
    processes = [subprocess.Popen(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", str(file)], stdout=log, stderr=subprocess.STDOUT)]
    try:
        deadline = time.monotonic() + 60
        while not file.exists():
            assert time.monotonic() < deadline, (folder / "dask.log").read_text()
            time.sleep(0.2)
        address = str(json.loads(file.read_text())["address"])
        processes += [subprocess.Popen(
            [str(DASK), "worker", address, "--nthreads", "1", "--no-dashboard",
             "--host", "127.0.0.1", "--name", f"worker-{i}"],
            stdout=log, stderr=subprocess.STDOUT, env=env) for i in range(workers)]
        with Client(address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def result_files(root: Path) -> dict[str, bytes]:
    """Every result file under the sequence store, the markers without their clock."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if not path.is_file() or relative.startswith("."):
            continue
        data = path.read_bytes()
        if path.suffix == ".json":
            content = json.loads(data)
            for key in ("finished_at", "ingested_at"):
                content.pop(key, None)
            data = json.dumps(content, sort_keys=True).encode()
        found[relative] = data
    return found
