"""Assemblies in S3-compatible object storage (``LANHAI_STORAGE_URL=s3://bucket/prefix``),
against a real S3 server: moto's, the one CI starts (``LANHAI_TEST_S3_ENDPOINT``) or one
started here.

An operator points the bank at a bucket and gets the same results a local run writes, read
back by any other machine; two servers on one catalogue and one bucket answer alike; storage
that refuses writes gives a clear error, shows nothing half-written and the next run
succeeds; a Dask cluster whose workers share no folder with the client writes the same rows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lanhai.db.engine import make_engine, migrate
from lanhai.errors import UsageError
from lanhai.services.sequences import SequenceService
from lanhai.store.remote import RemoteStorage, StorageUnavailable
from lanhai.store.sequences import SequenceStore, open_store
from tests.support import bank_on
from tests.support.cluster import DASK, dask_cluster, result_files
from tests.support.sequences import (
    ANNOTATOR,
    DOKDONENSIS,
    FORSETII,
    GENBANK,
    LITORALIS,
    PROTEOME,
    REGION,
    fasta,
    records,
)
from tests.support.storage import CREDENTIALS, MOTO, RefusingProxy, moto_server, new_bucket

pytestmark = pytest.mark.skipif(not MOTO.exists(), reason="moto_server is not installed")
PACKS = ["cazy", "sus"]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """The S3 server's endpoint: CI's, else one started for these tests."""
    given = os.environ.get("LANHAI_TEST_S3_ENDPOINT", "")
    if given:
        yield given
        return
    with moto_server() as started:
        yield started


@pytest.fixture
def storage(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A storage URL in a fresh bucket; the storage's client finds the server and its
    credentials in the usual AWS variables."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    return f"s3://{new_bucket(endpoint)}/bank"


def new_bank(folder: Path, storage: str = "", scheduler: str = "",
             database: str = "sqlite://") -> SequenceService:
    engine = make_engine(database)
    migrate(engine)
    return bank_on(engine, folder, storage_url=storage, dask_scheduler=scheduler).sequences


def add(service: SequenceService, name: str, path: Path, kind: str = "genome") -> str:
    record = service.catalog.create(ANNOTATOR, "assembly", {**REGION, "assembly_name": name})
    service.ingest(ANNOTATOR, record.accession, path, kind=kind, allow_stops=True)
    return record.accession


def fetched(storage: str, folder: Path, accessions: list[str]) -> dict[str, bytes]:
    """What another machine reads from the storage: a fresh cache, filled by reading."""
    store = SequenceStore(folder, RemoteStorage(storage))
    for accession in accessions:
        store.refresh(accession)
    return result_files(folder)


def keys(storage: str) -> list[str]:
    remote = RemoteStorage(storage)
    return sorted(str(k)[len(remote.root) + 1:] for k in remote.fs.find(remote.root))


def test_a_bank_on_object_storage_keeps_what_a_local_run_writes(
        tmp_path: Path, storage: str) -> None:
    results = {}
    for name, url in (("local", ""), ("storage", storage)):
        service = new_bank(tmp_path / name, url)
        accessions = [add(service, "BGC0001866 region", GENBANK),
                      add(service, "Maribacter Hel I 7 slice", PROTEOME, kind="proteome")]
        report = service.annotate(ANNOTATOR, accessions, pack_names=PACKS, jobs=2)
        assert report["failed"] == [] and report["jobs"] == 2
        assert [a["status"] for a in report["assemblies"]] == ["done"] * 2
        results[name] = (accessions, [service.catalog.get(ANNOTATOR, a).fields
                                      for a in accessions], service)
    local_files = result_files(results["local"][2].store.root)
    accessions = results["storage"][0]
    assert results["storage"][1] == results["local"][1]  # the catalogue summaries
    elsewhere = fetched(storage, tmp_path / "elsewhere", accessions)
    assert sorted(elsewhere) == sorted(local_files)
    assert [k for k in local_files if local_files[k] != elsewhere[k]] == []  # byte for byte
    assert any(k.endswith("annotation/hits.parquet") for k in elsewhere)

    stored = keys(storage)
    genome, proteome = accessions
    assert {f"assemblies/{genome}/{unit}.json" for unit in
            ("sequences", "genes", "annotation", "clusters")} <= set(stored)
    assert f"assemblies/{proteome}/genes.json" not in stored  # its proteins were given
    pointer = json.loads(RemoteStorage(storage).fs.cat_file(
        f"{RemoteStorage(storage).root}/assemblies/{genome}/annotation.json"))
    assert sorted(pointer["files"]) == ["annotation.done.json", "annotation/hits.parquet",
                                        "annotation/loci.parquet"]
    # every object belongs to the attempt its pointer names: nothing left over
    attempts = {k.split("/")[2] for k in stored if k.startswith("objects/")}
    named = {json.loads(RemoteStorage(storage).fs.cat_file(
        f"{RemoteStorage(storage).root}/{k}"))["attempt"] for k in stored
        if k.startswith("assemblies/")}
    assert attempts == named

    # the same command again changes nothing
    service = results["storage"][2]
    again = service.annotate(ANNOTATOR, accessions, pack_names=PACKS)
    assert {a["status"] for a in again["assemblies"]} == {"already done"}
    assert keys(storage) == stored


def test_two_servers_on_one_catalogue_and_one_bucket_answer_alike(
        tmp_path: Path, storage: str) -> None:
    database = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    first = new_bank(tmp_path / "server-1", storage, database=database)
    second = new_bank(tmp_path / "server-2", storage, database=database)
    accession = add(first, "Maribacter Hel I 7 slice", PROTEOME, kind="proteome")

    # the second server indexes the proteins it reads from the bucket and finds them
    engine = make_engine(database)
    searcher = bank_on(engine, tmp_path / "server-2", storage_url=storage).sequence_search
    searcher.update_index([accession])
    query = records(PROTEOME)[:3]
    found = searcher.search(ANNOTATOR, fasta(query), max_hits=5)
    assert {h["query"]: h["target"] for h in found["hits"] if h["identity"] == 1.0} == {
        ident: ident for ident, _ in query}
    assert second.store.table_path(accession, "hits") is None
    first.annotate(ANNOTATOR, [accession], pack_names=PACKS)
    second.store._checked.clear()  # its next read looks at the storage again
    assert second.families(ANNOTATOR, accession) == first.families(ANNOTATOR, accession)
    assert second.substrates(ANNOTATOR, accession) == first.substrates(ANNOTATOR, accession)
    assert list(second.hit_tsv(ANNOTATOR, accession)) == list(
        first.hit_tsv(ANNOTATOR, accession))
    assert second.store.with_sequences() == {accession}

    # the second server replaces the sequences: the first sees the new ones and no old hits
    second.ingest(ANNOTATOR, accession, GENBANK, kind="genome", replace=True,
                  allow_stops=True)
    first.store._checked.clear()
    assert (first.store.manifest(accession) or {})["kind"] == "genome"
    assert first.store.table_path(accession, "hits") is None
    assert not (first.store.folder(accession) / "annotation.done.json").exists()


def test_storage_that_refuses_writes(tmp_path: Path, endpoint: str, storage: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    reference = new_bank(tmp_path / "reference")
    [expected] = [add(reference, "Maribacter", PROTEOME, kind="proteome")]
    reference.annotate(ANNOTATOR, [expected], pack_names=PACKS)
    with RefusingProxy(endpoint) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        service = new_bank(tmp_path / "bank", storage)
        accession = add(service, "Maribacter", PROTEOME, kind="proteome")
        before = keys(storage)

        # the step's files go up, then its pointer is refused: nothing of it is visible
        proxy.refuse = lambda method, path: path.endswith("/annotation.json")
        report = service.annotate(ANNOTATOR, [accession], pack_names=PACKS)
        [problem] = report["failed"]
        assert "refused writing" in problem["reason"] and "Access Denied" in problem["reason"]
        assert "run the command again" in problem["reason"]
        assert keys(storage) == before  # the attempt's files were removed again
        assert service.store.step_done(accession, "annotation") is None
        assert "hit_count" not in service.catalog.get(ANNOTATOR, accession).fields

        # every write refused, even the clean-up: a clear error, still nothing visible
        proxy.refuse = lambda method, path: True
        report = service.annotate(ANNOTATOR, [accession], pack_names=PACKS)
        assert "refused writing" in report["failed"][0]["reason"]
        elsewhere = fetched(storage, tmp_path / "elsewhere", [accession])
        assert not any("annotation" in k for k in elsewhere)
        with pytest.raises(StorageUnavailable, match="refused writing"):
            service.ingest(ANNOTATOR, add_record(service), PROTEOME, kind="proteome",
                           allow_stops=True)

        # the storage accepts writes again: the same command finishes the work
        proxy.refuse = lambda method, path: False
        report = service.annotate(ANNOTATOR, [accession], pack_names=PACKS)
        assert report["failed"] == [] and report["assemblies"][0]["status"] == "done"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    ours = fetched(storage, tmp_path / "after", [accession])
    theirs = result_files(reference.store.root)
    rename = {expected: accession}
    theirs = {"/".join([rename.get(k.split("/")[0], k.split("/")[0]), *k.split("/")[1:]]): v
              for k, v in theirs.items()}
    assert {k: v for k, v in ours.items() if "annotation" in k} == \
        {k: v for k, v in theirs.items() if "annotation" in k}


def add_record(service: SequenceService) -> str:
    return service.catalog.create(ANNOTATOR, "assembly",
                                  {**REGION, "assembly_name": "another"}).accession


def test_a_storage_url_that_is_a_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be a URL such as s3://bucket/prefix"):
        open_store(tmp_path, "/srv/bank")


def test_an_unreachable_storage_is_a_clear_error(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    store = open_store(tmp_path, "s3://nowhere/bank")
    with pytest.raises(StorageUnavailable, match=r"the storage s3://nowhere/bank refused "
                                                 r"reading LHA1: .*run the command again"):
        store.manifest("LHA1")


@pytest.mark.skipif(not DASK.exists(), reason="the dask command is not installed")
def test_a_cluster_without_a_shared_folder_writes_the_same_rows(
        tmp_path: Path, endpoint: str, storage: str) -> None:
    """Workers that share no folder with the client (each caches under its own
    LANHAI_CACHE_DIR) read the inputs from the bucket and publish their results there."""
    given = os.environ.get("LANHAI_TEST_DASK_SCHEDULER", "")
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint,
           "LANHAI_CACHE_DIR": str(tmp_path / "worker-cache")}
    local = new_bank(tmp_path / "local")
    reference = [add(local, "BGC0001866 region", GENBANK),
                 add(local, "Maribacter", PROTEOME, kind="proteome")]
    local.annotate(ANNOTATOR, reference, pack_names=PACKS)
    if given and os.environ.get("LANHAI_TEST_S3_ENDPOINT"):
        address = given  # CI's workers were started with the storage's variables
        run = _annotate_on(address, tmp_path, storage)
    else:
        with dask_cluster(tmp_path / "dask", env=env) as address:
            run = _annotate_on(address, tmp_path, storage)
    accessions, report = run
    assert report["failed"] == [] and report["cluster"] == address
    # the client's own cache holds none of the workers' results: they came through the bucket
    assert not list((tmp_path / "client" / "assemblies").rglob("hits.parquet"))
    ours = fetched(storage, tmp_path / "elsewhere", accessions)
    theirs = result_files(local.store.root)
    assert sorted(ours) == sorted(theirs)
    assert [k for k in theirs if theirs[k] != ours[k]] == []


def _annotate_on(address: str, tmp_path: Path, storage: str
                 ) -> tuple[list[str], dict[str, object]]:
    service = new_bank(tmp_path / "client", storage, address)
    accessions = [add(service, "BGC0001866 region", GENBANK),
                  add(service, "Maribacter", PROTEOME, kind="proteome")]
    report = service.annotate(ANNOTATOR, accessions, pack_names=PACKS)
    return accessions, report


def test_a_search_on_workers_sharing_no_folder(
        tmp_path: Path, endpoint: str, storage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each index segment is searched on a worker that fetches it from the bucket into its
    own cache: the same hits, e-values and lineage as a search here; a segment a compaction
    replaced leaves the bucket with its local copy."""
    from lanhai.search.mmseqs import MMseqs
    from lanhai.services.sequence_search import SequenceSearch
    from lanhai.store import seq_index

    given = os.environ.get("LANHAI_TEST_DASK_SCHEDULER", "")
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint,
           "LANHAI_CACHE_DIR": str(tmp_path / "worker-cache")}
    engine = make_engine("sqlite://")
    migrate(engine)
    bank = bank_on(engine, tmp_path / "client", storage_url=storage)
    bank_catalog, layout = bank.catalog, bank.layout
    accessions = [add(bank.sequences, path.name, path, kind="proteome")
                  for path in (DOKDONENSIS, FORSETII, LITORALIS)]
    local = SequenceSearch(bank_catalog, layout, mmseqs=MMseqs(threads=1))
    for accession in accessions:  # one segment each
        local.update_index([accession])
    segments = [s["name"] for s in local.index_status("proteins")["segments"]]
    assert len(segments) == 3
    query = fasta(records(DOKDONENSIS)[:5] + records(LITORALIS)[:3])
    here = local.search(ANNOTATOR, query, max_hits=50)

    def on(address: str) -> dict[str, object]:
        distributed = SequenceSearch(bank_catalog, layout, mmseqs=MMseqs(threads=1),
                                     scheduler=address, cluster_min_residues=0)
        return distributed.search(ANNOTATOR, query, max_hits=50)

    if given and os.environ.get("LANHAI_TEST_S3_ENDPOINT"):
        address = given  # CI's workers were started with the storage's variables
        there = on(address)
    else:
        with dask_cluster(tmp_path / "dask", env=env) as address:
            there = on(address)
    assert there["index"].pop("cluster") == address  # type: ignore[attr-defined]
    assert len(here["hits"]) > 8 and there == here
    # the segments went through the bucket; the client holds no worker's copy
    stored = keys(storage)
    assert {k.split("/")[2] for k in stored if k.startswith("indexes/proteins/")} == \
        set(segments)
    assert not (tmp_path / "client" / "search-cache").exists()
    if not given:  # the workers started here: their cache holds the three segments
        cached = (tmp_path / "worker-cache").rglob("search-cache/proteins/seg-*")
        assert sorted(p.name for p in cached) == sorted(segments)
    # a rebuild replaces the three; once past their grace, the old copies leave the bucket
    monkeypatch.setattr(seq_index, "GRACE_SECONDS", 0.0)
    assert sorted(local.rebuild_index("proteins")["replaced"]) == sorted(segments)
    local.update_index()  # a later writer removes retired segments
    left = {k.split("/")[2] for k in keys(storage) if k.startswith("indexes/proteins/")}
    assert left.isdisjoint(segments)


def test_a_worker_without_credentials_is_refused(tmp_path: Path, storage: str) -> None:
    if not DASK.exists():
        pytest.skip("the dask command is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # a storage it cannot reach
    env["AWS_MAX_ATTEMPTS"] = "1"
    with dask_cluster(tmp_path / "dask", workers=1, env=env) as address:
        service = new_bank(tmp_path / "client", storage, address)
        accession = add(service, "Maribacter", PROTEOME, kind="proteome")
        with pytest.raises(UsageError, match=r"cannot read the bank's sequence store at "
                                             r"s3://.*refused reading the client's probe"):
            service.annotate(ANNOTATOR, [accession], pack_names=PACKS)


def test_doctor_checks_the_storage_and_clean_removes_abandoned_attempts(
        tmp_path: Path, storage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from lanhai.services import maintenance
    from lanhai.services.access import LOCAL_ADMIN

    engine = make_engine(f"sqlite:///{tmp_path / 'bank.sqlite'}")
    migrate(engine)
    bank = bank_on(engine, tmp_path / "bank", storage_url=storage)
    accession = add(bank.sequences, "Maribacter", PROTEOME, kind="proteome")
    [check] = [c for c in bank.maintenance.report(LOCAL_ADMIN)["checks"]
               if c["check"] == "storage"]
    assert check["status"] == "ok" and storage in check["message"]

    # a writer that died after uploading its files, before its pointer
    remote = RemoteStorage(storage)
    remote.fs.pipe_file(f"{remote.root}/objects/{accession}/0dead/annotation/hits.parquet",
                        b"x" * 100)
    assert bank.maintenance.clean(LOCAL_ADMIN)["cleaned"] == []  # it may still be uploading
    monkeypatch.setattr(maintenance, "ABANDONED_ATTEMPT_AGE", 0)
    dry = bank.maintenance.clean(LOCAL_ADMIN, dry_run=True)
    assert [(c["path"], c["result"], c["size"]) for c in dry["cleaned"]] == [
        (f"{storage}/objects/{accession}/0dead", "would remove", 100)]
    done = bank.maintenance.clean(LOCAL_ADMIN)
    assert [c["result"] for c in done["cleaned"]] == ["removed"]
    assert not any("0dead" in k for k in keys(storage))
    assert bank.sequences.store.manifest(accession) is not None  # the live data is kept

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    [check] = [c for c in bank.maintenance.report(LOCAL_ADMIN)["checks"]
               if c["check"] == "storage"]
    assert check["status"] == "problem" and "refused writing a probe file" in check["message"]
