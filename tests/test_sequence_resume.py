"""Gene calling across assemblies: injected executors, a process pool, and resuming an
interrupted run (only unfinished assemblies are redone). Runs on each catalog backend."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from lanhai.errors import NotFound
from lanhai.services.sequences import SequenceService
from lanhai.store.sequences import SequenceStore
from tests.support import bank_on, catalog_on
from tests.support.sequences import ANNOTATOR as CURATOR
from tests.support.sequences import KK037166, PYRODIGAL_DATA, SRR492066, FailingExecutor, stored

GENOMES = {"KK037166": KK037166, "SRR492066": SRR492066,
           "MIIJ01000039": PYRODIGAL_DATA / "MIIJ01000039.fna.gz"}


def make_bank(engine: Engine, data_dir: Path) -> tuple[SequenceService, list[str]]:
    catalog = catalog_on(engine)
    service = bank_on(engine, data_dir).sequences
    accessions = []
    for name, path in GENOMES.items():
        record = catalog.create(CURATOR, "assembly", {
            "assembly_name": name, "assembly_type": "metagenome",
            "seq_meth": "Illumina", "assembly_software": "SPAdes"})
        service.ingest(CURATOR, record.accession, path)
        accessions.append(record.accession)
    return service, accessions


def test_interrupted_run_resumes_only_unfinished(engine: Engine, tmp_path: Path) -> None:
    service, accs = make_bank(engine, tmp_path)
    first = FailingExecutor(failing=accs[1])
    report = service.annotate(CURATOR, accs, jobs=2, executor=first, steps=["genes"])
    statuses = {a["accession"]: a["status"] for a in report["assemblies"]}
    assert statuses == {accs[0]: "done", accs[1]: "failed", accs[2]: "done"}
    assert [p["record"] for p in report["failed"]] == [accs[1]]
    assert "lanhai annotate" in report["failed"][0]["fix"]
    store = stored(tmp_path)
    assert store.genes_done(accs[1]) is None
    finished = {a: os.stat(store.folder(a) / "genes.done.json").st_mtime_ns
                for a in (accs[0], accs[2])}

    again = FailingExecutor(failing="none")
    report = service.annotate(CURATOR, accs, jobs=2, executor=again, steps=["genes"])
    assert again.ran == [accs[1]]  # only the unfinished assembly is redone
    statuses = {a["accession"]: a["status"] for a in report["assemblies"]}
    assert statuses == {accs[0]: "already done", accs[1]: "done", accs[2]: "already done"}
    assert {a: os.stat(store.folder(a) / "genes.done.json").st_mtime_ns
            for a in (accs[0], accs[2])} == finished
    catalog = catalog_on(engine)
    counts = [catalog.get(CURATOR, a).fields.get("gene_count") for a in accs]
    # `zcat GENOME.meta.faa.gz | grep -c '>'` on Prodigal's outputs (pyrodigal test data)
    assert counts == [19, 70, 381]

    # re-running a finished set is idempotent: nothing runs, nothing changes
    versions = [catalog.get(CURATOR, a).version for a in accs]
    idle = FailingExecutor(failing="none")
    service.annotate(CURATOR, accs, executor=idle, steps=["genes"])
    assert idle.ran == []
    assert [catalog.get(CURATOR, a).version for a in accs] == versions


def test_killed_before_the_marker_is_redone(engine: Engine, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    service, accs = make_bank(engine, tmp_path)
    real = SequenceStore.mark_genes_done

    def killed(self: SequenceStore, accession: str, marker: Any) -> None:
        if accession == accs[2]:
            raise KeyboardInterrupt  # the process dies after the tables, before the marker
        real(self, accession, marker)

    monkeypatch.setattr(SequenceStore, "mark_genes_done", killed)
    with pytest.raises(KeyboardInterrupt):
        service.annotate(CURATOR, accs, jobs=1, steps=["genes"])
    store = stored(tmp_path)
    assert store.genes_done(accs[2]) is None
    monkeypatch.setattr(SequenceStore, "mark_genes_done", real)
    with pytest.raises(NotFound):  # the unmarked genes are not readable
        next(service.rows(CURATOR, accs[2], "genes"))
    report = service.annotate(CURATOR, accs, jobs=1, steps=["genes"])
    assert [a["status"] for a in report["assemblies"]] == ["already done", "already done",
                                                           "done"]


def test_process_pool_across_assemblies(engine: Engine, tmp_path: Path) -> None:
    service, accs = make_bank(engine, tmp_path)
    ticks: list[tuple[int, int, str]] = []
    report = service.annotate(CURATOR, accs, jobs=2, threads=1, steps=["genes"],
                              progress=lambda d, t, a: ticks.append((d, t, a)))
    assert report["failed"] == [] and report["jobs"] == 2
    assert sorted(t[2] for t in ticks) == sorted(accs) and ticks[-1][:2] == (3, 3)
    rows = list(service.rows(CURATOR, accs[1], "genes"))
    assert len(rows) == report["assemblies"][1]["gene_count"]
