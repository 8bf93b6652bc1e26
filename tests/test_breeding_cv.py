"""Priority 6: cross-validation folds (k-fold, repeated, by family, user folds) and the
accuracy and bias it reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lanhai.breeding import io
from lanhai.breeding.cv import cross_validate, make_folds
from lanhai.breeding.design import build
from lanhai.breeding.grm import regularise, vanraden
from lanhai.breeding.relationship import DenseKernel
from lanhai.errors import ValidationFailed

DATA = Path(__file__).parent / "data" / "breeding"


def test_folds_reproducible_from_seed() -> None:
    a = make_folds(103, k=5, seed=42, repeats=3)
    assert a.shape == (3, 103)
    np.testing.assert_array_equal(a, make_folds(103, k=5, seed=42, repeats=3))
    assert not np.array_equal(a, make_folds(103, k=5, seed=43, repeats=3))
    assert not np.array_equal(a[0], a[1])  # each repeat is a new partition
    for row in a:
        sizes = np.bincount(row)[1:]
        assert sizes.max() - sizes.min() <= 1


def test_folds_by_family_keep_sibs_together() -> None:
    ped = io.read_pedigree(DATA / "simfish_pedigree.csv")
    folds = make_folds(len(ped.ids), k=4, seed=1, families=ped.family)[0]
    for fam in set(ped.family):
        assert len({f for f, x in zip(folds, ped.family, strict=True) if x == fam}) == 1
    with pytest.raises(ValidationFailed, match="too few families"):
        make_folds(6, k=4, seed=1, families=["a", "a", "a", "b", "b", "b"])


def test_cv_reports_per_fold_accuracy_bias_h2() -> None:
    geno = io.read_genotypes(DATA / "simfish.bed")
    phen = io.read_phenotypes(DATA / "simfish_phenotypes.csv", covariates=["age_days"])
    d = build(phen, "weight", fixed=["tank", "age_days"])
    kern = DenseKernel(geno.ids, regularise(vanraden(geno.dosages)))
    folds = make_folds(len(d.ids), k=5, seed=3, repeats=2)
    res = cross_validate(kern, d, folds)
    assert len(res.folds) == 10
    f = res.folds[0]
    assert f.n_train + f.n_test == len(d.ids)
    assert f.accuracy == pytest.approx(f.r / np.sqrt(f.h2))
    # bias = slope of y* on GEBV, as a breeder computes it for fold 1
    te = np.flatnonzero(folds[0] == 1)
    slope = np.polyfit(res.predictions[0, te], res.corrected[0, te], 1)[0]
    assert f.bias == pytest.approx(slope)
    s = res.summary
    assert s["r_mean_within_folds"] == pytest.approx(np.mean([x.r for x in res.folds]))
    assert 0 < s["h2_mean"] < 1 and s["r_pooled"] > 0


def test_user_folds_with_animals_never_tested() -> None:
    geno = io.read_genotypes(DATA / "simfish.bed")
    phen = io.read_phenotypes(DATA / "simfish_phenotypes.csv")
    d = build(phen, "weight", fixed=[])
    kern = DenseKernel(geno.ids, regularise(vanraden(geno.dosages)))
    folds = np.array([0 if a.startswith("G1") else (2 if a.endswith("1") else 1)
                      for a in d.ids])
    res = cross_validate(kern, d, folds)
    assert [f.fold for f in res.folds] == [1, 2]
    assert np.isnan(res.predictions[0, folds == 0]).all()
    with pytest.raises(ValidationFailed, match="folds do not match"):
        cross_validate(kern, d, folds[:-1])
