"""Breeding values by BLUP with one relationship matrix (PBLUP with A, GBLUP with G,
ssGBLUP with H), their prediction error variances and reliabilities.

û = σg² K[:, o] P y and PEV = σg² diag(K) - σg⁴ diag(K[:, o] P K[o, :]), with
P = V⁻¹ - V⁻¹X(X'V⁻¹X)⁻¹X'V⁻¹ and V = σg² K[o, o] + σe² I (Henderson 1975); identical to
solving the mixed-model equations with K⁻¹. Reliability = 1 - PEV / (σg² K_ii).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lanhai.breeding.data import FloatArray, Progress, no_progress
from lanhai.breeding.design import Design
from lanhai.breeding.pedigree import IntArray
from lanhai.breeding.relationship import Kernel
from lanhai.breeding.reml import Eigen, VarComps, eigen, reml_ai, reml_spectral


@dataclass
class Prediction:
    """GEBVs for every animal of the relationship matrix, with PEV and reliability."""

    ids: list[str]
    gebv: FloatArray
    pev: FloatArray
    reliability: FloatArray
    phenotyped: list[bool]
    vc: VarComps
    fixed_names: list[str] = field(default_factory=list)
    model: str = ""

    def ranking(self, only: set[str] | None = None) -> list[dict[str, Any]]:
        """Animals by GEBV, best first, each with its reliability and accuracy (the
        correlation of GEBV and true breeding value, √reliability)."""
        order = np.argsort(-self.gebv, kind="stable")
        out: list[dict[str, Any]] = []
        for i in order:
            if only is not None and self.ids[i] not in only:
                continue
            out.append({"rank": len(out) + 1, "id": self.ids[i],
                        "gebv": float(self.gebv[i]), "reliability": float(self.reliability[i]),
                        "accuracy": math.sqrt(max(float(self.reliability[i]), 0.0)),
                        "pev": float(self.pev[i]), "phenotyped": self.phenotyped[i]})
        return out

    def fixed(self) -> dict[str, float]:
        return {n: float(b) for n, b in zip(self.fixed_names, self.vc.fixed, strict=True)}


def blup_from_eigen(e: Eigen, k_to_u: FloatArray, k_tt: FloatArray, sg: float,
                    se: float) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(GEBV, PEV, reliability, b) for targets t, given (K[t, o] U) and diag(K)[t]."""
    w = 1.0 / (sg * e.s + se)
    wx = e.ux * w[:, None]
    c = np.linalg.inv(e.ux.T @ wx)
    b = c @ (wx.T @ e.uy)
    r = e.uy - e.ux @ b
    gebv = sg * (k_to_u @ (w * r))
    bwx = k_to_u @ wx
    quad = (k_to_u * k_to_u) @ w - ((bwx @ c) * bwx).sum(1)
    pev = np.maximum(sg * k_tt - sg * sg * quad, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.clip(1.0 - pev / (sg * k_tt), 0.0, 1.0)
    return gebv, pev, np.nan_to_num(rel), b


def kernel_times_u(kcols: FloatArray, o: IntArray, e: Eigen, targets: IntArray) -> FloatArray:
    """K[targets, o] U, using K[o, o] U = U S for targets that have records."""
    out = np.empty((len(targets), len(o)))
    where = {int(p): i for i, p in enumerate(o)}
    have = np.array([int(t) in where for t in targets], bool)
    if have.any():
        rows = np.array([where[int(t)] for t in targets[have]], dtype=np.int64)
        out[have] = e.u[rows] * e.s
    if (~have).any():
        out[~have] = kcols[targets[~have]] @ e.u
    return out


def fit_predict(kernel: Kernel, design: Design, method: str = "spectral",
                variances: tuple[float, float] | None = None, model: str = "",
                progress: Progress = no_progress) -> Prediction:
    """REML (unless ``variances`` = (σg², σe²) are given) then BLUP for all animals."""
    o = kernel.positions(design.ids)
    progress("relationships", 0, 1)
    kcols = kernel.columns(o)
    koo = kcols[o]
    progress("relationships", 1, 1)
    e = eigen(design.y, design.x, koo)
    progress("reml", 0, 1)
    if variances is not None:
        vc, _ = reml_spectral(design.y, design.x, eig=e)
        sg, se = variances
        vc = VarComps(sg, se, sg / (sg + se), float("nan"), float("nan"), float("nan"),
                      float("nan"), "given", 0, True, vc.fixed, ["variances given"])
    elif method == "ai":
        vc = reml_ai(design.y, design.x, koo, progress=progress)
    else:
        vc, _ = reml_spectral(design.y, design.x, eig=e)
    progress("reml", 1, 1)
    targets = np.arange(len(kernel.ids), dtype=np.int64)
    ku = kernel_times_u(kcols, o, e, targets)
    gebv, pev, rel, b = blup_from_eigen(e, ku, kernel.diag(), vc.sigma_g, vc.sigma_e)
    vc.fixed = b
    observed = set(design.ids)
    return Prediction(list(kernel.ids), gebv, pev, rel, [a in observed for a in kernel.ids],
                      vc, design.columns, model)
