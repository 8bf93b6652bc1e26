"""Benchmark: the plastics pack on held-out validated plastic-degrading enzymes.

The data
    /work/shared/data/plastics (PDG_DB validated enzymes with plastic types): the enzymes the
    pack's manifest lists as held out (``provenance.held_out_enzymes``, every fourth per
    plastic type; never used to build); as negatives, the Maribacter 62-1 proteome (held out of
    every build; a marine flavobacterium with no known plastic-degrading enzyme).

What it measures, in the same run
    * recall: held-out enzymes called by any family of the pack, and called by a family whose
      substrates include one of the enzyme's plastic types, per plastic type;
    * false positives: Maribacter 62-1 proteins the pack calls;
    * the reference tool: Debian's ``hmmsearch --cut_ga --tblout`` with the same HMM file (GA =
      calibrated thresholds), calls compared, times and ratio; and, as a baseline, BLASTP-like
      nearest-neighbour search with ``phmmer`` of the held-out enzymes against the training
      enzymes (E <= 1e-10: the transfer any homology search would give).

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_plastics [--data DIR]

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--pack-dir", type=Path, default=None)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(list(argv) if argv is not None else None)

    import pyhmmer

    from lanhai.profiles import hmmtools
    from lanhai.profiles.build_plastics import read_labels
    from lanhai.profiles.calls import call_pack
    from lanhai.profiles.registry import builtin_pack, read_manifest

    pack = read_manifest(args.pack_dir) if args.pack_dir else builtin_pack("plastics")
    enzymes = hmmtools.read_fasta(args.data / "plastics" / "PDG_DB_dev.faa")
    labels = read_labels(args.data / "plastics" / "PDG_DB_dev_labels.tsv")
    held = list(pack.provenance["held_out_enzymes"])
    train = [i for i in labels if i not in set(held)]
    print(f"pack {pack.name} {pack.version}: {pack.hmm_count} HMMs; held-out enzymes "
          f"{len(held)}, training {len(train)}")
    negatives = hmmtools.read_fasta(args.data / "cazy" / "proteomes" / "Maribacter_62-1.faa.gz")

    start = time.perf_counter()
    calls = call_pack(pack, hmmtools.digitize({i: enzymes[i] for i in held}), cpus=args.jobs)
    neg_calls = call_pack(pack, hmmtools.digitize(negatives), cpus=args.jobs)
    t_ours = time.perf_counter() - start
    called: dict[str, set[str]] = defaultdict(set)
    right: dict[str, bool] = defaultdict(bool)
    for call in calls:
        called[call.protein].add(call.family)
        if set(call.substrates) & set(labels[call.protein]):
            right[call.protein] = True

    # baseline: nearest training enzyme by phmmer (E <= 1e-10)
    train_block = hmmtools.digitize({i: enzymes[i] for i in train})
    held_block = hmmtools.digitize({i: enzymes[i] for i in held})
    nearest: dict[str, str] = {}
    for hits in pyhmmer.hmmer.phmmer(held_block, train_block, cpus=args.jobs, E=1e-10):
        for hit in hits:
            nearest[str(hits.query.name)] = str(hit.name)
            break
    by_type: dict[str, list[str]] = defaultdict(list)
    for i in held:
        by_type[labels[i][0] if labels[i] else "?"].append(i)
    print(f"\n{'plastic':<8} {'held':>4} {'called':>6} {'right':>5} {'recall':>6} "
          f"{'nn-phmmer':>9}")
    tot = [0, 0, 0, 0]
    for plastic in sorted(by_type, key=lambda p: (-len(by_type[p]), p)):
        ids = by_type[plastic]
        n_called = sum(1 for i in ids if called.get(i))
        n_right = sum(1 for i in ids if right.get(i))
        n_nn = sum(1 for i in ids if i in nearest
                   and set(labels[nearest[i]]) & set(labels[i]))
        tot = [tot[0] + len(ids), tot[1] + n_called, tot[2] + n_right, tot[3] + n_nn]
        print(f"{plastic:<8} {len(ids):>4} {n_called:>6} {n_right:>5} "
              f"{n_right / len(ids):>6.2f} {n_nn:>9}")
    print(f"{'all':<8} {tot[0]:>4} {tot[1]:>6} {tot[2]:>5} {tot[2] / max(tot[0], 1):>6.2f} "
          f"{tot[3]:>9}")
    print("(called: any family above its threshold; right: a called family's substrates "
          "include one of the enzyme's plastic types; nn-phmmer: nearest training enzyme at "
          "E<=1e-10 shares a plastic type)")
    neg_proteins = sorted({c.protein for c in neg_calls})
    print(f"\nfalse positives on Maribacter 62-1 ({len(negatives):,} proteins): "
          f"{len(neg_proteins)} proteins")
    for call in neg_calls[:15]:
        print(f"  {call.protein} {call.family} {call.score} bits "
              f"({','.join(call.substrates)[:40]})")

    binary = shutil.which("hmmsearch")
    if binary is None:
        print("\nhmmsearch not installed (apt-get install hmmer): no reference run")
        return 0
    folder = Path(tempfile.mkdtemp(prefix="lanhai-bench-plastics-"))
    hmm_text = folder / "plastics.hmm"
    with gzip.open(pack.path, "rb") as src:
        hmm_text.write_bytes(src.read())
    faa = folder / "in.faa"
    faa.write_text("".join(f">{i}\n{enzymes[i]}\n" for i in held)
                   + "".join(f">{k}\n{v}\n" for k, v in negatives.items()))
    tbl = folder / "out.tbl"
    start = time.perf_counter()
    subprocess.run([binary, "--cut_ga", "--cpu", str(args.jobs), "--noali", "--tblout",
                    str(tbl), "-o", "/dev/null", str(hmm_text), str(faa)], check=True)
    t_ref = time.perf_counter() - start
    ref = {(line.split()[0], line.split()[2]) for line in tbl.read_text().splitlines()
           if not line.startswith("#")}
    mine = {(c.protein, c.family) for c in calls + neg_calls}
    print(f"\nreference: hmmsearch --cut_ga: {len(ref)} calls, ours {len(mine)}; identical: "
          f"{ref == mine}")
    print(f"time: lanhai/pyhmmer {t_ours:.2f} s, hmmsearch {t_ref:.2f} s, ratio "
          f"{t_ours / max(t_ref, 1e-9):.2f}x ({args.jobs} threads each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
