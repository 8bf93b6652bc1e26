"""Benchmark: decompression bombs and oversized files given to the command line.

What it measures
    For each bomb, `lanhai import` or `lanhai ingest` (or `lanhai breed qc`, `lanhai search
    seq`) run in its own process on a fresh bank: the peak resident memory of that process,
    the wall time, the exit code, the error line it printed, and whether the bank's files
    (the SQLite catalogue and the data folder) are byte for byte what they were. The bombs:

    * ``zeros.csv.gz``: 10 GiB of zero bytes in a 10 MB gzip file, as a table;
    * ``rows.csv.gz``: 10 GiB of short table rows in 14 MB;
    * ``shared-strings.xlsx``: a 2 MB workbook whose one shared string (a cell) is 2 GiB;
    * ``lying-sizes.xlsx``: the same, its zip headers claiming the part is 1,000 bytes;
    * ``wide.csv``: one 40 MB line of 20 million cells;
    * ``zeros.csv``: a plain (sparse) file of 10 GiB of zeros, as a table;
    * ``zeros.fna.gz`` and ``zeros.fna``: the same zeros given as a genome;
    * ``chromosome.fna.gz``: a FASTA header and 10 GiB of 'N' in 10 MB;
    * ``genotypes.vcf.gz``: 10 GiB of VCF header lines in 14 MB, to `lanhai breed qc`;
    * ``query.faa.gz``: 1.25 GiB of one protein in 1.3 MB, to `lanhai search seq`.

    As reference in the same run, the peak memory of importing a genuine table and ingesting
    a genuine genome whose gzip files are of a size like the bombs' (``--rows``, ``--bases``).

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_bombs
    .venv/bin/python benchmarks/bench_bombs.py --rows 20000 --bases 10000000

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support import SAMPLE
from tests.support.bombs import MIB, gzip_bomb, sparse_zeros, xlsx_bomb

ROOT = Path(__file__).resolve().parents[1]
#: runs a command, then writes its peak memory (KiB) to a file; the command is started from
#: this small process because a process started from a fork of a larger one (this benchmark,
#: after it built a bomb) counts that one's memory in its own peak
_LAUNCH = """
import os, subprocess, sys
report, *argv = sys.argv[1:]
child = subprocess.Popen(argv)
_, status, usage = os.wait4(child.pid, 0)
with open(report, "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


#: builds a bomb in a folder; its path
MakeFile = Callable[[Path], Path]


@dataclass
class Result:
    name: str
    command: str
    size: int
    expands: str
    peak_mb: float
    seconds: float
    code: int
    message: str
    identical: bool | None


# --- the files -------------------------------------------------------------------------------

def samples(path: Path, rows: int) -> Path:
    """A gzip CSV of ``rows`` genuine sample rows (the OSD 2014 sample, varied)."""
    rng = random.Random(7)
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow([*SAMPLE, "biosample"])
        for number in range(rows):
            row = dict(SAMPLE, samp_name=f"OSD{number}_2014-06-21_0m",
                       lat_lon=f"{50 + rng.uniform(-1, 1):.5f} {-4 + rng.uniform(-1, 1):.5f}",
                       depth=f"{rng.uniform(0, 200):.1f} m",
                       collection_date=f"2014-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
            out.writerow([*row.values(), f"SAMN{80_000_000 + number}"])
    return path


def genome(path: Path, bases: int) -> Path:
    """A gzip FASTA of random contigs of 1 Mb (``bases`` in all)."""
    table = bytes(b"ACGT"[byte & 3] for byte in range(256))
    with gzip.open(path, "wb", compresslevel=6) as out:
        for number in range(0, bases, MIB):
            size = min(MIB, bases - number)
            out.write(b">contig_%d\n" % (number // MIB))
            sequence = os.urandom(size).translate(table)
            for start in range(0, size, 80):
                out.write(sequence[start:start + 80] + b"\n")
    return path


# --- running ---------------------------------------------------------------------------------

def lanhai_argv() -> list[str]:
    command = Path(sys.executable).with_name("lanhai")
    return [str(command)] if command.exists() else [sys.executable, "-m", "lanhai.cli.main"]


def run(args: list[str], env: dict[str, str]) -> tuple[int, str, float, float]:
    """Exit code, the first line of stderr, peak RSS (MB) and seconds of `lanhai ARGS`."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "peak"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _LAUNCH, str(report), *lanhai_argv(),
                               *args], env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        peak = int(report.read_text()) / 1024
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    first = lines[0] if lines else (done.stdout.splitlines() or [""])[0]
    if len(lines) > 1 and "problem" in first:  # the report's count: show the problem too
        first += " " + lines[1]
    return done.returncode, first, peak, seconds


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def new_bank(folder: Path) -> tuple[dict[str, str], str]:
    """A fresh bank (its environment) and an assembly record in it."""
    env = {**os.environ, "LANHAI_DATA_DIR": str(folder), "LANHAI_USER": "bench"}
    env.pop("LANHAI_DATABASE_URL", None)
    subprocess.run([*lanhai_argv(), "init"], env=env, check=True, capture_output=True)
    made = subprocess.run([*lanhai_argv(), "create", "assembly", "--set",
                           "assembly_name=bench genome", "--set",
                           "assembly_type=isolate genome", "--set", "seq_meth=Illumina",
                           "--set", "assembly_software=SPAdes;3.15.5", "--json"],
                          env=env, check=True, capture_output=True, text=True)
    return env, str(json.loads(made.stdout)["accession"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000,
                        help="rows of the genuine table imported as reference")
    parser.add_argument("--bases", type=int, default=32 * MIB,
                        help="bases of the genuine genome ingested as reference")
    args = parser.parse_args(argv)
    bombs: list[tuple[str, str, str, MakeFile]] = [
        ("zeros.csv.gz", "import", "10 GiB",
         lambda d: gzip_bomb(d / "zeros.csv.gz", bytes(64 * MIB), 160)),
        ("rows.csv.gz", "import", "10 GiB",
         lambda d: gzip_bomb(d / "rows.csv.gz", b"OSD,x,1\n" * (8 * MIB), 160,
                             first=b"samp_name,project_name,depth\n")),
        ("shared-strings.xlsx", "import", "2 GiB",
         lambda d: xlsx_bomb(d / "shared-strings.xlsx", 2048)),
        ("lying-sizes.xlsx", "import", "2 GiB", lambda d: xlsx_bomb(d / "lying-sizes.xlsx",
                                                                  2048, declared=1000)),
        ("wide.csv", "import", "40 MB",
         lambda d: _write(d / "wide.csv", b"samp_name" + b",x" * 20_000_000 + b"\n")),
        ("zeros.csv", "import", "10 GiB", lambda d: sparse_zeros(d / "zeros.csv", 10 << 30)),
        ("zeros.fna.gz", "ingest", "10 GiB",
         lambda d: gzip_bomb(d / "zeros.fna.gz", bytes(64 * MIB), 160)),
        ("zeros.fna", "ingest", "10 GiB", lambda d: sparse_zeros(d / "zeros.fna", 10 << 30)),
        ("chromosome.fna.gz", "ingest", "10 GiB",
         lambda d: gzip_bomb(d / "chromosome.fna.gz", b"N" * (64 * MIB), 160,
                             first=b">chr1\n")),
        ("genotypes.vcf.gz", "breed", "10 GiB",
         lambda d: gzip_bomb(d / "genotypes.vcf.gz", (b"##" + b"x" * 1021 + b"\n") * 65536,
                             160, first=b"##fileformat=VCFv4.2\n")),
        ("query.faa.gz", "search", "1.25 GiB",
         lambda d: gzip_bomb(d / "query.faa.gz", b"M" * (64 * MIB), 20, first=b">q\n")),
    ]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="lanhai-bombs-") as work:
        folder = Path(work)
        env, accession = new_bank(folder / "bank")
        commands = {"import": ["import", "samples"], "ingest": ["ingest", accession],
                    "breed": ["breed", "qc", "--genotypes"], "search": ["search", "seq"]}
        for name, kind, expands, make in bombs:
            path = make(folder)
            before = snapshot(folder / "bank")
            code, message, peak, seconds = run([*commands[kind], str(path)], env)
            results.append(Result(name, f"lanhai {kind}", path.stat().st_blocks * 512,
                                  expands, peak, seconds, code, message,
                                  snapshot(folder / "bank") == before))
            path.unlink()
        table = samples(folder / "samples.csv.gz", args.rows)
        code, message, peak, seconds = run(["import", "samples", str(table)], env)
        results.append(Result(f"reference: {args.rows:,} sample rows", "lanhai import",
                              table.stat().st_size, "", peak, seconds, code, message, None))
        fasta = genome(folder / "genome.fna.gz", args.bases)
        code, message, peak, seconds = run(["ingest", accession, str(fasta)], env)
        results.append(Result(f"reference: {args.bases / 1e6:.0f} Mb genome", "lanhai ingest",
                              fasta.stat().st_size, "", peak, seconds, code, message, None))
    print(f"{'file':<32} {'command':<14} {'on disk':>9} {'expands':>9} {'peak RSS':>9} "
          f"{'time':>7} {'exit':>4}  {'bank':<9} first line printed")
    for r in results:
        bank = "n/a" if r.identical is None else "identical" if r.identical else "CHANGED"
        print(f"{r.name:<32} {r.command:<14} {r.size / MIB:>7.1f} M {r.expands:>9} "
              f"{r.peak_mb:>6.0f} MB {r.seconds:>6.1f}s {r.code:>4}  {bank:<9} "
              f"{r.message[:150]}")
    return 0


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
