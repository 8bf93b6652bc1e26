"""Priority 3: A and A⁻¹ from a pedigree, G (VanRaden 1 and 2), single-step H⁻¹."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lanhai.breeding import io
from lanhai.breeding.data import Pedigree
from lanhai.breeding.grm import vanraden
from lanhai.breeding.pedigree import a_dense, a_inverse, code, inbreeding
from lanhai.breeding.relationship import PedigreeKernel
from lanhai.breeding.ssgblup import HKernel, single_step, tune

DATA = Path(__file__).parent / "data" / "breeding"

# Mrode (2014), Linear Models for the Prediction of Animal Breeding Values, 3rd ed.,
# Example 2.1: pedigree and its relationship matrix (3 decimals as printed)
MRODE_21 = Pedigree(["1", "2", "3", "4", "5", "6"], [None, None, "1", "1", "4", "5"],
                    [None, None, "2", None, "3", "2"])
MRODE_21_A = np.array([
    [1.000, 0.000, 0.500, 0.500, 0.500, 0.250],
    [0.000, 1.000, 0.500, 0.000, 0.250, 0.625],
    [0.500, 0.500, 1.000, 0.250, 0.625, 0.563],
    [0.500, 0.000, 0.250, 1.000, 0.625, 0.313],
    [0.500, 0.250, 0.625, 0.625, 1.125, 0.688],
    [0.250, 0.625, 0.563, 0.313, 0.688, 1.125]])


def test_mrode_a_matrix_and_inbreeding() -> None:
    c = code(MRODE_21)
    order = [c.ids.index(a) for a in MRODE_21.ids]
    a = a_dense(c)[np.ix_(order, order)]
    np.testing.assert_allclose(a, MRODE_21_A, atol=6e-4)
    f = inbreeding(c)[order]
    np.testing.assert_allclose(f, [0, 0, 0, 0, 0.125, 0.125])  # Mrode: F5 = F6 = 0.125


def test_a_inverse_by_henderson_rules_is_the_inverse() -> None:
    ped = io.read_pedigree(DATA / "simfish_pedigree.csv")
    c = code(ped)
    ainv = a_inverse(c)
    assert ainv.nnz < 0.1 * len(c) ** 2  # sparse
    a = a_dense(c)
    np.testing.assert_allclose(ainv @ a, np.eye(len(c)), atol=1e-10)
    # inbreeding by Meuwissen & Luo equals the diagonal of the tabular A minus 1
    np.testing.assert_allclose(inbreeding(c), np.diag(a) - 1, atol=1e-12)


def test_a_inverse_henderson_example() -> None:
    # Henderson (1976) rules, non-inbred: one founder pair and their offspring:
    # A⁻¹ = [[1.5, .5, -1], [.5, 1.5, -1], [-1, -1, 2]]
    ped = Pedigree(["s", "d", "k"], [None, None, "s"], [None, None, "d"])
    np.testing.assert_allclose(a_inverse(code(ped)).toarray(),
                               [[1.5, 0.5, -1], [0.5, 1.5, -1], [-1, -1, 2]])


def test_pedigree_kernel_columns_match_a() -> None:
    k = PedigreeKernel(MRODE_21)
    cols = k.positions(["5", "6"])
    a = a_dense(k.coded)
    np.testing.assert_allclose(k.columns(cols), a[:, cols], atol=1e-12)
    np.testing.assert_allclose(k.diag(), np.diag(a))


def test_g_method2_matches_plink2_make_rel() -> None:
    geno = io.read_genotypes(DATA / "simfish.bed")
    complete = ~np.isnan(geno.dosages).any(0)
    g = vanraden(geno.dosages[:, complete], method=2)
    # plink2 --bfile simfish --geno 0 --make-rel square --nonfounders (99 variants)
    assert complete.sum() == 99
    assert g[0, 0] == pytest.approx(3.02797, abs=1e-5)
    assert g[0, 1] == pytest.approx(-0.100234, abs=1e-5)
    assert g[20, 21] == pytest.approx(0.640194, abs=1e-5)
    assert g[99, 98] == pytest.approx(1.05362, abs=1e-5)
    assert g[50, 60] == pytest.approx(-0.0278666, abs=1e-5)
    assert np.trace(g) == pytest.approx(99.625817, abs=1e-3)


def test_g_method1_formula_and_blocks() -> None:
    geno = io.read_genotypes(DATA / "simfish.bed")
    d = geno.dosages.astype(float)
    p = np.nanmean(d, 0) / 2
    z = np.nan_to_num(d - 2 * p)
    expected = z @ z.T / (2 * (p * (1 - p)).sum())  # VanRaden (2008) eq. for method 1
    np.testing.assert_allclose(vanraden(geno.dosages, block=7), expected, atol=1e-10)
    np.testing.assert_allclose(vanraden(geno.dosages, block=7, method=2),
                               vanraden(geno.dosages, block=4096, method=2), atol=1e-12)


def test_single_step_h_inverse_and_tuning() -> None:
    ped = io.read_pedigree(DATA / "simfish_pedigree.csv")
    geno = io.read_genotypes(DATA / "simfish.bed")
    keep = np.array([a.startswith("G2") for a in geno.ids])  # only the youngest genotyped
    sub = geno.subset(animals=keep)
    g = vanraden(sub.dosages)
    ss = single_step(ped, sub.ids, g, blend=0.05, tuning="christensen")
    # Christensen et al. 2012: tuned G has the mean diagonal and mean of A22
    gstar, alpha, _beta = tune(g, ss.a22)
    assert np.diag(gstar).mean() == pytest.approx(np.diag(ss.a22).mean())
    assert gstar.mean() == pytest.approx(ss.a22.mean())
    assert ss.info["alpha"] == pytest.approx(alpha)
    gm, _a_m, b_m = tune(g, ss.a22, "mean")  # Vitezica et al. 2011: only the mean
    assert b_m == 1.0 and gm.mean() == pytest.approx(ss.a22.mean())
    hk = HKernel(ss)
    h = hk.columns(np.arange(len(hk.ids)))
    hinv = ss.h_inverse()
    np.testing.assert_allclose(hinv.toarray() @ h, np.eye(len(h)), atol=1e-8)
    np.testing.assert_allclose(hk.diag(), np.diag(h), atol=1e-10)
    # the genotyped block of H is Gw; non-genotyped animals keep pedigree relationships
    pos = ss.geno_pos
    np.testing.assert_allclose(h[np.ix_(pos, pos)], ss.gw, atol=1e-10)
