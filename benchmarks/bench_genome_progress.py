"""Benchmark: the progress of genome projects over 10,000 targets and 100,000 status events.

What it measures
    * the full progress computation of :func:`lanhai.genomes.progress.summarise`: the
      replay of every status event, counts per project and per class, order and family, the
      class → order → family tree per project and its flat table, the projected completion
      of each project and the next best species — median wall time of repeats, and each
      part on its own;
    * the reference, in the same run: the same counts (current status per species, then
      done / in progress / targeted per project and per rank) with pandas (sort by day,
      ``groupby(...).last()``, a merge with the targets and ``groupby`` counts), starting
      from data frames already built; the counts of both are compared, then the ratio of
      the times is printed.

The data are synthetic over a real fish taxonomy: the class, order and genus of the 1,666
fish species in ``../shared/data/genomes/ncbi_species.tsv``, with the family of the genus
where ``vgp_phase1_fish.tsv``, ``genomeark_species.tsv`` or ``goat_target_lists.tsv``
names it (other genera get a family of their order named ``<order> family <n>``, four
genera a family). 10,000 targets draw a species each (a new taxon id, the species' lineage)
over two projects (8,000 and 2,000, 500 taxa on both); each walks the status ladder from a
start day in 2021-2023 to a drawn final status (a quarter stay targeted), a few go back a
step, and events adding evidence fill the series to 100,000. The bank holds material of a
third of the taxa.

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_genome_progress
    .venv/bin/python -m benchmarks.bench_genome_progress --targets 20000 --events 200000

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from lanhai.genomes.progress import (
    RANKS,
    Target,
    _build_tree,
    _by_project,
    _classify,
    _next_best,
    _project_counts,
    _project_projection,
    _rank_counts,
    summarise,
    table,
)
from lanhai.genomes.status import POSITION, STATUSES, StatusEvent, replay

T = TypeVar("T")
GENOMES = Path(__file__).resolve().parents[2] / "shared" / "data" / "genomes"
AS_OF = dt.date(2025, 12, 31)
#: final statuses and their weights
FINAL = {"targeted": 25, "sample_collected": 10, "sample_acquired": 8, "data_generation": 10,
         "in_assembly": 10, "insdc_submitted": 7, "insdc_open": 22, "published": 8}
PATH = ("targeted", "sample_collected", "sample_acquired", "data_generation", "in_assembly",
        "insdc_submitted", "insdc_open", "published")


def read(name: str) -> list[dict[str, str]]:
    with (GENOMES / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def taxonomy() -> tuple[list[dict[str, str]], int, int]:
    """Fish lineages (class, order, family, genus) and how many genera have a real family
    and a made-up one."""
    family: dict[str, str] = {}
    for name, genus_column in (("vgp_phase1_fish.tsv", "genus_from_name"),
                               ("genomeark_species.tsv", "genus_from_name"),
                               ("goat_target_lists.tsv", "genus")):
        for row in read(name):
            if row.get("family") and row.get(genus_column):
                family.setdefault(row[genus_column], row["family"])
    species = [r for r in read("ncbi_species.tsv") if r["selected_as"] == "fish"]
    made: dict[str, str] = {}
    per_order: dict[str, list[str]] = {}
    for row in species:
        genus = row["genus_from_name"]
        if genus not in family:
            per_order.setdefault(row["order"] or "unplaced", [])
            if genus not in per_order[row["order"] or "unplaced"]:
                per_order[row["order"] or "unplaced"].append(genus)
    for order, genera in per_order.items():
        for i, genus in enumerate(sorted(genera)):
            made[genus] = f"{order} family {i // 4 + 1}"
    lineages = [{"class": r["class"], "order": r["order"], "genus": r["genus_from_name"],
                 "family": family.get(r["genus_from_name"]) or made[r["genus_from_name"]]}
                for r in species]
    real = len({r["genus_from_name"] for r in species} & set(family))
    return lineages, real, len(made)


def synthesise(n_targets: int, n_events: int, rng: random.Random
               ) -> tuple[list[Target], list[StatusEvent], set[int]]:
    lineages, _, _ = taxonomy()
    second = n_targets // 5
    shared = min(500, second)
    targets: list[Target] = []
    for i in range(n_targets - second):
        lineage = rng.choice(lineages)
        priority = rng.choices((1, 2, 3), (5, 15, 80))[0]
        targets.append(Target("LH10KFISH", 1_000_000 + i, f"{lineage['genus']} sp. {i}",
                              lineage, priority))
    for i in range(second):
        if i < shared:
            base = targets[i * 3]
            targets.append(Target("LHMARINE", base.taxid, base.scientific_name,
                                  base.lineage, 3))
        else:
            lineage = rng.choice(lineages)
            targets.append(Target("LHMARINE", 2_000_000 + i, f"{lineage['genus']} sp. m{i}",
                                  lineage, 3))
    events: list[StatusEvent] = []
    current: list[tuple[Target, str, dt.date]] = []
    finals, weights = list(FINAL), list(FINAL.values())
    start0 = dt.date(2021, 1, 1)
    for target in targets:
        final = rng.choices(finals, weights)[0]
        day = start0 + dt.timedelta(days=rng.randrange(3 * 365))
        reached = "targeted"
        for step in PATH[:PATH.index(final) + 1]:
            if day > AS_OF:
                break
            events.append(StatusEvent(target.project, target.taxid, step, day))
            reached = step
            if step == "in_assembly" and rng.random() < 0.03:
                back = day + dt.timedelta(days=rng.randrange(5, 40))
                if back <= AS_OF:
                    events.append(StatusEvent(target.project, target.taxid,
                                              "data_generation", back, allow_back=True,
                                              note="library failed"))
                    events.append(StatusEvent(target.project, target.taxid, "in_assembly",
                                              back + dt.timedelta(days=1)))
                    day = back + dt.timedelta(days=1)
            day += dt.timedelta(days=rng.randrange(10, 150))
        current.append((target, reached, min(day, AS_OF)))
    while len(events) < n_events:
        target, status, last = rng.choice(current)
        events.append(StatusEvent(target.project, target.taxid, status, last,
                                  evidence=(f"SAMEA{rng.randrange(10**6, 10**7)}",)))
    rng.shuffle(events)
    bank = {t.taxid for t in targets if rng.random() < 1 / 3}
    return targets, events[:n_events], bank


def median_time(work: Callable[[], T], repeats: int) -> tuple[float, T]:
    """The median wall time of ``repeats`` runs of ``work``, and its last result."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def ours_counts(targets: Sequence[Target], events: Sequence[StatusEvent]
                ) -> dict[tuple[str, str, str], tuple[int, int, int]]:
    rows = _classify(targets, replay(e for e in events if e.day <= AS_OF), "insdc_open")
    out = {(p, "project", p): (c.done, c.in_progress, c.targeted)
           for p, c in _project_counts(rows).items()}
    for rank in RANKS:
        out.update({(p, rank, n): (c.done, c.in_progress, c.targeted)
                    for (p, n), c in _rank_counts(rows, rank).items()})
    return out


def pandas_frames(targets: Sequence[Target], events: Sequence[StatusEvent]) -> Any:
    import pandas as pd  # type: ignore[import-untyped]

    tf = pd.DataFrame({"project": [t.project for t in targets],
                       "taxid": [t.taxid for t in targets],
                       **{rank: [t.lineage.get(rank) or "(unplaced)" for t in targets]
                          for rank in RANKS}})
    ef = pd.DataFrame({"project": [e.project for e in events],
                       "taxid": [e.taxid for e in events],
                       "step": [POSITION[e.status] for e in events],
                       "day": pd.to_datetime([e.day for e in events]),
                       "order": range(len(events))})
    return tf, ef


def pandas_counts(tf: Any, ef: Any) -> dict[tuple[str, str, str], tuple[int, int, int]]:
    import numpy as np
    import pandas as pd

    ef = ef[ef["day"] <= pd.Timestamp(AS_OF)]
    last = (ef.sort_values(["day", "order"], kind="stable")
            .groupby(["project", "taxid"], sort=False)["step"].last().rename("step"))
    merged = tf.merge(last.reset_index(), on=["project", "taxid"], how="left")
    step = merged["step"].fillna(0).to_numpy()
    merged["bucket"] = np.where(step >= POSITION["insdc_open"], "done",
                                np.where(step >= POSITION["sample_collected"], "in_progress",
                                         "targeted"))
    out: dict[tuple[str, str, str], tuple[int, int, int]] = {}
    for keys, rank in ((["project"], "project"),
                       *((["project", r], r) for r in RANKS)):
        table_ = merged.groupby([*keys, "bucket"]).size().unstack(fill_value=0)
        for col in ("done", "in_progress", "targeted"):
            if col not in table_:
                table_[col] = 0
        for index, row in table_.iterrows():
            project, name = (index, index) if rank == "project" else index
            out[(project, rank, name)] = (int(row["done"]), int(row["in_progress"]),
                                          int(row["targeted"]))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    args: Any = parser.parse_args(argv)
    _, real, made = taxonomy()
    started = time.perf_counter()
    targets, events, bank = synthesise(args.targets, args.events, random.Random(11))
    made_in = time.perf_counter() - started
    lineages = {(t.lineage["class"], t.lineage["order"], t.lineage["family"]) for t in targets}
    print(f"{len(targets):,} targets over {len({t.project for t in targets})} projects, "
          f"{len(events):,} status events, {len(bank):,} taxa with material in the bank "
          f"(synthesised in {made_in:.1f} s)")
    print(f"taxonomy: {len({c for c, _, _ in lineages})} classes, "
          f"{len({o for _, o, _ in lineages})} orders, {len(lineages)} class/order/family "
          f"combinations; genera with a family from the sources {real}, made up {made}")
    final = replay(events)
    share = {s: sum(1 for x in final.values() if x.status == s) for s in STATUSES}
    print("current statuses: " + ", ".join(f"{s} {n:,}" for s, n in share.items() if n))

    repeats = args.repeats
    total, summary = median_time(lambda: summarise(targets, events, AS_OF, bank), repeats)
    print(f"\nfull progress computation (summarise): median {total * 1000:.0f} ms "
          f"of {repeats}")
    statuses = replay(events)
    rows = _classify(targets, statuses, "insdc_open")
    parts: list[tuple[str, Callable[[], object]]] = [
        ("replay of the events", lambda: replay(e for e in events if e.day <= AS_OF)),
        ("classify the targets", lambda: _classify(targets, statuses, "insdc_open")),
        ("counts per project", lambda: _project_counts(rows)),
        ("counts per class, order, family",
         lambda: [_rank_counts(rows, r) for r in RANKS]),
        ("tree and table", lambda: table(_build_tree(rows, RANKS))),
        ("projections", lambda: [_project_projection(p, g, AS_OF, 365, "insdc_open")
                                 for p, g in _by_project(rows).items()]),
        ("next best (top 50)", lambda: _next_best(rows, bank, 50)),
    ]
    for name, work in parts:
        took, _ = median_time(work, repeats)
        print(f"  {name:34} {took * 1000:7.1f} ms")
    for project, p in summary.projections.items():
        print(f"  {project}: {p.done:,} done of {p.total:,}, {p.done_in_window} in the last "
              f"{p.window_days} days, completion {p.completion} ({p.reason})")

    ours_time, ours = median_time(lambda: ours_counts(targets, events), repeats)
    built, (tf, ef) = median_time(lambda: pandas_frames(targets, events), 1)
    ref_time, reference = median_time(lambda: pandas_counts(tf, ef), repeats)
    print(f"\ncounts only (current status, then per project and per rank), median of "
          f"{repeats}:")
    print(f"  Lanhai (pure Python dicts)         {ours_time * 1000:7.1f} ms")
    print(f"  pandas groupby (frames prebuilt)   {ref_time * 1000:7.1f} ms")
    print(f"  (building pandas' two frames from the objects took {built * 1000:.0f} ms, "
          "not counted)")
    print(f"  ratio Lanhai / pandas: {ours_time / ref_time:.2f}; counts agree: "
          f"{'yes' if ours == reference else 'NO'} ({len(reference):,} groups)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
