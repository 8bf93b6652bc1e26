"""Benchmark: annotation on a Dask cluster against the local process pool, in the same run.

The cluster
    A real one, started here as an operator would: ``dask scheduler`` and ``--workers``
    ``dask worker`` processes (one thread each) on 127.0.0.1, or the one at ``--scheduler``.

What it measures
    * scheduler overhead: 10,000 tiny tasks (``--tiny``) submitted and gathered through the
      cluster, per task; and the same through a local process pool of as many processes;
    * distributed annotation of real proteomes: the 18 flavobacterial proteomes of
      ../shared/data/cazy/proteomes, each ingested ``--copies`` times as its own assembly
      (54 by default), annotated with ``--packs`` (``--steps``) once by the local process
      pool (``lanhai annotate --jobs W --threads 1``) and once on the cluster
      (``--scheduler``), each from a copy of the same bank; wall times, their ratio, and
      whether every result file is byte-for-byte the same.

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_cluster [--copies 3] [--workers 2] [--packs cazy,sus]

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import operator
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DASK = Path(sys.executable).with_name("dask")  # as tests.support.cluster finds it


def tiny_tasks(address: str, count: int, workers: int) -> None:
    """Per-task cost of ``count`` trivial tasks on the cluster and in a process pool."""
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.submit(operator.neg, 0, pure=False).result()  # connections warm
        start = time.perf_counter()
        futures = client.map(operator.neg, range(count), pure=False)
        results = client.gather(futures)
        cluster = time.perf_counter() - start
    assert results == [-i for i in range(count)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(operator.neg, range(workers)))  # processes started
        start = time.perf_counter()
        local = [f.result() for f in [pool.submit(operator.neg, i) for i in range(count)]]
        pool_time = time.perf_counter() - start
    assert local == [-i for i in range(count)]
    print(f"{count:,} tiny tasks: cluster {cluster:.2f} s = {1000 * cluster / count:.3f} ms "
          f"per task ({count / cluster:,.0f} tasks/s); local process pool {pool_time:.2f} s = "
          f"{1000 * pool_time / count:.3f} ms per task")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--copies", type=int, default=3,
                        help="times each of the 18 proteomes is ingested (as its own assembly)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--packs", default="cazy,sus")
    parser.add_argument("--steps", default="families")
    parser.add_argument("--tiny", type=int, default=10_000)
    parser.add_argument("--scheduler", default="", help="an existing cluster (default: start one)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not DASK.exists():
        print("the dask command is not installed (pip install 'lanhai[cluster]'): skipped")
        return 0

    from tests.support.cluster import dask_cluster, result_files

    from lanhai.bank import init_bank, open_bank
    from lanhai.services.access import Actor
    from lanhai.settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="lanhai-bench-cluster-"))
    actor = Actor("bench", "admin")
    proteomes = sorted((args.data / "cazy" / "proteomes").glob("*.faa.gz"))
    print(f"load average {os.getloadavg()[0]:.1f}; {len(proteomes)} proteomes x {args.copies} "
          f"copies; packs {args.packs}; steps {args.steps}; {args.workers} workers")
    local_dir = workdir / "local"
    bank = init_bank(Settings(data_dir=local_dir))
    try:
        accessions = []
        for copy in range(args.copies):
            for path in proteomes:
                record = bank.catalog.create(actor, "assembly", {
                    "assembly_name": f"{path.name.removesuffix('.faa.gz')} #{copy + 1}",
                    "assembly_type": "isolate genome", "seq_meth": "not provided",
                    "assembly_software": "not provided"})
                bank.sequences.ingest(actor, record.accession, path, kind="proteome",
                                      allow_stops=True, set_aside_bad=True)
                accessions.append(record.accession)
    finally:
        bank.close()
    cluster_dir = workdir / "cluster"
    shutil.copytree(local_dir, cluster_dir)
    packs = args.packs.split(",")
    steps = args.steps.split(",")

    with dask_cluster(workdir, args.workers) if not args.scheduler else \
            contextlib.nullcontext(args.scheduler) as address:
        tiny_tasks(address, args.tiny, args.workers)
        timings = {}
        for name, folder, scheduler in (("local process pool", local_dir, ""),
                                        ("Dask cluster", cluster_dir, address)):
            bank = open_bank(Settings(data_dir=folder))
            try:
                start = time.perf_counter()
                report = bank.sequences.annotate(actor, accessions, jobs=args.workers,
                                                 threads=1, pack_names=packs, steps=steps,
                                                 scheduler=scheduler)
                timings[name] = time.perf_counter() - start
                failed = len(report["failed"])
            finally:
                bank.close()
            print(f"{name}: {len(accessions)} assemblies in {timings[name]:.1f} s "
                  f"({timings[name] / len(accessions):.2f} s each); failed {failed}; "
                  f"load average {os.getloadavg()[0]:.1f}", flush=True)
    ours, theirs = (result_files(d / "assemblies") for d in (cluster_dir, local_dir))
    same = sorted(ours) == sorted(theirs) and all(ours[k] == theirs[k] for k in ours)
    parquet = sum(k.endswith(".parquet") for k in ours)
    print(f"result files: {len(ours)} ({parquet} Parquet); byte-for-byte identical: {same}")
    print(f"ratio cluster / local process pool: "
          f"{timings['Dask cluster'] / timings['local process pool']:.3f}x")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
