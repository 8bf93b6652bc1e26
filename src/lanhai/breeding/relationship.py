"""Relationship matrices behind one small interface: the columns and diagonal a model needs.

A model with records on animals ``o`` and predictions for all animals needs K[:, o] and
diag(K); these classes give them without forming K when the inverse is sparse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lanhai.breeding.data import FloatArray, Pedigree
from lanhai.breeding.pedigree import Coded, IntArray, a_columns, a_inverse, code, inbreeding
from lanhai.errors import Problem, ValidationFailed


class Kernel:
    """A covariance structure over ``ids`` (animals)."""

    ids: list[str]
    name: str = "K"

    def columns(self, cols: IntArray) -> FloatArray:
        raise NotImplementedError

    def diag(self) -> FloatArray:
        raise NotImplementedError

    def index(self) -> dict[str, int]:
        return {a: i for i, a in enumerate(self.ids)}

    def positions(self, animals: list[str]) -> IntArray:
        """Positions of ``animals`` (all must be known)."""
        idx = self.index()
        missing = [a for a in animals if a not in idx]
        if missing:
            raise ValidationFailed(f"{len(missing)} animal(s) not in the {self.name} matrix", [
                Problem(reason=f"animal {a} is not in the {self.name} relationship matrix",
                        record=a, fix="check the identifiers match across files")
                for a in missing[:50]])
        return np.array([idx[a] for a in animals], dtype=np.int64)


@dataclass
class DenseKernel(Kernel):
    """An explicit matrix: G, or a relationship matrix supplied by the breeder."""

    ids: list[str]
    matrix: FloatArray
    name: str = "G"

    def columns(self, cols: IntArray) -> FloatArray:
        out: FloatArray = self.matrix[:, cols]
        return out

    def diag(self) -> FloatArray:
        return np.diag(self.matrix).copy()


class PedigreeKernel(Kernel):
    """A from a pedigree, held as the sparse A⁻¹ (Henderson's rules with inbreeding)."""

    name = "A"

    def __init__(self, ped: Pedigree | Coded) -> None:
        self.coded = ped if isinstance(ped, Coded) else code(ped)
        self.ids = self.coded.ids
        self.f = inbreeding(self.coded)
        self.ainv: sp.csc_matrix = a_inverse(self.coded, self.f)

    def columns(self, cols: IntArray) -> FloatArray:
        return a_columns(self.ainv, cols)

    def diag(self) -> FloatArray:
        out: FloatArray = 1.0 + self.f
        return out
