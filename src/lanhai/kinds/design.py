"""Chassis models and strain designs: the records of metabolic engineering.

A chassis (LHCH) is a genome-scale metabolic model, either one that ships with cobrapy
(``bundled``) or an SBML file registered with ``lanhai design chassis``; a strain record is
linked to it (``strain --modelled_as--> chassis``). A design (LHDS) names a chassis, the
parts whose reactions it adds, the reactions or genes it deletes, its medium and product;
``lanhai design run`` computes its numbers, which the record keeps as computed fields.
"""

from __future__ import annotations

import re
from typing import Any

from lanhai.errors import Problem
from lanhai.kinds import vocab
from lanhai.kinds.fields import COMMON_FIELDS, Field, Fields, KindSpec, unique
from lanhai.kinds.vocab import FieldError, ValueContext

#: models cobrapy ships, by every name they go by -> the name :mod:`lanhai.design.chassis`
#: loads them under (a test keeps this in step with it)
BUNDLED_NAMES = {"textbook": "textbook", "e_coli_core": "textbook", "ijo1366": "iJO1366",
                 "salmonella": "salmonella", "iys1720": "salmonella"}
CHASSIS_PREFIX = "LHCH"
PART_PREFIX = "LHPT"
#: knockout searches a design may be given
KNOCKOUT_METHODS = ("optknock", "optcouple", "mcs", "search")
#: a reaction, metabolite or gene id as models spell them (BiGG: LDH_D, succ_e, b1241)
MODEL_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_UPTAKE = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*[=:]\s*(\S+)$")
_ACCESSION = re.compile(r"^LH[A-Z]{2}[0-9A-Z]{7}$")


def bundled(value: Any, ctx: ValueContext, name: str) -> str:
    """A model shipped with cobrapy, by any of its names ('e_coli_core' -> 'textbook')."""
    raw = vocab.text(value, ctx, name)
    found = BUNDLED_NAMES.get(raw.lower())
    if found is None:
        raise FieldError("is not a model that ships with cobrapy",
                         "use one of: " + ", ".join(sorted(BUNDLED_NAMES)))
    return found


def chassis_reference(value: Any, ctx: ValueContext, name: str) -> str:
    """The chassis of a design: a chassis accession (LHCH…) or a bundled model's name."""
    raw = vocab.text(value, ctx, name)
    if raw.upper().startswith(CHASSIS_PREFIX):
        if not _ACCESSION.match(raw.upper()):
            raise FieldError("is not a chassis accession",
                             "write the chassis's accession (LHCH0000001) or the name of a "
                             "bundled model (textbook, iJO1366, salmonella)")
        return raw.upper()
    return bundled(raw, ctx, name)


def identifier(value: Any, ctx: ValueContext, name: str) -> str:
    """A model identifier: a reaction, metabolite or gene id (letters, digits, _ . -)."""
    raw = vocab.text(value, ctx, name)
    if not MODEL_ID.match(raw):
        raise FieldError("is not a model identifier",
                         "write the id as the model spells it (succ_e, EX_glc__D_e, b1241)")
    return raw


def identifiers(value: Any, ctx: ValueContext, name: str) -> list[str]:
    """A list of model identifiers ('LDH_D; PTAr'), each checked, duplicates dropped."""
    return unique([identifier(v, ctx, name) for v in vocab.text_list(value, ctx, name)])


def part_accessions(value: Any, ctx: ValueContext, name: str) -> list[str]:
    """Part accessions ('LHPT0000001; LHPT0000002'), upper-cased, duplicates dropped."""
    out = []
    for item in vocab.text_list(value, ctx, name):
        acc = item.upper()
        if not (acc.startswith(PART_PREFIX) and _ACCESSION.match(acc)):
            raise FieldError(f"{item!r} is not a part accession",
                             "give the accessions of the bank's parts (LHPT0000001)")
        out.append(acc)
    return unique(out)


def medium(value: Any, ctx: ValueContext, name: str) -> list[str]:
    """Uptake bounds of exchange reactions that change the chassis's own medium,
    'EX_glc__D_e=10; EX_o2_e=0' (mmol/gDW/h; 0 closes an uptake)."""
    out: dict[str, str] = {}
    for item in vocab.text_list(value, ctx, name):
        match = _UPTAKE.match(item)
        if not match:
            raise FieldError(f"{item!r} is not an uptake bound",
                             "write exchange=uptake in mmol/gDW/h, separated by ';' "
                             "(EX_glc__D_e=10; EX_o2_e=20)")
        bound = vocab.number(match[2], ctx, name)
        if bound < 0 or bound != bound:
            raise FieldError(f"the uptake of {match[1]} is negative",
                             "give an uptake of 0 (closed) or more")
        out[match[1]] = f"{match[1]}={bound:g}"
    return list(out.values())


def uptake_bounds(values: list[str]) -> dict[str, float]:
    """The medium field's items as exchange id -> uptake bound."""
    return {item.split("=", 1)[0]: float(item.split("=", 1)[1]) for item in values}


def growth_fraction(value: Any, ctx: ValueContext, name: str) -> float:
    """A growth rate in 1/h, at least 0."""
    num = vocab.number(value, ctx, name)
    if num < 0:
        raise FieldError("is negative", "give a growth rate of 0 or more (1/h)")
    return num


CHASSIS_FIELDS = (
    Field("model_name", required=True, missing_ok=False, group="Model",
          aliases=("name", "model", "模型名称"),
          description="Name of the model.", example="E. coli K-12 MG1655 (iJO1366)"),
    Field("bundled", bundled, group="Model",
          aliases=("bundled model", "cobra model", "内置模型"),
          description="A model that ships with cobrapy (textbook, iJO1366, salmonella); "
                      "otherwise upload the SBML with `lanhai design chassis`.",
          example="iJO1366"),
    Field("organism", group="Model", aliases=("species", "物种"),
          description="Organism the model describes."),
    Field("reference", group="Model", aliases=("citation", "doi", "文献"),
          description="Publication of the model."),
    *COMMON_FIELDS,
    Field("sbml_digest", group="Model check",
          description="SHA-256 of the model's SBML text (computed)."),
    Field("model_id", group="Model check", description="The SBML model's id (computed)."),
    Field("reaction_count", vocab.integer, group="Model check",
          description="Reactions in the model (computed)."),
    Field("metabolite_count", vocab.integer, group="Model check",
          description="Metabolites in the model (computed)."),
    Field("gene_count", vocab.integer, group="Model check",
          description="Genes in the model (computed)."),
    Field("growth_rate", vocab.number, group="Model check",
          description="Growth on the model's own medium, 1/h (computed by FBA)."),
    Field("mass_imbalanced", vocab.integer, group="Model check",
          description="Reactions not mass balanced, boundary and biomass left out "
                      "(computed)."),
    Field("charge_imbalanced", vocab.integer, group="Model check",
          description="Reactions not charge balanced (computed)."),
    Field("blocked_reactions", vocab.integer, group="Model check",
          description="Reactions that carry no flux with every exchange open (computed)."),
)
CHASSIS_SUMMARY = ("sbml_digest", "model_id", "reaction_count", "metabolite_count",
                   "gene_count", "growth_rate", "mass_imbalanced", "charge_imbalanced",
                   "blocked_reactions")

DESIGN_FIELDS = (
    Field("title", required=True, missing_ok=False, group="Design",
          aliases=("name", "design", "design name", "设计名称"),
          description="Name of the design.", example="PHB from glucose in E. coli core"),
    Field("chassis", chassis_reference, required=True, missing_ok=False, group="Design",
          aliases=("chassis model", "model", "底盘"),
          description="The chassis: a chassis accession (LHCH…) or a bundled model "
                      "(textbook, iJO1366, salmonella).", example="textbook"),
    Field("product", identifier, required=True, missing_ok=False, group="Design",
          aliases=("target", "product metabolite", "产物"),
          description="The product's metabolite id in the model or the pathway.",
          example="succ_c"),
    Field("carbon_source", identifier, group="Design",
          aliases=("substrate", "carbon source exchange", "碳源"),
          description="Exchange reaction of the carbon source the yield is counted on "
                      "(EX_glc__D_e when not given).", example="EX_glc__D_e"),
    Field("medium", medium, group="Design", aliases=("uptake", "培养基"),
          description="Uptake bounds in mmol/gDW/h that change the chassis's own medium "
                      "(0 closes an uptake: EX_o2_e=0 is anaerobic).",
          example="EX_glc__D_e=10; EX_o2_e=0"),
    Field("objective", identifier, group="Design", aliases=("growth reaction", "目标函数"),
          description="The growth (biomass) reaction (the model's objective when not "
                      "given)."),
    Field("parts", part_accessions, group="Pathway",
          aliases=("added parts", "part accessions", "元件"),
          description="Parts whose reactions are added, by accession.",
          example="LHPT0000001; LHPT0000002"),
    Field("reaction_deletions", identifiers, group="Pathway",
          aliases=("deletions", "knockouts", "deleted reactions", "敲除反应"),
          description="Reactions of the chassis switched off.", example="LDH_D; PTAr"),
    Field("gene_deletions", identifiers, group="Pathway",
          aliases=("deleted genes", "gene knockouts", "敲除基因"),
          description="Genes of the chassis deleted.", example="b1241"),
    Field("min_growth", growth_fraction, group="Pathway",
          aliases=("minimum growth", "最低生长速率"),
          description="Growth the design must keep, 1/h (yields and knockout searches).",
          example="0.1"),
    *COMMON_FIELDS,
    Field("growth_rate", vocab.number, group="Results",
          description="Maximum growth, 1/h (computed by FBA)."),
    Field("product_flux", vocab.number, group="Results",
          description="Product flux at maximum growth, the least FBA allows, mmol/gDW/h "
                      "(computed)."),
    Field("max_product_flux", vocab.number, group="Results",
          description="Most product the design can make, mmol/gDW/h (computed)."),
    Field("max_yield", vocab.number, group="Results",
          description="Maximum theoretical yield, mol product per mol carbon source "
                      "(computed)."),
    Field("max_mass_yield", vocab.number, group="Results",
          description="Maximum theoretical yield, g per g (computed)."),
    Field("max_carbon_yield", vocab.number, group="Results",
          description="Maximum theoretical yield, C-mol per C-mol (computed)."),
    Field("growth_coupled", vocab.boolean, group="Results",
          description="Whether growing at the maximum forces the product out (computed)."),
    Field("result_digest", group="Results",
          description="SHA-256 of the stored analysis (computed)."),
    Field("knockout_digest", group="Results",
          description="SHA-256 of the stored knockout search (computed)."),
    Field("best_knockouts", vocab.text_list, group="Results",
          description="The best growth-coupled knockouts found (computed)."),
    Field("solver", group="Results", description="Solver and versions used (computed)."),
)
DESIGN_SUMMARY = ("growth_rate", "product_flux", "max_product_flux", "max_yield",
                  "max_mass_yield", "max_carbon_yield", "growth_coupled", "result_digest",
                  "knockout_digest", "best_knockouts", "solver")


def _chassis_identifiers(fields: Fields) -> list[str]:
    digest = fields.get("sbml_digest")
    return unique([*([f"sbml:{digest}"] if digest else []), *fields.get("identifiers", [])])


def _design_identifiers(fields: Fields) -> list[str]:
    return unique(fields.get("identifiers", []))


def _nothing_deleted_twice(fields: Fields) -> list[Problem]:
    both = set(fields.get("reaction_deletions", [])) & set(fields.get("gene_deletions", []))
    return [Problem(reason=f"{rid} is both a reaction and a gene deletion",
                    field="gene_deletions", value=rid,
                    fix="name it once, under reaction_deletions or gene_deletions")
            for rid in sorted(both)]


CHASSIS_SPEC = KindSpec(
    name="chassis", prefix=CHASSIS_PREFIX, title="Chassis model", standard="SBML (FBC)",
    fields=CHASSIS_FIELDS, name_field="model_name", identifiers=_chassis_identifiers,
    computed=CHASSIS_SUMMARY, summary_fields=CHASSIS_SUMMARY, taxon_field="organism",
)
DESIGN_SPEC = KindSpec(
    name="design", prefix="LHDS", title="Strain design", standard="SBML (FBC) + SBOL3",
    fields=DESIGN_FIELDS, name_field="title", identifiers=_design_identifiers,
    checks=(_nothing_deleted_twice,), computed=DESIGN_SUMMARY, summary_fields=DESIGN_SUMMARY,
)
