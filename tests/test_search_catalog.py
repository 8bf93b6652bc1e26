"""Catalogue search: full text across kinds (English and 中文), facets, filters, sorting,
paging, lineage filters (has genome, has family) and confidentiality, on every backend, over
the bank of tests/support/search.py (a restricted sample at 3000 m among public samples, a
strain, two annotated assemblies, a germplasm record with a Chinese crop name, compounds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from lanhai.errors import UsageError
from lanhai.search.filters import BBox, CatalogFilters
from lanhai.services.access import Actor
from tests.support import CURATOR, READER, ZOBELLIA, bank_on, catalog_on
from tests.support.search import (
    TARA,
    TOMATO,
    SearchBank,
    build_bank,
)


@pytest.fixture(params=["sql", "columns"])
def bank(request: pytest.FixtureRequest, engine: Engine, tmp_path: Path) -> SearchBank:
    """The bank, searched by one SQL query per search ("sql": a one-off command, PostgreSQL)
    or through in-memory columns ("columns": the web server on SQLite)."""
    if request.param == "columns" and engine.dialect.name != "sqlite":
        pytest.skip("in-memory columns are for SQLite banks")
    data_dir = tmp_path / "bank"
    data_dir.mkdir()
    bank = bank_on(engine, data_dir)
    if request.param == "columns":
        bank.search.keep_columns_in_memory()
    return build_bank(engine, data_dir, bank)


def run(bank: SearchBank, query: str | None, actor: Actor = READER, **options: Any) -> Any:
    filters = options.pop("filters", CatalogFilters())
    return bank.bank.search.search(actor, query, filters, **options)


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


def test_identifiers_and_their_parts(bank: SearchBank, monkeypatch: pytest.MonkeyPatch
                                     ) -> None:
    """Identifiers, whole or in part, find the records whose text holds them: on PostgreSQL
    through the bank's identifier words (migration 0011), the same records as a substring
    match; a word in too many identifier words is matched by its trigrams instead."""
    from lanhai.store import search as sql

    deep = bank.acc["deep_sample"]
    queries = {"TARA_B100000378": {deep}, "tara_b1000003": {deep}, "b100000378": {deep},
               "SAMEA2620666": {deep}, "ers489727 mesopelagic": {deep},
               "TARA_B100000379": set(), "2620666": {deep}, "_b100": {deep}}
    for fallback in (False, True):
        if fallback:
            monkeypatch.setattr(sql, "MAX_IDENTIFIER_WORDS", 0)
        found = {q: {h.accession for h in run(bank, q, limit=50).hits} for q in queries}
        assert found == queries
    # a changed identifier is found by its new words, no longer by its old ones
    monkeypatch.setattr(sql, "MAX_IDENTIFIER_WORDS", 1000)
    bank.bank.catalog.update(CURATOR, deep, {"samp_name": "TARA_B999000378"})
    assert {h.accession for h in run(bank, "B999000").hits} == {deep}
    assert run(bank, "tara_b100000378").total == 0
    assert run(bank, "ERS489727").total == 1  # its other identifiers stay


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
        service = catalog_on(engine)
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
            found = bank_on(engine, tmp_path).search.search(READER, "")
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
        tomato = catalog_on(engine).create(CURATOR, "germplasm", TOMATO)
        strain = catalog_on(engine).create(CURATOR, "strain", ZOBELLIA)
        with engine.begin() as conn:  # the text as revision 0002's code wrote it
            conn.execute(text("UPDATE records SET search_text = "
                              "substr(search_text, 1, instr(search_text, ' ||') - 1) "
                              "WHERE instr(search_text, ' ||') > 0"))
        with engine.connect() as conn:
            old = dict(conn.execute(text("SELECT accession, search_text FROM records")).all())
            assert "种质资源" in old[tomato.accession] and "种 质" not in old[tomato.accession]
            assert bank_on(engine, tmp_path).search.search(READER, "种质").total == 0
        migrate(engine)
        with engine.connect() as conn:
            new = dict(conn.execute(text("SELECT accession, search_text FROM records")).all())
            assert new[tomato.accession] == old[tomato.accession] + " || 番 茄 种 质 资 源 |"
            assert new[strain.accession] == old[strain.accession]  # no Han text: unchanged
            found = bank_on(engine, tmp_path).search.search(READER, "种质")
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
