"""Runs that are killed leave partial work behind; `lanhai doctor` reports it (path, size, age,
why), `lanhai clean` removes it, the next run of the same step removes its own, and nothing a
live process still holds is ever removed (docs/operations.md).

Killed runs are real: a subprocess starts the real writer (a `lanhai export`, a `lanhai
ingest`, a store's writer object), says it is ready while it is still writing, and is killed
with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from lanhai.cli.main import main
from lanhai.db.engine import make_engine, migrate
from lanhai.errors import Forbidden
from lanhai.services.access import LOCAL_ADMIN
from lanhai.store.layout import Layout
from lanhai.store.uploads import UploadStore
from tests.support import CURATOR, SAMPLE, bank_on, new_assembly, run_json

GENOME = ">contig_1 a test contig\n" + "ACGTTGCAAGGCTTAACCGGTTAAGCTAGCTAGGATCCA" * 20 + "\n"


@pytest.fixture(autouse=True)
def own_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A system temporary folder of the test's own (scratch folders are looked for there),
    for this process and the writers it starts."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[str]]]:
    """Subprocesses a test starts; killed at the end whatever happens."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for worker in started:
        if worker.poll() is None:
            worker.kill()
        worker.wait(30)


def start(workers: list[subprocess.Popen[str]], script: str, *args: str
          ) -> subprocess.Popen[str]:
    """Run ``script`` in a new Python process (``sys.argv[1:]`` = ``args``) with the test's
    environment (LANHAI_DATA_DIR …); return once it printed ``ready``: it is then in the
    middle of its write, and stays there until killed."""
    script = "import sys, time\n" + script
    worker = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    workers.append(worker)
    assert worker.stdout is not None
    line = worker.stdout.readline().strip()
    if line != "ready":
        worker.kill()
        raise AssertionError(f"the writer did not start: {line!r} "
                             f"{worker.communicate(timeout=30)[1][-3000:]}")
    return worker


def kill(worker: subprocess.Popen[str]) -> None:
    """kill -9: the writer gets no chance to clean up."""
    worker.send_signal(signal.SIGKILL)
    worker.wait(30)


def doctor(capsys: pytest.CaptureFixture[str], code: int = 0) -> dict[str, Any]:
    report: dict[str, Any] = run_json(capsys, ["doctor"], code)
    return report


def leftovers_under(report: dict[str, Any], folder: Path) -> list[dict[str, Any]]:
    """The report's leftovers inside ``folder`` (the system's temporary folder may hold other
    processes' scratch folders)."""
    return [item for item in report["leftovers"]
            if Path(item["path"]).is_relative_to(folder)]


def check(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in report["checks"] if c["check"] == name)
    return found


#: stalls the wrapped function after it ran once: prints "ready" and sleeps until killed
STALL = """
import sys, time
def stall_after(owner, name):
    real = getattr(owner, name)
    def stalled(*args, **kwargs):
        result = real(*args, **kwargs)
        print("ready", flush=True)
        time.sleep(600)
        return result
    setattr(owner, name, stalled)
"""


# -- the report ------------------------------------------------------------------------------

def test_doctor_on_a_healthy_bank(bank_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = doctor(capsys)
    assert report["status"] == "ok"
    assert [c["check"] for c in report["checks"]] == [
        "data folder", "disk space", "schema", "jobs", "leftovers"]
    assert all(c["status"] == "ok" for c in report["checks"])
    assert check(report, "disk space")["free_bytes"] > 0
    assert "(current)" in check(report, "schema")["message"]
    assert leftovers_under(report, bank_dir) == []
    capsys.readouterr()
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "exists and is writable" in out and "nothing left by interrupted runs" in out


def test_doctor_without_a_bank_reports_it_and_creates_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("LANHAI_DATA_DIR", str(missing))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    report = doctor(capsys, code=1)
    assert report["status"] == "problem"
    assert check(report, "data folder")["status"] == "problem"
    assert "lanhai init" in check(report, "schema")["fix"]
    assert not missing.exists()


def test_doctor_reports_a_schema_older_than_this_lanhai(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "old-bank"
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder / 'lanhai.sqlite'}")
    migrate(engine, "0001")
    engine.dispose()
    monkeypatch.setenv("LANHAI_DATA_DIR", str(folder))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    assert main(["list"]) == 2  # the other commands refuse such a bank
    schema = check(doctor(capsys, code=1), "schema")
    assert schema["status"] == "problem" and schema["revision"] == "0001"
    assert "lanhai init" in schema["fix"]
    assert run_json(capsys, ["clean"])["cleaned"] == []  # clean works on it all the same


def test_only_an_admin_reads_or_cleans(sqlite_engine: Engine, tmp_path: Path) -> None:
    bank = bank_on(sqlite_engine, tmp_path)
    with pytest.raises(Forbidden):
        bank.maintenance.report(CURATOR)
    with pytest.raises(Forbidden):
        bank.maintenance.clean(CURATOR)
    assert bank.maintenance.report(LOCAL_ADMIN)["checks"]


# -- killed commands -------------------------------------------------------------------------

def test_a_killed_export_is_reported_and_cleaned_and_a_live_one_kept(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        workers: list[subprocess.Popen[str]]) -> None:
    run_json(capsys, ["create", "sample", *(a for k, v in SAMPLE.items()
                                            for a in ("--set", f"{k}={v}"))])
    out = tmp_path / "exports"
    out.mkdir()
    target = out / "samples.csv"
    script = STALL + (
        "from lanhai.store import leftovers\n"
        "stall_after(leftovers, 'replace_file')\n"  # its note is written: mid-write
        "from lanhai.cli.main import main\n"
        "sys.exit(main(['export', 'sample', '--format', 'csv', '-o', sys.argv[1]]))\n")
    writer = start(workers, script, str(target))

    live = doctor(capsys)
    [item] = [i for i in live["leftovers"] if Path(i["path"]).parent == out]
    assert item["state"] == "in use" and item["action"] == "keep"
    assert item["kind"] == "outside file" and item["target"] == str(target)
    cleaned = run_json(capsys, ["clean"])
    assert Path(item["path"]).exists()  # never removed while its writer lives
    assert item["path"] in {k["path"] for k in cleaned["kept"]}

    kill(writer)
    report = doctor(capsys)
    [item] = [i for i in report["leftovers"] if Path(i["path"]).parent == out]
    assert item["state"] == "abandoned" and item["action"] == "remove"
    assert "an export of samples (csv)" in item["why"] and "stopped" in item["why"]
    assert isinstance(item["size"], int) and item["age_seconds"] >= 0 and item["modified"]
    assert check(report, "leftovers")["status"] == "warning"
    assert report["status"] == "warning"

    dry = run_json(capsys, ["clean", "--dry-run"])
    assert [c["result"] for c in dry["cleaned"] if c["path"] == item["path"]] == [
        "would remove"]
    assert Path(item["path"]).exists()
    cleaned = run_json(capsys, ["clean"])
    assert item["path"] in {c["path"] for c in cleaned["cleaned"]}
    assert not Path(item["path"]).exists() and not target.exists()
    assert list((bank_dir / ".writing").iterdir()) == []  # the note went with it
    assert leftovers_under(doctor(capsys), bank_dir) == []
    assert leftovers_under(doctor(capsys), out) == []

    assert main(["export", "sample", "--format", "csv", "-o", str(target)]) == 0
    assert target.read_text().count("\n") == 2 and os.listdir(out) == ["samples.csv"]


def test_the_next_export_to_the_same_file_removes_what_a_killed_one_left(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        workers: list[subprocess.Popen[str]]) -> None:
    target = tmp_path / "samples.json"
    script = STALL + (
        "from lanhai.store import leftovers\n"
        "stall_after(leftovers, 'replace_file')\n"
        "from lanhai.cli.main import main\n"
        "sys.exit(main(['export', 'sample', '--format', 'json', '-o', sys.argv[1]]))\n")
    kill(start(workers, script, str(target)))
    assert [p.name for p in tmp_path.glob(".samples.json.*.part")]
    assert main(["export", "sample", "--format", "json", "-o", str(target)]) == 0
    assert list(tmp_path.glob(".samples.json.*")) == []
    assert json.loads(target.read_text()) == []
    assert list((bank_dir / ".writing").iterdir()) == []


def test_a_killed_ingest_is_cleaned_while_a_live_one_is_kept(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        workers: list[subprocess.Popen[str]]) -> None:
    fasta = tmp_path / "genome.fna"
    fasta.write_text(GENOME)
    accs = [new_assembly(capsys, "killed"), new_assembly(capsys, "running")]
    script = STALL + (
        "from lanhai.store.sequences import TableWriter\n"
        "stall_after(TableWriter, 'add')\n"
        "from lanhai.cli.main import main\n"
        "sys.exit(main(['ingest', sys.argv[1], sys.argv[2]]))\n")
    killed = start(workers, script, accs[0], str(fasta))
    start(workers, script, accs[1], str(fasta))
    kill(killed)

    staging = bank_dir / "assemblies" / ".staging"
    report = doctor(capsys)
    found = {Path(i["path"]).name.rsplit("-", 1)[0]: i
             for i in leftovers_under(report, staging)}
    assert set(found) == set(accs)
    dead, alive = found[accs[0]], found[accs[1]]
    assert dead["state"] == "abandoned" and dead["kind"] == "sequence staging"
    assert f"an ingest of {accs[0]}" in dead["why"] and dead["size"] > 0
    assert alive["state"] == "in use" and alive["action"] == "keep"
    assert check(report, "leftovers")["in_use"] == 1

    cleaned = run_json(capsys, ["clean"])
    assert [c["path"] for c in cleaned["cleaned"] if Path(c["path"]).parent == staging] == [
        dead["path"]]
    assert cleaned["freed_bytes"] >= dead["size"]
    assert not Path(dead["path"]).exists() and Path(alive["path"]).exists()


def test_the_next_ingest_removes_what_a_killed_one_left(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        workers: list[subprocess.Popen[str]]) -> None:
    fasta = tmp_path / "genome.fna"
    fasta.write_text(GENOME)
    acc = new_assembly(capsys, "again")
    script = STALL + (
        "from lanhai.store.sequences import TableWriter\n"
        "stall_after(TableWriter, 'add')\n"
        "from lanhai.cli.main import main\n"
        "sys.exit(main(['ingest', sys.argv[1], sys.argv[2]]))\n")
    kill(start(workers, script, acc, str(fasta)))
    staging = bank_dir / "assemblies" / ".staging"
    assert [p.name.startswith(f"{acc}-") for p in staging.iterdir()] == [True]
    assert not (bank_dir / "assemblies" / acc).exists()

    stored = run_json(capsys, ["ingest", acc, str(fasta)])
    assert stored["status"] == "stored"
    assert list(staging.iterdir()) == []
    assert leftovers_under(doctor(capsys), bank_dir) == []


def test_the_next_annotation_step_removes_what_a_killed_one_left(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        workers: list[subprocess.Popen[str]]) -> None:
    """A gene-calling step killed after it staged its first table; the next step of the
    same kind on the same assembly starts clean."""
    fasta = tmp_path / "genome.fna"
    fasta.write_text(GENOME)
    acc = new_assembly(capsys, "steps")
    run_json(capsys, ["ingest", acc, str(fasta)])
    script = STALL + (
        "from pathlib import Path\n"
        "from lanhai.store.layout import Layout\n"
        "from lanhai.store.sequences import SEQUENCES, SequenceStore\n"
        "store = SequenceStore(Layout(Path(sys.argv[1])).assemblies)\n"
        "staged = store.stage_step(sys.argv[2], 'annotation')\n"
        "staged.table('hits', SEQUENCES)\n"
        "print('ready', flush=True)\n"
        "time.sleep(600)\n")
    kill(start(workers, script, str(bank_dir), acc))
    [item] = leftovers_under(doctor(capsys), bank_dir)
    assert item["why"].startswith(f"the family and PUL step of {acc}")
    assert Path(item["path"]).name.startswith(f"{acc}+annotation-")

    from lanhai.store.sequences import SequenceStore

    store = SequenceStore(Layout(bank_dir).assemblies)
    with store.stage_step(acc, "annotation") as staged:
        assert [p.name for p in staged.folder.parent.iterdir()] == [staged.folder.name]
    assert leftovers_under(doctor(capsys), bank_dir) == []


# -- every writer ----------------------------------------------------------------------------

#: (what, a script that starts the real writer and stalls mid-write, the leftover's path
#: relative to the bank as a glob, its kind)
WRITERS = [
    ("index build", """
from pathlib import Path
from lanhai.store.layout import Layout
from lanhai.store.seq_index import SequenceIndex
index = SequenceIndex(Layout(Path(sys.argv[1])))
with index._locked():
    (index.root / ".staging" / "seg-test").mkdir(parents=True)
    print("ready", flush=True)
    time.sleep(600)
""", "search/proteins/.staging/seg-test", "index build"),
    ("breeding import", STALL + """
from pathlib import Path
from lanhai.breeding.data import Dataset
from lanhai.store import breeding
from lanhai.store.breeding import DatasetStore
stall_after(breeding, "_write_parts")
DatasetStore(Path(sys.argv[1]) / "breeding").save("fish", Dataset(), {"by": "ana"})
""", "breeding/.fish.*.part", "breeding dataset"),
    ("profile pack", """
from pathlib import Path
from lanhai.profiles.registry import staging
with staging(Path(sys.argv[1]) / "profiles", "my-pack") as folder:
    (folder / "my.hmm").write_text("HMMER3/f")
    print("ready", flush=True)
    time.sleep(600)
""", "profiles/.staging-my-pack-*", "profile pack"),
    ("profile download", """
from pathlib import Path
from lanhai.profiles.registry import held_folder
with held_folder(Path(sys.argv[1]) / "profiles" / ".downloads" / "pfam", exist_ok=True) as f:
    (f / "Pfam-A.hmm.gz.part").write_bytes(b"x" * 1000)
    print("ready", flush=True)
    time.sleep(600)
""", "profiles/.downloads/pfam", "profile download"),
    ("compound cache", STALL + """
from pathlib import Path
import pyarrow.parquet as pq
from lanhai.store.compounds import write_cache
stall_after(pq, "write_table")
write_cache(Path(sys.argv[1]) / "search" / "compounds.parquet", {"accession": ["LHCP1"]},
            {"stamp": "1"})
""", "search/.compounds.parquet.*.part", "compound cache"),
    ("upload", """
from pathlib import Path
from lanhai.store.uploads import UploadStore
upload = UploadStore(Path(sys.argv[1]) / "uploads").new("table.csv", {"purpose": "import"},
                                                       hold=True)
upload.path.write_text("a,b\\n")
print("ready", flush=True)
time.sleep(600)
""", "uploads/*", "upload"),
    ("job file", """
import os, sys, time
from pathlib import Path
from lanhai.store.jobs import Job, JobStore
def replace(source, target):  # written in full, about to be renamed into place
    print("ready", flush=True)
    time.sleep(600)
os.replace = replace
JobStore(Path(sys.argv[1]) / "jobs").save(Job(id="c" * 32, kind="annotate", owner="ana",
                                               params={}))
""", "jobs/.cccccccccccccccccccccccccccccccc.json.*.part", "job file"),
    ("marker", """
import os, sys, time
from pathlib import Path
from lanhai.store.layout import Layout
from lanhai.store.sequences import SequenceStore
def replace(source, target):
    print("ready", flush=True)
    time.sleep(600)
os.replace = replace
SequenceStore(Layout(Path(sys.argv[1])).assemblies).mark_genes_done("LHAS0000001", {})
""", "assemblies/.staging/.genes.done.json.*.part", "sequence staging"),
]


@pytest.mark.parametrize("what, script, pattern, kind", WRITERS,
                         ids=[w[0] for w in WRITERS])
def test_each_writer_is_in_use_while_it_lives_and_a_leftover_once_killed(
        what: str, script: str, pattern: str, kind: str, bank_dir: Path,
        capsys: pytest.CaptureFixture[str], workers: list[subprocess.Popen[str]]) -> None:
    writer = start(workers, script, str(bank_dir))
    [path] = bank_dir.glob(pattern)

    live = [i for i in leftovers_under(doctor(capsys), bank_dir) if i["path"] == str(path)]
    assert [(i["state"], i["kind"]) for i in live] == [("in use", kind)]
    assert run_json(capsys, ["clean"])["cleaned"] == []
    assert path.exists()  # never removed while its writer lives

    kill(writer)
    [item] = [i for i in leftovers_under(doctor(capsys), bank_dir)
              if i["path"] == str(path)]
    assert item["state"] == "abandoned" and item["kind"] == kind and item["why"]
    assert item["size"] >= 0 and item["age_seconds"] >= 0
    cleaned = run_json(capsys, ["clean"])
    assert str(path) in {c["path"] for c in cleaned["cleaned"]}
    assert not path.exists()
    assert leftovers_under(doctor(capsys), bank_dir) == []


def test_a_job_whose_server_was_killed_is_reported(
        bank_dir: Path, capsys: pytest.CaptureFixture[str],
        workers: list[subprocess.Popen[str]]) -> None:
    script = """
import sys, time
from pathlib import Path
from lanhai.store.jobs import Job, JobStore
store = JobStore(Path(sys.argv[1]) / "jobs")
job = Job(id="d" * 32, kind="annotate", owner="ana", params={}, status="running")
store.hold(job.id)
store.save(job)
print("ready", flush=True)
time.sleep(600)
"""
    writer = start(workers, script, str(bank_dir))
    jobs = check(doctor(capsys), "jobs")
    assert jobs["status"] == "ok" and jobs["counts"] == {"running": 1}
    kill(writer)
    report = doctor(capsys)
    jobs = check(report, "jobs")
    assert jobs["status"] == "warning" and jobs["counts"] == {"interrupted": 1}
    assert [j["id"] for j in jobs["interrupted"]] == ["d" * 32]
    assert "start the same work again" in jobs["fix"]
    [lock] = leftovers_under(report, bank_dir)
    assert lock["kind"] == "job lock" and lock["path"].endswith(f"{'d' * 32}.lock")
    run_json(capsys, ["clean"])
    assert (bank_dir / "jobs" / f"{'d' * 32}.json").exists()  # the job stays as history
    assert check(doctor(capsys), "jobs")["counts"] == {"interrupted": 1}


# -- rolled back, kept, expired ----------------------------------------------------------------

def test_a_commit_killed_between_its_two_renames_is_rolled_back(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        workers: list[subprocess.Popen[str]]) -> None:
    fasta = tmp_path / "genome.fna"
    fasta.write_text(GENOME)
    acc = new_assembly(capsys, "swap")
    run_json(capsys, ["ingest", acc, str(fasta)])
    folder = bank_dir / "assemblies" / acc
    before = (folder / "manifest.json").read_text()
    script = """
import sys, time
from pathlib import Path
from lanhai.store.layout import Layout
from lanhai.store.sequences import SequenceStore
real = Path.rename
def rename(self, target):
    if self.parent.name == ".staging" and Path(target).name == sys.argv[2]:
        print("ready", flush=True)  # the old data is aside, the new not yet in place
        time.sleep(600)
    return real(self, target)
Path.rename = rename
store = SequenceStore(Layout(Path(sys.argv[1])).assemblies)
with store.stage_ingest(sys.argv[2]) as staged:
    staged.write_json("manifest.json", {"kind": "genome", "sha256": "new"})
    staged.commit()
"""
    kill(start(workers, script, str(bank_dir), acc))
    assert not folder.exists()

    report = doctor(capsys)
    [old] = [i for i in leftovers_under(report, bank_dir) if i["path"].endswith(".old")]
    assert old["action"] == "restore" and old["restore_to"] == str(folder)
    assert "put back" in old["why"]
    cleaned = run_json(capsys, ["clean"])
    assert {c["result"] for c in cleaned["cleaned"]} == {"removed", "restored"}
    assert (folder / "manifest.json").read_text() == before
    assert run_json(capsys, ["annotations", acc, "--stats"])["accession"] == acc
    assert leftovers_under(doctor(capsys), bank_dir) == []


def test_uploads_a_request_left_go_at_once_and_waiting_ones_after_a_day(
        bank_dir: Path, capsys: pytest.CaptureFixture[str],
        workers: list[subprocess.Popen[str]]) -> None:
    store = UploadStore(Layout(bank_dir).uploads)
    waiting = store.new("table.csv", {"purpose": "import sample"})
    old = store.new("old.csv", {"purpose": "import strain"})
    held = store.new("mine.csv", {"purpose": "breeding"}, hold=True)
    script = """
import sys, time
from pathlib import Path
from lanhai.store.uploads import UploadStore
UploadStore(Path(sys.argv[1])).new("x.csv", {"purpose": "import sample"}, hold=True)
print("ready", flush=True)
time.sleep(600)
"""
    kill(start(workers, script, str(Layout(bank_dir).uploads)))
    meta = old.path.parent / "upload.json"  # it arrived two days ago
    meta.write_text(json.dumps({**json.loads(meta.read_text()),
                                "created": time.time() - 2 * 86400}))

    items = {Path(i["path"]).name: i for i in leftovers_under(doctor(capsys), bank_dir)}
    assert waiting.id not in items  # waits for its commit
    assert items[old.id]["state"] == "expired" and "longer than a day" in items[old.id]["why"]
    assert items[held.id]["state"] == "in use"
    [dead] = [i for name, i in items.items() if name not in (old.id, held.id)]
    assert dead["state"] == "abandoned" and "stopped" in dead["why"]

    # the next upload removes them (as `lanhai clean` would), but not what is held or waits
    store.new("next.csv", {"purpose": "import sample"})
    left = {p.name for p in Layout(bank_dir).uploads.iterdir()}
    assert old.id not in left and Path(dead["path"]).name not in left
    assert {waiting.id, held.id} <= left
    store.remove(held.id)
    assert not held.path.parent.exists()


def test_the_startup_cleanup_keeps_downloads_and_clean_can_too(
        sqlite_engine: Engine, tmp_path: Path) -> None:
    bank = bank_on(sqlite_engine, tmp_path)
    download = tmp_path / "profiles" / ".downloads" / "dbcan"
    download.mkdir(parents=True)
    (download / "dbCAN-HMMdb-V13.txt.part").write_bytes(b"x" * 100)
    staging = tmp_path / "assemblies" / ".staging" / "LHAS0000001-0123"
    staging.mkdir(parents=True)

    bank.maintenance.start_cleanup(LOCAL_ADMIN).join(60)
    assert not staging.exists() and download.exists()
    kept = bank.maintenance.clean(LOCAL_ADMIN, downloads=False)
    assert [Path(k["path"]) for k in kept["kept"]] == [download]
    assert "resumes" in kept["kept"][0]["why"]
    assert [Path(c["path"]) for c in bank.maintenance.clean(LOCAL_ADMIN)["cleaned"]] == [
        download]
    assert not download.exists()


def test_a_killed_search_leaves_a_scratch_folder_clean_removes(
        bank_dir: Path, own_temp: Path, capsys: pytest.CaptureFixture[str],
        workers: list[subprocess.Popen[str]]) -> None:
    script = """
import sys, time
from lanhai.store.leftovers import scratch
with scratch() as folder:
    (folder / "query.fasta").write_text(">q\\nMKV\\n")
    print("ready", flush=True)
    time.sleep(600)
"""
    writer = start(workers, script)
    [folder] = own_temp.glob("lanhai-work-*")
    [item] = leftovers_under(doctor(capsys), own_temp)
    assert item["state"] == "in use" and item["kind"] == "scratch"
    kill(writer)
    [item] = leftovers_under(doctor(capsys), own_temp)
    assert item["state"] == "abandoned" and item["path"] == str(folder)
    run_json(capsys, ["clean"])
    assert not folder.exists()
