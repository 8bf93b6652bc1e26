"""Sequence similarity search: `lanhai search seq`, `lanhai search index`, the segmented
MMseqs2 index and ``POST /api/search/sequence``.

Data: slices of three real Maribacter proteomes (tests/data/search/README.md), ingested as
proteomes into a temporary bank. Reference results come from running the same MMseqs2
binary's ``easy-search`` on the same FASTA; the command is quoted beside each comparison.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.bank import Bank
from lanhai.errors import ValidationFailed
from lanhai.search.mmseqs import MMseqs
from lanhai.services.access import Actor
from lanhai.services.catalog import CatalogService
from lanhai.services.sequence_search import SequenceSearch, read_query
from lanhai.settings import Settings
from lanhai.store import seq_index
from lanhai.store.layout import Layout
from lanhai.store.seq_index import DBS, SequenceIndex
from tests.support import (
    CURATOR,
    READER,
    SAMPLE,
    ZOBELLIA,
    add_user,
    bank_on,
    make_client,
)
from tests.support.sequences import DOKDONENSIS, FORSETII, LITORALIS, fasta, records

COLUMNS = "query,target,evalue,bits,fident"


@dataclass
class World:
    bank: Bank
    data: Path
    dok: str
    fors: str
    hidden: str
    strain: str
    sample: str

    def search(self, actor: Actor = CURATOR, query: str | None = None, **options: Any
               ) -> dict[str, Any]:
        query = query if query is not None else fasta(records(DOKDONENSIS)[:5])
        return self.bank.sequence_search.with_jobs(1).search(actor, query, **options)

    def index(self, **options: Any) -> SequenceIndex:
        return SequenceIndex(Layout(self.data), "proteins", MMseqs(threads=1), **options)

    def update_index(self, dbs: Sequence[str] = DBS) -> dict[str, Any]:
        """Bring the indexes up to date (what annotation and `lanhai search index` do)."""
        return SequenceSearch(self.bank.catalog, Layout(self.data),
                              mmseqs=MMseqs(threads=1)).update_index(dbs=dbs)


def new_assembly(catalog: CatalogService, name: str, restricted: bool = False) -> str:
    fields = {"assembly_name": name, "assembly_type": "isolate genome",
              "seq_meth": "Illumina HiSeq 2000", "assembly_software": "SPAdes;3.15.5"}
    if restricted:
        fields["restricted"] = "yes"
    return catalog.create(CURATOR, "assembly", fields).accession


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    data = tmp_path / "bank"
    bank = bank_on(engine, data)
    catalog = bank.catalog
    sequences = bank.sequences
    dok = new_assembly(catalog, "Maribacter dokdonensis DSW-8")
    fors = new_assembly(catalog, "Maribacter forsetii DSM 18668")
    hidden = new_assembly(catalog, "Maribacter litoralis SDRB-Phe2", restricted=True)
    strain = catalog.create(CURATOR, "strain", ZOBELLIA).accession
    sample = catalog.create(CURATOR, "sample", {**SAMPLE, "depth": "1200 m"}).accession
    catalog.link(CURATOR, sample, "isolated_from", strain)
    catalog.link(CURATOR, strain, "sequenced_as", dok)
    for acc, path in ((dok, DOKDONENSIS), (fors, FORSETII)):
        sequences.ingest(CURATOR, acc, path, kind="proteome", allow_stops=True)
    yield World(bank, data, dok, fors, hidden, strain, sample)


def segment_files(index: SequenceIndex) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(index.root)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in (index.root / "segments").rglob("*") if p.is_file()}


def easy_search(tmp: Path, query: str, target: str, *options: str) -> dict[tuple[str, str],
                                                                              float]:
    """(query, target) -> e-value from ``mmseqs easy-search`` run directly on FASTA files."""
    (tmp / "q.faa").write_text(query)
    (tmp / "t.faa").write_text(target)
    mmseqs = MMseqs(threads=1)
    # mmseqs easy-search q.faa t.faa out.m8 tmp --format-output query,target,evalue,bits,fident
    #   --threads 1 [options]
    subprocess.run([str(mmseqs.binary), "easy-search", str(tmp / "q.faa"), str(tmp / "t.faa"),
                    str(tmp / "out.m8"), str(tmp / "es"), "--format-output", COLUMNS,
                    "--threads", "1", "-v", "1", *options], check=True)
    out = {}
    for line in (tmp / "out.m8").read_text().splitlines():
        q, t, e, *_ = line.split("\t")
        out[(q, t)] = float(e)
    return out


def ours(result: dict[str, Any]) -> dict[tuple[str, str], float]:
    return {(h["query"], f"{h['assembly']}|{h['target']}"): h["evalue"] for h in result["hits"]}


def assert_same(mine: dict[tuple[str, str], float], reference: dict[tuple[str, str], float]
                ) -> None:
    assert set(mine) == set(reference)
    for key, evalue in reference.items():
        # easy-search prints e-values with 4 significant digits
        assert mine[key] == pytest.approx(evalue, rel=2e-3), key


# -- finding things ------------------------------------------------------------------------
def test_a_protein_finds_itself_and_its_homologs_with_lineage(world: World) -> None:
    world.update_index()
    query = records(DOKDONENSIS)[:5]
    result = world.search(query=fasta(query), max_hits=50)
    by_query: dict[str, list[dict[str, Any]]] = {}
    for hit in result["hits"]:
        by_query.setdefault(hit["query"], []).append(hit)
    for ident, seq in query:
        best = by_query[ident][0]
        assert (best["target"], best["assembly"], best["identity"]) == (ident, world.dok, 1.0)
        assert (best["query_start"], best["query_end"]) == (1, len(seq))
        assert (best["target_start"], best["target_end"]) == (1, len(seq))
    # a homolog in the other strain: `mmseqs easy-search first5.faa forsetii_1-250.faa out tmp
    # --format-output query,target,evalue,fident` -> I600_5 P177_RS00230 8.869E-14 0.285
    other = {(h["query"], h["target"]): h for h in result["hits"] if h["assembly"] == world.fors}
    homolog = other[("I600_5_[Maribacter_dokdonensis_DSW-8]",
                     "P177_RS00230_[Maribacter_forsetii_DSM18668]")]
    assert homolog["identity"] == 0.285
    # lineage: protein -> assembly -> strain -> sample (place, depth, date) -> access terms
    lineage = by_query[query[0][0]][0]["lineage"]
    assert lineage["assembly"]["accession"] == world.dok
    assert [s["accession"] for s in lineage["strains"]] == [world.strain]
    assert lineage["strains"][0]["restrictions_on_use"] == "no restriction"
    sample = lineage["samples"][0]
    assert (sample["accession"], sample["lat"], sample["lon"], sample["depth"],
            sample["collection_date"]) == (world.sample, 50.25, -4.22, [1200.0, 1200.0],
                                           "2014-06-21")


def test_results_equal_mmseqs_easy_search(world: World, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """One large indexed segment (precomputed k-mer index, MMseqs2's own k-mer size) gives
    easy-search's own results with MMseqs2's defaults."""
    monkeypatch.setattr(seq_index, "KMER5_MAX_RESIDUES", 0)
    world.index(index_min_residues=0).update()
    assert world.index().state()["segments"][0]["kmer"] == 0
    query = fasta(records(DOKDONENSIS)[:30])
    mine = ours(world.search(query=query, max_hits=1000))
    target = fasta(records(DOKDONENSIS), f"{world.dok}|") + fasta(records(FORSETII),
                                                                  f"{world.fors}|")
    # mmseqs easy-search q.faa t.faa out.m8 tmp --format-output query,target,evalue,bits,fident
    #   --threads 1
    reference = easy_search(tmp_path, query, target)
    assert len(reference) > 40
    assert_same(mine, reference)


def test_small_indexed_segments_use_5_mers(world: World, tmp_path: Path) -> None:
    """A segment below KMER5_MAX_RESIDUES gets a 5-mer index and the default mode searches it
    with -k 5 --min-ungapped-score 45: easy-search's own results with those options."""
    world.index(index_min_residues=0).update()
    segment = world.index().state()["segments"][0]
    assert (segment["indexed"], segment["kmer"]) == (True, 5)
    query = fasta(records(DOKDONENSIS)[:30])
    mine = ours(world.search(query=query, max_hits=1000))
    target = fasta(records(DOKDONENSIS), f"{world.dok}|") + fasta(records(FORSETII),
                                                                  f"{world.fors}|")
    # mmseqs easy-search q.faa t.faa out.m8 tmp --format-output query,target,evalue,bits,fident
    #   --threads 1 -k 5 --min-ungapped-score 45
    reference = easy_search(tmp_path, query, target, "-k", "5", "--min-ungapped-score", "45")
    assert len(reference) > 40
    assert_same(mine, reference)
    # against MMseqs2's defaults (6-mers, score 15) at e-value 1e-3: more pairs in all, and
    # nearly all of theirs (spaced 5-mers miss a few pairs 6-mers find, and find many more
    # that 6-mers miss: see docs/search-sequences.md, Benchmarks)
    default = {k for k, e in easy_search(tmp_path, query, target).items() if e <= 1e-3}
    found = {k for k, e in mine.items() if e <= 1e-3}
    assert len(found) >= len(default)
    assert len(default & found) >= 0.95 * len(default)


def test_segments_merge_with_evalues_of_the_whole_bank(world: World, tmp_path: Path) -> None:
    """Two segments (one per update) searched together: same hits and e-values as one
    easy-search over both proteomes (e-values rescaled to the whole bank's residues)."""
    index = world.index(index_min_residues=0)
    index.update([world.dok])
    index.update([world.fors])
    assert len(index.state()["segments"]) == 2
    query = fasta(records(FORSETII)[:30])
    mine = ours(world.search(query=query, max_hits=1000))
    target = fasta(records(DOKDONENSIS), f"{world.dok}|") + fasta(records(FORSETII),
                                                                  f"{world.fors}|")
    # mmseqs easy-search q.faa t.faa out.m8 tmp ... -k 5 --min-ungapped-score 45 (both
    # segments are small: 5-mers)
    assert_same(mine, easy_search(tmp_path, query, target, "-k", "5",
                                  "--min-ungapped-score", "45"))


def test_small_segments_are_searched_exhaustively(world: World, tmp_path: Path) -> None:
    """Segments below INDEX_MIN_RESIDUES get no k-mer index; a few queries are searched with
    the ungapped prefilter over every target, exactly as easy-search --prefilter-mode 1."""
    index = world.index()
    index.update()
    assert index.state()["segments"][0]["indexed"] is False
    query = fasta(records(FORSETII)[:10])
    mine = ours(world.search(query=query, max_hits=1000))
    target = fasta(records(DOKDONENSIS), f"{world.dok}|") + fasta(records(FORSETII),
                                                                  f"{world.fors}|")
    assert_same(mine, easy_search(tmp_path, query, target, "--prefilter-mode", "1"))


def test_filters_and_max_hits(world: World) -> None:
    world.update_index()
    everything = world.search(max_hits=1000, evalue=10)
    strict = world.search(max_hits=1000, evalue=1e-30, min_identity=0.9)
    assert strict["hits"] and len(strict["hits"]) < len(everything["hits"])
    assert all(h["evalue"] <= 1e-30 and h["identity"] >= 0.9 for h in strict["hits"])
    capped = world.search(max_hits=1)
    assert [q["hits"] for q in capped["queries"]] == [1] * 5
    assert len(capped["hits"]) == 5


def test_sensitive_mode_finds_at_least_the_default_hits(world: World) -> None:
    world.update_index()
    query = fasta(records(FORSETII)[:20])
    default = ours(world.search(query=query, max_hits=1000))
    sensitive = world.search(query=query, max_hits=1000, sensitive=True)
    assert sensitive["mode"] == "sensitive"
    assert set(default) <= set(ours(sensitive))


def test_sensitive_mode_is_an_exhaustive_search(world: World, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Above UNGAPPED_MAX_PAIRS (here 0) and up to SENSITIVE_EXHAUSTIVE_PAIRS, --sensitive
    aligns every pair with an ungapped score of at least 35: easy-search's own results."""
    monkeypatch.setattr(seq_index, "UNGAPPED_MAX_PAIRS", 0)
    world.index().update()
    query = fasta(records(FORSETII)[:20])
    mine = ours(world.search(query=query, max_hits=1000, evalue=1.0, sensitive=True))
    target = fasta(records(DOKDONENSIS), f"{world.dok}|") + fasta(records(FORSETII),
                                                                  f"{world.fors}|")
    # mmseqs easy-search q.faa t.faa out.m8 tmp ... --prefilter-mode 1
    #   --min-ungapped-score 35 -e 1.0
    reference = easy_search(tmp_path, query, target, "--prefilter-mode", "1",
                            "--min-ungapped-score", "35", "-e", "1.0")
    assert len(reference) > 30
    assert_same(mine, reference)


def test_sensitive_mode_falls_back_to_profile_search(world: World, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Above SENSITIVE_EXHAUSTIVE_PAIRS (here 0): 3 iterations of profile search, -s 7.5."""
    monkeypatch.setattr(seq_index, "SENSITIVE_EXHAUSTIVE_PAIRS", 0)
    world.index(index_min_residues=0).update()
    query = fasta(records(FORSETII)[:10])
    mine = ours(world.search(query=query, max_hits=1000, sensitive=True))
    target = fasta(records(DOKDONENSIS), f"{world.dok}|") + fasta(records(FORSETII),
                                                                  f"{world.fors}|")
    # mmseqs easy-search q.faa t.faa out.m8 tmp ... --num-iterations 3 -s 7.5 -k 5
    # (a small segment: its index has 5-mers)
    reference = easy_search(tmp_path, query, target, "--num-iterations", "3", "-s", "7.5",
                            "-k", "5")
    assert set(mine) == set(reference)


# -- keeping the index up to date ------------------------------------------------------------
def test_adding_an_assembly_leaves_old_segments_untouched(world: World) -> None:
    index = world.index()
    index.update()
    before = segment_files(index)
    added = new_assembly(world.bank.catalog, "Maribacter litoralis (public copy)")
    world.bank.sequences.ingest(CURATOR, added, LITORALIS,
                                                          kind="proteome")
    assert index.status()["pending_add"] == [added]
    result = index.update()
    assert result["added"] == [added] and result["masked"] == []
    after = segment_files(index)
    assert {k: v for k, v in after.items() if k in before} == before
    assert len(index.state()["segments"]) == 2
    query = fasta(records(LITORALIS)[:2])
    hits = world.search(query=query)["hits"]
    assert {h["assembly"] for h in hits if h["identity"] == 1.0} == {added}
    assert index.update()["added"] == []  # nothing changed: nothing rebuilt
    assert segment_files(index) == after


def test_replacing_and_removing_assemblies(world: World) -> None:
    index = world.index()
    index.update()
    first = index.state()["segments"][0]["name"]
    # replace M. forsetii's proteins by M. litoralis's: old ones masked, new ones indexed
    world.bank.sequences.ingest(CURATOR, world.fors, LITORALIS,
                                                          kind="proteome", replace=True)
    result = index.update()
    assert result["masked"] == [world.fors] and result["added"] == [world.fors]
    old_query = fasta(records(FORSETII)[:3])
    new_query = fasta(records(LITORALIS)[:3])
    assert not [h for h in world.search(query=old_query)["hits"] if h["identity"] == 1.0]
    assert {h["assembly"] for h in world.search(query=new_query)["hits"]
            if h["identity"] == 1.0} == {world.fors}
    # remove M. dokdonensis from the store: masked until compaction
    shutil.rmtree(world.data / "assemblies" / world.dok)
    assert index.update()["masked"] == [world.dok]
    hits = world.search(query=fasta(records(DOKDONENSIS)[:3]))["hits"]
    assert hits and {h["assembly"] for h in hits} == {world.fors}
    status = index.status()
    assert status["assemblies"] == 1 and status["up_to_date"]
    compacted = index.compact()
    assert first in compacted["replaced"]
    segments = index.state()["segments"]
    assert [list(s["assemblies"]) for s in segments] == [[world.fors]]
    assert segments[0]["masked"] == []
    assert {h["assembly"] for h in world.search(query=new_query)["hits"]} == {world.fors}


def test_rebuild_gives_the_same_hits_as_incremental_updates(world: World) -> None:
    index = world.index(index_min_residues=0)
    index.update([world.dok])
    index.update([world.fors])
    incremental = ours(world.search(max_hits=1000))
    index.rebuild()
    assert len(index.state()["segments"]) == 1
    assert ours(world.search(max_hits=1000)) == pytest.approx(incremental, rel=2e-3)


def test_an_interrupted_build_leaves_the_old_index_usable(world: World,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    index = world.index()
    index.update([world.dok])
    state = (index.root / "state.json").read_text()
    before = world.search()

    def killed(self: MMseqs, module: str, *args: Any, **kwargs: Any) -> str:
        if module == "createdb":
            raise KeyboardInterrupt  # as if the build was killed half-way
        return original(self, module, *args, **kwargs)

    original = MMseqs.run
    monkeypatch.setattr(MMseqs, "run", killed)
    with pytest.raises(KeyboardInterrupt):
        index.update()
    monkeypatch.setattr(MMseqs, "run", original)
    assert (index.root / "state.json").read_text() == state
    assert any((index.root / ".staging").iterdir())  # the half-built segment
    assert world.search()["hits"] == before["hits"]
    assert index.update()["added"] == [world.fors]
    assert not (index.root / ".staging").exists() or not any(
        (index.root / ".staging").iterdir())


def test_retired_segments_wait_for_running_searches(world: World,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    index = world.index()
    index.update([world.dok])
    index.update([world.fors])
    old = [s["name"] for s in index.state()["segments"]]
    index.compact(full=True)
    assert all(index.segment_path(n).exists() for n in old)  # grace period
    monkeypatch.setattr(seq_index, "GRACE_SECONDS", -1.0)
    index.update()
    assert not any(index.segment_path(n).exists() for n in old)


# -- who sees what ---------------------------------------------------------------------------
def test_restricted_assemblies_and_strains_are_hidden_from_readers(world: World) -> None:
    world.bank.sequences.ingest(CURATOR, world.hidden, LITORALIS,
                                                          kind="proteome")
    world.bank.catalog.update(CURATOR, world.strain, {"restricted": "yes"})
    world.update_index()
    query = fasta(records(LITORALIS)[:3] + records(DOKDONENSIS)[:1])
    curator = world.search(CURATOR, query)
    reader = world.search(READER, query)
    assert world.hidden in {h["assembly"] for h in curator["hits"]}
    assert world.hidden not in {h["assembly"] for h in reader["hits"]}
    assert world.hidden not in json.dumps(reader)
    dok_hit = next(h for h in reader["hits"] if h["assembly"] == world.dok)
    assert dok_hit["lineage"]["strains"] == [] and dok_hit["lineage"]["samples"] == []
    assert world.strain not in json.dumps(reader)
    dok_hit = next(h for h in curator["hits"] if h["assembly"] == world.dok)
    assert [s["accession"] for s in dok_hit["lineage"]["strains"]] == [world.strain]


def _reader_view(bank: Bank, query: str) -> dict[str, Any]:
    """A reader's answer as it can be compared between banks."""
    answer = bank.sequence_search.with_jobs(1).search(READER, query, max_hits=50)
    return {"index": answer["index"], "queries": answer["queries"],
            "hits": [(h["query"], h["assembly"], h["target"], h["evalue"], h["bits"])
                     for h in answer["hits"]]}


def test_a_reader_searches_as_if_restricted_assemblies_did_not_exist(tmp_path: Path) -> None:
    """Hits, e-values and index sizes a reader gets are those of a bank without the
    restricted assemblies: when an assembly is restricted from the start, when one is
    restricted after it was indexed, and after the index moved it."""
    from lanhai.db.engine import make_engine, migrate

    def bank_of(name: str) -> Bank:
        engine = make_engine(f"sqlite:///{tmp_path / name}.sqlite")
        migrate(engine)
        return bank_on(engine, tmp_path / name)

    with_hidden, without = bank_of("with"), bank_of("without")
    for bank in (with_hidden, without):
        for name, path in (("dokdonensis", DOKDONENSIS), ("forsetii", FORSETII)):
            acc = new_assembly(bank.catalog, name)
            bank.sequences.ingest(CURATOR, acc, path, kind="proteome", allow_stops=True)
    secret = new_assembly(with_hidden.catalog, "litoralis", restricted=True)
    with_hidden.sequences.ingest(CURATOR, secret, LITORALIS, kind="proteome",
                                 allow_stops=True)
    for bank in (with_hidden, without):
        bank.sequence_search.update_index()
    query = fasta(records(LITORALIS)[:3] + records(FORSETII)[:3] + records(DOKDONENSIS)[:3])
    seen = _reader_view(with_hidden, query)
    assert seen == _reader_view(without, query)
    assert seen["index"]["pending"] == 0 and seen["hits"]
    curator = with_hidden.sequence_search.search(CURATOR, query, max_hits=50)
    assert secret in {h["assembly"] for h in curator["hits"]}
    assert curator["index"]["residues"] > seen["index"]["residues"]
    # forsetii becomes restricted after it was indexed (in the public segment): left out
    # at once, then moved to a restricted segment by the next update
    forsetii = "LHAS0000002"
    with_hidden.catalog.update(CURATOR, forsetii, {"restricted": "yes"})
    shrunk = bank_of("shrunk")
    acc = new_assembly(shrunk.catalog, "dokdonensis")
    shrunk.sequences.ingest(CURATOR, acc, DOKDONENSIS, kind="proteome", allow_stops=True)
    shrunk.sequence_search.update_index()
    masked, alone = _reader_view(with_hidden, query), _reader_view(shrunk, query)
    assert masked["index"] == alone["index"]
    # the same hits; e-values equal within what MMseqs2 prints (3 significant digits),
    # computed on the segment that still holds forsetii, then rescaled
    assert [h[:3] + h[4:] for h in masked["hits"]] == [h[:3] + h[4:] for h in alone["hits"]]
    assert all(abs(a[3] - b[3]) <= 0.005 * b[3]
               for a, b in zip(masked["hits"], alone["hits"], strict=True))
    moved = with_hidden.sequence_search.update_index()["proteins"]
    assert moved["masked"] == [forsetii] and moved["added"] == [forsetii]
    assert len(moved["compacted"]) == 1  # the public segment, rewritten without forsetii
    assert _reader_view(with_hidden, query) == _reader_view(shrunk, query)
    status = with_hidden.sequence_search.index_status("proteins")
    assert sorted(s["restricted"] for s in status["segments"]) == [False, True, True]
    assert forsetii in {h["assembly"] for h in with_hidden.sequence_search.search(
        CURATOR, query, max_hits=50)["hits"]}


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("Dear curator, the sequence follows!\n", "FASTA"),
    (">q1\nMKVL1AGIVG\n", "'1'"),
    (">q1\nMKVLAAGIVG\n>q1\nMKVLAAGIVG\n", "duplicate"),
    (">dna\n" + "ACGTTGCA" * 10 + "\n", "--db contigs"),
])
def test_bad_queries_get_a_clear_error(text: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_query(text, "proteins", "query.faa")
    described = " ".join(p.describe() for p in caught.value.problems)
    assert reason.lower() in described.lower(), described
    assert "query.faa" in described


def test_a_bare_sequence_is_one_query() -> None:
    """Pasted without a '>' line, as copied from a paper or a GenBank ORIGIN block."""
    assert read_query("MKVLAAGIVG\n") == [("query", "MKVLAAGIVG")]
    assert read_query("     1 mkvlaagivg llssaaqa\n    19 mk\n") == [
        ("query", "MKVLAAGIVGLLSSAAQAMK")]


def test_nucleotide_search_over_contigs(world: World, tmp_path: Path) -> None:
    """--db contigs: a nucleotide query against stored genome contigs (pyrodigal's test
    genome KK037166, 20 kb)."""
    from importlib.resources import files

    genome = Path(str(files("pyrodigal.tests") / "data" / "KK037166.fna.gz"))
    acc = new_assembly(world.bank.catalog, "Kutzneria sp. 744 scaffold")
    world.bank.sequences.ingest(CURATOR, acc, genome)
    world.update_index(dbs=["contigs"])
    with gzip.open(genome, "rt") as handle:
        contig = "".join(line.strip() for line in handle if not line.startswith(">"))
    query = f">piece\n{contig[5000:6500]}\n"
    result = world.search(query=query, db="contigs")
    best = result["hits"][0]
    assert (best["assembly"], best["identity"], best["target_start"], best["target_end"]) \
        == (acc, 1.0, 5001, 6500)
    assert best["target"] == "KK037166.1"


# -- API -------------------------------------------------------------------------------------
@pytest.fixture
def api(world: World) -> TestClient:
    world.update_index()
    return make_client(world.bank.db.engine, Settings(data_dir=world.data))


def test_api_search_with_fasta_or_json(world: World, api: TestClient) -> None:
    query = fasta(records(DOKDONENSIS)[:2])
    plain = api.post("/api/search/sequence?max_hits=3", content=query,
                     headers={"Content-Type": "text/plain"})
    assert plain.status_code == 200, plain.text
    body = api.post("/api/search/sequence", json={"fasta": query, "max_hits": 3})
    assert body.status_code == 200
    assert plain.json()["hits"] == body.json()["hits"]
    hit = body.json()["hits"][0]
    assert (hit["target"], hit["assembly"], hit["identity"]) == (records(DOKDONENSIS)[0][0],
                                                                  world.dok, 1.0)
    assert hit["lineage"]["samples"][0]["accession"] == world.sample


def test_api_bad_query_is_422_with_problems(api: TestClient) -> None:
    answer = api.post("/api/search/sequence", json={"fasta": ">q\nMK1V\n"})
    assert answer.status_code == 422
    assert answer.json()["error"]["problems"][0]["record"] == "q"
    assert api.post("/api/search/sequence", json={"fasta": ">q\nMKV\n", "evalue": -1}
                    ).status_code == 400
    assert api.post("/api/search/sequence", content=b"{", headers={
        "Content-Type": "application/json"}).status_code == 400


def test_api_many_queries_run_as_a_job(world: World, api: TestClient) -> None:
    headers = add_user(world.bank.db.engine, "rui", "reader")
    query = fasta(records(FORSETII)[:60])
    started = api.post("/api/search/sequence", json={"fasta": query, "max_hits": 1},
                       headers=headers)
    assert started.status_code == 202, started.text
    job = started.json()
    assert started.headers["location"] == f"/api/jobs/{job['id']}"
    assert job["params"]["queries"] == 60
    done = api.app.state.bank.jobs.wait(job["id"], timeout=120)  # type: ignore[attr-defined]
    assert done.status == "done", done.error
    assert done.result is not None
    assert len(done.result["queries"]) == 60
    mine = {h["query"] for h in done.result["hits"] if h["identity"] == 1.0}
    assert len(mine) == 60
    read = api.get(f"/api/jobs/{job['id']}", headers=headers)
    assert read.status_code == 200 and read.json()["status"] == "done"
