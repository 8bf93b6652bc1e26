"""Benchmark: protein similarity search on a bank of N proteins (default 1,000,000).

How the bank is made (cached under ``benchmarks/output/seqbank-<N>/``)
    * seeds: every protein of the real Maribacter/flavobacterial proteomes in
      ``../shared/data/cazy/proteomes`` (but one, held out, see below) and the proteins of
      the genomes shipped in the pyrodigal wheel (Prodigal's reference translations of
      KK037166, MIIJ01000039, SRR492066, and NCTC 11397's 2.46 Mb genome called with
      pyrodigal);
    * the rest by simulated evolution of random seeds: a divergence ``d`` drawn uniformly in
      0.05-0.8 substitutions per site; each site substituted with probability ``d`` by a
      residue drawn from BLOSUM62's conditional probabilities ``P(b|a) ∝ p_b exp(λ S_ab)``
      (λ = 0.3176, the NCBI ungapped λ of BLOSUM62; ``p`` the seeds' composition; S from
      Biopython's BLOSUM62 table); indels at 0.1 events per substitution (half insertions
      of background residues, half deletions), lengths geometric with mean 3 (p = 1/3);
    * split into pseudo-assemblies of 3,500 proteins each, ingested into a Lanhai bank
      (SQLite catalog + Parquet store) and indexed with ``lanhai search index``.

What it measures, in the same run
    * building the index (``SequenceIndex.update``) for the whole bank;
    * one protein query, warm (after ``touchdb``): median of 5 through ``SequenceSearch``
      (query checks, MMseqs2, merge, lineage);
    * 1,000 queries (real proteins of the held-out proteome) through ``SequenceSearch`` vs
      ``mmseqs easy-search queries.faa bank.faa out.m8 tmp --threads T`` run directly on the
      same FASTA with the same binary; prints the ratio (bar: <= 1.3) and the overlap of
      (query, target) pairs;
    * adding one ~4 Mb genome's proteins (the held-out real proteome, ≈3,800 proteins) to
      the index: ``update`` time, files of the old segment untouched, then a warm query.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_search_seq --size 1000000

It asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterator, Sequence
from importlib.resources import files
from pathlib import Path

import numpy as np

OUTPUT = Path(__file__).parent / "output"
PROTEOMES = Path(__file__).resolve().parents[2] / "shared" / "data" / "cazy" / "proteomes"
HELD_OUT = "Maribacter_litoralis_SDRB-Phe2.faa.gz"
PYRODIGAL = Path(str(files("pyrodigal.tests") / "data"))
AA = "ARNDCQEGHILKMFPSTWYV"
LAMBDA = 0.3176
PER_ASSEMBLY = 3500


def read_fasta(path: Path) -> Iterator[tuple[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    ident, parts = None, []
    with opener(path, "rt") as lines:  # type: ignore[operator]
        for line in lines:
            if line.startswith(">"):
                if ident is not None:
                    yield ident, "".join(parts)
                ident, parts = line[1:].split()[0], []
            else:
                parts.append(line.strip())
    if ident is not None:
        yield ident, "".join(parts)


def seeds() -> list[tuple[str, str]]:
    """Real proteins: the proteomes (but the held-out one) and pyrodigal's genomes."""
    import pyrodigal

    out: list[tuple[str, str]] = []
    for path in sorted(PROTEOMES.glob("*.faa.gz")):
        if path.name != HELD_OUT:
            out += [(i, s.rstrip("*").replace("*", "X")) for i, s in read_fasta(path)]
    for name in ("KK037166.single.faa.gz", "MIIJ01000039.single.faa.gz",
                 "SRR492066.meta.faa.gz"):
        out += [(f"{name.split('.')[0]}_{i}", s.rstrip("*")) for i, s in
                read_fasta(PYRODIGAL / name)]
    genome = "".join(s for _, s in read_fasta(
        PYRODIGAL / "GCF_001457455.1_NCTC11397_genomic.fna.gz"))
    finder = pyrodigal.GeneFinder()
    finder.train(genome.encode())
    for n, gene in enumerate(finder.find_genes(genome.encode()), 1):
        out.append((f"NCTC11397_{n}", gene.translate().rstrip("*")))
    seen: set[str] = set()
    unique = []
    for ident, seq in out:
        while ident in seen:
            ident += "_dup"
        seen.add(ident)
        seq = re.sub("[^A-Z]", "X", seq.upper())  # one real protein has '#' and '?'
        if seq:
            unique.append((ident, seq))
    return unique


class Evolver:
    """Substitutions from BLOSUM62 conditional probabilities, geometric indels."""

    def __init__(self, seeds: Sequence[tuple[str, str]], rng: np.random.Generator) -> None:
        from Bio.Align import substitution_matrices

        blosum = substitution_matrices.load("BLOSUM62")
        counts = np.ones(20)
        for _, seq in seeds[:20000]:
            for k, a in enumerate(AA):
                counts[k] += seq.count(a)
        self.background = counts / counts.sum()
        score = np.array([[blosum[a][b] for b in AA] for a in AA], dtype=float)
        joint = self.background[None, :] * np.exp(LAMBDA * score)
        np.fill_diagonal(joint, 0.0)  # a substitution changes the residue
        self.cumulative = np.cumsum(joint / joint.sum(1, keepdims=True), axis=1)
        self.code = np.full(256, -1, dtype=np.int16)
        for k, a in enumerate(AA):
            self.code[ord(a)] = k
        self.letters = np.frombuffer(AA.encode(), dtype=np.uint8)
        self.rng = rng

    def evolve(self, seq: str, divergence: float) -> str:
        raw = np.frombuffer(seq.encode(), dtype=np.uint8).copy()
        codes = self.code[raw]
        known = codes >= 0
        mutate = known & (self.rng.random(len(raw)) < divergence)
        where = np.nonzero(mutate)[0]
        if len(where):
            draws = self.rng.random(len(where))
            rows = self.cumulative[codes[where]]
            new = (rows < draws[:, None]).sum(1).clip(0, 19)
            raw[where] = self.letters[new]
        out = raw.tobytes().decode()
        events = self.rng.poisson(0.1 * divergence * len(out))
        for _ in range(events):
            length = int(self.rng.geometric(1 / 3))
            at = int(self.rng.integers(0, max(1, len(out))))
            if self.rng.random() < 0.5:
                insert = self.rng.choice(self.letters, size=length, p=self.background)
                out = out[:at] + insert.tobytes().decode() + out[at:]
            elif len(out) > length + 30:
                out = out[:at] + out[at + length:]
        return out


def make_bank(size: int, folder: Path) -> Path:
    """The bank's FASTA (cached)."""
    fasta = folder / "bank.faa"
    if fasta.exists():
        return fasta
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261123)
    real = seeds()
    evolver = Evolver(real, rng)
    tmp = fasta.with_suffix(".tmp")
    start = time.perf_counter()
    with open(tmp, "w") as out:
        for n in range(size):
            if n < len(real):
                ident, seq = real[n]
                out.write(f">{ident}\n{seq}\n")
                continue
            parent, seq = real[int(rng.integers(len(real)))]
            divergence = float(rng.uniform(0.05, 0.8))
            out.write(f">sim{n}_from_{parent}_d{divergence:.2f}\n"
                      f"{evolver.evolve(seq, divergence)}\n")
    tmp.rename(fasta)
    print(f"bank: {size:,} proteins ({min(size, len(real)):,} real seeds, the rest "
          f"simulated) in {time.perf_counter() - start:.0f} s", flush=True)
    return fasta


def make_lanhai_bank(fasta: Path, folder: Path) -> Path:
    """A Lanhai bank with the FASTA split into pseudo-assemblies of PER_ASSEMBLY proteins."""
    from lanhai.bank import init_bank
    from lanhai.services.access import Actor
    from lanhai.settings import Settings

    data = folder / "lanhai"
    if (data / "ready").exists():
        return data
    shutil.rmtree(data, ignore_errors=True)
    bank = init_bank(Settings(data_dir=data))
    actor = Actor("bench", "admin")
    service = bank.sequences
    start = time.perf_counter()
    chunk: list[str] = []
    number = 0

    def flush() -> None:
        nonlocal number
        number += 1
        part = folder / "part.faa"
        part.write_text("".join(chunk))
        acc = bank.catalog.create(actor, "assembly", {
            "assembly_name": f"bench part {number}", "assembly_type": "isolate genome",
            "seq_meth": "simulated", "assembly_software": "bench_search_seq"}).accession
        service.ingest(actor, acc, part, kind="proteome", allow_stops=True)
        chunk.clear()

    for ident, seq in read_fasta(fasta):
        chunk.append(f">{ident}\n{seq}\n")
        if len(chunk) == PER_ASSEMBLY:
            flush()
    if chunk:
        flush()
    bank.close()
    (data / "ready").write_text("")
    print(f"lanhai bank: {number} assemblies ingested in {time.perf_counter() - start:.0f} s",
          flush=True)
    return data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="proteins in the bank")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=0, help="0 = all cores")
    args = parser.parse_args(list(argv or []))

    from lanhai.bank import init_bank
    from lanhai.search.mmseqs import MMseqs
    from lanhai.services.access import Actor
    from lanhai.services.sequence_search import SequenceSearch
    from lanhai.services.sequences import cpu_count
    from lanhai.settings import Settings
    from lanhai.store.layout import Layout
    from lanhai.store.seq_index import SequenceIndex

    threads = args.threads or cpu_count()
    folder = OUTPUT / f"seqbank-{args.size}"
    fasta = make_bank(args.size, folder)
    data = make_lanhai_bank(fasta, folder)
    mmseqs = MMseqs(threads=threads)
    print(f"mmseqs {mmseqs.binary} ({mmseqs.version}), {threads} threads", flush=True)
    bank = init_bank(Settings(data_dir=data))  # upgrades a bank cached by an older version
    index = SequenceIndex(Layout(data), "proteins", mmseqs)
    search = SequenceSearch(bank.catalog, Layout(data), mmseqs=mmseqs)
    actor = Actor("bench", "admin")

    start = time.perf_counter()
    built = index.update(compact=False)
    if built["added"]:
        print(f"index build: {time.perf_counter() - start:.1f} s for "
              f"{len(built['added'])} assemblies", flush=True)
    status = index.status()
    print(f"index: {status['sequences']:,} proteins, {status['residues']:,} residues, "
          f"{len(status['segments'])} segment(s)", flush=True)

    held = [(i, s.rstrip("*").replace("*", "X")) for i, s in
            read_fasta(PROTEOMES / HELD_OUT)]
    queries = held[: args.queries]
    query_fasta = folder / "queries.faa"
    query_fasta.write_text("".join(f">{i}\n{s}\n" for i, s in queries))

    start = time.perf_counter()
    index.warm()
    print(f"touchdb (warm-up): {time.perf_counter() - start:.1f} s", flush=True)
    one = f">{queries[0][0]}\n{queries[0][1]}\n"
    times = []
    for _ in range(5):
        start = time.perf_counter()
        result = search.search(actor, one, max_hits=10)
        times.append(time.perf_counter() - start)
    print(f"one query, warm: median {statistics.median(times):.3f} s "
          f"(min {min(times):.3f}, {len(result['hits'])} hits) [bar: < 1 s]", flush=True)

    start = time.perf_counter()
    ours = search.search(actor, query_fasta.read_bytes(), max_hits=300)
    t_ours = time.perf_counter() - start
    easy = folder / "easy"
    shutil.rmtree(easy, ignore_errors=True)
    easy.mkdir()
    command = [str(mmseqs.binary), "easy-search", str(query_fasta), str(fasta),
               str(easy / "out.m8"), str(easy / "tmp"), "--threads", str(threads), "-v", "1",
               "--format-output", "query,target,evalue"]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    t_easy = time.perf_counter() - start
    reference = {tuple(line.split("\t")[:2]) for line in
                 (easy / "out.m8").read_text().splitlines()}
    mine = {(h["query"], h["target"]) for h in ours["hits"]}
    both = len(reference & mine)
    print(f"{len(queries)} queries: lanhai {t_ours:.1f} s, easy-search {t_easy:.1f} s, "
          f"ratio {t_ours / t_easy:.2f} [bar: <= 1.3]; pairs: lanhai {len(mine):,}, "
          f"easy-search {len(reference):,}, shared {both:,}", flush=True)
    print("  easy-search command: " + " ".join(command[:6]) + " --threads "
          f"{threads}", flush=True)

    # add one ~4 Mb genome (the held-out real proteome) to the index
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size)
              for p in (index.root / "segments").rglob("*") if p.is_file()}
    acc = bank.catalog.create(actor, "assembly", {
        "assembly_name": "Maribacter litoralis SDRB-Phe2", "assembly_type": "isolate genome",
        "seq_meth": "Illumina", "assembly_software": "held out"}).accession
    bank.sequences.ingest(actor, acc, PROTEOMES / HELD_OUT, kind="proteome",
                          allow_stops=True)
    start = time.perf_counter()
    added = index.update([acc], compact=False)
    t_add = time.perf_counter() - start
    untouched = all((p.stat().st_mtime_ns, p.stat().st_size) == v for p, v in before.items())
    print(f"adding one genome ({len(held):,} proteins): {t_add:.1f} s "
          f"(segment {added['segment']}; old segment files untouched: {untouched})",
          flush=True)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        result = search.search(actor, one, max_hits=10)
        times.append(time.perf_counter() - start)
    self_hit = result["hits"][0]["assembly"] == acc and result["hits"][0]["identity"] == 1.0
    print(f"one query after the addition: median {statistics.median(times):.3f} s "
          f"(finds itself in the new genome: {self_hit})", flush=True)
    # leave the bench bank as it was: drop the added genome again
    shutil.rmtree(data / "assemblies" / acc)
    index.update([acc], compact=False)
    index.compact()
    (folder / "last_run.json").write_text(json.dumps({"ours": t_ours, "easy": t_easy,
                                                      "add": t_add}))
    bank.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(__import__("sys").argv[1:]))
