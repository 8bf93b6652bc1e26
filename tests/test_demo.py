"""The demo bank, built once for this module the way `make demo` builds it (`lanhai demo
--no-serve --json` in an empty LANHAI_DATA_DIR), then built again.

It must show every part of Lanhai on real data with everything precomputed, tell only true
stories (every link follows a rule documented in links.py and PROVENANCE.md; the lineage
chains sample -> strain -> assembly -> protein -> family -> part / compound are complete
through the services), keep the example patent deposit from anyone but curators, and
change nothing when built again.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from lanhai.app import create_app
from lanhai.bank import Bank
from lanhai.cli.main import main
from lanhai.db.engine import make_engine
from lanhai.db.schema import links, records, versions
from lanhai.demo import DEMO_CURATOR, DEMO_SOURCES, DemoSummary, build_demo
from lanhai.demo.genomes import GOAT_LISTS
from lanhai.demo.links import LINK_RULES, all_records, genbank_source
from lanhai.demo.report import pages_to_open, summary_text
from lanhai.demo.screening import ASSAY_FILE as SCREENING_ASSAY
from lanhai.demo.sources import (
    CHARACTERISED_PUL_GENES,
    DBCAN_PUL_CAZYMES,
    DEMO_DEPOSIT,
    DEMO_SEQUENCES,
    MIBIG_CLUSTER_FILE,
    WHEAT,
    data_dir,
    source_path,
)
from lanhai.errors import NotFound
from lanhai.model import Record
from lanhai.services.access import ANONYMOUS, Actor
from tests.support import SHARED, add_token, bank_on, copy_of_demo

ADMIN = Actor("demo-test", "admin")
READER = Actor("reader-ru", "reader")
CURATOR = Actor(DEMO_CURATOR, "curator")
#: records per kind, from the shipped files: 143 OSD + 131 Tara + 62 GOS + 62 BATS + 15
#: Malaspina samples (the 28 VLIZ rows merge into OSD ones) + the Zobellia isolation sample;
#: 236 + 1 IJSEM strains + Zobellia + S. uncialis; 300 MAGs + the two sequenced assemblies;
#: 87 + 1 MIBiG + 200 CMNPD + 143 glycans; 37 iGEM parts + 20 Zobellia CAZymes + ucmE;
#: 38 MCPD accessions; the example deposit (curators and admins count it); an example
#: offer per Zobellia part and one example demand
COUNTS = {"sample": 414, "strain": 239, "assembly": 302, "compound": 431, "part": 58,
          "germplasm": 38, "deposit": 1, "offer": 20, "demand": 1, "chassis": 1, "design": 2}
#: links per rule: 13 MIBiG compounds of Salinispora tropica CNB-440T, 19 MCPD safety
#: duplicates, and one link per step of the two documented chains, 21 parts, and each
#: Zobellia part behind its example offer
RULE_COUNTS = {"mibig_producer": 13, "mcpd_safety_duplicate": 19, "proteome_of_strain": 1,
               "type_strain_isolation": 1, "genbank_source_strain": 1,
               "mibig_cluster_compound": 1, "documented_gene_part": 21,
               "example_offer_evidence": 20, "design_chassis": 2, "best_knockouts": 1}
#: the beta-agarase AgaA of Zobellia galactanivorans (GH16; dbCAN-PUL PUL0317)
AGAA = "ZOBELLIA_4203_[Zobellia_galactanivorans_DsiJ]"
#: ucmE, the enediyne polyketide synthase: GenBank CDS complement(13144..18996)
UCME = ("BGC0001377.1", 13144, 18996, -1)
#: what no product text or record the demo writes may say (notes for developers)
DEV_NOTES = re.compile(r"Lanhai issue|\bissue \d|later issue|\bTODO\b|\bFIXME\b|\bXXX\b",
                       re.IGNORECASE)


@dataclass
class Demo:
    folder: Path
    engine: Engine
    bank: Bank
    #: `lanhai demo --no-serve --json` in an empty folder
    first: dict[str, Any]
    #: build_demo on the built bank
    second: DemoSummary
    versions_before: int
    versions_after: int


def _versions(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(versions)).scalar_one())


def _bank_links(engine: Engine) -> set[tuple[str, str, str]]:
    src, dst = records.alias("src"), records.alias("dst")
    with engine.connect() as conn:
        rows = conn.execute(select(src.c.accession, links.c.rel, dst.c.accession)
                            .join(src, src.c.id == links.c.source_id)
                            .join(dst, dst.c.id == links.c.target_id)).all()
    return {(s, r, t) for s, r, t in rows}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory,
         built_demo: tuple[Path, dict[str, Any]]) -> Iterator[Demo]:
    """`lanhai demo --no-serve --json` in an empty folder (built once per run), then
    ``build_demo`` again on a copy of what it made."""
    folder = copy_of_demo(built_demo, tmp_path_factory.mktemp("demo"))
    first = built_demo[1]
    engine = make_engine(f"sqlite:///{folder / 'lanhai.sqlite'}")
    bank = bank_on(engine, folder)
    before = _versions(engine)
    second = build_demo(bank, ADMIN)
    yield Demo(folder, engine, bank, first, second, before, _versions(engine))
    bank.close()
    engine.dispose()


def _get(demo: Demo, accession: str, actor: Actor = ANONYMOUS) -> Record:
    return demo.bank.catalog.get(actor, accession)


def _tsv(name: str) -> list[dict[str, str]]:
    with open(data_dir() / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _best_hits(demo: Demo, assembly: str) -> dict[str, dict[str, Any]]:
    """protein id -> its best (lowest E-value) annotation hit."""
    best: dict[str, dict[str, Any]] = {}
    for hit in demo.bank.sequences.rows(ANONYMOUS, assembly, "hits"):
        protein = str(hit["protein_id"])
        if protein not in best or hit["evalue"] < best[protein]["evalue"]:
            best[protein] = hit
    return best


def _shipped_protein(prefix: str) -> str:
    """The sequence of a protein of the shipped Zobellia proteome, read from the file."""
    text = gzip.decompress((data_dir() / DEMO_SEQUENCES[0].file).read_bytes()).decode()
    for entry in text.split(">")[1:]:
        header, *lines = entry.splitlines()  # the file has CRLF line endings
        if header.split()[0].startswith(prefix):
            return "".join(lines).rstrip("*")
    raise AssertionError(f"{prefix} is not in the shipped proteome")


# -- building ---------------------------------------------------------------------------------

def test_the_first_build_makes_everything(demo: Demo) -> None:
    first = demo.first
    assert first["serving"] is False
    assert first["counts"] == COUNTS
    assert first["open"]["stats"] == "http://127.0.0.1:8000/api/stats"
    assert first["curator"] == DEMO_CURATOR and first["curator_created"] is True
    assert first["deposit_created"] is True
    # every record of the bank was created by this run: from the shipped tables, the mined
    # parts, the deposit and the example listings
    assert first["created"] + first["parts_created"] + 1 + first["market"]["created"] + \
        first["design"]["created"] == sum(COUNTS.values())
    assert first["market"]["created"] == 21 and len(first["market"]["offers"]) == 20
    by_kind: dict[str, int] = {}
    for source in first["sources"]:
        by_kind[source["kind"]] = by_kind.get(source["kind"], 0) + source["created"]
    assert by_kind == {"sample": 414, "strain": 239, "assembly": 302, "compound": 431,
                       "part": 37, "germplasm": 38}  # parts: the iGEM table's
    vliz = next(s for s in first["sources"] if s["name"] == "osd2014_vliz")
    assert vliz["created"] == 0 and vliz["updated"] == vliz["rows"] == 28  # merged
    assert first["links_created"] == len(first["links"]) == sum(RULE_COUNTS.values())
    assert first["parts_created"] == 21 and first["jobs_created"] == 2
    assert first["breeding"]["status"] == "imported"
    assert [s["status"] for s in first["sequences"]] == ["stored", "stored"]


def test_building_again_creates_and_changes_nothing(demo: Demo) -> None:
    second = demo.second
    assert second.counts == demo.first["counts"] == COUNTS
    assert (second.created, second.updated, second.links_created, second.parts_created,
            second.jobs_created) == (0, 0, 0, 0, 0)
    assert not second.curator_created and not second.deposit_created
    assert second.market["created"] == 0 and second.market["offers"] == \
        demo.first["market"]["offers"]
    assert all(s.unchanged == s.rows for s in second.sources)
    assert [s["status"] for s in second.sequences] == ["unchanged", "unchanged"]
    assert second.breeding["status"] == "unchanged"
    assert demo.versions_after == demo.versions_before
    assert {(lk.source, lk.rel, lk.target) for lk in second.links} == \
        {(lk["source"], lk["rel"], lk["target"]) for lk in demo.first["links"]}
    assert {j["id"] for j in second.jobs} == {j["id"] for j in demo.first["jobs"]}
    assert second.index == demo.first["index"]  # no new segment
    assert second.highlights == demo.first["highlights"]


# -- the lineage chains -----------------------------------------------------------------------

def _edges(walk: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(e["source"], e["rel"], e["target"])
            for e in walk["ancestors"] + walk["descendants"]}


def test_the_zobellia_chain_runs_from_the_alga_to_the_cazyme_parts(demo: Demo) -> None:
    catalog, h = demo.bank.catalog, demo.second.highlights
    sample = _get(demo, h["isolation_sample"])
    assert sample.kind == "sample"
    assert sample.fields["isolation_source"] == "red alga Delesseria sanguinea"
    assert sample.fields["geo_loc_name"] == "France: Roscoff"
    strain = _get(demo, h["zobellia_strain"])
    assert strain.name == "Zobellia galactanivorans DsijT"
    assert strain.fields["isolation_habitat"] == "red alga Delesseria sanguinea"
    assert strain.fields["geographic_origin"] == "France: Roscoff"
    assert strain.fields["type_strain"] is True and strain.fields["marine"] is True
    assert "collection_numbers" not in strain.fields  # no shipped source gives one
    proteome = _get(demo, h["zobellia_proteome"])
    assert proteome.fields["sequence_kind"] == "proteome"
    assert proteome.fields["protein_count"] == 4738  # zcat …DsiJ.faa.gz | grep -c '>'
    # sample --isolated_from--> strain --sequenced_as--> proteome --mined_from--> parts,
    # read as an anonymous visitor from the sample's lineage
    walk = catalog.lineage(ANONYMOUS, sample.accession)
    edges = _edges(walk)
    assert (sample.accession, "isolated_from", strain.accession) in edges
    assert (strain.accession, "sequenced_as", proteome.accession) in edges
    parts = {t for s, r, t in edges if s == proteome.accession and r == "mined_from"}
    assert len(parts) == 20
    # each part is a protein of the proteome whose best annotation hit is the CAZy family
    # dbCAN-PUL gives that locus
    documented: dict[str, set[str]] = {}
    for row in _tsv(DBCAN_PUL_CAZYMES):
        locus = row["dbcan_pul_gene_id"] or row["id"].split("|")[0]
        documented.setdefault(locus, set()).add(row["family"])
    proteins = {str(p["id"]): str(p["sequence"])
                for p in demo.bank.sequences.rows(ANONYMOUS, proteome.accession, "proteins")}
    best = _best_hits(demo, proteome.accession)
    for accession in parts:
        part = _get(demo, accession)
        protein = part.fields["source"].rsplit(" protein ", 1)[1]
        family = best[protein]["family"]  # the documented family or one of its subfamilies
        assert family.split("_")[0] in documented[protein.split("_[")[0]], protein
        assert part.fields["sequence"] == proteins[protein]
        assert part.fields["evidence"].startswith(f"{family} (")
        assert part.fields["organism"] == "Zobellia galactanivorans"
    # the agarase agaA: the part names it as the characterised PUL genes do
    agaa = _get(demo, h["agarase_part"])
    assert agaa.accession in parts and agaa.fields["source"].endswith(AGAA)
    assert best[AGAA]["family"] == "GH16_16"  # the beta-agarase subfamily
    named = {r["locus_tag"]: r for r in _tsv(CHARACTERISED_PUL_GENES)}["ZOBELLIA_4203"]
    assert named["gene_name"] == "agaA"
    assert agaa.fields["description"].startswith(f"agaA (ZOBELLIA_4203), EC "
                                                 f"{named['ec_number']} ")
    assert agaa.fields["sequence"] == _shipped_protein("ZOBELLIA_4203_")
    # the summary tells the same chain
    chain = next(c for c in demo.second.chains if c["strain"]["accession"] == strain.accession)
    assert chain["sample"]["accession"] == sample.accession
    assert chain["assembly"]["accession"] == proteome.accession
    assert {g["part"] for g in chain["genes"]} == parts and chain["compounds"] == []


def test_the_uncialamycin_chain_runs_from_the_strain_to_its_gene_and_compound(
        demo: Demo) -> None:
    catalog, h = demo.bank.catalog, demo.second.highlights
    strain = _get(demo, h["uncialamycin_strain"])
    assert (strain.fields["taxon_name"], strain.fields["strain_designation"],
            strain.fields["taxid"]) == ("Streptomyces uncialis", "DCA2648", 1048205)
    region = _get(demo, h["uncialamycin_region"])
    assert region.fields["identifiers"] == ["BGC0001377"]
    assert (region.fields["sequence_kind"], region.fields["contig_count"],
            region.fields["genome_size"]) == ("genome", 1, 45001)
    compound = _get(demo, h["uncialamycin"])
    assert compound.name == "uncialamycin" and compound.fields["formula"] == "C26H17NO6"
    assert compound.fields["source_ids"] == ["BGC0001377:uncialamycin"]
    walk = catalog.lineage(ANONYMOUS, strain.accession)
    assert walk["ancestors"] == []  # no source names the sample it was isolated from
    edges = _edges(walk)
    assert (strain.accession, "sequenced_as", region.accession) in edges
    assert (strain.accession, "produces", compound.accession) in edges
    (part_accession,) = {t for s, r, t in edges if s == region.accession and r == "mined_from"}
    # gene calling found ucmE where GenBank puts it, the annotation a ketoacyl synthase
    # domain on it, and the part is that gene
    (gene,) = [g for g in demo.bank.sequences.rows(ANONYMOUS, region.accession, "genes")
               if (g["contig"], g["start"], g["end"], g["strand"]) == UCME]
    assert _best_hits(demo, region.accession)[gene["protein_id"]]["family"] == \
        "ketoacyl-synt"
    part = _get(demo, part_accession)
    assert part.fields["sequence"] == str(gene["sequence"]).lower()
    assert part.fields["description"].startswith("ucmE, the enediyne polyketide synthase")
    summary = demo.bank.sequences.annotation_summary(ANONYMOUS, region.accession)
    assert region.fields["gene_count"] == 37 and summary["hit_count"] > 0
    chain = next(c for c in demo.second.chains if c["strain"]["accession"] == strain.accession)
    assert chain["sample"] is None
    assert chain["genes"] == [{"protein": gene["protein_id"], "gene": "ucmE",
                               "family": "ketoacyl-synt", "part": part_accession}]
    assert chain["compounds"] == [{"accession": compound.accession, "name": "uncialamycin"}]


# -- links ------------------------------------------------------------------------------------

def _names(fields: dict[str, Any]) -> set[str]:
    species = " ".join(str(fields["taxon_name"]).split()).lower()
    designation = re.sub(r"(?<=\d)T$", "", str(fields.get("strain_designation", "")).strip())
    numbers = fields.get("collection_numbers") or []
    assert isinstance(numbers, list)
    return {f"{species} {designation}".lower(), *(f"{species} {n}".lower() for n in numbers)}


def _mcpd_table() -> dict[str, dict[str, Any]]:
    workbook = openpyxl.load_workbook(
        source_path(next(s for s in DEMO_SOURCES if s.kind == "germplasm")), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    header = [str(c) for c in rows[0]]
    return {f"{r[header.index('INSTCODE')]}:{r[header.index('ACCENUMB')]}": dict(zip(
        header, r, strict=False)) for r in rows[1:]}


def _check_link(demo: Demo, rule: str, source: Record, target: Record,
                mcpd: dict[str, dict[str, Any]]) -> None:
    """The link between ``source`` and ``target`` follows ``rule`` as documented."""
    kinds = (source.kind, target.kind)
    if rule == "mibig_producer":
        assert kinds == ("strain", "compound")
        organism = " ".join(target.fields["source_organism"].split()).lower()
        assert organism in _names(source.fields)
        assert any(i.startswith("BGC") for i in target.fields["source_ids"])
    elif rule == "mcpd_safety_duplicate":
        assert kinds == ("germplasm", "germplasm")
        original = f"{source.fields['instcode']}:{source.fields['accenumb']}"
        duplicate = f"{target.fields['instcode']}:{target.fields['accenumb']}"
        assert mcpd[duplicate]["IS_SAVE_DUPLICATE"] == "True"
        assert mcpd[duplicate]["OTHERNUMB"] == original
        assert mcpd[original]["OTHERNUMB"] == duplicate  # the other row names it back
    elif rule == "proteome_of_strain":
        assert kinds == ("strain", "assembly")
        assert source.name == "Zobellia galactanivorans DsijT"
        assert target.fields["taxon_name"] == "Zobellia galactanivorans"
        ids = [str(p["id"]) for p in demo.bank.sequences.rows(ANONYMOUS, target.accession,
                                                              "proteins")]
        assert ids and all(i.startswith("ZOBELLIA_") for i in ids)
    elif rule == "type_strain_isolation":
        assert kinds == ("sample", "strain")
        assert source.name.endswith(f"source of {target.name}")
        assert source.fields["isolation_source"] == target.fields["isolation_habitat"]
        assert source.fields["geo_loc_name"] == target.fields["geographic_origin"]
        assert target.fields["type_strain"] is True
    elif rule == "genbank_source_strain":
        assert kinds == ("strain", "assembly")
        record = genbank_source(data_dir() / MIBIG_CLUSTER_FILE)
        assert (record.organism, record.strain) == (source.fields["taxon_name"],
                                                    source.fields["strain_designation"])
        assert record.accession in target.fields["identifiers"]
    elif rule == "mibig_cluster_compound":
        assert kinds == ("strain", "compound")
        record = genbank_source(data_dir() / MIBIG_CLUSTER_FILE)
        assert f"{record.accession}:{target.name}" in target.fields["source_ids"]
        assert target.fields["source_organism"] == source.fields["taxon_name"]
    elif rule == "example_offer_evidence":
        assert kinds == ("part", "offer")
        assert target.fields["reference"] == f"demo-{source.fields['display_id']}"
        assert target.fields["summary"] == source.fields["description"]
        assert "example" in target.name.lower() and "example" in target.fields["description"]
        assert source.fields["organism"] == "Zobellia galactanivorans"
    elif rule == "design_chassis":
        assert kinds == ("chassis", "design")
        assert target.fields["chassis"] == source.accession
        assert source.fields["bundled"] == "textbook"
    elif rule == "best_knockouts":
        assert kinds == ("design", "design")
        best = source.fields["best_knockouts"][0].split("+")
        assert target.fields["reaction_deletions"] == best
        assert target.fields["growth_coupled"] is True and source.fields["growth_coupled"] is False
    else:
        assert rule == "documented_gene_part"
        assert kinds == ("assembly", "part")
        assert source.accession in {s["accession"] for s in demo.first["sequences"]}
        protein = target.fields["source"].rsplit(" ", 1)[1]
        family = _best_hits(demo, source.accession)[protein]["family"]
        assert target.fields["evidence"].startswith(f"{family} (")
        if source.fields["sequence_kind"] == "proteome":
            families = {r["family"] for r in _tsv(DBCAN_PUL_CAZYMES)
                        if protein.split("_[")[0] in (r["locus_tag"], r["dbcan_pul_gene_id"])}
            assert family.split("_")[0] in families  # the family or a subfamily of it
        else:
            genes = {g["protein_id"]: (g["contig"], g["start"], g["end"], g["strand"])
                     for g in demo.bank.sequences.rows(ANONYMOUS, source.accession, "genes")}
            assert (genes[protein], family) == (UCME, "ketoacyl-synt")


def test_every_link_follows_a_documented_rule(demo: Demo) -> None:
    summary = demo.second
    assert _bank_links(demo.engine) == {(lk.source, lk.rel, lk.target)
                                        for lk in summary.links}
    counted: dict[str, int] = {}
    for link in summary.links:
        counted[link.rule] = counted.get(link.rule, 0) + 1
    assert counted == RULE_COUNTS and set(counted) == set(LINK_RULES)
    mcpd = _mcpd_table()
    for link in summary.links:
        assert LINK_RULES[link.rule][0] == link.rel
        _check_link(demo, link.rule, _get(demo, link.source, ADMIN),
                    _get(demo, link.target, ADMIN), mcpd)
    producers = {lk.source for lk in summary.links if lk.rel == "produces"}
    assert sorted(_get(demo, a).name for a in producers) == [
        "Salinispora tropica CNB-440T", "Streptomyces uncialis DCA2648"]


def test_only_the_documented_isolation_links_a_sample_and_no_mag_is_linked(
        demo: Demo) -> None:
    catalog = demo.bank.catalog
    kinds = {rec.accession: rec.kind for kind in ("sample", "assembly", "strain")
             for rec in all_records(catalog, ADMIN, kind)}
    stored = _bank_links(demo.engine)
    sample_links = {lk for lk in stored if "sample" in (kinds.get(lk[0]), kinds.get(lk[2]))}
    h = demo.second.highlights
    assert sample_links == {(h["isolation_sample"], "isolated_from", h["zobellia_strain"])}
    linked_assemblies = {acc for lk in stored for acc in (lk[0], lk[2])
                         if kinds.get(acc) == "assembly"}
    assert linked_assemblies == {h["zobellia_proteome"], h["uncialamycin_region"]}


# -- what is ready to use ---------------------------------------------------------------------

def test_sequence_search_finds_a_zobellia_protein_at_once(demo: Demo) -> None:
    """No `lanhai search index` needed: an anonymous search finds agaA, with its strain
    and the sample it was isolated from."""
    h = demo.second.highlights
    assert demo.second.index["proteins"]["up_to_date"] is True
    assert demo.second.index["proteins"]["sequences"] == 4738 + 37
    query = _shipped_protein("ZOBELLIA_4203_")
    result = demo.bank.sequence_search.search(ANONYMOUS, [("agaA", query)], db="proteins")
    assert result["index"]["pending"] == 0
    top = result["hits"][0]
    assert (top["target"], top["assembly"]) == (AGAA, h["zobellia_proteome"])
    assert top["identity"] == pytest.approx(1.0)
    lineage = top["lineage"]
    assert [s["accession"] for s in lineage["strains"]] == [h["zobellia_strain"]]
    assert [s["accession"] for s in lineage["samples"]] == [h["isolation_sample"]]


def test_the_demo_curator_has_finished_jobs(demo: Demo) -> None:
    jobs = [j for j in demo.bank.jobs.of(CURATOR) if j.params.get("demo")]
    assert sorted((j.kind, j.status) for j in jobs) == [("annotate", "done"),
                                                       ("search-sequence", "done")]
    annotate = next(j for j in jobs if j.kind == "annotate")
    assert annotate.result is not None and annotate.result["failed"] == []
    assert {a["status"] for a in annotate.result["assemblies"]} == {"done"}
    search = next(j for j in jobs if j.kind == "search-sequence")
    assert search.result is not None
    assert len(search.result["queries"]) == 20
    assert all(q["hits"] > 0 for q in search.result["queries"])


def test_the_wheat_breeding_data_set_is_published(demo: Demo) -> None:
    (dataset,) = [d for d in demo.bank.breeding.list_datasets(ANONYMOUS)
                  if d["dataset"] == WHEAT.name]
    assert dataset["published"] is True
    assert dataset["counts"] == {"genotyped_animals": 599, "snps": 1279,
                                 "phenotyped_animals": 599,
                                 "traits": ["yield_env1", "yield_env2", "yield_env3",
                                            "yield_env4"], "germplasm_linked": 0}


def test_the_genome_projects_come_from_goats_lists(demo: Demo) -> None:
    projects = {p["key"]: p for p in demo.bank.genomes.projects(ANONYMOUS)}
    assert (projects["fish10k"]["reported_done"], projects["fish10k"]["counts"]) == (883, None)
    eurofish, cfgp = projects["eurofish"]["counts"], projects["cfgp"]["counts"]
    assert (eurofish["done"], eurofish["in_progress"], eurofish["total"]) == (15, 9, 24)
    assert (cfgp["targeted"], cfgp["total"]) == (19, 19)
    assert demo.first["genomes"]["eurofish"]["targets"]["added"] == 24


def test_the_screening_assay_ranks_the_marine_library(demo: Demo) -> None:
    assert demo.first["screening"]["trained"] is True
    assert demo.second.screening["trained"] is False  # a second run trains nothing
    assert demo.second.screening["import"] == "unchanged"
    assay = demo.bank.screening.assay(ANONYMOUS, "mibig-antibacterial")
    # 48 of the demo's MIBiG compounds have a recorded activity, and so a row
    assert assay["result_count"] == 1356 and assay["linked"] == 48
    model = demo.bank.screening.model(ANONYMOUS, demo.second.screening["model"])
    assert model["task"] == "classification" and model["training_size"] > 1200
    auc = model["validation"]["scaffold"]["metrics"]["roc_auc"]["mean"]
    assert 0.6 < auc < 1.0, auc
    ranked = demo.bank.screening.rank_library(ANONYMOUS, model["key"], limit=5)
    # 200 CMNPD compounds, 87 marine MIBiG compounds and uncialamycin (glycans have no SMILES)
    assert ranked["count"] == 288 and len(ranked["ranking"]) == 5


def test_the_succinate_design_couples_the_product_to_growth(demo: Demo) -> None:
    """The demo's OptKnock search on anaerobic succinate in the E. coli core model finds
    growth-coupled knockouts with adhE and ldhA's reactions (ACALD and LDH_D or the lactate
    exporter), as the published designs delete; the design made of them is analysed."""
    made = demo.second.design
    assert made == {**demo.first["design"], "created": 0}
    assert demo.first["design"]["created"] == 3
    knockouts = set(made["knockouts"].split("+"))
    assert "ACALD" in knockouts and knockouts & {"LDH_D", "D_LACt2"}
    assert made["growth"] > 0.05 and made["succinate"] > 5
    with TestClient(create_app(bank=demo.bank)) as client:
        page = client.get(f"/records/{made['coupled']}")
    assert page.status_code == 200 and "growth-coupled" in page.text


def test_the_example_deposit_is_seen_by_curators_only(demo: Demo) -> None:
    accession = demo.second.highlights["deposit_curators_only"]
    assert not re.fullmatch(r"LHDP\d{7}", accession)  # held: a random accession
    catalog = demo.bank.catalog
    for outsider in (ANONYMOUS, READER):
        with pytest.raises(NotFound):
            catalog.get(outsider, accession)
        assert "deposit" not in catalog.counts(outsider)
        assert catalog.list(outsider, "deposit")[0] == []
    deposit = catalog.get(CURATOR, accession)
    with open(data_dir() / DEMO_DEPOSIT, encoding="utf-8", newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert deposit.restricted and deposit.name == row["deposit_accession"] == "EXAMPLE 1"
    assert "not a real" in deposit.fields["depositary"]
    assert deposit.fields["retention_end"] == "2050-03-02"  # Rule 9.1: deposit + 30 years
    assert deposit.fields["last_viability"] == "viable"
    assert catalog.links(CURATOR, accession) == []  # an example names no strain
    with TestClient(create_app(bank=demo.bank)) as client:
        assert client.get(f"/records/{accession}").status_code == 404
        assert client.get(f"/api/records/{accession}").status_code == 404
        token = {"Authorization": f"Bearer {add_token(demo.engine, DEMO_CURATOR)}"}
        page = client.get(f"/records/{accession}", headers=token)
        assert page.status_code == 200 and "EXAMPLE 1" in page.text


def test_the_pages_the_summary_offers_open(demo: Demo) -> None:
    pages = pages_to_open("http://testserver", demo.second)
    token = {"Authorization": f"Bearer {add_token(demo.engine, DEMO_CURATOR)}"}
    with TestClient(create_app(bank=demo.bank)) as client:
        for what, url in pages.items():
            answer = client.get(url, headers=token)
            assert answer.status_code == 200, (what, url, answer.status_code)
        sequence = client.get(pages["sequence search (an agarase as the example query)"]
                              .replace("/search/sequence", "/search/sequence.json"))
        assert sequence.status_code == 200


# -- what the user reads ----------------------------------------------------------------------

def test_the_summary_speaks_to_the_user(demo: Demo) -> None:
    text = summary_text(demo.second, "http://127.0.0.1:8000", "demo-data")
    h = demo.second.highlights
    assert "already built: this run changed nothing" in text
    assert f"({h['isolation_sample']})\n      --isolated_from--> Zobellia galactanivorans " \
           f"DsijT ({h['zobellia_strain']})" in text
    assert "--mined_from--> 1 documented gene, protein and family from the annotation: " \
           "ucmE ketoacyl-synt" in text
    assert f"--produces--> uncialamycin ({h['uncialamycin']})" in text
    assert "Sequence search is ready: 4,775 proteins and 1 contig indexed" in text
    assert "wheat-crossa2010" in text
    assert f"Patent deposit {h['deposit_curators_only']}: an example record" in text
    assert f"lanhai market match {h['market_demand']}`" in text
    assert "Technology market: 20 example offers drawn from the mined Zobellia parts" in text
    assert "LANHAI_DATA_DIR=demo-data lanhai users set demo-curator --password-stdin" in text
    assert "LANHAI_DATA_DIR=demo-data lanhai tokens create demo-curator" in text
    assert "http://127.0.0.1:8000/search/sequence?example=agab" in text
    assert not DEV_NOTES.search(text)


def test_cli_demo_no_serve_prints_a_summary(demo: Demo, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LANHAI_DATA_DIR", str(demo.folder))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    assert main(["demo", "--no-serve"]) == 0
    text = capsys.readouterr().out
    assert f"lanhai tokens create {DEMO_CURATOR}" in text
    assert "http://127.0.0.1:8000/" in text
    for kind, count in COUNTS.items():
        assert re.search(rf"{kind}\D+{count}\b", text), kind


# -- the shipped files ------------------------------------------------------------------------

def _provenance_rows() -> dict[str, list[str]]:
    """file -> cells of its row in PROVENANCE.md's table of files."""
    text = (data_dir() / "PROVENANCE.md").read_text(encoding="utf-8")
    table = text[text.index("## Files"):]
    table = table[:table.index("\n## ")]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 4 and "/" in cells[0]:
            rows[cells[0].split(" (")[0]] = cells
    return rows


def test_shipped_demo_data_is_small_and_documented() -> None:
    files = sorted(p for p in data_dir().rglob("*") if p.is_file()
                   and p.name != "PROVENANCE.md")
    # about 1.3 MB of records plus the 1 MB Zobellia proteome
    assert sum(p.stat().st_size for p in files) < 2_750_000
    assert all(p.stat().st_size < 1_100_000 for p in files)
    rows = _provenance_rows()
    names = [p.relative_to(data_dir()).as_posix() for p in files]
    assert sorted(rows) == names  # every file has a row, and every row a file
    for name, (_, source, licence, how) in rows.items():
        assert source and licence and how, name
    shipped = [s.file for s in DEMO_SOURCES] + [s.file for s in DEMO_SEQUENCES] + [
        DBCAN_PUL_CAZYMES, CHARACTERISED_PUL_GENES, DEMO_DEPOSIT, WHEAT.genotypes,
        WHEAT.phenotypes, GOAT_LISTS, SCREENING_ASSAY]
    assert sorted(shipped) == names  # the demo uses every file it ships
    provenance = (data_dir() / "PROVENANCE.md").read_text(encoding="utf-8")
    rules = (Path(__file__).parents[1] / "src/lanhai/demo/links.py").read_text("utf-8")
    for rule in LINK_RULES:
        assert f"`{rule}`" in provenance and f"``{rule}``" in rules, rule
    assert "not a real deposit" in provenance


def test_no_development_notes_in_what_the_demo_writes(demo: Demo) -> None:
    written = [data_dir() / "PROVENANCE.md", data_dir() / DEMO_DEPOSIT] + [
        source_path(s) for s in DEMO_SOURCES if s.mapping is None]
    for path in written:
        assert not DEV_NOTES.search(path.read_text(encoding="utf-8")), path
    assert not any(DEV_NOTES.search(why) for _, why in LINK_RULES.values())
    for kind in COUNTS:
        for record in all_records(demo.bank.catalog, ADMIN, kind):
            text = f"{record.name} {record.fields.get('description', '')}"
            assert not DEV_NOTES.search(text), record.accession


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")
def test_copied_files_equal_their_sources(tmp_path: Path) -> None:
    from lanhai.demo.cut import cut_genes

    def unzipped(path: Path) -> bytes:
        raw = path.read_bytes()
        return gzip.decompress(raw) if path.suffix == ".gz" else raw

    copies = {MIBIG_CLUSTER_FILE: SHARED / "mibig/BGC0001377.gbk",
              DEMO_SEQUENCES[0].file: SHARED / "cazy/proteomes/"
                                               "Zobellia_galactanivorans_DsiJ.faa.gz",
              WHEAT.genotypes: SHARED / "breeding/wheat/wheat_markers.tsv.gz",
              WHEAT.phenotypes: SHARED / "breeding/wheat/wheat_phenotypes.tsv"}
    for shipped, source in copies.items():
        assert unzipped(data_dir() / shipped) == unzipped(source), shipped
    cut_genes(SHARED / "cazy", tmp_path)
    for name in (DBCAN_PUL_CAZYMES, CHARACTERISED_PUL_GENES):
        assert (tmp_path / name).read_bytes() == (data_dir() / name).read_bytes(), name
