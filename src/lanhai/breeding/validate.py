"""Checks a breeder's data before any arithmetic, so that bad input is named precisely
(file, row, animal, SNP, what is valid, how to fix) and never fails deep inside."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np

from lanhai.breeding.data import Dataset, Genotypes, Pedigree
from lanhai.breeding.pedigree import code
from lanhai.errors import Problem, ValidationFailed

MODELS = ("pblup", "gblup", "ssgblup", "bayes")
MAX_LISTED = 50


def check_genotypes(geno: Genotypes, dosage: bool = False) -> None:
    """Every value is 0, 1, 2 or missing (NaN); with ``dosage`` any value in [0, 2]."""
    d = geno.dosages
    finite = ~np.isnan(d)
    bad = finite & ((d < 0) | (d > 2)) if dosage else finite & ~np.isin(d, (0.0, 1.0, 2.0))
    if not bad.any():
        _check_unique(geno.ids, "animal", geno.source)
        _check_unique(geno.snps, "SNP", geno.source)
        return
    rows, cols = np.nonzero(bad)
    valid = "a dosage between 0 and 2" if dosage else "0, 1, 2 (copies of the alternate " \
                                                      "allele) or missing"
    problems = [Problem(
        reason=f"genotype of animal {geno.ids[r]} at SNP {geno.snps[c]} is not {valid}",
        value=f"{d[r, c]:g}", row=int(r) + 1, column=geno.snps[c], record=geno.ids[r],
        file=geno.source or None,
        fix="recode genotypes as 0/1/2 with missing as NA (PLINK: 0/1/2/-9)")
        for r, c in zip(rows[:MAX_LISTED], cols[:MAX_LISTED], strict=True)]
    raise ValidationFailed(f"{int(bad.sum())} genotype value(s) are not valid", problems)


def _check_unique(ids: list[str], what: str, source: str) -> None:
    dup = [a for a, k in Counter(ids).items() if k > 1]
    if dup:
        raise ValidationFailed(f"duplicate {what} identifiers", [Problem(
            reason=f"{what} {a!r} appears more than once", record=a, file=source or None,
            fix=f"give every {what} one row / one identifier") for a in dup[:MAX_LISTED]])


def check_pedigree(ped: Pedigree) -> None:
    """Duplicates, own parent, sex conflicts, parents born after offspring, loops."""
    where = ped.source or None
    problems: list[Problem] = []
    counts = Counter(ped.ids)
    for a, k in counts.items():
        if k > 1:
            problems.append(Problem(reason=f"animal {a} has {k} rows in the pedigree",
                                    record=a, file=where, fix="keep one row per animal"))
    row_of = {a: i for i, a in enumerate(ped.ids)}
    sires = {s for s in ped.sire if s is not None}
    dams = {d for d in ped.dam if d is not None}
    for a in sorted(sires & dams):
        as_sire = next(ped.ids[i] for i, s in enumerate(ped.sire) if s == a)
        as_dam = next(ped.ids[i] for i, d in enumerate(ped.dam) if d == a)
        problems.append(Problem(
            reason=f"sex conflict: {a} is the sire of {as_sire} and the dam of {as_dam}",
            record=a, file=where, row=row_of[a] + 2 if a in row_of else None,
            fix="correct the sire or dam column of one of these offspring"))
    if ped.sex:
        for a, sex in zip(ped.ids, ped.sex, strict=True):
            if (sex == "F" and a in sires) or (sex == "M" and a in dams):
                role = "sire" if sex == "F" else "dam"
                problems.append(Problem(
                    reason=f"sex conflict: {a} is recorded as {sex} but used as a {role}",
                    record=a, column="sex", value=sex, row=row_of[a] + 2, file=where,
                    fix="correct the sex, or the parent columns that name this animal"))
    for i, (a, s, d) in enumerate(zip(ped.ids, ped.sire, ped.dam, strict=True)):
        if a in (s, d):
            problems.append(Problem(reason=f"{a} is its own parent", record=a, row=i + 2,
                                    file=where, fix="correct the sire/dam of this animal"))
    if ped.birth is not None:
        birth = ped.birth
        for i, (a, s, d) in enumerate(zip(ped.ids, ped.sire, ped.dam, strict=True)):
            for role, p in (("sire", s), ("dam", d)):
                if p is None or p not in row_of:
                    continue
                bp, bo = birth[row_of[p]], birth[i]
                if not (np.isnan(bp) or np.isnan(bo)) and bp >= bo:
                    problems.append(Problem(
                        reason=f"{role} {p} (born {_fmt(bp)}) is not born before its "
                               f"offspring {a} (born {_fmt(bo)})",
                        record=a, column="birth", row=i + 2, file=where,
                        fix=f"correct the birth date of {p} or {a}, or the {role} of {a}"))
    if problems:
        raise ValidationFailed(f"the pedigree has {len(problems)} problem(s)",
                               problems[:MAX_LISTED])
    code(ped)  # raises on a loop, naming it


def _fmt(x: float) -> str:
    if float(x).is_integer():
        return f"{int(x)}"
    year = int(x)
    day = round((x - year) * 366.0)
    return (dt.date(year, 1, 1) + dt.timedelta(days=day)).isoformat()


def check_dataset(data: Dataset, trait: str | None, model: str) -> None:
    """The files fit together for ``model``: each phenotyped animal has a genotype or
    pedigree as the model needs, and the model has the inputs it requires."""
    if model not in MODELS:
        raise ValidationFailed(f"unknown model {model!r}", [Problem(
            reason=f"no model {model!r}", value=model, fix=f"use one of {', '.join(MODELS)}")])
    need_geno = model in ("gblup", "ssgblup", "bayes")
    need_ped = model in ("pblup", "ssgblup")
    missing = []
    if need_geno and data.genotypes is None:
        missing.append("genotypes (--genotypes)")
    if need_ped and data.pedigree is None:
        missing.append("a pedigree (--pedigree)")
    if data.phenotypes is None:
        missing.append("phenotypes (--phenotypes)")
    if missing:
        raise ValidationFailed(f"model {model} needs more input", [Problem(
            reason=f"model {model} needs {m}", fix=f"give {m}, or choose another --model")
            for m in missing])
    phen = data.phenotypes
    assert phen is not None
    genotyped = set(data.genotypes.ids) if data.genotypes is not None else set()
    in_ped: set[str] = set()
    if data.pedigree is not None:
        in_ped = set(data.pedigree.ids) | {p for p in data.pedigree.sire if p} | \
            {p for p in data.pedigree.dam if p}
    known = (genotyped if model in ("gblup", "bayes") else set()) | \
        (in_ped if model == "pblup" else set()) | \
        (genotyped | in_ped if model == "ssgblup" else set())
    traits = [trait] if trait else list(phen.traits)
    observed = np.zeros(len(phen.ids), bool)
    for t in traits:
        if t in phen.traits:
            observed |= ~np.isnan(phen.traits[t])
    orphans = [(i, a) for i, a in enumerate(phen.ids) if observed[i] and a not in known]
    if orphans:
        have = {"gblup": "a genotype", "bayes": "a genotype", "pblup": "a pedigree row",
                "ssgblup": "a genotype or a pedigree row"}[model]
        problems = [Problem(
            reason=f"animal {a} has a phenotype but no {have.split(' or ')[0][2:]}"
                   + (" and no pedigree row" if model == "ssgblup" else "")
                   + f", so model {model} cannot relate it to any other animal",
            record=a, row=i + 2, file=phen.source or None,
            fix=f"add {have} for {a}, correct its identifier, or remove its record")
            for i, a in orphans[:MAX_LISTED]]
        raise ValidationFailed(f"{len(orphans)} phenotyped animal(s) cannot be related to "
                               f"the others", problems)
