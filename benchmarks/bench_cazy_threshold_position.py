"""Benchmark: where in the gap between non-members and members a CAZy threshold generalises best.

The ``cazy`` builder places a separable family's threshold ``THRESHOLD_POSITION`` of the way
from the highest-scoring non-member up to the lowest-scoring member. This benchmark is how
that position was chosen, on the training strains only (the held-out strains are never read):

* the builder's labels, units and models (:mod:`lanhai.profiles.build_cazy_general`);
* its cross-validation folds, grouped by strain or organism; in each fold every unit with at
  least two members outside the fold is rebuilt without the fold, its threshold calibrated on
  the proteins outside the fold at each position, and called on the fold's proteins;
* per training strain inside a fold, the agreement of its family counts with its dbCAN labels,
  ``1 - sum|ours - dbCAN| / sum dbCAN`` (the measure of ``bench_cazy_agreement``), and, over
  every unit, recall of the fold's members and precision of the calls.

Run it from the repository root (about 15 minutes on 2 cores)::

    .venv/bin/python -m benchmarks.bench_cazy_threshold_position [--jobs 2]

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lanhai.profiles.build_cazy_general import Training

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
POSITIONS = (0.5, 0.4, 0.3, 0.2, 0.15, 0.1, 0.05)


@dataclass
class Fold:
    """One cross-validation fold: its proteins and every rebuilt unit's best domain scores."""

    inside: set[str]
    scores: dict[str, dict[str, float]]


@dataclass
class Outcome:
    """The figures of one threshold position."""

    position: float
    agreements: list[float]
    recall: float
    precision: float


def _agreement(ours: Mapping[str, int], theirs: Mapping[str, int]) -> float:
    keys = set(ours) | set(theirs)
    total = sum(theirs.values())
    return 1 - sum(abs(ours.get(k, 0) - theirs.get(k, 0)) for k in keys) / total


def evaluate(position: float, folds: Sequence[Fold], training: Training,
             proteins: set[str], overlap_in_gap: bool = True) -> Outcome:
    """Calibrate every fold's units at ``position`` on the proteins outside the fold (the
    builder's calibration; where members and non-members overlap, at ``position`` of the best
    split's gap or, without ``overlap_in_gap``, at the split itself), call the fold, and score
    the calls."""
    from lanhai.profiles.build_cazy_general import _calibrate

    members, excluded = training.member_sets, training.excluded
    group = training.labels.universe.group
    agreements: list[float] = []
    tp = fn = fp = 0
    for fold in folds:
        outside = proteins - fold.inside
        calls: dict[str, set[str]] = defaultdict(set)
        for unit, per in fold.scores.items():
            calibrated = _calibrate(per, members[unit] - fold.inside, excluded[unit], outside,
                                    position, overlap_in_gap)
            if calibrated is None:
                continue
            cut = calibrated[0]
            for protein, score in per.items():
                if protein in fold.inside and score >= cut:
                    calls[protein].add(training.builds[unit].family)
                    if protein not in members[unit] and protein not in excluded[unit]:
                        fp += 1
            held = members[unit] & fold.inside
            found = sum(per.get(p, 0.0) >= cut for p in held)
            tp, fn = tp + found, fn + len(held) - found
        strains = sorted({group[p] for p in fold.inside if group[p].startswith("strain:")})
        for strain in strains:
            ours: dict[str, int] = defaultdict(int)
            theirs: dict[str, int] = defaultdict(int)
            for protein, families in calls.items():
                if group[protein] == strain:
                    for name in families:
                        ours[name] += 1
            for unit, proteins_of in members.items():
                if unit == training.builds[unit].family:
                    theirs[unit] += sum(group[p] == strain for p in proteins_of)
            for (name, fam), n in training.labels.untied.items():
                if f"strain:{name}" == strain:
                    theirs[fam] += n
            agreements.append(_agreement(ours, theirs))
    return Outcome(position, agreements, tp / max(tp + fn, 1), tp / max(tp + fp, 1))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(list(argv) if argv is not None else None)

    from lanhai.profiles import build_cazy_general as builder
    from lanhai.profiles.build_cazy import HELD_OUT, load_proteomes

    started = time.perf_counter()
    cazy_dir = args.data / "cazy"
    every = sorted(p.name.removesuffix(".faa.gz")
                   for p in (cazy_dir / "proteomes").glob("*.faa.gz"))
    proteomes = load_proteomes(cazy_dir, [s for s in every if s not in HELD_OUT])
    training = builder.prepare_training(cazy_dir, proteomes, HELD_OUT, cpus=args.jobs)
    universe = training.labels.universe
    fold_of = builder.fold_of_groups(training.labels, builder.FOLDS)
    print(f"{len(proteomes)} training strains, {len(training.built)} units; "
          f"{builder.FOLDS} folds grouped by strain or organism", flush=True)
    folds = []
    for k in range(builder.FOLDS):
        inside = {p for p, g in universe.group.items() if fold_of[g] == k}
        # every unit, also those with no member in the fold: their calls there count
        rebuilt = builder.fold_models(training, inside, members_inside_only=False)
        folds.append(Fold(inside, builder._best_domain_scores(rebuilt, training.block,
                                                              args.jobs)))
        print(f"fold {k + 1}: {len(rebuilt)} units rebuilt "
              f"({time.perf_counter() - started:.0f} s)", flush=True)

    print(f"\n{'position':>8} {'overlap':>9} {'mean agreement':>15} {'lowest':>7} "
          f"{'recall':>7} {'precision':>9}   (per training strain, called from the folds "
          "without it; overlap: where members and non-members overlap, the threshold sits in "
          "the best split's gap, or at the split)")
    for position in POSITIONS:
        for in_gap in (True, False):
            out = evaluate(position, folds, training, set(universe.sequences), in_gap)
            mark = ("  <- the builder's" if position == builder.THRESHOLD_POSITION and in_gap
                    else "")
            print(f"{position:>8g} {'in gap' if in_gap else 'at split':>9} "
                  f"{sum(out.agreements) / len(out.agreements):>15.3f} "
                  f"{min(out.agreements):>7.3f} {out.recall:>7.3f} {out.precision:>9.3f}{mark}")
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
