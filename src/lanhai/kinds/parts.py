"""Genetic part: an SBOL3 Component with type, role, sequence and provenance."""

from __future__ import annotations

import re
from typing import Any

from lanhai.design.equations import normal_ec, parse_equation
from lanhai.errors import Problem, ValidationFailed
from lanhai.kinds import vocab
from lanhai.kinds.design import MODEL_ID, identifier
from lanhai.kinds.fields import COMMON_FIELDS, Field, Fields, KindSpec, unique
from lanhai.kinds.vocab import FieldError, ValueContext

STANDARD = "SBOL3 Component"

#: SBO component types
TYPES = {
    "dna": "https://identifiers.org/SBO:0000251",
    "rna": "https://identifiers.org/SBO:0000250",
    "protein": "https://identifiers.org/SBO:0000252",
}
#: common Sequence Ontology roles (name -> SO id)
ROLES = {
    "promoter": "SO:0000167", "rbs": "SO:0000139", "ribosome entry site": "SO:0000139",
    "cds": "SO:0000316", "coding sequence": "SO:0000316", "terminator": "SO:0000141",
    "engineered region": "SO:0000804", "plasmid vector": "SO:0000755",
    "origin of replication": "SO:0000296", "operator": "SO:0000057", "gene": "SO:0000704",
    "signal peptide": "SO:0000418", "spacer": "SO:0002223", "insulator": "SO:0000627",
    "ribozyme": "SO:0000374", "sgrna": "SO:0001998", "polypeptide domain": "SO:0000417",
    "engineered gene": "SO:0000280", "protein coding gene": "SO:0001217",
}
_SO = re.compile(r"(?:https?://identifiers\.org/)?SO[:_](\d{7})", re.I)


def part_type(value: Any, ctx: ValueContext, name: str) -> str:
    raw = vocab.text(value, ctx, name)
    if raw in TYPES.values():
        return raw
    key = raw.lower().replace("sbo:", "").strip()
    if key in TYPES:
        return TYPES[key]
    for term in TYPES.values():
        if term.endswith(key.upper()) or term.endswith("SBO:" + key):
            return term
    raise FieldError("is not an SBOL3 component type", "use DNA, RNA or protein")


def part_role(value: Any, ctx: ValueContext, name: str) -> str:
    """A Sequence Ontology role, as 'SO:0000167' or by name ('promoter')."""
    raw = vocab.text(value, ctx, name)
    match = _SO.search(raw)
    if match:
        return f"https://identifiers.org/SO:{match[1]}"
    key = re.sub(r"[_\-]+", " ", raw.lower()).strip()
    if key in ROLES:
        return f"https://identifiers.org/{ROLES[key]}"
    raise FieldError("is not a Sequence Ontology role",
                     "write SO:nnnnnnn or one of: " + ", ".join(sorted(ROLES)))


_PROTEIN = re.compile(r"^[ACDEFGHIKLMNPQRSTVWYBZXUO*]+$")


def _display_id(value: Any, ctx: ValueContext, name: str) -> str:
    raw = vocab.text(value, ctx, name)
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", raw):
        raise FieldError("is not a valid SBOL3 displayId",
                         "use letters, digits and _ only, not starting with a digit "
                         "(BBa_J23119)")
    return raw


_FORMULA = re.compile(r"^(?:[A-Z][a-z]?\d*)+$")


def ec_numbers(value: Any, ctx: ValueContext, name: str) -> list[str]:
    """EC numbers ('2.4.1.69', 'EC 1.1.1.36; 2.3.1.-'), written without the 'EC '."""
    out = []
    for item in vocab.text_list(value, ctx, name):
        ec = normal_ec(item)
        if ec is None:
            raise FieldError(f"holds {item!r}, not an EC number",
                             "write four numbers separated by dots, '-' for a level not "
                             "known (2.4.1.69, 2.3.1.-)")
        out.append(ec)
    return unique(out)


def reaction_equation(value: Any, ctx: ValueContext, name: str) -> str:
    """The reaction the part catalyses over a model's metabolite ids, substrates first
    ('gdpfuc_c + lcts_c -> 2fl_c + gdp_c + h_c'; '<=>' when reversible)."""
    raw = " ".join(vocab.text(value, ctx, name).split())
    try:
        parse_equation(raw, "the part")
    except ValidationFailed as err:
        first = err.problems[0]
        raise FieldError(first.reason, first.fix) from None
    return raw


def new_metabolites(value: Any, ctx: ValueContext, name: str) -> list[str]:
    """Metabolites the part's reaction makes that a chassis may lack, each as
    'id formula charge name' ('2fl_c C18H32O15 0 2'-Fucosyllactose'), separated by ';'."""
    out = []
    for item in vocab.text_list(value, ctx, name):
        words = item.split()
        charge = words[2] if len(words) >= 3 else ""
        if (len(words) < 3 or not MODEL_ID.match(words[0]) or "_" not in words[0]
                or not _FORMULA.match(words[1])
                or not charge.lstrip("+-").isdigit()):
            raise FieldError(f"{item!r} is not 'id formula charge name'",
                             "write each metabolite as its id with the compartment, its "
                             "formula and charge, then its name (2fl_c C18H32O15 0 "
                             "2'-Fucosyllactose), separated by ';'")
        out.append(" ".join(words))
    return out


FIELDS = (
    Field("display_id", _display_id, required=True, missing_ok=False, group="SBOL3",
          aliases=("displayid", "part id", "part name", "id", "identifier", "元件编号"),
          description="SBOL3 displayId.", example="BBa_J23119"),
    Field("part_name", group="SBOL3", aliases=("name", "title"), description="Human name."),
    Field("part_type", part_type, required=True, missing_ok=False, group="SBOL3", aliases=("type",),
          description="SBO type: DNA, RNA or protein.", example="DNA"),
    Field("role", part_role, required=True, missing_ok=False, group="SBOL3",
          aliases=("roles", "so role", "part role"),
          description="Sequence Ontology role.", example="promoter (SO:0000167)"),
    Field("sequence", required=True, missing_ok=False, group="SBOL3",
          aliases=("seq", "elements", "序列"),
          description="Sequence (IUPAC DNA/RNA or protein letters).",
          example="ttgacagctagctcagtcctaggtataatgctagc"),
    Field("organism", group="Provenance", description="Source organism of the sequence."),
    Field("evidence", group="Provenance",
          description="How the part was found or characterised."),
    Field("source", group="Provenance", aliases=("source prefix", "source id", "origin"),
          description="Where the part comes from (registry, paper)."),
    Field("ec_number", ec_numbers, group="Reaction",
          aliases=("ec", "ec numbers", "enzyme commission number", "EC号"),
          description="EC numbers of the reaction the part's enzyme catalyses.",
          example="2.4.1.69"),
    Field("reaction", reaction_equation, group="Reaction",
          aliases=("equation", "reaction equation", "反应式"),
          description="The reaction over a model's metabolite ids, substrates first.",
          example="gdpfuc_c + lcts_c -> 2fl_c + gdp_c + h_c"),
    Field("reaction_id", identifier, group="Reaction",
          aliases=("reaction identifier", "bigg reaction", "反应编号"),
          description="The reaction's id in a model (BiGG), used as the added reaction's "
                      "id, or to copy the reaction from a bundled model when no equation "
                      "is given.", example="FUT2FL"),
    Field("new_metabolites", new_metabolites, group="Reaction",
          aliases=("metabolites", "新代谢物"),
          description="Metabolites of the reaction a chassis may lack: id formula charge "
                      "name.", example="2fl_c C18H32O15 0 2'-Fucosyllactose"),
    Field("gene_name", identifier, group="Reaction", aliases=("gene", "基因名"),
          description="Gene name of the part's coding sequence.", example="futC"),
    Field("protein_family", vocab.text_list, group="Reaction",
          aliases=("family", "families", "pfam", "cazy family", "蛋白家族"),
          description="Protein families of the enzyme (Pfam, CAZy).", example="GT11"),
    *COMMON_FIELDS,
)


def _sequence_alphabet(fields: Fields) -> list[Problem]:
    seq = re.sub(r"\s+", "", str(fields.get("sequence", "")))
    if fields.get("part_type") == TYPES["protein"]:
        if not _PROTEIN.match(seq.upper()):
            return [Problem(reason="is not a protein sequence", fix="use amino-acid letters",
                            field="sequence", value=seq[:50])]
        fields["sequence"] = seq.upper()
        return []
    try:
        fields["sequence"] = vocab.dna_sequence(seq, ValueContext(), "sequence")
    except FieldError as err:
        return [Problem(reason=err.reason, fix=err.fix, field="sequence", value=seq[:50])]
    return []


def derive(fields: Fields) -> list[Problem]:
    fields["length"] = len(fields["sequence"])
    return []


def identifiers(fields: Fields) -> list[str]:
    return unique([f"part:{fields.get('display_id')}", *fields.get("identifiers", [])])


SPEC = KindSpec(
    name="part", prefix="LHPT", title="Genetic part", standard=STANDARD, fields=FIELDS,
    name_field="display_id", identifiers=identifiers, derive=derive,
    checks=(_sequence_alphabet,), computed=("length",), taxon_field="organism",
)
