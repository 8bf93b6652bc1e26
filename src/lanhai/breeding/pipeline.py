"""Use cases joining the pieces: load a breeder's files (or an imported dataset), QC, build
the relationship matrix a model needs, and run REML, prediction or cross-validation.

The CLI and the API call these; they only parse options and render results.
"""

from __future__ import annotations

import json
import shutil
import uuid
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
from lanhai.errors import Conflict, Problem, UsageError, ValidationFailed


@dataclass
class Inputs:
    """Where the data come from: files, or a dataset imported with ``lanhai breed import``."""

    genotypes: Path | None = None
    phenotypes: Path | None = None
    pedigree: Path | None = None
    relationship: Path | None = None  # a precomputed pedigree relationship matrix
    dataset: Path | None = None
    vcf_field: str = "GT"
    factors: list[str] = field(default_factory=list)
    covariates: list[str] = field(default_factory=list)
    germplasm: str | None = None  # one accession for every animal (a line)


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
    data = load_dataset(inp.dataset) if inp.dataset else Dataset()
    if inp.genotypes:
        data.genotypes = io.read_genotypes(inp.genotypes, inp.vcf_field)
    if inp.pedigree:
        data.pedigree = io.read_pedigree(inp.pedigree)
    if inp.phenotypes:
        data.phenotypes = io.read_phenotypes(inp.phenotypes, inp.factors, inp.covariates)
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


def save_dataset(data: Dataset, folder: Path, meta: dict[str, Any],
                 replace: bool = True) -> dict[str, Any]:
    """Write a validated dataset atomically (a temporary folder, then one rename).

    With ``replace`` False an existing dataset of that name is a conflict (nothing written).
    """
    if folder.exists() and not replace:
        raise _taken(folder.name)
    tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.part")
    tmp.mkdir(parents=True)
    try:
        counts = _write_parts(data, tmp, meta)
        if folder.exists():
            if not replace:
                raise _taken(folder.name)
            old = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.old")
            folder.rename(old)
            tmp.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return counts


def _taken(name: str) -> Conflict:
    return Conflict(f"a dataset named {name!r} exists", [Problem(
        reason="the name is taken", value=name, field="name",
        fix="choose another name, or replace it (--replace; replace=true in the API)")])


def _write_parts(data: Dataset, tmp: Path, meta: dict[str, Any]) -> dict[str, Any]:
    counts = dataset_counts(data)
    if data.genotypes is not None:
        g = data.genotypes
        np.savez_compressed(tmp / "genotypes.npz", dosages=g.dosages, ids=np.array(g.ids),
                            snps=np.array(g.snps), chrom=np.array(g.chrom),
                            pos=np.array(g.pos, dtype=np.int64))
    if data.pedigree is not None:
        p = data.pedigree
        birth = p.birth if p.birth is not None else np.full(len(p.ids), np.nan)
        io.write_table(tmp / "pedigree.tsv", ["id", "sire", "dam", "birth", "sex", "family",
                                              "accession"],
                       [[a, s or "0", d or "0", "" if np.isnan(b) else repr(float(b)),
                         p.sex[i] if p.sex else "", p.family[i] if p.family else "",
                         p.accession.get(a, "")]
                        for i, (a, s, d, b) in enumerate(zip(p.ids, p.sire, p.dam, birth,
                                                             strict=True))])
    if data.phenotypes is not None:
        ph = data.phenotypes
        cols = list(ph.traits) + list(ph.factors) + list(ph.covariates)
        rows: list[list[object]] = []
        for i, a in enumerate(ph.ids):
            row: list[object] = [a, ph.accession.get(a, "")]
            row += ["" if np.isnan(ph.traits[t][i]) else repr(float(ph.traits[t][i]))
                    for t in ph.traits]
            row += [ph.factors[f][i] for f in ph.factors]
            row += ["" if np.isnan(ph.covariates[c][i]) else repr(float(ph.covariates[c][i]))
                    for c in ph.covariates]
            rows.append(row)
        io.write_table(tmp / "phenotypes.tsv", ["id", "accession", *cols], rows)
        meta = {**meta, "factors": list(ph.factors), "covariates": list(ph.covariates)}
    (tmp / "meta.json").write_text(json.dumps({**meta, "counts": counts}, indent=2))
    return counts


def load_dataset(folder: Path) -> Dataset:
    """A dataset written by :func:`save_dataset`."""
    if not (folder / "meta.json").exists():
        raise UsageError(f"no imported dataset at {folder}", [Problem(
            reason="no dataset of that name", file=str(folder),
            fix="import it first with `lanhai breed import --name NAME ...`")])
    meta = json.loads((folder / "meta.json").read_text())
    data = Dataset()
    if (folder / "genotypes.npz").exists():
        z = np.load(folder / "genotypes.npz")
        data.genotypes = Genotypes([str(x) for x in z["ids"]], [str(x) for x in z["snps"]],
                                   z["dosages"], [str(x) for x in z["chrom"]],
                                   [int(x) for x in z["pos"]], source=str(folder))
    if (folder / "pedigree.tsv").exists():
        data.pedigree = io.read_pedigree(folder / "pedigree.tsv")
    if (folder / "phenotypes.tsv").exists():
        data.phenotypes = io.read_phenotypes(folder / "phenotypes.tsv", meta.get("factors"),
                                             meta.get("covariates"))
    return data


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
