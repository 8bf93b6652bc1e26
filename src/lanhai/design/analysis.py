"""Flux analyses of a chassis: FBA, parsimonious FBA, flux variability, the production
envelope, the maximum theoretical yield of a product on a carbon source, and single and
double gene or reaction deletions.

Every function leaves the model as it found it (the medium, bounds and objective are set
inside ``with model:``) and returns a result whose ``as_dict()`` is JSON-ready and
deterministic: sorted keys and lists, numbers rounded to 1e-9, the solver and library
versions in ``provenance``. Fluxes are in mmol/gDW/h, growth in 1/h.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cobra
from cobra.flux_analysis import (
    double_gene_deletion,
    double_reaction_deletion,
    flux_variability_analysis,
    pfba,
    production_envelope,
    single_gene_deletion,
    single_reaction_deletion,
)

from lanhai.design.common import (
    TOLERANCE,
    MediumLike,
    apply_medium,
    as_medium,
    boundary_reaction,
    closest,
    current_medium,
    growth_reaction,
    infeasible,
    number,
    objective_text,
    optimum,
    outflow,
    provenance,
    reaction,
)
from lanhai.errors import Problem, UsageError, ValidationFailed

#: the most pairs a double deletion computes in one call
MAX_PAIRS = 20_000
DeletionKind = Literal["gene", "reaction"]


def _fluxes(values: Mapping[str, float], nonzero: bool) -> dict[str, float | None]:
    return {k: number(v) for k, v in sorted(values.items())
            if not nonzero or abs(v) > TOLERANCE}


@dataclass(frozen=True)
class FluxResult:
    """An FBA or pFBA flux distribution."""

    method: str
    objective: str
    objective_value: float
    total_flux: float | None
    fluxes: Mapping[str, float]
    medium: Mapping[str, float | None]
    provenance: Mapping[str, str]

    def as_dict(self, nonzero: bool = False) -> dict[str, Any]:
        return {"method": self.method, "objective": self.objective,
                "objective_value": number(self.objective_value),
                "total_flux": number(self.total_flux),
                "fluxes": _fluxes(self.fluxes, nonzero), "medium": dict(self.medium),
                "provenance": dict(sorted(self.provenance.items()))}


def fba(model: cobra.Model, *, medium: MediumLike = None, objective: str | None = None
        ) -> FluxResult:
    """Flux balance analysis: maximise the objective (``objective``: a reaction id, else
    the model's own) on ``medium`` (else the model's own)."""
    with model:
        apply_medium(model, medium)
        if objective is not None:
            model.objective = reaction(model, objective, "objective")
        with warnings.catch_warnings():  # an infeasible model is refused below instead
            warnings.simplefilter("ignore", UserWarning)
            solution = model.optimize(raise_error=False)
        if solution.status != "optimal":
            raise infeasible(model, medium)
        return FluxResult("fba", objective_text(model), float(solution.objective_value),
                          None, solution.fluxes.to_dict(), current_medium(model),
                          provenance(model))


def parsimonious(model: cobra.Model, *, medium: MediumLike = None,
                 fraction_of_optimum: float = 1.0) -> FluxResult:
    """Parsimonious FBA: the optimum with the least total flux (``total_flux``)."""
    with model:
        apply_medium(model, medium)
        best = optimum(model, medium)
        objective = objective_text(model)
        try:
            solution = pfba(model, fraction_of_optimum=fraction_of_optimum)
        except cobra.exceptions.Infeasible:
            raise infeasible(model, medium) from None
        fluxes = solution.fluxes.to_dict()
        total = sum(abs(v) for v in fluxes.values())
        return FluxResult("pfba", objective, best * fraction_of_optimum, total, fluxes,
                          current_medium(model), provenance(model))


@dataclass(frozen=True)
class FVAResult:
    """Flux ranges at a fraction of the optimum."""

    objective: str
    objective_value: float
    fraction_of_optimum: float
    ranges: Mapping[str, tuple[float, float]]
    medium: Mapping[str, float | None]
    provenance: Mapping[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"objective": self.objective, "objective_value": number(self.objective_value),
                "fraction_of_optimum": number(self.fraction_of_optimum),
                "ranges": {k: {"minimum": number(lo), "maximum": number(hi)}
                           for k, (lo, hi) in sorted(self.ranges.items())},
                "medium": dict(self.medium), "provenance": dict(sorted(self.provenance.items()))}


def fva(model: cobra.Model, *, reactions: Sequence[str] | None = None,
        fraction_of_optimum: float = 1.0, medium: MediumLike = None, loopless: bool = False
        ) -> FVAResult:
    """Flux variability analysis of ``reactions`` (all by default) with the objective held
    at ``fraction_of_optimum`` (0..1) of its optimum; one process. ``loopless`` removes
    thermodynamically infeasible loops (CycleFreeFlux), at a cost in time."""
    if not 0.0 <= fraction_of_optimum <= 1.0:
        raise UsageError(f"a fraction of the optimum of {fraction_of_optimum} is impossible", [
            Problem(reason="is not between 0 and 1", field="fraction_of_optimum",
                    value=str(fraction_of_optimum), fix="give a fraction such as 0.9")])
    with model:
        apply_medium(model, medium)
        best = optimum(model, medium)
        ids = sorted(reaction(model, r, "reactions").id for r in reactions) if reactions \
            else sorted(model.reactions.list_attr("id"))
        frame = flux_variability_analysis(model, reaction_list=ids,
                                          loopless="cycleFreeFlux" if loopless else None,
                                          fraction_of_optimum=fraction_of_optimum, processes=1)
        ranges = {rid: (float(frame.loc[rid, "minimum"]), float(frame.loc[rid, "maximum"]))
                  for rid in ids}
        return FVAResult(objective_text(model), best, fraction_of_optimum, ranges,
                         current_medium(model), provenance(model))


@dataclass(frozen=True)
class EnvelopePoint:
    growth: float
    product_min: float
    product_max: float
    carbon_yield_min: float | None
    carbon_yield_max: float | None
    mass_yield_min: float | None
    mass_yield_max: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"growth": number(self.growth), "product_min": number(self.product_min),
                "product_max": number(self.product_max),
                "carbon_yield_min": number(self.carbon_yield_min),
                "carbon_yield_max": number(self.carbon_yield_max),
                "mass_yield_min": number(self.mass_yield_min),
                "mass_yield_max": number(self.mass_yield_max)}


@dataclass(frozen=True)
class Envelope:
    """The production envelope: product flux range at each growth rate, for plots."""

    product: str
    growth_reaction: str
    carbon_source: str | None
    points: list[EnvelopePoint]
    medium: Mapping[str, float | None]
    provenance: Mapping[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"product": self.product, "growth_reaction": self.growth_reaction,
                "carbon_source": self.carbon_source,
                "points": [p.as_dict() for p in self.points], "medium": dict(self.medium),
                "provenance": dict(sorted(self.provenance.items()))}


def envelope(model: cobra.Model, product: str, *, carbon_source: str | None = None,
             growth: str | None = None, points: int = 20, medium: MediumLike = None
             ) -> Envelope:
    """The production envelope (:func:`cobra.flux_analysis.production_envelope`): the
    minimum and maximum product flux at ``points`` growth rates from 0 to the maximum, with
    carbon and mass yields when ``carbon_source`` (an exchange) is given."""
    if not 2 <= points <= 500:
        raise UsageError(f"{points} points is not a usable envelope", [Problem(
            reason="is not between 2 and 500", field="points", value=str(points),
            fix="ask for 20 points, say")])
    with model:
        apply_medium(model, medium)
        optimum(model, medium)
        bio = growth_reaction(model, growth)
        rxn, _ = boundary_reaction(model, product)
        carbon = reaction(model, carbon_source, "carbon_source").id if carbon_source else None
        frame = production_envelope(model, [bio.id], objective=rxn.id,
                                    carbon_sources=carbon, points=points)
        rows = [EnvelopePoint(
            growth=float(row[bio.id]), product_min=float(row["flux_minimum"]),
            product_max=float(row["flux_maximum"]),
            carbon_yield_min=row.get("carbon_yield_minimum") if carbon else None,
            carbon_yield_max=row.get("carbon_yield_maximum") if carbon else None,
            mass_yield_min=row.get("mass_yield_minimum") if carbon else None,
            mass_yield_max=row.get("mass_yield_maximum") if carbon else None)
            for row in frame.to_dict("records")]
        rows.sort(key=lambda p: p.growth)
        return Envelope(rxn.id, bio.id, carbon, rows, current_medium(model), provenance(model))


@dataclass(frozen=True)
class YieldResult:
    """The maximum theoretical yield of a product on a carbon source: molar (mol/mol),
    carbon (C-mol/C-mol, from the formulas) and mass (g/g, from the formula weights)."""

    product: str
    product_metabolite: str
    carbon_source: str
    substrate: str
    uptake: float
    product_flux: float
    growth: float
    min_growth: float
    molar_yield: float
    carbon_yield: float | None
    mass_yield: float | None
    medium: Mapping[str, float | None]
    provenance: Mapping[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"product": self.product, "product_metabolite": self.product_metabolite,
                "carbon_source": self.carbon_source, "substrate": self.substrate,
                "uptake": number(self.uptake), "product_flux": number(self.product_flux),
                "growth": number(self.growth), "min_growth": number(self.min_growth),
                "molar_yield": number(self.molar_yield),
                "carbon_yield": number(self.carbon_yield), "mass_yield": number(self.mass_yield),
                "medium": dict(self.medium), "provenance": dict(sorted(self.provenance.items()))}


def _carbon(met: cobra.Metabolite) -> float:
    return float(met.elements.get("C", 0)) if met.formula else 0.0


def max_yield(model: cobra.Model, product: str, carbon_source: str, *,
              medium: MediumLike = None, min_growth: float = 0.0, growth: str | None = None
              ) -> YieldResult:
    """The maximum theoretical yield of ``product`` (its exchange or demand reaction, or
    its metabolite) on ``carbon_source`` (an exchange reaction), with growth at least
    ``min_growth``: the product flux is maximised with the carbon source taken up at its full
    uptake bound (if that is infeasible, at whatever uptake the optimum uses)."""
    with model:
        apply_medium(model, medium)
        prod, prod_met = boundary_reaction(model, product)
        src = reaction(model, carbon_source, "carbon_source")
        if len(src.metabolites) != 1:
            raise ValidationFailed(f"the carbon source {src.id} is not an exchange", [Problem(
                reason="is not an exchange reaction", field="carbon_source", value=src.id,
                fix="give the exchange of the substrate, as EX_glc__D_e")])
        sub = next(iter(src.metabolites))
        if -outflow(src, sub, src.lower_bound) <= TOLERANCE:
            raise ValidationFailed(f"the carbon source {src.id} is not taken up", [Problem(
                reason="has no uptake in the medium", field="carbon_source", value=src.id,
                fix=f"give {src.id} an uptake bound in the medium (10, say)")])
        bio = growth_reaction(model, growth)
        bio.lower_bound = max(bio.lower_bound, min_growth)
        model.objective = prod
        fixed = src.lower_bound
        with model:
            src.upper_bound = fixed
            best = model.slim_optimize(error_value=math.nan)
            flux = model.solver.primal_values if not math.isnan(best) else None
        if flux is None:
            best = model.slim_optimize(error_value=math.nan)
            if math.isnan(best):
                raise infeasible(model, medium, min_growth)
            flux = model.solver.primal_values
        taken = -outflow(src, sub, _net(flux, src))
        made = outflow(prod, prod_met, _net(flux, prod))
        grown = _net(flux, bio)
        molar = made / taken if taken > TOLERANCE else 0.0
        c_sub, c_prod = _carbon(sub), _carbon(prod_met)
        carbon = (made * c_prod) / (taken * c_sub) if c_sub and taken > TOLERANCE else None
        mass = None
        if prod_met.formula and sub.formula and taken > TOLERANCE:
            mass = (made * prod_met.formula_weight) / (taken * sub.formula_weight)
        return YieldResult(prod.id, prod_met.id, src.id, sub.id, taken, made, grown, min_growth,
                           molar, carbon, mass, current_medium(model), provenance(model))


def _net(primal: Mapping[str, float], rxn: cobra.Reaction) -> float:
    """A reaction's net flux from the solver's primal values (forward minus reverse)."""
    return float(primal[rxn.forward_variable.name] - primal[rxn.reverse_variable.name])


@dataclass(frozen=True)
class Deletion:
    ids: tuple[str, ...]
    growth: float
    ratio: float | None
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {"ids": list(self.ids), "growth": number(self.growth),
                "ratio": number(self.ratio), "status": self.status}


@dataclass(frozen=True)
class DeletionResult:
    """Growth after deleting genes or reactions, one or two at a time, and the ratio to the
    wild type's growth."""

    kind: str
    size: int
    wild_type_growth: float
    deletions: list[Deletion]
    medium: Mapping[str, float | None]
    provenance: Mapping[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "size": self.size,
                "wild_type_growth": number(self.wild_type_growth),
                "deletions": [d.as_dict() for d in self.deletions], "medium": dict(self.medium),
                "provenance": dict(sorted(self.provenance.items()))}

    def lethal(self, threshold: float = 0.01) -> list[tuple[str, ...]]:
        """The deletions that leave less than ``threshold`` of the wild type's growth."""
        return [d.ids for d in self.deletions if (d.ratio or 0.0) < threshold]


def _ids(model: cobra.Model, kind: DeletionKind, ids: Sequence[str] | None) -> list[str]:
    if kind not in ("gene", "reaction"):
        raise UsageError(f"deletions of {kind!r} are not known", [Problem(
            reason="is not a deletion kind", field="kind", value=str(kind),
            fix="delete gene or reaction")])
    pool = model.genes if kind == "gene" else model.reactions
    if ids is None:
        return sorted(pool.list_attr("id"))
    known = set(pool.list_attr("id"))
    unknown = [i for i in ids if i not in known]
    if unknown:
        problems = []
        for i in unknown[:20]:
            near = closest(i, known)
            problems.append(Problem(
                reason=f"is not a {kind} of the model {model.id}", field="ids", value=i,
                fix=f"use a {kind} id of the model (closest: {near})" if near
                else f"use a {kind} id of the model"))
        raise ValidationFailed(f"{len(unknown)} {kind} ids are not in the model {model.id}",
                               problems)
    return sorted(set(ids))


def _deletions(frame: Any, wild: float) -> list[Deletion]:
    out = []
    for row in frame.to_dict("records"):
        value = row["growth"]
        grown = 0.0 if value is None or math.isnan(value) else float(value)
        out.append(Deletion(tuple(sorted(row["ids"])), grown,
                            grown / wild if wild > TOLERANCE else None, str(row["status"])))
    out.sort(key=lambda d: d.ids)
    return out


def single_deletions(model: cobra.Model, kind: DeletionKind = "gene", *,
                     ids: Sequence[str] | None = None, medium: MediumLike = None
                     ) -> DeletionResult:
    """Growth after deleting each gene (or reaction) in ``ids`` (all by default)."""
    with model:
        apply_medium(model, medium)
        wild = optimum(model, medium)
        chosen = _ids(model, kind, ids)
        run = single_gene_deletion if kind == "gene" else single_reaction_deletion
        frame = run(model, chosen, processes=1)
        return DeletionResult(kind, 1, wild, _deletions(frame, wild), current_medium(model),
                              provenance(model))


def double_deletions(model: cobra.Model, ids: Sequence[str], kind: DeletionKind = "gene", *,
                     medium: MediumLike = None) -> DeletionResult:
    """Growth after deleting each pair of genes (or reactions) among ``ids`` (at most
    :data:`MAX_PAIRS` pairs)."""
    with model:
        apply_medium(model, medium)
        chosen = _ids(model, kind, ids)
        pairs = len(list(itertools.combinations(chosen, 2)))
        if pairs > MAX_PAIRS:
            raise UsageError(f"{pairs} pairs are more than {MAX_PAIRS} in one run", [Problem(
                reason=f"make {pairs} pairs, more than {MAX_PAIRS}", field="ids",
                value=str(len(chosen)), fix="choose fewer genes or reactions (200 make 19,900 "
                                            "pairs)")])
        wild = optimum(model, medium)
        run = double_gene_deletion if kind == "gene" else double_reaction_deletion
        frame = run(model, chosen, processes=1)
        result = [d for d in _deletions(frame, wild) if len(d.ids) == 2]
        return DeletionResult(kind, 2, wild, result, current_medium(model), provenance(model))


__all__ = ["MAX_PAIRS", "Deletion", "DeletionResult", "Envelope", "EnvelopePoint", "FVAResult",
           "FluxResult", "YieldResult", "as_medium", "double_deletions", "envelope", "fba",
           "fva", "max_yield", "parsimonious", "single_deletions"]
