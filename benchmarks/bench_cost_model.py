"""Benchmark: the cost model of annotating a large bank on a cluster, from measured CPU time.

The inputs (real sequences; no 100 Mb metagenome assembly ships with the installed packages
or ../shared/data, so its cost is extrapolated, and said so)
    * a 4 Mb isolate genome: the ~3.95 Mb of real contigs of ``bench_annotate`` (pyrodigal's
      and pyhmmer's test genomes, the MIBiG clusters), single-mode gene calling;
    * the same contigs as a metagenome (metagenomic-mode genes, as Lanhai calls them for a
      MAG, a SAG or a metagenome: any assembly that is not an isolate).

What it measures
    Each is ingested and annotated with every step and every available pack on one thread
    (what one single-threaded worker process does with one task): CPU seconds (this process
    and its children), wall seconds, genes, the bytes the results take in the store and the
    process's peak resident memory (so far: the second row includes the first). From
    the per-Mb cost in metagenomic mode it prints the cost of 100,000 metagenome entries on N
    workers: core-hours, hours, and storage, for an assumed entry size (``--entry-mb``,
    default 100 Mb of contigs) and the cluster efficiency measured by ``bench_cluster``
    (``--efficiency``).

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_cost_model [--entry-mb 100] [--workers 64,256,1024]

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.bench_annotate import contigs, write_genome


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(folder: Path, genome: Path, assembly_type: str) -> dict[str, Any]:
    """Ingest and annotate ``genome`` (every step, every pack, one thread)."""
    from lanhai.bank import init_bank
    from lanhai.services.access import Actor
    from lanhai.settings import Settings

    bank = init_bank(Settings(data_dir=folder))
    try:
        actor = Actor("bench", "curator")
        record = bank.catalog.create(actor, "assembly", {
            "assembly_name": f"cost model {assembly_type}", "assembly_type": assembly_type,
            "seq_meth": "Illumina", "assembly_software": "SPAdes"})
        service = bank.sequences
        start_cpu, start = _cpu(), time.perf_counter()
        stored = service.ingest(actor, record.accession, genome)
        ingest_cpu = _cpu() - start_cpu
        service.annotate(actor, [record.accession], jobs=1, threads=1)  # presses the packs
        for path in (service.store.folder(record.accession)).glob("*.done.json"):
            path.unlink()  # annotate again, timed, with the packs pressed (a worker's case)
        start_cpu, start = _cpu(), time.perf_counter()
        report = service.annotate(actor, [record.accession], jobs=1, threads=1)
        cpu, wall = _cpu() - start_cpu, time.perf_counter() - start
        item = report["assemblies"][0]
        size = sum(p.stat().st_size for p in service.store.folder(record.accession).rglob("*")
                   if p.is_file())
        return {"type": assembly_type, "mb": stored["summary"]["genome_size"] / 1e6,
                "cpu": cpu + ingest_cpu, "wall": wall, "genes": item.get("gene_count"),
                "mode": item.get("mode"), "bytes": size,
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    finally:
        bank.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entry-mb", type=float, default=100.0,
                        help="assumed size of one metagenome entry (Mb of contigs)")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--workers", default="64,256,1024")
    parser.add_argument("--efficiency", type=float, default=1.0,
                        help="local-pool time / cluster time measured by bench_cluster")
    args = parser.parse_args(list(argv) if argv is not None else None)
    workdir = Path(tempfile.mkdtemp(prefix="lanhai-bench-cost-"))
    genome = write_genome(workdir, contigs())
    print(f"load average {os.getloadavg()[0]:.1f}")
    rows = [measure(workdir / "isolate", genome, "isolate genome"),
            measure(workdir / "meta", genome, "metagenome")]
    print(f"{'input':<30} {'Mb':>5} {'mode':>6} {'genes':>6} {'CPU s':>7} {'wall s':>7} "
          f"{'CPU s/Mb':>8} {'store MB':>8} {'peak RSS MB':>11}")
    for row in rows:
        print(f"{row['type']:<30} {row['mb']:>5.2f} {row['mode']:>6} {row['genes']:>6} "
              f"{row['cpu']:>7.1f} {row['wall']:>7.1f} {row['cpu'] / row['mb']:>8.1f} "
              f"{row['bytes'] / 1e6:>8.1f} {row['rss_mb']:>11.0f}")
    meta = rows[1]
    per_mb, bytes_per_mb = meta["cpu"] / meta["mb"], meta["bytes"] / meta["mb"]
    core_hours = args.entries * args.entry_mb * per_mb / 3600
    storage = args.entries * args.entry_mb * bytes_per_mb
    print(f"\n{args.entries:,} metagenome entries of {args.entry_mb:g} Mb (extrapolated from the "
          f"metagenomic mode's {per_mb:.1f} CPU s and {bytes_per_mb / 1e6:.2f} MB stored per Mb; "
          f"cluster efficiency {args.efficiency:.2f}):")
    print(f"  {core_hours:,.0f} core-hours; {storage / 1e12:,.1f} TB in the store (the "
          "ingested contigs, genes, proteins, hits, loci and clusters, zstd Parquet)")
    for workers in (int(w) for w in args.workers.split(",")):
        hours = core_hours / workers / args.efficiency
        print(f"  on {workers:>5} single-threaded workers: {hours:,.1f} h ({hours / 24:,.1f} days)")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
