"""Benchmark: gene calling on a ~4 Mb bacterial genome, Lanhai vs pyrodigal vs Prodigal.

The genome
    pyrodigal's own test genome GCF_001457455.1 (NCTC 11397, 2.46 Mb, shipped in the
    pyrodigal wheel under ``pyrodigal/tests/data``) as contig 1, plus its first 1.54 Mb again
    as contig 2 (renamed), for 4.0 Mb in two contigs: a draft-genome-sized input made only
    of the shipped real sequence. Single mode, trained on both contigs.

What it measures, in the same run
    * ``lanhai ingest`` (validate, statistics, Parquet) of the gzip FASTA;
    * ``lanhai annotate``'s gene-calling step (training, calling, writing genes and proteins
      to Parquet, completion marker) through :class:`SequenceService`, 1 and 2 threads;
    * bare pyrodigal: ``GeneFinder().train(*contigs)`` + ``find_genes`` per contig;
    * Debian's ``prodigal`` binary (``prodigal -i genome.fna -a genes.faa -d genes.fna -o
      genes.gbk``) when it is installed (``apt-get install prodigal``);

and prints the times, the ratios to bare pyrodigal and to Prodigal, and whether the gene
coordinates and proteins are identical to Prodigal's.

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_genes

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

GENOME = Path(str(files("pyrodigal.tests") / "data")) / "GCF_001457455.1_NCTC11397_genomic.fna.gz"
SECOND_CONTIG = 1_540_000


def _write_genome(folder: Path) -> tuple[Path, Path, list[tuple[str, str]]]:
    with gzip.open(GENOME, "rt") as handle:
        lines = handle.read().splitlines()
    name = lines[0][1:].split()[0]
    sequence = "".join(line.strip() for line in lines[1:])
    contigs = [(name, sequence), (f"{name}_copy", sequence[:SECOND_CONTIG])]
    text = "".join(f">{ident}\n" + "\n".join(seq[i:i + 80] for i in range(0, len(seq), 80))
                   + "\n" for ident, seq in contigs)
    plain = folder / "genome.fna"
    plain.write_text(text)
    packed = folder / "genome.fna.gz"
    packed.write_bytes(gzip.compress(text.encode(), compresslevel=6))
    return plain, packed, contigs


def _timed(label: str, func: object) -> float:
    start = time.perf_counter()
    func()  # type: ignore[operator]
    took = time.perf_counter() - start
    print(f"{label:<44} {took:8.2f} s", flush=True)
    return took


def _bare_pyrodigal(contigs: list[tuple[str, str]]) -> list[tuple[str, int, int, int, str]]:
    import pyrodigal

    finder = pyrodigal.GeneFinder()
    finder.train(*(seq for _, seq in contigs))
    out = []
    for ident, seq in contigs:
        for n, gene in enumerate(finder.find_genes(seq), 1):
            out.append((f"{ident}_{n}", gene.begin, gene.end, gene.strand,
                        gene.translate(include_stop=False)))
    return out


def _prodigal_genes(faa: Path) -> list[tuple[str, int, int, int, str]]:
    genes: list[tuple[str, int, int, int, str]] = []
    header, parts = "", []
    for line in [*faa.read_text().splitlines(), ">"]:
        if line.startswith(">"):
            if header:
                ident, start, end, strand, _ = (p.strip() for p in header.split("#", 4))
                genes.append((ident, int(start), int(end), int(strand),
                              "".join(parts).rstrip("*")))
            header, parts = line[1:], []
        else:
            parts.append(line.strip())
    return genes


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    args = parser.parse_args(list(argv) if argv is not None else None)

    from lanhai.bank import init_bank
    from lanhai.services.access import LOCAL_ADMIN
    from lanhai.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="lanhai-bench-genes-"))
    plain, packed, contigs = _write_genome(folder)
    total = sum(len(seq) for _, seq in contigs)
    print(f"genome: {total:,} bp in {len(contigs)} contigs (NCTC 11397 + its first "
          f"{SECOND_CONTIG:,} bp), pyrodigal test data", flush=True)

    bank = init_bank(Settings(data_dir=folder / "bank"))
    record = bank.catalog.create(LOCAL_ADMIN, "assembly", {
        "assembly_name": "NCTC 11397 x1.6", "assembly_type": "isolate genome",
        "seq_meth": "not provided", "assembly_software": "not provided"})
    service = bank.sequences
    acc = record.accession
    _timed("lanhai ingest (validate, stats, Parquet)",
           lambda: service.ingest(LOCAL_ADMIN, acc, packed))
    times: dict[str, float] = {}
    for threads in (1, 2):
        shutil.rmtree(folder / "bank" / "assemblies" / acc / "genes", ignore_errors=True)
        (folder / "bank" / "assemblies" / acc / "genes.done.json").unlink(missing_ok=True)
        times[f"lanhai{threads}"] = _timed(
            f"lanhai annotate (gene calling), {threads} thread(s)",
            lambda t=threads: service.annotate(LOCAL_ADMIN, [acc], threads=t))  # type: ignore[misc]
    ours = [(r["protein_id"], r["start"], r["end"], r["strand"]) for r in
            service.rows(LOCAL_ADMIN, acc, "genes")]
    our_proteins = [r["sequence"] for r in service.rows(LOCAL_ADMIN, acc, "proteins")]
    bare: list[tuple[str, int, int, int, str]] = []
    times["pyrodigal"] = _timed("bare pyrodigal (train + find_genes), 1 thread",
                                lambda: bare.extend(_bare_pyrodigal(contigs)))
    print(f"genes: lanhai {len(ours):,}, bare pyrodigal {len(bare):,}; identical: "
          f"{[g[:4] for g in bare] == ours and [g[4] for g in bare] == our_proteins}")
    print(f"ratio lanhai (1 thread) / bare pyrodigal: "
          f"{times['lanhai1'] / times['pyrodigal']:.2f}x")

    binary = shutil.which("prodigal")
    if binary is None:
        print("prodigal binary not installed (apt-get install prodigal): no Prodigal timing")
    else:
        out = folder / "prodigal"
        out.mkdir()
        command = [binary, "-q", "-i", str(plain), "-a", str(out / "genes.faa"),
                   "-d", str(out / "genes.fna"), "-o", str(out / "genes.gbk")]
        times["prodigal"] = _timed("prodigal 2.6.3 (Debian binary), 1 thread",
                                   lambda: subprocess.run(command, check=True))
        reference = _prodigal_genes(out / "genes.faa")
        same = [g[:4] for g in reference] == ours and [g[4] for g in reference] == our_proteins
        print(f"genes: prodigal {len(reference):,}; lanhai identical (coordinates, strand, "
              f"ids, proteins): {same}")
        for key, label in (("lanhai1", "lanhai, 1 thread"), ("lanhai2", "lanhai, 2 threads"),
                           ("pyrodigal", "bare pyrodigal")):
            print(f"ratio {label} / prodigal: {times[key] / times['prodigal']:.2f}x")
    bank.close()
    if args.keep:
        print(f"kept {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
