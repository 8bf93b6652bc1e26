"""Variance components by REML.

* ``spectral``: one relationship matrix K. After K = U S U' the REML likelihood of
  δ = σe²/σg² costs O(n p²) per evaluation (Kang et al. 2008, EMMA; Lippert et al. 2011);
  a grid then Brent's method finds the maximum, so it is exact and cannot diverge.
* ``ai``: average-information REML (Gilmour, Thompson & Cullis 1995) for V = Σ θ_k V_k,
  with step halving and an EM step (Searle et al. 1992) when an AI step leaves the
  parameter space or lowers the likelihood. Used for bivariate models and as a check.

Standard errors come from the inverse information matrix; the SE of h² by the delta method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve, eigh
from scipy.optimize import minimize_scalar

from lanhai.breeding.data import FloatArray, Progress, no_progress
from lanhai.errors import Problem, ValidationFailed


@dataclass
class Eigen:
    """K = U diag(s) U' and the data rotated into its basis."""

    s: FloatArray
    u: FloatArray
    uy: FloatArray
    ux: FloatArray


@dataclass
class VarComps:
    """Univariate REML result."""

    sigma_g: float
    sigma_e: float
    h2: float
    h2_se: float
    sigma_g_se: float
    sigma_e_se: float
    loglik: float
    method: str
    iterations: int = 0
    converged: bool = True
    fixed: FloatArray = field(default_factory=lambda: np.zeros(0))
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"sigma_g": self.sigma_g, "sigma_e": self.sigma_e, "h2": self.h2,
                "h2_se": self.h2_se, "sigma_g_se": self.sigma_g_se,
                "sigma_e_se": self.sigma_e_se, "loglik": self.loglik, "method": self.method,
                "iterations": self.iterations, "converged": self.converged,
                "notes": self.notes}


def check_inputs(y: FloatArray, x: FloatArray) -> None:
    """A trait that can carry a variance: enough records, not constant, finite."""
    n, p = x.shape
    if not np.isfinite(y).all():
        raise ValidationFailed("trait has missing values", [Problem(
            reason="missing or infinite trait values reached the model",
            fix="drop records with missing trait values")])
    if n - p < 3:
        raise ValidationFailed("too few records", [Problem(
            reason=f"{n} records for {p} fixed-effect columns leave {n - p} degrees of "
                   "freedom; REML needs at least 3", fix="add records or drop fixed effects")])
    if np.linalg.matrix_rank(x) < p:
        raise ValidationFailed("fixed effects are collinear", [Problem(
            reason=f"the {p} fixed-effect columns are linearly dependent",
            fix="drop an effect or merge confounded levels")])
    resid = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    if float(resid @ resid) <= 1e-12 * max(1.0, float(y @ y)):
        raise ValidationFailed("no variance left", [Problem(
            reason="the trait is constant (or explained exactly by the fixed effects)",
            fix="check the trait column")])


def eigen(y: FloatArray, x: FloatArray, k: FloatArray) -> Eigen:
    """Eigendecomposition of K (symmetrised; tiny negative eigenvalues set to 0)."""
    s, u = eigh((k + k.T) / 2.0, overwrite_a=True, check_finite=False, driver="evd")
    s = np.maximum(s, 0.0)
    return Eigen(s, u, u.T @ y, u.T @ x)


def _spectral_nll(logd: float, e: Eigen) -> tuple[float, float, FloatArray]:
    """-REML log-likelihood (up to a constant) at δ = exp(logd); returns σg² and b too."""
    n, p = e.ux.shape
    d = np.exp(logd)
    w = 1.0 / (e.s + d)
    xtwx = (e.ux * w[:, None]).T @ e.ux
    b = np.linalg.solve(xtwx, (e.ux * w[:, None]).T @ e.uy)
    r = e.uy - e.ux @ b
    sg = float((r * r * w).sum()) / (n - p)
    logdet = float(np.log(e.s + d).sum())
    nll = 0.5 * ((n - p) * np.log(sg) + logdet + np.linalg.slogdet(xtwx)[1] + (n - p))
    return nll, sg, b


def reml_spectral(y: FloatArray, x: FloatArray, k: FloatArray | None = None,
                  eig: Eigen | None = None) -> tuple[VarComps, Eigen]:
    """Exact univariate REML with one relationship matrix, via its eigendecomposition."""
    check_inputs(y, x)
    e = eig if eig is not None else eigen(y, x, k if k is not None else np.eye(len(y)))
    grid = np.linspace(-9.0, 9.0, 37)
    vals = [_spectral_nll(g, e)[0] for g in grid]
    best = int(np.argmin(vals))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    res = minimize_scalar(lambda t: _spectral_nll(t, e)[0], bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-7})
    logd = float(res.x) if res.fun <= vals[best] else float(grid[best])
    nll, sg, b = _spectral_nll(logd, e)
    se = sg * np.exp(logd)
    notes = []
    if logd >= 8.9:
        notes.append("genetic variance at the boundary (h² ≈ 0)")
    if logd <= -8.9:
        notes.append("residual variance at the boundary (h² ≈ 1)")
    info = _spectral_information(e, sg, se)
    n, p = e.ux.shape
    vc = _finish(sg, se, info, -nll - 0.5 * (n - p) * np.log(2 * np.pi), "spectral", 1, True,
                 b, notes)
    return vc, e


def _spectral_information(e: Eigen, sg: float, se: float) -> FloatArray:
    """Expected information ½ tr(P V_i P V_j) for (σg², σe²) in the eigenbasis."""
    dv = 1.0 / (sg * e.s + se)
    f = e.ux * dv[:, None]
    c = np.linalg.inv(e.ux.T @ f)
    qdiag = ((f @ c) * f).sum(1)
    mats = (e.s, np.ones_like(e.s))
    info = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            a, bb = mats[i], mats[j]
            t1 = float((dv * a * dv * bb).sum())
            t2 = float((a * dv * bb * qdiag).sum())
            fa, fb = f.T @ (f * a[:, None]), f.T @ (f * bb[:, None])
            t3 = float(np.trace(c @ fa @ c @ fb))
            info[i, j] = 0.5 * (t1 - 2.0 * t2 + t3)
    return info


def _finish(sg: float, se: float, info: FloatArray, loglik: float, method: str, it: int,
            conv: bool, b: FloatArray, notes: list[str]) -> VarComps:
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.full((2, 2), np.nan)
    tot = sg + se
    grad = np.array([se / tot**2, -sg / tot**2])
    h2_var = float(grad @ cov @ grad)
    return VarComps(sg, se, sg / tot, float(np.sqrt(max(h2_var, 0.0))),
                    float(np.sqrt(max(cov[0, 0], 0.0))), float(np.sqrt(max(cov[1, 1], 0.0))),
                    loglik, method, it, conv, b, notes)


@dataclass
class AiResult:
    theta: FloatArray
    cov: FloatArray
    loglik: float
    iterations: int
    converged: bool
    fixed: FloatArray
    em_steps: int


def _loglik(y: FloatArray, x: FloatArray, v: FloatArray) -> tuple[float, Any, FloatArray,
                                                                   FloatArray]:
    """REML log-likelihood; returns (ll, chol(V), P y, b)."""
    cf = cho_factor(v, lower=True, check_finite=False)
    vix = cho_solve(cf, x)
    viy = cho_solve(cf, y)
    xvx = x.T @ vix
    b = np.linalg.solve(xvx, x.T @ viy)
    py = viy - vix @ b
    logdet_v = 2.0 * float(np.log(np.diag(cf[0])).sum())
    ll = -0.5 * (logdet_v + float(np.linalg.slogdet(xvx)[1]) + float(y @ py))
    return ll, cf, np.asarray(py, dtype=np.float64), np.asarray(b, dtype=np.float64)


def ai_reml(y: FloatArray, x: FloatArray, mats: list[FloatArray], theta0: FloatArray,
            ranks: list[int], valid: Any = None, max_iter: int = 50, tol: float = 1e-6,
            squares: Any = None, progress: Progress = no_progress) -> AiResult:
    """AI-REML for V = Σ θ_k mats[k]. ``valid(θ)`` says if θ is in the parameter space
    (default: all θ > 0). The EM step is θ_k += 2 s_k / r_k · score_k with r_k the rank of
    ``mats[k]`` and s_k = ``squares(θ)[k]`` (default θ_k²; for a covariance, the product of
    its two variances)."""
    sq = squares or (lambda t: t * t)
    ok = valid or (lambda t: bool(np.all(t > 0)))
    theta = np.asarray(theta0, float).copy()
    if not ok(theta):
        raise ValidationFailed("bad starting values", [Problem(
            reason="starting variance components are outside the parameter space")])
    ll, cf, py, b = _loglik(y, x, sum(t * m for t, m in zip(theta, mats, strict=True)))
    ai = np.eye(len(theta))
    em_steps = 0
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        vix = cho_solve(cf, x)
        xvx_inv = np.linalg.inv(x.T @ vix)
        vinv = cho_solve(cf, np.eye(len(y)))
        p = vinv - vix @ xvx_inv @ vix.T
        work = np.column_stack([m @ py for m in mats])
        pwork = p @ work
        score = np.array([-0.5 * (float((p * m).sum()) - float(py @ work[:, k]))
                          for k, m in enumerate(mats)])
        ai = 0.5 * work.T @ pwork
        try:
            step = np.linalg.solve(ai, score)
        except np.linalg.LinAlgError:
            step = np.full_like(theta, np.nan)
        new = None
        for scale in 0.5 ** np.arange(11):
            cand = theta + scale * step
            if np.all(np.isfinite(cand)) and ok(cand):
                try:
                    cand_ll = _loglik(y, x, sum(t * m for t, m in zip(cand, mats,
                                                                      strict=True)))
                except np.linalg.LinAlgError:
                    continue
                if cand_ll[0] >= ll - 1e-8:
                    new = (cand, cand_ll)
                    break
        if new is None:  # EM step: θ_k += 2 θ_k² / r_k · score_k (stays positive)
            em_steps += 1
            scale_em = 2.0 * np.asarray(sq(theta)) / np.asarray(ranks, float)
            cand = theta + scale_em * score
            shrink = 0
            while not ok(cand) and shrink < 20:
                shrink += 1
                cand = theta + 0.5**shrink * scale_em * score
            if not ok(cand):
                cand = theta
            new = (cand, _loglik(y, x, sum(t * m for t, m in zip(cand, mats, strict=True))))
        change = float(np.max(np.abs(new[0] - theta) / np.maximum(np.abs(theta), 1e-8)))
        gain = new[1][0] - ll
        theta = new[0]
        ll, cf, py, b = new[1]
        progress("reml", it, max_iter)
        if change < tol or (abs(gain) < 1e-9 and change < 1e-4):
            converged = True
            break
    try:
        cov = np.linalg.inv(ai)
    except np.linalg.LinAlgError:
        cov = np.full_like(ai, np.nan)
    return AiResult(theta, np.asarray(cov, dtype=np.float64), ll, it, converged, b, em_steps)


def reml_ai(y: FloatArray, x: FloatArray, k: FloatArray, max_iter: int = 50,
            progress: Progress = no_progress) -> VarComps:
    """Univariate AI-REML with one relationship matrix (dense; a check on spectral)."""
    check_inputs(y, x)
    n = len(y)
    resid = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    var = float(resid @ resid) / max(n - x.shape[1], 1)
    res = ai_reml(y, x, [k, np.eye(n)], np.array([var / 2, var / 2]), [n, n],
                  max_iter=max_iter, progress=progress)
    sg, se = float(res.theta[0]), float(res.theta[1])
    info = np.asarray(np.linalg.inv(res.cov) if np.isfinite(res.cov).all() else
                      np.full((2, 2), np.nan), dtype=np.float64)
    notes = [f"{res.em_steps} EM step(s)"] if res.em_steps else []
    const = -0.5 * (n - x.shape[1]) * np.log(2 * np.pi)
    vc = _finish(sg, se, info, res.loglik + const, "ai", res.iterations, res.converged,
                 res.fixed, notes)
    return vc


def spectral_loglik(vc: VarComps, e: Eigen) -> float:
    """Full REML log-likelihood at the spectral solution (comparable with reml_ai)."""
    n, p = e.ux.shape
    nll = _spectral_nll(np.log(vc.sigma_e / vc.sigma_g), e)[0]
    return float(-nll - 0.5 * (n - p) * np.log(2 * np.pi))
