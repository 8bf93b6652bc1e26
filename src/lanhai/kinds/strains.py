"""Strain: the MIRRI-IS / WFCC minimum data set, risk group stored with its scheme."""

from __future__ import annotations

from typing import Any

from lanhai.errors import Problem
from lanhai.kinds import vocab
from lanhai.kinds.fields import COMMON_FIELDS, Field, Fields, KindSpec, known, unique
from lanhai.kinds.vocab import FieldError, ValueContext

MIRRI = "MIRRI-IS / WFCC minimum data set"

ORGANISM_TYPES = ("Algae", "Archaea", "Bacteria", "Cyanobacteria", "Filamentous Fungi",
                  "Phage", "Plasmid", "Virus", "Yeast", "Microalgae", "Protist")
RESTRICTIONS = ("no restriction", "only for non-commercial purposes", "other restriction")
NAGOYA = ("no known Nagoya restrictions", "documents providing proof of legal access available",
          "probably in scope, contact the collection")
SUPPLY_FORMS = ("Agar", "Cryo", "Dry Ice", "Liquid Culture Medium", "Lyo", "Oil", "Water",
                "DNA")
#: risk-group schemes; China's Regulations on Biosafety of Pathogenic Microorganism
#: Laboratories rank class I as the MOST dangerous, the reverse of WHO/EU/NIH.
RISK_SCHEMES = ("WHO", "EU", "NIH", "China")

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "一": 1, "二": 2, "三": 3, "四": 4}


def organism_type(value: Any, ctx: ValueContext, name: str) -> str:
    codes = {str(i + 1): t for i, t in enumerate(ORGANISM_TYPES[:9])}
    raw = vocab.text(value, ctx, name)
    if raw in codes:  # MIRRI numeric codes 1-9
        return codes[raw]
    result: str = vocab.choice(ORGANISM_TYPES, {"fungi": "Filamentous Fungi", "fungus":
                                         "Filamentous Fungi", "bacterium": "Bacteria"})(
        raw, ctx, name)
    return result


def coded(options: tuple[str, ...]) -> vocab.Normaliser:
    """MIRRI coded fields: the code (1, 2, 3) or the text."""
    by_text = vocab.choice(options)

    def normalise(value: Any, ctx: ValueContext, name: str) -> str:
        raw = vocab.text(value, ctx, name)
        if raw.isdigit() and 1 <= int(raw) <= len(options):
            return options[int(raw) - 1]
        result: str = by_text(raw, ctx, name)
        return result

    return vocab.offer(normalise, options)


def risk_group(value: Any, ctx: ValueContext, name: str) -> str:
    """'2', 'II', '三类', 'RG2' -> the class number as text ('2')."""
    raw = vocab.text(value, ctx, name).lower().replace("rg", "").replace("class", "")
    raw = raw.replace("类", "").replace("第", "").strip()
    if raw.isdigit() and 1 <= int(raw) <= 4:
        return raw
    if raw in _ROMAN:
        return str(_ROMAN[raw])
    raise FieldError("is not a risk group 1-4", "write 1-4 (or I-IV) and give risk_group_scheme")


def hazard_rank(group: str, scheme: str) -> int:
    """Comparable hazard 1 (least) .. 4 (most dangerous) whatever the scheme."""
    num = int(group)
    return 5 - num if scheme == "China" else num


FIELDS = (
    Field("taxon_name", required=True, missing_ok=False, group="Identity",
          aliases=("organism", "species", "organism name", "scientific name", "taxon",
                   "菌种名称"),
          description="Scientific name, e.g. 'Zobellia galactanivorans'.",
          example="Zobellia galactanivorans"),
    Field("strain_designation", group="Identity",
          aliases=("strain", "strain name", "designation", "菌株编号"),
          description="Strain designation given by the isolator, e.g. 'DsijT'."),
    Field("collection_numbers", vocab.collection_numbers, group="Identity",
          aliases=("culture collection", "culturecollection", "accession number",
                   "other culture collection numbers", "collection number", "保藏编号"),
          description="Culture-collection numbers this strain is known under ('DSM 12345; "
                      "CGMCC 1.6783'); the same strain under several numbers is one record.",
          example="DSM 12802; CIP 106680"),
    Field("taxid", vocab.ncbi_taxid, group="Identity", aliases=("ncbi taxid", "taxon id"),
          description="NCBI Taxonomy id."),
    Field("type_strain", vocab.yes_no, group="Identity", aliases=("is type strain",),
          description="Is this the nomenclatural type strain?"),
    Field("organism_type", vocab.offer(organism_type, ORGANISM_TYPES), required=True,
          group="Identity",
          aliases=("organism type", "organism group"),
          description="MIRRI organism type: " + ", ".join(ORGANISM_TYPES), example="Bacteria"),
    Field("restrictions_on_use", coded(RESTRICTIONS), required=True, group="Access",
          aliases=("restrictions on use", "restriction on use"),
          description="MIRRI restrictions on use: 1 " + "; 2 ".join(RESTRICTIONS[:2]) +
                      "; 3 " + RESTRICTIONS[2], example="1"),
    Field("nagoya_compliance", coded(NAGOYA), required=True, group="Access",
          aliases=("nagoya protocol restrictions and compliance conditions", "nagoya",
                   "abs"),
          description="MIRRI Nagoya/ABS status (1-3).", example="1"),
    Field("risk_group", risk_group, required=True, group="Biosafety",
          aliases=("risk group", "biosafety level", "危害程度分类"),
          description="Risk group 1-4 in the scheme named by risk_group_scheme.", example="1"),
    Field("risk_group_scheme", vocab.choice(RISK_SCHEMES, {"who": "WHO", "cn": "China",
                                                           "中国": "China", "prc": "China"}),
          required=True, group="Biosafety", aliases=("risk group scheme", "biosafety scheme"),
          description="Scheme of risk_group: WHO, EU, NIH or China (China's class I is the "
                      "most dangerous).", example="WHO"),
    Field("recommended_temperature", vocab.temperature, required=True, group="Cultivation",
          aliases=("recommended growth temperature", "growth temperature", "temp optimum",
                   "培养温度"),
          description="Recommended growth temperature, °C (range allowed).", example="25"),
    Field("recommended_medium", required=True, group="Cultivation",
          aliases=("recommended medium for growth", "medium", "growth medium", "培养基"),
          description="Recommended growth medium.", example="Marine agar 2216"),
    Field("form_of_supply", vocab.offer(lambda v, c, n: [vocab.choice(SUPPLY_FORMS)(x, c, n)
                                                         for x in vocab.text_list(v, c, n)],
                                        SUPPLY_FORMS, multiple=True),
          required=True, group="Access", aliases=("form of supply", "supply form"),
          description="Forms the strain is supplied in: " + ", ".join(SUPPLY_FORMS),
          example="Lyo; Agar"),
    Field("geographic_origin", required=True, group="Origin",
          aliases=("geographic origin", "country of origin", "origin", "地理来源"),
          description="Where the strain's source was collected.",
          example="France: Roscoff"),
    Field("isolation_habitat", group="Origin", aliases=("habitat", "isolated from",
                                                       "isolation source"),
          description="Substrate or host it was isolated from."),
    Field("latitude", vocab.latitude, group="Origin", description="Decimal degrees."),
    Field("longitude", vocab.longitude, group="Origin", description="Decimal degrees."),
    Field("marine", vocab.yes_no, group="Origin",
          description="Counts as a marine strain for the programme's targets."),
    Field("degrades", vocab.text_list, group="Function",
          aliases=("plastic degraded", "degrades plastics"),
          description="Plastics/textile polymers it is shown to degrade (PET; PU …)."),
    Field("isolation_date", vocab.partial_date, group="Origin",
          description="Date of isolation."),
    Field("isolator", group="Origin", description="Who isolated it."),
    Field("depositor", group="Origin", description="Who deposited it in the collection."),
    Field("deposit_history", group="Origin", aliases=("history of deposit",),
          description="Chain of collections ('DSM <- CIP <- isolator')."),
    Field("gc_content", vocab.percentage, group="Genome", aliases=("gc", "gc %"),
          description="Genomic G+C, mol %."),
    Field("sequence_accessions", vocab.text_list, group="Genome",
          aliases=("16s rrna accession", "genome accession", "insdc accessions"),
          description="INSDC accessions of its sequences."),
    Field("status", vocab.choice(("available", "not available", "in preparation")),
          group="Access", description="Whether the strain can be ordered."),
    *COMMON_FIELDS,
)


def identifiers(fields: Fields) -> list[str]:
    return unique([*fields.get("collection_numbers", []), *fields.get("identifiers", [])])


def derive(fields: Fields) -> list[Problem]:
    fields.pop("hazard_rank", None)
    if known(fields, "risk_group") and known(fields, "risk_group_scheme"):
        fields["hazard_rank"] = hazard_rank(fields["risk_group"], fields["risk_group_scheme"])
    return []


def _needs_identity(fields: Fields) -> list[Problem]:
    if fields.get("collection_numbers") or fields.get("strain_designation"):
        return []
    return [Problem(reason="needs a collection number or a strain designation",
                    fix="give collection_numbers (e.g. 'DSM 12802') or strain_designation",
                    field="collection_numbers")]


SPEC = KindSpec(
    name="strain", prefix="LHST", title="Strain", standard=MIRRI, fields=FIELDS,
    name_field="taxon_name", identifiers=identifiers, derive=derive,
    checks=(_needs_identity,), computed=("hazard_rank",), taxon_field="taxon_name",
)
