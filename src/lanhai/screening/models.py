"""Models trained on a lab's own assay table, their cross-validation, and predictions for a
screening library with an uncertainty and an applicability domain.

Three algorithms, all ensembles so that each prediction has a spread:

* ``random_forest`` (the default) and ``extra_trees``: the uncertainty is the standard
  deviation of the trees' predictions (of the active-class probability for classification);
* ``gradient_boosting``: scikit-learn's histogram gradient boosting, trained
  :data:`BOOSTING_MEMBERS` times on bootstrap resamples of the training set; the prediction
  is the members' mean and the uncertainty their standard deviation.

The applicability domain is the highest Tanimoto similarity (Morgan radius 2, 2,048 bits)
of a compound to any training compound; below the model's threshold (default
:data:`DOMAIN_THRESHOLD`) the prediction is flagged as out of domain.

A model is saved with :meth:`TrainedModel.to_bytes`: a JSON header (format version,
algorithm, features, task, the training data's hash, library versions, metrics) and a
zlib-compressed pickle payload. Only load blobs this platform wrote: the payload is a pickle.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import multiprocessing
import pickle
import sys
import zlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import rdkit
import sklearn
from rdkit import Chem, DataStructs
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.feature_selection import VarianceThreshold
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from lanhai.errors import LanhaiError, Problem, UsageError, ValidationFailed
from lanhai.screening.features import (
    DEFAULT_SPEC,
    ExtraFeatures,
    FeatureSpec,
    canonical_smiles,
    featurise,
    max_similarity,
    parse_smiles,
    similarity_fingerprints,
    similarity_fingerprints_from,
)
from lanhai.screening.splits import SplitKind, repeated_kfold

Task = Literal["regression", "classification"]
Algorithm = Literal["random_forest", "gradient_boosting", "extra_trees"]
ALGORITHMS: tuple[str, ...] = ("random_forest", "gradient_boosting", "extra_trees")
TASKS: tuple[str, ...] = ("regression", "classification")
#: the layout of :meth:`TrainedModel.to_bytes`; a blob of another version is refused
FORMAT_VERSION = 1
MAGIC = b"LANHAI-SCREENING-MODEL\n"
#: a compound less similar than this to every training compound is out of domain
DOMAIN_THRESHOLD = 0.3
#: the fewest compounds a model is trained on
MIN_COMPOUNDS = 10
#: the fewest compounds of each class a classifier is trained on
MIN_PER_CLASS = 3
#: how many bootstrap members a gradient-boosting model has (its uncertainty)
BOOSTING_MEMBERS = 5
#: trees (or boosting rounds per member) when ``n_estimators`` is not given
DEFAULT_ESTIMATORS: Mapping[str, int] = {"random_forest": 500, "extra_trees": 500,
                                          "gradient_boosting": 150}
#: rows featurised and predicted at once (bounds memory: about 8 MB per 1,000 rows)
CHUNK = 2048

Progress = Callable[[int, int], None]


# --- the training table -------------------------------------------------------------------

@dataclass(frozen=True)
class TrainingSet:
    """An assay table: compound ids, SMILES and measured values, one row each.

    ``task`` is "regression" (values are numbers: pIC50, log S …) or "classification"
    (values are 0 = inactive, 1 = active). Every SMILES is parsed and standardised as
    :func:`~lanhai.screening.features.parse_smiles` does; ValidationFailed lists every bad
    row (1-based) with its reason and fix.
    """

    ids: Sequence[str]
    smiles: Sequence[str]
    values: Sequence[float]
    task: Task = "regression"
    mols: tuple[Chem.Mol, ...] = field(init=False, repr=False, compare=False)
    canonical: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Lists become tuples; every row is checked and its SMILES parsed."""
        ids, smiles, values = tuple(map(str, self.ids)), tuple(self.smiles), tuple(self.values)
        object.__setattr__(self, "ids", ids)
        object.__setattr__(self, "smiles", smiles)
        if self.task not in TASKS:
            raise UsageError(f"the task {self.task!r} is not known", [Problem(
                reason="is not a task", field="task", value=str(self.task),
                fix="use regression or classification")])
        if not len(ids) == len(smiles) == len(values):
            raise UsageError("the ids, SMILES and values differ in length", [Problem(
                reason=f"has {len(ids)} ids, {len(smiles)} SMILES and {len(values)} values",
                field="values", fix="give one id, SMILES and value per compound")])
        problems: list[Problem] = []
        seen: dict[str, int] = {}
        mols: list[Chem.Mol] = []
        clean: list[float] = []
        for row, (name, text, value) in enumerate(zip(ids, smiles, values, strict=True),
                                                  start=1):
            if not name.strip():
                problems.append(Problem(reason="has no compound id", field="id", row=row,
                                        fix="give every compound an id"))
            elif name in seen:
                problems.append(Problem(reason=f"repeats the id of row {seen[name]}",
                                        field="id", value=name, row=row,
                                        fix="give each compound one row, or distinct ids"))
            seen.setdefault(name, row)
            number = _number(value)
            if number is None:
                problems.append(Problem(reason="is not a finite number", field="value",
                                        value=str(value), row=row,
                                        fix="give a measured number, or leave the compound "
                                            "out"))
            elif self.task == "classification" and number not in (0.0, 1.0):
                problems.append(Problem(reason="is not a class label 0 or 1", field="value",
                                        value=str(value), row=row,
                                        fix="write 1 for active and 0 for inactive"))
            clean.append(number if number is not None else math.nan)
            try:
                mols.append(parse_smiles(text))
            except ValidationFailed as err:
                problems.extend(replace(p, row=row) for p in err.problems)
        if problems:
            raise ValidationFailed(f"{len({p.row for p in problems})} rows of the training "
                                   "table are not valid", problems)
        object.__setattr__(self, "values", tuple(clean))
        object.__setattr__(self, "mols", tuple(mols))
        object.__setattr__(self, "canonical", tuple(canonical_smiles(m) for m in mols))

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def y(self) -> np.ndarray:
        """The values as an array (float64; int64 labels for classification)."""
        array = np.asarray(self.values, dtype=np.float64)
        return array.astype(np.int64) if self.task == "classification" else array

    def data_hash(self) -> str:
        """SHA-256 (hex) of the table's content whatever its row order: the task and the
        sorted (id, canonical SMILES, value) rows, serialised as JSON."""
        rows = sorted(zip(self.ids, self.canonical, (repr(float(v)) for v in self.values),
                          strict=True))
        text = json.dumps({"task": self.task, "rows": rows}, separators=(",", ":"),
                          ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def subset(self, rows: Sequence[int]) -> TrainingSet:
        """The table of these rows only."""
        return TrainingSet(tuple(self.ids[i] for i in rows), tuple(self.smiles[i] for i in rows),
                           tuple(self.values[i] for i in rows), self.task)


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# --- estimators --------------------------------------------------------------------------

def _check_choice(algorithm: str, n_estimators: int | None) -> int:
    if algorithm not in ALGORITHMS:
        raise UsageError(f"the algorithm {algorithm!r} is not known", [Problem(
            reason="is not an algorithm", field="algorithm", value=str(algorithm),
            fix="use " + ", ".join(ALGORITHMS))])
    count = DEFAULT_ESTIMATORS[algorithm] if n_estimators is None else n_estimators
    if not 1 <= count <= 10_000:
        raise UsageError(f"{count} estimators is out of range", [Problem(
            reason="is not between 1 and 10000", field="n_estimators", value=str(count),
            fix=f"use about {DEFAULT_ESTIMATORS[algorithm]}")])
    return count


def _check_size(data: TrainingSet) -> None:
    if len(data) < MIN_COMPOUNDS:
        raise ValidationFailed(
            f"{len(data)} compounds are too few to train a model: at least {MIN_COMPOUNDS} "
            "are needed", [Problem(reason=f"has {len(data)} compounds; a model needs at least "
                                   f"{MIN_COMPOUNDS}", field="compounds",
                                   fix="add measured compounds to the table")])
    if data.task == "classification":
        counts = np.bincount(data.y, minlength=2)
        if counts.min() < MIN_PER_CLASS:
            raise ValidationFailed(
                f"a classifier needs at least {MIN_PER_CLASS} actives and {MIN_PER_CLASS} "
                f"inactives; the table has {counts[1]} and {counts[0]}", [Problem(
                    reason=f"has {counts[1]} actives (1) and {counts[0]} inactives (0)",
                    field="value", fix=f"add compounds of the rarer class (at least "
                                       f"{MIN_PER_CLASS} of each)")])


def _forest(algorithm: str, task: str, seed: int, n_estimators: int, n_jobs: int) -> Any:
    """A random forest or extra-trees model with the tuned defaults: a third of the
    features per split for regression (so the descriptors are often in reach), log2 of
    the features for classification (more randomness scored best on MIBiG activities by
    scaffold split), with classes weighted to balance."""
    if task == "regression":
        cls = RandomForestRegressor if algorithm == "random_forest" else ExtraTreesRegressor
        return cls(n_estimators=n_estimators, max_features=0.33, min_samples_leaf=1,
                   n_jobs=n_jobs, random_state=seed)
    cls = RandomForestClassifier if algorithm == "random_forest" else ExtraTreesClassifier
    return cls(n_estimators=n_estimators, max_features="log2", min_samples_leaf=1,
               class_weight="balanced_subsample" if algorithm == "random_forest"
               else "balanced", n_jobs=n_jobs, random_state=seed)


def _booster(task: str, seed: int, n_estimators: int) -> Any:
    """One histogram gradient-boosting member, on the columns that vary in its sample
    (most fingerprint bits are zero everywhere) and half the features per split."""
    common = {"max_iter": n_estimators, "learning_rate": 0.1, "max_leaf_nodes": 31,
              "min_samples_leaf": 5, "l2_regularization": 1.0, "max_features": 0.5,
              "max_bins": 64, "early_stopping": False, "random_state": seed}
    booster = (HistGradientBoostingRegressor(**common) if task == "regression"
               else HistGradientBoostingClassifier(class_weight="balanced", **common))
    return Pipeline([("varying", VarianceThreshold()), ("boost", booster)])


def _fit(x: np.ndarray, y: np.ndarray, task: str, algorithm: str, seed: int,
         n_estimators: int, n_jobs: int, progress: Progress | None) -> list[Any]:
    """The fitted estimators of a model (one forest, or the boosting members)."""
    if algorithm == "gradient_boosting":
        rng = np.random.default_rng(seed)
        members = []
        for member in range(BOOSTING_MEMBERS):
            rows = _bootstrap(rng, y, task)
            # OpenMP threads spin: on a shared machine more than asked for is far slower
            with threadpool_limits(n_jobs, user_api="openmp"):
                members.append(_booster(task, seed + member, n_estimators).fit(x[rows],
                                                                               y[rows]))
            if progress is not None:
                progress(member + 1, BOOSTING_MEMBERS)
        return members
    forest = _forest(algorithm, task, seed, n_estimators, n_jobs)
    if progress is None:
        return [forest.fit(x, y)]
    # grown in batches so progress can be told; warm start gives the same trees as one fit
    step = max(1, n_estimators // 10)
    grown = 0
    forest.set_params(warm_start=True)
    while grown < n_estimators:
        grown = min(n_estimators, grown + step)
        forest.set_params(n_estimators=grown)
        forest.fit(x, y)
        progress(grown, n_estimators)
    forest.set_params(warm_start=False)
    return [forest]


def _bootstrap(rng: np.random.Generator, y: np.ndarray, task: str) -> np.ndarray:
    """Bootstrap rows; for classification redrawn until both classes are present."""
    while True:
        rows = rng.integers(0, len(y), len(y))
        if task == "regression" or len(np.unique(y[rows])) == 2:
            return rows


def _predict(estimators: Sequence[Any], x: np.ndarray, task: str
             ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the ensemble's predictions (probability of class 1
    for classification)."""
    if len(estimators) == 1 and hasattr(estimators[0], "estimators_"):
        forest = estimators[0]
        members = forest.estimators_
        column = list(forest.classes_).index(1) if task == "classification" else 0
        total = np.zeros(len(x))
        squares = np.zeros(len(x))
        for tree in members:
            if task == "classification":
                p = tree.predict_proba(x, check_input=False)[:, column]
            else:
                p = tree.predict(x, check_input=False)
            total += p
            squares += p * p
        mean = total / len(members)
        return mean, np.sqrt(np.maximum(squares / len(members) - mean * mean, 0.0))
    with threadpool_limits(1, user_api="openmp"):
        outputs = np.stack([
            m.predict_proba(x)[:, list(m.classes_).index(1)] if task == "classification"
            else m.predict(x) for m in estimators])
    return outputs.mean(axis=0), outputs.std(axis=0)


# --- metrics -----------------------------------------------------------------------------

def metrics(task: str, y_true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """RMSE, MAE and R² (regression), or ROC-AUC, PR-AUC (average precision), accuracy
    and balanced accuracy at probability 0.5 (classification)."""
    if task == "regression":
        return {"rmse": float(math.sqrt(mean_squared_error(y_true, predicted))),
                "mae": float(mean_absolute_error(y_true, predicted)),
                "r2": float(r2_score(y_true, predicted))}
    labels = (predicted >= 0.5).astype(np.int64)
    return {"roc_auc": float(roc_auc_score(y_true, predicted)),
            "pr_auc": float(average_precision_score(y_true, predicted)),
            "accuracy": float(accuracy_score(y_true, labels)),
            "balanced_accuracy": float(balanced_accuracy_score(y_true, labels))}


@dataclass(frozen=True)
class MetricSummary:
    """A metric over the folds that were scored: mean, sample standard deviation, count."""

    mean: float
    std: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.std:.3f} (n={self.n})"


@dataclass(frozen=True)
class FoldResult:
    """One fold: its sizes and metrics, or why it was skipped."""

    repeat: int
    fold: int
    n_train: int
    n_test: int
    metrics: Mapping[str, float] | None
    skipped: str | None = None


@dataclass(frozen=True)
class ValidationReport:
    """Cross-validation of one algorithm on one table: every fold, and each metric's mean
    and standard deviation over the folds that were scored."""

    task: str
    algorithm: str
    split: str
    n_folds: int
    repeats: int
    seed: int
    n_compounds: int
    folds: tuple[FoldResult, ...]
    summary: Mapping[str, MetricSummary]

    @property
    def skipped(self) -> tuple[FoldResult, ...]:
        """The folds that could not be scored."""
        return tuple(f for f in self.folds if f.skipped is not None)

    def means(self) -> dict[str, float]:
        """Each metric's mean over the scored folds."""
        return {name: s.mean for name, s in self.summary.items()}

    def describe(self) -> str:
        """One line: the split and every metric's mean ± std."""
        parts = ", ".join(f"{name} {s}" for name, s in self.summary.items())
        skipped = f"; {len(self.skipped)} folds skipped" if self.skipped else ""
        return (f"{self.algorithm}, {self.split} split, {self.n_folds} folds x "
                f"{self.repeats}: {parts}{skipped}")


def validate(training_set: TrainingSet, algorithm: Algorithm = "random_forest",
             spec: FeatureSpec = DEFAULT_SPEC, split: SplitKind = "scaffold",
             folds: int = 5, repeats: int = 3, seed: int = 0,
             n_estimators: int | None = None, n_jobs: int = 1,
             progress: Progress | None = None, extra: ExtraFeatures | None = None
             ) -> ValidationReport:
    """Repeated k-fold cross-validation: ``repeats`` rounds of ``folds`` folds, split by
    scaffold or at random (round ``r`` seeded by ``seed + r``), the model trained as
    :func:`train` would on each training part. Folds whose test set has one class only (or
    a training part with one class, or fewer than two test compounds) are reported as
    skipped. ``progress(done, total)`` is called after each fold."""
    count = _check_choice(algorithm, n_estimators)
    _check_size(training_set)
    plan = repeated_kfold(training_set.mols, folds, repeats, seed, split)
    x = featurise(training_set.mols, spec, extra)
    y = training_set.y
    task = training_set.task
    results = []
    for done, fold in enumerate(plan, start=1):
        reason = _unscorable(task, y[fold.train], y[fold.test])
        if reason is None:
            fitted = _fit(x[fold.train], y[fold.train], task, algorithm,
                          seed + 1000 * fold.repeat + fold.fold, count, n_jobs, None)
            mean, _ = _predict(fitted, x[fold.test], task)
            results.append(FoldResult(fold.repeat, fold.fold, len(fold.train),
                                      len(fold.test), metrics(task, y[fold.test], mean)))
        else:
            results.append(FoldResult(fold.repeat, fold.fold, len(fold.train),
                                      len(fold.test), None, reason))
        if progress is not None:
            progress(done, len(plan))
    return ValidationReport(task, algorithm, split, folds, repeats, seed, len(training_set),
                            tuple(results), _summarise(results))


def _unscorable(task: str, y_train: np.ndarray, y_test: np.ndarray) -> str | None:
    if len(y_test) < 2:
        return f"the test set has {len(y_test)} compound; at least 2 are needed"
    if task == "classification":
        if len(np.unique(y_test)) < 2:
            return f"the test set has one class only ({int(y_test[0])})"
        if len(np.unique(y_train)) < 2:
            return f"the training set has one class only ({int(y_train[0])})"
    return None


def _summarise(results: Sequence[FoldResult]) -> dict[str, MetricSummary]:
    scored = [r.metrics for r in results if r.metrics is not None]
    if not scored:
        return {}
    summary = {}
    for name in scored[0]:
        values = np.array([m[name] for m in scored])
        std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        summary[name] = MetricSummary(float(values.mean()), std, len(values))
    return summary


# --- the trained model -------------------------------------------------------------------

@dataclass(frozen=True)
class Prediction:
    """The prediction for one input row (``index``: its 0-based position in the batch).

    ``value`` is the predicted value (regression) or ``probability`` the probability of
    the active class (classification); ``uncertainty`` the ensemble's standard deviation;
    ``domain_similarity`` the highest Tanimoto similarity to a training compound, that
    compound's id ``nearest_training_id``, and ``in_domain`` whether the similarity
    reaches the model's threshold. A row whose SMILES could not be read has ``error``
    (the reason and how to fix it) and no numbers.
    """

    index: int
    smiles: str
    value: float | None
    probability: float | None
    uncertainty: float | None
    domain_similarity: float | None
    nearest_training_id: str | None
    in_domain: bool | None
    model_id: str
    model_version: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the row was predicted."""
        return self.error is None


@dataclass(frozen=True)
class RowError:
    """A row that could not be predicted: its 0-based index, its input, reason and fix."""

    index: int
    smiles: str
    reason: str
    fix: str


@dataclass(frozen=True)
class PredictionColumns:
    """Predictions for a batch as columns (NaN / -1 / False where a row is invalid)."""

    task: str
    value: np.ndarray
    uncertainty: np.ndarray
    domain_similarity: np.ndarray
    nearest: np.ndarray
    in_domain: np.ndarray
    valid: np.ndarray
    errors: tuple[RowError, ...]
    model_id: str
    model_version: int

    def __len__(self) -> int:
        return len(self.value)

    def rows(self, inputs: Sequence[str | Chem.Mol], training_ids: Sequence[str]
             ) -> list[Prediction]:
        """One :class:`Prediction` per input row."""
        errors = {e.index: e for e in self.errors}
        out = []
        regression = self.task == "regression"
        for i, item in enumerate(inputs):
            text = item if isinstance(item, str) else canonical_smiles(item)
            err = errors.get(i)
            if err is not None:
                out.append(Prediction(i, text, None, None, None, None, None, None,
                                      self.model_id, self.model_version,
                                      f"{err.reason}. Fix: {err.fix}"))
                continue
            value = float(self.value[i])
            nearest = int(self.nearest[i])
            out.append(Prediction(
                i, text, value if regression else None, None if regression else value,
                float(self.uncertainty[i]), float(self.domain_similarity[i]),
                training_ids[nearest] if nearest >= 0 else None, bool(self.in_domain[i]),
                self.model_id, self.model_version))
        return out


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A fitted model with everything needed to predict and to say where it applies."""

    model_id: str
    algorithm: str
    task: str
    spec: FeatureSpec
    seed: int
    n_estimators: int
    data_hash: str
    training_ids: tuple[str, ...]
    training_smiles: tuple[str, ...]
    training_fingerprints: tuple[DataStructs.ExplicitBitVect, ...] = field(repr=False)
    estimators: tuple[Any, ...] = field(repr=False)
    domain_threshold: float = DOMAIN_THRESHOLD
    version: int = 1
    metrics: Mapping[str, float] = field(default_factory=dict)
    extra: ExtraFeatures | None = field(default=None, repr=False)
    sklearn_version: str = sklearn.__version__
    rdkit_version: str = rdkit.__version__
    #: the payload's bytes once written or read, so that a loaded model saves to the same
    #: bytes (and digest) it was loaded from
    _payload: bytes | None = field(default=None, repr=False)

    @property
    def training_size(self) -> int:
        """How many compounds the model was trained on."""
        return len(self.training_ids)

    def with_version(self, version: int) -> TrainedModel:
        """The same model under another version number."""
        return replace(self, version=version)

    def with_metrics(self, report: ValidationReport | Mapping[str, float]) -> TrainedModel:
        """The same model carrying cross-validation metrics (their means), e.g. from
        :func:`validate` of the same table and settings."""
        found = report.means() if isinstance(report, ValidationReport) else dict(report)
        return replace(self, metrics={k: float(v) for k, v in found.items()})

    # predicting

    def predict(self, items: Sequence[str | Chem.Mol], chunk: int = CHUNK, n_jobs: int = 1,
                progress: Progress | None = None) -> list[Prediction]:
        """One :class:`Prediction` per item, in order; a row whose SMILES cannot be read
        carries its error instead of numbers. A SMILES is parsed and standardised as the
        training set was; an RDKit molecule is taken as it is (standardise it first)."""
        return self.predict_columns(items, chunk, n_jobs, progress).rows(
            items, self.training_ids)

    def predict_columns(self, items: Sequence[str | Chem.Mol], chunk: int = CHUNK,
                        n_jobs: int = 1, progress: Progress | None = None
                        ) -> PredictionColumns:
        """Predictions as columns (faster than :meth:`predict` for large batches):
        featurised ``chunk`` rows at a time; with ``n_jobs`` > 1 the batch is cut into
        ``n_jobs`` parts predicted in worker processes. ``progress(done, total)`` is
        called as rows are done (per part when in parallel)."""
        if chunk < 1 or n_jobs < 1:
            raise UsageError("chunk and n_jobs must be at least 1", [Problem(
                reason="is below 1", field="chunk" if chunk < 1 else "n_jobs",
                value=str(chunk if chunk < 1 else n_jobs), fix="use chunk=2048, n_jobs=1")])
        if n_jobs > 1 and len(items) >= 2 * chunk:
            return self._predict_parallel(items, chunk, n_jobs, progress)
        return self._predict_serial(items, chunk, progress)

    def _predict_serial(self, items: Sequence[str | Chem.Mol], chunk: int,
                        progress: Progress | None) -> PredictionColumns:
        n = len(items)
        value = np.full(n, np.nan)
        spread = np.full(n, np.nan)
        similarity = np.full(n, np.nan)
        nearest = np.full(n, -1, dtype=np.int64)
        valid = np.zeros(n, dtype=bool)
        errors: list[RowError] = []
        references = list(self.training_fingerprints)
        for start in range(0, n, chunk):
            rows: list[int] = []
            mols: list[Chem.Mol] = []
            for i in range(start, min(n, start + chunk)):
                item = items[i]
                try:
                    mols.append(item if isinstance(item, Chem.Mol) else parse_smiles(item))
                    rows.append(i)
                except LanhaiError as err:
                    problem = err.problems[0] if err.problems else Problem(err.message)
                    errors.append(RowError(i, str(item), problem.reason, problem.fix))
            if mols:
                where = np.asarray(rows)
                x = featurise(mols, self.spec, self.extra)
                value[where], spread[where] = _predict(self.estimators, x, self.task)
                fps = similarity_fingerprints_from(x, self.spec)
                best, which = max_similarity(
                    fps if fps is not None else similarity_fingerprints(mols), references)
                similarity[where], nearest[where] = best, which
                valid[where] = True
            if progress is not None:
                progress(min(n, start + chunk), n)
        return PredictionColumns(self.task, value, spread, similarity, nearest,
                                 valid & (similarity >= self.domain_threshold), valid,
                                 tuple(errors), self.model_id, self.version)

    def _predict_parallel(self, items: Sequence[str | Chem.Mol], chunk: int, n_jobs: int,
                          progress: Progress | None) -> PredictionColumns:
        blob = self.to_bytes()
        bounds = np.linspace(0, len(items), n_jobs + 1).astype(int)
        parts = [list(items[a:b]) for a, b in itertools.pairwise(bounds)]
        context = multiprocessing.get_context(
            "forkserver" if sys.platform.startswith("linux") else "spawn")
        with ProcessPoolExecutor(max_workers=n_jobs, mp_context=context) as pool:
            futures = [pool.submit(_predict_part, blob, part, chunk) for part in parts]
            done = 0
            results = []
            for future in futures:
                results.append(future.result())
                done += len(results[-1])
                if progress is not None:
                    progress(done, len(items))
        errors = tuple(RowError(e.index + int(offset), e.smiles, e.reason, e.fix)
                       for offset, part in zip(bounds[:-1], results, strict=True)
                       for e in part.errors)
        def joined(name: str) -> np.ndarray:
            return np.concatenate([getattr(r, name) for r in results])

        return PredictionColumns(
            self.task, joined("value"), joined("uncertainty"), joined("domain_similarity"),
            joined("nearest"), joined("in_domain"), joined("valid"), errors, self.model_id,
            self.version)

    # saving

    def header(self) -> dict[str, Any]:
        """What :meth:`to_bytes` writes in the clear before the payload."""
        return {"format_version": FORMAT_VERSION, "model_id": self.model_id,
                "version": self.version, "algorithm": self.algorithm, "task": self.task,
                "spec": self.spec.as_dict(), "seed": self.seed,
                "n_estimators": self.n_estimators, "data_hash": self.data_hash,
                "training_size": self.training_size,
                "domain_threshold": self.domain_threshold, "metrics": dict(self.metrics),
                "sklearn_version": self.sklearn_version, "rdkit_version": self.rdkit_version,
                "extra": self.extra is not None}

    def to_bytes(self) -> bytes:
        """The model as bytes: :data:`MAGIC`, a one-line JSON :meth:`header` (with the
        payload's SHA-256), then the compressed pickle payload."""
        body = self._payload if self._payload is not None else self._dump()
        object.__setattr__(self, "_payload", body)
        head = {**self.header(), "payload_sha256": hashlib.sha256(body).hexdigest(),
                "payload_size": len(body)}
        return MAGIC + json.dumps(head, sort_keys=True).encode("utf-8") + b"\n" + body

    def _dump(self) -> bytes:
        """The payload: estimators, training ids, SMILES and fingerprints, extra block."""
        try:
            return zlib.compress(pickle.dumps({
                "estimators": list(self.estimators), "training_ids": list(self.training_ids),
                "training_smiles": list(self.training_smiles),
                "fingerprints": [fp.ToBinary() for fp in self.training_fingerprints],
                "extra": self.extra}, protocol=5), 1)
        except (TypeError, AttributeError, ValueError, pickle.PicklingError) as err:
            raise UsageError("the model cannot be saved", [Problem(
                reason=f"holds something that cannot be pickled ({err})", field="extra",
                fix="make the extra feature function a module-level function")]) from None

    @classmethod
    def from_bytes(cls, blob: bytes) -> TrainedModel:
        """A model :meth:`to_bytes` wrote. ValidationFailed for bytes that are not a
        screening model, are damaged, or were saved in another format version or with
        another scikit-learn release."""
        head = read_header(blob)
        body = blob[blob.index(b"\n", len(MAGIC)) + 1:]
        if len(body) != head.get("payload_size") or \
                hashlib.sha256(body).hexdigest() != head.get("payload_sha256"):
            raise _bad_blob("is damaged: its payload does not match the checksum in its "
                            "header", "save the model again from the bank, or retrain it")
        saved = str(head.get("sklearn_version", ""))
        if saved.split(".")[:2] != sklearn.__version__.split(".")[:2]:
            raise _bad_blob(f"was trained with scikit-learn {saved}, and this installation "
                            f"has {sklearn.__version__}",
                            "retrain the model with this installation")
        try:
            payload = pickle.loads(zlib.decompress(body))
            return cls(
                model_id=str(head["model_id"]), algorithm=str(head["algorithm"]),
                task=str(head["task"]), spec=FeatureSpec.from_dict(head["spec"]),
                seed=int(head["seed"]), n_estimators=int(head["n_estimators"]),
                data_hash=str(head["data_hash"]),
                training_ids=tuple(payload["training_ids"]),
                training_smiles=tuple(payload["training_smiles"]),
                training_fingerprints=tuple(DataStructs.ExplicitBitVect(b)
                                            for b in payload["fingerprints"]),
                estimators=tuple(payload["estimators"]),
                domain_threshold=float(head["domain_threshold"]),
                version=int(head["version"]), metrics=dict(head["metrics"]),
                extra=payload["extra"], sklearn_version=saved,
                rdkit_version=str(head["rdkit_version"]), _payload=body)
        except (KeyError, TypeError, ValueError, EOFError, zlib.error,
                pickle.UnpicklingError) as err:
            raise _bad_blob(f"is damaged ({err.__class__.__name__}: {err})",
                            "save the model again from the bank, or retrain it") from None

    def model_digest(self) -> str:
        """SHA-256 (hex) of :meth:`to_bytes`."""
        return hashlib.sha256(self.to_bytes()).hexdigest()


def _predict_part(blob: bytes, items: list[str | Chem.Mol], chunk: int) -> PredictionColumns:
    """Worker: one part of a parallel prediction."""
    return TrainedModel.from_bytes(blob)._predict_serial(items, chunk, None)


def _bad_blob(reason: str, fix: str) -> ValidationFailed:
    return ValidationFailed(f"the model {reason}", [Problem(reason=reason, field="model",
                                                             fix=fix)])


def read_header(blob: bytes) -> dict[str, Any]:
    """The JSON header of a saved model, without loading the model. ValidationFailed for
    bytes that are not a screening model or of another format version."""
    if not isinstance(blob, (bytes, bytearray)) or not bytes(blob[:len(MAGIC)]) == MAGIC:
        raise _bad_blob("is not a Lanhai screening model (its first bytes are wrong)",
                        "give the bytes TrainedModel.to_bytes wrote")
    end = blob.find(b"\n", len(MAGIC))
    try:
        head = json.loads(bytes(blob[len(MAGIC):end]).decode("utf-8")) if end > 0 else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        head = None
    if not isinstance(head, dict):
        raise _bad_blob("is damaged: its header cannot be read",
                        "save the model again from the bank, or retrain it")
    version = head.get("format_version")
    if version != FORMAT_VERSION:
        raise _bad_blob(f"was saved in format version {version}; this Lanhai reads version "
                        f"{FORMAT_VERSION}", "retrain the model, or load it with the Lanhai "
                                             "release that saved it")
    return head


def train(training_set: TrainingSet, algorithm: Algorithm = "random_forest",
          spec: FeatureSpec = DEFAULT_SPEC, seed: int = 0, n_estimators: int | None = None,
          n_jobs: int = 1, progress: Progress | None = None,
          extra: ExtraFeatures | None = None,
          domain_threshold: float = DOMAIN_THRESHOLD) -> TrainedModel:
    """Train a model on the whole table. ``n_estimators``: trees (forests) or boosting
    rounds per member (default :data:`DEFAULT_ESTIMATORS`); ``n_jobs``: threads for the
    forests; ``progress(done, total)``: called as trees or members are fitted; ``extra``:
    an extra feature block (with ``spec.extra_names``; a module-level function, so the
    model can be saved). The same table and settings give the same model."""
    count = _check_choice(algorithm, n_estimators)
    _check_size(training_set)
    if not 0.0 <= domain_threshold <= 1.0:
        raise UsageError(f"a domain threshold of {domain_threshold} is not a similarity", [
            Problem(reason="is not between 0 and 1", field="domain_threshold",
                    value=str(domain_threshold), fix=f"use {DOMAIN_THRESHOLD}")])
    x = featurise(training_set.mols, spec, extra)
    fitted = _fit(x, training_set.y, training_set.task, algorithm, seed, count, n_jobs,
                  progress)
    data_hash = training_set.data_hash()
    identity = json.dumps({"data_hash": data_hash, "algorithm": algorithm,
                           "task": training_set.task, "spec": spec.as_dict(), "seed": seed,
                           "n_estimators": count}, sort_keys=True)
    return TrainedModel(
        model_id="sm-" + hashlib.sha256(identity.encode()).hexdigest()[:16],
        algorithm=algorithm, task=training_set.task, spec=spec, seed=seed,
        n_estimators=count, data_hash=data_hash, training_ids=tuple(training_set.ids),
        training_smiles=training_set.canonical,
        training_fingerprints=tuple(similarity_fingerprints(training_set.mols)),
        estimators=tuple(fitted), domain_threshold=domain_threshold, extra=extra)
