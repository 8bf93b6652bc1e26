"""Pedigree relationships: ordering, inbreeding, A and A⁻¹.

* Ordering is a topological sort; a loop is reported with the animals on it.
* Inbreeding by Meuwissen & Luo (1992, Genet. Sel. Evol. 24:305).
* A⁻¹ directly by Henderson's (1976) rules with inbreeding (Quaas 1976, Biometrics 32:949),
  as a sparse scipy matrix.
* Columns of A by sparse solves with A⁻¹, and the dense tabular A for small pedigrees.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from lanhai.breeding.data import FloatArray, Pedigree
from lanhai.errors import Problem, ValidationFailed

IntArray = npt.NDArray[np.int64]


@dataclass
class Coded:
    """A pedigree coded 0..n-1 with parents before offspring; -1 = unknown parent."""

    ids: list[str]
    sire: IntArray
    dam: IntArray

    def __len__(self) -> int:
        return len(self.ids)

    def index(self) -> dict[str, int]:
        return {a: i for i, a in enumerate(self.ids)}


def code(ped: Pedigree) -> Coded:
    """Sort the pedigree so parents come first; parents without a row become founders.

    Raises ValidationFailed naming the animals of a loop (an animal its own ancestor).
    """
    parents: dict[str, tuple[str | None, str | None]] = {}
    for a, s, d in zip(ped.ids, ped.sire, ped.dam, strict=True):
        parents[a] = (s, d)
    for s, d in list(parents.values()):
        for p in (s, d):
            if p is not None and p not in parents:
                parents[p] = (None, None)
    children: dict[str, list[str]] = {a: [] for a in parents}
    indeg = dict.fromkeys(parents, 0)
    for a, (s, d) in parents.items():
        for p in {s, d} - {None}:
            assert p is not None
            children[p].append(a)
            indeg[a] += 1
    queue = deque(a for a in parents if indeg[a] == 0)
    order: list[str] = []
    while queue:
        a = queue.popleft()
        order.append(a)
        for c in children[a]:
            indeg[c] -= 1
            if indeg[c] == 0:
                queue.append(c)
    if len(order) < len(parents):
        raise ValidationFailed("the pedigree has a loop", [_loop_problem(parents, indeg,
                                                                         ped.source)])
    pos = {a: i for i, a in enumerate(order)}
    sire = np.array([pos[s] if (s := parents[a][0]) is not None else -1 for a in order],
                    dtype=np.int64)
    dam = np.array([pos[d] if (d := parents[a][1]) is not None else -1 for a in order],
                   dtype=np.int64)
    return Coded(order, sire, dam)


def _loop_problem(parents: dict[str, tuple[str | None, str | None]], indeg: dict[str, int],
                  source: str) -> Problem:
    stuck = {a for a, k in indeg.items() if k > 0}
    start = min(stuck)
    path = [start]
    seen = {start: 0}
    while True:
        s, d = parents[path[-1]]
        nxt = s if s in stuck else d
        assert nxt is not None
        if nxt in seen:
            cycle = [*path[seen[nxt]:], nxt]
            break
        seen[nxt] = len(path)
        path.append(nxt)
    cycle.reverse()  # ancestor first: "A is a parent of B is a parent of ... A"
    return Problem(
        reason=f"pedigree loop: {' → '.join(cycle)} (each is a parent of the next, so "
               f"{cycle[0]} would be its own ancestor)",
        fix="correct the sire or dam of one animal on the loop", record=cycle[0],
        file=source or None)


def inbreeding(ped: Coded) -> FloatArray:
    """Inbreeding coefficients by Meuwissen & Luo (1992)."""
    n = len(ped)
    f = np.zeros(n + 1)
    f[n] = -1.0  # index n stands for an unknown parent (F = -1 makes D = 1 for founders)
    sire = np.where(ped.sire < 0, n, ped.sire)
    dam = np.where(ped.dam < 0, n, ped.dam)
    d = 0.5 - 0.25 * (f[sire] + f[dam])  # recomputed per animal below
    lvec = np.zeros(n + 1)
    for i in range(n):
        s, m = int(sire[i]), int(dam[i])
        if s == n or m == n:
            f[i] = 0.0
            d[i] = 0.5 - 0.25 * (f[s] + f[m])
            continue
        if i > 0 and s == sire[i - 1] and m == dam[i - 1]:
            f[i] = f[i - 1]
            d[i] = d[i - 1]
            continue
        d[i] = 0.5 - 0.25 * (f[s] + f[m])
        lvec[i] = 1.0
        todo = {i}
        fi = -1.0
        while todo:
            j = max(todo)
            todo.discard(j)
            lj = lvec[j]
            fi += lj * lj * d[j]
            lvec[j] = 0.0
            for p in (int(sire[j]), int(dam[j])):
                if p != n:
                    lvec[p] += 0.5 * lj
                    todo.add(p)
        f[i] = fi
    return f[:n].copy()


def mendelian_d(ped: Coded, f: FloatArray) -> FloatArray:
    """Within-family (Mendelian sampling) variance factor D of each animal."""
    fs = np.where(ped.sire >= 0, f[np.maximum(ped.sire, 0)], -1.0)
    fd = np.where(ped.dam >= 0, f[np.maximum(ped.dam, 0)], -1.0)
    return 0.5 - 0.25 * (fs + fd)


def a_inverse(ped: Coded, f: FloatArray | None = None) -> sp.csc_matrix:
    """A⁻¹ by Henderson's rules with inbreeding (Quaas 1976), sparse."""
    n = len(ped)
    f = inbreeding(ped) if f is None else f
    b = 1.0 / mendelian_d(ped, f)
    idx = np.arange(n)
    rows = [idx]
    cols = [idx]
    vals = [b]
    for par, w in ((ped.sire, -0.5), (ped.dam, -0.5)):
        k = par >= 0
        rows += [idx[k], par[k]]
        cols += [par[k], idx[k]]
        vals += [w * b[k], w * b[k]]
    for p1 in (ped.sire, ped.dam):
        for p2 in (ped.sire, ped.dam):
            k = (p1 >= 0) & (p2 >= 0)
            rows.append(p1[k])
            cols.append(p2[k])
            vals.append(0.25 * b[k])
    mat = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                        shape=(n, n))
    return sp.csc_matrix(mat)


def a_columns(ainv: sp.spmatrix, cols: IntArray) -> FloatArray:
    """Columns ``cols`` of A = (A⁻¹)⁻¹, by a sparse LU solve (n × len(cols))."""
    n = ainv.shape[0]
    lu = spla.splu(sp.csc_matrix(ainv))
    rhs = np.zeros((n, len(cols)))
    rhs[cols, np.arange(len(cols))] = 1.0
    out: FloatArray = lu.solve(rhs)
    return out


def a_dense(ped: Coded) -> FloatArray:
    """The full A by the tabular method (Emik & Terrill 1949); for small pedigrees."""
    n = len(ped)
    a = np.zeros((n, n))
    for i in range(n):
        s, d = int(ped.sire[i]), int(ped.dam[i])
        row = np.zeros(i)
        if s >= 0:
            row += 0.5 * a[s, :i]
        if d >= 0:
            row += 0.5 * a[d, :i]
        a[i, :i] = row
        a[:i, i] = row
        a[i, i] = 1.0 + (0.5 * a[s, d] if s >= 0 and d >= 0 else 0.0)
    return a


def kinship(a: FloatArray) -> FloatArray:
    """Coancestry (kinship) = A / 2."""
    out: FloatArray = a / 2.0
    return out
