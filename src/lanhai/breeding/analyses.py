"""Use cases behind ``lanhai breed grm|reml|predict|cv|mate`` (and later the API): each takes
loaded data and options and returns a plain, JSON-ready dict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lanhai.breeding import io
from lanhai.breeding.bayes import bayes_r, cross_validate_bayes
from lanhai.breeding.bivariate import reml_bivariate
from lanhai.breeding.cv import cross_validate, make_folds
from lanhai.breeding.data import Dataset, Progress, no_progress
from lanhai.breeding.design import build
from lanhai.breeding.grm import vanraden
from lanhai.breeding.mating import allocate, optimal_contributions
from lanhai.breeding.pedigree import a_inverse, code
from lanhai.breeding.pipeline import ModelOptions, Prepared, clean_genotypes, parse_folds, prepare
from lanhai.breeding.predict import Prediction, fit_predict
from lanhai.breeding.qc import QcOptions, QcResult, run_qc
from lanhai.breeding.relationship import PedigreeKernel
from lanhai.breeding.reml import reml_ai, reml_spectral
from lanhai.breeding.ssgblup import single_step
from lanhai.errors import Problem, UsageError, ValidationFailed


def choose_trait(data: Dataset, trait: str | None) -> str:
    """``trait``, or the only trait of the phenotypes; a usage error naming them otherwise."""
    if trait:
        return trait
    traits = list(data.phenotypes.traits) if data.phenotypes else []
    if len(traits) == 1:
        return traits[0]
    raise UsageError("which trait?", [Problem(reason="--trait is required", field="trait",
                                              fix=f"choose one of: {', '.join(traits)}")])


def read_candidates(path: Path) -> list[str]:
    """A candidates file: one animal per row in the first column, after a header."""
    rows = list(io._rows(path))
    return [r[0].strip() for r in rows[1:] if r and r[0].strip()]


def quality_control(data: Dataset, opts: QcOptions,
                    progress: Progress = no_progress) -> tuple[dict[str, Any], QcResult]:
    """Run QC on the dataset's genotypes (checked against its pedigree)."""
    if data.genotypes is None:
        raise UsageError("qc needs genotypes", [Problem(reason="no --genotypes given")])
    res = run_qc(data.genotypes, data.pedigree, opts, progress)
    return res.to_dict(), res


def relationship_matrix(data: Dataset, matrix: str, opts: ModelOptions, out: Path | None,
                        progress: Progress = no_progress) -> dict[str, Any]:
    """G, A, A⁻¹ or H⁻¹ with a summary; written to ``out`` when given."""
    matrix = matrix.upper()
    info: dict[str, Any] = {"matrix": matrix}
    if matrix in ("A", "A-INVERSE", "H-INVERSE") and data.pedigree is None:
        raise UsageError(f"{matrix} needs a pedigree", [Problem(reason="no --pedigree given")])
    if matrix in ("G", "H-INVERSE") and data.genotypes is None:
        raise UsageError(f"{matrix} needs genotypes", [Problem(reason="no --genotypes given")])
    dense: Any = None
    sparse: Any = None
    if matrix == "G":
        geno, _ = clean_genotypes(data, opts, progress)
        assert geno is not None
        ids, dense = geno.ids, vanraden(geno.dosages, opts.grm_method, progress=progress)
        info["snps"] = geno.n_snps
    elif matrix == "A":
        assert data.pedigree is not None
        pk = PedigreeKernel(data.pedigree)
        ids, dense = pk.ids, pk.columns(np.arange(len(pk.ids), dtype=np.int64))
        info["mean_inbreeding"] = float(pk.f.mean())
    elif matrix == "A-INVERSE":
        assert data.pedigree is not None
        coded = code(data.pedigree)
        ids, sparse = coded.ids, a_inverse(coded)
    else:
        geno, _ = clean_genotypes(data, opts, progress)
        assert geno is not None and data.pedigree is not None
        ss = single_step(data.pedigree, geno.ids, vanraden(geno.dosages, opts.grm_method),
                         opts.blend, opts.tuning)
        ids, sparse = ss.ped.ids, ss.h_inverse()
        info["tuning"] = ss.info
    info["animals"] = len(ids)
    if dense is not None:
        off = dense[~np.eye(len(ids), dtype=bool)]
        info["mean_diagonal"] = float(np.diag(dense).mean())
        info["mean_off_diagonal"] = float(off.mean()) if off.size else float("nan")
    else:
        info["nonzeros"] = int(sparse.nnz)
    if out is not None:
        write_matrix(out, ids, dense, sparse)
        info["written"] = str(out)
    return info


def write_matrix(out: Path, ids: list[str], dense: Any, sparse: Any) -> None:
    """.npy (+ .ids.tsv), a TSV table for dense, or TSV triplets (upper triangle)."""
    if out.suffix == ".npy":
        np.save(out, dense if dense is not None else sparse.toarray())
        io.write_table(out.with_suffix(".ids.tsv"), ["id"], [[a] for a in ids])
    elif dense is not None:
        io.write_table(out, ["id", *ids], [[a, *(f"{v:.6g}" for v in row)]
                                           for a, row in zip(ids, dense, strict=True)])
    else:
        coo = sparse.tocoo()
        keep = coo.row <= coo.col
        io.write_table(out, ["id1", "id2", "value"],
                       [[ids[i], ids[j], f"{v:.8g}"] for i, j, v in
                        zip(coo.row[keep], coo.col[keep], coo.data[keep], strict=True)])


def variance_components(data: Dataset, traits: list[str], fixed: list[str] | None,
                        opts: ModelOptions, method: str = "spectral",
                        relationship: Path | None = None,
                        progress: Progress = no_progress) -> dict[str, Any]:
    """Univariate (one trait) or bivariate (two traits) REML."""
    if opts.model == "bayes":
        raise UsageError("reml does not fit bayes", [Problem(
            reason="BayesR estimates h² by sampling; use `breed predict --model bayes`",
            fix="use --model pblup, gblup or ssgblup")])
    if len(traits) not in (1, 2):
        raise UsageError("one or two traits", [Problem(reason=f"{len(traits)} traits given",
                                                       fix="give --trait once or twice")])
    prep = prepare(data, traits[0], fixed, opts, relationship, progress)
    out: dict[str, Any] = {"model": opts.model, "traits": traits, "notes": prep.notes,
                           "records": len(prep.design.ids)}
    if len(traits) == 2:
        assert data.phenotypes is not None
        d2 = build(data.phenotypes, traits[1], fixed, keep=set(prep.kernel.ids))
        out.update(reml_bivariate(prep.kernel, prep.design, d2, progress=progress).to_dict())
        out["method"] = "ai"
        return out
    o = prep.kernel.positions(prep.design.ids)
    k = prep.kernel.columns(o)[o]
    vc = reml_ai(prep.design.y, prep.design.x, k, progress=progress) if method == "ai" \
        else reml_spectral(prep.design.y, prep.design.x, k)[0]
    out.update(vc.to_dict())
    out["fixed"] = {n: float(b) for n, b in zip(prep.design.columns, vc.fixed, strict=True)}
    return out


def predictions(data: Dataset, trait: str, fixed: list[str] | None, opts: ModelOptions,
                relationship: Path | None = None, iterations: int = 3000, seed: int = 1,
                progress: Progress = no_progress) -> tuple[dict[str, Any], Prediction | None,
                                                         Prepared]:
    """GEBVs for every animal the model can relate (ranked), with reliabilities."""
    prep = prepare(data, trait, fixed, opts, relationship, progress)
    body: dict[str, Any] = {"model": opts.model, "trait": trait, "notes": prep.notes,
                            "records": len(prep.design.ids)}
    if opts.model == "bayes":
        geno = prep.genotypes
        assert geno is not None
        rows = np.array([geno.index()[a] for a in prep.design.ids])
        fit = bayes_r(prep.design.y, prep.design.x, geno.dosages[rows], iterations,
                      iterations // 3, seed=seed, progress=progress)
        gebv = fit.predict(geno.dosages)
        order = np.argsort(-gebv, kind="stable")
        rec = set(prep.design.ids)
        body["ranking"] = [{"rank": r + 1, "id": geno.ids[i], "gebv": float(gebv[i]),
                            "phenotyped": geno.ids[i] in rec} for r, i in enumerate(order)]
        body["bayes"] = fit.summary()
        if not fit.converged:
            worst = {k: round(v["geweke_z"], 2) for k, v in fit.diagnostics.items()}
            body["notes"].append(f"Gibbs chains may not have converged (Geweke z {worst}, "
                                 "ESS below 50 or |z| above 2.5): run more --iterations")
        top = np.argsort(-fit.pip)[:10]
        body["top_snps"] = [{"snp": geno.snps[j], "pip": float(fit.pip[j]),
                             "effect": float(fit.effects[j])} for j in top]
        return body, None, prep
    pred = fit_predict(prep.kernel, prep.design, model=opts.model, progress=progress)
    body["variance_components"] = pred.vc.to_dict()
    body["fixed"] = pred.fixed()
    body["ranking"] = pred.ranking()
    return body, pred, prep


def cross_validation(data: Dataset, trait: str, fixed: list[str] | None, opts: ModelOptions,
                     folds: str, seed: int, repeats: int = 1, by_family: bool = False,
                     relationship: Path | None = None, iterations: int = 1500,
                     progress: Progress = no_progress) -> dict[str, Any]:
    """k-fold (``folds`` a number) or the breeder's folds (``folds`` a file)."""
    prep = prepare(data, trait, fixed, opts, relationship, progress)
    d = prep.design
    if folds.isdigit():
        fams = None
        if by_family:
            ped = data.pedigree
            if ped is None or not ped.family:
                fam_of = _families_from_parents(data)
            else:
                fam_of = dict(zip(ped.ids, ped.family, strict=True))
            missing = [a for a in d.ids if a not in fam_of]
            if missing:
                raise ValidationFailed("animals without a family", [Problem(
                    reason=f"animal {a} has no family (no family column or parents)",
                    record=a, fix="add a family column to the pedigree") for a in missing[:50]])
            fams = [fam_of[a] for a in d.ids]
        fold_arr = make_folds(len(d.ids), int(folds), seed, repeats, fams)
        how = f"{folds}-fold" + (" by family" if by_family else "") + \
            (f", {repeats} repeats" if repeats > 1 else "")
    else:
        fold_arr = parse_folds(Path(folds), d.ids)[None, :]
        how = f"folds from {folds}"
    if opts.model == "bayes":
        geno = prep.genotypes
        assert geno is not None
        rows = np.array([geno.index()[a] for a in d.ids])
        res = cross_validate_bayes(geno.dosages[rows], d.y, d.x, fold_arr, iterations,
                                   iterations // 3, seed, progress)
    else:
        res = cross_validate(prep.kernel, d, fold_arr, progress)
    return {"model": opts.model, "trait": trait, "folds_from": how, "seed": seed,
            "records": len(d.ids), "notes": prep.notes, **res.to_dict()}


def _families_from_parents(data: Dataset) -> dict[str, str]:
    ped = data.pedigree
    if ped is None:
        return {}
    return {a: f"{s}x{d}" for a, s, d in zip(ped.ids, ped.sire, ped.dam, strict=True)
            if s and d}


def sexes(data: Dataset) -> dict[str, str]:
    """Animal -> sex as recorded: the pedigree's sex column, else a phenotype factor named
    ``sex`` (its first letter, upper case: M, F …)."""
    ped = data.pedigree
    sex_of = {a: s for a, s in zip(ped.ids, ped.sex, strict=True) if s} \
        if ped is not None and ped.sex else {}
    if data.phenotypes is not None and "sex" in data.phenotypes.factors:
        for a, s in zip(data.phenotypes.ids, data.phenotypes.factors["sex"], strict=True):
            if s.strip():
                sex_of.setdefault(a, s.strip().upper()[:1])
    return sex_of


def mating_plan(data: Dataset, trait: str, fixed: list[str] | None, opts: ModelOptions,
                candidates: list[str] | None, matings: int, max_kinship: float | None,
                delta_f: float | None, max_contribution: float = 0.5,
                progress: Progress = no_progress) -> dict[str, Any]:
    """Rank, select by optimal contributions under a kinship limit, and pair the parents."""
    if opts.model == "bayes":
        raise UsageError("mate needs a relationship matrix", [Problem(
            reason="--model bayes has no relationship matrix for kinship",
            fix="use pblup, gblup or ssgblup")])
    _, pred, prep = predictions(data, trait, fixed, opts, progress=progress)
    assert pred is not None
    sex_of = sexes(data)
    ids = candidates or [a for a in pred.ids if a in sex_of]
    kern_idx = {a: i for i, a in enumerate(pred.ids)}
    unknown = [a for a in ids if a not in kern_idx]
    if unknown:
        raise ValidationFailed("unknown candidates", [Problem(
            reason=f"candidate {a} has no breeding value (not in the relationship matrix)",
            record=a, fix="check the candidate list") for a in unknown[:50]])
    pos = np.array([kern_idx[a] for a in ids], dtype=np.int64)
    kpos = prep.kernel.positions(ids)
    kin = prep.kernel.columns(kpos)[kpos] / 2.0
    ebv = pred.gebv[pos]
    sex = [sex_of.get(a, "") for a in ids]
    sel = optimal_contributions(ids, ebv, kin, sex, max_kinship, delta_f, max_contribution)
    plan = allocate(sel, ebv, kin, sex, matings)
    return {"model": opts.model, "trait": trait, "candidates": len(ids), **plan.to_dict()}
