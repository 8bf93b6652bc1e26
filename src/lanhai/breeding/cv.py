"""Cross-validation: k-fold, repeated, by family, or the breeder's own folds.

For each fold, REML and BLUP are run on the training animals only and the test animals are
predicted. Reported per fold: the predictive correlation r(GEBV, y*) where y* is the record
corrected for the fixed effects estimated in training, accuracy r / sqrt(h²) with h² from that
fold's REML, and bias as the slope of y* on GEBV (1 = unbiased; < 1 = GEBVs too dispersed).
Overall: the mean over folds, and the pooled correlation over all predictions of a repeat.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from lanhai.breeding.data import FloatArray, Progress, no_progress
from lanhai.breeding.design import Design
from lanhai.breeding.predict import blup_from_eigen
from lanhai.breeding.relationship import Kernel
from lanhai.breeding.reml import eigen, reml_spectral
from lanhai.errors import Problem, ValidationFailed

FoldArray = npt.NDArray[np.int64]


def make_folds(n: int, k: int = 5, seed: int = 1, repeats: int = 1,
               families: list[str] | None = None) -> FoldArray:
    """Fold numbers 1..k for n records, one row per repeat, reproducible from ``seed``.

    With ``families`` whole families go to one fold (sizes balanced greedily), so the test
    animals have no full sibs in training.
    """
    if k < 2 or k > n:
        raise ValidationFailed("bad number of folds", [Problem(
            reason=f"{k} folds for {n} records", value=str(k),
            fix="use between 2 and the number of records")])
    rng = np.random.default_rng(seed)
    out = np.zeros((repeats, n), dtype=np.int64)
    for r in range(repeats):
        if families is None:
            perm = rng.permutation(n)
            out[r, perm] = np.arange(n) % k + 1
            continue
        fams = sorted(set(families))
        if len(fams) < k:
            raise ValidationFailed("too few families", [Problem(
                reason=f"{len(fams)} families cannot fill {k} folds",
                fix="use fewer folds or plain k-fold")])
        members = {f: [i for i, x in enumerate(families) if x == f] for f in fams}
        shuffled = rng.permutation(len(fams)).tolist()
        order = sorted(shuffled, key=lambda i: -len(members[fams[i]]))  # biggest first
        sizes = np.zeros(k)
        for i in order:
            fold = int(np.argmin(sizes + rng.random(k) * 1e-6))
            out[r, members[fams[i]]] = fold + 1
            sizes[fold] += len(members[fams[i]])
    return out


@dataclass
class FoldResult:
    repeat: int
    fold: int
    n_train: int
    n_test: int
    h2: float
    r: float
    accuracy: float
    bias: float


@dataclass
class CvResult:
    folds: list[FoldResult]
    predictions: FloatArray  # repeats × n (NaN where never tested)
    corrected: FloatArray  # y* for each record, per repeat
    summary: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"folds": [asdict(f) for f in self.folds], "summary": self.summary}


def _corr(a: FloatArray, b: FloatArray) -> float:
    if len(a) < 3 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _slope(y: FloatArray, g: FloatArray) -> float:
    vg = float(np.var(g))
    return float(np.cov(y, g, bias=True)[0, 1] / vg) if vg > 0 else float("nan")


def cross_validate(kernel: Kernel, design: Design, folds: FoldArray,
                   progress: Progress = no_progress) -> CvResult:
    """Run every fold of every repeat; ``folds`` has fold numbers ≥ 1 (0 = never test)."""
    folds = np.atleast_2d(np.asarray(folds, dtype=np.int64))
    n = len(design.y)
    if folds.shape[1] != n:
        raise ValidationFailed("folds do not match the records", [Problem(
            reason=f"{folds.shape[1]} fold assignments for {n} records",
            fix="give one fold number per phenotyped animal")])
    o = kernel.positions(design.ids)
    koo = kernel.columns(o)[o]
    diag = np.diag(koo)
    results: list[FoldResult] = []
    preds = np.full(folds.shape, np.nan)
    ystar = np.full(folds.shape, np.nan)
    total = int(sum(len(set(row[row > 0])) for row in folds))
    done = 0
    for rep, row in enumerate(folds):
        for f in sorted(set(row[row > 0].tolist())):
            te = np.flatnonzero(row == f)
            tr = np.flatnonzero(row != f)
            x_tr = design.x[tr]
            used = np.abs(x_tr).sum(0) > 0
            x_tr = x_tr[:, used]
            e = eigen(design.y[tr], x_tr, koo[np.ix_(tr, tr)])
            vc, _ = reml_spectral(design.y[tr], x_tr, eig=e)
            ku = koo[np.ix_(te, tr)] @ e.u
            gebv, _, _, b = blup_from_eigen(e, ku, diag[te], vc.sigma_g, vc.sigma_e)
            y_adj = design.y[te] - design.x[te][:, used] @ b
            preds[rep, te] = gebv
            ystar[rep, te] = y_adj
            r = _corr(gebv, y_adj)
            results.append(FoldResult(rep + 1, int(f), len(tr), len(te), vc.h2, r,
                                      r / np.sqrt(vc.h2) if vc.h2 > 0 else float("nan"),
                                      _slope(y_adj, gebv)))
            done += 1
            progress("cv", done, total)
    return CvResult(results, preds, ystar, _summary(results, preds, ystar))


def _summary(results: list[FoldResult], preds: FloatArray, ystar: FloatArray) -> dict[str,
                                                                                       float]:
    def mean(vals: list[float]) -> float:
        arr = np.array(vals, float)
        return float(np.nanmean(arr)) if np.isfinite(arr).any() else float("nan")

    pooled_r, pooled_b = [], []
    for p, y in zip(preds, ystar, strict=True):
        ok = np.isfinite(p)
        pooled_r.append(_corr(p[ok], y[ok]))
        pooled_b.append(_slope(y[ok], p[ok]))
    h2 = mean([f.h2 for f in results])
    pr = mean(pooled_r)
    return {"r_mean_within_folds": mean([f.r for f in results]),
            "r_sd_within_folds": float(np.nanstd([f.r for f in results])),
            "r_pooled": pr,
            "accuracy_mean_within_folds": mean([f.accuracy for f in results]),
            "accuracy_pooled": pr / np.sqrt(h2) if h2 > 0 else float("nan"),
            "bias_mean_within_folds": mean([f.bias for f in results]),
            "bias_pooled": mean(pooled_b), "h2_mean": h2,
            "folds": float(len(results))}
