"""A large metagenome's genes are called in contig batches, one task each, then joined: the
same files as one task, batches that finished are not redone, and the other steps follow.

Data: four real contigs from pyrodigal's test data (Prodigal's test genomes) as one
metagenome; a batch size of 50 kb makes each contig its own batch.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from lanhai.services.sequences import SequenceService
from tests.support import bank_on
from tests.support.sequences import ANNOTATOR, PYRODIGAL_DATA, sus_pack

CONTIGS = ["KK037166", "SRR492066", "MIIJ01000039", "GCF_001457455.1_NCTC11397_genomic_100kb"]
#: genes Prodigal finds in metagenomic mode (`zcat X.meta.faa.gz | grep -c '>'`, pyrodigal's
#: test data) on the first three
PRODIGAL_GENES = {"KK037166": 19, "SRR492066": 70, "MIIJ01000039": 381}


def metagenome(folder: Path) -> Path:
    path = folder / "metagenome.fna"
    with path.open("w") as out:
        for name in CONTIGS:
            with gzip.open(PYRODIGAL_DATA / f"{name}.fna.gz", "rt") as contig:
                out.write(contig.read())
    return path


def new_bank(engine: Engine, folder: Path, fasta: Path) -> tuple[SequenceService, str]:
    bank = bank_on(engine, folder)
    record = bank.catalog.create(ANNOTATOR, "assembly", {
        "assembly_name": f"four contigs ({folder.name})", "assembly_type": "metagenome",
        "seq_meth": "Illumina", "assembly_software": "SPAdes"})
    bank.sequences.ingest(ANNOTATOR, record.accession, fasta)
    return bank.sequences, record.accession


def gene_files(service: SequenceService, accession: str) -> dict[str, bytes]:
    folder = service.store.folder(accession)
    marker = json.loads((folder / "genes.done.json").read_text())
    marker.pop("finished_at")
    return {"genes.parquet": (folder / "genes" / "genes.parquet").read_bytes(),
            "proteins.parquet": (folder / "genes" / "proteins.parquet").read_bytes(),
            "marker": json.dumps(marker, sort_keys=True).encode()}


class Recording(Executor):
    """Runs tasks inline and records them; the batch numbered ``failing`` raises."""

    def __init__(self, failing: int | str | None = None) -> None:
        self.failing = failing  # a batch's number, or the name of a task that fails
        self.ran: list[tuple[str, Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self.ran.append((fn.__name__, args[2] if fn.__name__ == "call_gene_batch" else None))
        if fn.__name__ == self.failing or (
                fn.__name__ == "call_gene_batch" and args[2] == self.failing):
            future.set_exception(RuntimeError("worker lost"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future


def test_batches_write_the_files_of_one_task(engine: Engine, tmp_path: Path) -> None:
    fasta = metagenome(tmp_path)
    whole, acc = new_bank(engine, tmp_path / "whole", fasta)
    whole.annotate(ANNOTATOR, [acc], steps=["genes"])
    split, acc2 = new_bank(engine, tmp_path / "split", fasta)
    running = Recording()
    report = split.annotate(ANNOTATOR, [acc2], steps=["genes"], batch_bases=50_000,
                            executor=running)
    assert [name for name, _ in running.ran] == ["call_gene_batch"] * 4 + [
        "join_gene_batches"]
    [item] = report["assemblies"]
    assert item["status"] == "done" and item["mode"] == "meta"
    assert gene_files(split, acc2) == gene_files(whole, acc)  # byte for byte
    assert not (split.store.folder(acc2) / "genes-parts").exists()  # batches joined, gone
    counts: dict[str, int] = {}
    for row in split.rows(ANNOTATOR, acc2, "genes"):
        counts[row["contig"]] = counts.get(row["contig"], 0) + 1
    assert list(counts.values())[:3] == list(PRODIGAL_GENES.values())  # contig order
    assert split.catalog.get(ANNOTATOR, acc2).fields["gene_count"] == item["gene_count"]


def test_a_lost_batch_is_the_only_one_redone(engine: Engine, tmp_path: Path) -> None:
    fasta = metagenome(tmp_path)
    whole, acc = new_bank(engine, tmp_path / "whole", fasta)
    whole.annotate(ANNOTATOR, [acc], steps=["genes", "families"], packs=[sus_pack()])
    split, acc2 = new_bank(engine, tmp_path / "split", fasta)
    first = Recording(failing=1)
    report = split.annotate(ANNOTATOR, [acc2], steps=["genes", "families"],
                            packs=[sus_pack()], batch_bases=50_000, executor=first)
    [item] = report["assemblies"]
    assert item["status"] == "failed" and "worker lost" in item["error"]
    assert item["steps"] == {"genes": "not finished", "families": "not finished"}
    assert [p["record"] for p in report["failed"]] == [acc2]
    assert split.store.genes_done(acc2) is None  # nothing half-visible
    assert [n for n in range(4) if split.store.gene_part(acc2, n)] == [0, 2, 3]

    again = Recording()
    report = split.annotate(ANNOTATOR, [acc2], steps=["genes", "families"],
                            packs=[sus_pack()], batch_bases=50_000, executor=again)
    assert again.ran == [("call_gene_batch", 1), ("join_gene_batches", None),
                         ("annotate_assembly", None)]
    [item] = report["assemblies"]
    assert item["status"] == "done"
    assert item["steps"] == {"genes": "done", "families": "done"}
    assert gene_files(split, acc2) == gene_files(whole, acc)
    theirs = whole.store.folder(acc) / "annotation" / "hits.parquet"
    ours = split.store.folder(acc2) / "annotation" / "hits.parquet"
    assert ours.read_bytes() == theirs.read_bytes()


def test_joined_genes_are_kept_when_a_later_step_fails(engine: Engine, tmp_path: Path) -> None:
    split, acc = new_bank(engine, tmp_path / "split", metagenome(tmp_path))
    report = split.annotate(ANNOTATOR, [acc], steps=["genes", "families"], packs=[sus_pack()],
                            batch_bases=50_000, executor=Recording(failing="annotate_assembly"))
    [item] = report["assemblies"]
    assert item["status"] == "failed" and "RuntimeError: worker lost" in item["error"]
    assert item["steps"] == {"genes": "done", "families": "not finished"}
    genes = split.store.genes_done(acc)
    assert genes is not None  # the joined genes stay, and the record shows them
    assert split.catalog.get(ANNOTATOR, acc).fields["gene_count"] == genes["gene_count"]
    again = Recording()
    split.annotate(ANNOTATOR, [acc], steps=["genes", "families"], packs=[sus_pack()],
                   batch_bases=50_000, executor=again)
    assert again.ran == [("annotate_assembly", None)]  # only the step that failed
