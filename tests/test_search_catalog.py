"""Catalogue search: full text across kinds (English and 中文), facets, filters, sorting,
paging, lineage filters (has genome, has family) and confidentiality, on every backend.

The bank built here (also used by the family-search tests):

- OSD1 (Ocean Sampling Day 2014, 0-1 m, 2014-06-21) --isolated_from--> Zobellia
  galactanivorans DsijT (available) --sequenced_as--> assembly "shallow"
- TARA_B100000378 (Tara Oceans, 1000 m, 2010-06-26, Mozambique Channel) --isolated_from-->
  assembly "deep"
- a restricted sample at 3000 m that readers must never see (nor count)
- a germplasm record (Vavilov tomato accession BGE050162) with a Chinese crop name
- the MIBiG compounds of tests/test_search_compounds.py

Both assemblies hold halves of a real proteome (30 Maribacter sp. 62-1 proteins,
tests/data/search_catalog/); their annotation hits are the dbCAN rows published for those
proteins plus a pyhmmer search of Pfam's SusD_RagB HMM (see :func:`write_hits`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from lanhai.errors import UsageError
from lanhai.search.catalog import BBox, CatalogFilters, search_catalog
from lanhai.search.catalog_columns import keep_in_memory
from lanhai.services.catalog import Actor, CatalogService
from lanhai.services.sequences import SequenceService
from lanhai.store.sequences import HITS, SequenceStore
from tests.test_catalog import SAMPLE, ZOBELLIA
from tests.test_search_compounds import add_compounds

DATA = Path(__file__).parent / "data" / "search_catalog"
CURATOR = Actor("ana", "curator")
READER = Actor("rui", "reader")
TARA = {
    "samp_name": "TARA_B100000378", "biosample": "SAMEA2620666", "insdc_sample": "ERS489727",
    "project_name": "Tara Oceans expedition (2009-2013)", "collection_date": "2010-06-26T07:12",
    "samp_collect_device": "ROSETTE sampler with CTD (sbe9C) and 10 Niskin bottles",
    "lat_lon": "-15.3379 43.2948", "depth": "1000 m", "size_frac": "0.22-3 µm",
    "env_broad_scale": "marine biome [ENVO:00000447]",
    "env_local_scale": "mesopelagic zone [ENVO:00000213]",
    "env_medium": "saline water, including plankton [ENVO:00002010]",
    "samp_taxon_id": "408172", "geo_loc_name": "not provided",
}
TOMATO = {
    "instcode": "ESP004", "accenumb": "BGE050162", "genus": "Solanum",
    "species": "lycopersicum", "cropname": "Tomate", "accename": "Tomate gordo",
    "acqdate": "2018-12-03", "origcty": "ESP", "sampstat": "300", "storage": "13",
    "description": "番茄种质资源 (tomato germplasm)",
}
ASSEMBLY = {"assembly_type": "isolate genome", "seq_meth": "Illumina HiSeq",
            "assembly_software": "SPAdes v3.10"}


@dataclass
class SearchBank:
    engine: Engine
    data_dir: Path
    acc: dict[str, str]


def proteins() -> list[tuple[str, str]]:
    """(header, sequence) of the 30 test proteins, in file order."""
    found: list[tuple[str, list[str]]] = []
    for line in (DATA / "maribacter62-1_subset.faa").read_text("utf-8").splitlines():
        if line.startswith(">"):
            found.append((line[1:], []))
        elif line:
            found[-1][1].append(line)
    return [(h, "".join(s)) for h, s in found]


def build_bank(engine: Engine, data_dir: Path) -> SearchBank:
    service = CatalogService(engine)
    acc: dict[str, str] = {}
    acc["shallow_sample"] = service.create(CURATOR, "sample", SAMPLE).accession
    acc["deep_sample"] = service.create(CURATOR, "sample", TARA).accession
    acc["hidden_sample"] = service.create(CURATOR, "sample", {
        **SAMPLE, "samp_name": "hidden abyssal", "depth": "3000 m",
        "restricted": "yes"}).accession
    acc["strain"] = service.create(CURATOR, "strain", {**ZOBELLIA,
                                                      "status": "available"}).accession
    acc["shallow"] = service.create(CURATOR, "assembly", {
        **ASSEMBLY, "assembly_name": "Maribacter sp. 62-1 proteins, first half"}).accession
    acc["deep"] = service.create(CURATOR, "assembly", {
        **ASSEMBLY, "assembly_name": "Maribacter sp. 62-1 proteins, second half"}).accession
    acc["tomato"] = service.create(CURATOR, "germplasm", TOMATO).accession
    acc.update(add_compounds(engine))
    service.link(CURATOR, acc["shallow_sample"], "isolated_from", acc["strain"])
    service.link(CURATOR, acc["strain"], "sequenced_as", acc["shallow"])
    service.link(CURATOR, acc["deep_sample"], "isolated_from", acc["deep"])
    service.link(CURATOR, acc["hidden_sample"], "isolated_from", acc["deep"])
    seqs = SequenceService(engine, data_dir)
    all_proteins = proteins()
    for name, part in (("shallow", all_proteins[:15]), ("deep", all_proteins[15:])):
        path = data_dir.parent / f"{name}.faa"
        path.write_text("".join(f">{h}\n{s}\n" for h, s in part), "utf-8")
        seqs.ingest(CURATOR, acc[name], path, kind="proteome", allow_stops=True)
        write_hits(data_dir, acc[name], [h.split()[0] for h, _ in part])
    return SearchBank(engine, data_dir, acc)


def dbcan_rows(ids: list[str]) -> list[dict[str, Any]]:
    """The published dbCAN hits of these proteins as HITS rows (dbCAN gives no bit score)."""
    rows = []
    alginate = {"PL6", "PL7", "PL7_5"}  # CAZy: PL6 and PL7 are alginate lyase families
    with (DATA / "maribacter62-1_dbcan_hits.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["protein_id"] not in ids:
                continue
            family = row["HMMProfile"].removesuffix(".hmm")
            rows.append({
                "protein_id": row["protein_id"], "pack": "dbcan", "category": "CAZyme",
                "family": family, "family_accession": "", "description": "",
                "evalue": float(row["evalue"]), "score": None, "bias": None,
                "ali_from": int(row["GeneStart"]), "ali_to": int(row["GeneEnd"]),
                "hmm_from": int(row["ProfileStart"]), "hmm_to": int(row["ProfileEnd"]),
                "hmm_length": int(row["ProfileLength"]), "coverage": float(row["Coverage"]),
                "substrates": ["alginate"] if family in alginate else []})
    return rows


def pfam_rows(data_dir: Path, accession: str) -> list[dict[str, Any]]:
    """SusD_RagB (PF07980) hits of pyhmmer over the assembly's proteins, as HITS rows."""
    import pyhmmer
    from pyhmmer import easel, plan7

    store = SequenceStore(data_dir)
    with plan7.HMMFile(DATA / "SusD_RagB_PF07980.hmm") as handle:
        hmm = handle.read()
    assert hmm is not None
    seqs = easel.TextSequenceBlock(
        easel.TextSequence(name=r["id"], sequence=r["sequence"].replace("*", ""))
        for r in store.iter_rows(accession, "proteins", ["id", "sequence"])
    ).digitize(hmm.alphabet)
    rows = []
    for top in next(iter(pyhmmer.hmmsearch([hmm], seqs, Z=30))):
        for dom in top.domains.reported:
            ali = dom.alignment
            rows.append({
                "protein_id": top.name, "pack": "pfam", "category": "PUL",
                "family": hmm.name, "family_accession": hmm.accession,
                "description": hmm.description, "evalue": float(dom.i_evalue),
                "score": float(dom.score), "bias": float(dom.bias), "ali_from": ali.target_from,
                "ali_to": ali.target_to, "hmm_from": ali.hmm_from, "hmm_to": ali.hmm_to,
                "hmm_length": hmm.M, "coverage": (ali.hmm_to - ali.hmm_from + 1) / hmm.M,
                "substrates": []})
    return rows


def write_hits(data_dir: Path, accession: str, ids: list[str]) -> None:
    """hits.parquet + the completion marker, as the annotation pipeline leaves them."""
    store = SequenceStore(data_dir)
    rows = sorted(dbcan_rows(ids) + pfam_rows(data_dir, accession),
                  key=lambda r: (ids.index(r["protein_id"]), r["ali_from"]))
    manifest = store.manifest(accession)
    assert manifest is not None
    with store.stage_step(accession, "annotation") as staged:
        table = staged.table("hits", HITS)
        for row in rows:
            table.add(row)
        staged.commit_into(store.annotation_folder(accession))
    store.mark_step_done(accession, "annotation", {"input_sha256": manifest["sha256"]})


@pytest.fixture(params=["sql", "columns"])
def bank(request: pytest.FixtureRequest, engine: Engine, tmp_path: Path) -> SearchBank:
    """The bank, searched by one SQL query per search ("sql": a one-off command, PostgreSQL)
    or through in-memory columns ("columns": the web server on SQLite)."""
    if request.param == "columns":
        if engine.dialect.name != "sqlite":
            pytest.skip("in-memory columns are for SQLite banks")
        keep_in_memory(engine)
    data_dir = tmp_path / "bank"
    data_dir.mkdir()
    return build_bank(engine, data_dir)


def run(bank: SearchBank, query: str | None, actor: Actor = READER, **options: Any) -> Any:
    filters = options.pop("filters", CatalogFilters())
    with bank.engine.connect() as conn:
        return search_catalog(conn, actor, query, filters, data_dir=bank.data_dir, **options)


# --- text ----------------------------------------------------------------------------------

def test_english_words_across_kinds_with_facets(bank: SearchBank) -> None:
    result = run(bank, "Zobellia")
    assert [h.accession for h in result.hits] == [bank.acc["strain"]]
    assert result.facets["kind"] == {"strain": 1}
    assert result.facets["availability"] == {"available": 1}
    # every word must occur (any order, any case); relevance puts the best first
    result = run(bank, "tara MESOPELAGIC")
    assert [h.accession for h in result.hits] == [bank.acc["deep_sample"]]
    # a two-letter word is a substring too (LIKE), alone or beside a longer one
    assert [h.accession for h in run(bank, "tara 06").hits] == [bank.acc["deep_sample"]]
    assert run(bank, "tara 07").total == 1 and run(bank, "tara 08").total == 0
    assert bank.acc["deep_sample"] in {h.accession for h in run(bank, "B1", limit=50).hits}
    assert result.hits[0].score is not None
    # relevance: the record named so first (exact name, name prefix, name contains, rest)
    result = run(bank, "abyssomicin C")
    assert [h.name for h in result.hits] == ["abyssomicin C", "atrop-abyssomicin C"]
    assert result.hits[0].score is not None and result.hits[1].score is not None
    assert result.hits[0].score > result.hits[1].score
    result = run(bank, "Salinispora")
    assert {h.name for h in result.hits} == {"rifamycin", "salinosporamide A"}
    assert result.facets["kind"] == {"compound": 2}


def test_chinese_substrings(bank: SearchBank) -> None:
    # three characters or more: the trigram index; one or two: the index too, through the
    # spelled-out copy of the Han text (lanhai.kinds.spelled_out)
    for query in ("种质资源", "番茄", "番茄种质", "茄", "种质", "质资"):
        result = run(bank, query)
        assert [h.accession for h in result.hits] == [bank.acc["tomato"]], query
    assert run(bank, "种质资源 tomato").total == 1
    assert run(bank, "种质资源 alginate").total == 0
    # characters of different runs are not adjacent: "番茄种质资源 (tomato germplasm)" has
    # no "源 (" and "资源" never meets the next run; a character absent is absent
    for query in ("源t", "茄子", "源番", "鱼"):
        assert run(bank, query).total == 0, query
    assert run(bank, "茄 tomato").total == 1


def test_filters_on_catalogue_fields(bank: SearchBank) -> None:
    deep = run(bank, "", filters=CatalogFilters(depth_min=800))
    assert [h.accession for h in deep.hits] == [bank.acc["deep_sample"]]
    assert deep.hits[0].depth_m == 1000.0
    shallow = run(bank, "", filters=CatalogFilters(kinds=("sample",), depth_max=10))
    assert [h.accession for h in shallow.hits] == [bank.acc["shallow_sample"]]
    dated = run(bank, "", filters=CatalogFilters(date_from="2014", date_to="2014-06"))
    assert [h.accession for h in dated.hits] == [bank.acc["shallow_sample"]]
    assert run(bank, "", filters=CatalogFilters(date_to="2010")).hits[0].accession == \
        bank.acc["deep_sample"]
    # the Mozambique Channel (Tara station at -15.34, 43.29) but not the English Channel
    box = run(bank, "", filters=CatalogFilters(bbox=BBox.parse("30,-30,60,0")))
    assert [h.accession for h in box.hits] == [bank.acc["deep_sample"]]
    # a box across the antimeridian from 170 E to 10 W holds the English Channel only
    across = run(bank, "", filters=CatalogFilters(bbox=BBox.parse("170,40,-1,60")))
    assert [h.accession for h in across.hits] == [bank.acc["shallow_sample"]]
    taxon = run(bank, "", filters=CatalogFilters(taxon="zobellia"))
    assert [h.accession for h in taxon.hits] == [bank.acc["strain"]]
    available = run(bank, "", filters=CatalogFilters(available=True))
    assert [h.accession for h in available.hits] == [bank.acc["strain"]]


def test_has_genome_and_has_family_follow_the_lineage(bank: SearchBank) -> None:
    genome = run(bank, "", filters=CatalogFilters(has_genome=True), sort="accession")
    expected = {bank.acc[k] for k in ("shallow", "deep", "strain", "shallow_sample",
                                      "deep_sample")}
    assert {h.accession for h in genome.hits} == expected
    assert genome.facets["has_genome"] == 5
    # GH16_3 (a subfamily of GH16) is on MAR621_03589, in the second half: the deep one
    gh16 = run(bank, "", filters=CatalogFilters(has_family=("GH16",)))
    assert {h.accession for h in gh16.hits} == {bank.acc["deep"], bank.acc["deep_sample"]}
    # the three SusD proteins (PF07980, by accession) are in the first half
    with_susd = run(bank, "", filters=CatalogFilters(has_family=("PF07980",)))
    assert {h.accession for h in with_susd.hits} == {
        bank.acc["shallow"], bank.acc["strain"], bank.acc["shallow_sample"]}
    assert run(bank, "", filters=CatalogFilters(has_family=("GH999",))).total == 0
    # counted as a facet without filtering: of the five samples/strains/assemblies
    counted = run(bank, "", filters=CatalogFilters(kinds=("sample", "strain", "assembly")),
                  facet_families=("GH16", "PF07980", "GH999"))
    assert counted.total == 5
    assert counted.facets["family"] == {"GH16": 2, "PF07980": 3, "GH999": 0}
    # curators also see the restricted sample the deep assembly came from
    assert run(bank, "", CURATOR, filters=CatalogFilters(has_family=("GH16",))).total == 3


def test_restricted_records_are_never_counted_for_readers(bank: SearchBank) -> None:
    for actor, visible in ((READER, False), (CURATOR, True)):
        result = run(bank, "", actor, filters=CatalogFilters(kinds=("sample",)))
        assert (bank.acc["hidden_sample"] in {h.accession for h in result.hits}) is visible
        assert result.total == (3 if visible else 2)
        assert result.facets["kind"] == {"sample": result.total}
        deep_bucket = next(b for b in result.facets["depth"] if b["from_m"] == 1000.0)
        # TARA_B100000378 (1000 m) for everyone, the hidden 3000 m sample for curators only
        assert deep_bucket["count"] == (2 if visible else 1)
        assert run(bank, "abyssal", actor).total == (1 if visible else 0)


def test_sorting_and_paging(bank: SearchBank) -> None:
    by_depth = run(bank, "", filters=CatalogFilters(kinds=("sample",)), sort="depth")
    assert [h.depth_m for h in by_depth.hits] == [0.0, 1000.0]  # '0-1 m' is stored as 0
    deepest = run(bank, "", CURATOR, filters=CatalogFilters(kinds=("sample",)), sort="depth",
                  descending=True)
    assert deepest.hits[0].accession == bank.acc["hidden_sample"]
    names = run(bank, "", filters=CatalogFilters(kinds=("compound",)), sort="name")
    assert [h.name for h in names.hits] == ["abyssomicin C", "atrop-abyssomicin C",
                                            "curacin A", "rifamycin", "salinosporamide A"]
    page = run(bank, "", filters=CatalogFilters(kinds=("compound",)), sort="name", limit=2,
               offset=2)
    assert [h.name for h in page.hits] == ["curacin A", "rifamycin"]
    assert page.total == 5 and page.next_offset == 4
    assert run(bank, "", sort="date").hits[0].accession == bank.acc["deep_sample"]


def test_bad_requests_say_how_to_fix_them(bank: SearchBank) -> None:
    with pytest.raises(UsageError, match="sort by one of"):
        run(bank, "x", sort="colour")
    with pytest.raises(UsageError, match="W,S,E,N"):
        BBox.parse("1,2,3")
    with pytest.raises(UsageError, match="swap"):
        BBox.parse("0,50,10,40")
    with pytest.raises(UsageError, match="ISO date"):
        CatalogFilters(date_from="21/06/2014")
    with pytest.raises(UsageError, match="depth-min"):
        CatalogFilters(depth_min=100, depth_max=10)
    with pytest.raises(UsageError):
        CatalogFilters(kinds=("widget",))


def test_sqlite_facet_copy_follows_every_change(tmp_path: Path) -> None:
    """Migration 0002's records_search (SQLite) is filled from existing records and kept in
    step with inserts and updates by its triggers."""
    from sqlalchemy import text

    from lanhai.db.engine import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'bank.sqlite'}")
    try:
        migrate(engine, "0001")
        service = CatalogService(engine)
        strain = service.create(CURATOR, "strain", {**ZOBELLIA, "status": "available"})
        migrate(engine)  # 0002 copies what is there
        sample = service.create(CURATOR, "sample", TARA)
        service.update(CURATOR, strain.accession, {"status": "not available"})
        service.update(CURATOR, sample.accession, {"restricted": "yes"})
        with engine.connect() as conn:
            copied = {r.accession: r for r in conn.execute(text(
                "SELECT accession, kind, restricted, taxon, depth_m, availability "
                "FROM records_search"))}
            assert conn.execute(text("SELECT count(*) FROM records")).scalar() == 2
        assert copied[strain.accession].availability == "not available"
        assert copied[strain.accession].taxon == "Zobellia galactanivorans"
        assert copied[sample.accession].depth_m == 1000.0
        assert copied[sample.accession].restricted == 1
        with engine.connect() as conn:
            found = search_catalog(conn, READER, "", CatalogFilters(), data_dir=tmp_path)
        assert [h.accession for h in found.hits] == [strain.accession]
        assert found.facets["availability"] == {"not available": 1}
    finally:
        engine.dispose()


def test_migration_spells_out_han_text_of_stored_records(tmp_path: Path) -> None:
    """Revision 0003 appends the spelled-out Han runs to records stored before it (so the
    index finds two-character words in them) and its downgrade takes them off again."""
    from sqlalchemy import text

    from lanhai.db.engine import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'bank.sqlite'}")
    try:
        migrate(engine, "0002")
        tomato = CatalogService(engine).create(CURATOR, "germplasm", TOMATO)
        strain = CatalogService(engine).create(CURATOR, "strain", ZOBELLIA)
        with engine.begin() as conn:  # the text as revision 0002's code wrote it
            conn.execute(text("UPDATE records SET search_text = "
                              "substr(search_text, 1, instr(search_text, ' ||') - 1) "
                              "WHERE instr(search_text, ' ||') > 0"))
        with engine.connect() as conn:
            old = dict(conn.execute(text("SELECT accession, search_text FROM records")).all())
            assert "种质资源" in old[tomato.accession] and "种 质" not in old[tomato.accession]
            assert search_catalog(conn, READER, "种质", data_dir=tmp_path).total == 0
        migrate(engine)
        with engine.connect() as conn:
            new = dict(conn.execute(text("SELECT accession, search_text FROM records")).all())
            assert new[tomato.accession] == old[tomato.accession] + " || 番 茄 种 质 资 源 |"
            assert new[strain.accession] == old[strain.accession]  # no Han text: unchanged
            found = search_catalog(conn, READER, "种质", data_dir=tmp_path)
            assert [h.accession for h in found.hits] == [tomato.accession]
        migrate_down(engine, "0002")
        with engine.connect() as conn:
            assert dict(conn.execute(text("SELECT accession, search_text FROM records"))
                        .all()) == old
    finally:
        engine.dispose()


def migrate_down(engine: Engine, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from lanhai.db.engine import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
