"""Benchmark: catalogue full-text search with facets over 1,000,000 records (SQLite, PostgreSQL).

What it measures
    * p50 / p95 latency of :meth:`lanhai.services.search.SearchService.search` (the code
      behind ``lanhai search text`` and ``GET /api/search``) the way the web server runs it
      (the bank's facet columns in memory, loaded at start: load time and memory are
      printed), and the p95 of a one-off command (one SQL query per search), for typical
      queries: English and Chinese words, alone and with facets/filters (kind, depth, date,
      box, taxon), as a reader (restricted records filtered) with relevance sorting, a page
      of 20 and every facet count;
    * the floor, in the same run: a bare ``sqlite3`` FTS5 ``MATCH`` of the same words on the
      same file, counting the matches (what any full-text answer with a total must do);
      the ratio says what facets, filters, ranking and reading the page cost on top.

The bank: every record of the demo bank (real MIxS samples from OSD, Tara, GOS, BATS and
Malaspina; IJSEM type strains; Tara MAGs; MIBiG/CMNPD compounds and glycans; iGEM parts;
Vavilov germplasm), repeated with new names and identifiers (``… #n``) until there are
1,000,000. Germplasm copies take real species from FAO's ASFIS list with their Chinese
names (大黄鱼, 仿刺参 …), so Chinese words are searched on real values. One record in a
hundred is restricted. Records go in through the store layer (``insert_records``: the same
rows, identifiers, versions and full-text index as an import, without per-row validation)
and the bank is cached in ``benchmarks/output/search-text-bank/``.

On PostgreSQL (``--database-url``, or ``--backends sqlite,postgresql`` for both side by
side) the same records go into a database of their own (``<database>_text``, kept and reused
like the SQLite file) through the same store functions; words are matched by pg_trgm as
Lanhai does there, and the floor is a bare ``psycopg`` count of the same matches through
the same trigram index.

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_search_text              # 1,000,000 records
    .venv/bin/python benchmarks/bench_search_text.py --records 100000
    .venv/bin/python -m benchmarks.bench_search_text --backends sqlite,postgresql

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: benchmarks.backends from the root
    sys.path.insert(0, str(ROOT))

from benchmarks.backends import (  # noqa: E402
    Backend,
    Figure,
    add_arguments,
    database_megabytes,
    load_average,
    measure_each,
)

OUTPUT = ROOT / "benchmarks" / "output" / "search-text-bank"
ASFIS = ROOT.parent / "shared" / "data" / "catalog" / "germplasm" / "ASFIS_sp_2024.csv.gz"
BATCH = 10_000

#: (label, text, filters) — typical searches: names, identifiers, terms, with filters;
#: filters are CatalogFilters keyword arguments
QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    ("genus", "Zobellia", {}),
    ("species", "Salinispora tropica", {}),
    ("compound", "abyssomicin", {}),
    ("strain + available", "Maribacter", {"available": True}),
    ("station + depth", "TARA_068", {"depth_min": 100.0}),
    ("sample id + box", "TARA_B1000004", {"bbox": (-180.0, -60.0, 180.0, 0.0)}),
    ("place + kind", "Roscoff", {"kinds": ("strain",)}),
    ("taxon facet", "Maribacter", {"taxon": "Maribacter"}),
    ("ENVO term + date", "mesopelagic", {"date_from": "2011", "date_to": "2011"}),
    ("中文 species", "大黄鱼", {}),
    ("中文 + kind", "仿刺参", {"kinds": ("germplasm",)}),
    ("中文 genus word", "石斑鱼", {}),
    ("中文 4 chars", "皱纹盘鲍", {}),
    ("中文 2 chars", "海参", {}),
    ("中文 2 chars + kind", "对虾", {"kinds": ("germplasm",)}),
    ("中文 1 char", "鲷", {}),
]
#: reported separately: words found in a tenth of the bank or more (every record of a
#: project), and browsing with no words at all
BROAD_QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    ("broad: project", "Ocean Sampling Day", {"kinds": ("sample",)}),
    ("broad: ENVO term", "mesopelagic", {}),
    ("browse: kind=part", "", {"kinds": ("part",)}),
]


def asfis_species() -> list[tuple[str, str, str]]:
    """(scientific name, English name, Chinese name) of ASFIS species with a Chinese name."""
    found = []
    with gzip.open(ASFIS, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            if row["Chinese_name"].strip() and len(row["Scientific_Name"].split()) == 2:
                found.append((row["Scientific_Name"], row["English_name"],
                              row["Chinese_name"].strip()))
    return found


def demo_records() -> list[tuple[str, dict[str, Any], list[str]]]:
    """(kind, fields, identifiers) of every record of a freshly built demo bank."""
    from sqlalchemy import select

    from lanhai.bank import init_bank
    from lanhai.db.schema import identifiers, records
    from lanhai.demo.builder import import_source
    from lanhai.demo.sources import DEMO_SOURCES
    from lanhai.services.access import LOCAL_ADMIN
    from lanhai.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        bank = init_bank(Settings(data_dir=Path(tmp)))
        for source in DEMO_SOURCES:
            import_source(bank, LOCAL_ADMIN, source)
        with bank.db.engine.connect() as conn:
            ids: dict[int, list[str]] = {}
            for rid, value in conn.execute(select(identifiers.c.record_id,
                                                  identifiers.c.value)):
                ids.setdefault(rid, []).append(value)
            rows = [(r.kind, dict(r.fields), ids.get(r.id, []))
                    for r in conn.execute(select(records).order_by(records.c.id))]
        bank.close()
    return rows


def vary(kind: str, fields: dict[str, Any], ids: list[str], copy: int,
         species: tuple[str, str, str]) -> tuple[dict[str, Any], list[str]]:
    """A copy of a real record with new names and identifiers (``#copy``)."""
    if copy == 0:
        return fields, ids
    new = dict(fields)
    tag = f"#{copy}"
    name_field = {"sample": "samp_name", "strain": "strain_designation",
                  "assembly": "assembly_name", "compound": "compound_name",
                  "part": "display_id", "germplasm": "accenumb"}[kind]
    new[name_field] = f"{new.get(name_field, '')} {tag}" if kind != "part" else \
        f"{new[name_field]}_{copy}"
    if kind == "germplasm":
        scientific, english, chinese = species
        genus, epithet = scientific.split()
        new.update(genus=genus, species=epithet, cropname=english, accename=chinese,
                   taxon_name=scientific)
    for key in ("biosample", "insdc_sample", "insdc_accession"):
        if isinstance(new.get(key), str):
            new[key] = f"{new[key]}{tag}"
    for key in ("collection_numbers", "source_ids", "identifiers"):
        if isinstance(new.get(key), list):
            new[key] = [f"{v}{tag}" for v in new[key]]
    return new, [f"{v}{tag}" for v in ids]


def fill(url: str, total: int) -> int:
    """Migrate the catalogue at ``url`` and insert ``total`` varied demo records."""
    from lanhai.db.engine import make_engine, migrate
    from lanhai.kinds import kind_spec
    from lanhai.model import NewRecord
    from lanhai.store.records import insert_records

    source = demo_records()
    species = asfis_species()
    engine = make_engine(url)
    migrate(engine)
    started = time.perf_counter()
    made = 0
    copy = 0
    batch: list[NewRecord] = []
    while made < total:
        for number, (kind, fields, ids) in enumerate(source):
            if made >= total:
                break
            new_fields, new_ids = vary(kind, fields, ids, copy,
                                       species[(copy * 41 + number) % len(species)])
            spec = kind_spec(kind)
            restricted = spec.restricted_by_default or made % 100 == 99
            batch.append(NewRecord(spec, new_fields, new_ids, restricted))
            made += 1
            if len(batch) >= BATCH:
                with engine.begin() as conn:
                    insert_records(conn, batch, "bench")
                batch.clear()
                if made % 100_000 == 0:
                    print(f"  {made:,} records ({time.perf_counter() - started:.0f} s)",
                          file=sys.stderr, flush=True)
        copy += 1
    if batch:
        with engine.begin() as conn:
            insert_records(conn, batch, "bench")
    engine.dispose()
    print(f"  built {made:,} records in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    return made


def build_bank(path: Path, total: int) -> None:
    """The SQLite bank: built beside ``path`` then moved into place, FTS optimized."""
    tmp = path.with_name(path.name + ".building")
    tmp.unlink(missing_ok=True)
    fill(f"sqlite:///{tmp}", total)
    raw = sqlite3.connect(tmp)
    raw.execute("INSERT INTO records_fts(records_fts) VALUES ('optimize')")
    raw.execute("ANALYZE")
    raw.commit()
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    tmp.replace(path)
    for leftover in (tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
        leftover.unlink(missing_ok=True)


def postgresql_bank(backend: Backend, total: int, rebuild: bool) -> str:
    """The PostgreSQL bank: its own database, reused when it holds ``total`` records."""
    from sqlalchemy import create_engine, text

    url = backend.bank_url("text")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            have = conn.execute(text("SELECT count(*) FROM records")).scalar() if conn.execute(
                text("SELECT to_regclass('records')")).scalar() else 0
    finally:
        engine.dispose()
    if have == total and not rebuild:
        return url
    print(f"building a bank of {total:,} records in {make_url(url).database} on PostgreSQL",
          file=sys.stderr)
    url = backend.bank_url("text", fresh=True)  # a half-built bank starts again
    fill(url, total)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()
    return url


def resident_bytes() -> int:
    """This process's resident memory (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def floor_query(raw: sqlite3.Connection, text: str) -> int:
    """SQLite's floor: a bare FTS5 MATCH count of the words."""
    from lanhai.kinds import fts_phrase

    phrases = [fts_phrase(w) or w for w in text.split()]
    words = " AND ".join('"' + w.replace('"', '""') + '"' for w in phrases)
    row = raw.execute("SELECT count(*) FROM records_fts WHERE records_fts MATCH ?",
                      (words,)).fetchone()
    return int(row[0])


def pg_floor_query(raw: Any, text: str) -> int:
    """PostgreSQL's floor: a bare count of the records whose text holds every word, through
    the same trigram index (the lower-cased text of records_search, short Han words spelled
    out), as Lanhai matches words there."""
    from lanhai.kinds import fts_phrase

    words = [(fts_phrase(w) or w).replace("\\", "\\\\").replace("%", "\\%")
             .replace("_", "\\_") for w in text.split()]
    where = " AND ".join("folded LIKE lower(%s)" for _ in words)
    row = raw.execute(f"SELECT count(*) FROM records_search WHERE {where}",
                      [f"%{w}%" for w in words]).fetchone()
    return int(row[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20, help="Runs of each query.")
    parser.add_argument("--rebuild", action="store_true")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return measure_each(args, measure, f"full text over {args.records:,} records")


def measure(backend: Backend, args: argparse.Namespace) -> list[Figure]:
    """Build or reuse the backend's bank, time every query, print the table."""
    from lanhai.bank import Bank
    from lanhai.db.engine import make_engine, migrate
    from lanhai.kinds import fts_phrase
    from lanhai.search.filters import BBox, CatalogFilters
    from lanhai.services.access import Actor
    from lanhai.settings import Settings
    from lanhai.store.database import Database

    OUTPUT.mkdir(parents=True, exist_ok=True)
    raw: Any
    if backend.is_sqlite:
        bank = OUTPUT / f"bank-{args.records}.sqlite"
        if args.rebuild or not bank.exists():
            print(f"building a bank of {args.records:,} records (cached in {bank})",
                  file=sys.stderr)
            build_bank(bank, args.records)
        url = f"sqlite:///{bank}"
        raw = sqlite3.connect(bank)
        data_dir = OUTPUT / "data"
    else:
        import psycopg

        url = postgresql_bank(backend, args.records, args.rebuild)
        raw = psycopg.connect(make_url(url).set(drivername="postgresql")
                              .render_as_string(hide_password=False), autocommit=True)
        data_dir = OUTPUT / "data-postgresql"
    engine = make_engine(url)
    migrate(engine)  # a bank cached by an older version is brought to the current schema
    reader = Actor("bench", "reader")
    with engine.connect() as conn:
        kinds = dict(conn.exec_driver_sql(
            "SELECT kind, count(*) FROM records GROUP BY kind").all())
    size = bank.stat().st_size / 1e9 if backend.is_sqlite else database_megabytes(url) / 1e3
    print(f"\n{backend.name}: bank of {sum(kinds.values()):,} records {json.dumps(kinds)}; "
          f"{size:.1f} GB; load average {load_average()}")
    # the server's way: the bank's columns in memory (loaded once at start; SQLite), and the
    # one-off command's way: one SQL query per search, on a second engine
    one_off = make_engine(url)
    server = Bank.over(Settings(data_dir=data_dir, database_url=url), Database(url, engine))
    command = Bank.over(Settings(data_dir=data_dir, database_url=url), Database(url, one_off))
    server.search.keep_columns_in_memory()
    rss_before = resident_bytes()
    started = time.perf_counter()
    server.search.warm()
    load_s = time.perf_counter() - started
    if server.search.columns_kept:
        print(f"server: columns loaded in {load_s:.1f} s, resident memory "
              f"+{(resident_bytes() - rss_before) / 1e6:.0f} MB")
    else:
        print("server: one SQL query per search (no columns kept in memory on "
              f"{backend.name})")
    floor_name = "bare FTS5 MATCH count" if backend.is_sqlite else \
        "bare pg_trgm LIKE count"
    print(f"{'query':28} {'matches':>8} {'p50 ms':>8} {'p95 ms':>8} {'sql p95':>8} "
          f"{'floor p50':>10} {'floor p95':>10} {'ratio p95':>9}")
    all_lanhai: list[float] = []
    all_sql: list[float] = []
    all_floor: list[float] = []
    for group, queries in (("main", QUERIES), ("broad", BROAD_QUERIES)):
        for label, text, options in queries:
            opts = dict(options)
            if "bbox" in opts:
                opts["bbox"] = BBox(*opts["bbox"])
            filters = CatalogFilters(**opts)
            runs: dict[str, list[float]] = {"server": [], "sql": []}
            totals = set()
            for way, used in (("server", server), ("sql", command)):
                used.search.search(reader, text, filters)  # warm
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    result = used.search.search(reader, text, filters)
                    runs[way].append((time.perf_counter() - start) * 1000)
                    totals.add(result.total)
            assert len(totals) == 1, f"{label}: the two ways disagree: {totals}"
            total = totals.pop()
            floors: list[float] = []
            counted = floor_query if backend.is_sqlite else pg_floor_query
            if text and (not backend.is_sqlite
                         or all(fts_phrase(w) is not None for w in text.split())):
                counted(raw, text)
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    counted(raw, text)
                    floors.append((time.perf_counter() - start) * 1000)
            times = runs["server"]
            p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
            sql95 = percentile(runs["sql"], 0.95)
            if floors:
                f50, f95 = percentile(floors, 0.5), percentile(floors, 0.95)
                ratio = f"{p95 / f95:8.1f}x"
                floor_text = f"{f50:10.1f} {f95:10.1f}"
            else:
                ratio, floor_text = "       -", f"{'-':>10} {'-':>10}"
            print(f"{label:28} {total:8,} {p50:8.1f} {p95:8.1f} {sql95:8.1f} {floor_text} "
                  f"{ratio}", flush=True)
            if group == "main":
                all_lanhai.extend(times)
                all_sql.extend(runs["sql"])
                all_floor.extend(floors)
    load = load_average()
    lanhai95, sql95, floor95 = (percentile(all_lanhai, 0.95), percentile(all_sql, 0.95),
                                percentile(all_floor, 0.95))
    print(f"{backend.name}, all typical queries ({len(QUERIES)} x {args.repeat} runs), server: "
          f"p50 {percentile(all_lanhai, 0.5):.1f} ms, p95 {lanhai95:.1f} ms"
          f"; one-off SQL: p50 {percentile(all_sql, 0.5):.1f} ms, p95 {sql95:.1f} ms; "
          f"floor ({floor_name}) p50 {percentile(all_floor, 0.5):.1f} ms, p95 {floor95:.1f} "
          f"ms; ratio p95 {lanhai95 / floor95:.1f}x; target p95 < 100 ms "
          f"({'met' if lanhai95 < 100 else 'NOT met'}); load average {load}")
    one_off.dispose()
    raw.close()
    engine.dispose()
    return [Figure(backend.name, "full text p95, web server", lanhai95, "ms", 100.0, load),
            Figure(backend.name, "full text p95, one-off command", sql95, "ms", 100.0, load),
            Figure(backend.name, f"floor p95 ({floor_name})", floor95, "ms", None, load)]


if __name__ == "__main__":
    sys.exit(main())
