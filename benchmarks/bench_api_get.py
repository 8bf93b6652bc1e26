"""Get-by-accession latency of the HTTP API on a 100,000-record bank, under load.

Builds (once, then reuses) a SQLite bank of realistic samples derived from real Ocean
Sampling Day 2014 rows, serves it with uvicorn on 127.0.0.1, and drives
``GET /api/records/{accession}`` with random accessions using ``wrk`` (a Lua script picks
the path). In the same run, the reference floor — a bare Starlette app doing the same
SQLite lookup with the stdlib driver, served the same way — is measured, and the ratios are
printed. Target: p99 < 20 ms.

On PostgreSQL (``--database-url``, or ``--backends sqlite,postgresql`` for both side by
side) the same samples go into a database of their own (``<database>_api``, kept and reused
like the SQLite bank; ``--rebuild`` makes it again), Lanhai is served with
``LANHAI_DATABASE_URL`` set to it, and the floor does the same lookup with ``psycopg``.

    python -m benchmarks.bench_api_get [--records 100000] [--duration 20]
    python -m benchmarks.bench_api_get --backends sqlite,postgresql
    python -m benchmarks.bench_api_get --backends sqlite,postgresql --workers 2

Not a test: figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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
    load_average,
    measure_each,
)

OSD = ROOT.parent / "shared" / "data" / "catalog" / "samples" / "OSD14Data_version1.csv"
DEFAULT_DIR = ROOT / "benchmarks" / "output" / "api-get-bank"
TARGET_P99_MS = 20.0

LUA = """
local n = %(n)d
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + id)
end
function request()
  return wrk.format("GET", string.format("/api/records/LHSM%%07d", math.random(1, n)))
end
function done(summary, latency, requests)
  io.write(string.format('BENCH {"requests": %%d, "duration_us": %%d, "p50_us": %%d, ' ..
    '"p90_us": %%d, "p99_us": %%d, "max_us": %%d, "status_errors": %%d, ' ..
    '"socket_errors": %%d}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
"""


# --- the bank ------------------------------------------------------------------------------

def _templates(limit: int = 60) -> list[dict[str, Any]]:
    """Validated sample fields from the first real OSD 2014 rows."""
    from lanhai.kinds import kind_spec
    from lanhai.kinds.fields import validate_fields

    spec = kind_spec("sample")
    found = []
    with OSD.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.DictReader(handle):
            raw = {
                "samp_name": row["sampleID_ENA"], "project_name": "Ocean Sampling Day 2014",
                "samp_taxon_id": "408172", "collection_date": row["DateTime"],
                "geo_loc_name": f"{row['Country']}: {row['MarineRegion']}",
                "lat_lon": f"{row['Latitude']} {row['Longitude']}",
                "env_broad_scale": row["ENVIRO_Biome"], "env_local_scale": row["ENVIRO_Feature"],
                "env_medium": row["ENVIRO_Material"],
                "depth": f"{row['Depth']} {row['Depth_unit']}",
                "temp": row["Temperature"], "salinity": row["Salinity"],
                "samp_collect_device": row["EVENT_device"],
                "description": f"OSD 2014 surface water, {row['MarineRegion']}",
            }
            fields, problems = validate_fields(spec, raw)
            if not problems:
                found.append(fields)
            if len(found) >= limit:
                break
    if not found:
        raise SystemExit(f"no valid template rows in {OSD}")
    return found


def _variants(templates: list[dict[str, Any]], count: int) -> Iterator[dict[str, Any]]:
    """``count`` distinct samples: real rows with new names, nearby positions and depths."""
    rng = random.Random(42)
    for i in range(count):
        fields = dict(templates[i % len(templates)])
        lat = max(-90.0, min(90.0, fields["latitude"] + rng.uniform(-0.5, 0.5)))
        lon = max(-180.0, min(180.0, fields["longitude"] + rng.uniform(-0.5, 0.5)))
        depth = round(rng.choice([0, 1, 2, 5, 10, 25, 50, 200, 1000, 3000]) *
                      rng.uniform(1, 1.2), 1)
        fields.update({
            "samp_name": f"{fields['samp_name']}_bench{i:06d}",
            "lat_lon": [round(lat, 5), round(lon, 5)], "latitude": round(lat, 5),
            "longitude": round(lon, 5), "depth": [depth, depth], "depth_m": depth,
        })
        fields.pop("biosample", None)
        yield fields


def build_bank(data_dir: Path, count: int, rebuild: bool, backend: Backend | None = None,
               bank: str = "api") -> str:
    """Create a bank with ``count`` samples unless one is already there: SQLite in
    ``data_dir``, or the PostgreSQL database of ``backend`` named after ``bank``; return
    its database URL ("" for the SQLite one)."""
    from lanhai.bank import init_bank
    from lanhai.kinds import kind_spec
    from lanhai.model import NewRecord
    from lanhai.settings import Settings
    from lanhai.store.queries import count_by_kind
    from lanhai.store.records import insert_records

    if rebuild and data_dir.exists():
        shutil.rmtree(data_dir)
    url = backend.bank_url(bank, fresh=rebuild) if backend else ""
    bank_ = init_bank(Settings(data_dir=data_dir, database_url=url))
    try:
        with bank_.db.engine.connect() as conn:
            have = count_by_kind(conn, True).get("sample", 0)
        if have == count:
            print(f"reusing the bank in {bank_.db.where} ({have:,} samples)",
                  file=sys.stderr)
            return url
        if have:
            raise SystemExit(f"{data_dir} holds {have:,} samples, not {count:,}: use --rebuild")
        spec = kind_spec("sample")
        started = time.perf_counter()
        batch: list[NewRecord] = []
        with bank_.db.engine.begin() as conn:
            for fields in _variants(_templates(), count):
                batch.append(NewRecord(spec, fields, spec.identifiers(fields), False))
                if len(batch) == 5000:
                    insert_records(conn, batch, "bench")
                    batch = []
            insert_records(conn, batch, "bench")
        print(f"built {count:,} samples in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
    finally:
        bank_.close()
    if url:  # statistics for the planner, as after any bulk load
        from sqlalchemy import create_engine, text

        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
        engine.dispose()
    return url


# --- the reference floor -------------------------------------------------------------------

def floor_app() -> Any:
    """A bare Starlette app: the same two SQLite lookups with the stdlib driver, as JSON."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    conn = sqlite3.connect(os.environ["LANHAI_BENCH_DB"], check_same_thread=False)
    lock = threading.Lock()

    async def get_record(request: Request) -> JSONResponse:
        accession = request.path_params["accession"].upper()
        with lock:
            row = conn.execute(
                "SELECT id, accession, kind, name, fields, restricted, version, created_at, "
                "updated_at, created_by, updated_by FROM records WHERE accession = ?",
                (accession,)).fetchone()
            if row is None or row[5]:
                return JSONResponse({"error": {"code": "not_found"}}, status_code=404)
            ids = [r[0] for r in conn.execute(
                "SELECT value FROM identifiers WHERE record_id = ? ORDER BY id", (row[0],))]
        return JSONResponse({
            "accession": row[1], "kind": row[2], "name": row[3], "restricted": bool(row[5]),
            "version": row[6], "created_at": row[7], "updated_at": row[8],
            "created_by": row[9], "updated_by": row[10], "identifiers": ids,
            "fields": json.loads(row[4])})

    return Starlette(routes=[Route("/api/records/{accession}", get_record)])


def pg_floor_app() -> Any:
    """A bare Starlette app: the same two PostgreSQL lookups with psycopg, as JSON."""
    import psycopg
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    conn = psycopg.connect(os.environ["LANHAI_BENCH_PG"], autocommit=True)
    lock = threading.Lock()

    def stamp(value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else value

    async def get_record(request: Request) -> JSONResponse:
        accession = request.path_params["accession"].upper()
        with lock:
            row = conn.execute(
                "SELECT id, accession, kind, name, fields, restricted, version, created_at, "
                "updated_at, created_by, updated_by FROM records WHERE accession = %s",
                (accession,)).fetchone()
            if row is None or row[5]:
                return JSONResponse({"error": {"code": "not_found"}}, status_code=404)
            ids = [r[0] for r in conn.execute(
                "SELECT value FROM identifiers WHERE record_id = %s ORDER BY id", (row[0],))]
        return JSONResponse({
            "accession": row[1], "kind": row[2], "name": row[3], "restricted": bool(row[5]),
            "version": row[6], "created_at": stamp(row[7]), "updated_at": stamp(row[8]),
            "created_by": row[9], "updated_by": row[10], "identifiers": ids,
            "fields": row[4]})

    return Starlette(routes=[Route("/api/records/{accession}", get_record)])


# --- serving and load ----------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(target: str, env: dict[str, str], workers: int = 1) -> Iterator[str]:
    """Run ``uvicorn --factory target`` (``workers`` processes, as ``lanhai serve
    --workers``) on a free loopback port; yield its base URL."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", target, "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--no-access-log",
               "--app-dir", str(ROOT), "--workers", str(workers)]
    proc = subprocess.Popen(command, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/records/LHSM0000001", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{target} did not start on {base}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def load(base: str, script: Path, duration: int, threads: int, connections: int
         ) -> dict[str, float]:
    """Warm up for 3 s, then run wrk for ``duration`` seconds; return its figures."""
    wrk = shutil.which("wrk") or "/usr/bin/wrk"
    common = [wrk, f"-t{threads}", f"-c{connections}", "-s", str(script), "--timeout", "5s"]
    subprocess.run([*common, "-d3s", base], check=True, capture_output=True)
    out = subprocess.run([*common, f"-d{duration}s", base], check=True, capture_output=True,
                         text=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("BENCH "))
    raw = json.loads(line[len("BENCH "):])
    return {
        "req_s": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000, "max_ms": raw["max_us"] / 1000,
        "requests": raw["requests"], "errors": raw["status_errors"] + raw["socket_errors"],
    }


def main(argv: list[str] | None = None) -> int:
    """Build or reuse the bank, measure Lanhai and the floor, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per server")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes for Lanhai and the floor alike "
                             "(lanhai serve --workers N)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--rebuild", action="store_true", help="build the bank again")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return measure_each(args, measure, f"GET /api/records/{{accession}}, {args.records:,} samples")


def measure(backend: Backend, args: argparse.Namespace) -> list[Figure]:
    """Lanhai and the floor on one backend, under the same load; print the table."""
    data_dir: Path = args.data_dir
    if not backend.is_sqlite:
        data_dir = data_dir.with_name(data_dir.name + "-postgresql")
    url = build_bank(data_dir, args.records, args.rebuild, backend)
    if backend.is_sqlite:
        db = (data_dir / "lanhai.sqlite").resolve()
        _warm(db)
        url = f"sqlite:///{db}"
        floor = ("floor (bare Starlette + sqlite3)",
                 ("benchmarks.bench_api_get:floor_app", {"LANHAI_BENCH_DB": str(db)}))
    else:
        _pg_warm(url)
        floor = ("floor (bare Starlette + psycopg)",
                 ("benchmarks.bench_api_get:pg_floor_app",
                  {"LANHAI_BENCH_PG": make_url(url).set(drivername="postgresql")
                   .render_as_string(hide_password=False)}))
    results: dict[str, dict[str, float]] = {}
    loads: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "random_get.lua"
        script.write_text(LUA % {"n": args.records})
        servers = {
            "lanhai API (FastAPI)": ("lanhai.app:create_app",
                                     {"LANHAI_DATA_DIR": str(data_dir),
                                      "LANHAI_DATABASE_URL": url}),
            floor[0]: floor[1],
        }
        for name, (target, env) in servers.items():
            with serve(target, env, args.workers) as base:
                print(f"loading {name} at {base} for {args.duration} s …", file=sys.stderr)
                results[name] = load(base, script, args.duration, args.threads,
                                     args.connections)
                loads[name] = load_average()
    _print_table(results, args, backend, loads)
    lanhai, bare = results.values()
    load_lanhai, load_floor = loads.values()
    processes = f" ({args.workers} processes)" if args.workers > 1 else ""
    return [Figure(backend.name, f"get by accession p99, lanhai API{processes}",
                   lanhai["p99_ms"], "ms",
                   TARGET_P99_MS, load_lanhai),
            Figure(backend.name, "get by accession p50, lanhai API", lanhai["p50_ms"], "ms",
                   None, load_lanhai),
            Figure(backend.name, f"get by accession p99, {floor[0][7:-1]}", bare["p99_ms"],
                   "ms", None, load_floor)]


def _pg_warm(url: str) -> None:
    """Read the bank's tables once so both servers start with them in memory."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        for table in ("records", "identifiers"):
            conn.execute(text(f"SELECT count(*) FROM {table}"))
    engine.dispose()


def _warm(path: Path) -> None:
    """Read the database file once so both servers start with it in the OS page cache."""
    with path.open("rb") as handle:
        while handle.read(1 << 20):
            pass


def _print_table(results: dict[str, dict[str, float]], args: argparse.Namespace,
                 backend: Backend, loads: dict[str, str]) -> None:
    name = "SQLite" if backend.is_sqlite else "PostgreSQL"
    print(f"\nGET /api/records/{{random accession}} — {args.records:,} samples on {name}, "
          f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, 127.0.0.1, "
          f"{os.cpu_count()} CPUs, {args.workers} server process(es) each")
    head = f"{'server':34} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} " \
           f"{'max ms':>8} {'errors':>7} {'load average':>16}"
    print(head)
    print("-" * len(head))
    for name, r in results.items():
        print(f"{name:34} {r['req_s']:>9,.0f} {r['p50_ms']:>8.2f} {r['p90_ms']:>8.2f} "
              f"{r['p99_ms']:>8.2f} {r['max_ms']:>8.2f} {int(r['errors']):>7} "
              f"{loads[name]:>16}")
    lanhai, floor = results.values()
    print(f"\nratio lanhai/floor: p50 {lanhai['p50_ms'] / floor['p50_ms']:.2f}x, "
          f"p99 {lanhai['p99_ms'] / floor['p99_ms']:.2f}x, "
          f"throughput {lanhai['req_s'] / floor['req_s']:.2f}x")
    verdict = "meets" if lanhai["p99_ms"] < TARGET_P99_MS else "MISSES"
    print(f"{backend.name}: lanhai p99 {lanhai['p99_ms']:.2f} ms {verdict} the target of "
          f"{TARGET_P99_MS:.0f} ms")


if __name__ == "__main__":
    sys.exit(main())
