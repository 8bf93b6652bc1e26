"""Two `lanhai serve` processes behind one address, on the same bank (a SQLite file, or
PostgreSQL when LANHAI_TEST_DATABASE_URL is set) and the same data folder, give the same
answers: a record written through one is read, found by full text and counted on the
dashboard by the other; a web session started on one is honoured by the other, with its
CSRF token; a job started on one is followed to its end on the other.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lanhai.db.engine import make_engine, migrate
from tests.conftest import BACKENDS, PG_URL, _emptied
from tests.support import SAMPLE, ZOBELLIA, add_token, create_user
from tests.support.sequences import PROTEOME, REGION

LANHAI = Path(sys.executable).with_name("lanhai")
PASSWORD = "kelp forest 42 tide"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def initialised(bank_url: str, tmp_path: Path) -> tuple[dict[str, str], str]:
    """`lanhai init` of a bank on ``bank_url``, with a curator ana: the servers' environment
    and her API token."""
    env = {**os.environ, "LANHAI_DATA_DIR": str(tmp_path / "data"),
           "LANHAI_DATABASE_URL": bank_url}
    env.pop("LANHAI_DASK_SCHEDULER", None)
    subprocess.run([str(LANHAI), "init"], env=env, check=True, capture_output=True)
    engine = make_engine(bank_url)
    create_user(engine, "ana", "curator", password=PASSWORD)
    token = add_token(engine, "ana", "servers")
    engine.dispose()
    return env, token


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the server at ``url`` answers (at most 2 minutes); fails with its log if the
    process ended."""
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            if httpx.get(f"{url}/api/stats", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.3)


@pytest.fixture(params=BACKENDS)
def bank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty catalogue the servers share, and its URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bank.sqlite'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
        return
    _emptied(request.getfixturevalue("_pg_engine"))  # migrated, every table emptied
    yield PG_URL


@pytest.fixture
def servers(bank_url: str, tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Two servers on one bank: their base URLs and the curator's API headers."""
    env, token = initialised(bank_url, tmp_path)
    ports = [free_port(), free_port()]
    logs = [(tmp_path / f"server-{p}.log").open("wb") for p in ports]
    processes = [subprocess.Popen([str(LANHAI), "serve", "--port", str(port)], env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
                 for port, log in zip(ports, logs, strict=True)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process, port in zip(urls, processes, ports, strict=True):
            wait_for(url, process, tmp_path / f"server-{port}.log")
        yield urls[0], urls[1], {"Authorization": f"Bearer {token}"}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        for log in logs:
            log.close()


def test_a_record_written_on_one_server_is_read_found_and_counted_on_the_other(
        servers: tuple[str, str, dict[str, str]]) -> None:
    one, two, curator = servers
    before = httpx.get(f"{two}/.json").json()
    made = httpx.post(f"{one}/api/strain", headers=curator, json={
        **ZOBELLIA, "strain_designation": "KMM 3526"})
    assert made.status_code == 201, made.text
    accession = made.json()["accession"]
    read = httpx.get(f"{two}/api/records/{accession}")
    assert read.status_code == 200 and read.json()["fields"]["strain_designation"] == \
        "KMM 3526"
    found = httpx.get(f"{two}/api/search", params={"q": "KMM 3526"}).json()
    assert [hit["accession"] for hit in found["items"]] == [accession]
    assert httpx.get(f"{two}/api/stats").json()["counts"]["strain"] == 1
    counts = {t["key"]: t["count"] for t in httpx.get(f"{two}/.json").json()["targets"]}
    assert {t["key"]: t["count"] for t in before["targets"]}["strains"] == 0
    assert counts["strains"] == 1  # the other server's dashboard counts it at once
    changed = httpx.put(f"{two}/api/strain/{accession}", headers={
        **curator, "If-Match": read.headers["etag"]}, json={
        **ZOBELLIA, "strain_designation": "KMM 3526T"})
    assert changed.status_code == 200, changed.text
    assert httpx.get(f"{one}/api/search", params={"q": "3526T"}).json()["items"][0][
        "accession"] == accession
    sample = httpx.post(f"{one}/api/sample", headers=curator, json=SAMPLE)
    assert sample.status_code == 201, sample.text
    assert httpx.get(f"{two}/api/stats").json()["counts"]["sample"] == 1
    counts = {t["key"]: t["count"] for t in httpx.get(f"{two}/.json").json()["targets"]}
    assert counts["samples"] == 1 and counts["strains"] == 1


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match[1]


def test_a_session_started_on_one_server_works_on_the_other(
        servers: tuple[str, str, dict[str, str]]) -> None:
    one, two, _ = servers
    with httpx.Client(base_url=one) as first:
        token = csrf_of(first.get("/signin").text)
        signed = first.post("/signin", data={"username": "ana", "password": PASSWORD,
                                             "csrf": token, "next": "/account"})
        assert signed.status_code == 303, signed.text
        cookies = dict(first.cookies)
    with httpx.Client(base_url=two, cookies=cookies) as second:
        account = second.get("/account")
        assert account.status_code == 200 and "ana" in account.text
        form = csrf_of(account.text)  # a form of one server posts to the other
        out = second.post("/signout", data={"csrf": form})
        assert out.status_code == 303, out.text
    with httpx.Client(base_url=one, cookies=cookies) as first_again:
        assert first_again.get("/account").status_code in (303, 401)  # signed out everywhere


def test_a_job_started_on_one_server_is_followed_on_the_other(
        servers: tuple[str, str, dict[str, str]]) -> None:
    one, two, curator = servers
    made = httpx.post(f"{one}/api/assembly", headers=curator, json=REGION)
    assert made.status_code == 201, made.text
    accession = made.json()["accession"]
    sent = httpx.post(f"{one}/api/assemblies/{accession}/sequences", headers=curator,
                      files={"file": (PROTEOME.name, PROTEOME.read_bytes())},
                      data={"kind": "proteome", "allow_stops": "true"})
    assert sent.status_code == 201, sent.text
    started = httpx.post(f"{one}/api/assemblies/{accession}/annotate", headers=curator,
                         json={"packs": ["sus"], "steps": ["families"], "index": False})
    assert started.status_code == 202, started.text
    job: dict[str, Any] = {}
    deadline = time.monotonic() + 300
    while job.get("status") not in ("done", "failed"):
        assert time.monotonic() < deadline
        answer = httpx.get(f"{two}/api/jobs/{started.json()['id']}", headers=curator)
        assert answer.status_code == 200, answer.text
        job = answer.json()
        time.sleep(0.3)
    assert job["status"] == "done", job
    assert [j["id"] for j in httpx.get(f"{two}/api/jobs", headers=curator).json()["jobs"]] \
        == [started.json()["id"]]
    families = httpx.get(f"{two}/api/assemblies/{accession}/annotations/families")
    assert families.status_code == 200 and families.json()


def test_servers_starting_together_agree_on_one_session_key(tmp_path: Path) -> None:
    key = tmp_path / "data" / "web-secret.key"
    code = ("import sys; from pathlib import Path; from lanhai.store.keys import "
            "load_or_create; print(load_or_create(Path(sys.argv[1])).decode())")
    starts = [subprocess.Popen([sys.executable, "-c", code, str(key)], stdout=subprocess.PIPE,
                               text=True) for _ in range(8)]
    keys = {process.communicate(timeout=120)[0].strip() for process in starts}
    assert len(keys) == 1 and keys == {key.read_text().strip()}
    assert len(keys.pop()) == 64
    assert [p.name for p in key.parent.iterdir()] == ["web-secret.key"]  # no partial left
    assert key.stat().st_mode & 0o777 == 0o600


def test_one_command_serves_with_several_processes(bank_url: str, tmp_path: Path) -> None:
    """`lanhai serve --workers 2`: two processes answer on one address, the same bank."""
    import psutil

    env, token = initialised(bank_url, tmp_path)
    curator = {"Authorization": f"Bearer {token}"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen([str(LANHAI), "serve", "--port", str(port), "--workers",
                                    "2", "--json"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            wait_for(url, process, tmp_path / "server.log")
            workers = [p for p in psutil.Process(process.pid).children(recursive=True)
                       if "python" in p.name().lower() or "lanhai" in " ".join(p.cmdline())]
            assert len(workers) >= 2, [p.cmdline() for p in workers]
            made = httpx.post(f"{url}/api/strain", headers=curator, json={
                **ZOBELLIA, "strain_designation": "KMM 3526"})
            assert made.status_code == 201, made.text
            accession = made.json()["accession"]
            with httpx.Client(base_url=url) as client:  # new connections: either process
                for _ in range(20):
                    answer = client.get(f"/api/records/{accession}",
                                        headers={"Connection": "close"})
                    assert answer.status_code == 200
                    assert answer.json()["fields"]["strain_designation"] == "KMM 3526"
        finally:
            process.terminate()
            process.wait(timeout=30)
    _, alive = psutil.wait_procs(workers, timeout=30)  # the workers stop with the server
    assert alive == []
    first, _ = json.JSONDecoder().raw_decode((tmp_path / "server.log").read_text())
    assert first["workers"] == 2 and first["url"] == url
