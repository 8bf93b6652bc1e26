"""Growth-coupled knockout designs: OptKnock, OptCouple and minimal cut sets (with knock-ins)
through StrainDesign's MILPs under a time budget, and a solver-agnostic search that needs
only FBA. Every design is evaluated again with plain cobrapy FBA, independently of the
MILP: the growth of the mutant, and the least and most product flux at that growth.

A design is **growth-coupled** when the mutant must make the product at its maximum growth
(the least product flux there is above zero). Designs are ranked by that guaranteed product
flux, then growth, then the number of interventions. Each design names its reactions and the
genes to delete (from the GPR rules), with the other reactions those gene deletions also
remove.
"""

from __future__ import annotations

import ast
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import cobra
import straindesign
from straindesign import names as sdn

from lanhai.design.chassis import is_biomass
from lanhai.design.common import (
    TOLERANCE,
    MediumLike,
    apply_medium,
    as_medium,
    boundary_reaction,
    closest,
    current_medium,
    growth_reaction,
    number,
    objective_terms,
    optimum,
    outflow,
    provenance,
    reaction,
)
from lanhai.errors import Problem, UsageError, ValidationFailed

Method = Literal["optknock", "optcouple", "mcs"]
#: the MILP solvers StrainDesign can use here, best first: on this machine GLPK (big-M)
#: solved e_coli_core's OptKnock 4x faster than SCIP and found the better iJO1366 design in
#: the same budget (benchmarks/bench_design.py)
SOLVERS = ("glpk", "scip")
#: genes that stand for no gene (spontaneous reactions): never deleted
NOT_GENES = frozenset({"s0001", "spontaneous", "s0002"})
#: the slack below the maximum growth at which product fluxes are read (relative)
GROWTH_SLACK = 1e-6
#: the most designs a result keeps
MAX_DESIGNS = 100


@dataclass(frozen=True)
class Evaluation:
    """A mutant evaluated with FBA: its maximum growth and the least and most product
    flux at that growth."""

    growth: float
    product_min: float
    product_max: float

    @property
    def growth_coupled(self) -> bool:
        return self.growth > TOLERANCE and self.product_min > TOLERANCE

    def as_dict(self) -> dict[str, Any]:
        return {"growth": number(self.growth), "product_min": number(self.product_min),
                "product_max": number(self.product_max), "growth_coupled": self.growth_coupled}


@dataclass(frozen=True)
class Design:
    """One design: reactions knocked out (and in), the genes to delete, and its evaluation
    with the reactions removed (``evaluation``) and with the genes deleted
    (``gene_evaluation``, which also loses the ``side_effects`` reactions)."""

    reactions: tuple[str, ...]
    knock_ins: tuple[str, ...]
    genes: tuple[str, ...]
    side_effects: tuple[str, ...]
    no_gene: tuple[str, ...]
    evaluation: Evaluation
    gene_evaluation: Evaluation
    source: str

    @property
    def interventions(self) -> int:
        return len(self.reactions) + len(self.knock_ins)

    def rank_key(self) -> tuple[float, float, int, tuple[str, ...]]:
        e = self.evaluation
        return (-round(e.product_min, 6), -round(e.growth, 6), self.interventions,
                self.reactions + self.knock_ins)

    def as_dict(self) -> dict[str, Any]:
        return {"reactions": list(self.reactions), "knock_ins": list(self.knock_ins),
                "genes": list(self.genes), "side_effects": list(self.side_effects),
                "no_gene": list(self.no_gene), "interventions": self.interventions,
                "evaluation": self.evaluation.as_dict(),
                "gene_evaluation": self.gene_evaluation.as_dict(), "source": self.source}


@dataclass(frozen=True)
class DesignResult:
    """The designs found, best first; ``partial`` when the time budget ran out (``reason``
    says so), the designs then being those found so far."""

    method: str
    solver: str
    product: str
    growth_reaction: str
    max_knockouts: int
    time_limit: float
    elapsed: float
    partial: bool
    reason: str
    wild_type: Evaluation
    designs: list[Design]
    medium: dict[str, float | None]
    provenance: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "solver": self.solver, "product": self.product,
                "growth_reaction": self.growth_reaction, "max_knockouts": self.max_knockouts,
                "time_limit": number(self.time_limit), "elapsed": round(self.elapsed, 1),
                "partial": self.partial, "reason": self.reason,
                "wild_type": self.wild_type.as_dict(),
                "designs": [d.as_dict() for d in self.designs], "medium": dict(self.medium),
                "provenance": dict(sorted(self.provenance.items()))}


# -- evaluation --------------------------------------------------------------------------------


def _evaluate(model: cobra.Model, bio: cobra.Reaction, prod: cobra.Reaction,
              met: cobra.Metabolite, knockouts: Sequence[str]) -> Evaluation:
    with model:
        for rid in knockouts:
            model.reactions.get_by_id(rid).knock_out()
        model.objective = bio
        model.objective_direction = "max"
        grown = model.slim_optimize(error_value=math.nan)
        if math.isnan(grown) or grown <= TOLERANCE:
            return Evaluation(0.0 if math.isnan(grown) else max(grown, 0.0), 0.0, 0.0)
        bio.lower_bound = max(bio.lower_bound, grown - max(1e-9, GROWTH_SLACK * grown))
        model.objective = prod
        most = model.slim_optimize(error_value=0.0)
        model.objective_direction = "min"
        least = model.slim_optimize(error_value=0.0)
    low, high = sorted((outflow(prod, met, least), outflow(prod, met, most)))
    return Evaluation(grown, low, high)



def _wild_type(model: cobra.Model, medium: MediumLike, growth: str | None, product: str,
               min_growth: float | None
               ) -> tuple[cobra.Reaction, cobra.Reaction, cobra.Metabolite, Evaluation, float]:
    """Inside ``with model``: the medium set and growth the objective; the growth and
    product reactions, the wild type's evaluation, and the least growth a
    design must keep (a tenth of the wild type's unless given)."""
    apply_medium(model, medium)
    bio = growth_reaction(model, growth)
    prod, met = boundary_reaction(model, product)
    model.objective = bio
    wild_growth = optimum(model, medium)
    wild = _evaluate(model, bio, prod, met, [])
    floor = wild_growth * 0.1 if min_growth is None else float(min_growth)
    return bio, prod, met, wild, floor

def evaluate(model: cobra.Model, knockouts: Sequence[str], product: str, *,
             growth: str | None = None, medium: MediumLike = None) -> Evaluation:
    """Growth of the mutant lacking the reactions ``knockouts``, and the least and most flux
    of ``product`` (an exchange or demand reaction, or its metabolite) at that growth."""
    with model:
        apply_medium(model, medium)
        bio = growth_reaction(model, growth)
        prod, met = boundary_reaction(model, product)
        for rid in knockouts:
            reaction(model, rid, "knockouts")
        return _evaluate(model, bio, prod, met, knockouts)


# -- genes -------------------------------------------------------------------------------------


def _clauses(node: ast.AST | None) -> list[frozenset[str]]:
    """A GPR as alternatives (OR) of gene sets (AND): the reaction works while one of the
    sets is whole."""
    if node is None:
        return []
    if isinstance(node, ast.Expression):
        return _clauses(node.body)
    if isinstance(node, ast.Name):
        return [frozenset({node.id})]
    if isinstance(node, ast.BoolOp):
        parts = [_clauses(v) for v in node.values]
        if isinstance(node.op, ast.Or):
            return [c for p in parts for c in p]
        combined: list[frozenset[str]] = [frozenset()]
        for part in parts:
            combined = [a | b for a in combined for b in part]
        return list(dict.fromkeys(combined))
    return []


def _deletable(gene: cobra.Gene) -> bool:
    return gene.id.lower() not in NOT_GENES and str(gene.name or "").lower() not in NOT_GENES


def knockable(rxn: cobra.Reaction) -> bool:
    """Whether deleting genes can remove a reaction: it has a GPR and every alternative in it
    holds a real gene (not the spontaneous s0001)."""
    clauses = _clauses(rxn.gpr.body)
    if not clauses:
        return False
    model = rxn.model
    return all(any(_deletable(model.genes.get_by_id(g)) for g in c) for c in clauses)


def genes_to_delete(model: cobra.Model, reactions: Sequence[str]
                    ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The genes whose deletion removes ``reactions`` (a small set, chosen greedily: the gene
    in most alternatives first, then the one touching fewest other reactions), the other
    reactions those deletions also remove, and the reactions no gene deletion removes."""
    wanted = set(reactions)
    clauses: list[frozenset[str]] = []
    no_gene: list[str] = []
    for rid in sorted(wanted):
        rxn = model.reactions.get_by_id(rid)
        found = [frozenset(g for g in c if _deletable(model.genes.get_by_id(g)))
                 for c in _clauses(rxn.gpr.body)]
        if not found or any(not c for c in found):
            no_gene.append(rid)
            continue
        clauses += found
    chosen: set[str] = set()
    open_clauses = [c for c in dict.fromkeys(clauses)]
    while open_clauses:
        counts: dict[str, int] = {}
        for clause in open_clauses:
            for gene in clause:
                counts[gene] = counts.get(gene, 0) + 1

        best = min(counts, key=lambda gene, n=counts: (  # type: ignore[misc]
            -n[gene], sum(1 for r in model.genes.get_by_id(gene).reactions
                          if r.id not in wanted), gene))
        chosen.add(best)
        open_clauses = [c for c in open_clauses if best not in c]
    side = sorted({r.id for g in chosen for r in model.genes.get_by_id(g).reactions
                   if r.id not in wanted and not r.gpr.eval(chosen)})
    return tuple(sorted(chosen)), tuple(side), tuple(no_gene)


# -- setting up --------------------------------------------------------------------------------


def candidates_for(model: cobra.Model, growth: str | None = None, product: str | None = None
                   ) -> list[str]:
    """The reactions a design may knock out by default: not boundary, not biomass, not
    forced (ATP maintenance), removable by deleting genes."""
    skip = {growth_reaction(model, growth).id}
    if product is not None:
        skip.add(boundary_reaction(model, product)[0].id)
    objective = objective_terms(model)
    return sorted(r.id for r in model.reactions
                  if r.id not in skip and not r.boundary and not is_biomass(r, objective)
                  and r.lower_bound <= 0 <= r.upper_bound and knockable(r))


def _check_limits(max_knockouts: int, time_limit: float) -> None:
    problems = []
    if not isinstance(max_knockouts, int) or not 1 <= max_knockouts <= 10:
        problems.append(Problem(reason="is not between 1 and 10", field="max_knockouts",
                                value=str(max_knockouts),
                                fix="allow 1 to 10 knockouts (3 is usual)"))
    if not time_limit > 0 or math.isinf(time_limit):
        problems.append(Problem(reason="is not a positive number of seconds",
                                field="time_limit", value=str(time_limit),
                                fix="give a time budget such as 60"))
    if problems:
        raise UsageError("the design limits are not usable", problems)


def _check_ids(model: cobra.Model, ids: Sequence[str], field_name: str) -> list[str]:
    known = set(model.reactions.list_attr("id"))
    unknown = [i for i in ids if i not in known]
    if unknown:
        problems = []
        for i in unknown[:20]:
            near = closest(i, known)
            problems.append(Problem(
                reason=f"is not a reaction of the model {model.id}", field=field_name, value=i,
                fix=f"use a reaction id of the model (closest: {near})" if near
                else "use a reaction id of the model"))
        raise ValidationFailed(f"{len(unknown)} {field_name} are not reactions of the model "
                               f"{model.id}", problems)
    return sorted(set(ids))


def _design(model: cobra.Model, bio: cobra.Reaction, prod: cobra.Reaction,
            met: cobra.Metabolite, kos: Sequence[str], kis: Sequence[str],
            absent: Sequence[str], source: str) -> Design:
    evaluation = _evaluate(model, bio, prod, met, [*kos, *absent])
    genes, side, no_gene = genes_to_delete(model, kos)
    gene_eval = evaluation if not side else _evaluate(
        model, bio, prod, met, sorted({*kos, *side, *absent}))
    return Design(tuple(sorted(kos)), tuple(sorted(kis)), genes, side, no_gene, evaluation,
                  gene_eval, source)


def _rank(designs: Sequence[Design], limit: int) -> list[Design]:
    unique: dict[tuple[tuple[str, ...], tuple[str, ...]], Design] = {}
    for d in designs:
        unique.setdefault((d.reactions, d.knock_ins), d)
    return sorted(unique.values(), key=lambda d: d.rank_key())[:limit]


def pick_solver(solver: str | None) -> str:
    """``solver`` if StrainDesign can use it here, else the first of :data:`SOLVERS` it can."""
    available = {s.lower() for s in straindesign.avail_solvers}
    if solver is None:
        for name in SOLVERS:
            if name in available:
                return name
        raise UsageError("no MILP solver is installed for strain design", [Problem(
            reason="none of scip, glpk is installed", field="solver",
            fix="install pyscipopt or swiglpk, or use the FBA search")])
    if solver.lower() not in available:
        raise UsageError(f"the solver {solver} is not available", [Problem(
            reason="is not installed for StrainDesign", field="solver", value=solver,
            fix="use one of: " + ", ".join(sorted(available)))])
    return solver.lower()


# -- MILP designs ------------------------------------------------------------------------------


def strain_designs(model: cobra.Model, product: str, *, method: Method = "optknock",
                   max_knockouts: int = 3, time_limit: float = 60.0, solver: str | None = None,
                   candidates: Sequence[str] | None = None, knock_ins: Sequence[str] = (),
                   min_growth: float | None = None, growth: str | None = None,
                   medium: MediumLike = None, carbon_source: str | None = None,
                   min_yield: float | None = None, max_designs: int = 10, seed: int = 1,
                   big_m: float | None = None) -> DesignResult:
    """Growth-coupled designs with StrainDesign (:func:`straindesign.compute_strain_designs`).

    ``method``: ``optknock`` (maximise the product flux at maximum growth), ``optcouple``
    (maximise the growth-coupling potential) or ``mcs`` (minimal cut sets: remove every
    flux state whose yield on ``carbon_source`` is below ``min_yield`` while growth of at
    least ``min_growth`` stays possible). ``knock_ins``: reactions of the model (added
    pathway steps) a design may keep; those it leaves out are removed. At most
    ``max_knockouts`` interventions; ``min_growth`` defaults to a tenth of the wild type's.
    ``time_limit`` (seconds) bounds the MILP; StrainDesign's preprocessing (network
    compression, FVA: about 15 s on iJO1366) comes before it and counts in ``elapsed``.
    ``big_m`` replaces the flux bound (1000) StrainDesign uses as big-M with GLPK: a tighter
    value (100 with glucose at 10) lets GLPK reach genome-scale designs it otherwise does
    not find in minutes; the FBA evaluation of each design catches any it distorts."""
    _check_limits(max_knockouts, time_limit)
    chosen = pick_solver(solver)
    started = time.monotonic()
    with model:
        bio, prod, met, wild, floor = _wild_type(model, medium, growth, product, min_growth)
        kis = _check_ids(model, knock_ins, "knock_ins")
        pool = _check_ids(model, candidates, "candidates") if candidates is not None \
            else candidates_for(model, bio.id, prod.id)
        pool = [r for r in pool if r not in kis]
        if method == "optknock":
            modules = [straindesign.SDModule(
                model, sdn.OPTKNOCK, inner_objective=bio.id, outer_objective=prod.id,
                constraints=[f"{bio.id} >= {floor:.9g}"])]
        elif method == "optcouple":
            modules = [straindesign.SDModule(
                model, sdn.OPTCOUPLE, inner_objective=bio.id, prod_id=prod.id,
                min_gcp=TOLERANCE, constraints=[f"{bio.id} >= {floor:.9g}"])]
        elif method == "mcs":
            if carbon_source is None or min_yield is None or min_yield <= 0:
                raise UsageError("minimal cut sets need a carbon source and a least yield", [
                    Problem(reason="is missing", field="carbon_source" if carbon_source is None
                            else "min_yield", fix="give the carbon source's exchange and the "
                                                  "least yield to enforce (mol/mol, > 0)")])
            src = reaction(model, carbon_source, "carbon_source")
            modules = [
                straindesign.SDModule(model, sdn.SUPPRESS, constraints=[
                    f"{prod.id} + {min_yield:.9g} {src.id} <= 0"]),
                straindesign.SDModule(model, sdn.PROTECT, constraints=[
                    f"{bio.id} >= {floor:.9g}"])]
        else:
            raise UsageError(f"the design method {method!r} is not known", [Problem(
                reason="is not a design method", field="method", value=str(method),
                fix="use optknock, optcouple or mcs")])
        reason = ""
        partial = False
        found: list[Design] = []
        milp_start = time.monotonic()
        try:
            solutions = straindesign.compute_strain_designs(
                model, sd_modules=modules, solver=chosen, max_cost=max_knockouts,
                max_solutions=max_designs, time_limit=time_limit, seed=seed,
                ko_cost={r: 1 for r in pool}, ki_cost={r: 1 for r in kis} or None,
                solution_approach=sdn.BEST, **({"M": float(big_m)} if big_m else {}))
            status = str(solutions.status)
            sets = solutions.get_reaction_sd() if solutions.get_num_sols() else []
        except Exception as err:  # StrainDesign and its solvers raise bare Exceptions
            status, sets = sdn.ERROR, []
            reason = f"the {chosen} solver failed: {' '.join(str(err).split())[:300]}"
        # StrainDesign may end a run whose budget ran out mid-search as "optimal" (with no
        # solution, or fewer than asked for); a true absence of designs is "infeasible"
        ran_out = status == sdn.OPTIMAL and len(sets) < max_designs and \
            time.monotonic() - milp_start >= time_limit
        for entry in sets:
            kos = [r for r, v in entry.items() if r in model.reactions and r not in kis
                   and v < 0]
            added = [r for r in kis if entry.get(r, 0) > 0]
            absent = [r for r in kis if r not in added]
            found.append(_design(model, bio, prod, met, kos, added, absent, method))
        if status == sdn.ERROR:
            partial = True
            reason = reason or f"the {chosen} solver failed"
        elif status in (sdn.TIME_LIMIT, sdn.TIME_LIMIT_W_SOL) or ran_out:
            partial = True
            reason = (f"the time budget of {time_limit:g} s ran out; "
                      + ("the design found so far is shown" if len(found) == 1
                         else f"the {len(found)} designs found so far are shown" if found
                         else "no design was found in it"))
        elif not found:
            reason = (f"no design with at most {max_knockouts} interventions couples "
                      f"{prod.id} to growth")
        elif len(sets) >= max_designs:
            reason = f"stopped after {max_designs} MILP solutions (max_designs)"
        return DesignResult(
            method=method, solver=chosen, product=prod.id, growth_reaction=bio.id,
            max_knockouts=max_knockouts, time_limit=time_limit,
            elapsed=time.monotonic() - started, partial=partial, reason=reason,
            wild_type=wild, designs=_rank(found, MAX_DESIGNS), medium=current_medium(model),
            provenance=provenance(model, chosen, milp=True))


# -- FBA search --------------------------------------------------------------------------------


def search_knockouts(model: cobra.Model, product: str, *, max_knockouts: int = 2,
                     time_limit: float = 60.0, candidates: Sequence[str] | None = None,
                     min_growth: float | None = None, growth: str | None = None,
                     medium: MediumLike = None, beam: int = 20, exhaustive_limit: int = 20_000,
                     max_designs: int = 10) -> DesignResult:
    """Knockout sets found by FBA alone, no MILP: all sets of each size while there are at
    most ``exhaustive_limit`` of them (those of the best single knockouts first, so a budget
    that runs out leaves the least promising unseen), else the ``beam`` best sets of the
    size below each extended by one reaction. A set is scored by the least product flux at
    maximum growth, then the most, then growth; sets growing below ``min_growth`` (a tenth
    of the wild type's by default) are dropped. The default candidates are the knockable
    reactions that carry flux at the wild type's optimum (FVA) and are not essential."""
    _check_limits(max_knockouts, time_limit)
    started = time.monotonic()
    deadline = started + time_limit
    with model:
        bio, prod, met, wild, floor = _wild_type(model, medium, growth, product, min_growth)
        if candidates is not None:
            pool = _check_ids(model, candidates, "candidates")
        else:
            pool = candidates_for(model, bio.id, prod.id)
            ranges = cobra.flux_analysis.flux_variability_analysis(
                model, reaction_list=pool, fraction_of_optimum=1.0, processes=1)
            pool = [r for r in pool if max(abs(ranges.loc[r, "minimum"]),
                                           abs(ranges.loc[r, "maximum"])) > TOLERANCE]
        scored: dict[tuple[str, ...], Evaluation] = {}
        ran_out = False

        def score(kos: tuple[str, ...]) -> Evaluation | None:
            nonlocal ran_out
            if kos in scored:
                return scored[kos]
            if time.monotonic() > deadline:
                ran_out = True
                return None
            scored[kos] = _evaluate(model, bio, prod, met, kos)
            return scored[kos]

        def key(kos: tuple[str, ...]) -> tuple[float, float, float, int, tuple[str, ...]]:
            e = scored[kos]
            return (-round(e.product_min, 6), -round(e.product_max, 6), -round(e.growth, 6),
                    len(kos), kos)

        viable = [r for r in pool if (e := score((r,))) is not None and e.growth >= floor]
        viable.sort(key=lambda r: key((r,)))  # larger sets of the best single ones come first
        level: list[tuple[str, ...]] = [(r,) for r in viable]
        for size in range(2, max_knockouts + 1):
            if ran_out:
                break
            total = math.comb(len(viable), size)
            if total <= exhaustive_limit:
                sets = [tuple(sorted(kos)) for kos in itertools.combinations(viable, size)]
            else:
                best = sorted(level, key=key)[:beam]
                sets = sorted({tuple(sorted({*kos, r})) for kos in best for r in viable
                               if r not in kos})
            level = []
            for kos in sets:
                e = score(kos)
                if e is None:
                    break
                if e.growth >= floor:
                    level.append(kos)
        good = sorted((k for k, e in scored.items() if e.growth >= floor
                       and e.product_min > TOLERANCE), key=key)
        designs = [_design(model, bio, prod, met, kos, [], [], "search")
                   for kos in _minimal(good, scored)[:max_designs]]
        reason = ""
        if ran_out:
            reason = (f"the time budget of {time_limit:g} s ran out after {len(scored)} "
                      f"knockout sets; the best found so far are shown")
        elif not designs:
            reason = (f"no set of at most {max_knockouts} of the {len(pool)} candidate "
                      f"reactions couples {prod.id} to growth")
        return DesignResult(
            method="search", solver=provenance(model)["solver"], product=prod.id,
            growth_reaction=bio.id, max_knockouts=max_knockouts, time_limit=time_limit,
            elapsed=time.monotonic() - started, partial=ran_out, reason=reason,
            wild_type=wild, designs=_rank(designs, max_designs), medium=current_medium(model),
            provenance=provenance(model))


def _minimal(ordered: Sequence[tuple[str, ...]], scored: dict[tuple[str, ...], Evaluation]
             ) -> list[tuple[str, ...]]:
    """Drop a set when a smaller set inside it guarantees as much product; the order of
    ``ordered`` is kept."""
    kept: set[tuple[str, ...]] = set()
    for kos in sorted(ordered, key=len):
        mine = scored[kos].product_min
        if any(set(k) < set(kos) and scored[k].product_min >= mine - TOLERANCE
               for k in kept):
            continue
        kept.add(kos)
    return [kos for kos in ordered if kos in kept]


def design(model: cobra.Model, product: str, *, method: Method = "optknock",
           max_knockouts: int = 3, time_limit: float = 60.0, solver: str | None = None,
           search_time: float = 30.0, medium: MediumLike = None, **options: Any
           ) -> DesignResult:
    """:func:`strain_designs`, and when it ends with no design because the budget ran out
    or the solver failed, :func:`search_knockouts` for ``search_time`` more seconds (its
    result then says both)."""
    result = strain_designs(model, product, method=method, max_knockouts=max_knockouts,
                            time_limit=time_limit, solver=solver, medium=medium, **options)
    if result.designs or not result.partial:
        return result
    allowed = {k: v for k, v in options.items()
               if k in ("candidates", "min_growth", "growth")}
    fallback = search_knockouts(model, product, max_knockouts=min(max_knockouts, 3),
                                time_limit=search_time, medium=as_medium(medium), **allowed)
    return DesignResult(
        method=f"{method}+search", solver=f"{result.solver}, then {fallback.solver} (FBA)",
        product=fallback.product, growth_reaction=fallback.growth_reaction,
        max_knockouts=max_knockouts, time_limit=time_limit + search_time,
        elapsed=result.elapsed + fallback.elapsed, partial=fallback.partial,
        reason=f"{result.reason}; FBA search: {fallback.reason or 'finished'}",
        wild_type=fallback.wild_type, designs=fallback.designs, medium=fallback.medium,
        provenance=fallback.provenance)


__all__ = ["NOT_GENES", "SOLVERS", "Design", "DesignResult", "Evaluation", "Method",
           "candidates_for", "design", "evaluate", "genes_to_delete",
           "knockable", "pick_solver", "search_knockouts", "strain_designs"]
