"""Annotation on a real Dask cluster: a scheduler and two worker processes started with the
``dask`` command on 127.0.0.1 (or the cluster CI started, ``LANHAI_TEST_DASK_SCHEDULER``).

An operator points Lanhai at the cluster and gets the same files a local run writes; a worker
killed in the middle of an assembly is replaced and the result is the same; a killed client
leaves nothing half-written and the next run redoes only what did not finish; a worker with
other code, an unreachable scheduler or a worker that cannot see the store is refused with a
message that says what to do.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client

from lanhai.cli.main import main
from lanhai.db.engine import make_engine, migrate
from lanhai.errors import UsageError
from lanhai.search.mmseqs import MMseqs
from lanhai.services.cluster import (
    FINGERPRINT,
    ClusterExecutor,
    WorkerMismatch,
    run_checked,
    worker_report,
)
from lanhai.services.sequence_search import SequenceSearch
from lanhai.services.sequences import SequenceService
from lanhai.settings import Settings
from tests.support import add_user, bank_on, catalog_on, make_client, run_json
from tests.support.cluster import DASK, dask_cluster, result_files
from tests.support.sequences import (
    ANNOTATOR,
    DOKDONENSIS,
    FORSETII,
    GENBANK,
    KK037166,
    LITORALIS,
    PROTEOME,
    REGION,
    SRC,
    ZOBELLIA_PROTEOME,
    fasta,
    records,
)

pytestmark = pytest.mark.skipif(not DASK.exists(), reason="the dask command is not installed")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The scheduler's address: CI's cluster, else one started for these tests."""
    given = os.environ.get("LANHAI_TEST_DASK_SCHEDULER", "")
    if given:
        yield given
        return
    with dask_cluster(tmp_path_factory.mktemp("dask")) as address:
        yield address


def new_bank(folder: Path, scheduler: str = "") -> SequenceService:
    engine = make_engine("sqlite://")
    migrate(engine)
    return bank_on(engine, folder, dask_scheduler=scheduler).sequences


def add(service: SequenceService, name: str, path: Path, kind: str = "genome") -> str:
    record = service.catalog.create(ANNOTATOR, "assembly", {**REGION, "assembly_name": name})
    service.ingest(ANNOTATOR, record.accession, path, kind=kind, allow_stops=True)
    return record.accession


def test_a_cluster_writes_the_files_a_local_run_writes(tmp_path: Path, cluster: str) -> None:
    results = {}
    for name, scheduler in (("local", ""), ("cluster", cluster)):
        service = new_bank(tmp_path / name, scheduler)
        accessions = [add(service, "BGC0001866 region", GENBANK),
                      add(service, "KK037166", KK037166),
                      add(service, "Maribacter Hel I 7 slice", PROTEOME, kind="proteome")]
        ticks: list[tuple[int, int, str]] = []
        report = service.annotate(ANNOTATOR, accessions, pack_names=["pfam-gecco", "cazy",
                                                                       "sus"],
                                  progress=lambda d, t, a, seen=ticks: seen.append((d, t, a)))
        assert report["failed"] == []
        assert [a["status"] for a in report["assemblies"]] == ["done"] * 3
        assert sorted(t[2] for t in ticks) == sorted(accessions) and ticks[-1][:2] == (3, 3)
        if scheduler:
            assert report["cluster"] == cluster and report["jobs"] >= 2
            assert report["threads"] == 1
        results[name] = (result_files(service.store.root),
                         [service.catalog.get(ANNOTATOR, a).fields for a in accessions])
    local, remote = results["local"], results["cluster"]
    assert sorted(remote[0]) == sorted(local[0])
    assert [k for k in local[0] if local[0][k] != remote[0][k]] == []  # byte for byte
    assert any(k.endswith("hits.parquet") for k in local[0])
    assert remote[1] == local[1]  # the catalogue summaries the client recorded


def test_a_worker_killed_in_the_middle_of_an_assembly(tmp_path: Path, cluster: str) -> None:
    local = new_bank(tmp_path / "local")
    [reference] = [add(local, "Zobellia", ZOBELLIA_PROTEOME, kind="proteome")]
    local.annotate(ANNOTATOR, [reference], pack_names=["cazy"], threads=1)

    service = new_bank(tmp_path / "cluster", cluster)
    accession = add(service, "Zobellia", ZOBELLIA_PROTEOME, kind="proteome")
    report: dict[str, Any] = {}
    run = threading.Thread(target=lambda: report.update(service.annotate(
        ANNOTATOR, [accession], pack_names=["cazy"])))
    with Client(cluster, timeout=30) as client:
        run.start()
        busy: list[str] = []
        deadline = time.monotonic() + 60
        while not busy:
            assert time.monotonic() < deadline, "the task never started"
            busy = [w for w, tasks in client.processing().items() if tasks]
            time.sleep(0.1)
        time.sleep(1.0)  # in the middle of the search
        [pid] = client.run(os.getpid, workers=busy[:1]).values()
        os.kill(pid, signal.SIGKILL)
        run.join(timeout=600)
    assert not run.is_alive()
    assert report["failed"] == [] and report["assemblies"][0]["status"] == "done"
    ours = result_files(service.store.root)
    theirs = result_files(local.store.root)
    assert {k: v for k, v in ours.items() if "annotation" in k} == \
        {k: v for k, v in theirs.items() if "annotation" in k}


def test_a_killed_client_leaves_nothing_half_written_and_the_rerun_resumes(
        tmp_path: Path, cluster: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "bank"
    monkeypatch.setenv("LANHAI_DATA_DIR", str(data))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    monkeypatch.delenv("LANHAI_DASK_SCHEDULER", raising=False)
    assert main(["init"]) == 0
    accessions = []
    for name in ("one", "two", "three", "four", "five", "six"):
        record = run_json(capsys, ["create", "assembly", "--set", f"assembly_name={name}",
                                   "--set", "assembly_type=isolate genome",
                                   "--set", "seq_meth=Illumina",
                                   "--set", "assembly_software=SPAdes"])
        accessions.append(record["accession"])
        run_json(capsys, ["ingest", record["accession"], str(ZOBELLIA_PROTEOME),
                          "--kind", "proteome", "--allow-stops"])
    command = [str(Path(sys.executable).with_name("lanhai")), "annotate", "--all-pending",
               "--packs", "sus", "--steps", "families"]
    env = {**os.environ, "LANHAI_DATA_DIR": str(data), "LANHAI_DASK_SCHEDULER": cluster}
    client = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    store = data / "assemblies"

    def finished() -> dict[str, int]:
        return {a: (store / a / "annotation.done.json").stat().st_mtime_ns
                for a in accessions if (store / a / "annotation.done.json").exists()}

    deadline = time.monotonic() + 600
    while not finished():
        assert client.poll() is None, client.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    client.send_signal(signal.SIGKILL)  # the client dies: its tasks not started are dropped
    client.wait()
    before = finished()
    with Client(cluster, timeout=30) as watcher:  # the tasks already running finish
        deadline = time.monotonic() + 600
        while any(watcher.processing().values()):
            assert time.monotonic() < deadline
            time.sleep(0.2)
    after = finished()
    assert before.items() <= after.items() and len(after) < len(accessions)
    for accession in accessions:  # a result is there whole, with its marker, or not at all
        hits = store / accession / "annotation" / "hits.parquet"
        assert hits.exists() == (accession in after)

    monkeypatch.setenv("LANHAI_DASK_SCHEDULER", cluster)
    report = run_json(capsys, ["annotate", "--all-pending", "--packs", "sus", "--steps",
                               "families"])
    assert [a["accession"] for a in report["assemblies"]] == [
        a for a in accessions if a not in after]  # only what did not finish is redone
    assert {a["status"] for a in report["assemblies"]} == {"done"}
    assert finished().items() >= after.items()  # finished work keeps its files
    again = run_json(capsys, ["annotate", "--all-pending", "--packs", "sus", "--steps",
                              "families"])
    assert again["assemblies"] == [] and again["failed"] == []


def test_a_worker_running_other_code_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other-build"
    shutil.copytree(SRC, other / "lanhai", ignore=lambda folder, names: [
        n for n in names if n == "__pycache__" or (
            not n.endswith(".py") and not (Path(folder) / n).is_dir())])
    with (other / "lanhai" / "errors.py").open("a") as changed:
        changed.write("\n# a different build\n")
    env = {**os.environ, "PYTHONPATH": str(other)}
    with dask_cluster(tmp_path / "dask", workers=1, env=env) as address:
        with pytest.raises(UsageError) as refused:
            ClusterExecutor(address, tmp_path)
        assert "runs other code" in str(refused.value)
        assert "lanhai 0.1.0 (sources" in str(refused.value)
        assert "same Lanhai and engine versions" in str(refused.value)


def test_a_task_refuses_to_run_on_other_code() -> None:
    other = (("lanhai", "0.0.9 (sources 000000000000)"), *FINGERPRINT[1:])
    with pytest.raises(WorkerMismatch, match=r"lanhai 0.0.9 .* here, 0.1.0 .* there"):
        run_checked(other, len, "abc")
    assert run_checked(FINGERPRINT, len, "abc") == 3


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"cannot reach the Dask scheduler at "
                                         r"tcp://127\.0\.0\.1:9 .*dask scheduler"):
        ClusterExecutor("tcp://127.0.0.1:9", tmp_path, connect_timeout=2)


def test_a_worker_that_cannot_see_the_store(tmp_path: Path) -> None:
    probe = tmp_path / "probe.txt"
    missing = worker_report(str(tmp_path), str(probe), "token")
    assert missing["sees_store"] is False and "FileNotFoundError" in missing["problem"]
    probe.write_text("another", encoding="utf-8")
    other = worker_report(str(tmp_path), str(probe), "token")
    assert other["sees_store"] is False and "another storage" in other["problem"]
    probe.write_text("token", encoding="utf-8")
    assert worker_report(str(tmp_path), str(probe), "token")["sees_store"] is True


def test_all_pending_and_named_assemblies_are_exclusive(
        bank_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["annotate"]) == 2
    assert "--all-pending" in capsys.readouterr().err
    assert main(["annotate", "LHAS0000001", "--all-pending"]) == 2


def test_the_api_annotation_job_runs_on_the_cluster(tmp_path: Path, cluster: str) -> None:
    engine = make_engine("sqlite://")
    migrate(engine)
    client = make_client(engine, Settings(data_dir=tmp_path, dask_scheduler=cluster))
    curator = add_user(engine, "ana", "curator")
    acc = catalog_on(engine).create(ANNOTATOR, "assembly", REGION).accession
    sent = client.post(f"/api/assemblies/{acc}/sequences", headers=curator, files={
        "file": ("BGC0001866.gbk", GENBANK.read_bytes(), "text/plain")},
        data={"kind": "genome"})
    assert sent.status_code == 201, sent.text
    started = client.post(f"/api/assemblies/{acc}/annotate", headers=curator,
                          json={"packs": ["pfam-gecco"], "steps": ["genes", "families"],
                                "index": False})
    assert started.status_code == 202, started.text
    runner = client.app.state.bank.jobs  # type: ignore[attr-defined]
    job = runner.wait(started.json()["id"], 300)
    assert job.status == "done", job.error
    assert job.result["cluster"] == cluster
    [item] = job.result["assemblies"]
    assert item["gene_count"] == 42 and item["steps"]["families"] == "done"


def test_a_search_runs_each_index_segment_on_the_cluster(tmp_path: Path, cluster: str) -> None:
    engine = make_engine("sqlite://")
    migrate(engine)
    bank = bank_on(engine, tmp_path)
    accessions = [add(bank.sequences, path.name, path, kind="proteome")
                  for path in (DOKDONENSIS, FORSETII, LITORALIS)]
    local = SequenceSearch(bank.catalog, bank.layout, mmseqs=MMseqs(threads=1))
    for accession in accessions:  # one segment each
        local.update_index([accession])
    assert len(local.index_status("proteins")["segments"]) == 3
    query = fasta(records(DOKDONENSIS)[:5] + records(LITORALIS)[:3])
    here = local.search(ANNOTATOR, query, max_hits=50)
    distributed = SequenceSearch(bank.catalog, bank.layout, mmseqs=MMseqs(threads=1),
                                 scheduler=cluster, cluster_min_residues=0)
    there = distributed.search(ANNOTATOR, query, max_hits=50)
    assert there["index"].pop("cluster") == cluster
    assert len(here["hits"]) > 8 and there == here  # the same hits, e-values and lineage
    assert list((tmp_path / ".scratch").iterdir()) == []  # its scratch folder is gone


def test_storage_that_refuses_writes_fails_cleanly_and_the_rerun_succeeds(
        tmp_path: Path, cluster: str) -> None:
    service = new_bank(tmp_path / "bank", cluster)
    accession = add(service, "Maribacter Hel I 7 slice", PROTEOME, kind="proteome")
    staging = service.store.root / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.write_text("not a folder: the storage refuses new files here")  # writes fail
    report = service.annotate(ANNOTATOR, [accession], pack_names=["sus"], steps=["families"])
    [problem] = report["failed"]
    assert problem["record"] == accession and "annotation failed" in problem["reason"]
    assert str(staging) in problem["reason"] and "again" in problem["fix"]
    assert service.store.step_done(accession, "annotation") is None  # nothing half-visible
    assert not (service.store.folder(accession) / "annotation").exists()
    staging.unlink()  # the storage takes writes again
    again = service.annotate(ANNOTATOR, [accession], pack_names=["sus"], steps=["families"])
    assert again["failed"] == [] and again["assemblies"][0]["status"] == "done"


def test_a_lost_scheduler_fails_the_run_clearly_and_the_rerun_resumes(tmp_path: Path) -> None:
    with dask_cluster(tmp_path / "dask", workers=2) as address:
        service = new_bank(tmp_path / "bank", address)
        accessions = [add(service, f"Zobellia {n}", ZOBELLIA_PROTEOME, kind="proteome")
                      for n in range(3)]
        report: dict[str, Any] = {}
        run = threading.Thread(target=lambda: report.update(service.annotate(
            ANNOTATOR, accessions, pack_names=["cazy"])))
        with Client(address, timeout=30) as client:
            run.start()
            deadline = time.monotonic() + 120
            while not any(client.processing().values()):
                assert time.monotonic() < deadline, "no task started"
                time.sleep(0.1)
            scheduler = client.run_on_scheduler(os.getpid)
        os.kill(scheduler, signal.SIGKILL)
        run.join(timeout=300)
        assert not run.is_alive()
    lost = [a["accession"] for a in report["assemblies"] if a["status"] == "failed"]
    assert lost and {p["record"] for p in report["failed"]} == set(lost)
    assert {p["reason"] for p in report["failed"]} == {
        f"annotation failed: the task was cancelled: the Dask scheduler at {address} was "
        "lost (or this machine's connection to it)"}
    for accession in accessions:  # a result is there whole, with its marker, or not at all
        hits = service.store.annotation_folder(accession) / "hits.parquet"
        assert hits.exists() == (service.store.step_done(accession, "annotation") is not None)
    again = service.annotate(ANNOTATOR, accessions, pack_names=["cazy"], scheduler="")
    assert again["failed"] == []
    assert {a["status"] for a in again["assemblies"]} <= {"done", "already done"}


def test_doctor_checks_the_cluster(bank_dir: Path, cluster: str,
                                   capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANHAI_DASK_SCHEDULER", cluster)
    report = run_json(capsys, ["doctor"])
    [check] = [c for c in report["checks"] if c["check"] == "cluster"]
    assert check["status"] == "ok" and check["threads"] >= 2
    assert "each running this Lanhai" in check["message"]
    assert report["leftovers"] == []  # the storage probe leaves nothing behind
    monkeypatch.setenv("LANHAI_DASK_SCHEDULER", "tcp://127.0.0.1:9")
    report = run_json(capsys, ["doctor"], 1)
    [check] = [c for c in report["checks"] if c["check"] == "cluster"]
    assert check["status"] == "problem" and "cannot reach the Dask scheduler" in check["message"]
    assert "unset LANHAI_DASK_SCHEDULER" in check["fix"]
