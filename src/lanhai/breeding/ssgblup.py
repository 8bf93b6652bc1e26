"""Single-step relationships: G tuned to A22 and blended, H⁻¹ and columns of H.

H⁻¹ = A⁻¹ + [[0, 0], [0, τ Gw⁻¹ - ω A22⁻¹]] (Aguilar et al. 2010; Christensen & Lund 2010),
with Gw = (1 - w) G* + w A22, and G* = α + β G tuned to A22:

* ``christensen``: α, β so that mean diag and mean of all elements match A22
  (Christensen et al. 2012, Genet. Sel. Evol. 44:37);
* ``mean``: β = 1, α = mean(A22) - mean(G) (Vitezica et al. 2011, Genet. Res. 93:357);
* ``none``: G as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from lanhai.breeding.data import FloatArray, Pedigree
from lanhai.breeding.pedigree import IntArray
from lanhai.breeding.relationship import Kernel, PedigreeKernel
from lanhai.errors import Problem, ValidationFailed

TUNINGS = ("christensen", "mean", "none")


def tune(g: FloatArray, a22: FloatArray, method: str = "christensen") -> tuple[FloatArray,
                                                                                float, float]:
    """G* = α + β G matched to A22; returns (G*, α, β)."""
    if method not in TUNINGS:
        raise ValidationFailed("unknown tuning", [Problem(
            reason=f"no G tuning {method!r}", value=method, fix=f"use {', '.join(TUNINGS)}")])
    if method == "none":
        return g, 0.0, 1.0
    if method == "mean":
        alpha = float(a22.mean() - g.mean())
        return g + alpha, alpha, 1.0
    dg, da = float(np.diag(g).mean()), float(np.diag(a22).mean())
    og, oa = float(g.mean()), float(a22.mean())
    if abs(dg - og) < 1e-12:
        raise ValidationFailed("G cannot be tuned", [Problem(
            reason="G has the same mean on and off the diagonal",
            fix="use --tune mean or none")])
    beta = (da - oa) / (dg - og)
    alpha = da - beta * dg
    return alpha + beta * g, alpha, beta


@dataclass
class SingleStep:
    """H⁻¹ pieces for animals in a pedigree, some genotyped (``geno_pos``)."""

    ped: PedigreeKernel
    geno_pos: IntArray
    gw: FloatArray
    a22: FloatArray
    a_cols: FloatArray  # A[:, geno]
    info: dict[str, Any] = field(default_factory=dict)

    def h_inverse(self, tau: float = 1.0, omega: float = 1.0) -> sp.csc_matrix:
        """H⁻¹ (sparse A⁻¹ plus a dense block for genotyped animals)."""
        block = tau * np.linalg.inv(self.gw) - omega * np.linalg.inv(self.a22)
        gi = np.repeat(self.geno_pos, len(self.geno_pos))
        gj = np.tile(self.geno_pos, len(self.geno_pos))
        extra = sp.coo_matrix((block.ravel(), (gi, gj)), shape=self.ped.ainv.shape)
        return sp.csc_matrix(self.ped.ainv + extra)


def single_step(ped: Pedigree | PedigreeKernel, geno_ids: list[str], g: FloatArray,
                blend: float = 0.05, tuning: str = "christensen") -> SingleStep:
    """Relate G (for ``geno_ids``) to the pedigree: tune, blend, keep what H needs."""
    pk = ped if isinstance(ped, PedigreeKernel) else PedigreeKernel(ped)
    idx = pk.index()
    unknown = [a for a in geno_ids if a not in idx]
    if unknown:
        raise ValidationFailed(f"{len(unknown)} genotyped animal(s) not in the pedigree", [
            Problem(reason=f"genotyped animal {a} has no pedigree row (single-step needs "
                           "every genotyped animal in the pedigree)", record=a,
                    fix="add it to the pedigree with unknown parents (0) if they are unknown")
            for a in unknown[:50]])
    pos = np.array([idx[a] for a in geno_ids], dtype=np.int64)
    a_cols = pk.columns(pos)
    a22 = a_cols[pos]
    gstar, alpha, beta = tune(g, a22, tuning)
    gw = (1.0 - blend) * gstar + blend * a22
    info = {"tuning": tuning, "alpha": alpha, "beta": beta, "blend": blend,
            "mean_diag_A22": float(np.diag(a22).mean()), "mean_A22": float(a22.mean()),
            "mean_diag_G": float(np.diag(g).mean()), "mean_G": float(g.mean())}
    return SingleStep(pk, pos, gw, a22, a_cols, info)


class HKernel(Kernel):
    """Columns of H = A + A[:,2] A22⁻¹ (Gw - A22) A22⁻¹ A[2,:] (Legarra et al. 2009)."""

    name = "H"

    def __init__(self, ss: SingleStep) -> None:
        self.ss = ss
        self.ids = ss.ped.ids
        a22_inv = np.linalg.inv(ss.a22)
        self._m = a22_inv @ (ss.gw - ss.a22) @ a22_inv
        self._left = ss.a_cols  # N × g

    def columns(self, cols: IntArray) -> FloatArray:
        base = self.ss.ped.columns(cols)
        out: FloatArray = base + self._left @ (self._m @ self._left[cols].T)
        return out

    def diag(self) -> FloatArray:
        extra = ((self._left @ self._m) * self._left).sum(1)
        out: FloatArray = self.ss.ped.diag() + extra
        return out
