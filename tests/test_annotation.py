"""Family annotation after gene calling: pyhmmer hits against profile packs, stored as
annotation/hits.parquet with the HITS schema, identical to HMMER's own hmmsearch, resumable
and idempotent, and readable from the command line. Runs on each catalog backend."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

from lanhai.store.sequences import HITS, SequenceStore
from tests.support.sequences import ANNOTATOR as CURATOR
from tests.support.sequences import HERE, ZOBELLIA_PROTEOME, proteome_bank, stored, sus_pack


def domtbl(path: Path) -> set[tuple[str, str, int, int, float]]:
    """(target, query, ali from, ali to, domain score) of an hmmsearch --domtblout file."""
    found = set()
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if not line.startswith("#"):
                f = line.split()
                found.add((f[0], f[3], int(f[17]), int(f[18]), round(float(f[13]), 1)))
    return found


def test_hits_equal_hmmsearch_cut_ga(engine: Engine, tmp_path: Path) -> None:
    service, acc = proteome_bank(engine, tmp_path)
    report = service.annotate(CURATOR, [acc], packs=[sus_pack()], threads=2)
    [item] = report["assemblies"]
    assert item["status"] == "done"
    assert item["steps"] == {"genes": "skipped: proteome, the given proteins are used",
                             "families": "done",
                             "clusters": "skipped: proteome; GECCO needs contigs (gene order "
                                         "and positions) to find gene clusters"}
    path = stored(tmp_path).table_path(acc, "hits")
    assert path is not None and path.name == "hits.parquet"
    table = pq.read_table(path)
    assert table.schema.equals(HITS)
    rows = table.to_pylist()
    # hmmsearch --cut_ga --noali -o /dev/null --domtblout zobellia_sus.domtbl \
    #     PULkit_combined_susCD_Pfam.hmm Zobellia_galactanivorans_DsiJ.faa   (HMMER 3.4)
    expected = domtbl(HERE / "zobellia_sus.domtbl.gz")
    assert len(expected) == 480
    assert {(r["protein_id"], r["family"], r["ali_from"], r["ali_to"], round(r["score"], 1))
            for r in rows} == expected
    assert item["hit_count"] == len(rows) == 480
    # proteins keep their input ids, sorted in file (gene) order, then by position
    order = {f"ZOBELLIA_{n}_[Zobellia_galactanivorans_DsiJ]": n for n in range(5000)}
    keys = [(order[r["protein_id"]], r["ali_from"]) for r in rows]
    assert keys == sorted(keys)
    assert {r["pack"] for r in rows} == {"sus"} and {r["category"] for r in rows} == {"pul"}
    tonb = next(r for r in rows if r["family"] == "TonB_dep_Rec")
    assert tonb["family_accession"] == "PF00593.27" and tonb["hmm_length"] == 470
    assert 0 < tonb["coverage"] <= 1


def test_rerun_is_idempotent_and_a_new_pack_version_reruns(engine: Engine,
                                                         tmp_path: Path) -> None:
    service, acc = proteome_bank(engine, tmp_path)
    service.annotate(CURATOR, [acc], packs=[sus_pack()], steps=["families"])
    store = stored(tmp_path)
    marker = store.folder(acc) / "annotation.done.json"
    before = os.stat(marker).st_mtime_ns
    again = service.annotate(CURATOR, [acc], packs=[sus_pack()], steps=["families"])
    assert again["assemblies"][0]["status"] == "already done"
    assert again["assemblies"][0]["steps"]["families"] == "already done"
    assert os.stat(marker).st_mtime_ns == before
    newer = service.annotate(CURATOR, [acc], packs=[sus_pack("test-2")], steps=["families"])
    assert newer["assemblies"][0]["steps"]["families"] == "done"
    done = store.step_done(acc, "annotation")
    assert done is not None
    assert [(p["name"], p["version"]) for p in done["packs"]] == [("sus", "test-2")]
    # the same version rebuilt with another E-value bound (or thresholds, families) reruns
    rebuilt = service.annotate(CURATOR, [acc], packs=[sus_pack("test-2", evalue=1e-3)],
                               steps=["families"])
    assert rebuilt["assemblies"][0]["steps"]["families"] == "done"
    # a different loci gene distance redoes the step too (the loci depend on it)
    gap = service.annotate(CURATOR, [acc], packs=[sus_pack("test-2", evalue=1e-3)],
                           steps=["families"], max_gap=3)
    assert gap["assemblies"][0]["steps"]["families"] == "done"


def test_killed_before_the_marker_leaves_nothing_readable(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service, acc = proteome_bank(engine, tmp_path)
    real = SequenceStore.mark_step_done

    def killed(self: SequenceStore, accession: str, step: str, marker: object) -> None:
        raise KeyboardInterrupt  # the process dies after the tables, before the marker

    monkeypatch.setattr(SequenceStore, "mark_step_done", killed)
    with pytest.raises(KeyboardInterrupt):
        service.annotate(CURATOR, [acc], packs=[sus_pack()], steps=["families"])
    store = stored(tmp_path)
    assert (store.annotation_folder(acc) / "hits.parquet").exists()  # written, not marked
    assert store.table_path(acc, "hits") is None  # ... so not visible
    assert not any((store.root / ".staging").iterdir())
    monkeypatch.setattr(SequenceStore, "mark_step_done", real)
    report = service.annotate(CURATOR, [acc], packs=[sus_pack()], steps=["families"])
    assert report["assemblies"][0]["steps"]["families"] == "done"
    assert store.table_path(acc, "hits") is not None


def test_batches_give_the_same_hits(sqlite_engine: Engine, tmp_path: Path) -> None:
    """Searching in batches of proteins (bounded memory) changes no hit: E-values use Z =
    all proteins of the assembly."""
    from lanhai.services.annotation import annotate_families

    _service, acc = proteome_bank(sqlite_engine, tmp_path)
    whole = annotate_families(str(tmp_path / "assemblies"), acc, [sus_pack()], 2)
    rows = pq.read_table(stored(tmp_path).annotation_folder(acc) / "hits.parquet")
    batched = annotate_families(str(tmp_path / "assemblies"), acc, [sus_pack()], 2, batch_size=700)
    again = pq.read_table(stored(tmp_path).annotation_folder(acc) / "hits.parquet")
    assert whole["hit_count"] == batched["hit_count"] == 480
    # (domain E-values use the batch's domZ, as hmmsearch would on that batch alone)
    key = ["protein_id", "family", "ali_from", "ali_to", "score"]
    assert rows.select(key).to_pylist() == again.select(key).to_pylist()


def test_failed_assembly_is_the_only_one_redone_and_a_process_pool_works(
        engine: Engine, tmp_path: Path) -> None:
    from tests.support.sequences import PROTEOME, FailingExecutor

    service, zobellia = proteome_bank(engine, tmp_path)
    _, maribacter = proteome_bank(engine, tmp_path, PROTEOME, "Maribacter slice")
    first = FailingExecutor(failing=zobellia)
    report = service.annotate(CURATOR, [zobellia, maribacter], packs=[sus_pack()], jobs=2,
                              executor=first, steps=["families"])
    assert [a["status"] for a in report["assemblies"]] == ["failed", "done"]
    assert report["assemblies"][0]["steps"]["families"] == "not finished"
    again = FailingExecutor(failing="none")
    report = service.annotate(CURATOR, [zobellia, maribacter], packs=[sus_pack()], jobs=2,
                              executor=again, steps=["families"])
    assert again.ran == [zobellia]
    assert [a["status"] for a in report["assemblies"]] == ["done", "already done"]
    # a new pack version, in a real (spawned) process pool across the two assemblies
    ticks: list[tuple[int, int, str]] = []
    report = service.annotate(CURATOR, [zobellia, maribacter], packs=[sus_pack("test-3")],
                              jobs=2, threads=1, steps=["families"],
                              progress=lambda d, t, a: ticks.append((d, t, a)))
    assert report["failed"] == [] and report["jobs"] == 2
    assert next(a["hit_count"] for a in report["assemblies"]) == 480
    assert sorted(t[2] for t in ticks) == sorted([zobellia, maribacter])
    assert ticks[-1][:2] == (2, 2)


def test_proteins_over_pyhmmers_length_limit_are_skipped_and_reported() -> None:
    """A gene caller can call an "ORF" through a long gap (a 144,306-residue one in the
    annotation benchmark's genome); pyhmmer refuses sequences over 100,000 residues, so such
    a protein is skipped and named, and the others are still searched."""
    from lanhai.sequence import hmm

    with gzip.open(ZOBELLIA_PROTEOME, "rt") as handle:
        text = handle.read()
    tonb = "".join(text.split(">ZOBELLIA_4330_")[1].split("\n", 1)[1].split(">")[0].split())
    too_long = (tonb * (hmm.MAX_LENGTH // len(tonb) + 1))[:hmm.MAX_LENGTH + 1]
    skipped: list[str] = []
    rows = [row for batch, _ in hmm.search([hmm.load_pack(sus_pack())],
                                           [("long", too_long), ("tonb", tonb)], total=2,
                                           skipped=skipped) for row in batch]
    assert skipped == ["long"]
    assert {r["protein_id"] for r in rows} == {"tonb"}
    assert "TonB_dep_Rec" in {r["family"] for r in rows}
