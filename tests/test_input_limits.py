"""Decompression bombs, oversized input and a full disk, from a curator's side.

Each bomb is the file a curator (or an attacker with a curator's token) would upload: built
here in a moment (gzip members of zeros repeated, a zip whose deflate stream repeats one
block), given to the command they would type (`lanhai import`, `lanhai ingest`) in a
subprocess whose peak memory is measured, and to the API routes. Each must be refused with
the error that names the limit and its setting, in bounded memory, leaving the bank's files
byte for byte as they were. A full disk (the file-size limit of the process, so that writes
fail with EFBIG) must give one short error line and exit code 1.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.app import create_app
from lanhai.bank import Bank
from lanhai.db.engine import make_engine
from lanhai.limits import Limits
from lanhai.settings import Settings
from tests.support import SAMPLE, add_token, create_user, database, new_assembly, run_json
from tests.support.bombs import MIB, gzip_bomb, sparse_zeros, xlsx_bomb

ROOT = Path(__file__).resolve().parents[1]
#: a generous bound on the peak memory of a refused command (a bare `lanhai` command takes
#: 60 to 160 MB; a bomb that was read whole would take gigabytes)
PEAK_MB = 400


# --- the files --------------------------------------------------------------------------------

def zeros_bomb(path: Path) -> Path:
    """10 GiB of zeros in 10 MB."""
    return gzip_bomb(path, bytes(64 * MIB), 160)


def samples_csv(path: Path, rows: int) -> Path:
    """Valid sample rows (the OSD 2014 sample, renamed)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(list(SAMPLE))
        for number in range(rows):
            out.writerow([f"OSD{number}_2014-06-21_0m" if name == "samp_name" else value
                          for name, value in SAMPLE.items()])
    return path


# --- running the command line -------------------------------------------------------------

@dataclass
class Run:
    code: int
    out: str
    err: str
    peak_mb: float


#: runs a command with the file-size limit given (SIGXFSZ ignored, so that a write beyond it
#: fails with EFBIG as on a full disk) and writes the command's peak memory (KiB) to a file.
#: The command is started from this small process, not from pytest's: a process started
#: from a fork of another counts that one's memory in its own peak.
_LAUNCH = """
import os, resource, signal, subprocess, sys
limit, report, *argv = sys.argv[1:]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
if limit != "-":
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
child = subprocess.Popen(argv)
_, status, usage = os.wait4(child.pid, 0)
with open(report, "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measured(argv: list[str], env: dict[str, str] | None = None, *,
             file_size: int | None = None) -> Run:
    """Run ``argv`` in a new process: its exit code, output and peak memory."""
    with tempfile.TemporaryDirectory() as folder:
        report, out, err = (Path(folder) / name for name in ("peak", "out", "err"))
        with out.open("wb") as stdout, err.open("wb") as stderr:
            done = subprocess.run(
                [sys.executable, "-c", _LAUNCH, "-" if file_size is None else str(file_size),
                 str(report), *argv], stdin=subprocess.DEVNULL, stdout=stdout,
                stderr=stderr, env={**os.environ, **(env or {})}, cwd=ROOT, check=False)
        return Run(done.returncode, out.read_text(), err.read_text(),
                   int(report.read_text()) / 1024)


def lanhai(args: list[str], env: dict[str, str] | None = None, *,
           file_size: int | None = None) -> Run:
    """Run the `lanhai` command as a curator types it."""
    command = Path(sys.executable).with_name("lanhai")
    argv = [str(command)] if command.exists() else [sys.executable, "-m", "lanhai.cli.main"]
    return measured([*argv, *args], env, file_size=file_size)


def snapshot(*folders: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folders`` (the catalogue database and the data
    folder): equal snapshots are a bank left byte for byte as it was."""
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def assembly(bank_dir: Path, capsys: pytest.CaptureFixture[str]) -> str:
    return new_assembly(capsys, "limits test genome")


def refused(run: Run, *words: str) -> None:
    """Exit code 1, one error line naming every word, memory bounded."""
    assert run.code == 1, run.err
    assert run.err.startswith("error: "), run.err
    for word in words:
        assert word in run.err, run.err
    assert run.peak_mb < PEAK_MB, (run.peak_mb, run.err)


# --- lanhai import --------------------------------------------------------------------------

def test_gzip_of_zeros_is_refused_by_import(bank_dir: Path, tmp_path: Path) -> None:
    bomb = zeros_bomb(tmp_path / "samples.csv.gz")
    before = snapshot(bank_dir)
    run = lanhai(["import", "samples", str(bomb)])
    refused(run, "samples.csv.gz", "LANHAI_MAX_RATIO", "nothing was written")
    assert snapshot(bank_dir) == before


def test_gzip_of_rows_is_refused_before_any_row_is_checked(bank_dir: Path,
                                                             tmp_path: Path) -> None:
    """Ten gigabytes of short rows: refused at 64 MiB, not after millions of rows."""
    bomb = gzip_bomb(tmp_path / "rows.csv.gz", b"OSD,x,1\n" * (8 * MIB), 160,
                     first=b"samp_name,project_name,depth\n")
    before = snapshot(bank_dir)
    run = lanhai(["import", "samples", str(bomb)])
    refused(run, "rows.csv.gz", "LANHAI_MAX_RATIO")
    assert snapshot(bank_dir) == before


def test_xlsx_with_one_huge_shared_string_is_refused(bank_dir: Path, tmp_path: Path) -> None:
    bomb = xlsx_bomb(tmp_path / "samples.xlsx", cell_mib=2048)
    assert bomb.stat().st_size < 3 * MIB
    before = snapshot(bank_dir)
    run = lanhai(["import", "samples", str(bomb)])
    refused(run, "xl/sharedStrings.xml in samples.xlsx", "LANHAI_MAX_RATIO")
    assert snapshot(bank_dir) == before


def test_xlsx_whose_zip_headers_lie_is_read_no_further_than_they_say(
        bank_dir: Path, tmp_path: Path) -> None:
    bomb = xlsx_bomb(tmp_path / "samples.xlsx", cell_mib=2048, declared=1000)
    before = snapshot(bank_dir)
    run = lanhai(["import", "samples", str(bomb)])
    assert run.code == 1 and "corrupt" in run.out + run.err
    assert run.peak_mb < PEAK_MB
    assert snapshot(bank_dir) == before


def test_a_line_of_twenty_million_cells_is_refused(bank_dir: Path, tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_bytes(b"samp_name" + b",x" * 20_000_000 + b"\n")
    before = snapshot(bank_dir)
    refused(lanhai(["import", "samples", str(wide)]), "wide.csv, row 1", "LANHAI_MAX_LINE")
    # with the lines long enough, the cells are counted before csv splits the line
    run = lanhai(["import", "samples", str(wide)], {"LANHAI_MAX_LINE": "64M"})
    refused(run, "wide.csv, row 1", "20,000,001", "LANHAI_MAX_CELLS")
    assert snapshot(bank_dir) == before


def test_a_plain_file_of_zeros_is_refused_at_its_first_line(bank_dir: Path,
                                                            tmp_path: Path) -> None:
    zeros = sparse_zeros(tmp_path / "samples.csv")
    refused(lanhai(["import", "samples", str(zeros)]), "samples.csv, row 1", "LANHAI_MAX_LINE")


def test_limits_set_in_the_environment_are_named(bank_dir: Path, tmp_path: Path) -> None:
    table = samples_csv(tmp_path / "samples.csv", 5)
    before = snapshot(bank_dir)
    run = lanhai(["import", "samples", str(table)], {"LANHAI_MAX_ROWS": "3"})
    refused(run, "samples.csv, row 5", "over the limit of 3 (LANHAI_MAX_ROWS)")
    run = lanhai(["import", "samples", str(table)], {"LANHAI_MAX_CELLS": "4"})
    refused(run, "samples.csv, row 1", "over the limit of 4 (LANHAI_MAX_CELLS)")
    packed = tmp_path / "samples.csv.gz"
    packed.write_bytes(gzip.compress(table.read_bytes()))
    run = lanhai(["import", "samples", str(packed)], {"LANHAI_MAX_EXPANDED": "1K"})
    refused(run, "samples.csv.gz, decompressed,", "over the limit of 1 KiB (LANHAI_MAX_EXPANDED)")
    assert snapshot(bank_dir) == before
    assert lanhai(["import", "samples", str(packed)]).code == 0


def test_an_unclosed_quote_is_refused_within_the_line_limit(bank_dir: Path,
                                                            tmp_path: Path) -> None:
    """A quote opened and never closed joins every line after it into one cell."""
    table = tmp_path / "quoted.csv"
    table.write_text("samp_name,project_name\n\"OSD1,x\n" + "OSD2,y\n" * 200_000, "utf-8")
    run = lanhai(["import", "samples", str(table)], {"LANHAI_MAX_LINE": "256K"})
    refused(run, "quoted.csv, row 2", "quote", "LANHAI_MAX_LINE")


# --- lanhai ingest ---------------------------------------------------------------------------

def test_gzip_of_zeros_is_not_fasta_at_its_first_bytes(bank_dir: Path, tmp_path: Path,
                                                       assembly: str) -> None:
    bomb = zeros_bomb(tmp_path / "genome.fna.gz")
    before = snapshot(bank_dir)
    run = lanhai(["ingest", assembly, str(bomb)])
    refused(run, "nothing was stored")
    assert "neither FASTA nor GenBank" in run.err and "binary" in run.err
    assert snapshot(bank_dir) == before


def test_a_plain_file_of_zeros_fails_fast(bank_dir: Path, tmp_path: Path,
                                          assembly: str) -> None:
    zeros = sparse_zeros(tmp_path / "genome.fna")
    run = lanhai(["ingest", assembly, str(zeros)])
    refused(run, "neither FASTA nor GenBank")


def test_a_fasta_bomb_is_refused(bank_dir: Path, tmp_path: Path, assembly: str) -> None:
    bomb = gzip_bomb(tmp_path / "genome.fna.gz", b"N" * (64 * MIB), 160, first=b">chr1\n")
    before = snapshot(bank_dir)
    run = lanhai(["ingest", assembly, str(bomb)])
    refused(run, "genome.fna.gz", "LANHAI_MAX_RATIO", "nothing was written")
    assert snapshot(bank_dir) == before


def test_sequence_and_header_limits_from_the_environment(bank_dir: Path, tmp_path: Path,
                                                         assembly: str) -> None:
    fasta = tmp_path / "genome.fna"
    fasta.write_text(">chr1 one line\n" + "ACGT" * 500 + "\n>chr2\nACGT\n", "ascii")
    before = snapshot(bank_dir)
    run = lanhai(["ingest", assembly, str(fasta)], {"LANHAI_MAX_SEQUENCE": "1000"})
    refused(run, "genome.fna, line 1, record chr1", "over the limit of 1,000 "
                 "(LANHAI_MAX_SEQUENCE)")
    long_header = tmp_path / "header.fna"
    long_header.write_text(">chr1 " + "x" * 5000 + "\nACGT\n", "ascii")
    run = lanhai(["ingest", assembly, str(long_header)], {"LANHAI_MAX_LINE": "1K"})
    refused(run, "header.fna, line 1", "LANHAI_MAX_LINE")
    assert snapshot(bank_dir) == before


def test_a_chromosome_on_one_line_streams(bank_dir: Path, tmp_path: Path, assembly: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Long lines of a genuine sequence are read in pieces, not refused."""
    fasta = tmp_path / "chromosome.fna"
    with fasta.open("wb") as out:
        out.write(b">chr1 on one line\n")
        for _ in range(24):
            out.write(b"ACGTTGCA" * (MIB // 8))
        out.write(b"\n>plasmid\nacgtn\n")
    result = run_json(capsys, ["ingest", assembly, str(fasta)])
    assert result["summary"]["genome_size"] == 24 * MIB + 5
    assert result["summary"]["largest_contig"] == 24 * MIB


# --- breeding files, search requests --------------------------------------------------------

BREEDING = Path(__file__).parent / "data" / "breeding"


def test_a_vcf_bomb_is_refused(bank_dir: Path, tmp_path: Path) -> None:
    bomb = gzip_bomb(tmp_path / "genotypes.vcf.gz", (b"##" + b"x" * 1021 + b"\n") * 65536,
                     160, first=b"##fileformat=VCFv4.2\n")
    run = lanhai(["breed", "qc", "--genotypes", str(bomb)])
    refused(run, "genotypes.vcf.gz", "LANHAI_MAX_RATIO")


def test_breeding_lines_are_within_the_line_limit(bank_dir: Path) -> None:
    vcf = BREEDING / "simfish40.vcf.gz"
    run = lanhai(["breed", "qc", "--genotypes", str(vcf)], {"LANHAI_MAX_LINE": "512"})
    refused(run, "simfish40.vcf.gz, line 4", "over the limit of 512 bytes (LANHAI_MAX_LINE)")
    phenotypes = BREEDING / "simfish_phenotypes.csv"
    run = lanhai(["breed", "qc", "--phenotypes", str(phenotypes)], {"LANHAI_MAX_LINE": "32"})
    refused(run, "simfish_phenotypes.csv, line 1", "LANHAI_MAX_LINE")
    assert lanhai(["breed", "qc", "--genotypes", str(vcf), "--json"]).code == 0


def test_compressed_search_requests_expand_to_the_query_limit(bank_dir: Path,
                                                               tmp_path: Path) -> None:
    """Anyone may send a search: a gzip query or HMM may expand to LANHAI_MAX_QUERY."""
    proteins = gzip_bomb(tmp_path / "query.faa.gz", b"M" * (64 * MIB), 20, first=b">q\n")
    refused(lanhai(["search", "seq", str(proteins)]), "query.faa.gz",
            "over the limit of 32 MiB (LANHAI_MAX_QUERY)")
    hmm = gzip_bomb(tmp_path / "families.hmm.gz", b"M" * (64 * MIB), 20,
                    first=b"HMMER3/f [3.1b2 | February 2015]\n")
    refused(lanhai(["search", "family", "--hmm", str(hmm)]), "families.hmm.gz",
            "LANHAI_MAX_QUERY")
    real = tmp_path / "three_pfam.hmm.gz"
    real.write_bytes(gzip.compress((Path(__file__).parent / "data" / "profiles" /
                                    "three_pfam.hmm").read_bytes()))
    assert lanhai(["search", "family", "--hmm", str(real), "--json"]).code == 0


# --- a full disk ------------------------------------------------------------------------------

def test_a_full_disk_during_import_is_one_line(bank_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    table = samples_csv(tmp_path / "samples.csv", 6000)
    database_file = bank_dir / "lanhai.sqlite"
    before = run_json(capsys, ["list", "samples"])
    run = lanhai(["import", "samples", str(table)],
                 file_size=database_file.stat().st_size + MIB)
    assert run.code == 1, run.err
    assert run.err.count("\n") == 1 and len(run.err) < 300, run.err
    assert run.err.startswith("error: no space left on the device writing the catalogue "
                              f"database {database_file.resolve()}; free space and run "
                              "again; nothing was imported"), run.err
    assert "OSD1" not in run.err + run.out
    assert run_json(capsys, ["list", "samples"]) == before


def test_a_full_disk_during_ingest_is_one_line(bank_dir: Path, tmp_path: Path,
                                               assembly: str) -> None:
    fasta = tmp_path / "genome.fna"
    bases = bytes(b"ACGT"[byte & 3] for byte in range(256))
    with fasta.open("wb") as out:
        for number in range(8):
            out.write(b">contig_%d\n" % number + os.urandom(MIB).translate(bases) + b"\n")
    before = snapshot(bank_dir / "assemblies") if (bank_dir / "assemblies").exists() else {}
    run = lanhai(["ingest", assembly, str(fasta)],
                 file_size=(bank_dir / "lanhai.sqlite").stat().st_size + MIB)
    assert run.code == 1, run.err
    assert run.err.count("\n") == 1 and len(run.err) < 300, run.err
    assert run.err.startswith("error: no space left on the device writing "), run.err
    assert run.err.rstrip().endswith("free space and run again; nothing was stored"), run.err
    after = snapshot(bank_dir / "assemblies") if (bank_dir / "assemblies").exists() else {}
    assert after == before


# --- the API ----------------------------------------------------------------------------------

@dataclass
class Api:
    client: TestClient
    headers: dict[str, str]
    data: Path
    engine: Engine

    def snapshot(self) -> dict[str, str]:
        self.engine.dispose()  # the write-ahead log is folded into the database file
        return snapshot(self.data)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with open_api(tmp_path, Limits()) as opened:
        yield opened


@contextmanager
def open_api(tmp_path: Path, limits: Limits) -> Iterator[Api]:
    """A client of the API over a bank in a folder (SQLite file) with ``limits``, and a
    curator's token."""
    data = tmp_path / "bank"
    data.mkdir()
    settings = Settings(data_dir=data, limits=limits)
    engine = make_engine(settings.database_url)
    bank = Bank.over(settings, database(engine))
    bank.db.migrate()
    create_user(engine, "ana", "curator")
    headers = {"Authorization": f"Bearer {add_token(engine, 'ana')}"}
    with TestClient(create_app(bank=bank)) as client:
        assert client.get("/api/stats", headers=headers).status_code == 200  # token used
        yield Api(client, headers, data, engine)
    engine.dispose()


def post_import(api: Api, path: Path) -> Any:
    with path.open("rb") as handle:
        return api.client.post("/api/samples/import", files={"file": (path.name, handle)},
                               headers=api.headers)


def assembly_of(api: Api) -> str:
    made = api.client.post("/api/assemblies", headers=api.headers, json={
        "assembly_name": "limits test genome", "assembly_type": "isolate genome",
        "seq_meth": "Illumina HiSeq 2000", "assembly_software": "SPAdes;3.15.5"})
    assert made.status_code == 201, made.text
    return str(made.json()["accession"])


def post_sequences(api: Api, accession: str, path: Path) -> Any:
    with path.open("rb") as handle:
        return api.client.post(f"/api/assemblies/{accession}/sequences",
                               files={"file": (path.name, handle)}, headers=api.headers)


@pytest.mark.parametrize("make, words", [
    (lambda folder: zeros_bomb(folder / "samples.csv.gz"), ["LANHAI_MAX_RATIO"]),
    (lambda folder: xlsx_bomb(folder / "samples.xlsx", 2048),
     ["xl/sharedStrings.xml", "LANHAI_MAX_RATIO"]),
    (lambda folder: _wide(folder / "wide.csv"), ["wide.csv, row 1", "LANHAI_MAX_LINE"]),
], ids=["gzip-zeros", "xlsx-shared-strings", "wide-line"])
def test_api_import_refuses_bombs_with_413(api: Api, tmp_path: Path,
                                           make: Callable[[Path], Path],
                                           words: list[str]) -> None:
    bomb = make(tmp_path)
    before = api.snapshot()
    answer = post_import(api, bomb)
    assert answer.status_code == 413, answer.text
    error = answer.json()["error"]
    assert error["code"] == "too_large"
    assert all(word in error["message"] for word in words), error
    assert "nothing was written" in error["message"]
    assert api.snapshot() == before


def _wide(path: Path) -> Path:
    path.write_bytes(b"samp_name" + b",x" * 20_000_000 + b"\n")
    return path


def test_api_sequences_refuse_bombs(api: Api, tmp_path: Path) -> None:
    accession = assembly_of(api)
    before = api.snapshot()
    bomb = gzip_bomb(tmp_path / "genome.fna.gz", b"N" * (64 * MIB), 160, first=b">chr1\n")
    answer = post_sequences(api, accession, bomb)
    assert answer.status_code == 413, answer.text
    assert "LANHAI_MAX_RATIO" in answer.json()["error"]["message"]
    answer = post_sequences(api, accession, zeros_bomb(tmp_path / "zeros.fna.gz"))
    assert answer.status_code == 422, answer.text
    assert "binary" in answer.json()["error"]["problems"][0]["reason"]
    assert api.snapshot() == before


def test_api_uses_the_banks_limits(tmp_path: Path) -> None:
    with open_api(tmp_path, Limits(rows=2, sequence=100)) as api:
        table = samples_csv(tmp_path / "samples.csv", 3)
        answer = post_import(api, table)
        assert answer.status_code == 413, answer.text
        assert "over the limit of 2 (LANHAI_MAX_ROWS)" in answer.json()["error"]["message"]
        fasta = tmp_path / "genome.fna"
        fasta.write_text(">chr1\n" + "ACGT" * 30 + "\n", "ascii")
        answer = post_sequences(api, assembly_of(api), fasta)
        assert answer.status_code == 413, answer.text
        assert "LANHAI_MAX_SEQUENCE" in answer.json()["error"]["message"]


_API_SCRIPT = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from lanhai.app import create_app
from lanhai.bank import open_bank
from lanhai.settings import Settings

bank = open_bank(Settings.from_env())
path, url, token = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
with TestClient(create_app(bank=bank)) as client, path.open("rb") as handle:
    answer = client.post(url, files={"file": (path.name, handle)},
                         headers={"Authorization": f"Bearer {token}"})
print(json.dumps({"status": answer.status_code, "body": answer.json()}))
"""


@pytest.mark.parametrize("kind", ["import", "sequences"])
def test_api_memory_stays_bounded(bank_dir: Path, tmp_path: Path, kind: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The server process that receives a bomb (here a test client in its own process)."""
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    create_user(engine, "ana", "curator")
    token = add_token(engine, "ana")
    with TestClient(create_app(bank=Bank.over(settings, database(engine)))) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/stats", headers=headers).status_code == 200  # token used
    engine.dispose()
    if kind == "import":
        url, bomb = "/api/samples/import", xlsx_bomb(tmp_path / "samples.xlsx", 2048)
    else:
        url = f"/api/assemblies/{new_assembly(capsys, 'api bomb')}/sequences"
        bomb = gzip_bomb(tmp_path / "genome.fna.gz", b"N" * (64 * MIB), 160,
                         first=b">chr1\n")
    before = snapshot(bank_dir)
    run = measured([sys.executable, "-c", _API_SCRIPT, str(bomb), url, token])
    assert run.code == 0, run.err
    answer = json.loads(run.out)
    assert answer["status"] == 413, answer
    assert "LANHAI_MAX_RATIO" in answer["body"]["error"]["message"]
    assert run.peak_mb < PEAK_MB
    assert snapshot(bank_dir) == before
