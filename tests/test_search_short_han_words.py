"""One- and two-character Chinese words on every backend: looked up as the search text spells
them out (lanhai.kinds.spelled_out), the form a trigram index can find (SQLite FTS5 and
PostgreSQL pg_trgm alike), with the same matches as the words themselves."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from lanhai.db.schema import records
from lanhai.store.search import TextMatch, records_search
from tests.support import CURATOR, READER, bank_on
from tests.support.search import TOMATO

GERMPLASM = {  # (accession number, description)
    "BENCH-1": "仿刺参 (sea cucumber), 海参养殖",
    "BENCH-2": "真鲷 (red seabream)",
    "BENCH-3": "海 参 written apart, and 鲷鱼",
}


def _bank(engine: Engine, tmp_path: Path) -> dict[str, str]:
    bank = bank_on(engine, tmp_path)
    made = {}
    for number, description in GERMPLASM.items():
        record = bank.catalog.create(CURATOR, "germplasm", {**TOMATO, "accenumb": number,
                                                            "description": description})
        made[number] = record.accession
    return made


def test_short_han_words_match_on_every_backend(engine: Engine, tmp_path: Path) -> None:
    made = _bank(engine, tmp_path)
    search = bank_on(engine, tmp_path).search

    def found(query: str) -> set[str]:
        return {h.accession for h in search.search(READER, query, limit=50).hits}

    # 海参 adjacent in one record; 海 and 参 apart in another are a space apart as well
    assert found("海参") == {made["BENCH-1"], made["BENCH-3"]}
    assert found("海参 cucumber") == {made["BENCH-1"]}
    assert found("鲷") == {made["BENCH-2"], made["BENCH-3"]}
    assert found("真鲷") == {made["BENCH-2"]}
    assert found("刺参") == {made["BENCH-1"]}
    assert found("参海") == set()
    assert found("鲸") == set()


def test_both_backends_look_up_the_spelled_out_word(engine: Engine) -> None:
    """pg_trgm gets a pattern with a trigram in it (a bare two-character word has none, and
    was a scan of every record); SQLite's FTS5 phrase is the same text."""
    with engine.connect() as conn:
        match = TextMatch(conn, "海参 鲷 TARA 06", records_search)
    if engine.dialect.name == "sqlite":
        assert match.fts is not None
        compiled = match.fts.element.compile(bind=engine)
        assert list(compiled.params.values()) == ['"海 参" AND " 鲷 " AND "TARA"']
        assert len(match.conditions) == 1  # 06: LIKE on the rows FTS5 found
    else:  # the lower-cased copy, LIKE the lower-cased words
        assert match.fts is None
        compiled = [c.compile(bind=engine) for c in match.conditions]
        assert all("records_search.folded LIKE lower(" in str(c) for c in compiled)
        assert [v for c in compiled for v in c.params.values()] == \
            ["%海 参%", "% 鲷 %", "%TARA%", "%06%"]


def test_the_search_copy_follows_every_change(engine: Engine, tmp_path: Path) -> None:
    """The narrow copy searches read (``records_search``; on PostgreSQL with the search text
    lower-cased, migration 0006) is written with a record and rewritten with it: searches
    see every change."""
    made = _bank(engine, tmp_path)
    bank = bank_on(engine, tmp_path)

    def found(query: str) -> set[str]:
        return {h.accession for h in bank.search.search(READER, query, limit=50).hits}

    assert found("SEA CUCUMBER") == {made["BENCH-1"]}
    bank.catalog.update(CURATOR, made["BENCH-1"], {"description": "Stichopus japonicus"})
    assert found("sea cucumber") == set()
    assert found("STICHOPUS Japonicus") == {made["BENCH-1"]}
    assert found("海参") == {made["BENCH-3"]}
    bank.catalog.update(CURATOR, made["BENCH-3"], {"restricted": "yes"})
    assert found("鲷鱼") == set()  # restricted: readers never see it
    assert {h.accession for h in bank.search.search(CURATOR, "鲷鱼").hits} == {made["BENCH-3"]}
    with engine.connect() as conn:
        copied = conn.execute(select(records_search.c.restricted).where(
            records_search.c.accession == made["BENCH-3"])).scalar()
        assert copied is True
        if engine.dialect.name == "postgresql":
            rows = dict(conn.execute(select(records.c.search_text, records_search.c.folded)
                                     .join(records_search, records_search.c.id == records.c.id)
                                     ).all())
            assert len(rows) == len(GERMPLASM)
            assert all(folded == text.lower() for text, folded in rows.items())


def test_lists_filtered_by_words_use_the_search_copy(engine: Engine, tmp_path: Path) -> None:
    """``lanhai list --query`` / ``/browse?q=``: the same matches on every backend; on
    PostgreSQL through the lower-cased copy under the trigram index."""
    from lanhai.store.queries import list_records, match_conditions

    made = _bank(engine, tmp_path)
    with engine.connect() as conn:
        found, total = list_records(conn, "germplasm", query="SEA cucumber")
        assert [r.accession for r in found] == [made["BENCH-1"]] and total == 1
        found, total = list_records(conn, "germplasm", query="鲷")
        assert {r.accession for r in found} == {made["BENCH-2"], made["BENCH-3"]}
        assert list_records(conn, "germplasm", query="100%")[1] == 0
        (condition,) = match_conditions(conn, "germplasm", [], "Red SEABREAM")
        compiled = condition.compile(bind=engine)
        if engine.dialect.name == "postgresql":
            assert "records_search.folded LIKE" in str(compiled)
            assert list(compiled.params.values()) == ["%red seabream%"]
