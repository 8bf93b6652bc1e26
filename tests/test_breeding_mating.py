"""Priority 9b: optimal contribution selection under a kinship limit and least-inbred
mate allocation, checked against brute force on small cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lanhai.breeding.data import Pedigree
from lanhai.breeding.mating import allocate, optimal_contributions
from lanhai.breeding.pedigree import a_dense, code
from lanhai.errors import ValidationFailed

# two half-sib groups (sires S1, S2; dams D1–D4 of two families) and unrelated founders
PED = Pedigree(["S0", "D0", "X0", "Y0", "S1", "S2", "D1", "D2", "D3", "D4"],
               [None, None, None, None, "S0", "X0", "S0", "S0", "X0", "X0"],
               [None, None, None, None, "D0", "Y0", "D0", "D0", "Y0", "Y0"],
               sex=["M", "F", "M", "F", "M", "M", "F", "F", "F", "F"])


def _setup() -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    c = code(PED)
    kin = a_dense(c) / 2
    idx = [c.ids.index(a) for a in ["S1", "S2", "D1", "D2", "D3", "D4"]]
    ids = ["S1", "S2", "D1", "D2", "D3", "D4"]
    ebv = np.array([2.0, 1.0, 1.5, 1.4, 0.2, 0.1])
    return ids, ebv, kin[np.ix_(idx, idx)], ["M", "M", "F", "F", "F", "F"]


def test_without_a_binding_limit_the_best_are_used() -> None:
    ids, ebv, kin, sex = _setup()
    sel = optimal_contributions(ids, ebv, kin, sex, max_kinship=1.0)
    np.testing.assert_allclose(sel.contributions, [0.5, 0, 0.5, 0, 0, 0], atol=1e-6)
    assert sel.gain == pytest.approx(1.75)


def test_kinship_limit_is_met_and_optimal() -> None:
    ids, ebv, kin, sex = _setup()
    limit = 0.2
    sel = optimal_contributions(ids, ebv, kin, sex, max_kinship=limit)
    c = sel.contributions
    assert c[:2].sum() == pytest.approx(0.5) and c[2:].sum() == pytest.approx(0.5)
    assert c @ kin @ c <= limit + 1e-7
    # brute force over a grid of contributions (steps of 1/40) finds nothing better
    best = -np.inf
    grid = np.arange(0, 21) / 40
    for cs in grid:
        for d in itertools.product(grid, repeat=3):
            if sum(d) > 0.5 + 1e-12:
                continue
            v = np.array([cs, 0.5 - cs, *d, 0.5 - sum(d)])
            if v @ kin @ v <= limit:
                best = max(best, float(v @ ebv))
    assert sel.gain >= best - 1e-6
    assert sel.gain < 1.75  # the limit costs gain


def test_delta_f_sets_the_limit_and_impossible_limit_is_explained() -> None:
    ids, ebv, kin, sex = _setup()
    sel = optimal_contributions(ids, ebv, kin, sex, delta_f=0.01)
    cbar = kin.mean()
    assert sel.limit == pytest.approx(cbar + 0.01 * (1 - cbar))  # C_t+1 = C̄ + ΔF(1 - C̄)
    with pytest.raises(ValidationFailed, match="cannot be met") as err:
        optimal_contributions(ids, ebv, kin, sex, max_kinship=0.01)
    assert "raise --max-kinship to at least" in err.value.problems[0].fix


def test_mate_allocation_minimises_progeny_inbreeding() -> None:
    ids, ebv, kin, sex = _setup()
    sel = optimal_contributions(ids, ebv, kin, sex, max_kinship=0.2)
    plan = allocate(sel, ebv, kin, sex, matings=4)
    assert len(plan.matings) == 4
    # brute force over every pairing of the same sire and dam slots
    sires = sorted(m["sire"] for m in plan.matings)
    dams = sorted(m["dam"] for m in plan.matings)
    pos = {a: i for i, a in enumerate(ids)}
    best = min(np.mean([kin[pos[s], pos[d]] for s, d in zip(sires, perm, strict=True)])
               for perm in itertools.permutations(dams))
    assert plan.mean_progeny_inbreeding == pytest.approx(best)
    assert plan.mean_progeny_inbreeding <= plan.random_mating_inbreeding
