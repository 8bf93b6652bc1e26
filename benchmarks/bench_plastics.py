"""Benchmark: the plastics pack's recall on validated enzymes it was not built from.

The data
    /work/shared/data/plastics (PDG_DB validated enzymes with plastic types) and, as negatives,
    the Maribacter 62-1 proteome (held out of every build; a marine flavobacterium with no
    known plastic-degrading enzyme).

What it measures, in the same run
    * recall by k-fold cross-validation: the folds of
      :func:`lanhai.profiles.build_plastics.cv_folds` (stratified by primary plastic type,
      enzymes >= 90 % identical in one fold); for each fold a pack is built by
      ``build_plastics(..., held_out=fold)`` and searched with the fold's enzymes. An enzyme is
      right when a called family's substrates include one of its plastic types; per primary
      plastic type and overall; the called-but-wrong-type count too;
    * false positives: Maribacter 62-1 proteins each fold's pack calls (count and %), and the
      shipped pack's (built from every enzyme);
    * the reference tool: Debian's ``hmmsearch --cut_ga --tblout`` with the shipped pack's HMM
      file (GA = calibrated thresholds) on the same proteins: calls compared, times and ratio;
      and, as a baseline, nearest-neighbour ``phmmer`` of each fold's enzymes against the other
      folds' (E <= 1e-10, the transfer any homology search would give), the union of its calls
      with the pack's, and what the same rule calls on Maribacter 62-1 (against all enzymes);
    * the homology ceiling: how many enzymes have any relative of the same plastic type in the
      other folds at phmmer E <= 1e-3, 1e-5 and 1e-10 (no method built from homology to the
      other folds can find the rest);
    * with ``--loso``, a false-positive estimate that uses the background only: for each
      background proteome, the shipped pack's thresholds recomputed without it (the builder's
      rule, and looser and stricter margins; an enzyme profile never below its share of its
      enzyme's own score) and its proteins counted above them; then the
      same leaving out its whole genus (the other strains of a genus are close relatives, so
      this is the estimate for a proteome of a genus the pack has never seen).

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_plastics [--data DIR] [--jobs N] [--loso]

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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lanhai.profiles.pack import Pack

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
#: phmmer E-values at which the homology ceiling is counted
CEILING = (1e-3, 1e-5, 1e-10)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--pack-dir", type=Path, default=None,
                        help="the pack to compare with hmmsearch (default: the shipped one)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--loso", action="store_true",
                        help="also estimate false positives leaving out each background proteome")
    args = parser.parse_args(list(argv) if argv is not None else None)

    import pyhmmer

    from lanhai.profiles import hmmtools
    from lanhai.profiles.build_plastics import (
        FOLDS,
        HELD_OUT_PROTEOME,
        BuildCache,
        background_strains,
        build_plastics,
        cv_folds,
        read_labels,
        twin_links,
    )
    from lanhai.profiles.calls import call_pack
    from lanhai.profiles.registry import builtin_pack, read_manifest

    enzymes = hmmtools.read_fasta(args.data / "plastics" / "PDG_DB_dev.faa")
    labels = read_labels(args.data / "plastics" / "PDG_DB_dev_labels.tsv")
    negatives = hmmtools.read_fasta(
        args.data / "cazy" / "proteomes" / f"{HELD_OUT_PROTEOME}.faa.gz")
    neg_block = hmmtools.digitize(negatives)
    folds = cv_folds(labels, twin_links(enzymes, cpus=args.jobs))
    print(f"{len(labels)} labelled enzymes, {FOLDS} folds of {[len(f) for f in folds]}; "
          f"negatives: {HELD_OUT_PROTEOME}, {len(negatives):,} proteins")

    right: dict[str, bool] = {}
    called: dict[str, bool] = {}
    nearest_right: dict[str, bool] = {}
    #: the lowest phmmer E-value of a same-type enzyme of the other folds
    same_type_e: dict[str, float] = {}
    fold_fp: list[set[str]] = []
    build_times: list[float] = []
    workdir = Path(tempfile.mkdtemp(prefix="lanhai-bench-plastics-"))
    cache = BuildCache()
    for k, fold in enumerate(folds):
        start = time.perf_counter()
        pack, _records = build_plastics(args.data, workdir / f"fold{k}", cpus=args.jobs,
                                        held_out=fold, cross_validate=False, cache=cache)
        build_times.append(time.perf_counter() - start)
        calls = call_pack(pack, hmmtools.digitize({i: enzymes[i] for i in fold}),
                          cpus=args.jobs)
        for ident in fold:
            mine = [c for c in calls if c.protein == ident]
            called[ident] = bool(mine)
            right[ident] = any(set(c.substrates) & set(labels[ident]) for c in mine)
        fold_fp.append({c.protein for c in call_pack(pack, neg_block, cpus=args.jobs)})
        train_block = hmmtools.digitize({i: enzymes[i] for i in labels if i not in set(fold)})
        for hits in pyhmmer.hmmer.phmmer(hmmtools.digitize({i: enzymes[i] for i in fold}),
                                         train_block, cpus=args.jobs, E=max(CEILING)):
            query = str(hits.query.name)
            top = next(iter(hits), None)
            nearest_right[query] = top is not None and top.evalue <= 1e-10 and bool(
                set(labels[str(top.name)]) & set(labels[query]))
            same_type_e[query] = min((float(h.evalue) for h in hits
                                      if set(labels[str(h.name)]) & set(labels[query])),
                                     default=float("inf"))
        print(f"fold {k + 1}: built in {build_times[-1]:.1f} s ({pack.hmm_count} HMMs); "
              f"{sum(right[i] for i in fold)}/{len(fold)} right; "
              f"{len(fold_fp[-1])} {HELD_OUT_PROTEOME} proteins called", flush=True)

    by_type: dict[str, list[str]] = defaultdict(list)
    for ident in labels:
        by_type[labels[ident][0] if labels[ident] else "?"].append(ident)
    print(f"\n{'plastic':<8} {'enz':>4} {'called':>6} {'right':>5} {'recall':>6} "
          f"{'nn-phmmer':>9} {'union':>5} " + " ".join(f"{f'rel<={e:g}':>10}" for e in CEILING))
    for plastic in [*sorted(by_type, key=lambda p: (-len(by_type[p]), p)), "all"]:
        ids = list(labels) if plastic == "all" else by_type[plastic]
        n_right = sum(right[i] for i in ids)
        print(f"{plastic:<8} {len(ids):>4} {sum(called[i] for i in ids):>6} {n_right:>5} "
              f"{n_right / len(ids):>6.3f} {sum(nearest_right.get(i, False) for i in ids):>9} "
              f"{sum(right[i] or nearest_right.get(i, False) for i in ids):>5} "
              + " ".join(f"{sum(same_type_e.get(i, 1.0) <= e for i in ids):>10}"
                         for e in CEILING))
    wrong = sum(called[i] and not right[i] for i in labels)
    print(f"(called: any family above its threshold; right: a called family's substrates "
          f"include one of the enzyme's plastic types; called with the wrong type only: "
          f"{wrong}; nn-phmmer: nearest other-fold enzyme at E<=1e-10 shares a type; union: "
          f"right or nn-phmmer; "
          f"rel<=E: some other-fold enzyme of the same type at phmmer E <= E, the homology "
          f"ceiling)")
    nn_fp = sum(1 for hits in pyhmmer.hmmer.phmmer(neg_block, hmmtools.digitize(enzymes),
                                                    cpus=args.jobs, E=1e-3)
                if len(hits) and hits[0].evalue <= 1e-10)
    print(f"nn-phmmer at E<=1e-10 against all {len(enzymes)} enzymes calls {nn_fp} "
          f"{HELD_OUT_PROTEOME} proteins ({100 * nn_fp / len(negatives):.3f} %)")
    per_fold = [len(s) for s in fold_fp]
    for k, fold_calls in enumerate(fold_fp):
        if fold_calls:
            print(f"  fold {k + 1} calls {', '.join(sorted(fold_calls))}")
    print(f"\nfalse positives on {HELD_OUT_PROTEOME} per fold pack: {per_fold} "
          f"(mean {sum(per_fold) / FOLDS:.1f}, {100 * sum(per_fold) / FOLDS / len(negatives):.3f} "
          f"%); fold builds {min(build_times):.0f}-{max(build_times):.0f} s")

    pack = read_manifest(args.pack_dir) if args.pack_dir else builtin_pack("plastics")
    cv = (pack.provenance.get("cross_validation") or {})
    print(f"\nshipped pack {pack.name} {pack.version}: {pack.hmm_count} HMMs, built from "
          f"{pack.provenance.get('training_enzymes')} enzymes; its manifest's cross-validation "
          f"recall {cv.get('recall')}")
    start = time.perf_counter()
    ship_neg = call_pack(pack, neg_block, cpus=args.jobs)
    all_block = hmmtools.digitize(enzymes)
    ship_enz = call_pack(pack, all_block, cpus=args.jobs)
    t_ours = time.perf_counter() - start
    fp = sorted({c.protein for c in ship_neg})
    print(f"false positives on {HELD_OUT_PROTEOME}: {len(fp)} proteins "
          f"({100 * len(fp) / len(negatives):.3f} %)")
    for call in ship_neg[:10]:
        print(f"  {call.protein} {call.family} {call.score} bits")

    if args.loso:
        _loso(args.data, pack, background_strains(args.data), args.jobs)

    binary = shutil.which("hmmsearch")
    if binary is None:
        print("\nhmmsearch not installed (apt-get install hmmer): no reference run")
        return 0
    hmm_text = workdir / "plastics.hmm"
    with gzip.open(pack.path, "rb") as src:
        hmm_text.write_bytes(src.read())
    tables = []
    start = time.perf_counter()
    for name, proteins in (("neg", negatives), ("enz", enzymes)):
        faa = workdir / f"{name}.faa"
        faa.write_text("".join(f">{k}\n{v}\n" for k, v in proteins.items()))
        tbl = workdir / f"{name}.tbl"
        subprocess.run([binary, "--cut_ga", "--cpu", str(args.jobs), "--noali", "--tblout",
                        str(tbl), "-o", "/dev/null", str(hmm_text), str(faa)], check=True)
        tables.append(tbl)
    t_ref = time.perf_counter() - start
    ref = {(line.split()[0], line.split()[2]) for tbl in tables
           for line in tbl.read_text().splitlines() if not line.startswith("#")}
    found = {(c.protein, c.family) for c in ship_neg + ship_enz}
    print(f"\nreference: hmmsearch --cut_ga, same HMM file, same two searches: {len(ref)} "
          f"calls, ours {len(found)}; identical: {ref == found}")
    print(f"time: lanhai/pyhmmer {t_ours:.2f} s, hmmsearch {t_ref:.2f} s, ratio "
          f"{t_ours / max(t_ref, 1e-9):.2f}x ({args.jobs} threads each)")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def genus(strain: str) -> str:
    """The genus of a background strain (``Maribacter_forsetii_DSM18668`` -> ``Maribacter``)."""
    return strain.split("_", 1)[0]


def _loso(data: Path, pack: Pack, strains: Sequence[str], jobs: int) -> None:
    """Leave each background proteome, then each genus, out: thresholds from the others'
    highest scores by the builder's own rule (:func:`~lanhai.profiles.build_plastics.threshold`)
    and by other margins, the left-out proteins counted above them."""
    import pyhmmer
    from pyhmmer.plan7 import HMMFile

    from lanhai.profiles import hmmtools
    from lanhai.profiles.build_plastics import FLOOR, MARGIN, RELATIVE_FLOOR, threshold

    with HMMFile(pack.path) as hmm_file:
        hmms = list(hmm_file)
    own = {name: record.get("self_score") for name, record in pack.provenance["families"].items()}
    #: per strain: {HMM: {sequence: (score, E-value)}} (sequence text: strains share proteins)
    scores: dict[str, dict[str, dict[str, tuple[float, float]]]] = {}
    sizes: dict[str, int] = {}
    for strain in strains:
        proteins = hmmtools.read_fasta(data / "cazy" / "proteomes" / f"{strain}.faa.gz")
        sizes[strain] = len(proteins)
        per: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
        for hits in pyhmmer.hmmer.hmmsearch(hmms, hmmtools.digitize(proteins), cpus=jobs,
                                            T=FLOOR / 2, domT=FLOOR / 2):
            for hit in hits:
                per[str(hits.query.name)][proteins[str(hit.name)]] = (float(hit.score),
                                                                      float(hit.evalue))
        scores[strain] = per
    #: label -> (margin, bits added to the highest background score)
    rules = {f"x{MARGIN:g} (the builder's)": (MARGIN, 0.0), "x1.3": (1.3, 0.0),
             "x1.05": (1.05, 0.0), "+2 bits": (1.0, 2.0), "+0.1 bits": (1.0, 0.1)}
    groupings: dict[str, Callable[[str], str]] = {
        "proteome": lambda strain: strain, "genus": genus}
    genera = sorted({genus(s) for s in strains})
    for grouping, group_of in groupings.items():
        others = "other proteomes" if grouping == "proteome" else "other genera's proteomes"
        print(f"\nleave-one-{grouping}-out ({len(strains)} proteomes of {len(genera)} genera, "
              f"thresholds from the {others}, never below {FLOOR:g} nor {RELATIVE_FLOOR:g} x "
              f"an enzyme profile's own score, E <= {pack.evalue:g}): "
              f"proteins called per left-out proteome")
        #: per left-out strain: each HMM's highest score on the proteomes calibrated on
        tops = {strain: {name: max((v[0] for s in strains if group_of(s) != group_of(strain)
                                    for v in scores[s].get(name, {}).values()), default=0.0)
                         for name in own}
                for strain in strains}
        for label, (margin, add) in rules.items():
            counts = []
            for strain in strains:
                called = {q for name in own for q, (v, e) in scores[strain].get(name, {}).items()
                          if e <= pack.evalue
                          and v >= threshold(tops[strain][name] + add, own[name], margin=margin)}
                counts.append(len(called))
            worst = max(range(len(strains)), key=lambda i: counts[i] / sizes[strains[i]])
            share = {s: 100 * c / sizes[s] for s, c in zip(strains, counts, strict=True)}
            per_genus = "; ".join(
                f"{g} worst {max(v for s, v in share.items() if genus(s) == g):.3f} %"
                for g in genera)
            print(f"  {label:<22} {counts} mean {sum(counts) / len(counts):.2f}; worst "
                  f"{100 * counts[worst] / sizes[strains[worst]]:.3f} % ({strains[worst]}); "
                  f"{per_genus}")


if __name__ == "__main__":
    raise SystemExit(main())
