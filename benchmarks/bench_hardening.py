"""Benchmark: concurrent writers lose nothing, and password guessing leaves reads fast.

Two measurements against a real ``uvicorn`` server on 127.0.0.1, each also run on an older
Lanhai tree in the same run when ``--before PATH`` names one (a checkout whose ``src`` holds
the ``lanhai`` package), as the reference:

* **updates**: writer threads PATCH different fields of one sample, 10,000 updates in all,
  while one curator restricts 20 records that two others keep editing. Reported: confirmed
  updates (200), the refusals (409/503, with a retry) and failures (5xx), and afterwards the
  fields whose stored value is not the last one confirmed (lost updates), whether the
  version counts every confirmed change, and restrictions found undone.
* **guessing**: ``wrk`` reads random records for ``--duration`` seconds alone, then again
  while 16 connections post wrong passwords to ``/signin``. Reported: read throughput with
  and without the guessing, and their ratio (target: guessing costs reads at most half).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support import SAMPLE

from benchmarks.bench_api_get import LUA, _free_port, load

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("temp", "salinity", "samp_collect_device", "size_frac", "isolation_source",
          "description", "geo_loc_name", "project_name")
PASSWORD = "kelp forest at dusk"
#: reads of the records no writer touched (LHSM0000022 on), reported as bench_api_get does
READ_LUA = LUA.replace("math.random(1, n)", "math.random(22, n)")
GUESS_LUA = """
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  n = 0
  statuses = {}
end
function request()
  n = n + 1
  local body = "username=ana&password=guess" .. n .. "&csrf=%(csrf)s"
  return wrk.format("POST", "/signin", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = 'lanhai_csrf=%(cookie)s'}, body)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      io.write(string.format("STATUS %%d %%d\\n", status, count))
    end
  end
end
"""


def value(field: str, n: int) -> Any:
    if field in ("temp", "salinity"):
        return float(n) + (0.5 if field == "salinity" else 0.0)
    if field == "geo_loc_name":
        return f"United Kingdom: station {n}"
    if field == "project_name":
        return f"Ocean Sampling Day {n}"
    return f"{field.replace('_', ' ')} {n}"


# --- a server over a fresh bank --------------------------------------------------------------

def _python_env(tree: Path | None) -> dict[str, str]:
    if tree is None:
        return {}
    return {"PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree}"}


def prepare(folder: Path, tree: Path | None, records: int) -> dict[str, str]:
    """A bank with ``records`` samples and a curator with a token and a password, made with
    the tree's own command line (the same commands in older trees); returns the token."""
    env = {**os.environ, **_python_env(tree), "LANHAI_DATA_DIR": str(folder / "bank"),
           "LANHAI_USER": "bench"}
    env.pop("LANHAI_DATABASE_URL", None)

    def lanhai(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run([sys.executable, "-m", "lanhai.cli.main", *args], env=env,
                              input=stdin, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"lanhai {' '.join(args)} failed: {done.stderr[-500:]}")
        return done.stdout

    table = folder / "samples.csv"
    with table.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(list(SAMPLE))
        for i in range(records):
            writer.writerow([f"S{i:05d}" if k == "samp_name" else v for k, v in SAMPLE.items()])
    lanhai("init")
    lanhai("import", "sample", str(table))
    lanhai("users", "add", "ana", "--role", "curator", "--password-stdin", stdin=PASSWORD + "\n")
    return {"token": json.loads(lanhai("tokens", "create", "ana", "--json"))["token"]}


@contextmanager
def serve(folder: Path, tree: Path | None) -> Iterator[tuple[str, int]]:
    port = _free_port()
    env = {**os.environ, **_python_env(tree), "LANHAI_DATA_DIR": str(folder / "bank"),
           "LANHAI_DATABASE_URL": f"sqlite:///{folder / 'bank' / 'lanhai.sqlite'}"}
    source = (tree or ROOT) / "src" / "lanhai"
    factory = "lanhai.app:create_app" if (source / "app.py").exists() \
        else "lanhai.api.app:create_app"  # where older trees kept it
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory",
                             factory, "--host", "127.0.0.1", "--port",
                             str(port), "--log-level", "error", "--no-access-log"], env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/api/stats")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(10)


def _call(conn: http.client.HTTPConnection, method: str, path: str,
          body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body) if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json",
                                                   **(headers or {})})
    response = conn.getresponse()
    raw = response.read()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, raw.decode("utf-8", "replace")


# --- updates -----------------------------------------------------------------------------------

def updates(address: tuple[str, int], token: str, total: int) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {token}"}
    statuses: Counter[int] = Counter()
    confirmed: dict[str, Any] = {}
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    per_writer = total // len(FIELDS)
    start = threading.Barrier(len(FIELDS) + 3)

    def writer(field: str) -> None:
        conn = http.client.HTTPConnection(*address, timeout=60)
        start.wait()
        for n in range(1, per_writer + 1):
            while True:
                status, _ = _call(conn, "PATCH", "/api/samples/LHSM0000001",
                                  {field: value(field, n)}, auth)
                with lock:
                    statuses[status] += 1
                if status == 200:
                    with lock:
                        confirmed[field] = value(field, n)
                        counts[field] += 1
                    break
                if status not in (409, 503):
                    break  # a failure: counted, not retried

    targets = [f"LHSM{n:07d}" for n in range(2, 22)]
    restricted: list[str] = []

    def restrict() -> None:
        conn = http.client.HTTPConnection(*address, timeout=60)
        start.wait()
        for accession in targets:
            status, _ = _call(conn, "PATCH", f"/api/samples/{accession}",
                              {"restricted": True}, auth)
            if status == 200:
                restricted.append(accession)

    def edit(i: int) -> None:
        conn = http.client.HTTPConnection(*address, timeout=60)
        start.wait()
        for n in range(5):
            for accession in targets:
                _call(conn, "PATCH", f"/api/samples/{accession}",
                      {"samp_collect_device": f"CTD {i}.{n}"}, auth)

    threads = [threading.Thread(target=writer, args=(f,)) for f in FIELDS]
    threads += [threading.Thread(target=restrict), threading.Thread(target=edit, args=(1,)),
                threading.Thread(target=edit, args=(2,))]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    conn = http.client.HTTPConnection(*address, timeout=60)
    _, record = _call(conn, "GET", "/api/samples/LHSM0000001", headers=auth)
    lost = [f for f in FIELDS if f in confirmed and record["fields"].get(f) != confirmed[f]]
    undone = [a for a in restricted
              if not _call(conn, "GET", f"/api/records/{a}", headers=auth)[1]["restricted"]]
    return {"seconds": seconds, "confirmed": sum(counts.values()), "statuses": dict(statuses),
            "lost_fields": lost, "version": record["version"],
            "version_counts_all": record["version"] == 1 + sum(counts.values()),
            "restricted": len(restricted), "restrictions_undone": len(undone)}


# --- guessing ----------------------------------------------------------------------------------

def guessing(address: tuple[str, int], duration: int, records: int) -> dict[str, float]:
    host, port = address
    base = f"http://{host}:{port}"
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", "/signin")
    page = conn.getresponse()
    text = page.read().decode()
    cookie = page.getheader("set-cookie") or ""
    match = re.search(r"lanhai_csrf=([^;]+)", cookie) or re.search(
        r'name="csrf" value="([^"]+)"', text)
    assert match, "no CSRF token on the sign-in page"
    csrf = urllib.parse.unquote(match[1]).strip('"')
    with tempfile.TemporaryDirectory() as tmp:
        reads = Path(tmp) / "read.lua"
        reads.write_text(READ_LUA % {"n": records})
        guesses = Path(tmp) / "guess.lua"
        guesses.write_text(GUESS_LUA % {"csrf": urllib.parse.quote(csrf, safe=""),
                                        "cookie": f'"{csrf}"'})
        alone = load(base, reads, duration, 1, 4)
        wrk = shutil.which("wrk") or "/usr/bin/wrk"
        attack = subprocess.Popen([wrk, "-t1", "-c16", f"-d{duration + 6}s", "-s",
                                   str(guesses), "--timeout", "10s", base],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2)
        under = load(base, reads, duration, 1, 4)
        out, _ = attack.communicate()
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    answers = {int(a): int(b) for a, b in re.findall(r"STATUS (\d+) (\d+)", out)}
    return {"reads_alone": alone["req_s"], "reads_guessing": under["req_s"],
            "p99_alone": alone["p99_ms"], "p99_guessing": under["p99_ms"],
            "guesses_per_s": float(rate[1]) if rate else 0.0, "guess_answers": answers}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=1_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--before", type=Path, help="an older Lanhai checkout to compare")
    args = parser.parse_args(argv)
    trees: dict[str, Path | None] = {"this tree": None}
    if args.before:
        trees["before"] = args.before.resolve()
    rows: dict[str, dict[str, Any]] = {}
    for name, tree in trees.items():
        with tempfile.TemporaryDirectory(prefix="lanhai-hardening-") as tmp:
            folder = Path(tmp)
            made = prepare(folder, tree, args.records)
            with serve(folder, tree) as address:
                print(f"{name}: {args.updates:,} concurrent updates …", file=sys.stderr)
                result = updates(address, made["token"], args.updates)
                print(f"{name}: reads with and without password guessing …", file=sys.stderr)
                result.update(guessing(address, args.duration, args.records))
            rows[name] = result
    for name, r in rows.items():
        print(f"\n{name}")
        print(f"  updates: {r['confirmed']:,} confirmed in {r['seconds']:.1f} s; answers "
              f"{dict(sorted(r['statuses'].items()))}; lost confirmed updates: "
              f"{len(r['lost_fields'])} field(s) {r['lost_fields']}; version {r['version']} "
              f"{'counts' if r['version_counts_all'] else 'does NOT count'} every confirmed "
              f"change; restrictions undone: {r['restrictions_undone']} of {r['restricted']}")
        ratio = r["reads_guessing"] / r["reads_alone"] if r["reads_alone"] else 0.0
        print(f"  reads: {r['reads_alone']:,.0f} req/s alone (p99 {r['p99_alone']:.1f} ms), "
              f"{r['reads_guessing']:,.0f} req/s while 16 connections guess passwords at "
              f"{r['guesses_per_s']:,.0f}/s, answered {dict(sorted(r['guess_answers'].items()))}"
              f" (p99 {r['p99_guessing']:.1f} ms): {ratio:.2f} of the unloaded rate (target: "
              f"at least 0.50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
