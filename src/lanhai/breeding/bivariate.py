"""Bivariate animal model by AI-REML: genetic and residual (co)variances of two traits,
heritabilities and the genetic correlation with standard errors (delta method)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lanhai.breeding.data import FloatArray, Progress, no_progress
from lanhai.breeding.design import Design, check_collinear
from lanhai.breeding.relationship import Kernel
from lanhai.breeding.reml import ai_reml, check_inputs
from lanhai.errors import Problem, ValidationFailed

NAMES = ("g11", "g12", "g22", "e11", "e12", "e22")


@dataclass
class BivariateComps:
    traits: tuple[str, str]
    g: FloatArray  # 2 × 2 genetic covariance
    e: FloatArray  # 2 × 2 residual covariance
    se: dict[str, float]
    h2: tuple[float, float]
    rg: float
    rg_se: float
    loglik: float
    iterations: int
    converged: bool

    def to_dict(self) -> dict[str, Any]:
        return {"traits": list(self.traits), "genetic_covariance": self.g.tolist(),
                "residual_covariance": self.e.tolist(), "se": self.se,
                "h2": list(self.h2), "rg": self.rg, "rg_se": self.rg_se,
                "loglik": self.loglik, "iterations": self.iterations,
                "converged": self.converged}


def _pd(t: FloatArray) -> bool:
    g = np.array([[t[0], t[1]], [t[1], t[2]]])
    e = np.array([[t[3], t[4]], [t[4], t[5]]])
    return bool(np.all(np.linalg.eigvalsh(g) > 0) and np.all(np.linalg.eigvalsh(e) > 0))


def reml_bivariate(kernel: Kernel, d1: Design, d2: Design, max_iter: int = 50,
                   progress: Progress = no_progress) -> BivariateComps:
    """Two traits, records on possibly different animals, V = G0 ⊗ K + R0 ⊗ I."""
    for d in (d1, d2):
        check_collinear(d.x, d.columns, d.trait, None)
        check_inputs(d.y, d.x)
    if d1.trait == d2.trait:
        raise ValidationFailed("two different traits needed", [Problem(
            reason=f"both traits are {d1.trait!r}", fix="name two different traits")])
    p1, p2 = kernel.positions(d1.ids), kernel.positions(d2.ids)
    n1, n2 = len(p1), len(p2)
    both = np.concatenate([p1, p2])
    k = kernel.columns(both)[both]
    same = (np.array(d1.ids)[:, None] == np.array(d2.ids)[None, :]).astype(float)
    if not same.any():
        raise ValidationFailed("no animal has both traits", [Problem(
            reason="the residual covariance cannot be estimated: no animal has records of "
                   "both traits", fix="use records measured on the same animals")])
    n = n1 + n2
    z = np.zeros((n, n))

    def block(a: FloatArray | None, b: FloatArray | None, c: FloatArray | None) -> FloatArray:
        m = z.copy()
        if a is not None:
            m[:n1, :n1] = a
        if b is not None:
            m[:n1, n1:] = b
            m[n1:, :n1] = b.T
        if c is not None:
            m[n1:, n1:] = c
        return m

    mats = [block(k[:n1, :n1], None, None), block(None, k[:n1, n1:], None),
            block(None, None, k[n1:, n1:]), block(np.eye(n1), None, None),
            block(None, same, None), block(None, None, np.eye(n2))]
    y = np.concatenate([d1.y, d2.y])
    x = np.zeros((n, d1.x.shape[1] + d2.x.shape[1]))
    x[:n1, :d1.x.shape[1]] = d1.x
    x[n1:, d1.x.shape[1]:] = d2.x
    v1, v2 = float(np.var(d1.y)), float(np.var(d2.y))
    theta0 = np.array([v1 / 2, 0.0, v2 / 2, v1 / 2, 0.0, v2 / 2])
    ranks = [n1, max(n1, n2), n2, n1, int(same.sum()), n2]
    def squares(t: FloatArray) -> FloatArray:
        return np.array([t[0] ** 2, t[0] * t[2], t[2] ** 2, t[3] ** 2, t[3] * t[5], t[5] ** 2])

    res = ai_reml(y, x, mats, theta0, ranks, valid=_pd, max_iter=max_iter, squares=squares,
                  progress=progress)
    t, cov = res.theta, res.cov
    se = {nm: float(np.sqrt(max(cov[i, i], 0.0))) for i, nm in enumerate(NAMES)}
    rg = t[1] / np.sqrt(t[0] * t[2])
    grad = np.array([-0.5 * rg / t[0], rg / t[1] if t[1] else 1 / np.sqrt(t[0] * t[2]),
                     -0.5 * rg / t[2], 0, 0, 0])
    rg_se = float(np.sqrt(max(float(grad @ cov @ grad), 0.0)))
    h2 = (float(t[0] / (t[0] + t[3])), float(t[2] / (t[2] + t[5])))
    return BivariateComps((d1.trait, d2.trait), np.array([[t[0], t[1]], [t[1], t[2]]]),
                          np.array([[t[3], t[4]], [t[4], t[5]]]), se, h2, float(rg), rg_se,
                          res.loglik, res.iterations, res.converged)
