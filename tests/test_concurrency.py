"""Concurrent writers never lose a confirmed change.

Six curators change different fields of one sample at the same time, through the service
every adapter calls; when they are done, each field holds the last value its writer was told
was saved, and the record's version counts every confirmed change. Curators restricting
records while others edit them never see a restriction undone. A writer that names the
version it read is refused (409) once the record has moved on, with the current version.
Run on a SQLite file (several connections, as under a server) and on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine

from lanhai.errors import Busy, StaleVersion
from lanhai.services.access import Actor
from lanhai.services.catalog import CatalogService
from tests.support import CURATOR, SAMPLE, add_token, catalog_on, create_user, make_client

#: one field per writer, and the value it writes the n-th time
WRITERS: dict[str, Callable[[int], Any]] = {
    "temp": lambda n: float(n),
    "salinity": lambda n: float(n) + 0.5,
    "samp_collect_device": lambda n: f"Niskin bottle {n}",
    "size_frac": lambda n: f"0.{n}-3 um",
    "isolation_source": lambda n: f"surface water, cast {n}",
    "project_name": lambda n: f"Ocean Sampling Day {n}",
}
ROUNDS = 60


def _curator(i: int) -> Actor:
    return Actor(f"curator-{i}", "curator")


def _hammer(jobs: list[Callable[[], None]]) -> None:
    """Run the jobs on their own threads, all started together; re-raise the first error."""
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], None]) -> None:
        start.wait()
        job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        for future in [pool.submit(run, job) for job in jobs]:
            future.result()


def test_writers_of_different_fields_lose_nothing(shared_engine: Engine) -> None:
    catalog = catalog_on(shared_engine)
    accession = catalog.create(CURATOR, "sample", SAMPLE).accession
    confirmed: dict[str, Any] = {}
    retried: list[int] = []

    def writer(i: int, name: str) -> Callable[[], None]:
        def job() -> None:
            service = CatalogService(catalog.db)
            for n in range(1, ROUNDS + 1):
                value = WRITERS[name](n)
                while True:
                    try:
                        saved = service.update(_curator(i), accession, {name: value})
                        break
                    except Busy:  # a clear "try again", never an error
                        retried.append(i)
                assert saved.fields[name] == value
                confirmed[name] = value
        return job

    _hammer([writer(i, name) for i, name in enumerate(WRITERS)])
    record = catalog.get(CURATOR, accession)
    assert {name: record.fields[name] for name in WRITERS} == confirmed
    assert record.version == 1 + len(WRITERS) * ROUNDS  # every confirmed change counted
    history = catalog.history(CURATOR, accession)
    assert [v.version for v in history] == list(range(1, record.version + 1))
    for name in WRITERS:  # each writer's changes in its order, none skipped
        seen = [v.changes[name][1] for v in history[1:] if name in v.changes]
        assert seen == [WRITERS[name](n) for n in range(1, ROUNDS + 1)]


def test_restrictions_are_never_undone_by_a_concurrent_edit(shared_engine: Engine) -> None:
    catalog = catalog_on(shared_engine)
    accessions = [catalog.create(CURATOR, "sample", {**SAMPLE, "samp_name": f"OSD {i}"}
                                 ).accession for i in range(20)]

    def restrict() -> None:
        for accession in accessions:
            catalog.update(_curator(1), accession, {"restricted": "yes"})

    def edit(i: int) -> Callable[[], None]:
        def job() -> None:
            for n in range(3):
                for accession in accessions:
                    catalog.update(_curator(i), accession,
                                   {"samp_collect_device": f"CTD rosette {i}.{n}"})
        return job

    _hammer([restrict, edit(2), edit(3)])
    for accession in accessions:
        record = catalog.get(CURATOR, accession)
        assert record.restricted, accession
        assert record.version == 1 + 1 + 2 * 3


def test_a_change_to_a_version_that_moved_on_is_refused(shared_engine: Engine) -> None:
    catalog = catalog_on(shared_engine)
    record = catalog.create(CURATOR, "sample", SAMPLE)
    catalog.update(_curator(1), record.accession, {"temp": "12.5"}, expected_version=1)
    with pytest.raises(StaleVersion) as refused:
        catalog.update(_curator(2), record.accession, {"temp": "13"}, expected_version=1)
    assert refused.value.current == 2
    assert catalog.get(CURATOR, record.accession).fields["temp"] == 12.5


def test_the_api_takes_if_match_and_answers_409_with_the_current_version(
        shared_engine: Engine) -> None:
    create_user(shared_engine, "ana", "curator")
    auth = {"Authorization": f"Bearer {add_token(shared_engine, 'ana')}"}
    client = make_client(shared_engine)
    made = client.post("/api/samples", json=SAMPLE, headers=auth)
    path = made.headers["Location"]
    assert made.headers["ETag"] == '"1"'
    read = client.get(path)
    assert read.headers["ETag"] == '"1"'
    first = client.patch(path, json={"temp": 12.5}, headers={**auth, "If-Match": '"1"'})
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    late = client.patch(path, json={"temp": 13}, headers={**auth, "If-Match": '"1"'})
    assert late.status_code == 409
    assert late.headers["ETag"] == '"2"'
    error = late.json()["error"]
    assert error["code"] == "stale_version" and error["current_version"] == 2
    assert "version 2" in error["message"]
    assert client.get(path).json()["fields"]["temp"] == 12.5
    # without If-Match a patch changes just its fields on the current version
    assert client.patch(path, json={"salinity": 35}, headers=auth).headers["ETag"] == '"3"'
    bad = client.patch(path, json={"temp": 1}, headers={**auth, "If-Match": "yesterday"})
    assert bad.status_code == 400 and "If-Match" in bad.json()["error"]["message"]


def test_a_bank_wide_lock_admits_one_holder_at_a_time(shared_engine: Engine) -> None:
    """What two server processes share (the market's notification sweep) runs in one of
    them at a time: two engines on one database stand for two processes."""
    import time

    from lanhai.db.engine import make_engine
    from lanhai.store.database import Database

    url = shared_engine.url.render_as_string(hide_password=False)
    one, two = Database(url, shared_engine), Database(url, make_engine(url))
    order: list[str] = []
    entered = threading.Event()

    def first() -> None:
        with one.exclusive("market notification sweep"):
            order.append("one in")
            entered.set()
            time.sleep(0.5)
            order.append("one out")

    try:
        holder = threading.Thread(target=first)
        holder.start()
        assert entered.wait(10)
        with two.exclusive("market notification sweep"):
            order.append("two in")
        holder.join()
        assert order == ["one in", "one out", "two in"]
        with one.exclusive("market notification sweep"), two.exclusive("another lock"):
            pass  # another name is another lock
    finally:
        two.engine.dispose()
