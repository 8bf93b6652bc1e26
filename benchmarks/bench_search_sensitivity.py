"""Benchmark: sensitivity of sequence search on a Pfam-labelled homology set.

The labelled set
    Proteins of real proteomes in ``../shared/data/cazy/proteomes`` (``--proteomes`` of
    them) are scanned with pyhmmer's ``hmmsearch`` against the 2,766 Pfam 35.0 HMMs shipped
    in the gecco wheel (``gecco/hmmer/Pfam.h3m``), with the HMMs' gathering cut-offs. A
    protein with hits to exactly one Pfam family is labelled with it (multi-domain proteins
    are left out, so that "same family" is unambiguous); families keep at most ``--cap``
    members and need at least two. Pairs of labelled proteins in the same family are
    positives, pairs in different families negatives.

    With ``--background RESIDUES`` the searched bank also holds that many residues of
    unlabelled proteins from the next proteomes (real relatives: a bank of realistic size);
    the queries stay the labelled set and hits to background proteins are not scored.

The searches (all labelled proteins against all, self-hits dropped, e-value <= 10)
    * Lanhai default mode (MMseqs2 ``search`` -s 5.7; the set is one segment of fewer than
      :data:`~lanhai.store.seq_index.KMER5_MAX_RESIDUES` residues, so 5-mers and
      ``--min-ungapped-score 45``) and ``--sensitive`` (up to 50 million pairs: every pair
      through the ungapped prefilter, ``--prefilter-mode 1 --min-ungapped-score 35``; above:
      3 profile iterations at -s 7.5; see
      :data:`~lanhai.store.seq_index.SENSITIVE_EXHAUSTIVE_PAIRS`), through
      :class:`~lanhai.services.sequence_search.SequenceSearch`;
    * Debian's DIAMOND: ``diamond blastp --sensitive -e 10 -k 2000``;
    * Debian's BLAST+: ``blastp -evalue 10 -max_target_seqs 2000``.

Figures: mean ROC1 over queries (positives ranked before the first negative, divided by
the query's positives), recall of all positive pairs at 1 % false-positive rate (over all
negative pairs, hits ranked by e-value; the same ranking cut at the rank where 1 % of
negatives are passed), and wall time of the searches. Databases are built before timing
(Lanhai's index with ``createindex``, ``diamond makedb``, ``makeblastdb``: a prebuilt index is
each tool's normal state); their build times are printed separately.

    .venv/bin/python -m benchmarks.bench_search_sensitivity --proteomes 3
    .venv/bin/python -m benchmarks.bench_search_sensitivity --proteomes 8 --methods default,diamond
    .venv/bin/python -m benchmarks.bench_search_sensitivity --proteomes 4 --background 8000000 \
        --methods default,diamond

It asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.bench_search_seq import PROTEOMES, read_fasta

OUTPUT = Path(__file__).parent / "output"
METHODS = ("default", "sensitive", "diamond", "blastp")


def labelled_set(proteomes: int, cap: int, threads: int) -> list[tuple[str, str, str]]:
    """(id, sequence, Pfam family) of single-family proteins."""
    import gecco.hmmer
    import pyhmmer
    from pyhmmer.easel import Alphabet, TextSequence
    from pyhmmer.plan7 import HMMFile

    alphabet = Alphabet.amino()
    proteins: list[tuple[str, str]] = []
    for path in sorted(PROTEOMES.glob("*.faa.gz"))[:proteomes]:
        for ident, seq in read_fasta(path):
            seq = "".join(c if c.isalpha() else "X" for c in seq.rstrip("*").upper())
            if seq:
                proteins.append((f"{path.name.split('.')[0]}|{ident}", seq))
    digital = [TextSequence(name=i.encode(), sequence=s).digitize(alphabet)
               for i, s in proteins]
    block = pyhmmer.easel.DigitalSequenceBlock(alphabet, digital)
    families: dict[str, set[str]] = collections.defaultdict(set)
    h3m = Path(gecco.hmmer.__file__).parent / "Pfam.h3m"
    with HMMFile(h3m) as hmms:
        for top in pyhmmer.hmmsearch(hmms, block, cpus=threads, bit_cutoffs="gathering"):
            family = (top.query.accession or top.query.name)
            name = family.decode() if isinstance(family, bytes) else str(family)
            for hit in top.reported:
                if hit.included:
                    hit_name = hit.name.decode() if isinstance(hit.name, bytes) else hit.name
                    families[hit_name].add(name.split(".")[0])
    by_family: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for ident, seq in proteins:
        labels = families.get(ident, set())
        if len(labels) == 1:
            (label,) = labels
            if len(by_family[label]) < cap:
                by_family[label].append((ident, seq))
    kept = [(s, f) for f, members in sorted(by_family.items()) if len(members) >= 2
            for _, s in members]
    # plain ids (p0, p1 ...): BLAST's -parse_seqids would read '|' in ids as database tags
    return [(f"p{n}", s, f) for n, (s, f) in enumerate(kept)]


def background(proteomes: int, residues: int) -> list[tuple[str, str]]:
    """(id, sequence) of unlabelled proteins of the proteomes after the first ``proteomes``
    (real relatives of the labelled ones), in file order, until ``residues`` residues."""
    out: list[tuple[str, str]] = []
    total = 0
    for path in sorted(PROTEOMES.glob("*.faa.gz"))[proteomes:]:
        for _, seq in read_fasta(path):
            seq = "".join(c if c.isalpha() else "X" for c in seq.rstrip("*").upper())
            if total >= residues:
                return out
            if seq:
                out.append((f"bg{len(out)}", seq))
                total += len(seq)
    return out


def metrics(hits: dict[tuple[str, str], float], family: dict[str, str]) -> tuple[float,
                                                                                   float]:
    names = list(family)
    size = collections.Counter(family.values())
    positives_of = {n: size[family[n]] - 1 for n in names}
    total_pos = sum(positives_of.values())
    total_neg = len(names) * (len(names) - 1) - total_pos
    per_query: dict[str, list[tuple[float, bool]]] = collections.defaultdict(list)
    ranked: list[tuple[float, bool]] = []
    for (q, t), evalue in hits.items():
        if q == t or q not in family or t not in family:
            continue
        same = family[q] == family[t]
        per_query[q].append((evalue, same))
        ranked.append((evalue, same))
    roc1 = []
    for name in names:
        if not positives_of[name]:
            continue
        tp = 0
        for _, same in sorted(per_query.get(name, [])):
            if not same:
                break
            tp += 1
        roc1.append(tp / positives_of[name])
    ranked.sort()
    tp = fp = 0
    limit = 0.01 * total_neg
    for _, same in ranked:
        if same:
            tp += 1
        else:
            fp += 1
            if fp > limit:
                break
    return sum(roc1) / max(1, len(roc1)), tp / max(1, total_pos)


def read_m8(path: Path) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for line in path.read_text().splitlines():
        q, t, e = line.split("\t")[:3]
        key = (q, t)
        out[key] = min(out.get(key, float("inf")), float(e))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--proteomes", type=int, default=3)
    parser.add_argument("--cap", type=int, default=25, help="members kept per family")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--background", type=int, default=0, metavar="RESIDUES",
                        help="add this many residues of unlabelled proteins of the other "
                             "proteomes to the searched bank (queries stay the labelled set)")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help=f"comma-separated subset of {','.join(METHODS)}")
    args = parser.parse_args(list(argv or []))
    methods = set(args.methods.split(","))
    if not methods <= set(METHODS):
        parser.error(f"--methods: choose among {', '.join(METHODS)}")

    from lanhai.bank import init_bank
    from lanhai.search.mmseqs import MMseqs
    from lanhai.services.access import Actor
    from lanhai.services.sequence_search import SequenceSearch
    from lanhai.services.sequences import cpu_count
    from lanhai.settings import Settings
    from lanhai.store.layout import Layout
    from lanhai.store.seq_index import SequenceIndex

    threads = args.threads or cpu_count()
    start = time.perf_counter()
    cache = OUTPUT / f"pfam_labelled_{args.proteomes}_{args.cap}.tsv"
    if cache.exists():
        labelled = [(i, s, f) for i, s, f in (line.split("\t") for line in
                                              cache.read_text().splitlines())]
    else:
        labelled = labelled_set(args.proteomes, args.cap, threads)
        OUTPUT.mkdir(exist_ok=True)
        cache.write_text("".join(f"{i}\t{s}\t{f}\n" for i, s, f in labelled))
    family = {i: f for i, _, f in labelled}
    size = collections.Counter(family.values())
    print(f"labelled set: {len(labelled)} proteins in {len(size)} Pfam families from "
          f"{args.proteomes} proteomes ({time.perf_counter() - start:.0f} s); "
          f"{sum(n * (n - 1) for n in size.values()):,} positive pairs", flush=True)
    rows: list[tuple[str, float, float, float, int]] = []
    with tempfile.TemporaryDirectory(prefix="lanhai-sens-") as tmp:
        work = Path(tmp)
        fasta = work / "set.faa"
        fasta.write_text("".join(f">{i}\n{s}\n" for i, s, _ in labelled))
        # the searched bank: the labelled set, plus unlabelled proteins with --background
        target = fasta
        if args.background:
            extra = background(args.proteomes, args.background)
            target = work / "bank.faa"
            target.write_text(fasta.read_text()
                              + "".join(f">{i}\n{s}\n" for i, s in extra))
            print(f"background: {len(extra):,} unlabelled proteins, "
                  f"{sum(len(s) for _, s in extra):,} residues", flush=True)
        bank = init_bank(Settings(data_dir=work / "bank"))
        actor = Actor("bench", "admin")
        acc = bank.catalog.create(actor, "assembly", {
            "assembly_name": "Pfam-labelled set", "assembly_type": "isolate genome",
            "seq_meth": "simulated", "assembly_software": "bench_search_sensitivity"}
        ).accession
        bank.sequences.ingest(actor, acc, target, kind="proteome")
        mmseqs = MMseqs(threads=threads)
        # one indexed segment, as a large bank has
        start = time.perf_counter()
        index = SequenceIndex(Layout(work / "bank"), "proteins", mmseqs,
                              index_min_residues=0)
        index.update()
        (segment,) = index.state()["segments"]
        print(f"lanhai index build: {time.perf_counter() - start:.1f} s "
              f"({segment['residues']:,} residues, k-mer size "
              f"{index.segment_kmer(segment) or 'automatic'})", flush=True)
        search = SequenceSearch(bank.catalog, Layout(work / "bank"), mmseqs=mmseqs)
        query = fasta.read_bytes()
        for label, sensitive in (("lanhai default", False), ("lanhai --sensitive", True)):
            if ("sensitive" if sensitive else "default") not in methods:
                continue
            start = time.perf_counter()
            result = search.search(actor, query, evalue=10, max_hits=2000,
                                   sensitive=sensitive)
            elapsed = time.perf_counter() - start
            hits: dict[tuple[str, str], float] = {}
            for h in result["hits"]:
                key = (h["query"], h["target"])
                hits[key] = min(hits.get(key, float("inf")), h["evalue"])
            rows.append((label, *metrics(hits, family), elapsed, len(hits)))
            print(f"{label}: {elapsed:.1f} s", flush=True)
        bank.close()
        if "diamond" in methods and shutil.which("diamond"):
            start = time.perf_counter()
            subprocess.run(["diamond", "makedb", "--in", str(target), "-d", str(work / "dmnd"),
                            "--quiet"], check=True)
            print(f"diamond makedb: {time.perf_counter() - start:.1f} s", flush=True)
            start = time.perf_counter()
            subprocess.run(["diamond", "blastp", "-q", str(fasta), "-d", str(work / "dmnd"),
                            "--sensitive", "-e", "10", "-k", "2000", "-p", str(threads),
                            "-o", str(work / "diamond.m8"), "--quiet", "--outfmt", "6",
                            "qseqid", "sseqid", "evalue"], check=True)
            elapsed = time.perf_counter() - start
            hits = read_m8(work / "diamond.m8")
            rows.append(("diamond blastp --sensitive", *metrics(hits, family), elapsed,
                         len(hits)))
        if "blastp" in methods and shutil.which("blastp"):
            start = time.perf_counter()
            subprocess.run(["makeblastdb", "-in", str(target), "-dbtype", "prot", "-out",
                            str(work / "blastdb"), "-parse_seqids"], check=True,
                           capture_output=True)
            print(f"makeblastdb: {time.perf_counter() - start:.1f} s", flush=True)
            start = time.perf_counter()
            subprocess.run(["blastp", "-query", str(fasta), "-db", str(work / "blastdb"),
                            "-evalue", "10", "-max_target_seqs", "2000", "-num_threads",
                            str(threads), "-outfmt", "6 qseqid sseqid evalue",
                            "-out", str(work / "blast.m8")], check=True)
            elapsed = time.perf_counter() - start
            hits = read_m8(work / "blast.m8")
            rows.append(("blastp", *metrics(hits, family), elapsed, len(hits)))
    print(f"{'method':28} {'ROC1':>6} {'recall@1%FPR':>13} {'time s':>8} {'pairs':>8}")
    for label, roc1, recall, elapsed, pairs in rows:
        print(f"{label:28} {roc1:6.3f} {recall:13.3f} {elapsed:8.1f} {pairs:8,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(__import__("sys").argv[1:]))
