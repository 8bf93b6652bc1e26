"""Optimal contribution selection and mate allocation.

OCS (Meuwissen 1997, J. Anim. Sci. 75:934): choose contributions c ≥ 0 of the candidates
(males sum to ½, females to ½) maximising the expected genetic level c'EBV subject to the
group coancestry of the next generation c'Kc ≤ C_max, K = A/2 (or G/2). A limit on the rate
of inbreeding ΔF gives C_max = C̄ + ΔF (1 - C̄), C̄ the candidates' mean coancestry.
Solved as a quadratic programme with scipy's SLSQP.

Mate allocation: each parent gets round(2 N c_i) of N matings; sires' and dams' slots are
paired by a linear assignment (Hungarian method) minimising the total coancestry of the
pairs, i.e. the mean inbreeding of the progeny.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment, minimize

from lanhai.breeding.data import FloatArray
from lanhai.errors import Problem, ValidationFailed


@dataclass
class Selection:
    ids: list[str]
    contributions: FloatArray
    mean_kinship: float
    limit: float
    gain: float
    candidates_mean_kinship: float
    status: str

    def parents(self, min_share: float = 1e-4) -> list[dict[str, Any]]:
        order = np.argsort(-self.contributions)
        return [{"id": self.ids[i], "contribution": float(self.contributions[i])}
                for i in order if self.contributions[i] > min_share]


@dataclass
class MatingPlan:
    matings: list[dict[str, Any]]
    mean_progeny_inbreeding: float
    random_mating_inbreeding: float
    selection: Selection
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        s = self.selection
        return {"matings": self.matings, "mean_progeny_inbreeding": self.mean_progeny_inbreeding,
                "random_mating_inbreeding": self.random_mating_inbreeding,
                "selection": {"parents": s.parents(), "mean_kinship": s.mean_kinship,
                              "kinship_limit": s.limit, "expected_gain": s.gain,
                              "candidates_mean_kinship": s.candidates_mean_kinship,
                              "status": s.status}, "notes": self.notes}


def optimal_contributions(ids: list[str], ebv: FloatArray, kin: FloatArray, sex: list[str],
                          max_kinship: float | None = None, delta_f: float | None = None,
                          max_contribution: float = 0.5) -> Selection:
    """Contributions maximising c'EBV with c'Kc ≤ limit (``max_kinship``, or from
    ``delta_f``); ``kin`` is the coancestry matrix (A/2)."""
    len(ids)
    male = np.array([s == "M" for s in sex])
    female = np.array([s == "F" for s in sex])
    unknown = [a for a, m, f in zip(ids, male, female, strict=True) if not (m or f)]
    if unknown or not male.any() or not female.any():
        raise ValidationFailed("candidates need a sex", [Problem(
            reason=("candidates without a sex: " + ", ".join(unknown[:20])) if unknown else
            "candidates must include males and females", field="sex",
            fix="give every candidate M or F in the pedigree's sex column")])
    cbar = float(kin.mean())
    if (max_kinship is None) == (delta_f is None):
        raise ValidationFailed("give one constraint", [Problem(
            reason="give either a maximum mean kinship or a rate of inbreeding ΔF",
            fix="use --max-kinship 0.05 or --delta-f 0.01")])
    limit = float(max_kinship) if max_kinship is not None else \
        cbar + float(delta_f) * (1.0 - cbar)  # type: ignore[arg-type]
    sexes = np.vstack([male, female]).astype(float)
    cons: list[dict[str, Any]] = [
        {"type": "eq", "fun": lambda c: sexes @ c - 0.5, "jac": lambda c: sexes}]
    ub_m = max(max_contribution, 0.5 / male.sum())
    ub_f = max(max_contribution, 0.5 / female.sum())
    bounds = [(0.0, ub_m if m else ub_f) for m in male]
    c0 = np.where(male, 0.5 / male.sum(), 0.5 / female.sum())
    # the least kinship reachable tells whether the limit can be met at all
    def kinship(c: FloatArray) -> float:
        return float(c @ kin @ c)

    def kinship_grad(c: FloatArray) -> FloatArray:
        out: FloatArray = 2.0 * kin @ c
        return out

    low = minimize(kinship, c0, jac=kinship_grad, bounds=bounds,  # type: ignore[call-overload]
                   constraints=cons, method="SLSQP", options={"maxiter": 500})
    least = float(low.x @ kin @ low.x)
    if least > limit + 1e-9:
        raise ValidationFailed("the kinship limit cannot be met", [Problem(
            reason=f"the lowest mean kinship these candidates can reach is {least:.4f}, "
                   f"above the limit {limit:.4f}",
            fix=f"raise --max-kinship to at least {least:.4f} (or ΔF), or add candidates")])
    scale = float(np.abs(ebv).max()) or 1.0
    cons2 = [*cons, {"type": "ineq", "fun": lambda c: limit - c @ kin @ c,
                     "jac": lambda c: -2 * kin @ c}]
    def loss(c: FloatArray) -> float:
        return -float(c @ ebv) / scale

    def loss_grad(c: FloatArray) -> FloatArray:
        out: FloatArray = -ebv / scale
        return out

    res = minimize(loss, low.x, jac=loss_grad, bounds=bounds,  # type: ignore[call-overload]
                   constraints=cons2, method="SLSQP", options={"maxiter": 1000, "ftol": 1e-12})
    c = np.clip(res.x, 0.0, None)
    c[male] *= 0.5 / c[male].sum()
    c[female] *= 0.5 / c[female].sum()
    return Selection(list(ids), c, float(c @ kin @ c), limit, float(c @ ebv), cbar,
                     "optimal" if res.success else f"approximate ({res.message})")


def _slots(c: FloatArray, total: int) -> npt.NDArray[np.int64]:
    """Largest-remainder rounding of shares c (summing to 1) to ``total`` integers."""
    raw = c / c.sum() * total
    base = np.floor(raw)
    rest = int(total - base.sum())
    base[np.argsort(-(raw - base))[:rest]] += 1
    out: npt.NDArray[np.int64] = base.astype(np.int64)
    return out


def allocate(sel: Selection, ebv: FloatArray, kin: FloatArray, sex: list[str],
             matings: int) -> MatingPlan:
    """Pair the selected parents for ``matings`` matings, least progeny inbreeding first."""
    if matings < 1:
        raise ValidationFailed("no matings requested", [Problem(
            reason="the number of matings must be at least 1", value=str(matings),
            fix="use --matings N")])
    male = np.array([s == "M" for s in sex])
    mi, fi = np.flatnonzero(male), np.flatnonzero(~male)
    ns = _slots(sel.contributions[mi], matings)
    nd = _slots(sel.contributions[fi], matings)
    sires = np.repeat(mi, ns)
    dams = np.repeat(fi, nd)
    cost = kin[np.ix_(sires, dams)].copy()
    rows, cols = linear_sum_assignment(cost)
    seen: dict[tuple[int, int], int] = {}
    plan: list[dict[str, Any]] = []
    for r, c in zip(rows, cols, strict=True):
        s, d = int(sires[r]), int(dams[c])
        seen[(s, d)] = seen.get((s, d), 0) + 1
        plan.append({"sire": sel.ids[s], "dam": sel.ids[d],
                     "progeny_inbreeding": float(kin[s, d]),
                     "expected_progeny_value": float((ebv[s] + ebv[d]) / 2)})
    plan.sort(key=lambda p: (-p["expected_progeny_value"], p["sire"], p["dam"]))
    for i, p in enumerate(plan, 1):
        p["mating"] = i
    random_f = float(kin[np.ix_(sires, dams)].mean())
    notes = [f"{k} matings of {sel.ids[s]} × {sel.ids[d]}" for (s, d), k in seen.items()
             if k > 1]
    return MatingPlan(plan, float(np.mean([p["progeny_inbreeding"] for p in plan])),
                      random_f, sel, notes)
