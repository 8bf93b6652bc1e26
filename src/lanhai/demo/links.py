"""The demo's links: only where the shipped sources say two records belong together.

Each rule is named, documented here and in ``data/PROVENANCE.md``, and applied to what is
in the bank, so a link exists only between records that both came from a source:

``mibig_producer``
    strain --produces--> compound, when the compound's source organism (MIBiG
    ``organism_name``) names exactly a strain in the bank: its species and strain
    designation ('Salinispora tropica CNB-440' = IJSEM 'Salinispora tropica', 'CNB-440T'
    with the type-strain 'T' dropped), or its species and one of its culture-collection
    numbers. A species name alone ('Salinispora tropica') links nothing.
``mcpd_safety_duplicate``
    germplasm --derived_from--> germplasm, when an MCPD row in the shipped vavilov3 table
    says IS_SAVE_DUPLICATE = True and its OTHERNUMB names the other accession
    ('ESP027:BGHZ6945'): the accession is the safety duplicate of that one, so it was
    derived from it (a sub-sample held by a second genebank).

``proteome_of_strain``
    strain --sequenced_as--> assembly, for the Zobellia galactanivorans DsijT proteome: the
    shipped protein file is the one Wolter et al. 2021 published for that strain (their
    strain list gives it the locus-tag prefix ZOBELLIA, which every protein carries).
``type_strain_isolation``
    sample --isolated_from--> strain, for the sample written from a species description
    (its name ends 'source of <strain>'), when it agrees with the strain on the habitat and
    the place: Delesseria sanguinea at Roscoff and Zobellia galactanivorans DsijT
    (Barbeyron et al. 2001).
``genbank_source_strain``
    strain --sequenced_as--> assembly, when the shipped GenBank record's source feature
    names the strain (organism and /strain) and the assembly carries the record's accession:
    Streptomyces uncialis DCA2648 and MIBiG BGC0001377.
``mibig_cluster_compound``
    strain --produces--> compound, when the compound's MIBiG gene cluster is the shipped
    GenBank record of that strain (and MIBiG's producer species is the strain's):
    uncialamycin (BGC0001377) of Streptomyces uncialis DCA2648.
``documented_gene_part``
    assembly --mined_from--> part, made by part mining (``bank.parts``) for a gene the
    sources document whose family the demo's annotation finds too: the characterised CAZymes
    of Zobellia galactanivorans (dbCAN-PUL, CAZy family) and the enediyne polyketide
    synthase ucmE of the uncialamycin cluster (GenBank CDS; ketoacyl synthase domain).
``example_offer_evidence``
    part --evidence_for--> offer: each mined Zobellia CAZyme part stands behind an example
    offer of the technology market (an example listing: no organisation offers it).
``design_chassis``
    chassis --chassis_of--> design: the design names the chassis, the E. coli core model
    that ships with cobrapy (:mod:`lanhai.demo.design`).
``best_knockouts``
    design --derived_from--> design: the second design deletes the reactions of the best
    growth-coupled design the OptKnock search on the first found.

Nothing else is linked: Tara MAGs name no sample and IJSEM strains name no sample.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lanhai.model import Record
from lanhai.services.access import Actor
from lanhai.services.catalog import CatalogService

#: rule name -> (relation, one-line reason shown in the summary)
LINK_RULES: dict[str, tuple[str, str]] = {
    "mibig_producer": ("produces", "MIBiG names this exact strain as the compound's producer"),
    "mcpd_safety_duplicate": ("derived_from", "MCPD: the second accession is the safety "
                                              "duplicate (IS_SAVE_DUPLICATE, OTHERNUMB) of "
                                              "the first"),
    "proteome_of_strain": ("sequenced_as", "the shipped proteome was published for this "
                                           "strain (Wolter et al. 2021, locus tags ZOBELLIA)"),
    "type_strain_isolation": ("isolated_from", "the species description names this sample "
                                               "as the strain's source (Barbeyron et al. "
                                               "2001)"),
    "genbank_source_strain": ("sequenced_as", "the GenBank record's source names this strain "
                                              "(MIBiG BGC0001377)"),
    "mibig_cluster_compound": ("produces", "MIBiG: the compound's gene cluster is this "
                                           "strain's shipped GenBank record"),
    "documented_gene_part": ("mined_from", "part mined from a gene the sources document "
                                           "(dbCAN-PUL, GenBank) whose family the annotation "
                                           "finds too"),
    "example_offer_evidence": ("evidence_for", "the example listing offers this mined part"),
    "design_chassis": ("chassis_of", "the design names this chassis model"),
    "best_knockouts": ("derived_from", "the design deletes the best growth-coupled knockouts "
                                       "the search on the first design found"),
}


@dataclass(frozen=True)
class DemoLink:
    """One link the demo makes, with the rule that justifies it."""

    source: str
    rel: str
    target: str
    rule: str
    #: human names of both ends, for the summary
    source_name: str = ""
    target_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "rel": self.rel, "target": self.target,
                "rule": self.rule, "why": LINK_RULES[self.rule][1],
                "source_name": self.source_name, "target_name": self.target_name}


def all_records(catalog: CatalogService, actor: Actor, kind: str) -> Iterator[Record]:
    """Every record of ``kind``, page by page."""
    offset = 0
    while True:
        page, _ = catalog.list(actor, kind, limit=500, offset=offset)
        yield from page
        if len(page) < 500:
            return
        offset += 500


def _words(text: str) -> str:
    return " ".join(text.replace("_", " ").split()).casefold()


def strain_names(fields: dict[str, Any]) -> set[str]:
    """Names a source may use for this strain: species + designation, species + number."""
    species = _words(str(fields.get("taxon_name", "")))
    names = set()
    designation = str(fields.get("strain_designation", "")).strip()
    if designation:
        names.add(f"{species} {_words(re.sub(r'(?<=[0-9])T$', '', designation))}")
    for number in fields.get("collection_numbers", []):
        names.add(f"{species} {_words(number)}")
    return names


def producer_links(catalog: CatalogService, actor: Actor) -> list[DemoLink]:
    """Rule ``mibig_producer``."""
    strains: dict[str, Record] = {}
    for strain in all_records(catalog, actor, "strain"):
        for name in strain_names(strain.fields):
            strains.setdefault(name, strain)
    out = []
    for compound in all_records(catalog, actor, "compound"):
        producer = strains.get(_words(str(compound.fields.get("source_organism", ""))))
        if producer is not None:
            out.append(DemoLink(producer.accession, "produces", compound.accession,
                                "mibig_producer", producer.name, compound.name))
    return out


def safety_duplicate_links(catalog: CatalogService, actor: Actor, table: Path
                           ) -> list[DemoLink]:
    """Rule ``mcpd_safety_duplicate``, read from the shipped MCPD workbook."""
    import openpyxl

    by_id = {f"{r.fields.get('instcode')}:{r.fields.get('accenumb')}": r
             for r in all_records(catalog, actor, "germplasm")}
    workbook = openpyxl.load_workbook(table, read_only=True, data_only=True)
    try:
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    header = [str(c) for c in rows[0]]
    out = []
    for values in rows[1:]:
        row = dict(zip(header, values, strict=False))
        if str(row.get("IS_SAVE_DUPLICATE")).strip().lower() != "true":
            continue
        duplicate = by_id.get(f"{row['INSTCODE']}:{row['ACCENUMB']}")
        original = by_id.get(str(row.get("OTHERNUMB") or "").strip())
        if duplicate is not None and original is not None:
            out.append(DemoLink(original.accession, "derived_from", duplicate.accession,
                                "mcpd_safety_duplicate", original.name, duplicate.name))
    return out


def apply_links(catalog: CatalogService, actor: Actor, links: list[DemoLink]) -> int:
    """Make every link that is not there yet; returns how many were new."""
    made = 0
    for link in links:
        existing = {(lk.source, lk.rel, lk.target) for lk in catalog.links(actor, link.source)}
        if (link.source, link.rel, link.target) in existing:
            continue
        catalog.link(actor, link.source, link.rel, link.target)
        made += 1
    return made


def proteome_links(catalog: CatalogService, actor: Actor) -> list[DemoLink]:
    """Rule ``proteome_of_strain``: Zobellia galactanivorans DsijT and its proteome."""
    strains, _ = catalog.list(actor, "strain", ["taxon_name=Zobellia galactanivorans",
                                                "strain_designation=DsijT"], limit=1)
    proteomes, _ = catalog.list(actor, "assembly", [
        "assembly_name=Zobellia galactanivorans DsijT proteome (Wolter et al. 2021)"], limit=1)
    if not strains or not proteomes:
        return []
    return [DemoLink(strains[0].accession, "sequenced_as", proteomes[0].accession,
                     "proteome_of_strain", strains[0].name, proteomes[0].name)]


def isolation_links(catalog: CatalogService, actor: Actor) -> list[DemoLink]:
    """Rule ``type_strain_isolation``."""
    strains = {rec.name: rec for rec in all_records(catalog, actor, "strain")}
    out = []
    for sample in all_records(catalog, actor, "sample"):
        match = re.search(r"source of (.+)$", sample.name)
        strain = strains.get(match.group(1)) if match else None
        if strain is None:
            continue
        f, g = sample.fields, strain.fields
        if (f.get("isolation_source") == g.get("isolation_habitat")
                and f.get("geo_loc_name") == g.get("geographic_origin")
                and g.get("type_strain") is True):
            out.append(DemoLink(sample.accession, "isolated_from", strain.accession,
                                "type_strain_isolation", sample.name, strain.name))
    return out


@dataclass(frozen=True)
class GenBankSource:
    """What a GenBank record's header and source feature say about where it comes from."""

    accession: str
    organism: str
    strain: str


def genbank_source(path: Path) -> GenBankSource:
    """ACCESSION, ORGANISM and the source feature's /strain of a (gzip) GenBank file."""
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
    accession = re.search(r"^ACCESSION\s+(\S+)", text, re.MULTILINE)
    organism = re.search(r"^\s+ORGANISM\s+(.+)$", text, re.MULTILINE)
    strain = re.search(r'/strain="([^"]+)"', text)
    return GenBankSource(accession.group(1) if accession else "",
                         organism.group(1).strip() if organism else "",
                         strain.group(1) if strain else "")


def genbank_links(catalog: CatalogService, actor: Actor, record: Path) -> list[DemoLink]:
    """Rules ``genbank_source_strain`` and ``mibig_cluster_compound`` for one shipped
    GenBank record of a MIBiG gene cluster."""
    source = genbank_source(record)
    if not (source.accession and source.organism and source.strain):
        return []
    strains, _ = catalog.list(actor, "strain", [f"taxon_name={source.organism}",
                                                f"strain_designation={source.strain}"],
                              limit=2)
    assemblies = [a for a in all_records(catalog, actor, "assembly")
                  if source.accession in a.fields.get("identifiers", [])]
    if len(strains) != 1:
        return []
    strain = strains[0]
    out = [DemoLink(strain.accession, "sequenced_as", a.accession, "genbank_source_strain",
                    strain.name, a.name) for a in assemblies]
    for compound in all_records(catalog, actor, "compound"):
        clusters = {i.split(":", 1)[0] for i in compound.fields.get("source_ids", [])}
        if source.accession in clusters and \
                _words(str(compound.fields.get("source_organism", ""))) == \
                _words(source.organism):
            out.append(DemoLink(strain.accession, "produces", compound.accession,
                                "mibig_cluster_compound", strain.name, compound.name))
    return out
