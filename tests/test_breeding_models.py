"""Priorities 4–5: REML (spectral, AI, EM fallback, bivariate) and predictions (PBLUP,
GBLUP, ssGBLUP) with reliabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lanhai.breeding import io
from lanhai.breeding.bivariate import reml_bivariate
from lanhai.breeding.design import build
from lanhai.breeding.grm import regularise, vanraden
from lanhai.breeding.pedigree import a_dense
from lanhai.breeding.predict import fit_predict
from lanhai.breeding.relationship import DenseKernel, PedigreeKernel
from lanhai.breeding.reml import ai_reml, reml_ai, reml_spectral
from lanhai.breeding.simulate import Population, simulate
from lanhai.breeding.ssgblup import HKernel, single_step

DATA = Path(__file__).parent / "data" / "breeding"


@pytest.fixture(scope="module")
def pop() -> Population:
    # msprime fixed-pedigree + tstrait, h² = 0.4, 100 causal SNPs; ~4 s
    return simulate(founders=30, generations=3, families=15, offspring=8, snps=2000,
                    h2=0.4, causal=100, seed=7)


def test_mrode_example_3_1_pblup() -> None:
    """Mrode (2014) Example 3.1: pre-weaning gain, σa² = 20, σe² = 40, sex fixed."""
    ped = io.read_pedigree(DATA / "mrode_pedigree.csv")
    phen = io.read_phenotypes(DATA / "mrode_phenotypes.csv")
    pred = fit_predict(PedigreeKernel(ped), build(phen, "wwg"), variances=(20.0, 40.0))
    gebv = dict(zip(pred.ids, pred.gebv, strict=True))
    published = {"1": 0.098, "2": -0.019, "3": -0.041, "4": -0.009, "5": -0.186,
                 "6": 0.177, "7": -0.249, "8": 0.183}
    for animal, value in published.items():
        assert gebv[animal] == pytest.approx(value, abs=6e-4), animal
    fixed = pred.fixed()  # Mrode: males 4.358, females 3.404
    assert fixed["intercept"] == pytest.approx(3.404, abs=6e-4)
    assert fixed["intercept"] + fixed["sex=M"] == pytest.approx(4.358, abs=6e-4)


def test_reliability_from_pev_matches_mixed_model_equations() -> None:
    ped = io.read_pedigree(DATA / "mrode_pedigree.csv")
    phen = io.read_phenotypes(DATA / "mrode_phenotypes.csv")
    kern = PedigreeKernel(ped)
    d = build(phen, "wwg")
    pred = fit_predict(kern, d, variances=(20.0, 40.0))
    # Henderson's MME: C = [[X'X, X'Z], [Z'X, Z'Z + A⁻¹ α]], PEV = diag(C⁻¹)_uu σe²
    a = a_dense(kern.coded)
    z = np.zeros((len(d.ids), len(kern.ids)))
    z[np.arange(len(d.ids)), kern.positions(d.ids)] = 1
    c = np.block([[d.x.T @ d.x, d.x.T @ z], [z.T @ d.x, z.T @ z + np.linalg.inv(a) * 2.0]])
    pev = np.diag(np.linalg.inv(c))[d.x.shape[1]:] * 40.0
    np.testing.assert_allclose(pred.pev, pev, rtol=1e-8)
    np.testing.assert_allclose(pred.reliability, 1 - pev / (20.0 * np.diag(a)), rtol=1e-8)


def test_spectral_and_ai_reml_agree(pop: Population) -> None:
    g = regularise(vanraden(pop.genotypes.dosages))
    d = build(pop.phenotypes, "weight")
    kern = DenseKernel(pop.genotypes.ids, g)
    k = g[np.ix_(kern.positions(d.ids), kern.positions(d.ids))]
    spec, _ = reml_spectral(d.y, d.x, k)
    ai = reml_ai(d.y, d.x, k)
    assert ai.converged and ai.iterations < 15
    assert spec.sigma_g == pytest.approx(ai.sigma_g, rel=1e-4)
    assert spec.sigma_e == pytest.approx(ai.sigma_e, rel=1e-4)
    assert spec.loglik == pytest.approx(ai.loglik, abs=1e-5)
    assert spec.h2_se == pytest.approx(ai.h2_se, rel=0.1)  # expected vs average information
    assert abs(spec.h2 - pop.h2) < 2.5 * spec.h2_se  # simulated h² = 0.4
    assert 0.02 < spec.h2_se < 0.2


def test_em_fallback_when_ai_cannot_step() -> None:
    rng = np.random.default_rng(3)
    n = 60
    k = np.eye(n)
    y = rng.normal(size=n)
    x = np.ones((n, 1))
    # with K = I the two components are not identifiable: AI is singular, EM still moves
    res = ai_reml(y, x, [k, np.eye(n)], np.array([0.2, 0.9]), [n, n], max_iter=5)
    assert res.em_steps > 0
    assert np.all(res.theta > 0)
    assert res.theta.sum() == pytest.approx(np.var(y, ddof=1), rel=0.05)


def test_bivariate_reml(pop: Population) -> None:
    rng = np.random.default_rng(11)
    phen = pop.phenotypes
    bv = np.array([pop.true_bv[a] for a in phen.ids])
    # a second trait: genetic correlation 0.6 by construction, own residual
    other = 0.6 * bv / bv.std() + 0.8 * rng.normal(size=len(bv)) * 0.5 + \
        rng.normal(size=len(bv))
    phen.traits["length"] = other
    g = regularise(vanraden(pop.genotypes.dosages))
    kern = DenseKernel(pop.genotypes.ids, g)
    d1, d2 = build(phen, "weight"), build(phen, "length")
    d2 = type(d2)(d2.trait, d2.ids[::3], d2.y[::3], d2.x[::3], d2.columns)  # a third recorded
    res = reml_bivariate(kern, d1, d2)
    assert res.converged
    assert 0 < res.rg <= 1 and res.rg_se > 0
    u1, _ = reml_spectral(d1.y, d1.x, g[np.ix_(*[kern.positions(d1.ids)] * 2)])
    u2, _ = reml_spectral(d2.y, d2.x, g[np.ix_(*[kern.positions(d2.ids)] * 2)])
    # the bivariate model nests the two univariate ones (zero covariances)
    n_p = d1.x.shape[1] + d2.x.shape[1]
    const = 0.5 * (len(d1.y) + len(d2.y) - n_p) * np.log(2 * np.pi)
    assert res.loglik - const >= u1.loglik + u2.loglik - 1e-6
    assert res.h2[0] == pytest.approx(u1.h2, abs=0.1)


def test_gblup_pblup_ssgblup_rank_young_animals(pop: Population) -> None:
    """Young fish without records: genomic information beats pedigree (true BV known)."""
    phen = pop.phenotypes
    young = {a for a in phen.ids if a.startswith("G3F")}
    recorded = [a not in young for a in phen.ids]
    train = type(phen)([a for a, k in zip(phen.ids, recorded, strict=True) if k],
                       {"weight": phen.traits["weight"][np.array(recorded)]},
                       {"sex": [s for s, k in zip(phen.factors["sex"], recorded,
                                                  strict=True) if k]})
    d = build(train, "weight")
    geno = pop.genotypes
    g = regularise(vanraden(geno.dosages))
    acc = {}
    for name, kern in (("gblup", DenseKernel(geno.ids, g)),
                       ("pblup", PedigreeKernel(pop.pedigree))):
        pred = fit_predict(kern, d, model=name)
        sel = [i for i, a in enumerate(pred.ids) if a in young]
        true = np.array([pop.true_bv[pred.ids[i]] for i in sel])
        acc[name] = float(np.corrcoef(pred.gebv[sel], true)[0, 1])
        assert np.all((pred.reliability >= 0) & (pred.reliability <= 1))
    # single step: only the young fish and half of their parents' generation genotyped
    gt = [a for a in geno.ids if a in young or a.startswith("G2F0")]
    mask = np.isin(geno.ids, gt)
    ss = single_step(pop.pedigree, [a for a in geno.ids if a in set(gt)],
                     vanraden(geno.dosages[mask]))
    pred = fit_predict(HKernel(ss), d, model="ssgblup")
    sel = [i for i, a in enumerate(pred.ids) if a in young]
    acc["ssgblup"] = float(np.corrcoef(pred.gebv[sel],
                                       [pop.true_bv[pred.ids[i]] for i in sel])[0, 1])
    assert acc["gblup"] > acc["pblup"] + 0.1
    assert acc["ssgblup"] > acc["pblup"]
    assert acc["gblup"] > 0.5
