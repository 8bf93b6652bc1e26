"""Benchmark: whole-genome annotation (genes, all profile packs, PULs, BGCs) of a ~4 Mb
bacterial genome, Lanhai vs the bare engines, in the same run.

The genome
    No single ~4 Mb bacterial genome ships with the installed packages, so real contigs are
    concatenated (each kept as its own contig, so no gene spans two sources): pyrodigal's
    test genome GCF_001457455.1 (NCTC 11397, 2.46 Mb), MIIJ01000039 (0.87 Mb), pyhmmer's
    OFHT01000022 (0.39 Mb), SRR492066, KK037166 and the three MIBiG clusters in
    ../shared/data/mibig — about 3.95 Mb and 3,700 genes. Gene calling: single mode trained on
    all contigs (as for an isolate genome).

What it measures, in the same run
    * ``lanhai annotate`` through :class:`lanhai.services.sequences.SequenceService` (genes
      + families with every available pack, then clusters with GECCO), ``--threads``
      threads;
    * bare pyrodigal + pyhmmer: training, ``find_genes`` per contig, translation, and
      ``pyhmmer.hmmsearch`` of every pack's HMM groups, no storage;
    * Debian's ``prodigal`` + ``hmmsearch --cpu N`` (``--cut_ga`` for gathering packs, ``-E``
      / ``--domE`` for calibrated ones) on the same genome and HMMs (written as text first,
      not timed), when installed;
    * bare GECCO (``gecco run -g genome.fna -j N``, its own genes and Pfam search) when
      ``--gecco-run`` is given;

and prints times, ratios, and whether Lanhai's hits are identical to hmmsearch's
(protein, family, domain start/end, after the same per-pack rules).

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_annotate [--threads 2] [--gecco-run]

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib.resources import files
from pathlib import Path
from typing import Any

PYRODIGAL = Path(str(files("pyrodigal.tests") / "data"))
PYHMMER = Path(str(files("pyhmmer.tests") / "data" / "seqs"))
MIBIG = Path(__file__).resolve().parents[2] / "shared" / "data" / "mibig"


def _fasta(path: Path) -> list[tuple[str, str]]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    found: list[tuple[str, str]] = []
    with opener(path, "rt") as handle:
        name: str | None = None
        chunks: list[str] = []
        for line in handle:
            if line.startswith(">"):
                if name:
                    found.append((name, "".join(chunks).upper()))
                name, chunks = line[1:].split()[0], []
            else:
                chunks.append(line.strip())
        if name:
            found.append((name, "".join(chunks).upper()))
    return found


def contigs() -> list[tuple[str, str]]:
    from Bio import SeqIO

    found = _fasta(PYRODIGAL / "GCF_001457455.1_NCTC11397_genomic.fna.gz")
    found += _fasta(PYRODIGAL / "MIIJ01000039.fna.gz")
    found += _fasta(PYHMMER / "1390.SAMEA104415756.OFHT01000022.fna")
    found += _fasta(PYRODIGAL / "SRR492066.fna.gz") + _fasta(PYRODIGAL / "KK037166.fna.gz")
    for path in sorted(MIBIG.glob("*.gbk")):
        parse: Any = SeqIO.parse
        for rec in parse(path, "genbank"):
            found.append((f"{rec.id}", str(rec.seq).upper()))
    return found


def write_genome(folder: Path, sequences: list[tuple[str, str]]) -> Path:
    path = folder / "genome.fna"
    with path.open("w") as out:
        for ident, seq in sequences:
            out.write(f">{ident}\n")
            out.writelines(seq[i:i + 80] + "\n" for i in range(0, len(seq), 80))
    return path


def timed(label: str, func: Any, results: dict[str, float]) -> Any:
    start = time.perf_counter()
    value = func()
    results[label] = time.perf_counter() - start
    print(f"  {label}: {results[label]:.1f} s", flush=True)
    return value


def lanhai_run(folder: Path, genome: Path, packs: list[Any], threads: int,
               times: dict[str, float]) -> tuple[str, Any]:
    from lanhai.bank import init_bank
    from lanhai.services.access import Actor
    from lanhai.settings import Settings

    bank = init_bank(Settings(data_dir=folder / "bank",
                              database_url=f"sqlite:///{folder / 'bank.sqlite'}"))
    actor = Actor("bench", "curator")
    record = bank.catalog.create(actor, "assembly", {
        "assembly_name": "bench genome", "assembly_type": "isolate genome",
        "seq_meth": "Illumina", "assembly_software": "SPAdes"})
    service = bank.sequences
    service.ingest(actor, record.accession, genome)
    report = timed("lanhai annotate: genes + families (all packs, hits, substrates, PULs)",
                   lambda: service.annotate(actor, [record.accession], packs=packs,
                                            threads=threads, steps=["genes", "families"]),
                   times)
    timed("lanhai annotate: clusters (GECCO)",
          lambda: service.annotate(actor, [record.accession], threads=threads,
                                   steps=["clusters"]), times)
    item = report["assemblies"][0]
    if report["failed"]:
        raise SystemExit(f"lanhai annotate failed: {report['failed']}")
    print(f"  genes {item['gene_count']}, hits {item['hit_count']}, PULs {item['loci_count']}")
    return record.accession, service


def bare_engines(sequences: list[tuple[str, str]], packs: list[Any], threads: int,
                 times: dict[str, float]) -> int:
    import pyhmmer
    import pyrodigal

    from lanhai.sequence.hmm import MAX_LENGTH, load_pack

    def run() -> int:
        finder = pyrodigal.GeneFinder()
        finder.train(*[seq for _, seq in sequences])
        with ThreadPoolExecutor(threads) as pool:
            found = list(pool.map(finder.find_genes, [seq for _, seq in sequences]))
        alphabet = pyhmmer.easel.Alphabet.amino()
        digital = [pyhmmer.easel.TextSequence(name=f"{c}_{n}".encode(),
                                              sequence=g.translate(include_stop=False))
                   .digitize(alphabet)
                   for (c, _), genes in zip(sequences, found, strict=True)
                   for n, g in enumerate(genes, 1)
                   if len(g.translate(include_stop=False)) <= MAX_LENGTH]  # pyhmmer's limit
        block = pyhmmer.easel.DigitalSequenceBlock(alphabet, digital)
        domains = 0
        for pack in packs:
            loaded = load_pack(pack)
            for hmms, cutoff in loaded.groups:
                options: dict[str, Any] = {"cpus": threads}
                if cutoff:
                    options["bit_cutoffs"] = cutoff
                else:
                    options.update(E=pack.evalue, domE=pack.evalue)
                for top in pyhmmer.hmmsearch(hmms, block, **options):
                    domains += sum(len(hit.domains.reported) for hit in top.reported)
        return domains

    return int(timed("bare pyrodigal + pyhmmer (no storage)", run, times))


def debian(folder: Path, genome: Path, packs: list[Any], threads: int,
           times: dict[str, float]
           ) -> tuple[set[tuple[str, str, str, int, int]], set[tuple[str, str, str, int, int]]
                      ] | None:
    import pyhmmer

    if not (shutil.which("prodigal") and shutil.which("hmmsearch")):
        print("  Debian prodigal/hmmsearch not installed: skipped")
        return None
    texts = {}
    for pack in packs:  # text HMM files for hmmsearch (not timed)
        path = folder / f"{pack.name}.hmm"
        with pyhmmer.plan7.HMMFile(str(pack.path)) as handle, path.open("wb") as out:
            for hmm in handle:
                hmm.write(out)
        texts[pack.name] = path
    proteins = folder / "prodigal.faa"

    searched = folder / "prodigal.searched.faa"

    def run() -> None:
        subprocess.run(["prodigal", "-i", str(genome), "-a", str(proteins), "-o",
                        str(folder / "prodigal.gbk"), "-q"], check=True)
        # hmmsearch aborts on a sequence over 100,000 residues (HMMER's pipeline limit, the
        # same as pyhmmer's): leave such "proteins" out, as Lanhai does
        with searched.open("w") as out:
            for ident, seq in _fasta(proteins):
                seq = seq.rstrip("*")  # Lanhai stores proteins without the stop's '*'
                if len(seq) <= 100_000:
                    out.write(f">{ident}\n{seq}\n")
        for pack in packs:
            cut = ["--cut_ga"] if pack.cutoff == "gathering" else \
                ["-E", str(pack.evalue), "--domE", str(pack.evalue)]
            subprocess.run(["hmmsearch", "--cpu", str(threads), *cut, "--noali", "-o",
                            "/dev/null", "--domtblout", str(folder / f"{pack.name}.domtbl"),
                            str(texts[pack.name]), str(searched)], check=True)

    timed("Debian prodigal + hmmsearch", run, times)
    found, near = set(), set()
    for pack in packs:
        for line in (folder / f"{pack.name}.domtbl").read_text().splitlines():
            if line.startswith("#"):
                continue
            f = line.split()
            family, ievalue, score = f[3], float(f[12]), float(f[13])
            key = (f[0], pack.name, family, int(f[17]), int(f[18]))
            if abs(ievalue - pack.evalue) <= 0.051 * pack.evalue:
                near.add(key)  # domtblout prints 2 digits: cannot decide at the bound
            if ievalue > pack.evalue:
                continue
            if pack.cutoff == "calibrated" and family in pack.thresholds \
                    and score < pack.thresholds[family]:
                continue
            found.add(key)
    return found, near


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gecco-run", action="store_true",
                        help="also time `gecco run` (bare GECCO) on the genome")
    args = parser.parse_args(argv)
    from lanhai.profiles.registry import load_packs

    sequences = contigs()
    size = sum(len(s) for _, s in sequences)
    print(f"genome: {len(sequences)} real contigs, {size:,} bp; threads {args.threads}")
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="lanhai-bench-annotate-") as tmp:
        folder = Path(tmp)
        genome = write_genome(folder, sequences)
        packs = load_packs(folder / "bank")
        print("packs: " + ", ".join(f"{p.name} {p.version} ({p.hmm_count} HMMs, {p.cutoff})"
                                    for p in packs))
        acc, service = lanhai_run(folder, genome, packs, args.threads, times)
        ours = {(r["protein_id"], r["pack"], r["family"], r["ali_from"], r["ali_to"])
                for r in service.store.iter_rows(acc, "hits")}
        bare_domains = bare_engines(sequences, packs, args.threads, times)
        debian_hits = debian(folder, genome, packs, args.threads, times)
        if args.gecco_run:
            ran = timed("bare GECCO: gecco run (its own genes + Pfam search)",
                        lambda: subprocess.run([sys.executable, "-m", "gecco", "run", "-g",
                                                str(genome), "-o", str(folder / "gecco"),
                                                "-j", str(args.threads)], check=False,
                                               capture_output=True, text=True), times)
            if ran.returncode:
                times.pop("bare GECCO: gecco run (its own genes + Pfam search)")
                print("  gecco run failed: " + " | ".join(ran.stderr.strip().splitlines()[-3:]))
    lanhai_core = times["lanhai annotate: genes + families (all packs, hits, substrates, PULs)"]
    total = lanhai_core + times["lanhai annotate: clusters (GECCO)"]
    print("\nresults")
    print(f"  whole-genome annotation (genes, {len(packs)} packs, PULs, BGCs): {total:.1f} s "
          f"(target < 90 s on 2 cores)")
    bare = times["bare pyrodigal + pyhmmer (no storage)"]
    print(f"  genes + families: lanhai {lanhai_core:.1f} s / bare pyrodigal+pyhmmer "
          f"{bare:.1f} s = {lanhai_core / bare:.2f}x (target <= 1.15x)")
    print(f"  hits: lanhai {len(ours)} domains, bare pyhmmer {bare_domains} reported domains "
          "(before the E-value bound)")
    if debian_hits is not None:
        reference, near = debian_hits
        debian_time = times["Debian prodigal + hmmsearch"]
        print(f"  genes + families: lanhai {lanhai_core:.1f} s / Debian prodigal+hmmsearch "
              f"{debian_time:.1f} s = {lanhai_core / debian_time:.2f}x")
        same = ours == reference
        print(f"  hits identical to hmmsearch: {same} (lanhai {len(ours)}, hmmsearch "
              f"{len(reference)}, only lanhai {len(ours - reference)}, only hmmsearch "
              f"{len(reference - ours)})")
        undecided = (ours ^ reference) & near
        print(f"  identical away from the E-value bound: {(ours ^ reference) <= near} "
              f"({len(undecided)} differing domain(s) have an i-Evalue within 5% of the "
              "bound, which domtblout prints with 2 digits)")
        for key in sorted(ours ^ reference):
            print(f"    {'lanhai only' if key in ours else 'hmmsearch only'}: {key}"
                  + (" (at the bound)" if key in near else ""))
    if "bare GECCO: gecco run (its own genes + Pfam search)" in times:
        gecco = times["bare GECCO: gecco run (its own genes + Pfam search)"]
        print(f"  clusters: lanhai {times['lanhai annotate: clusters (GECCO)']:.1f} s / "
              f"gecco run {gecco:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
