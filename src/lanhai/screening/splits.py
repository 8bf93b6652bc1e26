"""Train/test splits of a compound table: by Bemis–Murcko scaffold (every compound sharing a
scaffold lands on one side, so a model is tested on chemotypes it has not seen) or at random.

Scaffolds are generic Bemis–Murcko frameworks: ring systems and the linkers between them,
side chains removed, every atom made carbon and every bond single, so close analogues that
differ in one heteroatom share a scaffold. Acyclic compounds all share the empty scaffold.

The fixed split is deterministic like MoleculeNet's and chemprop's: scaffold groups are
placed largest first (ties by first appearance) into train, then validation, then test.
The balanced variant (chemprop's ``scaffold_balanced``) places groups too big for the
validation or test set first, then the rest in an order shuffled by ``seed``, which is what
repeated cross-validation needs to see different partitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold

from lanhai.errors import Problem, UsageError, ValidationFailed

SplitKind = Literal["scaffold", "random"]
MolLike = Chem.Mol | str


@dataclass(frozen=True)
class Split:
    """Row indices (sorted) of the training, validation and test sets."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class Fold:
    """One fold of (repeated) cross-validation: row indices to train on and to test on."""

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


def _mol(item: MolLike) -> Chem.Mol:
    if isinstance(item, Chem.Mol):
        return item
    from lanhai.screening.features import parse_smiles

    return parse_smiles(item)


def scaffold(item: MolLike, generic: bool = True) -> str:
    """The canonical SMILES of a compound's Bemis–Murcko scaffold (generic unless
    ``generic=False``); "" for an acyclic compound."""
    core = MurckoScaffold.GetScaffoldForMol(_mol(item))  # type: ignore[no-untyped-call]
    if core.GetNumAtoms() == 0:
        return ""
    if generic:
        core = MurckoScaffold.MakeScaffoldGeneric(core)  # type: ignore[no-untyped-call]
    return str(Chem.MolToSmiles(core))


def scaffold_groups(items: Sequence[MolLike], generic: bool = True) -> list[list[int]]:
    """Row indices grouped by scaffold, groups in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for row, item in enumerate(items):
        groups.setdefault(scaffold(item, generic), []).append(row)
    return list(groups.values())


def _check_sizes(sizes: Sequence[float]) -> tuple[float, float, float]:
    if len(sizes) != 3 or any(s < 0 for s in sizes) or abs(sum(sizes) - 1) > 1e-6 \
            or sizes[0] <= 0 or sizes[2] <= 0:
        raise UsageError(f"the split sizes {tuple(sizes)} are not valid", [Problem(
            reason="are not three fractions (train, validation, test) that add up to 1 with "
                   "a training and a test share", field="sizes",
            value=", ".join(map(str, sizes)), fix="use e.g. (0.8, 0.1, 0.1) or (0.8, 0, 0.2)")])
    return float(sizes[0]), float(sizes[1]), float(sizes[2])


def _too_few(what: str, have: int, need: int, asked: str, fix: str) -> ValidationFailed:
    return ValidationFailed(f"{have} {what} are too few for {asked}: at least {need} are "
                            "needed", [Problem(reason=f"has {have} {what}; {asked} needs at "
                                               f"least {need}", field="compounds", fix=fix)])


def _placed(groups: list[list[int]], n: int, sizes: tuple[float, float, float]) -> Split:
    train_cap, valid_cap = sizes[0] * n, sizes[1] * n
    train: list[int] = []
    valid: list[int] = []
    test: list[int] = []
    for group in groups:
        if len(train) + len(group) <= train_cap:
            train.extend(group)
        elif len(valid) + len(group) <= valid_cap:
            valid.extend(group)
        else:
            test.extend(group)
    return Split(np.array(sorted(train), dtype=np.int64),
                 np.array(sorted(valid), dtype=np.int64),
                 np.array(sorted(test), dtype=np.int64))


def scaffold_split(items: Sequence[MolLike], sizes: Sequence[float] = (0.8, 0.1, 0.1),
                   balanced: bool = False, seed: int = 0, generic: bool = True) -> Split:
    """Split compounds (molecules or SMILES) by scaffold into train/validation/test of about
    ``sizes`` (fractions). Deterministic largest-first unless ``balanced``, then shuffled by
    ``seed``. ValidationFailed when there are too few compounds or scaffolds for a
    non-empty training and test set (and validation set, if asked for)."""
    shares = _check_sizes(sizes)
    parts = sum(1 for s in shares if s > 0)
    n = len(items)
    if n < parts:
        raise _too_few("compounds", n, parts, f"a {parts}-way split",
                       "add compounds to the table")
    groups = scaffold_groups(items, generic)
    if len(groups) < parts:
        raise _too_few("distinct scaffolds", len(groups), parts,
                       f"a {parts}-way scaffold split",
                       "add compounds of other scaffolds, or use a random split")
    if balanced:
        rng = np.random.default_rng(seed)
        big_limit = min(s for s in shares[1:] if s > 0) * n / 2
        big = [g for g in groups if len(g) > big_limit]
        small = [g for g in groups if len(g) <= big_limit]
        order = ([big[i] for i in rng.permutation(len(big))]
                 + [small[i] for i in rng.permutation(len(small))])
    else:
        order = sorted(groups, key=lambda g: (-len(g), g[0]))
    split = _placed(order, n, shares)
    if len(split.test) == 0 or len(split.train) == 0 or (shares[1] > 0 and
                                                         len(split.valid) == 0):
        largest = max(len(g) for g in groups)
        empty = "training" if len(split.train) == 0 else "test" if len(split.test) == 0 \
            else "validation"
        raise ValidationFailed(
            f"the scaffold split leaves the {empty} set empty: one scaffold holds {largest} "
            f"of {n} compounds", [Problem(
                reason=f"has one scaffold holding {largest} of {n} compounds, so no "
                       f"{'/'.join(f'{s:g}' for s in shares)} split keeps every scaffold on "
                       "one side", field="compounds",
                fix="add compounds of other scaffolds, change the sizes, or use a random "
                    "split")])
    return split


def random_split(n: int, sizes: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0) -> Split:
    """Split ``n`` rows at random (by ``seed``) into train/validation/test of ``sizes``."""
    shares = _check_sizes(sizes)
    parts = sum(1 for s in shares if s > 0)
    if n < parts:
        raise _too_few("compounds", n, parts, f"a {parts}-way split",
                       "add compounds to the table")
    order = np.random.default_rng(seed).permutation(n)
    n_train = min(max(1, round(shares[0] * n)), n - parts + 1)
    n_valid = max(1, round(shares[1] * n)) if shares[1] > 0 else 0
    n_valid = min(n_valid, n - n_train - 1)
    return Split(np.sort(order[:n_train]), np.sort(order[n_train:n_train + n_valid]),
                 np.sort(order[n_train + n_valid:]))


def _check_folds(n: int, n_folds: int) -> None:
    if n_folds < 2:
        raise UsageError(f"{n_folds} folds cannot cross-validate", [Problem(
            reason="is fewer than 2 folds", field="folds", value=str(n_folds),
            fix="use 5 folds (or at least 2)")])
    if n < 2 * n_folds:
        raise _too_few("compounds", n, 2 * n_folds, f"{n_folds}-fold cross-validation",
                       f"add compounds, or use at most {max(2, n // 2)} folds")


def scaffold_kfold(items: Sequence[MolLike], n_folds: int = 5, seed: int | None = None,
                   generic: bool = True) -> list[Fold]:
    """``n_folds`` folds whose test sets never share a scaffold with their training sets.

    Scaffold groups go one by one to the fold with the fewest compounds so far: largest
    first (deterministic) when ``seed`` is None; else groups larger than half a fold go
    first and the rest follow in an order shuffled by ``seed``. ValidationFailed when there
    are fewer than ``2 * n_folds`` compounds or fewer than ``n_folds`` scaffolds."""
    return _assign(scaffold_groups(items, generic), len(items), n_folds, seed)


def _assign(groups: list[list[int]], n: int, n_folds: int, seed: int | None,
            repeat: int = 0) -> list[Fold]:
    """Scaffold groups dealt into folds (see :func:`scaffold_kfold`)."""
    _check_folds(n, n_folds)
    if len(groups) < n_folds:
        raise _too_few("distinct scaffolds", len(groups), n_folds,
                       f"{n_folds}-fold scaffold cross-validation",
                       f"use at most {max(2, len(groups))} folds, add compounds of other "
                       "scaffolds, or use a random split")
    if seed is None:
        order = sorted(groups, key=lambda g: (-len(g), g[0]))
    else:
        rng = np.random.default_rng(seed)
        limit = n / n_folds / 2
        big = sorted((g for g in groups if len(g) > limit), key=lambda g: (-len(g), g[0]))
        small = [g for g in groups if len(g) <= limit]
        order = big + [small[i] for i in rng.permutation(len(small))]
    members: list[list[int]] = [[] for _ in range(n_folds)]
    for group in order:
        target = min(range(n_folds), key=lambda f: (len(members[f]), f))
        members[target].extend(group)
    return _folds(members, n, repeat)


def random_kfold(n: int, n_folds: int = 5, seed: int = 0) -> list[Fold]:
    """``n_folds`` folds of ``n`` rows shuffled by ``seed``."""
    _check_folds(n, n_folds)
    order = np.random.default_rng(seed).permutation(n)
    return _folds([list(part) for part in np.array_split(order, n_folds)], n, repeat=0)


def _folds(members: list[list[int]], n: int, repeat: int) -> list[Fold]:
    folds = []
    everything = np.arange(n)
    for number, rows in enumerate(members):
        test = np.array(sorted(rows), dtype=np.int64)
        mask = np.ones(n, dtype=bool)
        mask[test] = False
        folds.append(Fold(repeat, number, everything[mask], test))
    return folds


def repeated_kfold(items: Sequence[MolLike], n_folds: int = 5, repeats: int = 3,
                   seed: int = 0, split: SplitKind = "scaffold",
                   generic: bool = True) -> list[Fold]:
    """``repeats`` rounds of ``n_folds``-fold cross-validation, round ``r`` shuffled by
    ``seed + r`` (by scaffold as :func:`scaffold_kfold`, or at random)."""
    if repeats < 1:
        raise UsageError(f"{repeats} repeats is not a number of rounds", [Problem(
            reason="is fewer than 1", field="repeats", value=str(repeats), fix="use 1 to 10")])
    if split not in ("scaffold", "random"):
        raise UsageError(f"the split {split!r} is not known", [Problem(
            reason="is not a split", field="split", value=str(split),
            fix="use scaffold or random")])
    folds: list[Fold] = []
    if split == "scaffold":
        groups = scaffold_groups(items, generic)  # the scaffolds once for every round
        for r in range(repeats):
            folds.extend(_assign(groups, len(items), n_folds, seed + r, repeat=r))
    else:
        for r in range(repeats):
            folds.extend(Fold(r, f.fold, f.train, f.test)
                         for f in random_kfold(len(items), n_folds, seed + r))
    return folds
