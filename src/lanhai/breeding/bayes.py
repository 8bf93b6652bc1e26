"""BayesR by Gibbs sampling (Erbe et al. 2012, J. Dairy Sci. 95:4114; Moser et al. 2015,
PLoS Genet. 11:e1004969), for traits with some large-effect genes.

Each SNP effect comes from a mixture: zero, or normal with variance 0.0001, 0.001 or
0.01 × σg². The chains of σg², σe², h² and the number of non-zero SNPs are checked with
Geweke's z (first 10 % against last 50 % of the kept samples) and the effective sample size
(Geyer's initial positive sequence).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.linalg.blas import daxpy

from lanhai.breeding.data import AnyFloat, FloatArray, Progress, no_progress
from lanhai.errors import Problem, ValidationFailed

GAMMA = np.array([0.0, 1e-4, 1e-3, 1e-2])


@dataclass
class BayesFit:
    effects: FloatArray  # posterior mean SNP effects
    pip: FloatArray  # posterior probability that each SNP has a non-zero effect
    fixed: FloatArray
    means: FloatArray  # SNP means and standard deviations used to standardise genotypes
    sds: FloatArray
    chains: dict[str, FloatArray]
    diagnostics: dict[str, dict[str, float]] = field(default_factory=dict)
    converged: bool = True

    def predict(self, dosages: AnyFloat) -> FloatArray:
        z = np.nan_to_num((np.asarray(dosages, float) - self.means) / self.sds)
        out: FloatArray = z @ self.effects
        return out

    def summary(self) -> dict[str, Any]:
        return {"h2": float(self.chains["h2"].mean()),
                "sigma_g": float(self.chains["sigma_g"].mean()),
                "sigma_e": float(self.chains["sigma_e"].mean()),
                "nonzero_snps": float(self.chains["nonzero"].mean()),
                "diagnostics": self.diagnostics, "converged": self.converged}


def ess(chain: FloatArray) -> float:
    """Effective sample size by Geyer's initial positive sequence of autocorrelations."""
    x = np.asarray(chain, float) - np.mean(chain)
    n = len(x)
    if n < 4 or np.var(x) == 0:
        return float(n)
    f = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(f * np.conj(f))[:n] / (np.arange(n, 0, -1) * np.var(x))
    total = 0.0
    for k in range(0, n - 1, 2):
        pair = acf[k] + acf[k + 1]
        if pair <= 0:
            break
        total += pair
    tau = max(2.0 * total - 1.0, 1.0)
    return float(n / tau)


def geweke(chain: FloatArray, first: float = 0.1, last: float = 0.5) -> float:
    """Geweke's z: difference of means of the early and late parts over their errors,
    each variance corrected for autocorrelation with its effective sample size."""
    x = np.asarray(chain, float)
    a, b = x[: int(first * len(x))], x[int((1 - last) * len(x)):]
    if len(a) < 4 or len(b) < 4:
        return float("nan")
    va, vb = np.var(a) / ess(a), np.var(b) / ess(b)
    if va + vb == 0:
        return 0.0
    return float((a.mean() - b.mean()) / np.sqrt(va + vb))


def _sweep(z: FloatArray, zz: FloatArray, e: FloatArray, beta: FloatArray, sg: float,
           se: float, pi: FloatArray, uni: FloatArray, nor: FloatArray,
           counts: FloatArray) -> float:
    """One Gibbs pass over the SNPs (updates ``e``, ``beta``, ``counts`` in place);
    returns Σ β²/γ over non-zero effects. Scalar maths in Python floats: per SNP it is a
    dot product, three log-likelihoods and an in-place axpy."""
    lp0 = math.log(pi[0])
    lps = [math.log(pi[k]) for k in (1, 2, 3)]
    vs = [float(GAMMA[k]) * sg for k in (1, 2, 3)]
    gam = [float(GAMMA[k]) for k in (1, 2, 3)]
    ssq = 0.0
    zzl, betal, unil, norl = zz.tolist(), beta.tolist(), uni.tolist(), nor.tolist()
    cnt = [0, 0, 0, 0]
    for j in range(len(zzl)):
        zzj = zzl[j]
        if zzj == 0.0:
            continue
        zj = z[:, j]
        old = betal[j]
        rhs = float(zj @ e) + zzj * old
        denoms = [zzj + se / v for v in vs]
        logl = [lps[c] - 0.5 * math.log(vs[c] * zzj / se + 1.0)
                + 0.5 * rhs * rhs / (se * denoms[c]) for c in range(3)]
        top = max(lp0, *logl)
        w = [math.exp(lp0 - top)] + [math.exp(x - top) for x in logl]
        u = unil[j] * (w[0] + w[1] + w[2] + w[3])
        k = 0
        acc = w[0]
        while u > acc and k < 3:
            k += 1
            acc += w[k]
        if k == 0:
            new = 0.0
        else:
            d = denoms[k - 1]
            new = rhs / d + math.sqrt(se / d) * norl[j]
            ssq += new * new / gam[k - 1]
        cnt[k] += 1
        if new != old:
            daxpy(zj, e, a=old - new)
            beta[j] = new
    counts += np.array(cnt, dtype=float)
    return ssq


def bayes_r(y: FloatArray, x: FloatArray, dosages: AnyFloat, iterations: int = 3000,
            burn_in: int = 1000, thin: int = 2, seed: int = 1,
            progress: Progress = no_progress) -> BayesFit:
    """Fit BayesR; ``dosages`` are animals × SNPs for the records in ``y`` (NaN = mean).

    Genotypes are standardised, so σg² is the total genetic variance and each class of
    the mixture holds that fraction of it per SNP.
    """
    n, m = dosages.shape
    if burn_in >= iterations or n != len(y):
        raise ValidationFailed("bad Gibbs settings", [Problem(
            reason=f"{iterations} iterations with burn-in {burn_in} for {n} genotyped records"
                   f" and {len(y)} phenotypes", fix="use more iterations than burn-in")])
    rng = np.random.default_rng(seed)
    means: FloatArray = np.nanmean(np.asarray(dosages, float), axis=0)
    sds: FloatArray = np.nanstd(np.asarray(dosages, float), axis=0)
    sds[sds == 0] = 1.0
    z = np.asfortranarray(np.nan_to_num((np.asarray(dosages, float) - means) / sds))
    zz = (z * z).sum(0)
    b = np.linalg.lstsq(x, y, rcond=None)[0]
    e = y - x @ b
    vy = float(np.var(e))
    sg, se = vy / 2, vy / 2
    beta = np.zeros(m)
    pi = np.array([0.95, 0.03, 0.015, 0.005])
    xtx_inv = np.linalg.inv(x.T @ x)
    keep = []
    sums = np.zeros(m)
    nonzero_count = np.zeros(m)
    chains: dict[str, list[float]] = {k: [] for k in ("sigma_g", "sigma_e", "h2", "nonzero")}
    for it in range(iterations):
        e += x @ b  # fixed effects | rest
        b = rng.multivariate_normal(xtx_inv @ (x.T @ e), xtx_inv * se)
        e -= x @ b
        counts = np.zeros(4)
        ssq = _sweep(z, zz, e, beta, sg, se, pi, rng.random(int(m)), rng.standard_normal(int(m)),
                     counts)
        nz = int(counts[1:].sum())
        # scaled inverse chi-square, ν = 4, prior mean vy / 2 (so ν S² = vy)
        sg = max((ssq + vy) / rng.chisquare(nz + 4), 1e-8 * vy)
        se = (float(e @ e) + 4 * vy / 2) / rng.chisquare(n + 4)
        pi = rng.dirichlet(counts + 1)
        gv = float(np.var(z @ beta))
        if it >= burn_in and (it - burn_in) % thin == 0:
            sums += beta
            nonzero_count += beta != 0
            keep.append(it)
            chains["sigma_g"].append(gv)
            chains["sigma_e"].append(se)
            chains["h2"].append(gv / (gv + se))
            chains["nonzero"].append(float(nz))
        progress("gibbs", it + 1, iterations)
    arrays = {k: np.array(v) for k, v in chains.items()}
    diag = {k: {"mean": float(v.mean()), "sd": float(v.std()), "ess": ess(v),
                "geweke_z": geweke(v)} for k, v in arrays.items()}
    converged = all(abs(d["geweke_z"]) < 2.5 and d["ess"] >= 50 for k, d in diag.items()
                    if k in ("h2", "sigma_e"))
    return BayesFit(sums / len(keep), nonzero_count / len(keep), np.asarray(b, float), means,
                    sds, arrays, diag, converged)


def cross_validate_bayes(dosages: AnyFloat, y: FloatArray, x: FloatArray, folds: Any,
                         iterations: int = 2000, burn_in: int = 500, seed: int = 1,
                         progress: Progress = no_progress) -> Any:
    """k-fold CV of BayesR with the same report as :func:`lanhai.breeding.cv.cross_validate`
    (h² per fold is the posterior mean)."""
    from lanhai.breeding.cv import CvResult, FoldResult, _corr, _slope, _summary

    folds = np.atleast_2d(np.asarray(folds, dtype=np.int64))
    results: list[FoldResult] = []
    preds = np.full(folds.shape, np.nan)
    ystar = np.full(folds.shape, np.nan)
    for rep, row in enumerate(folds):
        for f in sorted(set(row[row > 0].tolist())):
            te, tr = np.flatnonzero(row == f), np.flatnonzero(row != f)
            used = np.abs(x[tr]).sum(0) > 0
            fit = bayes_r(y[tr], x[tr][:, used], dosages[tr], iterations, burn_in,
                          seed=seed + f)
            gebv = fit.predict(dosages[te])
            y_adj = y[te] - x[te][:, used] @ fit.fixed
            preds[rep, te], ystar[rep, te] = gebv, y_adj
            h2 = float(fit.chains["h2"].mean())
            r = _corr(gebv, y_adj)
            results.append(FoldResult(rep + 1, int(f), len(tr), len(te), h2, r,
                                      r / np.sqrt(h2) if h2 > 0 else float("nan"),
                                      _slope(y_adj, gebv)))
            progress("cv", len(results), 0)
    return CvResult(results, preds, ystar, _summary(results, preds, ystar))
