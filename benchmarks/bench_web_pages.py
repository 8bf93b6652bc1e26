"""Server time of every web page on the demo bank, and of the home page with 100,000+ records.

Two banks, built once and cached under benchmarks/output/:

- ``web-demo-bank``: the demo bank (`lanhai demo` builds the same, from the real public
  records shipped in src/lanhai/demo/data/);
- ``web-big-bank``: 100,000 samples (the realistic OSD-derived rows of bench_api_get) plus
  20,000 strains, half of them marine and a tenth plastic-degrading, so the dashboard's
  aggregate queries have real work.

Each page is requested in-process through the ASGI app (no network), a few warm-up calls
first, then the median and worst of ``--repeat`` calls are printed, and the first call
(cold: the dashboard's and facets' aggregates are cached until the audit trail moves, see
lanhai.store.dashboard.AggregateCache). The reference in the
same run is ``GET /api/stats`` (one GROUP BY over the records: the least a dashboard can
do), with the ratio. Target: every page < 300 ms.

On PostgreSQL (``--database-url``, or ``--backends sqlite,postgresql`` for both side by
side) the two banks are databases of their own (``<database>_web_demo``,
``<database>_web_big``), built the same way and kept like the SQLite ones.

    python -m benchmarks.bench_web_pages [--repeat 15] [--rebuild]
    python -m benchmarks.bench_web_pages --backends sqlite,postgresql

Not a test: figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: benchmarks.backends from the root
    sys.path.insert(0, str(ROOT))

from benchmarks.backends import (  # noqa: E402
    Backend,
    Figure,
    add_arguments,
    load_average,
    measure_each,
)

OUTPUT = ROOT / "benchmarks" / "output"
TARGET_MS = 300.0


def build_demo(folder: Path, rebuild: bool, backend: Backend | None = None) -> str:
    """The demo bank in ``folder`` (and, on PostgreSQL, its database); its database URL
    ("" for SQLite)."""
    from lanhai.bank import init_bank
    from lanhai.demo.builder import build_demo as build
    from lanhai.services.access import Actor
    from lanhai.settings import Settings
    from lanhai.store.queries import count_by_kind

    if rebuild and folder.exists():
        shutil.rmtree(folder)
    url = backend.bank_url("web_demo", fresh=rebuild) if backend else ""
    bank = init_bank(Settings(data_dir=folder, database_url=url))
    try:
        with bank.db.engine.connect() as conn:
            have = sum(count_by_kind(conn, True).values())
        if have:
            print(f"reusing the demo bank in {bank.db.where} ({have:,} records)",
                  file=sys.stderr)
            return url
        started = time.perf_counter()
        build(bank, Actor("demo", "admin"))
        print(f"built the demo bank in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    finally:
        bank.close()
    return url


def build_big(folder: Path, samples: int, strains: int, rebuild: bool,
              backend: Backend | None = None) -> str:
    """The big bank in ``folder`` (and, on PostgreSQL, its database); its database URL
    ("" for SQLite)."""
    from benchmarks.bench_api_get import build_bank
    from lanhai.bank import init_bank
    from lanhai.kinds import kind_spec
    from lanhai.kinds.fields import validate_fields
    from lanhai.model import NewRecord
    from lanhai.settings import Settings
    from lanhai.store.queries import count_by_kind
    from lanhai.store.records import insert_records

    url = build_bank(folder, samples, rebuild, backend, "web_big")
    bank = init_bank(Settings(data_dir=folder, database_url=url))
    try:
        with bank.db.engine.connect() as conn:
            if count_by_kind(conn, True).get("strain", 0) == strains:
                return url
        spec = kind_spec("strain")
        base = {"taxon_name": "Zobellia galactanivorans", "organism_type": "Bacteria",
                "restrictions_on_use": "1", "nagoya_compliance": "1", "risk_group": "1",
                "risk_group_scheme": "WHO", "recommended_temperature": "25",
                "recommended_medium": "Marine agar 2216", "form_of_supply": "Lyo",
                "geographic_origin": "China: Qingdao"}
        batch: list[NewRecord] = []
        started = time.perf_counter()
        with bank.db.engine.begin() as conn:
            for i in range(strains):
                raw: dict[str, Any] = {**base, "collection_numbers": f"BENCH {i + 1}",
                                       "marine": "yes" if i % 2 else "no"}
                if i % 10 == 0:
                    raw["degrades"] = "PET; PU"
                fields, problems = validate_fields(spec, raw)
                assert not problems, problems
                batch.append(NewRecord(spec, fields, spec.identifiers(fields), False))
                if len(batch) == 5000:
                    insert_records(conn, batch, "bench")
                    batch = []
            insert_records(conn, batch, "bench")
        print(f"added {strains:,} strains in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
    finally:
        bank.close()
    return url


def time_pages(folder: Path, paths: list[str], repeat: int, url: str = ""
               ) -> list[tuple[str, int, float, float, float]]:
    from fastapi.testclient import TestClient

    from lanhai.app import create_app
    from lanhai.bank import init_bank
    from lanhai.settings import Settings

    # brings a bank cached by an older version up
    bank = init_bank(Settings(data_dir=folder, database_url=url))
    rows = []
    try:
        with TestClient(create_app(bank=bank)) as client:
            for path in paths:
                started = time.perf_counter()
                status = client.get(path).status_code  # first call: cold caches
                first = (time.perf_counter() - started) * 1000
                status = client.get(path).status_code
                times = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    status = client.get(path).status_code
                    times.append((time.perf_counter() - started) * 1000)
                rows.append((path, status, first, statistics.median(times), max(times)))
    finally:
        bank.close()
    return rows


#: the changes timed by :func:`after_a_change`: an edit no aggregate reads, a new record
#: (a genetic part, so the bank's 100,000 samples and 20,000 strains stay as built), and a
#: link then its removal (marine strains follow links: the counts are recomputed), and
#: restricting a strain then releasing it (the worst case: counts and growth recomputed)
CHANGES = ("edit", "new record", "link", "unlink", "restrict", "release")


def after_a_change(folder: Path, paths: list[str], url: str = ""
                   ) -> list[tuple[str, str, float]]:
    """Server time of each page right after a record changed (the process, templates and
    database pages are warm; the cached aggregates are carried over the change, updated or
    recomputed: lanhai.store.dashboard.AggregateCache)."""
    from fastapi.testclient import TestClient

    from lanhai.app import create_app
    from lanhai.bank import open_bank
    from lanhai.services.access import LOCAL_ADMIN
    from lanhai.settings import Settings

    bank = open_bank(Settings(data_dir=folder, database_url=url))
    catalog = bank.catalog
    part = {"part_name": "benchmark promoter", "part_type": "DNA", "role": "promoter",
            "sequence": "TTGACAGCTAGCTCAGTCCTAGGTATAATGCTAGC",
            "source": "iGEM Registry (Anderson promoter collection)"}

    def change(what: str) -> None:
        if what == "edit":
            catalog.update(LOCAL_ADMIN, "LHSM0000001",
                           {"description": f"benchmark touch {time.time()}"})
        elif what == "new record":
            catalog.create(LOCAL_ADMIN, "part", {**part, "display_id": f"BENCH_{time.time_ns()}"})
        elif what in ("restrict", "release"):
            catalog.update(LOCAL_ADMIN, "LHST0000002",
                           {"restricted": "yes" if what == "restrict" else "no"})
        elif what == "link":
            catalog.link(LOCAL_ADMIN, "LHSM0000002", "isolated_from", "LHST0000001")
        else:
            catalog.unlink(LOCAL_ADMIN, "LHSM0000002", "isolated_from", "LHST0000001")

    out = []
    try:
        with TestClient(create_app(bank=bank)) as client:
            for path in paths:
                for what in CHANGES:
                    client.get(path)
                    change(what)
                    started = time.perf_counter()
                    client.get(path)
                    out.append((path, what, (time.perf_counter() - started) * 1000))
    finally:
        bank.close()
    return out


def demo_paths(folder: Path, url: str = "") -> list[str]:
    from lanhai.bank import open_bank
    from lanhai.services.access import ANONYMOUS
    from lanhai.settings import Settings

    bank = open_bank(Settings(data_dir=folder, database_url=url))
    try:
        paths = ["/api/stats", "/", "/.json", "/map", "/jobs", "/import", "/signin"]
        for plural, kind in (("samples", "sample"), ("strains", "strain"),
                             ("assemblies", "assembly"), ("compounds", "compound"),
                             ("parts", "part"), ("germplasm", "germplasm")):
            paths.append(f"/browse/{plural}")
            items, _ = bank.catalog.list(ANONYMOUS, kind, limit=1)
            if items:
                acc = items[0].accession
                paths += [f"/records/{acc}", f"/records/{acc}/lineage",
                          f"/records/{acc}/history"]
        paths.append("/browse/samples?q=ocean&sort=-updated_at&offset=40")
        paths += ["/targets.csv", "/targets.xlsx", "/map?at=48.7,-4&zoom=6&kind=sample",
                  "/search?q=alginate+lyase", "/search?q=%E7%90%BC%E8%83%B6%E9%85%B6",
                  "/search/families?substrate=alginate", "/search/families?family=GH16",
                  "/search/sequence?example=agab", "/breeding",
                  "/breeding/datasets/wheat-crossa2010"]
        with bank.catalog.each(ANONYMOUS, "assembly") as batches:  # the annotated ones
            annotated = [r.accession for batch in batches for r in batch
                         if r.fields.get("protein_count") or r.fields.get("gene_count")]
        for accession in annotated:
            paths.append(f"/records/{accession}")
            for row in bank.sequences.rows(ANONYMOUS, accession, "proteins"):
                paths.append(f"/records/{accession}/proteins/"
                             + quote(str(row.get("protein_id") or row["id"]), safe=""))
                break
        return paths
    finally:
        bank.close()


def report(title: str, rows: list[tuple[str, int, float, float, float]]) -> bool:
    floor = next((r[3] for r in rows if r[0] == "/api/stats"), None)
    print(f"\n{title}")
    print(f"{'page':54} {'status':>6} {'first ms':>9} {'median ms':>10} {'worst ms':>9} "
          f"{'x stats':>8}")
    ok = True
    for path, status, first, median, worst in rows:
        ratio = f"{median / floor:.1f}" if floor else ""
        print(f"{path:54} {status:>6} {first:>9.1f} {median:>10.1f} {worst:>9.1f} {ratio:>8}")
        if path != "/api/stats":
            ok = ok and median < TARGET_MS and status < 500
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--strains", type=int, default=20_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--big-only", action="store_true", help="skip the demo bank")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return measure_each(args, measure, f"web pages and dashboard, {args.samples:,} samples + "
                                       f"{args.strains:,} strains")


def measure(backend: Backend, args: argparse.Namespace) -> list[Figure]:
    """Both banks on one backend: every page's time, then the big bank after changes."""
    suffix = "" if backend.is_sqlite else "-postgresql"
    demo = OUTPUT / f"web-demo-bank{suffix}"
    big = OUTPUT / f"web-big-bank{suffix}"
    print(f"\n== {backend.name}")
    ok = True
    figures = []
    if not args.big_only:
        url = build_demo(demo, args.rebuild, None if backend.is_sqlite else backend)
        rows = time_pages(demo, demo_paths(demo, url), args.repeat, url)
        load = load_average()
        ok = report(f"demo bank, {backend.name} (median of {args.repeat} calls, in-process "
                    f"ASGI; load average {load})", rows)
        figures.append(Figure(backend.name, "demo bank: slowest page median",
                              max(r[3] for r in rows if r[0] != "/api/stats"), "ms",
                              TARGET_MS, load))
    url = build_big(big, args.samples, args.strains, args.rebuild,
                    None if backend.is_sqlite else backend)
    rows = time_pages(big, ["/api/stats", "/", "/.json", "/browse/samples", "/browse/strains",
                            "/map"], args.repeat, url)
    load = load_average()
    ok = report(f"big bank, {backend.name}: {args.samples:,} samples + {args.strains:,} "
                f"strains (load average {load})", rows) and ok
    home = next(r for r in rows if r[0] == "/")
    figures += [
        Figure(backend.name, "big bank: dashboard (/) median", home[3], "ms", TARGET_MS, load),
        Figure(backend.name, "big bank: dashboard (/) first call", home[2], "ms", None, load),
        Figure(backend.name, "big bank: slowest page median",
               max(r[3] for r in rows if r[0] != "/api/stats"), "ms", TARGET_MS, load),
        Figure(backend.name, "big bank: GET /api/stats median (reference)",
               next(r[3] for r in rows if r[0] == "/api/stats"), "ms", None, load)]
    print(f"\nbig bank, {backend.name}, right after a record changed (process warm; cached "
          "aggregates carried over, updated or recomputed):")
    print(f"{'page':30} {'change':>12} {'ms':>9}")
    changed = after_a_change(big, ["/", "/browse/samples", "/browse/strains"], url)
    for path, what, ms in changed:
        print(f"{path:30} {what:>12} {ms:>9.1f}")
    figures.append(Figure(backend.name, "big bank: dashboard (/) after a change, worst",
                          max(ms for path, _, ms in changed if path == "/"), "ms", None,
                          load_average()))
    print(f"\n{backend.name}: target: every page < {TARGET_MS:.0f} ms median: "
          f"{'met' if ok else 'NOT met'}")
    return figures


if __name__ == "__main__":
    sys.exit(main())
