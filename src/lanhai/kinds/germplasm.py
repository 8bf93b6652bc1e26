"""Germplasm: FAO/Bioversity Multi-Crop Passport Descriptors (MCPD v2.1) identity."""

from __future__ import annotations

import re
from typing import Any

from lanhai.errors import Problem
from lanhai.kinds import vocab
from lanhai.kinds.fields import COMMON_FIELDS, Field, Fields, KindSpec, known, unique
from lanhai.kinds.vocab import FieldError, ValueContext

MCPD = "FAO/Bioversity MCPD v2.1"

#: MCPD SAMPSTAT codes
SAMPSTAT = {
    "100": "Wild", "110": "Natural", "120": "Semi-natural/wild", "130": "Semi-natural/sown",
    "200": "Weedy", "300": "Traditional cultivar/landrace", "400": "Breeding/research material",
    "410": "Breeder's line", "411": "Synthetic population", "412": "Hybrid",
    "413": "Founder stock/base population", "414": "Inbred line", "415": "Segregating population",
    "416": "Clonal selection", "420": "Genetic stock", "421": "Mutant", "422": "Cytogenetic stocks",
    "423": "Other genetic stocks", "500": "Advanced or improved cultivar", "600": "GMO",
    "999": "Other",
}
#: MCPD STORAGE codes (extended with aquatic live-collection practice under 99)
STORAGE = {
    "10": "Seed collection", "11": "Short term", "12": "Medium term", "13": "Long term",
    "20": "Field collection", "30": "In vitro collection", "40": "Cryopreserved collection",
    "50": "DNA collection", "99": "Other",
}


def _instcode(value: Any, ctx: ValueContext, name: str) -> str:
    raw = vocab.text(value, ctx, name).upper()
    if not re.match(r"^[A-Z]{3}[A-Z0-9]{1,4}$", raw):
        raise FieldError("is not a FAO WIEWS institute code",
                         "write the ISO 3166 alpha-3 country code + number, e.g. CHN001")
    return raw


def _coded(table: dict[str, str]) -> vocab.Normaliser:
    def normalise(value: Any, ctx: ValueContext, name: str) -> str:
        raw = vocab.text(value, ctx, name)
        if raw in table:
            return raw
        for code, label in table.items():
            if label.lower() == raw.lower():
                return code
        raise FieldError("is not an MCPD code", "use one of: " +
                         ", ".join(f"{c} {v}" for c, v in table.items()))
    return vocab.offer(normalise, [(c, f"{c} {v}") for c, v in table.items()])


def _storage(value: Any, ctx: ValueContext, name: str) -> list[str]:
    return [_coded(STORAGE)(v, ctx, name) for v in vocab.text_list(value, ctx, name)]


def _country(value: Any, ctx: ValueContext, name: str) -> str:
    raw = vocab.text(value, ctx, name).upper()
    if not re.match(r"^[A-Z]{3}$", raw):
        raise FieldError("is not an ISO 3166-1 alpha-3 country code", "write e.g. CHN, ESP")
    return raw


FIELDS = (
    Field("instcode", _instcode, required=True, missing_ok=False, group="MCPD identity",
          aliases=("institute code", "holding institute"),
          description="FAO WIEWS code of the holding institute (MCPD INSTCODE).",
          example="CHN001"),
    Field("accenumb", required=True, missing_ok=False, group="MCPD identity",
          aliases=("accession number", "accession", "种质编号"),
          description="Accession number in the holding institute (MCPD ACCENUMB).",
          example="QD-PY-2024-001"),
    Field("genus", required=True, missing_ok=False, group="MCPD identity", aliases=("属",),
          description="Genus (MCPD GENUS).", example="Paralichthys"),
    Field("species", required=True, group="Taxonomy", aliases=("specific epithet", "种"),
          description="Specific epithet (MCPD SPECIES).", example="olivaceus"),
    Field("spauthor", group="Taxonomy", aliases=("species authority",)),
    Field("subtaxa", group="Taxonomy"),
    Field("cropname", group="Taxonomy", aliases=("crop name", "common name")),
    Field("accename", group="Identity", aliases=("accession name", "line name", "品系名称"),
          description="Accession or line name."),
    Field("sampstat", _coded(SAMPSTAT), required=True, group="Status",
          aliases=("biological status", "status", "biological status of accession"),
          description="MCPD biological status code (e.g. 100 wild, 410 breeder's line).",
          example="410"),
    Field("origcty", _country, required=True, group="Origin",
          aliases=("country of origin", "origin country", "origin"),
          description="Country of origin, ISO 3166-1 alpha-3.", example="CHN"),
    Field("acqdate", vocab.partial_date, required=True, group="Status",
          aliases=("acquisition date",),
          description="Acquisition date; MCPD YYYYMMDD with -- for unknown parts accepted.",
          example="20190315"),
    Field("storage", vocab.offer(_storage, [(c, f"{c} {v}") for c, v in STORAGE.items()],
                                 multiple=True), required=True, group="Status",
          aliases=("type of germplasm storage",),
          description="MCPD storage codes (';'-separated), e.g. 40 cryopreserved.",
          example="40;20"),
    Field("collsite", group="Origin", aliases=("collecting site", "location")),
    Field("latitude", vocab.latitude, group="Origin", aliases=("declatitude",)),
    Field("longitude", vocab.longitude, group="Origin", aliases=("declongitude",)),
    Field("colldate", vocab.partial_date, group="Origin", aliases=("collecting date",)),
    Field("collsrc", group="Origin", aliases=("collecting source",)),
    Field("donorcode", group="Origin", aliases=("donor institute code",)),
    Field("mlsstat", vocab.yes_no, group="Status", aliases=("mls status",)),
    Field("ancest", group="Origin", aliases=("ancestral data", "pedigree")),
    *COMMON_FIELDS,
)


def identifiers(fields: Fields) -> list[str]:
    return unique([f"{fields.get('instcode')}:{fields.get('accenumb')}",
                   *fields.get("identifiers", [])])


def derive(fields: Fields) -> list[Problem]:
    species = fields["species"] if known(fields, "species") else "sp."
    fields["taxon_name"] = f"{fields['genus']} {species}"
    return []


SPEC = KindSpec(
    name="germplasm", prefix="LHGP", title="Germplasm", standard=MCPD, fields=FIELDS,
    name_field="accenumb", identifiers=identifiers, derive=derive,
    computed=("taxon_name",), taxon_field="taxon_name",
)
