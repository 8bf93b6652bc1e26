"""Benchmark: bulk import of 100,000 sample rows into a fresh bank, fully validated.

What it measures
    * wall time and rows/s of ``lanhai.services.imports.ImportService.run`` for a 100,000-row CSV of
      samples (MIxS fields: ENVO terms, ISO dates, lat_lon, depth with units, taxid,
      BioSample), into a new SQLite bank (the embedded default), one transaction;
    * peak memory (max RSS) of the import at 10,000 and at 100,000 rows, each in its own
      process, to show that memory stays flat as the file grows;
    * the floor, in the same run: the same CSV read with :mod:`csv` and written with plain
      :mod:`sqlite3` ``executemany`` into an equivalent table, no validation, one
      transaction; the ratio says what validation, identity matching, versions and the
      full-text index cost on top of raw inserts.

On PostgreSQL (``--database-url``, or ``--backends sqlite,postgresql`` for both side by
side) each import goes into a database created fresh for it (``<database>_import``; its
schema from Lanhai's migrations), and the floor is ``psycopg`` ``executemany`` of the same
rows into an equivalent table (``<database>_import_floor``). Peak memory is the import's
process; the server's own memory is not in it.

The rows vary real ones: every sample of the planet-microbe BATS, GOS, OSD 2014 and Tara
Oceans tables in ../shared/data/catalog/samples/ (their ENVO terms, places, coordinates,
depths, dates), with new names and BioSamples and small shifts of position, depth and date.

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_import            # 100,000 rows
    .venv/bin/python benchmarks/bench_import.py --rows 20000
    .venv/bin/python -m benchmarks.bench_import --backends sqlite,postgresql

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import json
import random
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
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
    chosen,
    database_megabytes,
    load_average,
    side_by_side,
)

SAMPLES = ROOT.parent / "shared" / "data" / "catalog" / "samples"
HEADER = ["samp_name", "project_name", "samp_taxon_id", "collection_date", "geo_loc_name",
          "lat_lon", "env_broad_scale", "env_local_scale", "env_medium", "depth", "biosample",
          "temp", "salinity", "size_frac"]
_ENVO = re.compile(r"ENVO_(\d{8})")


def _term(label: str, purl: str) -> str:
    match = _ENVO.search(purl or "")
    return f"{label.strip()} [ENVO:{match[1]}]" if match and label.strip() else ""


def _read(name: str) -> list[dict[str, str]]:
    path = SAMPLES / name
    opener: Any = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def real_samples() -> list[dict[str, str]]:
    """One dict per real sample: project, date, place, coordinates, depth, ENVO terms."""
    out: list[dict[str, str]] = []
    for row in _read("planetmicrobe_BATS_Chisholm_NCBI_samples.tsv"):
        day, month, year = row["collection_date"].split("-")
        out.append({"project": "BATS Chisholm", "date": f"{year}-{month}-{day}",
                    "geo": row["geo_loc_name"], "lat": row["lat"], "lon": row["Lon"],
                    "depth": row["depth"], "biome": _term(row["env_biome"], row["purl_biome"]),
                    "feature": _term(row["env_feature"], row["purl_feature"]),
                    "material": _term(row["env_material"], row["purl_material"]),
                    "temp": "", "sal": ""})
    for row in _read("planetmicrobe_GOS_2009-10_samples_NCBI.tsv"):
        out.append({"project": "Global Ocean Sampling", "date": row["collection_dateTime"][:10],
                    "geo": row["geo_loc_name"], "lat": row["lat"], "lon": row["lon"],
                    "depth": row["depth"], "biome": _term(row["env_biome"], row["purl_biome"]),
                    "feature": _term(row["env_feature"], row["purl_feature"]),
                    "material": _term(row["env_material"], row["purl_material"]),
                    "temp": row["temp"], "sal": row["salinity"]})
    for row in _read("planetmicrobe_OSD2014_osd_sample.tsv"):
        out.append({"project": "Ocean Sampling Day 2014", "date": row["Date/Time"][:10],
                    "geo": f"{row['Country, closest']}: {row['Locality, site']}",
                    "lat": row["Latitude"], "lon": row["Longitude"], "depth": row["Depth"],
                    "biome": _term(row["Biome"], row["purl_biome"]),
                    "feature": _term(row["Env feature"], row["purl_feature"]),
                    "material": _term(row["Material"], row["purl_material"]),
                    "temp": row["Temp"], "sal": row["Sal"]})
    for name in ("planetmicrobe_TaraOceans_APY_sample_NCBI.tsv",
                 "planetmicrobe_TaraOceans_AHX_sample_NCBI.tsv.gz"):
        for row in _read(name):
            depth = row.get("Depth") or row.get("Minimum Depth") or ""
            out.append({"project": "Tara Oceans", "date": row["Event Date/Time Start"][:10],
                        "geo": row["Marine Region"] or "not provided",
                        "lat": row["Latitude Start"], "lon": row["Longitude Start"],
                        "depth": depth,
                        "biome": _term(row["Environment (Biome)"], row["purl_biome"]),
                        "feature": _term(row["Environment (Feature)"], row["purl_feature"]),
                        "material": _term(row["Environment (Material)"], row["purl_material"]),
                        "temp": row["Temperature"], "sal": row["Salinity Sensor"]})
    usable = []
    for sample in out:
        for name in ("temp", "sal"):  # the sources write 'nd' for not determined
            try:
                float(sample[name])
            except ValueError:
                sample[name] = ""
        try:
            float(sample["lat"]), float(sample["lon"]), float(sample["depth"])
            dt.date.fromisoformat(sample["date"])
        except ValueError:
            continue
        if sample["biome"] and sample["feature"] and sample["material"]:
            usable.append(sample)
    return usable


def write_rows(path: Path, rows: int, seed: int = 2025) -> int:
    """A CSV of ``rows`` samples varying the real ones; returns how many real ones seeded it."""
    base = real_samples()
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for i in range(rows):
            s = base[i % len(base)]
            lat = min(89.9, max(-89.9, float(s["lat"]) + rng.uniform(-0.05, 0.05)))
            lon = (float(s["lon"]) + rng.uniform(-0.05, 0.05) + 180) % 360 - 180
            depth = max(0.0, float(s["depth"]) * rng.uniform(0.8, 1.2))
            date = dt.date.fromisoformat(s["date"]) + dt.timedelta(days=rng.randint(0, 30))
            unit, shown = ("ft", depth / 0.3048) if i % 10 == 0 else ("m", depth)
            out.writerow([
                f"LHB{i:07d}", s["project"], "408172", date.isoformat(), s["geo"],
                f"{lat:.5f} {lon:.5f}", s["biome"], s["feature"], s["material"],
                f"{shown:.1f} {unit}", f"SAMN{90_000_000 + i}", s["temp"], s["sal"],
                rng.choice(["0.22-1.6 µm", "0.22-3 µm", "0.1-0.8 µm", ""]),
            ])
    return len(base)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: Path, url: str = "") -> dict[str, Any]:
    """Run one import in this process (a fresh one) into a new bank, the embedded SQLite
    one or the (fresh) database at ``url``; time and peak memory."""
    sys.path.insert(0, str(ROOT / "src"))

    from lanhai.bank import init_bank
    from lanhai.imports import ImportOptions
    from lanhai.services.access import Actor
    from lanhai.settings import Settings

    with tempfile.TemporaryDirectory(prefix="lanhai-bench-") as folder:
        bank = init_bank(Settings(data_dir=Path(folder), database_url=url))
        before = peak_rss_mb()
        start = time.perf_counter()
        report = bank.imports.run(Actor("bench", "admin"), path, ImportOptions("sample"))
        seconds = time.perf_counter() - start
        bank.close()
        size = database_megabytes(url) * 1e6 if url else \
            (Path(folder) / "lanhai.sqlite").stat().st_size
    return {"rows": report.rows, "created": report.created, "problems": report.problems_omitted
            + len(report.problems), "committed": report.committed, "seconds": seconds,
            "rss_before_mb": before, "rss_peak_mb": peak_rss_mb(), "db_mb": size / 1e6,
            "first_problems": [p.describe() for p in report.problems[:3]]}


def floor(path: Path) -> float:
    """Plain sqlite3: read the CSV, executemany into an equivalent table, one transaction."""
    with tempfile.TemporaryDirectory(prefix="lanhai-floor-") as folder:
        conn = sqlite3.connect(Path(folder) / "floor.sqlite")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        columns = ", ".join(f"{name} TEXT" for name in HEADER)
        conn.execute(f"CREATE TABLE samples (id INTEGER PRIMARY KEY, {columns})")
        marks = ", ".join("?" for _ in HEADER)
        start = time.perf_counter()
        with path.open(encoding="utf-8", newline="") as handle, conn:
            rows = csv.reader(handle)
            next(rows)
            conn.executemany(f"INSERT INTO samples ({', '.join(HEADER)}) VALUES ({marks})",
                             rows)
        seconds = time.perf_counter() - start
        conn.close()
    return seconds


def pg_floor(path: Path, backend: Backend) -> float:
    """Plain psycopg: read the CSV, executemany into an equivalent table, one transaction."""
    import psycopg

    url = make_url(backend.bank_url("import_floor", fresh=True))
    with psycopg.connect(url.set(drivername="postgresql")
                         .render_as_string(hide_password=False)) as conn:
        columns = ", ".join(f"{name} TEXT" for name in HEADER)
        conn.execute(f"CREATE TABLE samples (id SERIAL PRIMARY KEY, {columns})")
        conn.commit()
        marks = ", ".join("%s" for _ in HEADER)
        start = time.perf_counter()
        with path.open(encoding="utf-8", newline="") as handle, conn.cursor() as cursor:
            rows = csv.reader(handle)
            next(rows)
            cursor.executemany(f"INSERT INTO samples ({', '.join(HEADER)}) VALUES ({marks})",
                               rows)
        conn.commit()
        seconds = time.perf_counter() - start
    return seconds


def run_child(path: Path, backend: Backend) -> dict[str, Any]:
    url = backend.bank_url("import", fresh=True)  # PostgreSQL: a new database each time
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(path),
                           "--child-url", url], check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000,
                        help="rows of the smaller run that memory is compared with")
    add_arguments(parser)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.child_url)))
        return 0
    backends = chosen(args)
    figures: list[Figure] = []
    worst = 0
    with tempfile.TemporaryDirectory(prefix="lanhai-bench-data-") as folder:
        small, large = Path(folder) / "small.csv", Path(folder) / "large.csv"
        seeds = write_rows(large, args.rows)
        write_rows(small, args.small)
        print(f"input: {args.rows:,} sample rows ({large.stat().st_size / 1e6:.1f} MB CSV) "
              f"varying {seeds} real samples (BATS, GOS, OSD 2014, Tara Oceans)")
        for backend in backends:
            code, found = measure(backend, small, large)
            worst = max(worst, code)
            figures += found
    if len(backends) > 1:
        side_by_side(f"import of {args.rows:,} sample rows", figures)
    return worst


def measure(backend: Backend, small: Path, large: Path) -> tuple[int, list[Figure]]:
    """Both imports and the floor on one backend; print the figures."""
    low = run_child(small, backend)
    high = run_child(large, backend)
    load = load_average()
    base = floor(large) if backend.is_sqlite else pg_floor(large, backend)
    for result in (low, high):
        if result["problems"] or not result["committed"]:
            print(f"import failed: {result['problems']} problems: {result['first_problems']}")
            return 1, []
    rate = high["rows"] / high["seconds"]
    where = "bank file" if backend.is_sqlite else "database"
    name = "SQLite" if backend.is_sqlite else "PostgreSQL"
    print(f"\nlanhai import, {high['rows']:,} rows, {name}, one transaction, fully validated: "
          f"{high['seconds']:.1f} s ({rate:,.0f} rows/s); {where} {high['db_mb']:.0f} MB; "
          f"load average {load}")
    print(f"peak RSS: {low['rss_peak_mb']:.0f} MB at {low['rows']:,} rows, "
          f"{high['rss_peak_mb']:.0f} MB at {high['rows']:,} rows "
          f"(process before the import: {high['rss_before_mb']:.0f} MB); growth "
          f"{high['rss_peak_mb'] - low['rss_peak_mb']:+.0f} MB for "
          f"{high['rows'] - low['rows']:,} more rows")
    driver = "sqlite3" if backend.is_sqlite else "psycopg"
    print(f"floor, plain {driver} executemany of the same rows, no validation: {base:.2f} s "
          f"({high['rows'] / base:,.0f} rows/s)")
    per_100k = high["seconds"] * 100_000 / high["rows"]
    print(f"ratio lanhai / floor: {high['seconds'] / base:.1f}x; target: 100,000 rows < 60 s "
          f"({'met' if per_100k < 60 else 'NOT met'})")
    return 0, [Figure(backend.name, f"import {high['rows']:,} rows, s", high["seconds"], "s",
                      60.0 * high["rows"] / 100_000, load),
               Figure(backend.name, "import peak RSS growth, MB",
                      high["rss_peak_mb"] - low["rss_peak_mb"], "MB", None, load),
               Figure(backend.name, f"floor ({driver} executemany), s", base, "s", None, load)]


if __name__ == "__main__":
    raise SystemExit(main())
