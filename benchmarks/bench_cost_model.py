"""Benchmark: the cost model of annotating a large bank on a cluster, from measured CPU time.

The inputs (real sequences)
    * a 4 Mb isolate genome: the ~3.95 Mb of real contigs of ``bench_annotate`` (pyrodigal's
      and pyhmmer's test genomes, the MIBiG clusters), single-mode gene calling;
    * the same contigs as a metagenome (metagenomic-mode genes, as Lanhai calls them for a
      MAG, a SAG or a metagenome: any assembly that is not an isolate);
    * with ``--metagenome-mb N``, a mock metagenome assembly of at least N Mb. No real
      metagenome assembly of that size ships with the installed packages or ../shared/data,
      so the mock is assembled from repeated copies of the same real contigs: each copy is
      cut at its own seeded random points into contigs of a metagenome-like length
      (log-normal, median about 3 kb, pieces under 1 kb dropped as assemblies drop them, at
      most 200 kb), a random half reverse-complemented, so contigs differ in their ends and
      strand between copies (:func:`mock_metagenome`). Its content is far less diverse
      than a real metagenome's (every gene recurs in each copy); what it measures is the
      cost per Mb of ingesting, gene calling in contig batches and searching every pack at
      the size of a real entry, and the memory one worker needs for it.

What it measures
    Each input is ingested, then annotated with every step and every available pack on one
    thread (what one single-threaded worker process does with one task, contig batches
    included), the packs pressed beforehand (a worker's case: a bank presses them once).
    The ingest, the pressing and the annotation each run in a fresh process, so the peak
    resident memory of each (``ru_maxrss``) is its own. Printed: CPU seconds and wall seconds
    (ingest + annotation), genes, contig batches, the bytes the results take in the store,
    and the peak memory of the ingest and of the annotation. From the per-Mb CPU and storage
    of the largest metagenome measured (the mock when given, else the 3.95 Mb contigs) it
    prints the cost of 100,000 metagenome entries on N workers: core-hours, hours, and
    storage, for an assumed entry size (``--entry-mb``, default 100 Mb of contigs) and the
    cluster efficiency measured by ``bench_cluster`` (``--efficiency``), beside the same
    figures from the 3.95 Mb contigs.

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_cost_model [--metagenome-mb 100] [--entry-mb 100]
        [--workers 64,256,1024]

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.bench_annotate import contigs, write_genome

#: the mock metagenome's contig lengths: log-normal around this median (bases) ...
MEDIAN = 3_000
#: ... with this spread (sigma of the natural logarithm) ...
SIGMA = 1.1
#: ... pieces shorter than this dropped (as assemblies are filtered), longer ones cut to this
MIN_LENGTH, MAX_LENGTH = 1_000, 200_000
_COMPLEMENT = str.maketrans("ACGTRYKMBDHVN", "TGCAYRMKVHDBN")


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_mb() -> float:
    """This process's peak resident memory so far (ru_maxrss), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mock_metagenome(folder: Path, sources: Sequence[tuple[str, str]], megabases: float,
                    seed: int = 1) -> tuple[Path, dict[str, Any]]:
    """Write a mock metagenome assembly of at least ``megabases`` Mb (``metagenome.fna``)
    from repeated copies of the real ``sources``: each copy cut at its own random points
    (seeded) into log-normal contig lengths, pieces under :data:`MIN_LENGTH` dropped, a random
    half reverse-complemented. Returns the file and its statistics (copies, contigs, lengths)."""
    rng = random.Random(seed)
    target = megabases * 1e6
    lengths: list[int] = []
    copies = total = 0
    path = folder / "metagenome.fna"
    with path.open("w") as out:
        while total < target:
            copies += 1
            for name, seq in sources:
                start = 0
                while start < len(seq) and total < target:
                    size = min(MAX_LENGTH, round(rng.lognormvariate(math.log(MEDIAN), SIGMA)))
                    piece = seq[start:start + size]
                    start += size
                    if len(piece) < MIN_LENGTH:
                        continue
                    if rng.random() < 0.5:
                        piece = piece.translate(_COMPLEMENT)[::-1]
                    out.write(f">mock{copies}_{name}_{start - size + 1}\n")
                    out.writelines(piece[i:i + 80] + "\n" for i in range(0, len(piece), 80))
                    lengths.append(len(piece))
                    total += len(piece)
    ordered = sorted(lengths, reverse=True)
    half, running, n50 = sum(ordered) / 2, 0, 0
    for length in ordered:
        running += length
        if running >= half:
            n50 = length
            break
    return path, {"copies": copies, "contigs": len(lengths), "mb": total / 1e6,
                  "median": statistics.median(lengths), "n50": n50, "largest": ordered[0],
                  "source_mb": sum(len(s) for _, s in sources) / 1e6}


def _bank(folder: Path) -> Any:
    from lanhai.bank import init_bank
    from lanhai.settings import Settings

    return init_bank(Settings(data_dir=folder))


def ingest(folder: Path, genome: Path, assembly_type: str) -> dict[str, Any]:
    """Create an assembly record in a new bank at ``folder`` and ingest ``genome`` (timed)."""
    from lanhai.services.access import Actor

    bank = _bank(folder)
    try:
        actor = Actor("bench", "curator")
        record = bank.catalog.create(actor, "assembly", {
            "assembly_name": f"cost model {assembly_type}", "assembly_type": assembly_type,
            "seq_meth": "Illumina", "assembly_software": "SPAdes"})
        start_cpu, start = _cpu(), time.perf_counter()
        stored = bank.sequences.ingest(actor, record.accession, genome)
        return {"accession": record.accession, "cpu": _cpu() - start_cpu,
                "wall": time.perf_counter() - start,
                "mb": stored["summary"]["genome_size"] / 1e6, "rss_mb": _peak_mb()}
    finally:
        bank.close()


def press(folder: Path) -> int:
    """Press every available pack into the bank's cache (as its first annotation does)."""
    from lanhai.profiles import pressed

    bank = _bank(folder)
    try:
        packs = bank.profiles.load(None)
        cache = pressed.cache_folder(bank.sequences.store.profiles_folder())
        for pack in packs:
            pressed.ensure(pack, cache)
        return len(packs)
    finally:
        bank.close()


def annotate(folder: Path, accession: str, assembly_type: str) -> dict[str, Any]:
    """Annotate the ingested assembly: every step, every pack, one thread, inline (timed)."""
    from lanhai.services.access import Actor
    from lanhai.services.sequences import BATCH_BASES, STEPS

    # GECCO warns once per contig with fewer than 20 genes: thousands of lines on a metagenome
    warnings.filterwarnings("ignore", message="Contig .* does not contain enough proteins")
    bank = _bank(folder)
    try:
        service = bank.sequences
        # the contig batches annotate() plans for it (none unless a metagenome over 50 Mb)
        batches = service._gene_batches(accession, assembly_type, STEPS, BATCH_BASES)
        start_cpu, start = _cpu(), time.perf_counter()
        report = service.annotate(Actor("bench", "curator"), [accession], jobs=1, threads=1)
        cpu, wall = _cpu() - start_cpu, time.perf_counter() - start
        if report["failed"]:
            raise SystemExit(f"annotation failed: {report['failed']}")
        item = report["assemblies"][0]
        size = sum(p.stat().st_size for p in service.store.folder(accession).rglob("*")
                   if p.is_file())
        return {"cpu": cpu, "wall": wall, "genes": item.get("gene_count"),
                "mode": item.get("mode"), "batches": len(batches) or 1, "bytes": size,
                "rss_mb": _peak_mb()}
    finally:
        bank.close()


def _fresh(func: Callable[..., Any], *args: Any) -> Any:
    """``func(*args)`` in a new interpreter, so its peak memory is its own."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(func, *args).result()


def measure(folder: Path, genome: Path, assembly_type: str, label: str) -> dict[str, Any]:
    """Ingest and annotate ``genome`` (every step, every pack, one thread), each stage in a
    fresh process."""
    stored = _fresh(ingest, folder, genome, assembly_type)
    _fresh(press, folder)
    done = _fresh(annotate, folder, stored["accession"], assembly_type)
    row = {**done, "label": label, "mb": stored["mb"], "cpu": stored["cpu"] + done["cpu"],
           "wall": stored["wall"] + done["wall"], "ingest_rss_mb": stored["rss_mb"]}
    shutil.rmtree(folder, ignore_errors=True)
    return row


def _model(row: dict[str, Any], args: argparse.Namespace) -> dict[str, float]:
    per_mb, bytes_per_mb = row["cpu"] / row["mb"], row["bytes"] / row["mb"]
    return {"per_mb": per_mb, "stored_mb": bytes_per_mb / 1e6,
            "core_hours": args.entries * args.entry_mb * per_mb / 3600,
            "tb": args.entries * args.entry_mb * bytes_per_mb / 1e12}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--metagenome-mb", type=float, default=0.0,
                        help="also measure a mock metagenome assembly of at least this many "
                        "Mb, built from repeated real contigs (0: none)")
    parser.add_argument("--seed", type=int, default=1, help="the mock's random cut points")
    parser.add_argument("--entry-mb", type=float, default=100.0,
                        help="assumed size of one metagenome entry (Mb of contigs)")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--workers", default="64,256,1024")
    parser.add_argument("--efficiency", type=float, default=1.0,
                        help="local-pool time / cluster time measured by bench_cluster")
    args = parser.parse_args(list(argv) if argv is not None else None)
    workdir = Path(tempfile.mkdtemp(prefix="lanhai-bench-cost-"))
    sources = contigs()
    genome = write_genome(workdir, sources)
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    small = f"{sum(len(s) for _, s in sources) / 1e6:.2f} Mb real contigs"
    rows = [measure(workdir / "isolate", genome, "isolate genome", f"{small}, isolate"),
            measure(workdir / "meta", genome, "metagenome", f"{small}, metagenome")]
    if args.metagenome_mb > 0:
        mock, stats = mock_metagenome(workdir, sources, args.metagenome_mb, args.seed)
        print(f"mock metagenome assembly (NOT a real metagenome): {stats['mb']:.2f} Mb in "
              f"{stats['contigs']:,} contigs cut from {stats['copies']} copies of the same "
              f"{stats['source_mb']:.2f} Mb of real contigs (seed {args.seed}); contig length "
              f"median {stats['median']:,.0f}, N50 {stats['n50']:,}, largest "
              f"{stats['largest']:,} bases; every gene recurs in each copy, so it measures the "
              "cost per Mb at this size, not a real metagenome's diversity", flush=True)
        rows.append(measure(workdir / "mock", mock, "metagenome",
                            f"{stats['mb']:.0f} Mb mock, metagenome"))
        mock.unlink()
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'input':<34} {'Mb':>6} {'mode':>6} {'genes':>7} {'batches':>7} {'CPU s':>7} "
          f"{'wall s':>7} {'CPU s/Mb':>8} {'store MB':>8} {'peak RSS MB ingest/annotate':>27}")
    for row in rows:
        print(f"{row['label']:<34} {row['mb']:>6.2f} {row['mode']:>6} {row['genes']:>7} "
              f"{row['batches']:>7} {row['cpu']:>7.1f} {row['wall']:>7.1f} "
              f"{row['cpu'] / row['mb']:>8.1f} {row['bytes'] / 1e6:>8.1f} "
              f"{row['ingest_rss_mb']:>13.0f} / {row['rss_mb']:>11.0f}")
    used, smaller = rows[-1], rows[1]
    models = [(used["label"], _model(used, args))]
    if used is not smaller:
        models.append((smaller["label"], _model(smaller, args)))
    workers = [int(w) for w in args.workers.split(",")]
    print(f"\n{args.entries:,} metagenome entries of {args.entry_mb:g} Mb, cluster efficiency "
          f"{args.efficiency:.2f}; the model uses the {used['label']}"
          + (f" (beside it, from the {smaller['label']})" if len(models) > 1 else "") + ":")
    print(f"  {'from':<34} {'CPU s/Mb':>8} {'MB/Mb':>6} {'core-hours':>11} {'store TB':>8}"
          + "".join(f" {f'h on {w}':>10}" for w in workers))
    for label, model in models:
        hours = [model["core_hours"] / w / args.efficiency for w in workers]
        print(f"  {label:<34} {model['per_mb']:>8.2f} {model['stored_mb']:>6.3f} "
              f"{model['core_hours']:>11,.0f} {model['tb']:>8.2f}"
              + "".join(f" {h:>10,.1f}" for h in hours))
    print("  (store: the ingested contigs, genes, proteins, hits, loci and clusters, zstd "
          "Parquet; hours on N single-threaded workers)")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
