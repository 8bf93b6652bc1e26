"""One- and two-character Chinese words on every backend: looked up as the search text spells
them out (lanhai.kinds.spelled_out), the form a trigram index can find (SQLite FTS5 and
PostgreSQL pg_trgm alike), with the same matches as the words themselves."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from lanhai.db.schema import records
from lanhai.store.search import TextMatch
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


def test_postgresql_looks_up_the_spelled_out_word(engine: Engine) -> None:
    """pg_trgm gets a pattern with a trigram in it (a bare two-character word has none, and
    was a scan of every record); SQLite's FTS5 phrase is the same text."""
    with engine.connect() as conn:
        match = TextMatch(conn, "海参 鲷 tara 06", records)
        if engine.dialect.name == "sqlite":
            assert match.fts is not None
            compiled = str(match.fts.element.compile(compile_kwargs={"literal_binds": True}))
            assert '"海 参" AND " 鲷 " AND "tara"' in compiled
            return
        patterns = [c.right.value for c in match.conditions]  # type: ignore[attr-defined]
    assert patterns == ["%海 参%", "% 鲷 %", "%tara%", "%06%"]
