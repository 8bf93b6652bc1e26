"""Fixed-effect design matrices with named columns, and a collinearity check that names
the effects and levels involved."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lanhai.breeding.data import FloatArray, Phenotypes
from lanhai.errors import Problem, ValidationFailed


@dataclass
class Design:
    """Records of one trait: animals, y, and the fixed-effect matrix X with column names."""

    trait: str
    ids: list[str]
    y: FloatArray
    x: FloatArray
    columns: list[str]


def build(phen: Phenotypes, trait: str, fixed: list[str] | None = None,
          keep: set[str] | None = None) -> Design:
    """X = [intercept, factor dummies (first level absorbed), covariates] for the records
    of ``trait`` that are observed (and, if given, whose animal is in ``keep``).

    ``fixed`` names the factors/covariates to use (default: all in the file).
    Raises ValidationFailed for an unknown trait or effect, an all-missing trait, a missing
    fixed-effect value, or collinear fixed effects.
    """
    where = phen.source or None
    if trait not in phen.traits:
        raise ValidationFailed(f"no trait {trait!r}", [Problem(
            reason=f"the phenotype file has no trait {trait!r}", column=trait, file=where,
            fix=f"use one of: {', '.join(phen.traits) or '(no trait columns)'}")])
    names = list(phen.factors) + list(phen.covariates) if fixed is None else fixed
    unknown = [f for f in names if f not in phen.factors and f not in phen.covariates]
    if unknown:
        raise ValidationFailed("unknown fixed effect", [Problem(
            reason=f"no fixed-effect column {f!r}", column=f, file=where,
            fix="use one of: " + ", ".join([*phen.factors, *phen.covariates]))
            for f in unknown])
    values = phen.traits[trait]
    use = ~np.isnan(values)
    if keep is not None:
        use &= np.array([a in keep for a in phen.ids])
    if not use.any():
        raise ValidationFailed(f"trait {trait!r} has no usable record", [Problem(
            reason=f"every value of trait {trait!r} is missing"
                   + (" among animals with a genotype or pedigree" if keep is not None else ""),
            column=trait, file=where, fix="check the column name and the missing-value codes "
                                          "(empty, NA, . are missing)")])
    rows = np.flatnonzero(use)
    problems: list[Problem] = []
    cols: list[FloatArray] = [np.ones(len(rows))]
    colnames = ["intercept"]
    for name in names:
        if name in phen.factors:
            levels = [phen.factors[name][i] for i in rows]
            missing = [i for i, v in zip(rows, levels, strict=True) if v == ""]
            if missing:
                problems.append(Problem(
                    reason=f"fixed effect {name!r} is missing for {len(missing)} record(s) "
                           f"with trait {trait!r} (first: animal {phen.ids[missing[0]]})",
                    column=name, row=int(missing[0]) + 2, file=where,
                    fix="give every record a level, or drop the effect with --fixed"))
                continue
            uniq = sorted(set(levels))
            for lev in uniq[1:]:
                cols.append(np.array([v == lev for v in levels], dtype=float))
                colnames.append(f"{name}={lev}")
            if len(uniq) == 1:
                problems.append(Problem(
                    reason=f"fixed effect {name!r} has one level ({uniq[0]!r}) among the "
                           f"records of {trait!r}, so it is collinear with the mean",
                    column=name, file=where, fix=f"drop {name!r} from the model"))
        else:
            v = phen.covariates[name][rows]
            if np.isnan(v).any():
                first = int(rows[np.flatnonzero(np.isnan(v))[0]])
                problems.append(Problem(
                    reason=f"covariate {name!r} is missing for {int(np.isnan(v).sum())} "
                           f"record(s) of {trait!r} (first: animal {phen.ids[first]})",
                    column=name, row=first + 2, file=where,
                    fix="fill the covariate or drop it with --fixed"))
                continue
            cols.append(v.astype(float))
            colnames.append(name)
    if problems:
        raise ValidationFailed("fixed effects cannot be used", problems)
    x = np.column_stack(cols)
    check_collinear(x, colnames, trait, where)
    return Design(trait, [phen.ids[i] for i in rows], values[rows].astype(float), x, colnames)


def check_collinear(x: FloatArray, names: list[str], trait: str, where: str | None) -> None:
    """Raise ValidationFailed naming the effects/levels of each linear dependency in X."""
    if x.shape[0] < x.shape[1]:
        raise ValidationFailed("more fixed-effect levels than records", [Problem(
            reason=f"{x.shape[1]} fixed-effect columns but only {x.shape[0]} records of "
                   f"{trait!r}", file=where, fix="use fewer fixed effects or levels")])
    scale = np.sqrt((x * x).sum(0))
    scale[scale == 0] = 1.0
    xs = x / scale
    _, s, vt = np.linalg.svd(xs, full_matrices=False)
    tol = s.max() * max(x.shape) * 1e-10
    null = vt[s <= tol]
    if not len(null):
        return
    problems = []
    for vec in null:
        big = np.flatnonzero(np.abs(vec) > 1e-6 * np.abs(vec).max())
        involved = [names[j] for j in big]
        problems.append(Problem(
            reason="collinear fixed effects: " + ", ".join(involved) + " are linearly "
                   "dependent (one is a combination of the others, e.g. every record of a "
                   "level is also in one level of another effect)",
            field=involved[-1], file=where,
            fix="drop one of these effects, or merge the confounded levels"))
    raise ValidationFailed(f"collinear fixed effects for trait {trait!r}", problems)
