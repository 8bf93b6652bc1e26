"""Background jobs: status, progress, failure, jobs left behind by a stopped server, API."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from lanhai.errors import Problem, ValidationFailed
from lanhai.services.jobs import JobRunner, Progress
from lanhai.store.jobs import INTERRUPTED, Job, JobStore
from tests.support import add_user, make_client


def test_a_job_reports_progress_and_its_result(tmp_path: Path) -> None:
    runner = JobRunner(tmp_path / "jobs")
    gate = threading.Event()
    seen = threading.Event()

    def task(progress: Progress) -> dict[str, Any]:
        progress(1, 3, "first")
        seen.set()
        gate.wait(10)
        progress(3, 3, "last")
        return {"answer": 42}

    job = runner.submit("count", "ana", {"n": 3}, task)
    assert job.status == "queued" and job.params == {"n": 3}
    assert seen.wait(10)
    running = runner.get(job.id)
    assert running is not None and running.status == "running"
    assert running.progress == {"done": 1, "total": 3, "what": "first"}
    gate.set()
    done = runner.wait(job.id, 10)
    assert (done.status, done.result, done.error) == ("done", {"answer": 42}, None)
    assert done.progress["done"] == 3 and done.finished_at is not None
    on_disk = json.loads((tmp_path / "jobs" / f"{job.id}.json").read_text())
    assert on_disk["status"] == "done" and on_disk["result"] == {"answer": 42}
    # a new runner (a restarted server) reads the finished job from its file
    assert JobRunner(tmp_path / "jobs").get(job.id) == done


def test_a_failing_job_keeps_the_reason_and_the_problems(tmp_path: Path) -> None:
    runner = JobRunner(tmp_path / "jobs")

    def task(progress: Progress) -> dict[str, Any]:
        raise ValidationFailed("genome.fa: 1 problem(s)", [Problem(
            "character 'J' is not IUPAC", "remove it", row=3, file="genome.fa")])

    job = runner.wait(runner.submit("annotate", "ana", {}, task).id, 10)
    assert job.status == "failed" and job.result is None
    assert job.error is not None
    assert "genome.fa: 1 problem(s)" in job.error and "row 3" in job.error


def test_a_job_left_running_by_a_dead_server_is_interrupted(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs")
    # pid 2**22 + 1 is above Linux's pid_max default, so no process has it
    left = Job(id="a" * 32, kind="annotate", owner="ana", params={}, status="running",
               pid=2**22 + 1)
    store.save(left)
    job = JobRunner(tmp_path / "jobs").get(left.id)
    assert job is not None and job.status == INTERRUPTED
    assert job.error is not None and "start the same work again" in job.error


def test_job_ids_are_checked_before_touching_files(tmp_path: Path) -> None:
    runner = JobRunner(tmp_path / "jobs")
    assert runner.get("../../etc/passwd") is None
    assert runner.get("0" * 32) is None


def test_jobs_api_shows_owners_their_own_jobs(sqlite_engine: Engine) -> None:
    as_ana = add_user(sqlite_engine, "ana", "curator")
    as_bo = add_user(sqlite_engine, "bo", "curator")
    client = make_client(sqlite_engine)
    runner: JobRunner = client.app.state.bank.jobs  # type: ignore[attr-defined]
    mine = runner.wait(runner.submit("test", "ana", {"x": 1}, lambda p: {"ok": 1}).id, 10)
    listed = client.get("/api/jobs", headers=as_ana).json()["jobs"]
    assert [job["id"] for job in listed] == [mine.id]
    assert client.get("/api/jobs", headers=as_bo).json()["jobs"] == []
    assert client.get(f"/api/jobs/{mine.id}", headers=as_ana).json()["result"] == {"ok": 1}
    answer = client.get(f"/api/jobs/{mine.id}", headers=as_bo)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    assert client.get("/api/jobs").status_code == 401


@pytest.mark.parametrize("owner", ["anonymous"])
def test_an_anonymous_job_is_read_by_its_id(sqlite_engine: Engine, owner: str) -> None:
    client = make_client(sqlite_engine)
    runner: JobRunner = client.app.state.bank.jobs  # type: ignore[attr-defined]
    job = runner.wait(runner.submit("search", owner, {}, lambda p: {"hits": []}).id, 10)
    assert client.get(f"/api/jobs/{job.id}").json()["status"] == "done"


def test_a_job_of_another_runner_is_running_until_its_process_dies(tmp_path: Path) -> None:
    """Two servers on one bank see each other's jobs as running; a server killed mid-job
    (its lock released by the kernel) leaves an interrupted job."""
    runner = JobRunner(tmp_path / "jobs")
    gate = threading.Event()
    job = runner.submit("wait", "ana", {}, lambda progress: {"waited": gate.wait(10)})
    other = JobRunner(tmp_path / "jobs")
    seen = other.get(job.id)
    assert seen is not None and seen.status in ("queued", "running")
    gate.set()
    assert runner.wait(job.id, 10).status == "done"
    assert other.get(job.id) == runner.get(job.id)

    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from lanhai.store.jobs import Job, JobStore\n"
        "store = JobStore(Path(sys.argv[1]))\n"
        "job = Job(id='b' * 32, kind='annotate', owner='ana', params={}, status='running')\n"
        "store.hold(job.id)\n"
        "store.save(job)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n")
    worker = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "jobs")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        left = other.get("b" * 32)
        assert left is not None and left.status == "running"
    finally:
        worker.kill()
        worker.wait(10)
    gone = other.get("b" * 32)
    assert gone is not None and gone.status == INTERRUPTED


def test_servers_on_one_database_share_their_jobs(shared_engine: Engine,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A bank on a server database keeps its jobs in the catalogue, so that every server
    behind one address answers for every job: one started on the first server is running on
    the second, then done there; one whose server fell silent is interrupted."""
    from lanhai.store import jobs as job_store
    from lanhai.store.jobs import DatabaseJobStore

    first = JobRunner(store=DatabaseJobStore(shared_engine))
    second = JobRunner(store=DatabaseJobStore(shared_engine))
    gate = threading.Event()
    job = first.submit("wait", "ana", {"n": 1}, lambda progress: {"waited": gate.wait(10)})
    seen = second.get(job.id)
    assert seen is not None and seen.status in ("queued", "running")
    assert [j.id for j in second.list("ana")] == [job.id] and second.list("bo") == []
    gate.set()
    done = first.wait(job.id, 10)
    assert done.status == "done" and done.result == {"waited": True}
    assert second.get(job.id) == done

    # a server that stopped mid-job (its heartbeat silent past the limit)
    left = Job(id="c" * 32, kind="annotate", owner="ana", params={}, status="running")
    DatabaseJobStore(shared_engine).save(left)
    assert second.get(left.id) is not None
    assert second.get(left.id).status == "running"  # type: ignore[union-attr]
    monkeypatch.setattr(job_store, "SILENT", -1.0)
    gone = second.get(left.id)
    assert gone is not None and gone.status == INTERRUPTED
    assert gone.error is not None and "start the same work again" in gone.error
    assert second.get("../../etc/passwd") is None and second.get("0" * 32) is None


def test_a_running_job_keeps_its_heartbeat(shared_engine: Engine,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from lanhai.store import jobs as job_store
    from lanhai.store.jobs import DatabaseJobStore

    monkeypatch.setattr(job_store, "HEARTBEAT", 0.05)
    monkeypatch.setattr(job_store, "SILENT", 0.5)
    runner = JobRunner(store=DatabaseJobStore(shared_engine))
    other = DatabaseJobStore(shared_engine)
    gate = threading.Event()
    job = runner.submit("wait", "ana", {}, lambda progress: {"waited": gate.wait(10)})
    try:
        for _ in range(3):  # longer than SILENT without a word of progress: still running
            gate.wait(0.4)
            seen = other.read(job.id)
            assert seen is not None and seen.status in ("queued", "running")
    finally:
        gate.set()
    assert runner.wait(job.id, 10).status == "done"
