"""Heterologous pathways: reactions from the bank's parts added to a chassis model, each
checked before anything is added (known metabolites, mass and charge balance), then the
product checked to be producible, with an export reaction for it; and the ranking of
candidate enzymes for a missing step.

An equation is written over the model's metabolite ids, substrates first:
``gdpfuc_c + lcts_c -> 2fl_c + gdp_c + h_c``; ``<=>`` is reversible, ``->`` and ``-->``
irreversible, a coefficient is a number before the id (``2 accoa_c``). A metabolite the
model lacks is declared with its formula and charge; its id ends in ``_<compartment>``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cobra

from lanhai.design.chassis import balance
from lanhai.design.common import (
    TOLERANCE,
    MediumLike,
    apply_medium,
    number,
    provenance,
    suggestions,
)
from lanhai.design.equations import Equation as Equation  # re-exported for callers
from lanhai.design.equations import normal_ec as normal_ec
from lanhai.design.equations import parse_equation as parse_equation
from lanhai.errors import Problem, UsageError, ValidationFailed

#: the default flux bound of an added reaction (mmol/gDW/h), cobrapy's
DEFAULT_BOUND = 1000.0
_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_FORMULA = re.compile(r"^(?:[A-Z][a-z]?\d*)+$")
_GENE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:\-]*$")


@dataclass(frozen=True)
class MetaboliteSpec:
    """A metabolite the model lacks: its id (``<name>_<compartment>``), formula and charge."""

    id: str
    name: str
    formula: str
    charge: int
    compartment: str | None = None


@dataclass(frozen=True)
class ReactionSpec:
    """One reaction a part (``part``: its accession) catalyses, to add to a model."""

    part: str
    id: str
    name: str
    equation: str
    ec: str | None = None
    gene: str | None = None
    lower_bound: float | None = None
    upper_bound: float | None = None


@dataclass(frozen=True)
class AddedReaction:
    """A reaction added to the model, with its balance."""

    id: str
    name: str
    part: str
    equation: str
    ec: str | None
    gene: str | None
    lower_bound: float
    upper_bound: float
    balanced: bool | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "part": self.part, "equation": self.equation,
                "ec": self.ec, "gene": self.gene, "lower_bound": number(self.lower_bound),
                "upper_bound": number(self.upper_bound), "balanced": self.balanced}


@dataclass(frozen=True)
class PathwayReport:
    """What adding a pathway did: the reactions and metabolites added, the export reaction of
    the product, how much of it the model can make, and what could not be checked."""

    model_id: str
    product: str
    export: str
    export_added: bool
    max_product_flux: float
    reactions: list[AddedReaction]
    metabolites: list[str]
    warnings: list[str] = field(default_factory=list)
    provenance: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "product": self.product, "export": self.export,
                "export_added": self.export_added,
                "max_product_flux": number(self.max_product_flux),
                "reactions": [r.as_dict() for r in sorted(self.reactions, key=lambda r: r.id)],
                "metabolites": sorted(self.metabolites), "warnings": list(self.warnings),
                "provenance": dict(sorted(self.provenance.items()))}


def _check_metabolites(model: cobra.Model, specs: Sequence[MetaboliteSpec]
                       ) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for spec in specs:
        where = f"metabolite {spec.id}"
        suffix = spec.id.rsplit("_", 1)[-1] if "_" in spec.id else ""
        if spec.id in model.metabolites:
            problems.append(Problem(reason=f"is already in the model {model.id}", field="id",
                                    value=spec.id, record=where,
                                    fix="use the model's metabolite; declare only new ones"))
        if spec.id in seen:
            problems.append(Problem(reason="is declared twice", field="id", value=spec.id,
                                    record=where, fix="declare each metabolite once"))
        seen.add(spec.id)
        if not _ID.match(spec.id) or suffix not in model.compartments:
            problems.append(Problem(
                reason="does not end in _<compartment> of the model", field="id",
                value=spec.id, record=where,
                fix="name it <name>_<compartment>, the compartment one of: "
                    + ", ".join(sorted(model.compartments))))
        elif spec.compartment is not None and spec.compartment != suffix:
            problems.append(Problem(
                reason=f"is in compartment {spec.compartment} but its id ends in _{suffix}",
                field="compartment", value=spec.compartment, record=where,
                fix="make the id's suffix and the compartment agree"))
        if not _FORMULA.match(spec.formula or ""):
            problems.append(Problem(
                reason="is not a chemical formula", field="formula", value=spec.formula,
                record=where, fix="write the formula of the charged form, as C6H11O9P"))
        if not isinstance(spec.charge, int) or isinstance(spec.charge, bool):
            problems.append(Problem(reason="is not a whole number", field="charge",
                                    value=str(spec.charge), record=where,
                                    fix="give the charge at pH 7.2 as an integer (-2)"))
    return problems


def _difference(diff: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:+g}" for k, v in sorted(diff.items()))


def _new_metabolites(model: cobra.Model, specs: Sequence[MetaboliteSpec]
                     ) -> dict[str, cobra.Metabolite]:
    return {s.id: cobra.Metabolite(s.id, name=s.name or s.id,
                                   formula=s.formula if _FORMULA.match(s.formula or "") else None,
                                   charge=s.charge,
                                   compartment=s.compartment or s.id.rsplit("_", 1)[-1])
            for s in specs}


def _check_reaction(model: cobra.Model, spec: ReactionSpec, new: Mapping[str, cobra.Metabolite],
                    seen: set[str]) -> tuple[list[Problem], cobra.Reaction | None, list[str]]:
    """Problems of one spec, else the reaction built (not added) and its warnings."""
    where = f"reaction {spec.id} (part {spec.part})"
    problems: list[Problem] = []
    warnings: list[str] = []
    if not spec.part or not spec.part.strip() or any(c.isspace() for c in spec.part):
        problems.append(Problem(reason="is not a part accession", field="part",
                                value=spec.part, record=where,
                                fix="give the accession of the part (LHPT…) that catalyses it"))
    if not _ID.match(spec.id or ""):
        problems.append(Problem(reason="is not a reaction id", field="id", value=spec.id,
                                record=where, fix="use letters, digits and _ (FUCT2)"))
    elif spec.id in model.reactions or spec.id in seen:
        problems.append(Problem(reason=f"is already a reaction of the model {model.id}",
                                field="id", value=spec.id, record=where,
                                fix="give the added reaction a new id"))
    seen.add(spec.id)
    ec = None
    if spec.ec:
        ec = normal_ec(spec.ec)
        if ec is None:
            problems.append(Problem(reason="is not an EC number", field="ec", value=spec.ec,
                                    record=where, fix="write four parts, as 2.4.1.69 or 2.4.1.-"))
    if spec.gene is not None and not _GENE.match(spec.gene):
        problems.append(Problem(reason="is not a gene id", field="gene", value=spec.gene,
                                record=where, fix="use one word: letters, digits, _ . : -"))
    try:
        eq = parse_equation(spec.equation, where)
    except ValidationFailed as err:
        return problems + err.problems, None, warnings
    metabolites: dict[cobra.Metabolite, float] = {}
    for mid, coef in eq.coefficients.items():
        if mid in model.metabolites:
            metabolites[model.metabolites.get_by_id(mid)] = coef
        elif mid in new:
            metabolites[new[mid]] = coef
        else:
            close = suggestions(mid, [*model.metabolites.list_attr("id"), *new])
            problems.append(Problem(
                reason=f"is not a metabolite of the model {model.id}", field="equation",
                value=mid, record=where,
                fix=(f"did you mean {', '.join(close)}? " if close else "")
                + "use the model's metabolite id, or declare the new metabolite with its "
                  "formula and charge"))
    low = -DEFAULT_BOUND if eq.reversible else 0.0
    lower = low if spec.lower_bound is None else float(spec.lower_bound)
    upper = DEFAULT_BOUND if spec.upper_bound is None else float(spec.upper_bound)
    if math.isnan(lower) or math.isnan(upper) or lower > upper:
        problems.append(Problem(reason="are not bounds (lower <= upper)", field="bounds",
                                value=f"{lower:g}..{upper:g}", record=where,
                                fix="give a lower bound at most the upper bound"))
    elif not eq.reversible and lower < 0:
        problems.append(Problem(
            reason="let an irreversible reaction run backwards", field="lower_bound",
            value=f"{lower:g}", record=where,
            fix="write <=> for a reversible reaction, or a lower bound of 0 or more"))
    if problems:
        return problems, None, warnings
    rxn = cobra.Reaction(spec.id, name=spec.name or spec.id, lower_bound=lower,
                         upper_bound=upper)
    rxn.add_metabolites(metabolites)
    diff = balance(rxn)
    if diff is None:
        missing = sorted(m.id for m in rxn.metabolites if not m.formula or m.charge is None)
        warnings.append(f"the balance of {spec.id} cannot be checked: "
                        f"{', '.join(missing)} {'has' if len(missing) == 1 else 'have'} "
                        "no formula or charge in the model")
    elif diff:
        elements = {k: v for k, v in diff.items() if k != "charge"}
        if elements:
            problems.append(Problem(
                reason=f"is not mass balanced: products minus substrates {_difference(elements)}",
                field="equation", value=spec.equation, record=where,
                fix="correct the coefficients, or the declared formulas, so every element "
                    "balances (add h_c or h2o_c if they are missing)"))
        if "charge" in diff:
            problems.append(Problem(
                reason=f"is not charge balanced: products minus substrates charge "
                       f"{diff['charge']:+g}",
                field="equation", value=spec.equation, record=where,
                fix="correct the coefficients or the declared charges (protons: h_c)"))
        if problems:
            return problems, None, warnings
    if spec.gene:
        rxn.gene_reaction_rule = spec.gene
    rxn.annotation = {"lanhai.part": spec.part, **({"ec-code": ec} if ec else {})}
    return [], rxn, warnings


def _export(model: cobra.Model, met: cobra.Metabolite) -> tuple[cobra.Reaction, bool]:
    """The reaction taking ``met`` out of the model: its existing exchange or demand, else a
    new demand reaction ``DM_<id>``."""
    for rxn in sorted(met.reactions, key=lambda r: r.id):
        if rxn.boundary and rxn.metabolites[met] < 0 and rxn.upper_bound > 0:
            return rxn, False
    rxn = model.add_boundary(met, type="demand", reaction_id=f"DM_{met.id}")
    rxn.name = f"export of {met.name or met.id}"
    return rxn, True


def _unblocks(model: cobra.Model, rxn: cobra.Reaction, met: cobra.Metabolite) -> bool:
    """Whether supplying ``met`` from outside lets ``rxn`` carry flux."""
    with model:
        source = cobra.Reaction(f"LANHAI_SOURCE_{met.id}", lower_bound=0.0,
                                upper_bound=DEFAULT_BOUND)
        source.add_metabolites({met: 1.0})
        model.add_reactions([source])
        model.objective = rxn
        value = model.slim_optimize(error_value=math.nan)
    return not math.isnan(value) and value > TOLERANCE


def _diagnose(model: cobra.Model, added: Sequence[cobra.Reaction], product: str
              ) -> list[Problem]:
    """Why the product cannot be made: the added reactions that are blocked, and which of
    their substrates the model cannot make (those whose supply alone unblocks them)."""
    problems: list[Problem] = []
    fva = cobra.flux_analysis.flux_variability_analysis(
        model, reaction_list=[r.id for r in added], fraction_of_optimum=0.0, processes=1)
    for rxn in sorted(added, key=lambda r: r.id):
        low, high = fva.loc[rxn.id, "minimum"], fva.loc[rxn.id, "maximum"]
        if abs(low) > TOLERANCE or abs(high) > TOLERANCE:
            continue
        substrates = sorted(m.id for m, c in rxn.metabolites.items() if c < 0)
        missing = [mid for mid in substrates
                   if _unblocks(model, rxn, model.metabolites.get_by_id(mid))]
        reason = (f"is blocked: the model cannot make {', '.join(missing)}" if missing
                  else "is blocked: no single substrate's supply unblocks it, or nothing "
                       "takes its products onward")
        problems.append(Problem(
            reason=reason, record=f"reaction {rxn.id}", value=rxn.build_reaction_string(),
            fix=(f"add the reactions (parts) that make {', '.join(missing)}, or give "
                 "it in the medium") if missing else
                f"connect the pathway's products to {product}"))
    if not problems:
        problems.append(Problem(
            reason="cannot be made although every added reaction can carry flux",
            value=product, field="product",
            fix="check the medium and the reactions leading to the product"))
    return problems


def add_pathway(model: cobra.Model, reactions: Sequence[ReactionSpec], product: str,
                metabolites: Sequence[MetaboliteSpec] = (), *, medium: MediumLike = None
                ) -> PathwayReport:
    """Add the reactions of parts to ``model`` (in place; copy it first to keep the chassis)
    and an export for ``product`` (a metabolite id). Every check runs before anything is
    added; when the product then cannot be made (FBA maximum of its export is 0, on
    ``medium`` or the model's own), everything added is removed again and the error names
    the blocked reactions and the metabolites the model cannot make."""
    if not reactions:
        raise UsageError("a pathway needs at least one reaction", [Problem(
            reason="has no reactions", field="reactions",
            fix="give the reactions of the parts to add")])
    problems = _check_metabolites(model, metabolites)
    new = _new_metabolites(model, metabolites)
    built: list[cobra.Reaction] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for spec in reactions:
        found, rxn, notes = _check_reaction(model, spec, new, seen)
        problems += found
        warnings += notes
        if rxn is not None:
            built.append(rxn)
    if product not in model.metabolites and product not in new:
        problems.append(Problem(
            reason=f"is not a metabolite of the model {model.id} or of the pathway",
            field="product", value=product,
            fix="name the product's metabolite id" + (
                f" (closest: {', '.join(close)})"
                if (close := suggestions(product, [*model.metabolites.list_attr("id"), *new]))
                else "")))
    used = {m.id for r in built for m in r.metabolites}
    for mid in sorted(set(new) - used):
        warnings.append(f"the declared metabolite {mid} is used by no added reaction")
    if problems:
        raise ValidationFailed(
            f"the pathway cannot be added to {model.id}: {len(problems)} "
            f"problem{'s' if len(problems) != 1 else ''}", problems)
    model.add_reactions(built)
    met = model.metabolites.get_by_id(product)
    export, export_added = _export(model, met)
    added_mets = sorted(m for m in new if m in model.metabolites)
    try:
        with model:
            apply_medium(model, medium)
            model.objective = export
            best = model.slim_optimize(error_value=math.nan)
            if math.isnan(best) or best <= TOLERANCE:
                failure = _diagnose(model, built, product)
                raise ValidationFailed(
                    f"the pathway cannot make {product} in {model.id}", failure)
    except ValidationFailed:
        model.remove_reactions([*built, *([export] if export_added else [])],
                               remove_orphans=False)
        model.remove_metabolites([model.metabolites.get_by_id(m) for m in added_mets
                                  if m in model.metabolites])
        raise
    added = [AddedReaction(
        id=r.id, name=r.name, part=s.part, equation=r.build_reaction_string(),
        ec=normal_ec(s.ec) if s.ec else None, gene=s.gene, lower_bound=r.lower_bound,
        upper_bound=r.upper_bound, balanced=balance(r) == {} if balance(r) is not None else None)
        for s, r in zip(reactions, built, strict=True)]
    return PathwayReport(model_id=str(model.id), product=product, export=export.id,
                         export_added=export_added, max_product_flux=best, reactions=added,
                         metabolites=added_mets, warnings=sorted(warnings),
                         provenance=provenance(model))


# -- enzymes for a missing step ----------------------------------------------------------------


@dataclass(frozen=True)
class EnzymeMatch:
    """A candidate protein for a step, with how well it matches and why."""

    accession: str
    score: float
    reason: str
    organism: str | None
    ec: tuple[str, ...]
    family: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"accession": self.accession, "score": number(self.score),
                "reason": self.reason, "organism": self.organism, "ec": list(self.ec),
                "family": list(self.family)}


def _words(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = re.split(r"[;,|\s]+", value) if isinstance(value, str) else list(value)
    return tuple(sorted({str(i).strip() for i in items if str(i).strip()}))


def _ec_score(wanted: str, have: str) -> tuple[float, str]:
    """How close EC ``have`` is to ``wanted`` (wildcards ``-`` in ``wanted`` match all)."""
    w, h = wanted.split("."), have.split(".")
    depth = 0
    for a, b in zip(w, h, strict=True):
        if a == "-" or a == b:
            depth += 1
        else:
            break
    if depth == 4:
        exact = "-" not in wanted
        return (1.0 if exact else 0.9), f"EC {have} {'is' if exact else 'is within'} {wanted}"
    if depth == 3:
        return 0.6, f"EC {have} shares the sub-subclass {'.'.join(h[:3])}.-"
    return 0.0, ""


def suggest_enzymes(ec_or_family: str, candidates: Iterable[Mapping[str, Any]], *,
                    organism: str | None = None, limit: int = 20) -> list[EnzymeMatch]:
    """Rank the caller's candidate proteins for a step given by EC number (``2.4.1.69``,
    ``2.4.1.-``) or protein family (``GT11``, ``PF03254``). Each candidate is a mapping with
    ``accession`` and any of ``ec`` / ``ec_numbers``, ``family`` / ``families``,
    ``organism``. Exact EC 1.0, within a wildcard EC 0.9, same sub-subclass 0.6, same family
    0.8; a candidate from ``organism`` gains 0.05. Ties go by accession."""
    query = ec_or_family.strip()
    if not query:
        raise UsageError("an EC number or a family is needed", [Problem(
            reason="is empty", field="ec_or_family",
            fix="give an EC number (2.4.1.69) or a family (GT11)")])
    ec = normal_ec(query)
    matches: list[EnzymeMatch] = []
    for cand in candidates:
        accession = str(cand.get("accession") or "").strip()
        if not accession:
            continue
        ecs = tuple(e for e in (normal_ec(x) for x in _words(
            cand.get("ec", cand.get("ec_numbers")))) if e)
        families = _words(cand.get("family", cand.get("families")))
        score, reason = 0.0, ""
        if ec is not None:
            for have in ecs:
                s, r = _ec_score(ec, have)
                if s > score:
                    score, reason = s, r
        else:
            key = query.lower()
            for fam in families:
                if fam.lower() == key or fam.lower().split(".")[0] == key:
                    score, reason = 0.8, f"family {fam}"
                    break
        if score <= 0:
            continue
        org = cand.get("organism")
        org_text = str(org) if org else None
        if organism and org_text and organism.strip().lower() == org_text.strip().lower():
            score += 0.05
            reason += f"; from {org_text}"
        matches.append(EnzymeMatch(accession, score, reason, org_text, ecs, families))
    matches.sort(key=lambda m: (-m.score, m.accession))
    return matches[:max(0, limit)]
