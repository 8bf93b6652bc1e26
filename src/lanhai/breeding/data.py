"""The breeding data model: genotypes, pedigree, phenotypes, joined as a dataset.

Animals are named by the breeder's own identifiers (strings). Any animal may carry a
germplasm accession (the catalog's ``germplasm`` record it belongs to); nothing here needs
the catalog database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
#: any float array (float32 dosages, float64 matrices)
AnyFloat = npt.NDArray[np.floating[Any]]
#: progress callback: (step name, done, total)
Progress = Callable[[str, int, int], None]


def no_progress(step: str, done: int, total: int) -> None:
    """The default progress callback: ignore."""


@dataclass
class Genotypes:
    """Allele dosages (count of the second allele: 0, 1, 2; NaN = missing), animals × SNPs.

    ``dosages`` is float32 to keep 10,000 × 50,000 under 2 GB; dosage values from a VCF
    ``DS`` field may be fractional in [0, 2].
    """

    ids: list[str]
    snps: list[str]
    dosages: npt.NDArray[np.float32]
    chrom: list[str] = field(default_factory=list)
    pos: list[int] = field(default_factory=list)
    source: str = ""

    @property
    def n_animals(self) -> int:
        return len(self.ids)

    @property
    def n_snps(self) -> int:
        return len(self.snps)

    def index(self) -> dict[str, int]:
        return {a: i for i, a in enumerate(self.ids)}

    def subset(self, animals: npt.NDArray[np.bool_] | None = None,
               snps: npt.NDArray[np.bool_] | None = None) -> Genotypes:
        """A copy keeping the animals and SNPs whose mask is True."""
        rows = np.ones(self.n_animals, bool) if animals is None else animals
        cols = np.ones(self.n_snps, bool) if snps is None else snps
        keep_c = np.flatnonzero(cols)
        return Genotypes(
            ids=[a for a, k in zip(self.ids, rows, strict=True) if k],
            snps=[self.snps[j] for j in keep_c],
            dosages=np.ascontiguousarray(self.dosages[np.ix_(rows, cols)]),
            chrom=[self.chrom[j] for j in keep_c] if self.chrom else [],
            pos=[self.pos[j] for j in keep_c] if self.pos else [],
            source=self.source,
        )


@dataclass
class Pedigree:
    """Animals with their sire and dam (None = unknown), optional birth and sex.

    ``birth`` holds a sortable number per animal (year, or days since 1970) or NaN.
    ``sex`` holds "M", "F" or "" (unknown). ``accession`` maps animals to germplasm records.
    """

    ids: list[str]
    sire: list[str | None]
    dam: list[str | None]
    birth: FloatArray | None = None
    sex: list[str] = field(default_factory=list)
    family: list[str] = field(default_factory=list)
    accession: dict[str, str] = field(default_factory=dict)
    source: str = ""
    #: where each accession was read: animal → file row, and the column's name
    accession_rows: dict[str, int] = field(default_factory=dict)
    accession_column: str = "accession"

    def __len__(self) -> int:
        return len(self.ids)

    def index(self) -> dict[str, int]:
        return {a: i for i, a in enumerate(self.ids)}


@dataclass
class Phenotypes:
    """Records, one row per animal: traits (NaN = missing) and fixed effects.

    ``factors`` are class effects (strings, e.g. tank, batch, sex); ``covariates`` are
    numeric regressions (e.g. age at harvest).
    """

    ids: list[str]
    traits: dict[str, FloatArray]
    factors: dict[str, list[str]] = field(default_factory=dict)
    covariates: dict[str, FloatArray] = field(default_factory=dict)
    accession: dict[str, str] = field(default_factory=dict)
    source: str = ""
    #: where each accession was read: animal → file row, and the column's name
    accession_rows: dict[str, int] = field(default_factory=dict)
    accession_column: str = "accession"

    def index(self) -> dict[str, int]:
        return {a: i for i, a in enumerate(self.ids)}


@dataclass
class Dataset:
    """What a breeder uploads, joined: any of genotypes, pedigree, phenotypes."""

    genotypes: Genotypes | None = None
    pedigree: Pedigree | None = None
    phenotypes: Phenotypes | None = None

    def germplasm(self) -> dict[str, str]:
        """Animal → germplasm accession, from the pedigree and the phenotypes."""
        out: dict[str, str] = {}
        for part in (self.pedigree, self.phenotypes):
            if part is not None:
                out.update(part.accession)
        return out
