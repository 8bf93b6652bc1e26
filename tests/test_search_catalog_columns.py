"""The in-memory facet columns behind catalogue search (lanhai.store.search_columns):
ordering, filters and facets agree with a plain Python reading of the same rows, and a
bank's columns follow every change made after they were loaded, by this engine or another.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lanhai.db.engine import make_engine, migrate
from lanhai.search.filters import DEPTH_BUCKETS, SORTS, CatalogFilters, name_relevance
from lanhai.store.search_columns import Columns, Vocabularies
from tests.support import CURATOR, READER, SAMPLE, ZOBELLIA, bank_on
from tests.support.search import TARA

PREFIX = {"sample": "LHSM", "strain": "LHST", "compound": "LHCP", "germplasm": "LHGP"}


def synthetic_rows(n: int, seed: int) -> list[tuple[Any, ...]]:
    """(id, accession, kind, name, taxon, depth, date, lat, lon, availability, restricted)
    with every kind of missing value, ties on names and dates, and names holding 'alpha'."""
    rng = random.Random(seed)
    rows = []
    for rid in range(1, n + 1):
        kind = rng.choice(list(PREFIX))
        name = rng.choice(["alpha", "Alpha beta", "beta alpha", "gamma", "Gamma", "delta",
                           "ALPHA", "épsilon", "zeta alpha"])
        rows.append((
            rid, f"{PREFIX[kind]}{rng.randrange(1, 10_000_000):07d}", kind, name,
            rng.choice([None, "", "Zobellia galactanivorans", "Zobellia", "Maribacter sp."]),
            rng.choice([None, 0.0, 5.0, 200.0, 999.9, 1000.0, 4000.0, -3.0]),
            rng.choice([None, "", "2010", "2010-06", "2010-06-26", "2014-06-21", "1999-12-31",
                        "n.d."]),
            rng.choice([None, -15.3, 43.3, 50.1]), rng.choice([None, -179.5, 12.0, 179.9]),
            rng.choice([None, "available", "not available"]) if kind == "strain" else None,
            rng.random() < 0.2))
    # accessions are unique in a bank
    seen: set[str] = set()
    unique = []
    for row in rows:
        if row[1] not in seen:
            seen.add(row[1])
            unique.append(row)
    return unique


def reference_order(rows: list[tuple[Any, ...]], sort: str, descending: bool,
                    words: str | None) -> list[str]:
    """The documented order, written out plainly: relevance then accession (when there are
    words), else the sort value then accession; missing values last by accession."""
    if words is not None:
        ordered = sorted(rows, key=lambda r: (name_relevance(r[3], words), r[1]),
                         reverse=descending)
        return [r[1] for r in ordered]
    if sort in ("relevance", "accession"):
        return [r[1] for r in sorted(rows, key=lambda r: r[1], reverse=descending)]
    value = {"date": lambda r: r[6] or None, "depth": lambda r: r[5],
             "name": lambda r: r[3].casefold()}[sort]
    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    present.sort(key=lambda r: (value(r), r[1]), reverse=descending)
    missing.sort(key=lambda r: r[1])
    return [r[1] for r in present + missing]


@pytest.mark.parametrize("seed", [1, 2])
def test_order_matches_the_plain_reading(seed: int) -> None:
    rows = synthetic_rows(400, seed)
    columns = Columns.from_rows(rows, Vocabularies.new())
    accession = {r[0]: r[1] for r in rows}
    for sort in SORTS:
        for descending in (False, True):
            for words in (None, "alpha") if sort == "relevance" else (None,):
                expected = reference_order(rows, sort, descending, words)
                for wanted in (1, 20, len(rows) + 5):
                    got = [accession[int(columns.ids[p])] for p in
                           columns.first(wanted, sort, descending, words, name_relevance)]
                    assert got == expected[:wanted], (sort, descending, words, wanted)


def test_filters_and_facets_match_the_plain_reading() -> None:
    rows = synthetic_rows(600, 3)
    columns = Columns.from_rows(rows, Vocabularies.new())
    accession = {r[0]: r[1] for r in rows}
    cases: list[tuple[dict[str, Any], Any]] = [
        ({"kinds": ("strain", "sample")}, lambda r: r[2] in ("strain", "sample")),
        ({"taxon": "zobellia"}, lambda r: bool(r[4]) and r[4].lower().startswith("zobellia")),
        ({"depth_min": 200.0, "depth_max": 1000.0},
         lambda r: r[5] is not None and 200.0 <= r[5] <= 1000.0),
        ({"date_from": "2010", "date_to": "2010-06"},
         lambda r: bool(r[6]) and "2010" <= r[6] <= "2010-06~"),
        ({"bbox": (170.0, -20.0, -170.0, 0.0)},  # crosses 180°
         lambda r: r[7] is not None and r[8] is not None and -20 <= r[7] <= 0
         and (r[8] >= 170 or r[8] <= -170)),
        ({"available": True}, lambda r: r[9] == "available"),
        ({"include_restricted": False}, lambda r: not r[10]),
    ]
    for conditions, keep in cases:
        mask = columns.mask(**conditions)
        assert [accession[int(columns.ids[p])] for p in range(len(columns)) if mask[p]] == \
            [r[1] for r in rows if keep(r)], conditions
    genomes = [r[0] for r in rows[::7]]
    facets = columns.facets(np.array(genomes), DEPTH_BUCKETS, 3)
    assert facets["kind"] == dict(sorted(Counter(r[2] for r in rows).items()))
    taxa = Counter(r[4] for r in rows if r[4])
    assert facets["taxon"] == [{"value": t, "count": n} for t, n in
                               sorted(taxa.items(), key=lambda x: (-x[1], x[0]))[:3]]
    assert [b["count"] for b in facets["depth"]] == [
        sum(1 for r in rows if r[5] is not None and low <= r[5] < high)
        for low, high in DEPTH_BUCKETS]
    assert facets["year"] == dict(sorted(Counter(
        r[6][:4] for r in rows if r[6] and r[6][:4].isdigit()).items()))
    assert facets["availability"] == dict(sorted(Counter(r[9] for r in rows if r[9]).items()))
    assert facets["has_genome"] == len(genomes)
    placed = [r for r in rows if r[7] is not None and r[8] is not None]
    assert facets["place"] == {"count": len(placed), "bbox": [
        min(r[8] for r in placed), min(r[7] for r in placed),
        max(r[8] for r in placed), max(r[7] for r in placed)]}
    empty = Columns.from_rows([], Vocabularies.new())
    assert empty.facets(np.array([]), DEPTH_BUCKETS, 3)["place"] == \
        {"count": 0, "bbox": None}
    assert len(columns.take(columns.mask(depth_min=1e9))) == 0


def test_bank_columns_follow_changes_after_loading(tmp_path: Path) -> None:
    """The first search loads the bank's columns; records created, edited, restricted or
    released afterwards — through this engine or another one on the same file, as another
    process would — show in the next search's results and counts."""
    url = f"sqlite:///{tmp_path / 'bank.sqlite'}"
    engine, other = make_engine(url), make_engine(url)
    try:
        migrate(engine)
        bank, another = bank_on(engine, tmp_path), bank_on(other, tmp_path)
        bank.search.keep_columns_in_memory()
        assert bank.search.columns_kept and not another.search.columns_kept
        service, elsewhere = bank.catalog, another.catalog
        strain = service.create(CURATOR, "strain", {**ZOBELLIA, "status": "available"})

        def search(query: str = "", **filters: Any) -> Any:
            return bank.search.search(READER, query, CatalogFilters(**filters))

        assert search().total == 1
        sample = elsewhere.create(CURATOR, "sample", TARA)
        shallow = service.create(CURATOR, "sample", SAMPLE)
        found = search()
        assert found.total == 3
        assert found.facets["kind"] == {"sample": 2, "strain": 1}
        assert search(depth_min=500).hits[0].accession == sample.accession
        elsewhere.update(CURATOR, strain.accession, {"status": "not available"})
        assert search(available=True).total == 0
        assert search().facets["availability"] == {"not available": 1}
        service.update(CURATOR, sample.accession, {"restricted": "yes"})
        assert [h.accession for h in search(kinds=("sample",)).hits] == [shallow.accession]
        elsewhere.update(CURATOR, sample.accession, {"restricted": "no"})
        assert search("TARA").hits[0].accession == sample.accession
        service.update(CURATOR, shallow.accession, {"depth": "4500 m"})
        assert [h.accession for h in search(depth_min=4000).hits] == [shallow.accession]
    finally:
        engine.dispose()
        other.dispose()
