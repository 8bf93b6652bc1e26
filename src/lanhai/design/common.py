"""What every design computation shares: the versions and solver behind a result, JSON-ready
numbers, the medium, the growth and product reactions, and the refusal of an infeasible model.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import cobra
import optlang
from cobra.util.solver import linear_reaction_coefficients

from lanhai.errors import Problem, ValidationFailed

#: a flux below this (absolute) counts as zero
TOLERANCE = 1e-6
#: decimals kept in JSON results, so that solver noise does not change a stored answer
DECIMALS = 9


def number(value: Any) -> float | None:
    """A float rounded to :data:`DECIMALS` (``-0.0`` as ``0.0``); ``None`` for NaN, None."""
    if value is None:
        return None
    out = float(value)
    if math.isnan(out):
        return None
    if math.isinf(out):
        return out
    out = round(out, DECIMALS)
    return 0.0 if out == 0 else out


def solver_name(model: cobra.Model) -> str:
    """The short name of the LP solver a model uses (``glpk``, ``scip``)."""
    name = str(model.solver.interface.__name__).rsplit(".", 1)[-1]
    return name.removesuffix("_interface").removesuffix("_exact")


def straindesign_version() -> str:
    try:
        return metadata.version("straindesign")
    except metadata.PackageNotFoundError:
        return "not installed"


def provenance(model: cobra.Model, solver: str | None = None, *, milp: bool = False
               ) -> dict[str, str]:
    """Which model, solver and library versions a result comes from (StrainDesign's too
    for a MILP design)."""
    found = {"model": str(model.id), "solver": solver or solver_name(model),
             "cobra": str(cobra.__version__), "optlang": str(optlang.__version__)}
    if milp:
        found["straindesign"] = straindesign_version()
    return found


def suggestions(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The closest ids to ``word`` (case-insensitive), best first."""
    pool = sorted(set(choices))
    lower = {c.lower(): c for c in pool}
    found = difflib.get_close_matches(word.lower(), list(lower), n=n, cutoff=0.6)
    return [lower[f] for f in found]


def closest(word: str, choices: Iterable[str]) -> str:
    """The closest ids to ``word`` as one text (``a, b``); empty when none is close."""
    return ", ".join(suggestions(word, choices))


def reaction(model: cobra.Model, rid: str, field: str) -> cobra.Reaction:
    """The model's reaction ``rid``; refuses an unknown id with the closest ids."""
    if rid in model.reactions:
        return model.reactions.get_by_id(rid)
    near = closest(rid, model.reactions.list_attr("id"))
    raise ValidationFailed(f"the reaction {rid} is not in the model {model.id}", [Problem(
        reason=f"is not a reaction of the model {model.id}", field=field, value=rid,
        fix=f"use a reaction id of the model (closest: {near})" if near
        else "use a reaction id of the model")])


def objective_terms(model: cobra.Model) -> dict[cobra.Reaction, float]:
    """The reactions in the model's (linear) objective and their coefficients, read from the
    objective's few variables (cobrapy's ``linear_reaction_coefficients`` walks every
    reaction)."""
    terms: dict[cobra.Reaction, float] = {}
    try:
        coefficients = model.objective.expression.as_coefficients_dict()
    except AttributeError:
        return {r: float(c) for r, c in linear_reaction_coefficients(model).items() if c != 0}
    for var, coef in coefficients.items():
        name = getattr(var, "name", None)
        if name in model.reactions:
            rxn = model.reactions.get_by_id(name)
            terms[rxn] = terms.get(rxn, 0.0) + float(coef)
    if not terms:  # a non-linear or unusual objective: cobrapy's full walk
        return {r: float(c) for r, c in linear_reaction_coefficients(model).items() if c != 0}
    return {r: c for r, c in terms.items() if c != 0}


def objective_text(model: cobra.Model) -> str:
    """The objective as ``1 Biomass_Ecoli_core`` (``none`` when there is none)."""
    terms = objective_terms(model)
    return " + ".join(f"{c:g} {r.id}" for r, c in sorted(terms.items(), key=lambda t: t[0].id)
                      ) or "none"


def growth_reaction(model: cobra.Model, rid: str | None = None) -> cobra.Reaction:
    """The reaction whose flux is growth: ``rid``, else the model's objective reaction."""
    if rid is not None:
        return reaction(model, rid, "growth")
    terms = sorted(objective_terms(model), key=lambda r: r.id)
    if len(terms) != 1:
        raise ValidationFailed(f"the model {model.id} has no single growth reaction", [Problem(
            reason=f"has {len(terms)} reactions in its objective, not one", field="growth",
            value=str(model.id), fix="name the biomass reaction to use as growth")])
    return terms[0]


def boundary_reaction(model: cobra.Model, product: str, field: str = "product"
                      ) -> tuple[cobra.Reaction, cobra.Metabolite]:
    """The exchange or demand reaction that takes ``product`` (a reaction or metabolite id)
    out of the model, with the metabolite it carries."""
    if product in model.reactions:
        rxn = model.reactions.get_by_id(product)
        if len(rxn.metabolites) != 1:
            raise ValidationFailed(f"the reaction {product} is not an exchange or demand", [
                Problem(reason="is not an exchange or demand reaction (one metabolite)",
                        field=field, value=product,
                        fix="give the product's exchange or demand reaction, or its metabolite")])
        return rxn, next(iter(rxn.metabolites))
    if product in model.metabolites:
        met = model.metabolites.get_by_id(product)
        for rxn in sorted(met.reactions, key=lambda r: r.id):
            if rxn.boundary and rxn.upper_bound > 0 and rxn.metabolites[met] < 0:
                return rxn, met
        raise ValidationFailed(f"the metabolite {product} has no export reaction", [Problem(
            reason="has no exchange or demand reaction that takes it out of the cell",
            field=field, value=product,
            fix="add an export (a demand reaction) for it, as adding a pathway does")])
    near = closest(product, [*model.reactions.list_attr("id"),
                             *model.metabolites.list_attr("id")])
    raise ValidationFailed(f"the product {product} is not in the model {model.id}", [Problem(
        reason=f"is neither a reaction nor a metabolite of the model {model.id}", field=field,
        value=product,
        fix=f"use an exchange reaction or metabolite id of the model (closest: {near})" if near
        else "use an exchange reaction or metabolite id of the model")])


def outflow(rxn: cobra.Reaction, met: cobra.Metabolite, flux: float) -> float:
    """How much of ``met`` the boundary reaction ``rxn`` takes out at ``flux``."""
    return -float(rxn.metabolites[met]) * flux


@dataclass(frozen=True)
class Medium:
    """A growth medium: exchange reaction id -> uptake bound (mmol/gDW/h), with a name."""

    uptake: Mapping[str, float]
    name: str = "the medium"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name,
                "uptake": {k: number(v) for k, v in sorted(self.uptake.items())}}


MediumLike = Medium | Mapping[str, float] | None


def as_medium(medium: MediumLike) -> Medium | None:
    if medium is None or isinstance(medium, Medium):
        return medium
    return Medium(dict(medium), "the medium given")


def apply_medium(model: cobra.Model, medium: MediumLike) -> None:
    """Set the model's medium (other exchanges closed to uptake); refuses exchanges the
    model lacks and negative bounds. Use inside ``with model:`` to undo it."""
    med = as_medium(medium)
    if med is None:
        return
    rxns = exchanges(model) or list(model.boundary)
    ids = {r.id for r in rxns}
    problems = []
    for rid, bound in sorted(med.uptake.items()):
        if rid not in ids:
            near = closest(rid, ids)
            problems.append(Problem(
                reason=f"is not an exchange reaction of the model {model.id}", field="medium",
                value=rid, fix=f"use one of the model's exchange reactions (closest: {near})"
                if near else "use one of the model's exchange reactions"))
        elif not isinstance(bound, int | float) or math.isnan(bound) or bound < 0:
            problems.append(Problem(
                reason="is not an uptake bound (a number of at least 0)", field="medium",
                value=f"{rid}={bound}", fix="give each exchange an uptake of 0 or more"))
    if problems:
        raise ValidationFailed(f"{med.name} cannot be set on the model {model.id}", problems)
    for rxn in rxns:  # as cobrapy's medium setter, over the exchanges found above
        bound = float(med.uptake.get(rxn.id, 0.0))
        if any(c < 0 for c in rxn.metabolites.values()):
            rxn.lower_bound = -bound
        else:
            rxn.upper_bound = bound


def exchanges(model: cobra.Model) -> list[cobra.Reaction]:
    """The model's exchange reactions: its ``EX_`` boundary reactions (BiGG's convention),
    else those cobrapy classifies as exchanges (slower on genome-scale models)."""
    found = [r for r in model.boundary if r.id.startswith("EX_")]
    return found or list(model.exchanges)


def current_medium(model: cobra.Model) -> dict[str, float | None]:
    """The uptake bound of every exchange open to uptake, as ``model.medium`` gives it."""
    medium: dict[str, float | None] = {}
    for rxn in exchanges(model):
        coefs = rxn.metabolites.values()
        if any(c < 0 for c in coefs) and rxn.lower_bound < 0:
            medium[rxn.id] = number(-rxn.lower_bound)
        elif any(c > 0 for c in coefs) and rxn.upper_bound > 0:
            medium[rxn.id] = number(rxn.upper_bound)
    return dict(sorted(medium.items()))


def infeasible(model: cobra.Model, medium: MediumLike, min_growth: float | None = None
               ) -> ValidationFailed:
    """The error for a model that has no feasible flux on its medium (or none growing at
    ``min_growth``), naming the medium and the fluxes the model forces."""
    med = as_medium(medium)
    name = med.name if med else "its own medium"
    forced = ", ".join(sorted(f"{r.id} >= {r.lower_bound:g}" for r in model.reactions
                              if r.lower_bound > 0)[:5])
    problems = [Problem(
        reason="leaves the model infeasible", field="medium", value=name,
        fix=("open the uptake of a carbon and energy source (for example EX_glc__D_e: 10) "
             f"or relax the fluxes the model forces: {forced}") if forced else
            "open the uptake of a carbon and energy source (for example EX_glc__D_e: 10)")]
    if min_growth:
        problems.append(Problem(reason="cannot be reached on this medium", field="min_growth",
                                value=f"{min_growth:g}",
                                fix="ask for less growth than FBA's maximum on this medium"))
    return ValidationFailed(f"the model {model.id} is infeasible on {name}", problems)


def optimum(model: cobra.Model, medium: MediumLike) -> float:
    """``slim_optimize`` of the model's current objective; refuses an infeasible model."""
    value = model.slim_optimize(error_value=math.nan)
    if math.isnan(value):
        raise infeasible(model, medium)
    return float(value)
