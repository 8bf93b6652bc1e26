"""Joining the pieces: load a breeder's files (over an imported dataset), QC, build the
relationship matrix a model needs, and prepare a model run (:mod:`lanhai.breeding.analyses`
runs them; :mod:`lanhai.services.breeding` is the use case the CLI and the API call)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lanhai.breeding import io
from lanhai.breeding.data import Dataset, Genotypes, Pedigree, Progress, no_progress
from lanhai.breeding.design import Design, build
from lanhai.breeding.grm import regularise, vanraden
from lanhai.breeding.qc import QcOptions, QcResult, run_qc
from lanhai.breeding.relationship import DenseKernel, Kernel, PedigreeKernel
from lanhai.breeding.ssgblup import HKernel, single_step
from lanhai.breeding.validate import check_dataset, check_pedigree
from lanhai.errors import Problem, ValidationFailed
from lanhai.limits import Limits


@dataclass
class Inputs:
    """Where the data come from: files, or a dataset imported with ``lanhai breed import``."""

    genotypes: Path | None = None
    phenotypes: Path | None = None
    pedigree: Path | None = None
    relationship: Path | None = None  # a precomputed pedigree relationship matrix
    dataset: Dataset | None = None  # a dataset imported before (files given override it)
    vcf_field: str = "GT"
    factors: list[str] = field(default_factory=list)
    covariates: list[str] = field(default_factory=list)
    germplasm: str | None = None  # one accession for every animal (a line)
    limits: Limits = field(default_factory=Limits)  # what a file may hold (the bank's)
    #: pedigree and phenotype columns: source column -> field or name (``--map``)
    columns: dict[str, str] = field(default_factory=dict)


@dataclass
class ModelOptions:
    model: str = "gblup"
    grm_method: int = 1
    grm_weight: float = 0.01
    blend: float = 0.05
    tuning: str = "christensen"
    qc: QcOptions | None = field(default_factory=QcOptions)


def load(inp: Inputs) -> Dataset:
    """Read and validate every file given (imported dataset first, files override)."""
    data = inp.dataset or Dataset()
    if inp.columns:
        ped, phen = ((path.name, io.header_of(path, inp.limits)) if path else None
                     for path in (inp.pedigree, inp.phenotypes))
        io.check_map(inp.columns, ped, phen)
    if inp.genotypes:
        data.genotypes = io.read_genotypes(inp.genotypes, inp.vcf_field, inp.limits)
    if inp.pedigree:
        data.pedigree = io.read_pedigree(inp.pedigree, inp.limits, inp.columns)
    if inp.phenotypes:
        data.phenotypes = io.read_phenotypes(inp.phenotypes, inp.factors, inp.covariates,
                                             inp.limits, inp.columns)
    if data.pedigree is not None:
        check_pedigree(data.pedigree)
    if inp.germplasm:
        for part in (data.pedigree, data.phenotypes):
            if part is not None:
                for a in part.ids:
                    part.accession.setdefault(a, inp.germplasm)
    return data


def dataset_counts(data: Dataset) -> dict[str, Any]:
    """What a dataset holds: animals, SNPs, traits, animals linked to germplasm."""
    counts: dict[str, Any] = {}
    if data.genotypes is not None:
        counts["genotyped_animals"] = data.genotypes.n_animals
        counts["snps"] = data.genotypes.n_snps
    if data.pedigree is not None:
        counts["pedigree_animals"] = len(data.pedigree.ids)
    if data.phenotypes is not None:
        counts["phenotyped_animals"] = len(data.phenotypes.ids)
        counts["traits"] = list(data.phenotypes.traits)
    counts["germplasm_linked"] = len(data.germplasm())
    return counts


@dataclass
class Prepared:
    """What a model run needs: the relationship matrix, the records, and what QC did."""

    kernel: Kernel
    design: Design
    qc: QcResult | None
    notes: list[str]
    genotypes: Genotypes | None = None


def clean_genotypes(data: Dataset, opts: ModelOptions,
                    progress: Progress = no_progress) -> tuple[Genotypes | None, QcResult | None]:
    if data.genotypes is None or opts.qc is None:
        return data.genotypes, None
    res = run_qc(data.genotypes, data.pedigree, opts.qc, progress)
    return res.genotypes, res


def kernel_for(data: Dataset, geno: Genotypes | None, opts: ModelOptions,
               relationship: Path | None = None, progress: Progress = no_progress) -> Kernel:
    """A for pblup (pedigree, or a matrix file), G for gblup, H for ssgblup."""
    if opts.model == "pblup":
        if relationship is not None:
            ids, mat = io.read_matrix(relationship)
            return DenseKernel(ids, mat, "A")
        assert data.pedigree is not None
        return PedigreeKernel(data.pedigree)
    assert geno is not None
    g = vanraden(geno.dosages, opts.grm_method, progress=progress)
    if opts.model in ("gblup", "bayes"):
        return DenseKernel(geno.ids, regularise(g, opts.grm_weight))
    assert data.pedigree is not None
    ss = single_step(data.pedigree, geno.ids, g, opts.blend, opts.tuning)
    return HKernel(ss)


def prepare(data: Dataset, trait: str, fixed: list[str] | None, opts: ModelOptions,
            relationship: Path | None = None, progress: Progress = no_progress) -> Prepared:
    """Validate, QC, build the relationship matrix and the records of ``trait``."""
    if opts.model == "pblup" and relationship is not None and data.pedigree is None:
        ids, _ = io.read_matrix(relationship)  # the matrix stands in for the pedigree
        data = Dataset(data.genotypes, Pedigree(ids, [None] * len(ids), [None] * len(ids)),
                       data.phenotypes)
    check_dataset(data, trait, opts.model)
    geno, qc = clean_genotypes(data, opts, progress) if opts.model != "pblup" else (None, None)
    kernel = kernel_for(data, geno, opts, relationship, progress)
    phen = data.phenotypes
    assert phen is not None
    known = set(kernel.ids)
    notes = []
    design = build(phen, trait, fixed, keep=known)
    observed = int((~np.isnan(phen.traits[trait])).sum())
    if len(design.ids) < observed:
        notes.append(f"{observed - len(design.ids)} record(s) of {trait} dropped: their "
                     f"animals were removed by QC")
    return Prepared(kernel, design, qc, notes, geno)


def parse_folds(path: Path, ids: list[str]) -> np.ndarray:
    """A folds file: animal id and fold number (≥ 1; 0 or empty = never tested)."""
    rows = list(io._rows(path))
    body = [r for r in rows[1:] if r and r[0].strip()]
    fold_of: dict[str, int] = {}
    problems = []
    for i, r in enumerate(body, 2):
        try:
            fold_of[r[0].strip()] = int(float(r[1])) if len(r) > 1 and r[1].strip() else 0
        except ValueError:
            problems.append(Problem(reason="fold is not a whole number", value=r[1], row=i,
                                    file=str(path), fix="write 1, 2, … (0 = never tested)"))
    missing = [a for a in ids if a not in fold_of]
    problems += [Problem(reason=f"animal {a} has a record but no fold", record=a,
                         file=str(path), fix="give every phenotyped animal a fold (0 = never "
                                             "tested)") for a in missing[:50]]
    if problems:
        raise ValidationFailed("the folds file does not fit the records", problems)
    return np.array([fold_of[a] for a in ids], dtype=np.int64)
