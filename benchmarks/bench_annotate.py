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
    * the first use of the packs in a new bank: pressing each pack that is not pressed
      already into the bank's cache (``profiles/.pressed/``, :mod:`lanhai.profiles.pressed`),
      which the first ``lanhai annotate`` of a bank pays once;
    * ``lanhai annotate`` through :class:`lanhai.services.sequences.SequenceService` (genes
      + families with every available pack, then clusters with GECCO), ``--threads``
      threads, with the bank named by ``LANHAI_DATA_DIR`` as the command line names it;
    * bare pyrodigal + pyhmmer: training, ``find_genes`` per contig, translation, and
      ``pyhmmer.hmmsearch`` of every pack's HMMs (grouped by cut-off as hmmsearch's
      ``--cut_ga`` / ``-E`` need), no storage, twice: with the pack files as shipped (gzip'ed
      text, GECCO's binary ``.h3m``), and with the same profiles pressed
      (``pyhmmer.hmmer.hmmpress``, not timed, then read with ``HMMPressedFile``: pyhmmer's
      fastest form); the two must find the same domains;
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
import os
import resource
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
BARE_TEXT = "bare pyrodigal + pyhmmer, packs as shipped (no storage)"
BARE_PRESSED = "bare pyrodigal + pyhmmer, pressed profiles (no storage)"


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


#: CPU seconds (this process's threads and its children) of each timed step: on a shared,
#: busy machine wall times swing with the load, the work done much less
CPU: dict[str, float] = {}


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, func: Any, results: dict[str, float]) -> Any:
    start, cpu = time.perf_counter(), _cpu()
    value = func()
    results[label] = time.perf_counter() - start
    CPU[label] = _cpu() - cpu
    print(f"  {label}: {results[label]:.1f} s (CPU {CPU[label]:.1f} s)", flush=True)
    return value


def ratio(label: str, ours: str, reference: str, times: dict[str, float]) -> str:
    """``ours`` over ``reference``, in wall time and in CPU time."""
    return (f"  {label}: {times[ours]:.1f} s / {times[reference]:.1f} s = "
            f"{times[ours] / times[reference]:.2f}x wall, CPU {CPU[ours]:.1f} s / "
            f"{CPU[reference]:.1f} s = {CPU[ours] / CPU[reference]:.2f}x")


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


def _groups(pack: Any, profiles: list[Any]) -> list[tuple[list[Any], dict[str, Any]]]:
    """A pack's HMMs (or profiles) with the hmmsearch options that decide their hits:
    ``--cut_ga`` (etc.) for those with the pack's cut-off line, ``-E``/``--domE`` otherwise."""
    mode = pack.cutoff if pack.cutoff in ("gathering", "trusted", "noise") else None
    with_cut = [p for p in profiles if mode and getattr(p.cutoffs, mode) is not None]
    rest = [p for p in profiles if not (mode and getattr(p.cutoffs, mode) is not None)]
    return [(group, options) for group, options in (
        (with_cut, {"bit_cutoffs": mode}),
        (rest, {"E": pack.evalue, "domE": pack.evalue})) if group]


def bare_engines(label: str, sequences: list[tuple[str, str]], packs: list[Any],
                 read: Any, threads: int, times: dict[str, float]
                 ) -> set[tuple[str, str, int, int]]:
    """Genes and hmmsearch with the bare engines, each pack's profiles read by ``read``;
    the reported domains (protein, family, start, end)."""
    import pyhmmer
    import pyrodigal

    from lanhai.sequence.hmm import MAX_LENGTH

    def run() -> set[tuple[str, str, int, int]]:
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
        domains = set()
        for pack in packs:
            for queries, options in _groups(pack, read(pack)):
                for top in pyhmmer.hmmsearch(queries, block, cpus=threads, **options):
                    family = str(top.query.name)
                    domains.update((str(hit.name), family, d.alignment.target_from,
                                    d.alignment.target_to)
                                   for hit in top.reported for d in hit.domains.reported)
        return domains

    found: set[tuple[str, str, int, int]] = timed(label, run, times)
    return found


def read_hmms(pack: Any) -> list[Any]:
    """A pack's HMMs from its file as shipped (gzip'ed text, or binary .h3m)."""
    import pyhmmer

    with pyhmmer.plan7.HMMFile(str(pack.path)) as handle:
        return list(handle)


def press_packs(folder: Path, packs: list[Any]) -> dict[str, Path]:
    """Each pack pressed with pyhmmer's hmmpress into ``folder`` (not timed)."""
    import pyhmmer

    bases = {}
    for pack in packs:
        base = folder / pack.name
        with pyhmmer.plan7.HMMFile(str(pack.path)) as handle:
            pyhmmer.hmmer.hmmpress(handle, base)
        bases[pack.name] = base
    return bases


def snapshot(folder: Path, packs: list[Any]) -> list[Any]:
    """The packs with their HMM files copied into ``folder``, so that every engine of the run
    reads the same HMMs even if a pack is rebuilt meanwhile (GECCO's own Pfam file, which
    nothing rebuilds, is used where it is: annotation recognises it by its path)."""
    import dataclasses

    from lanhai.sequence.hmm import gecco_pfam

    gecco = gecco_pfam()
    copied = []
    for pack in packs:
        if gecco is not None and Path(pack.path).resolve() == gecco[0]:
            copied.append(pack)
            continue
        target = folder / pack.name / Path(pack.path).name
        target.parent.mkdir(parents=True)
        shutil.copyfile(pack.path, target)
        copied.append(dataclasses.replace(pack, path=target))
    return copied


def first_use(bank: Path, packs: list[Any], times: dict[str, float]) -> None:
    """Press the packs into the new bank's cache, as the first ``lanhai annotate`` does."""
    from lanhai.profiles import pressed

    cache = pressed.cache_folder(bank / "profiles")
    each = []

    def run() -> None:
        for pack in packs:
            start = time.perf_counter()
            pressed.ensure(pack, cache)
            each.append(f"{pack.name} {time.perf_counter() - start:.2f} s")

    timed("first use: pressing the packs into the bank's cache", run, times)
    print(f"    ({', '.join(each)})")


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
        packs = snapshot(folder / "packs", load_packs(folder / "bank" / "profiles"))
        print("packs: " + ", ".join(f"{p.name} {p.version} ({p.hmm_count} HMMs, {p.cutoff})"
                                    for p in packs))
        # `lanhai annotate` finds its bank (and the packs' pressed cache) by LANHAI_DATA_DIR
        os.environ["LANHAI_DATA_DIR"] = str(folder / "bank")
        (folder / "bank").mkdir()
        first_use(folder / "bank", packs, times)
        acc, service = lanhai_run(folder, genome, packs, args.threads, times)
        ours = {(r["protein_id"], r["pack"], r["family"], r["ali_from"], r["ali_to"])
                for r in service.store.iter_rows(acc, "hits")}
        bases = press_packs(folder, packs)

        def read_pressed(pack: Any) -> list[Any]:
            import pyhmmer

            with pyhmmer.plan7.HMMPressedFile(bases[pack.name]) as handle:
                return list(handle)

        bare_text = bare_engines(BARE_TEXT, sequences, packs, read_hmms, args.threads, times)
        bare_pressed = bare_engines(BARE_PRESSED, sequences, packs, read_pressed,
                                    args.threads, times)
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
    pressing = times["first use: pressing the packs into the bank's cache"]
    print(f"  first use of the packs in a new bank (pressing, once): {pressing:.1f} s; "
          f"the first annotation of a bank: {total + pressing:.1f} s")
    core = "lanhai annotate: genes + families (all packs, hits, substrates, PULs)"
    print(ratio("genes + families, lanhai / bare pyrodigal + pyhmmer on pressed profiles "
                "(target <= 1.15x)", core, BARE_PRESSED, times))
    print(ratio("genes + families, lanhai / bare pyrodigal + pyhmmer on the packs as shipped",
                core, BARE_TEXT, times))
    print(ratio("bare, pressed / as shipped", BARE_PRESSED, BARE_TEXT, times)
          + f"; same domains: {bare_pressed == bare_text} ({len(bare_pressed)} / "
          f"{len(bare_text)} reported domains, before the E-value bound)")
    print(f"  hits: lanhai {len(ours)} domains")
    if debian_hits is not None:
        reference, near = debian_hits
        print(ratio("genes + families, lanhai / Debian prodigal + hmmsearch", core,
                    "Debian prodigal + hmmsearch", times))
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
