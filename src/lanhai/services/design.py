"""Strain design over the bank's records: chassis models, designs built from them and the
bank's parts, their analyses and knockout searches, and their export.

A chassis record (LHCH) holds a genome-scale model: one cobrapy ships (``bundled``) or an
SBML file, kept under ``chassis/<sha256>.xml``. A design record (LHDS) names a chassis, the
parts whose reactions it adds, deletions, medium changes and a product. Running it builds
the model from those stored inputs, computes FBA, pFBA, FVA, the production envelope and
the maximum theoretical yield, writes the whole analysis as ``designs/<sha256>.json`` and
only then puts its numbers and digest on the record; the same inputs give the same file,
so a rerun shows whether anything changed. Knockout searches are stored the same way.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lanhai.errors import NotFound, Problem, UsageError, ValidationFailed
from lanhai.kinds.design import BUNDLED_NAMES, CHASSIS_PREFIX, KNOCKOUT_METHODS, uptake_bounds
from lanhai.model import Record
from lanhai.services.access import Actor, require_writer
from lanhai.services.catalog import CatalogService
from lanhai.store.content import read_content, write_content

if TYPE_CHECKING:
    import cobra

    from lanhai.design.chassis import Chassis
    from lanhai.design.pathways import MetaboliteSpec, PathwayReport, ReactionSpec

#: a task reports progress as (done, total, what)
Progress = Callable[[int, int, str], None]
SBML_SUFFIX = ".xml"
RESULT_SUFFIX = ".json"
#: models kept in memory
_CACHED_MODELS = 3
#: bundled models searched for a part's reaction id the chassis lacks
REACTION_SOURCES = ("iJO1366", "salmonella")
#: reactions a model must have before a knockout search uses big-M constraints (GLPK and
#: SCIP fail numerically on genome-scale indicator constraints)
GENOME_SCALE = 1000
#: envelope points on the page and in the stored analysis
ENVELOPE_POINTS = 20
#: reactions whose flux ranges are stored besides the pathway's: exchanges carrying flux
_FVA_LIMIT = 400


def _no_progress(done: int, total: int, what: str) -> None:
    """Progress nobody watches."""


def canonical_json(value: Any) -> bytes:
    """The bytes a result is stored and digested as: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False).encode("utf-8")


@dataclass
class Built:
    """A design's model, built from its stored inputs."""

    record: Record
    model: cobra.Model
    medium: dict[str, float]
    product: str
    growth: str | None
    carbon_source: str | None
    min_growth: float
    added: list[str]
    pathway: PathwayReport | None
    inputs: dict[str, Any]
    notes: list[str] = field(default_factory=list)


class DesignService:
    """Chassis models and strain designs of one bank."""

    def __init__(self, catalog: CatalogService, chassis_folder: Path, designs_folder: Path
                 ) -> None:
        self.catalog = catalog
        self.chassis_folder = chassis_folder
        self.designs_folder = designs_folder
        #: models read, by SBML digest (``bundled:NAME`` for cobrapy's); never changed
        self._models: OrderedDict[str, Chassis] = OrderedDict()
        self._lock = threading.Lock()

    # --- chassis ---------------------------------------------------------------------------

    @staticmethod
    def bundled() -> list[dict[str, Any]]:
        """The models that ship with cobrapy, ready as chassis."""
        from lanhai.design import chassis

        return chassis.bundled_models()

    def register_chassis(self, actor: Actor, values: Mapping[str, Any], *,
                         sbml: bytes | None = None, file_name: str = "model.xml",
                         strain: str | None = None, check_blocked: bool = True,
                         accession: str | None = None,
                         progress: Progress = _no_progress) -> Record:
        """A new chassis record from an SBML file (validated first) or from the bundled
        model ``values["bundled"]`` names, with its model checks as computed fields; linked
        to ``strain`` (``strain --modelled_as--> chassis``) when given. ``accession``: give
        that existing chassis record its model instead. The SBML is written before the
        record, so a failed registration leaves no record behind."""
        from lanhai.design import chassis as chassis_core

        require_writer(actor)
        target = None
        if accession is not None:
            target = self.catalog.get(actor, accession)
            if target.kind != "chassis":
                raise UsageError(f"{target.accession} is a {target.kind}, not a chassis")
            if target.fields.get("bundled"):
                raise UsageError(f"{target.accession} is the bundled model "
                                 f"{target.fields['bundled']} already", [Problem(
                                     reason="has its model already", field="sbml",
                                     value=target.accession,
                                     fix="register the SBML as a new chassis")])
        if (sbml is None) == (not values.get("bundled")):
            raise UsageError("a chassis needs its model: an SBML file or a bundled model", [
                Problem(reason="give exactly one of an SBML file and a bundled model",
                        field="sbml", fix="upload the model's SBML, or name a bundled model "
                        "(textbook, iJO1366, salmonella) and no file")])
        if strain is not None:
            found = self.catalog.get(actor, strain)
            if found.kind != "strain":
                raise UsageError(f"{found.accession} is a {found.kind}, not a strain", [
                    Problem(reason="is not a strain", field="strain", value=strain,
                            fix="give the accession of the strain the model describes")])
        progress(0, 3, "reading the model")
        if sbml is not None:
            loaded = self.read_sbml(sbml, file_name)
        else:
            loaded = self._bundled(chassis_core.find_bundled(str(values["bundled"])).name)
        existing = self.catalog.by_identifier(actor, "chassis", f"sbml:{loaded.digest}")
        if existing is not None and (target is None or existing.accession != target.accession):
            raise ValidationFailed("this model is registered already", [Problem(
                reason=f"is the model of {existing.accession} ({existing.name})",
                field="sbml", value=loaded.digest[:12],
                fix=f"use {existing.accession} as the chassis")])
        progress(1, 3, "checking the model (balance, blocked reactions, growth)")
        summary = chassis_core.summarize(loaded.model, loaded.digest, blocked=check_blocked)
        if sbml is not None:
            text = chassis_core.unpacked(sbml, file_name)
            write_content(self.chassis_folder, text, SBML_SUFFIX)
        progress(2, 3, "registering the chassis")
        note = f"model {loaded.model.id} from {loaded.source}"
        if target is not None:
            self.catalog.set_summary(actor, target.accession, _chassis_summary(summary), note)
            record = self.catalog.get(actor, target.accession)
        else:
            record = self.catalog.create(actor, "chassis", values,
                                         summary=_chassis_summary(summary), note=note)
        if strain is not None:
            self.catalog.link(actor, strain, "modelled_as", record.accession)
        progress(3, 3, "registered")
        return record

    def read_sbml(self, sbml: bytes, file_name: str) -> Chassis:
        """An SBML file read and validated (refused with each SBML error and its line);
        kept in memory, so registering it next does not read it again."""
        from lanhai.design import chassis as chassis_core

        return self._model(chassis_core.sbml_digest(sbml), None,
                           lambda: chassis_core.read_sbml(sbml, file_name))

    def chassis_report(self, actor: Actor, reference: str) -> dict[str, Any]:
        """The model checks of a chassis (a record or a bundled model's name): counts,
        mass and charge imbalance, growth on its medium, dead ends and orphans (blocked
        reactions are counted on the record; computing them again takes minutes)."""
        from lanhai.design import chassis as chassis_core

        record, loaded = self._chassis(actor, reference)
        summary = chassis_core.summarize(loaded.model, loaded.digest, blocked=False)
        out = summary.as_dict()
        out["chassis"] = record.accession if record else loaded.name
        out["source"] = loaded.source
        return out

    def chassis_sbml(self, actor: Actor, reference: str) -> bytes:
        """The SBML text of a chassis, as registered (bundled: as cobrapy ships it)."""
        record, loaded = self._chassis(actor, reference)
        if record is not None and not record.fields.get("bundled"):
            stored = read_content(self.chassis_folder, str(record.fields["sbml_digest"]),
                                  SBML_SUFFIX)
            if stored is not None:
                return stored
        return _write_sbml(loaded.model)

    def _chassis(self, actor: Actor, reference: str) -> tuple[Record | None, Chassis]:
        """The chassis record (None for a bundled name) and its model (a copy to change)."""
        from lanhai.design import chassis as chassis_core

        ref = reference.strip()
        if not ref.upper().startswith(CHASSIS_PREFIX):
            name = BUNDLED_NAMES.get(ref.lower())
            if name is None:
                raise NotFound(f"no chassis is called {reference!r}: give a chassis "
                               "accession (LHCH…) or one of the bundled models: "
                               + ", ".join(sorted(BUNDLED_NAMES)))
            return None, self._bundled(name)
        record = self.catalog.get(actor, ref.upper())
        if record.kind != "chassis":
            raise UsageError(f"{record.accession} is a {record.kind}, not a chassis")
        if record.fields.get("bundled"):
            return record, self._bundled(str(record.fields["bundled"]))
        digest = record.fields.get("sbml_digest")
        if not digest:
            raise ValidationFailed(f"{record.accession} has no model yet", [Problem(
                reason="has no SBML model", field="sbml", value=record.accession,
                fix=f"give it its model: lanhai design chassis --sbml FILE "
                    f"--to {record.accession}")])

        def stored() -> Chassis:
            text = read_content(self.chassis_folder, str(digest), SBML_SUFFIX)
            if text is None:
                raise ValidationFailed(f"the model file of {record.accession} is missing", [
                    Problem(reason="is missing or damaged", field="sbml",
                            value=str(digest)[:12],
                            fix=f"give it its SBML again: lanhai design chassis --sbml FILE "
                                f"--to {record.accession}")])
            return chassis_core.read_sbml(text, f"{record.accession}.xml")

        return record, replace(self._model(str(digest), record.name, stored),
                               source=f"SBML of {record.accession}")

    def _bundled(self, name: str) -> Chassis:
        from lanhai.design import chassis as chassis_core

        return self._model(f"bundled:{name}", name, lambda: chassis_core.load_bundled(name))

    def _model(self, key: str, name: str | None, load: Callable[[], Chassis]) -> Chassis:
        """The model kept under ``key`` (``load`` reads it the first time), as a copy the
        caller may change; ``name`` names it (the model's own when None)."""
        with self._lock:
            kept = self._models.get(key)
            if kept is not None:
                self._models.move_to_end(key)
        if kept is None:
            kept = load()
            with self._lock:
                self._models[key] = kept
                while len(self._models) > _CACHED_MODELS:
                    self._models.popitem(last=False)
        return replace(kept, name=name or kept.name, model=kept.model.copy())

    # --- building a design -----------------------------------------------------------------

    def _design(self, actor: Actor, accession: str) -> Record:
        record = self.catalog.get(actor, accession)
        if record.kind != "design":
            raise UsageError(f"{record.accession} is a {record.kind}, not a design")
        return record

    def build(self, actor: Actor, accession: str) -> Built:
        """The design's model: its chassis, the reactions of its parts added and checked,
        its deletions and medium applied; every problem is reported before anything runs."""
        from lanhai.design import pathways
        from lanhai.design.common import current_medium, growth_reaction

        record = self._design(actor, accession)
        fields = record.fields
        chassis_record, loaded = self._chassis(actor, str(fields["chassis"]))
        model = loaded.model
        medium = {k: float(v) for k, v in current_medium(model).items() if v is not None}
        changes = uptake_bounds(list(fields.get("medium", [])))
        medium.update(changes)
        specs, metabolites, part_inputs, notes = self._part_reactions(actor, record, model)
        product = str(fields["product"])
        problems: list[Problem] = []
        growth = fields.get("objective")
        try:
            growth_id = growth_reaction(model, str(growth) if growth else None).id
        except (UsageError, ValidationFailed) as err:
            problems += err.problems or [Problem(reason=str(err), field="objective")]
            growth_id = None
        deleted = self._deletions(model, record, problems)
        carbon = fields.get("carbon_source")
        if not carbon and "EX_glc__D_e" in model.reactions:
            carbon = "EX_glc__D_e"
        if carbon and carbon not in model.reactions:
            from lanhai.design.common import closest

            near = closest(str(carbon), [r.id for r in model.boundary])
            problems.append(Problem(
                reason=f"is not a reaction of the model {model.id}", field="carbon_source",
                value=str(carbon), fix="name the carbon source's exchange reaction"
                + (f" (closest: {near})" if near else "")))
        report = None
        if specs:
            try:
                report = pathways.add_pathway(model, specs, product, metabolites,
                                              medium=medium)
            except ValidationFailed as err:
                problems += err.problems
        if problems:
            raise ValidationFailed(f"{record.accession} cannot be built", problems)
        added = [r.id for r in report.reactions] if report else []
        if report and report.export_added:
            added.append(report.export)
        for item in deleted:
            item.knock_out()
        inputs = {
            "design": record.accession,
            "chassis": {"reference": str(fields["chassis"]),
                        "record": chassis_record.accession if chassis_record else None,
                        "model_id": str(model.id), "sbml_digest": loaded.digest},
            "parts": part_inputs,
            "product": product, "objective": growth_id,
            "carbon_source": carbon or None,
            "medium": dict(sorted(medium.items())),
            "reaction_deletions": list(fields.get("reaction_deletions", [])),
            "gene_deletions": list(fields.get("gene_deletions", [])),
            "min_growth": float(fields.get("min_growth", 0.0)),
        }
        return Built(record=record, model=model, medium=medium, product=product,
                     growth=growth_id, carbon_source=str(carbon) if carbon else None,
                     min_growth=float(fields.get("min_growth", 0.0)), added=added,
                     pathway=report, inputs=inputs, notes=notes)

    def _part_reactions(self, actor: Actor, record: Record, model: cobra.Model
                        ) -> tuple[list[ReactionSpec], list[MetaboliteSpec],
                                   list[dict[str, Any]], list[str]]:
        """The reactions the design's parts add, the metabolites they declare, what the
        stored analysis records of each part, and notes (a part whose reaction the chassis
        already has)."""
        from lanhai.design.pathways import MetaboliteSpec, ReactionSpec

        wanted = list(record.fields.get("parts", []))
        found = self.catalog.find(actor, wanted)
        problems = [Problem(reason="is not a part of this bank you may see", field="parts",
                            value=acc, fix="give the accession of a part (LHPT…)")
                    for acc in wanted if acc not in found or found[acc].kind != "part"]
        specs: list[ReactionSpec] = []
        mets: dict[str, MetaboliteSpec] = {}
        inputs: list[dict[str, Any]] = []
        notes: list[str] = []
        for acc in wanted:
            part = found.get(acc)
            if part is None or part.kind != "part":
                continue
            f = part.fields
            equation = f.get("reaction")
            rid = str(f.get("reaction_id") or f.get("display_id"))
            if not equation and f.get("reaction_id"):
                if rid in model.reactions:
                    notes.append(f"{acc}: the chassis has {rid} already; nothing added")
                    inputs.append({"accession": acc, "version": part.version,
                                   "reaction_id": rid, "native": True})
                    continue
                equation, copied = self._reaction_elsewhere(rid)
                if equation is None:
                    problems.append(Problem(
                        reason=f"names the reaction {rid}, which neither the chassis nor "
                               "a bundled model has", field="reaction_id", value=acc,
                        fix="give the part's reaction equation over the model's "
                            "metabolite ids"))
                    continue
                for met in copied:
                    mets.setdefault(met.id, met)
            if not equation:
                problems.append(Problem(
                    reason="has no reaction", field="reaction", value=acc,
                    fix="give the part its reaction equation or a reaction_id "
                        "(lanhai update part ACC reaction='a + b -> c')"))
                continue
            for item in f.get("new_metabolites", []):
                mid, formula, charge, *name = str(item).split()
                mets.setdefault(mid, MetaboliteSpec(mid, " ".join(name) or mid, formula,
                                                    int(charge)))
            ecs = list(f.get("ec_number", []))
            spec = ReactionSpec(part=acc, id=_reaction_id(rid),
                                name=str(f.get("part_name") or f.get("display_id")),
                                equation=str(equation), ec=ecs[0] if ecs else None,
                                gene=str(f["gene_name"]) if f.get("gene_name") else None)
            specs.append(spec)
            inputs.append({"accession": acc, "version": part.version, "reaction_id": spec.id,
                           "equation": spec.equation, "ec": ecs, "gene": spec.gene})
        if problems:
            raise ValidationFailed(f"the parts of {record.accession} cannot be added",
                                   problems)
        used = {m for s in specs for m in _equation_ids(s.equation)}
        metabolites = [m for mid, m in sorted(mets.items())
                       if mid in used and mid not in model.metabolites]
        for met in metabolites:
            inputs.append({"metabolite": met.id, "formula": met.formula,
                           "charge": met.charge, "name": met.name})
        return specs, metabolites, inputs, notes

    def _reaction_elsewhere(self, rid: str) -> tuple[str | None, list[MetaboliteSpec]]:
        """The equation of ``rid`` in a bundled model, and its metabolites as declarations."""
        from lanhai.design.pathways import MetaboliteSpec

        for name in REACTION_SOURCES:
            source = self._bundled(name).model
            if rid in source.reactions:
                rxn = source.reactions.get_by_id(rid)
                mets = [MetaboliteSpec(m.id, str(m.name or m.id), str(m.formula or ""),
                                       int(m.charge or 0)) for m in rxn.metabolites]
                return str(rxn.build_reaction_string()), mets
        return None, []

    @staticmethod
    def _deletions(model: cobra.Model, record: Record, problems: list[Problem]
                   ) -> list[Any]:
        """The reactions and genes the design deletes (problems for those the model
        lacks)."""
        from lanhai.design.common import closest

        found: list[Any] = []
        for rid in record.fields.get("reaction_deletions", []):
            if rid in model.reactions:
                found.append(model.reactions.get_by_id(rid))
                continue
            near = closest(rid, model.reactions.list_attr("id"))
            problems.append(Problem(
                reason=f"is not a reaction of the model {model.id}",
                field="reaction_deletions", value=rid,
                fix="use a reaction id of the chassis" + (f" (closest: {near})"
                                                         if near else "")))
        for gid in record.fields.get("gene_deletions", []):
            gene = next((g for g in model.genes if gid in (g.id, g.name)), None)
            if gene is not None:
                found.append(gene)
                continue
            near = closest(gid, [*model.genes.list_attr("id"), *model.genes.list_attr("name")])
            problems.append(Problem(
                reason=f"is not a gene of the model {model.id}", field="gene_deletions",
                value=gid, fix="use a gene id or name of the chassis"
                + (f" (closest: {near})" if near else "")))
        return found

    # --- analyses --------------------------------------------------------------------------

    def run(self, actor: Actor, accession: str, *, progress: Progress = _no_progress
            ) -> dict[str, Any]:
        """Analyse a design from its stored inputs and keep the analysis: growth and product
        at maximum growth (FBA), the least-flux distribution (pFBA), flux ranges of the
        pathway and exchanges (FVA), the production envelope and the maximum theoretical
        yield. Returns the analysis with ``digest`` and ``changed`` (False when the stored
        analysis was the same)."""
        from lanhai.design import analysis
        from lanhai.design.common import number, provenance
        from lanhai.design.knockouts import evaluate

        require_writer(actor)
        steps = 6
        progress(0, steps, "building the model")
        built = self.build(actor, accession)
        model, medium = built.model, built.medium
        progress(1, steps, "growth and product (FBA)")
        best = analysis.fba(model, medium=medium, objective=built.growth)
        coupling = evaluate(model, [], built.product, growth=built.growth, medium=medium)
        progress(2, steps, "least-flux distribution (pFBA)")
        with model:
            if built.growth:
                model.objective = built.growth
            pfba = analysis.parsimonious(model, medium=medium)
        flux = dict(pfba.as_dict(nonzero=True)["fluxes"])
        progress(3, steps, "flux ranges (FVA)")
        from lanhai.design.common import boundary_reaction, exchanges

        export = boundary_reaction(model, built.product)[0].id
        ranged = sorted({*built.added, export,
                         *(r.id for r in exchanges(model) if r.id in flux)})[:_FVA_LIMIT]
        with model:
            if built.growth:
                model.objective = built.growth
            ranges = analysis.fva(model, reactions=ranged, medium=medium)
        progress(4, steps, "production envelope")
        env = analysis.envelope(model, built.product, carbon_source=built.carbon_source,
                                growth=built.growth, points=ENVELOPE_POINTS, medium=medium)
        progress(5, steps, "maximum theoretical yield")
        best_yield = None
        if built.carbon_source:
            best_yield = analysis.max_yield(model, built.product, built.carbon_source,
                                            medium=medium, min_growth=built.min_growth,
                                            growth=built.growth)
        else:
            built.notes.append("no carbon source: the yield is not computed")
        reactions = {r.id: {"name": str(r.name or ""), "subsystem": str(r.subsystem or ""),
                            "equation": str(r.build_reaction_string()),
                            "genes": sorted(g.id for g in r.genes)}
                     for r in model.reactions if r.id in flux or r.id in ranged}
        result = {
            "kind": "analysis", "inputs": built.inputs,
            "pathway": built.pathway.as_dict() if built.pathway else None,
            "added": built.added, "notes": sorted(built.notes),
            "growth": best.objective_value, "export": export,
            "coupling": coupling.as_dict(),
            "pfba": {"total_flux": number(pfba.total_flux), "fluxes": flux},
            "fva": ranges.as_dict()["ranges"],
            "envelope": env.as_dict(),
            "yield": best_yield.as_dict() if best_yield else None,
            "reactions": reactions,
            "provenance": dict(sorted(provenance(model).items())),
        }
        data = canonical_json(result)
        digest = write_content(self.designs_folder, data, RESULT_SUFFIX)
        changed = built.record.fields.get("result_digest") != digest
        if changed:
            summary: dict[str, Any] = {
                "growth_rate": best.objective_value, "product_flux": coupling.product_min,
                "growth_coupled": coupling.growth_coupled, "result_digest": digest,
                "max_product_flux": best_yield.product_flux if best_yield else None,
                "max_yield": best_yield.molar_yield if best_yield else None,
                "max_mass_yield": best_yield.mass_yield if best_yield else None,
                "max_carbon_yield": best_yield.carbon_yield if best_yield else None,
                "solver": _solver_text(result["provenance"]),
            }
            self.catalog.set_summary(actor, built.record.accession,
                                     {k: _rounded(v) for k, v in summary.items()},
                                     f"analysed: {digest[:12]}")
        self._link(actor, built)
        progress(steps, steps, "analysed")
        return {**json.loads(data), "digest": digest, "changed": changed}

    def knockouts(self, actor: Actor, accession: str, *, method: str = "optknock",
                  max_knockouts: int = 3, time_limit: float = 60.0, solver: str | None = None,
                  candidates: Sequence[str] | None = None,
                  progress: Progress = _no_progress) -> dict[str, Any]:
        """Growth-coupled knockouts for the design's product (OptKnock, OptCouple, minimal
        cut sets through a free MILP solver, or an FBA search) under ``time_limit`` seconds;
        the pathway's own reactions are never knocked out. ``candidates``: the reactions the
        search may knock out (ids, or ``subsystem:NAME`` for a subsystem's reactions), of
        those a gene deletion removes; every such reaction when not given (on genome-scale
        models, narrowing them to central metabolism finds designs in minutes where the
        whole model does not). Kept like an analysis; the best designs' reactions go on the
        record."""
        from lanhai.design import knockouts as ko

        require_writer(actor)
        if method not in KNOCKOUT_METHODS:
            raise UsageError(f"unknown knockout method {method!r}", [Problem(
                reason="is not a knockout method", field="method", value=method,
                fix="use one of: " + ", ".join(KNOCKOUT_METHODS))])
        progress(0, 3, "building the model")
        built = self.build(actor, accession)
        model = built.model
        allowed = [c for c in ko.candidates_for(model, built.growth, built.product)
                   if c not in built.added]
        chosen = _chosen_candidates(model, allowed, candidates) if candidates else allowed
        options: dict[str, Any] = {"candidates": chosen, "growth": built.growth}
        if built.min_growth:
            options["min_growth"] = built.min_growth
        progress(1, 3, f"searching knockouts ({method}, at most {time_limit:g} s)")
        if method == "search":
            found = ko.search_knockouts(model, built.product, max_knockouts=max_knockouts,
                                        time_limit=time_limit, medium=built.medium, **options)
        else:
            if len(model.reactions) >= GENOME_SCALE:
                options["big_m"] = 100.0
            if method == "mcs":
                options["carbon_source"] = built.carbon_source
            found = ko.design(model, built.product, method=method,  # type: ignore[arg-type]
                              max_knockouts=max_knockouts, time_limit=time_limit,
                              solver=solver, medium=built.medium,
                              search_time=min(time_limit, 120.0), **options)
        progress(2, 3, "keeping the designs")
        names = {g.id: str(g.name or "") for g in model.genes}
        designs = found.as_dict()
        for entry in designs["designs"]:
            entry["gene_names"] = {g: names.get(g, "") for g in entry["genes"]}
        result = {"kind": "knockouts", "inputs": built.inputs,
                  "search": {"method": method, "max_knockouts": max_knockouts,
                             "time_limit": time_limit, "solver": solver,
                             "candidates": list(candidates) if candidates else None,
                             "candidate_count": len(chosen)},
                  "result": designs}
        data = canonical_json(result)
        digest = write_content(self.designs_folder, data, RESULT_SUFFIX)
        best = ["+".join(d.reactions) for d in found.designs
                if d.evaluation.growth_coupled][:3]
        self.catalog.set_summary(actor, built.record.accession,
                                 {"knockout_digest": digest, "best_knockouts": best or None},
                                 f"knockout search ({method}): {len(found.designs)} designs")
        progress(3, 3, "done")
        return {**result, "digest": digest}

    def check_candidates(self, actor: Actor, accession: str,
                         candidates: Sequence[str] | None) -> int:
        """Build the design and check the knockout candidates before a search is started
        (refused with every problem); how many reactions the search may knock out."""
        from lanhai.design import knockouts as ko

        built = self.build(actor, accession)
        allowed = [c for c in ko.candidates_for(built.model, built.growth, built.product)
                   if c not in built.added]
        return len(_chosen_candidates(built.model, allowed, candidates) if candidates
                   else allowed)

    def _link(self, actor: Actor, built: Built) -> None:
        """The design's lineage: its chassis record and its parts linked to it."""
        have = {(lk.source, lk.rel) for lk in self.catalog.links(actor, built.record.accession)
                if lk.target == built.record.accession}
        chassis_record = built.inputs["chassis"]["record"]
        sources = [(chassis_record, "chassis_of")] if chassis_record else []
        sources += [(p["accession"], "used_in") for p in built.inputs["parts"]
                    if "accession" in p]
        for source, rel in sources:
            if (source, rel) not in have:
                self.catalog.link(actor, source, rel, built.record.accession)

    def results(self, actor: Actor, accession: str) -> dict[str, Any]:
        """The stored analysis and knockout search of a design (None where none was run)."""
        record = self._design(actor, accession)
        out: dict[str, Any] = {"design": record.accession, "version": record.version}
        for key, name in (("analysis", "result_digest"), ("knockouts", "knockout_digest")):
            digest = record.fields.get(name)
            data = read_content(self.designs_folder, str(digest), RESULT_SUFFIX) \
                if digest else None
            out[key] = {**json.loads(data), "digest": digest} if data else None
        return out

    def flux_table(self, actor: Actor, accession: str) -> str:
        """The stored analysis as CSV: each reaction's pFBA flux and FVA range."""
        import csv

        analysis = self.results(actor, accession)["analysis"]
        if analysis is None:
            raise NotFound(f"{accession} has not been analysed: lanhai design run "
                           f"{accession}")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["reaction", "name", "subsystem", "pfba_flux", "fva_minimum",
                         "fva_maximum", "added", "equation"])
        ranges = analysis["fva"]
        for rid in sorted(analysis["reactions"]):
            info = analysis["reactions"][rid]
            span = ranges.get(rid, {})
            writer.writerow([rid, info["name"], info["subsystem"],
                             _cell(analysis["pfba"]["fluxes"].get(rid)),
                             _cell(span.get("minimum")), _cell(span.get("maximum")),
                             "yes" if rid in analysis["added"] else "", info["equation"]])
        return out.getvalue()

    # --- export ----------------------------------------------------------------------------

    def sbml(self, actor: Actor, accession: str) -> bytes:
        """The design's model as SBML (FBC): the chassis with the parts' reactions, the
        deletions as zero bounds and the medium applied."""
        from lanhai.design.common import apply_medium

        built = self.build(actor, accession)
        apply_medium(built.model, built.medium)
        built.model.id = f"{built.model.id}_{built.record.accession}"
        built.model.name = built.record.name
        return _write_sbml(built.model)

    def sbol(self, actor: Actor, accession: str, namespace: str) -> bytes:
        """An SBOL3 document of the design's parts, and the design as an engineered region
        whose features are those parts, in Turtle."""
        import sbol3

        from lanhai.exports.common import Item
        from lanhai.exports.sbol import DCTERMS_IDENTIFIER, add_part, check_namespace

        record = self._design(actor, accession)
        namespace = check_namespace(namespace)
        parts = self.catalog.find(actor, record.fields.get("parts", []))
        doc = sbol3.Document()
        doc.bind("lanhai", namespace + "/")
        previous = sbol3.get_namespace()
        sbol3.set_namespace(namespace)
        try:
            for acc in record.fields.get("parts", []):
                if acc in parts and parts[acc].kind == "part":
                    add_part(doc, Item(parts[acc], self.catalog.links(actor, acc)), namespace)
            design = sbol3.Component(f"{namespace}/{record.accession}", sbol3.SBO_DNA,
                                     namespace=namespace, name=record.name,
                                     roles=["https://identifiers.org/SO:0000804"],
                                     description=record.fields.get("description") or None)
            design.lanhai_accession = sbol3.TextProperty(design, DCTERMS_IDENTIFIER, 0, 1)
            design.lanhai_accession = record.accession
            for acc in record.fields.get("parts", []):
                if acc in parts and parts[acc].kind == "part":
                    display = str(parts[acc].fields["display_id"])
                    design.features.append(sbol3.SubComponent(f"{namespace}/{display}"))
            doc.add(design)
        finally:
            sbol3.set_namespace(previous)
        return str(doc.write_string(sbol3.TURTLE)).encode("utf-8")

    # --- enzymes for a step ----------------------------------------------------------------

    def enzymes(self, actor: Actor, query: str, *, organism: str | None = None,
                limit: int = 20) -> list[dict[str, Any]]:
        """The bank's parts that could fill a step given by EC number or family, best
        first (exact EC, EC within a wildcard, same sub-subclass, same family)."""
        from lanhai.design.pathways import suggest_enzymes

        candidates = []
        with self.catalog.each(actor, "part") as batches:
            for batch in batches:
                for record in batch:
                    f = record.fields
                    if f.get("ec_number") or f.get("protein_family"):
                        candidates.append({
                            "accession": record.accession, "ec": f.get("ec_number", []),
                            "family": f.get("protein_family", []),
                            "organism": f.get("organism")})
        matches = suggest_enzymes(query, candidates, organism=organism, limit=limit)
        names = self.catalog.find(actor, [m.accession for m in matches])
        return [{**m.as_dict(), "name": names[m.accession].name if m.accession in names
                 else m.accession} for m in matches]


def _chosen_candidates(model: cobra.Model, allowed: Sequence[str], wanted: Sequence[str]
                       ) -> list[str]:
    """The knockable reactions ``wanted`` names (ids, or ``subsystem:NAME``); each entry
    that names none is a problem."""
    from lanhai.design.common import closest

    knockable = set(allowed)
    chosen: list[str] = []
    problems: list[Problem] = []
    subsystems = sorted({str(r.subsystem) for r in model.reactions if r.subsystem})
    for entry in wanted:
        text = entry.strip()
        if text.lower().startswith("subsystem:"):
            name = text.split(":", 1)[1].strip().lower()
            found = [r.id for r in model.reactions
                     if str(r.subsystem or "").lower() == name and r.id in knockable]
            if not found:
                near = closest(text.split(":", 1)[1].strip(), subsystems)
                problems.append(Problem(
                    reason="names no subsystem with reactions a gene deletion removes",
                    field="candidates", value=text,
                    fix="name a subsystem of the model" + (f" (closest: {near})"
                                                          if near else "")))
            chosen += found
        elif text in knockable:
            chosen.append(text)
        elif text in model.reactions:
            problems.append(Problem(
                reason="cannot be knocked out (no gene deletion removes it, or it is the "
                       "growth, product, a boundary or an added reaction)",
                field="candidates", value=text, fix="leave it out of the candidates"))
        else:
            near = closest(text, allowed)
            problems.append(Problem(
                reason=f"is not a reaction of the model {model.id}", field="candidates",
                value=text, fix="use a reaction id of the chassis"
                + (f" (closest: {near})" if near else "")))
    if problems:
        raise ValidationFailed("the knockout candidates cannot be used", problems)
    return sorted(set(chosen))


def _chassis_summary(summary: Any) -> dict[str, Any]:
    counts = summary.counts
    return {"sbml_digest": summary.digest, "model_id": summary.model_id,
            "reaction_count": counts["reactions"], "metabolite_count": counts["metabolites"],
            "gene_count": counts["genes"], "growth_rate": _rounded(summary.growth),
            "mass_imbalanced": len(summary.mass_imbalanced),
            "charge_imbalanced": len(summary.charge_imbalanced),
            "blocked_reactions": None if summary.blocked is None else len(summary.blocked)}


def _rounded(value: Any) -> Any:
    """Numbers as the record shows them: 6 significant decimals, no -0."""
    if isinstance(value, float) and not isinstance(value, bool):
        return 0.0 if abs(value) < 1e-9 or math.isnan(value) else round(value, 6)
    return value


def _cell(value: Any) -> str:
    return "" if value is None else f"{value:.6g}"


def _solver_text(provenance: Mapping[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(provenance.items()))


def _reaction_id(text: str) -> str:
    """A part's reaction id as SBML allows it (letters, digits and _)."""
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in text)
    return out if out[:1].isalpha() or out[:1] == "_" else f"R_{out}"


def _equation_ids(equation: str) -> list[str]:
    from lanhai.design.equations import parse_equation

    return list(parse_equation(equation).coefficients)


def _write_sbml(model: cobra.Model) -> bytes:
    import cobra

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.xml"
        cobra.io.write_sbml_model(model, str(path))
        return path.read_bytes()


__all__ = ["Built", "DesignService", "canonical_json"]
