"""Benchmark: REML + GBLUP for 10,000 genotyped and phenotyped animals (target < 2 min on
2 cores).

What it measures:
    * G (VanRaden 1) from 10,000 × 20,000 SNPs, timed separately (see bench_breeding_grm);
    * ``lanhai.breeding.predict.fit_predict``: eigendecomposition of G, exact spectral REML
      (σg², σe², h² with SE), then GEBVs, PEV and reliabilities for all animals — the same
      call ``lanhai breed predict --model gblup`` makes;
    * in the same run, the cost floor of that path: one numpy/LAPACK eigendecomposition
      (``numpy.linalg.eigh``) of the same matrix;
    * for scale, one AI-REML iteration's dominant cost (Cholesky of V plus its inverse).

The trait is simulated with h² = 0.3 from 500 causal SNPs, so the estimate can be compared
with the truth. Run from the repository root::

    .venv/bin/python -m benchmarks.bench_breeding_reml                # 10,000 animals
    .venv/bin/python -m benchmarks.bench_breeding_reml --animals 3000

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--animals", type=int, default=10_000)
    ap.add_argument("--snps", type=int, default=20_000)
    ap.add_argument("--h2", type=float, default=0.3)
    args = ap.parse_args(argv)
    n, m = args.animals, args.snps

    from benchmarks.bench_breeding_grm import genotypes
    from lanhai.breeding.data import Phenotypes
    from lanhai.breeding.design import build
    from lanhai.breeding.grm import regularise, vanraden
    from lanhai.breeding.predict import fit_predict
    from lanhai.breeding.relationship import DenseKernel

    rng = np.random.default_rng(3)
    dos = genotypes(n, m, seed=2)
    causal = rng.choice(m, 500, replace=False)
    z = dos[:, causal] - dos[:, causal].mean(0)
    bv = z @ rng.normal(size=500)
    bv *= np.sqrt(args.h2 / bv.var())
    y = bv + rng.normal(scale=np.sqrt(1 - args.h2), size=n)
    ids = [f"fish{i:05d}" for i in range(n)]
    sex = ["M" if i % 2 else "F" for i in range(n)]
    y += np.where(np.array(sex) == "M", 0.5, 0.0)
    phen = Phenotypes(ids, {"weight": y}, {"sex": sex})
    print(f"REML + GBLUP: {n:,} animals, {m:,} SNPs, simulated h² = {args.h2}", flush=True)

    t = time.perf_counter()
    g = regularise(vanraden(dos))
    t_g = time.perf_counter() - t
    print(f"G (VanRaden 1): {t_g:.1f} s", flush=True)
    del dos

    t = time.perf_counter()
    pred = fit_predict(DenseKernel(ids, g), build(phen, "weight"), model="gblup")
    t_fit = time.perf_counter() - t
    vc = pred.vc
    acc = float(np.corrcoef(pred.gebv, bv)[0, 1])
    print(f"REML + GBLUP (eigh, spectral REML, GEBV, PEV, reliability): {t_fit:.1f} s "
          f"(target < 120 s)", flush=True)
    print(f"  h² = {vc.h2:.3f} ± {vc.h2_se:.3f} (simulated {args.h2}); r(GEBV, true BV) = "
          f"{acc:.3f}; mean reliability {pred.reliability.mean():.3f}")

    t = time.perf_counter()
    np.linalg.eigh(g)
    t_eigh = time.perf_counter() - t
    print(f"numpy.linalg.eigh of G alone: {t_eigh:.1f} s; fit/eigh = {t_fit / t_eigh:.2f}x",
          flush=True)
    v = g * vc.sigma_g
    v[np.diag_indices_from(v)] += vc.sigma_e
    t = time.perf_counter()
    from scipy.linalg import cho_factor, cho_solve

    cf = cho_factor(v, lower=True, overwrite_a=True)
    cho_solve(cf, np.eye(n), overwrite_b=True)
    print(f"one AI-REML iteration's Cholesky + inverse of V: {time.perf_counter() - t:.1f} s "
          "(AI-REML needs 4-8 of them; spectral REML needs one eigh)")
    print(f"total with G: {t_g + t_fit:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
