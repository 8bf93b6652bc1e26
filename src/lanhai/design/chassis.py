"""Chassis models: cobrapy's bundled models read offline from its package data, a user's SBML
validated, and a memote-style summary of any model.

Nothing here reaches the network: the bundled models are read from the files cobrapy ships
(``cobra/data``) with :func:`cobra.io.read_sbml_model`, never through
``cobra.io.load_model``, which may consult remote repositories.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import cobra
from cobra.flux_analysis import find_blocked_reactions

from lanhai.design.common import (
    TOLERANCE,
    number,
    objective_terms,
    objective_text,
    provenance,
)
from lanhai.errors import Problem, UsageError, ValidationFailed

#: the largest SBML accepted, uncompressed (iJO1366 is 11 MB; Recon3D about 40 MB)
MAX_SBML_BYTES = 200 * 1024 * 1024
#: how many validation problems an error lists at most
MAX_PROBLEMS = 50
_SBML_MESSAGE = re.compile(
    r"^E\d+ \((?P<severity>[^)]*)\): (?P<category>.*?) \((?P<package>[^,]*), L(?P<line>\d+)\); "
    r"(?P<short>[^;]*); (?P<message>.*)$", re.S)


@dataclass(frozen=True)
class Bundled:
    """A model shipped with cobrapy."""

    name: str
    file: str
    model_id: str
    organism: str
    reference: str
    aliases: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "model_id": self.model_id, "organism": self.organism,
                "reference": self.reference, "aliases": list(self.aliases)}


BUNDLED: dict[str, Bundled] = {b.name: b for b in (
    Bundled("textbook", "textbook.xml.gz", "e_coli_core",
            "Escherichia coli K-12 MG1655, core metabolism",
            "Orth, Fleming & Palsson (2010) EcoSal Plus, doi:10.1128/ecosalplus.10.2.1",
            ("e_coli_core",)),
    Bundled("iJO1366", "iJO1366.xml.gz", "iJO1366",
            "Escherichia coli K-12 MG1655, genome scale",
            "Orth et al. (2011) Mol Syst Biol 7:535, doi:10.1038/msb.2011.65"),
    Bundled("salmonella", "salmonella.xml.gz", "iYS1720",
            "Salmonella enterica serovar Typhimurium LT2, genome scale",
            "Seif et al. (2018) Nat Commun 9:3771, doi:10.1038/s41467-018-06112-5",
            ("iYS1720",)),
)}


@dataclass
class Chassis:
    """A model ready for design, with where it came from and the SHA-256 of its SBML text."""

    name: str
    model: cobra.Model
    digest: str
    source: str
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "model_id": str(self.model.id), "digest": self.digest,
                "source": self.source, "warnings": list(self.warnings)}


def bundled_models() -> list[dict[str, Any]]:
    """The models shipped with cobrapy that :func:`load_bundled` reads."""
    return [BUNDLED[name].as_dict() for name in sorted(BUNDLED)]


def find_bundled(name: str) -> Bundled:
    """The bundled model called ``name`` (or one of its aliases, any case)."""
    key = name.strip().lower()
    for entry in BUNDLED.values():
        if key == entry.name.lower() or key in (a.lower() for a in entry.aliases):
            return entry
    names = sorted([*BUNDLED, *(a for b in BUNDLED.values() for a in b.aliases)])
    raise UsageError(f"no bundled model is called {name!r}", [Problem(
        reason="is not a bundled model", field="chassis", value=name,
        fix="use one of: " + ", ".join(names))])


def load_bundled(name: str) -> Chassis:
    """Read a model cobrapy ships (``textbook``/``e_coli_core``, ``iJO1366``,
    ``salmonella``/``iYS1720``) from its package data, offline."""
    entry = find_bundled(name)
    packed = resources.files("cobra").joinpath("data", entry.file).read_bytes()
    text = gzip.decompress(packed)
    model = cobra.io.read_sbml_model(io.StringIO(text.decode("utf-8")))
    return Chassis(name=entry.name, model=model, digest=hashlib.sha256(text).hexdigest(),
                   source=f"cobra {cobra.__version__} package data: {entry.file}")


def sbml_digest(data: bytes) -> str:
    """The SHA-256 of an SBML text (of the uncompressed text when ``data`` is gzip'ed)."""
    return hashlib.sha256(unpacked(data, "the SBML")).hexdigest()


def unpacked(data: bytes, name: str) -> bytes:
    """The SBML text of ``data`` (gunzipped when it is gzip'ed), refused past the size
    limit."""
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
                text = handle.read(MAX_SBML_BYTES + 1)
        except (OSError, EOFError) as err:
            raise ValidationFailed(f"{name} is not a readable gzip file", [Problem(
                reason=f"is not a readable gzip file ({err})", file=name,
                fix="upload the SBML file itself or a complete .xml.gz")]) from None
    else:
        text = data
    if len(text) > MAX_SBML_BYTES:
        raise ValidationFailed(f"{name} is larger than {MAX_SBML_BYTES // 2**20} MiB", [Problem(
            reason=f"is larger than {MAX_SBML_BYTES // 2**20} MiB", file=name,
            fix="upload a smaller model")])
    return text


def _sbml_problem(text: str, name: str, kind: str) -> Problem:
    """One libSBML error as a problem: what it says, on which line."""
    match = _SBML_MESSAGE.match(text.strip())
    line = int(match["line"]) if match else 0
    message = " ".join((match["message"] if match else text).split()).rstrip(".")
    severity = match["severity"].lower() if match else kind.lower()
    reason = (f"SBML fatal error: {message}" if "fatal" in severity
              else f"SBML schema error: {message}" if "schema" in severity
              else f"SBML error: {message}")
    return Problem(reason=reason, file=name, row=line or None,
                   fix="correct the SBML (check it at sbml.org/validator) and upload it again")


def read_sbml(data: bytes, name: str = "upload.xml") -> Chassis:
    """Read a user's SBML (plain or gzip'ed) after validating it with
    :func:`cobra.io.validate_sbml_model`; refuses a model with SBML or COBRA errors, listing
    each with its line where libSBML gives one. Warnings are kept on the chassis."""
    text_bytes = unpacked(data, name)
    try:
        text = text_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValidationFailed(f"{name} is not UTF-8 text", [Problem(
            reason=f"is not UTF-8 text (byte {err.start})", file=name,
            fix="save the SBML as UTF-8 XML")]) from None
    if "<sbml" not in text[:5000]:
        raise ValidationFailed(f"{name} is not an SBML document", [Problem(
            reason="is not an SBML document (no <sbml> element)", file=name,
            fix="upload an SBML level 2 or 3 file (.xml or .xml.gz)")])
    model, errors = cobra.io.validate_sbml_model(io.StringIO(text))
    problems = [_sbml_problem(msg, name, kind)
                for kind in ("SBML_FATAL", "SBML_ERROR", "SBML_SCHEMA_ERROR")
                for msg in errors.get(kind, [])]
    if not problems:  # cobrapy's errors follow from libSBML's when there are any
        problems = [Problem(reason=f"COBRA error: {' '.join(str(msg).split()).rstrip('.')}",
                            file=name, fix="correct the model so that cobrapy can read it")
                    for kind in ("COBRA_FATAL", "COBRA_ERROR") for msg in errors.get(kind, [])
                    if str(msg).strip()]
    if problems or model is None:
        count = len(problems)
        raise ValidationFailed(
            f"{name} is not a valid SBML model: {count} error{'s' if count != 1 else ''}",
            problems[:MAX_PROBLEMS] or [Problem(reason="cannot be read as a model", file=name,
                                                fix="upload a valid SBML model")])
    if not model.reactions:
        raise ValidationFailed(f"{name} holds no reactions", [Problem(
            reason="holds no reactions", file=name,
            fix="upload a metabolic model with reactions and metabolites")])
    warnings = [" ".join(str(m).split()) for kind in ("SBML_WARNING", "COBRA_WARNING")
                for m in errors.get(kind, []) if str(m).strip()]
    return Chassis(name=str(model.id or name), model=model,
                   digest=hashlib.sha256(text_bytes).hexdigest(), source=f"upload: {name}",
                   warnings=warnings[:MAX_PROBLEMS])


# -- summary ---------------------------------------------------------------------------------


def is_biomass(rxn: cobra.Reaction, objective: Collection[cobra.Reaction] = ()) -> bool:
    """Whether a reaction is a biomass (growth) reaction: in ``objective`` (the model's
    objective reactions), or so named."""
    return rxn in objective or "biomass" in f"{rxn.id} {rxn.name}".lower()


def balance(rxn: cobra.Reaction) -> dict[str, float] | None:
    """Products minus substrates for each element and the charge (only the non-zero ones);
    ``None`` when a metabolite has no formula or charge, so the balance cannot be checked."""
    totals: dict[str, float] = {}
    for met, coef in rxn.metabolites.items():
        if not met.formula or met.charge is None:
            return None
        for element, count in met.elements.items():
            totals[element] = totals.get(element, 0.0) + coef * count
        totals["charge"] = totals.get("charge", 0.0) + coef * met.charge
    return {k: v for k, v in sorted(totals.items()) if abs(v) > TOLERANCE}


@dataclass(frozen=True)
class Imbalance:
    """A reaction whose elements or charge do not balance: products minus substrates."""

    reaction: str
    name: str
    difference: Mapping[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {"reaction": self.reaction, "name": self.name,
                "difference": {k: number(v) for k, v in sorted(self.difference.items())}}


@dataclass(frozen=True)
class ModelSummary:
    """Counts, consistency checks and growth of one model, as memote reports them."""

    model_id: str
    name: str
    digest: str | None
    counts: Mapping[str, int]
    compartments: Mapping[str, str]
    objective: str
    growth: float | None
    growth_status: str
    medium: Mapping[str, float | None]
    mass_imbalanced: list[Imbalance]
    charge_imbalanced: list[Imbalance]
    unchecked: list[str]
    blocked: list[str] | None
    dead_ends: list[str]
    orphans: list[str]
    provenance: Mapping[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id, "name": self.name, "digest": self.digest,
            "counts": dict(sorted(self.counts.items())),
            "compartments": dict(sorted(self.compartments.items())),
            "objective": self.objective, "growth": number(self.growth),
            "growth_status": self.growth_status, "medium": dict(sorted(self.medium.items())),
            "mass_imbalanced": [i.as_dict() for i in self.mass_imbalanced],
            "charge_imbalanced": [i.as_dict() for i in self.charge_imbalanced],
            "unchecked": list(self.unchecked),
            "blocked": None if self.blocked is None else list(self.blocked),
            "dead_ends": list(self.dead_ends), "orphans": list(self.orphans),
            "provenance": dict(sorted(self.provenance.items())),
        }


def _made_and_used(model: cobra.Model) -> tuple[set[str], set[str]]:
    """Ids of the metabolites some reaction can produce, and of those some can consume."""
    made: set[str] = set()
    used: set[str] = set()
    for rxn in model.reactions:
        forward, backward = rxn.upper_bound > 0, rxn.lower_bound < 0
        for met, coef in rxn.metabolites.items():
            if (coef > 0 and forward) or (coef < 0 and backward):
                made.add(met.id)
            if (coef < 0 and forward) or (coef > 0 and backward):
                used.add(met.id)
    return made, used


def summarize(model: cobra.Model, digest: str | None = None, *, blocked: bool = True
              ) -> ModelSummary:
    """A memote-style summary: counts, mass and charge imbalance of the reactions that are
    neither boundary nor biomass, blocked reactions (FVA with every exchange open; skipped
    with ``blocked=False``), dead-end metabolites (made, never used) and orphans (used, never
    made), growth on the model's own medium, and the medium."""
    mass: list[Imbalance] = []
    charge: list[Imbalance] = []
    unchecked: list[str] = []
    objective = objective_terms(model)
    for rxn in sorted(model.reactions, key=lambda r: r.id):
        if rxn.boundary or is_biomass(rxn, objective):
            continue
        diff = balance(rxn)
        if diff is None:
            unchecked.append(rxn.id)
            continue
        elements = {k: v for k, v in diff.items() if k != "charge"}
        if elements:
            mass.append(Imbalance(rxn.id, rxn.name, elements))
        if "charge" in diff:
            charge.append(Imbalance(rxn.id, rxn.name, {"charge": diff["charge"]}))
    made, used = _made_and_used(model)
    ids = sorted(m.id for m in model.metabolites)
    growth: float | None = model.slim_optimize(error_value=math.nan)
    status = str(model.solver.status)
    if growth is not None and math.isnan(growth):
        growth = None
    blocked_ids = (sorted(find_blocked_reactions(model, open_exchanges=True, processes=1))
                   if blocked else None)
    return ModelSummary(
        model_id=str(model.id), name=str(model.name or model.id), digest=digest,
        counts={"reactions": len(model.reactions), "metabolites": len(model.metabolites),
                "genes": len(model.genes), "compartments": len(model.compartments),
                "exchanges": len(model.exchanges), "boundary": len(model.boundary)},
        compartments={k: str(v or k) for k, v in model.compartments.items()},
        objective=objective_text(model), growth=growth, growth_status=status,
        medium={k: number(v) for k, v in sorted(model.medium.items())},
        mass_imbalanced=mass, charge_imbalanced=charge, unchecked=unchecked,
        blocked=blocked_ids, dead_ends=[m for m in ids if m in made and m not in used],
        orphans=[m for m in ids if m in used and m not in made],
        provenance=provenance(model))
