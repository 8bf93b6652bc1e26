"""A segmented MMseqs2 index over the bank's proteins (or contigs), updated incrementally.

Layout under ``LANHAI_DATA_DIR/search/<db>/`` (``db`` is ``proteins`` or ``contigs``)::

    state.json              the live index: its segments, masked assemblies; replaced atomically
    segments/seg-<id>/      one MMseqs2 database (``db*``) + precomputed k-mer index (``db.idx*``)
                            + segment.json (assemblies, sequence and residue counts)
    .staging/seg-<id>/      a segment being built (renamed into segments/ when complete)
    .lock                   serialises writers (flock); readers never wait
    segments/seg-<id>/published.json
                            with object storage (``LANHAI_STORAGE_URL``): the segment's copy
                            there, which a Dask cluster's workers search (their own cache)

Public and restricted assemblies never share a segment (a segment's ``restricted`` flag says
which it holds), so a caller who may not see restricted assemblies searches only public
segments: hits, e-values and sizes are exactly those of a bank without the restricted ones.
An assembly whose restriction changed is moved at the next update (masked where it was,
added to a segment of the other kind); until then a search leaves it out as if masked.

Adding assemblies builds one new small segment (two when both kinds arrive); removing or
replacing one *masks* it in the segment that holds it (its hits are dropped, and its
residues no longer count toward the bank's size) until compaction rebuilds the segments that
have masked or small parts. A search runs over every segment it may read and merges the hits
by e-value, after rescaling each segment's e-values to the size of all it searched
(MMseqs2's e-value is proportional to the target database's residue count). See
docs/decisions/0006-sequence-index.md.

Every change is: build in ``.staging``, rename the finished segment into ``segments/``, then
replace ``state.json`` (write + ``os.replace``). A build that is interrupted leaves the old
``state.json`` and its segments untouched; the leftover staging folder is removed by the
next writer. Segments a compaction replaced are deleted by a later writer, after a grace
period, so searches already running on them finish.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lanhai.executors import InlineExecutor
from lanhai.search.mmseqs import HIT_COLUMNS, MMseqs
from lanhai.store.layout import Layout
from lanhai.store.sequences import SequenceStore

DBS = ("proteins", "contigs")
STATE_VERSION = 1
#: separates the assembly accession from the sequence's own id in MMseqs2 headers
SEP = "|"
#: a segment whose masked residues exceed this share is rewritten by compaction
MASKED_SHARE = 0.2
#: segments smaller than this share of the largest are merged by compaction
SMALL_SHARE = 0.25
#: more segments than this triggers compaction during an update
MAX_SEGMENTS = 16
#: retired segments are deleted by writers after this many seconds
GRACE_SECONDS = 600.0
#: segments with at least this many residues get MMseqs2's precomputed k-mer index
#: (``createindex``: ~0.9 GB of fixed-size tables even for one genome, so small segments go
#: without and are searched exhaustively, see :data:`UNGAPPED_MAX_PAIRS`)
INDEX_MIN_RESIDUES = 10_000_000
#: an unindexed segment is searched with the exhaustive ungapped prefilter when queries x
#: its sequences is at most this (cheaper than building its k-mer table on the fly, and at
#: least as sensitive); above it, with the k-mer prefilter built on the fly
UNGAPPED_MAX_PAIRS = 200_000
#: ``--sensitive`` on proteins searches a segment with the exhaustive ungapped prefilter when
#: queries x its sequences is at most this (more sensitive and faster than iterative profile
#: search there: see docs/search-sequences.md); above it, with 3 profile iterations at -s 7.5
SENSITIVE_EXHAUSTIVE_PAIRS = 50_000_000
#: ungapped score a candidate needs to be aligned in that exhaustive sensitive search
#: (MMseqs2's default, 15, sends thousands of candidates per query to the gapped aligner)
SENSITIVE_MIN_UNGAPPED_SCORE = 35
#: protein segments with fewer residues than this use 5-mers in MMseqs2's k-mer prefilter
#: (its automatic choice is 6-mers). In a small segment a 5-mer occurs in few targets, so a
#: query needs far fewer similar k-mers for the same sensitivity, and the k-mer table is 25 MB
#: instead of 512 MB to fill (or map); in a large one each 5-mer has too many occurrences.
#: Measured up to 19.5 M residues (faster and more sensitive than MMseqs2's defaults there):
#: see docs/search-sequences.md (Benchmarks).
KMER5_MAX_RESIDUES = 20_000_000
#: ungapped score a k-mer candidate needs to be aligned in the default mode of a segment
#: searched with 5-mers (MMseqs2's default, 15: with 5-mers ~90 % of the alignments it sends
#: to the gapped aligner fail the e-value threshold, and alignment takes most of the time)
KMER5_MIN_UNGAPPED_SCORE = 45
#: a segment's copy in object storage, written in its folder once uploaded
PUBLISHED = "published.json"
#: a worker's cached copy of a segment unused for this long is deleted
SEGMENT_CACHE_SECONDS = 86_400.0

Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, what: str) -> None:
    """Default progress callback: does nothing."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RawHit:
    """One alignment, its e-value already corrected to the whole bank."""

    query: str
    assembly: str
    target: str
    evalue: float
    bits: float
    identity: float
    alignment_length: int
    mismatches: int
    gap_opens: int
    query_start: int
    query_end: int
    target_start: int
    target_end: int
    query_length: int
    target_length: int
    segment: str

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out.pop("segment")
        return out


def fingerprint(store: SequenceStore, accession: str, db: str) -> str | None:
    """What the ``db`` sequences of an assembly are, as a short hash; None if it has none."""
    manifest = store.manifest(accession)
    if manifest is None:
        return None
    if db == "contigs":
        if manifest.get("kind") == "proteome" or store.table_path(accession, "contigs") is None:
            return None
        parts = ["contigs", str(manifest.get("sha256"))]
    else:
        if store.table_path(accession, "proteins") is None:
            return None
        marker = None if manifest.get("kind") == "proteome" else store.genes_done(accession)
        parts = ["proteins", str(manifest.get("sha256")),
                 json.dumps(marker, sort_keys=True, default=str)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def stored_assemblies(store: SequenceStore) -> list[str]:
    """Accessions of every assembly with stored sequences."""
    return sorted(store.with_sequences())


class SequenceIndex:
    """The segmented index of one sequence kind (``proteins`` or ``contigs``)."""

    def __init__(self, layout: Layout, db: str = "proteins", mmseqs: MMseqs | None = None,
                 *, index_min_residues: int = INDEX_MIN_RESIDUES) -> None:
        if db not in DBS:
            raise ValueError(f"db must be one of {DBS}")
        self.db = db
        self.store = layout.sequence_store()
        self.root = layout.search / db
        self._mmseqs = mmseqs
        self.index_min_residues = index_min_residues

    @property
    def mmseqs(self) -> MMseqs:
        if self._mmseqs is None:
            self._mmseqs = MMseqs()
        return self._mmseqs

    @property
    def nucleotide(self) -> bool:
        return self.db == "contigs"

    # -- state ------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The live index (an empty one when never built)."""
        try:
            loaded = json.loads((self.root / "state.json").read_text("utf-8"))
        except FileNotFoundError:
            return {"version": STATE_VERSION, "db": self.db, "segments": [], "retired": []}
        if not isinstance(loaded, dict):  # pragma: no cover - only we write it
            raise RuntimeError(f"{self.root / 'state.json'} is not an index state")
        return loaded

    def _write_state(self, state: dict[str, Any]) -> None:
        state["updated_at"] = _now()
        path = self.root / "state.json"
        tmp = path.with_name(f".state.{uuid.uuid4().hex}.json")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True), "utf-8")
        os.replace(tmp, path)

    def segment_path(self, name: str) -> Path:
        return self.root / "segments" / name

    @staticmethod
    def live(state: dict[str, Any]) -> dict[str, tuple[str, str, bool]]:
        """accession -> (segment, fingerprint, restricted segment) of every assembly whose
        hits count."""
        out: dict[str, tuple[str, str, bool]] = {}
        for seg in state["segments"]:
            masked = set(seg.get("masked", []))
            for acc, info in seg["assemblies"].items():
                if acc not in masked:
                    out[acc] = (seg["name"], info["fingerprint"], bool(seg.get("restricted")))
        return out

    @staticmethod
    def live_residues(seg: dict[str, Any]) -> int:
        masked = set(seg.get("masked", []))
        return sum(int(info["residues"]) for acc, info in seg["assemblies"].items()
                   if acc not in masked)

    def changes(self, accessions: Iterable[str] | None = None,
                restricted: Collection[str] = ()) -> tuple[dict[str, str], list[str]]:
        """(to add: accession -> fingerprint, to mask) comparing the index with the store:
        new and changed assemblies, and those whose restriction (``restricted``: the ones
        that are now) no longer matches the segment that holds them.

        ``accessions`` limits the comparison to those assemblies (default: all)."""
        live = self.live(self.state())
        names = stored_assemblies(self.store) if accessions is None else sorted(set(accessions))
        check = set(names) | (set(live) if accessions is None else set())
        add: dict[str, str] = {}
        mask: list[str] = []
        for acc in sorted(check):
            now = fingerprint(self.store, acc, self.db)
            old = live.get(acc)
            moved = old is not None and old[2] != (acc in restricted)
            if old is not None and (old[1] != now or moved):
                mask.append(acc)
            if now is not None and (old is None or old[1] != now or moved):
                add[acc] = now
        return add, mask

    def status(self, restricted: Collection[str] = ()) -> dict[str, Any]:
        """Segments, sizes, masked assemblies and what the next update would do."""
        state = self.state()
        add, mask = self.changes(restricted=restricted)
        segments = [{"name": s["name"], "assemblies": len(s["assemblies"]),
                     "sequences": s["sequences"], "residues": s["residues"],
                     "restricted": bool(s.get("restricted")),
                     "masked": sorted(s.get("masked", [])), "created_at": s["created_at"]}
                    for s in state["segments"]]
        return {"db": self.db, "path": str(self.root), "segments": segments,
                "assemblies": len(self.live(state)),
                "sequences": sum(s["sequences"] - s.get("masked_sequences", 0)
                                 for s in state["segments"]),
                "residues": sum(self.live_residues(s) for s in state["segments"]),
                "pending_add": sorted(add), "pending_remove": sorted(set(mask) - set(add)),
                "up_to_date": not add and not mask, "updated_at": state.get("updated_at"),
                "mmseqs": state.get("mmseqs")}

    # -- writing ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._clean(self.state())
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _clean(self, state: dict[str, Any]) -> None:
        """Remove leftovers of interrupted builds and retired segments past their grace."""
        shutil.rmtree(self.root / ".staging", ignore_errors=True)
        for tmp in self.root.glob(".state.*.json"):
            tmp.unlink(missing_ok=True)
        keep = {s["name"] for s in state["segments"]}
        retired = {r["name"]: r["at"] for r in state.get("retired", [])}
        folder = self.root / "segments"
        if folder.is_dir():
            for path in folder.iterdir():
                if path.name in keep:
                    continue
                at = retired.get(path.name)
                if at is None or time.time() - at > GRACE_SECONDS:
                    if self.store.remote is not None and (path / PUBLISHED).exists():
                        self.store.remote.drop_segment(self.db, path.name)
                    shutil.rmtree(path, ignore_errors=True)

    def update(self, accessions: Iterable[str] | None = None, *, compact: bool | None = None,
               restricted: Collection[str] = (), progress: Progress = _no_progress
               ) -> dict[str, Any]:
        """Index new or changed assemblies in a new segment (one for public assemblies, one
        for ``restricted`` ones) and mask removed or moved ones.

        ``compact``: True merges small and masked segments afterwards; None (default) does
        so only when there are more than :data:`MAX_SEGMENTS` segments."""
        with self._locked():
            state = self.state()
            add, mask = self.changes(accessions, restricted)
            built = [self._build_segment(part, progress, hidden)
                     for hidden in (False, True)
                     if (part := sorted(a for a in add if (a in restricted) == hidden))]
            for seg in state["segments"]:
                hit = [a for a in mask if a in seg["assemblies"]]
                if hit:
                    seg["masked"] = sorted(set(seg.get("masked", [])) | set(hit))
                    seg["masked_sequences"] = sum(
                        seg["assemblies"][a]["sequences"] for a in seg["masked"])
            state["segments"].extend(built)
            state["mmseqs"] = self.mmseqs.version
            if add or mask or not (self.root / "state.json").exists():
                self._write_state(state)
            result: dict[str, Any] = {
                "db": self.db, "added": sorted(add), "masked": sorted(mask),
                "segment": built[0]["name"] if built else None,
                "segments": [seg["name"] for seg in built], "compacted": []}
            # a public segment must not keep a restricted assembly, even masked: its size
            # shapes the e-values and hit lists of public searches; rewrite it now
            exposed = [seg["name"] for seg in state["segments"]
                       if not seg.get("restricted")
                       and any(a in restricted for a in seg.get("masked", []))]
        if exposed:
            result["compacted"] = self.compact(only=exposed, progress=progress)["replaced"]
        if compact or (compact is None and len(state["segments"]) > MAX_SEGMENTS):
            result["compacted"] += self.compact(progress=progress)["replaced"]
        return result

    def compact(self, *, full: bool = False, only: Collection[str] = (),
                progress: Progress = _no_progress) -> dict[str, Any]:
        """Rewrite segments that are small (< 1/4 of the largest) or more than 20 % masked
        into one segment, from the store; ``full`` rewrites every segment (a rebuild),
        ``only`` exactly the segments named."""
        with self._locked():
            state = self.state()
            segs = state["segments"]
            largest = max((s["residues"] for s in segs), default=0)
            chosen = [s for s in segs if s["name"] in only] if only else [
                s for s in segs if full or s["residues"] < SMALL_SHARE * largest
                or (1 - self.live_residues(s) / max(1, s["residues"])) > MASKED_SHARE]
            if len(chosen) == 1 and not chosen[0].get("masked") and not full:
                chosen = []
            if not chosen:
                return {"db": self.db, "replaced": [], "segment": None}
            names = {s["name"] for s in chosen}
            built = []
            for hidden in (False, True):  # public and restricted assemblies stay apart
                group = [s for s in chosen if bool(s.get("restricted")) == hidden]
                accessions = sorted(a for s in group for a in s["assemblies"]
                                    if a not in set(s.get("masked", [])))
                # an assembly changed since it was indexed stays masked: the next update
                # adds it
                current = {a for a in accessions
                           if fingerprint(self.store, a, self.db)
                           == next(s for s in group if a in s["assemblies"])["assemblies"][a][
                               "fingerprint"]}
                if current:
                    built.append(self._build_segment(sorted(current), progress, hidden))
            stamp = time.time()
            state["segments"] = [s for s in segs if s["name"] not in names] + built
            state["retired"] = [r for r in state.get("retired", [])
                                if stamp - r["at"] <= GRACE_SECONDS]
            state["retired"] += [{"name": n, "at": stamp} for n in sorted(names)]
            self._write_state(state)
            return {"db": self.db, "replaced": sorted(names),
                    "segment": built[0]["name"] if built else None,
                    "segments": [seg["name"] for seg in built]}

    def rebuild(self, restricted: Collection[str] = (), progress: Progress = _no_progress
                ) -> dict[str, Any]:
        """Index every stored assembly again, in one segment (one per kind)."""
        self.update(progress=progress, compact=False, restricted=restricted)
        return self.compact(full=True, progress=progress)

    def _fasta_rows(self, accession: str) -> Iterator[tuple[str, str]]:
        path = self.store.table_path(accession, self.db)
        if path is None:
            return
        for row in self.store.iter_rows(accession, self.db, columns=["id", "sequence"]):
            yield row["id"], row["sequence"]

    def _build_segment(self, accessions: Sequence[str], progress: Progress,
                       restricted: bool = False) -> dict[str, Any]:
        """Build one segment for ``accessions`` (all public, or all ``restricted``) in
        staging and rename it into place."""
        name = f"seg-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
        staging = self.root / ".staging" / name
        staging.mkdir(parents=True)
        assemblies: dict[str, dict[str, Any]] = {}
        fasta = staging / "targets.fasta"
        with open(fasta, "w", encoding="ascii", errors="replace") as out:
            for number, acc in enumerate(accessions):
                progress(number, len(accessions), f"reading {acc}")
                print_ = fingerprint(self.store, acc, self.db)
                count = length = 0
                for ident, seq in self._fasta_rows(acc):
                    out.write(f">{acc}{SEP}{ident}\n{seq}\n")
                    count += 1
                    length += len(seq)
                assemblies[acc] = {"fingerprint": print_, "sequences": count,
                                   "residues": length}
        progress(len(accessions), len(accessions), "building the MMseqs2 database")
        dbtype = "2" if self.nucleotide else "1"
        self.mmseqs.run("createdb", fasta, staging / "db",
                        options=["--dbtype", dbtype])
        fasta.unlink()
        residues = sum(a["residues"] for a in assemblies.values())
        indexed = residues >= self.index_min_residues
        kmer = self._kmer_for(residues)
        if indexed:
            progress(len(accessions), len(accessions), "building the k-mer index")
            options = ["--search-type", "3"] if self.nucleotide else []
            if kmer:
                options += ["-k", str(kmer)]
            self.mmseqs.run("createindex", staging / "db", staging / "tmp", options=options)
            shutil.rmtree(staging / "tmp", ignore_errors=True)
        segment = {"name": name, "created_at": _now(), "assemblies": assemblies,
                   "sequences": sum(a["sequences"] for a in assemblies.values()),
                   "residues": residues, "masked": [], "masked_sequences": 0,
                   "indexed": indexed, "kmer": kmer, "restricted": restricted}
        (staging / "segment.json").write_text(json.dumps(segment, indent=1), "utf-8")
        target = self.segment_path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
        return segment

    def _kmer_for(self, residues: int) -> int:
        """k-mer size of a segment of ``residues``: 5 for small protein segments, else 0
        (MMseqs2's automatic choice)."""
        return 5 if not self.nucleotide and residues < KMER5_MAX_RESIDUES else 0

    def segment_kmer(self, seg: dict[str, Any]) -> int:
        """The k-mer size a segment is searched with: the one its precomputed index was built
        with (0, automatic, for indexes built before the choice was recorded), else by size."""
        if "kmer" in seg:
            return int(seg["kmer"])
        return 0 if seg.get("indexed", True) else self._kmer_for(int(seg["residues"]))

    def published(self, name: str) -> dict[str, Any]:
        """The pointer to segment ``name``'s copy in the object storage (uploaded now if it
        is not there yet), which a worker sharing no folder with this machine fetches."""
        remote = self.store.remote
        if remote is None:
            raise ValueError("the bank keeps its files in a folder, not in object storage")
        folder = self.segment_path(name)
        marker = folder / PUBLISHED
        with contextlib.suppress(FileNotFoundError, ValueError):
            pointer: dict[str, Any] = json.loads(marker.read_text("utf-8"))
            if pointer.get("url") == remote.url:
                return pointer
        staged = folder / f".{PUBLISHED}.{uuid.uuid4().hex}"
        try:
            files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                           if p.is_file() and not p.name.startswith((PUBLISHED, f".{PUBLISHED}")))
            pointer = remote.publish_segment(self.db, name, folder, files)
            staged.write_text(json.dumps(pointer, indent=1, sort_keys=True), "utf-8")
            os.replace(staged, marker)
        finally:
            staged.unlink(missing_ok=True)
        return pointer

    def publish(self) -> None:
        """Upload every live segment not yet in the object storage."""
        for seg in self.state()["segments"]:
            self.published(seg["name"])

    # -- reading ----------------------------------------------------------------------------
    def warm(self) -> dict[str, Any]:
        """Load every segment's database and index into the page cache (``mmseqs touchdb``)."""
        names = []
        for seg in self.state()["segments"]:
            self.mmseqs.run("touchdb", self.segment_path(seg["name"]) / "db", threads=True)
            names.append(seg["name"])
        return {"db": self.db, "warmed": names}

    def searched(self, include_restricted: bool, hidden: Collection[str] = ()
                 ) -> list[dict[str, Any]]:
        """The segments a search reads, each with ``hidden`` assemblies masked in it: every
        segment, or (``include_restricted`` False) the public ones only."""
        out = []
        for seg in self.state()["segments"]:
            if seg.get("restricted") and not include_restricted:
                continue
            gone = {a for a in hidden if a in seg["assemblies"]} - set(seg.get("masked", []))
            if gone:
                seg = {**seg, "masked": sorted(set(seg.get("masked", [])) | gone),
                       "masked_sequences": seg.get("masked_sequences", 0) + sum(
                           seg["assemblies"][a]["sequences"] for a in gone)}
            out.append(seg)
        return out

    def search(self, query_fasta: Path, workdir: Path, *, evalue: float = 1e-3,
               max_seqs: int = 300, sensitive: bool = False, include_restricted: bool = True,
               hidden: Collection[str] = (), progress: Progress = _no_progress,
               executor: Executor | None = None) -> tuple[list[RawHit], dict[str, Any]]:
        """Search the segments a caller may (``include_restricted``: the restricted ones too;
        ``hidden`` assemblies are left out as if masked); hits with e-values corrected to the
        live size of what was searched, masked assemblies dropped, sorted by query (input
        order), e-value, bit score. Segments are searched one after another here, or at once
        in ``executor`` (a Dask cluster's: ``workdir`` must then be on shared storage)."""
        segments = self.searched(include_restricted, hidden)
        total = sum(self.live_residues(s) for s in segments)
        info = {"db": self.db, "segments": len(segments), "residues": total,
                "sequences": sum(s["sequences"] - s.get("masked_sequences", 0)
                                 for s in segments)}
        if not segments or total == 0:
            return [], info
        # workers sharing no folder with this machine fetch each segment from the object
        # storage and get the query with the task
        remote = executor is not None and self.store.remote is not None
        qdb = workdir / "query"
        if not remote:
            self.mmseqs.run("createdb", query_fasta, qdb,
                            options=["--dbtype", "2" if self.nucleotide else "1"])
        queries = len(_query_order(query_fasta))
        tasks = []
        for number, seg in enumerate(segments):
            masked = set(seg.get("masked", []))
            if len(masked) == len(seg["assemblies"]):
                continue
            tasks.append((number, seg, masked, self._search_options(
                seg, queries, evalue / (total / max(1, seg["residues"])), max_seqs,
                sensitive)))
        pool = executor or InlineExecutor()
        if remote:
            query = query_fasta.read_text("ascii")
            futures = [pool.submit(search_published_segment, self.mmseqs, self.store.address,
                                   self.published(seg["name"]), query, self.nucleotide,
                                   number, options, total / max(1, seg["residues"]), masked)
                       for number, seg, masked, options in tasks]
        else:
            futures = [pool.submit(search_segment, self.mmseqs, qdb,
                                   self.segment_path(seg["name"]) / "db", workdir, number,
                                   options, total / max(1, seg["residues"]), masked,
                                   seg["name"])
                       for number, seg, masked, options in tasks]
        hits: list[RawHit] = []
        for done, future in enumerate(futures):  # in segment order, as a local search
            progress(done, len(segments), f"searching {tasks[done][1]['name']}")
            hits.extend(future.result())
        progress(len(segments), len(segments), "merging")
        order = _query_order(query_fasta)
        hits.sort(key=lambda h: (order.get(h.query, 0), h.evalue, -h.bits, h.assembly,
                                 h.target))
        return hits, info

    def _search_options(self, seg: dict[str, Any], queries: int, evalue: float,
                        max_seqs: int, sensitive: bool) -> list[str]:
        """MMseqs2 ``search`` options for one segment (``evalue`` already rescaled to it)."""
        options = ["-a", "-e", repr(evalue), "--max-seqs", str(max_seqs),
                   "--db-load-mode", "2"]
        if self.nucleotide:
            options += ["--search-type", "3"]
        pairs = queries * seg["sequences"]
        kmer = ["-k", str(k)] if (k := self.segment_kmer(seg)) else []
        if sensitive and not self.nucleotide and pairs <= SENSITIVE_EXHAUSTIVE_PAIRS:
            # every query against every target; few pairs keep MMseqs2's default
            # threshold (as the default mode's exhaustive search of small segments)
            options += ["--prefilter-mode", "1"]
            if pairs > UNGAPPED_MAX_PAIRS:
                options += ["--min-ungapped-score", str(SENSITIVE_MIN_UNGAPPED_SCORE)]
        elif sensitive:
            options += ["--num-iterations", "3", "-s", "7.5", *kmer]
        elif not self.nucleotide and not seg.get("indexed", True) \
                and pairs <= UNGAPPED_MAX_PAIRS:
            options += ["--prefilter-mode", "1"]
        elif k == 5:
            options += [*kmer, "--min-ungapped-score", str(KMER5_MIN_UNGAPPED_SCORE)]
        return options

    @staticmethod
    def _parse(tsv: Path, scale: float, masked: set[str], segment: str) -> Iterator[RawHit]:
        with open(tsv, encoding="utf-8") as lines:
            for line in lines:
                f = line.rstrip("\n").split("\t")
                acc, _, target = f[1].partition(SEP)
                if acc in masked:
                    continue
                yield RawHit(
                    query=f[0], assembly=acc, target=target,
                    evalue=min(float(f[2]) * scale, 1e300), bits=float(f[3]),
                    identity=float(f[4]), alignment_length=int(f[5]), mismatches=int(f[6]),
                    gap_opens=int(f[7]), query_start=int(f[8]), query_end=int(f[9]),
                    target_start=int(f[10]), target_end=int(f[11]), query_length=int(f[12]),
                    target_length=int(f[13]), segment=segment)


def search_segment(mmseqs: MMseqs, qdb: Path, tdb: Path, workdir: Path, number: int,
                   options: Sequence[str], scale: float, masked: set[str],
                   segment: str) -> list[RawHit]:
    """Search one segment (where it is stored: in this process or on a cluster worker);
    its hits with e-values rescaled to everything searched, masked assemblies dropped."""
    result = workdir / f"res{number}"
    mmseqs.run("search", qdb, tdb, result, workdir / f"tmp{number}", options=options)
    tsv = workdir / f"res{number}.tsv"
    mmseqs.run("convertalis", qdb, tdb, result, tsv, options=[
        "--format-output", ",".join(HIT_COLUMNS), "--db-load-mode", "2"])
    return list(SequenceIndex._parse(tsv, scale, masked, segment))


def search_published_segment(mmseqs: MMseqs, store: str, pointer: dict[str, Any], query: str,
                             nucleotide: bool, number: int, options: Sequence[str],
                             scale: float, masked: set[str]) -> list[RawHit]:
    """Search one segment on a worker that shares no folder with the client: the segment
    comes from the object storage (``pointer``, :meth:`SequenceIndex.published`) into the
    worker's cache for the store at ``store`` (a :attr:`SequenceStore.address`), the
    ``query`` FASTA with the task."""
    folder = cached_segment(SequenceStore.at(store), pointer)
    with tempfile.TemporaryDirectory(prefix="lanhai-search-") as tmp:
        work = Path(tmp)
        fasta = work / "query.fasta"
        fasta.write_text(query, "ascii")
        qdb = work / "query"
        mmseqs.run("createdb", fasta, qdb, options=["--dbtype", "2" if nucleotide else "1"])
        return search_segment(mmseqs, qdb, folder / "db", work, number, options, scale,
                              masked, pointer["segment"])


def cached_segment(store: SequenceStore, pointer: dict[str, Any]) -> Path:
    """This machine's copy of a published segment, fetched first if missing (into staging,
    then renamed whole); copies unused for :data:`SEGMENT_CACHE_SECONDS` are deleted."""
    if store.remote is None:
        raise ValueError("a published segment is fetched from object storage")
    cache = store.root.parent / "search-cache" / str(pointer["db"])
    folder = cache / str(pointer["segment"])
    if not folder.is_dir():
        staging = cache / ".staging" / uuid.uuid4().hex
        try:
            store.remote.fetch_segment(pointer, staging)
            with contextlib.suppress(OSError):  # another task fetched it meanwhile
                staging.rename(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    os.utime(folder)  # in use: kept
    now = time.time()
    for other in cache.iterdir():
        with contextlib.suppress(FileNotFoundError):  # another task removed it meanwhile
            if other != folder and now - other.stat().st_mtime > SEGMENT_CACHE_SECONDS:
                shutil.rmtree(other, ignore_errors=True)
    return folder


def _query_order(fasta: Path) -> dict[str, int]:
    order: dict[str, int] = {}
    with open(fasta, encoding="utf-8") as lines:
        for line in lines:
            if line.startswith(">"):
                order.setdefault(line[1:].split()[0], len(order))
    return order
