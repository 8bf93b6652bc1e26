"""Priority 9a: BayesR by Gibbs sampling, and its convergence diagnostics."""

from __future__ import annotations

import numpy as np
import pytest

from lanhai.breeding.bayes import bayes_r, ess, geweke
from lanhai.breeding.design import build
from lanhai.breeding.grm import regularise, vanraden
from lanhai.breeding.predict import fit_predict
from lanhai.breeding.relationship import DenseKernel
from lanhai.breeding.simulate import simulate


def test_ess_of_ar1_chain_matches_theory() -> None:
    # AR(1) with φ = 0.9: integrated autocorrelation time (1 + φ) / (1 - φ) = 19
    rng = np.random.default_rng(1)
    n, phi = 20000, 0.9
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + rng.normal()
    assert ess(x) == pytest.approx(n * (1 - phi) / (1 + phi), rel=0.2)
    assert ess(rng.normal(size=4000)) == pytest.approx(4000, rel=0.15)


def test_geweke_flags_a_drifting_chain() -> None:
    rng = np.random.default_rng(2)
    assert abs(geweke(rng.normal(size=3000))) < 3
    drifting = rng.normal(size=3000) + np.linspace(0, 3, 3000)
    assert abs(geweke(drifting)) > 5


def test_bayesr_finds_large_effect_genes_and_beats_gblup() -> None:
    # 5 causal SNPs of large effect (tstrait), h² = 0.5; the last generation is predicted
    pop = simulate(founders=30, generations=3, families=15, offspring=8, snps=300, h2=0.5,
                   causal=5, seed=21)
    g, phen = pop.genotypes, pop.phenotypes
    young = np.array([a.startswith("G3") for a in g.ids])
    y = phen.traits["weight"]
    x = np.ones((len(y), 1))
    fit = bayes_r(y[~young], x[~young], g.dosages[~young], iterations=500, burn_in=150,
                  seed=1)
    bv = np.array([pop.true_bv[a] for a in g.ids])
    acc_bayes = float(np.corrcoef(fit.predict(g.dosages[young]), bv[young])[0, 1])
    train = type(phen)([a for a, k in zip(phen.ids, ~young, strict=True) if k],
                       {"weight": y[~young]})
    pred = fit_predict(DenseKernel(g.ids, regularise(vanraden(g.dosages))),
                       build(train, "weight"))
    acc_gblup = float(np.corrcoef(pred.gebv[young], bv[young])[0, 1])
    assert acc_bayes > acc_gblup
    assert acc_bayes > 0.8
    # posterior inclusion: most causal SNPs (or a neighbour in LD) among the top SNPs
    top = {g.snps[j] for j in np.argsort(-fit.pip)[:15]}
    assert len(top & set(pop.causal_snps)) >= 2
    s = fit.summary()
    assert set(s["diagnostics"]) == {"sigma_g", "sigma_e", "h2", "nonzero"}
    assert s["diagnostics"]["h2"]["ess"] > 20
    assert 0.2 < s["h2"] < 0.8
