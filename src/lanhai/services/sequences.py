"""Sequence use cases: ingest an assembly's sequences, call its genes, read the results.

The catalog keeps only a summary (statistics, gene and protein counts) on the assembly
record; sequences, genes and proteins live in the bulk store
(:mod:`lanhai.store.sequences`). Gene calling runs across assemblies in an injected
executor (a process pool by default; ``jobs=0`` means all cores) with pyrodigal threads
inside each assembly, and resumes: an assembly whose completion marker matches its current
sequences is not redone.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    CancelledError,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from importlib.metadata import version
from pathlib import Path
from typing import Any

from lanhai.errors import Conflict, NotFound, Problem, UsageError, ValidationFailed, writing
from lanhai.executors import InlineExecutor
from lanhai.limits import Limits
from lanhai.model import Record
from lanhai.profiles.pack import Pack
from lanhai.sequence import formats
from lanhai.sequence.genes import META, SINGLE, call_genes, make_finder, mode_for
from lanhai.sequence.loci import MAX_GAP
from lanhai.sequence.reader import GENOME, KINDS, PROTEOME, SequenceReader
from lanhai.sequence.stats import AssemblyStats
from lanhai.services.access import Actor, require_writer
from lanhai.services.annotation import (
    ANNOTATION,
    CLUSTERS,
    annotate_families,
    annotation_current,
    find_assembly_clusters,
)
from lanhai.services.catalog import CatalogService
from lanhai.services.profiles import ProfileService
from lanhai.services.results import AnnotationReads
from lanhai.store.content import file_sha256
from lanhai.store.sequences import GENES, SEQUENCES, SequenceStore

GENES_STEP, FAMILIES, CLUSTERS_STEP = "genes", "families", "clusters"
#: the annotation steps, in the order they run
STEPS = (GENES_STEP, FAMILIES, CLUSTERS_STEP)
#: progress callback: (done, total, what) — bytes of the file when ingesting, assemblies
#: when annotating
Progress = Callable[[int, int, str], None]
#: a metagenome larger than this (bases) has its genes called in contig batches of about
#: this size, each one task, so that no task holds all of a very large assembly
BATCH_BASES = 50_000_000


def _no_progress(done: int, total: int, what: str) -> None:
    """Default progress callback: does nothing."""


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class SequenceService(AnnotationReads):
    """Sequence use cases over one bank: its catalog, stored sequences and profile packs."""

    def __init__(self, catalog: CatalogService, store: SequenceStore,
                 profiles: ProfileService, limits: Limits | None = None,
                 scheduler: str = "") -> None:
        self.catalog = catalog
        self.store = store
        self.profiles = profiles
        #: what an ingested file may hold (decompressed size, line and sequence length)
        self.limits = limits or Limits()
        #: the Dask scheduler annotation runs on (``tcp://host:8786``); "" = this machine
        self.scheduler = scheduler

    # -- ingest ----------------------------------------------------------------------------
    def ingest(self, actor: Actor, accession: str, path: Path, *, kind: str = GENOME,
               replace: bool = False, allow_stops: bool = False, set_aside_bad: bool = False,
               progress: Progress = _no_progress) -> dict[str, Any]:
        """Validate FASTA/GenBank (plain or gzip) and store it as the assembly's sequences.

        All or nothing by default: a file with any problem stores nothing and raises
        ValidationFailed listing them. With ``set_aside_bad``, records with problems of
        their own (stray characters, empty sequences, missing or repeated ids) are left out
        and listed (id, line, reason) in the answer, the stored manifest and the history
        note, and the others are stored; a problem of the whole file (not FASTA or GenBank,
        a truncated gzip, a GenBank record without its end), or no valid record at all,
        still stores nothing. A file past the limits (a decompression bomb, a sequence or
        line too long) raises TooLarge and a full device NoSpace, storing nothing either.
        Ingesting the same file again changes nothing; a different file needs ``replace``
        (which also drops the old annotation results).
        """
        require_writer(actor)
        if kind not in KINDS:
            raise UsageError(f"--kind must be one of: {', '.join(KINDS)}")
        path = Path(path)
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        record = self._assembly(actor, accession)
        old = self.store.manifest(record.accession)
        if old is not None:
            if old.get("sha256") == file_sha256(path) and old.get("kind") == kind:
                self._set_summary(actor, record.accession,
                                  self._stored_summary(record.accession, old),
                                  f"ingest of {path.name} (unchanged)")
                return {**_public(old), "accession": record.accession, "status": "unchanged"}
            if not replace:
                raise Conflict(f"{record.accession} already holds sequences from "
                               f"{old.get('file')!r} (sha256 {str(old.get('sha256'))[:12]}…); "
                               "pass --replace to replace them (their annotation is dropped)")
        with writing(f"the sequences of {record.accession} under {self.store.root}",
                     "nothing was stored"):
            manifest = self._stage(record.accession, path, kind, allow_stops, set_aside_bad,
                                   progress)
        with writing(self.catalog.db.where, f"the sequences are stored but {record.accession} "
                     "does not show them yet: run the same ingest again"):
            note = f"ingested {path.name}" + (" (replaced)" if old else "")
            self._set_summary(actor, record.accession, manifest["summary"],
                              note + _set_aside_note(manifest, _NOTE - len(note)))
        return {**_public(manifest), "accession": record.accession,
                "status": "replaced" if old else "stored"}

    def _stage(self, accession: str, path: Path, kind: str, allow_stops: bool,
               set_aside_bad: bool, progress: Progress) -> dict[str, Any]:
        size = path.stat().st_size
        stats = AssemblyStats()
        with path.open("rb") as stream, self.store.stage_ingest(accession) as staged:
            reader = SequenceReader(stream, kind=kind, name=path.name, allow_stops=allow_stops,
                                    limits=self.limits)
            table = staged.table("contigs" if kind == GENOME else "proteins", SEQUENCES)
            number = 0  # records without problems
            for number, rec in enumerate(reader, 1):
                if set_aside_bad or not reader.problem_count:
                    table.add({"id": rec.id, "description": rec.description,
                               "length": len(rec.sequence), "sequence": rec.sequence})
                    stats.add(rec.sequence)
                if number % 1000 == 0:
                    progress(reader.bytes_read, size, accession)
            progress(size, size, accession)
            if reader.problem_count and (not set_aside_bad or reader.file_problems
                                         or not stats.count):
                raise _refused(path.name, reader, set_aside_bad, number)
            summary: dict[str, Any] = {"sequence_kind": kind}
            if kind == GENOME:
                summary.update(stats.genome_summary(), gene_count=None, protein_count=None)
            else:
                summary.update(protein_count=stats.count, gene_count=None, n50=None,
                               gc_percent=None, largest_contig=None,
                               sequence_contig_n50=None, gap_count=None)
            manifest = {"kind": kind, "file": path.name, "sha256": reader.sha256,
                        "format": reader.format, "compressed": reader.compressed,
                        "bytes": size, "allow_stops": allow_stops, "summary": summary,
                        "ingested_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
            if reader.set_aside_count:
                manifest["set_aside"] = [r.to_dict() for r in reader.set_aside]
                manifest["set_aside_count"] = reader.set_aside_count
            staged.write_json("manifest.json", manifest)
            staged.commit()
        return manifest

    # -- annotation ------------------------------------------------------------------------
    def annotate(self, actor: Actor, accessions: Sequence[str], *, jobs: int = 1,
                 threads: int | None = None, executor: Executor | None = None,
                 progress: Progress = _no_progress, packs: Sequence[Pack] | None = None,
                 pack_names: Sequence[str] | None = None, steps: Sequence[str] = STEPS,
                 max_gap: int = MAX_GAP, scheduler: str | None = None,
                 only_pending: bool = False, batch_bases: int = BATCH_BASES
                 ) -> dict[str, Any]:
        """Annotate each assembly: gene calling, family hits against profile packs with
        substrate calls and PULs, and biosynthetic gene clusters (``steps``); finished steps
        are not redone.

        ``packs`` (default: ``pack_names`` or every available pack, from the registry) are
        searched with pyhmmer. ``jobs`` assemblies run at once in ``executor`` (default:
        the Dask cluster at ``scheduler`` (default: the service's) when one is named, else
        inline for one job and a process pool for more; ``jobs=0`` = all cores);
        ``threads`` pyrodigal/pyhmmer threads work inside each (default: the cores divided
        among the jobs; 1 on a cluster). ``only_pending`` leaves assemblies with nothing to
        do out of the answer. The genes of a metagenome larger than ``batch_bases`` are
        called in contig batches of about that size, one task each, then joined (the same
        rows as one task). Returns per-assembly results; an assembly that fails is listed
        under ``failed`` and the others still finish.
        """
        require_writer(actor)
        if jobs < 0:
            raise UsageError("--jobs must be 0 (all cores) or more")
        unknown = [s for s in steps if s not in STEPS]
        if unknown or not steps:
            raise UsageError(f"unknown step(s) {', '.join(unknown) or '(none given)'}; steps "
                             f"are: {', '.join(STEPS)}")
        if max_gap < 0:
            raise UsageError("--max-gap must be 0 or more")
        if FAMILIES in steps and packs is None:
            packs = self.profiles.load(pack_names)
        chosen = list(packs or []) if FAMILIES in steps else []
        results: dict[str, dict[str, Any]] = {}
        todo: list[tuple[str, str | None, list[str]]] = []
        order: list[str] = []
        for accession in dict.fromkeys(accessions):
            record = self._assembly(actor, accession)
            order.append(record.accession)
            manifest = self.store.manifest(record.accession)
            if manifest is None:
                raise ValidationFailed(f"{record.accession} has no sequences", [Problem(
                    "has no sequences to annotate", f"run `lanhai ingest {record.accession} "
                    "FILE` first", record=record.accession)])
            state = self._steps_state(record.accession, manifest, steps, chosen, max_gap)
            results[record.accession] = state
            needed = [s for s, v in state["steps"].items() if v == "to do"]
            if needed:
                todo.append((record.accession, record.fields.get("assembly_type"), needed))
            elif only_pending:
                order.pop()
            else:
                self._set_summary(actor, record.accession,
                                  self._stored_summary(record.accession, manifest),
                                  "summary refreshed from the stored results")
                skipped = [v for v in state["steps"].values() if v.startswith("skipped")]
                if len(skipped) == len(state["steps"]):
                    state.update(status="skipped", reason="; ".join(skipped))
                else:
                    state["status"] = "already done"
        address = self.scheduler if scheduler is None else scheduler
        own = executor is None and bool(todo) and (bool(address) or (jobs or cpu_count()) > 1)
        if own and address:
            from lanhai.services.cluster import ClusterExecutor

            executor = ClusterExecutor(address, self.store.address)
            workers, threads = executor.threads, threads or 1
        else:
            workers = jobs or cpu_count()
            threads = threads or max(1, cpu_count() // max(1, min(workers, len(accessions))))
            if own:
                executor = _process_pool(min(workers, len(todo)))
        try:
            failed = self._run(actor, todo, threads, executor or InlineExecutor(), progress,
                               results, chosen, max_gap, batch_bases)
        finally:
            if own and executor is not None:
                executor.shutdown(cancel_futures=True)
        return {"assemblies": [{"accession": a, **results[a]} for a in dict.fromkeys(order)],
                "failed": [p.to_dict() for p in failed], "jobs": workers, "threads": threads,
                "packs": [{"name": p.name, "version": p.version} for p in chosen],
                **({"cluster": address} if own and address else {})}

    def stored_accessions(self) -> list[str]:
        """Assemblies with ingested sequences, in accession order (``--all-pending``)."""
        return sorted(self.store.with_sequences())

    def _steps_state(self, accession: str, manifest: Mapping[str, Any], steps: Sequence[str],
                     packs: Sequence[Pack], max_gap: int) -> dict[str, Any]:
        """Which steps an assembly still needs ("to do"), has ("already done") or skips."""
        proteome = manifest["kind"] == PROTEOME
        state: dict[str, str] = {}
        genes = self.store.genes_done(accession)
        genes_current = genes is not None and genes.get("input_sha256") == manifest["sha256"]
        later = FAMILIES in steps or CLUSTERS_STEP in steps  # these need the genes
        if GENES_STEP in steps or (later and not genes_current):
            state[GENES_STEP] = ("skipped: proteome, the given proteins are used" if proteome
                                 else "already done" if genes_current else "to do")
        info: dict[str, Any] = {}
        if genes is not None and genes_current:
            info.update(gene_count=genes["gene_count"], mode=genes["mode"])
        if FAMILIES in steps:
            marker = self.store.step_done(accession, ANNOTATION)
            if not packs:
                state[FAMILIES] = "skipped: no profile pack is available"
            elif annotation_current(marker, packs, max_gap):
                state[FAMILIES] = "already done"
                assert marker is not None
                info.update(hit_count=marker["hit_count"], loci_count=marker["loci_count"])
            else:
                state[FAMILIES] = "to do"
        if CLUSTERS_STEP in steps:
            marker = self.store.step_done(accession, CLUSTERS)
            if proteome:
                state[CLUSTERS_STEP] = ("skipped: proteome; GECCO needs contigs (gene order "
                                        "and positions) to find gene clusters")
            elif marker is not None and marker.get("tool") == clusters_tool():
                state[CLUSTERS_STEP] = "already done"
                info.update(cluster_count=marker["cluster_count"])
            else:
                state[CLUSTERS_STEP] = "to do"
        return {"status": "to do", "steps": state, **info}

    def _run(self, actor: Actor, todo: list[tuple[str, str | None, list[str]]],
             threads: int, pool: Executor, progress: Progress,
             results: dict[str, dict[str, Any]], packs: Sequence[Pack], max_gap: int,
             batch_bases: int) -> list[Problem]:
        """Run every assembly's steps in ``pool``: one task per assembly, or (a large
        metagenome's genes) one task per contig batch, a task joining them, then one task for
        the other steps."""
        root = self.store.address
        failed: list[Problem] = []
        #: task -> (accession, stage): "steps", "batch" or "join"
        running: dict[Future[dict[str, Any]], tuple[str, str]] = {}
        plans: dict[str, tuple[str | None, list[str], list[tuple[int, int]]]] = {}
        waiting: dict[str, int] = {}  # batches still running, per assembly
        joined: dict[str, dict[str, Any]] = {}  # genes markers of joined assemblies

        def steps(accession: str, kind: str | None, needed: list[str]) -> None:
            running[pool.submit(annotate_assembly, root, accession, kind, threads,
                                list(packs), needed, max_gap)] = (accession, "steps")

        def join(accession: str) -> None:
            batches = plans[accession][2]
            running[pool.submit(join_gene_batches, root, accession, len(batches),
                                plans[accession][0])] = (accession, "join")

        for accession, kind, needed in todo:
            batches = self._gene_batches(accession, kind, needed, batch_bases)
            if not batches:
                steps(accession, kind, needed)
                continue
            plans[accession] = (kind, needed, batches)
            current = {"input_sha256": (self.store.manifest(accession) or {}).get("sha256")}
            left = [(n, span) for n, span in enumerate(batches)  # batches not finished yet
                    if _part_of(self.store.gene_part(accession, n)) != {
                        **current, "contigs": list(span)}]
            waiting[accession] = len(left)
            for number, (first, last) in left:
                running[pool.submit(call_gene_batch, root, accession, number, first, last,
                                    threads)] = (accession, "batch")
            if not left:
                join(accession)
        done = 0
        while running:
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                accession, stage = running.pop(future)
                state = results[accession]
                if state.get("status") == "failed":
                    continue  # another batch of it failed: reported once
                try:
                    markers = future.result()
                except Exception as err:  # one assembly failing must not stop the others
                    why = _failure(err, pool)
                    failed.append(Problem(
                        f"annotation failed: {why}",
                        f"run `lanhai annotate {accession}` again (finished assemblies, steps "
                        "and contig batches are not redone)", record=accession))
                    if accession in joined:  # its genes were joined before the step failed
                        self._record_markers(actor, accession,
                                             {GENES_STEP: joined[accession]}, state)
                    state.update(status="failed", error=why)
                    for step, value in state["steps"].items():
                        if value == "to do" and step not in markers_done(self.store,
                                                                        accession):
                            state["steps"][step] = "not finished"
                    done += 1
                    progress(done, len(todo), accession)
                    continue
                if stage == "batch":
                    waiting[accession] -= 1
                    if not waiting[accession]:
                        join(accession)
                    continue
                if stage == "join":
                    joined[accession] = markers
                    kind, needed, _ = plans[accession]
                    rest = [s for s in needed if s != GENES_STEP]
                    if rest:
                        steps(accession, kind, rest)
                        continue
                    markers = {}
                self._record_markers(actor, accession, {
                    **({GENES_STEP: joined[accession]} if accession in joined else {}),
                    **markers}, state)
                done += 1
                progress(done, len(todo), accession)
        return failed

    def _gene_batches(self, accession: str, kind: str | None, needed: Sequence[str],
                      batch_bases: int) -> list[tuple[int, int]]:
        """Contig ranges (first, last row) of about ``batch_bases`` bases each, when the
        assembly's genes are called in metagenomic mode and it is larger than that; else []."""
        if GENES_STEP not in needed:
            return []
        manifest = self.store.manifest(accession) or {}
        size = int((manifest.get("summary") or {}).get("genome_size") or 0)
        if size <= batch_bases or mode_for(kind, size)[0] != META:
            return []
        lengths = [length for _, length in self.store.contig_lengths(accession)]
        batches: list[tuple[int, int]] = []
        first = bases = 0
        for row, length in enumerate(lengths):
            if bases and bases + length > batch_bases:
                batches.append((first, row))
                first, bases = row, 0
            bases += length
        batches.append((first, len(lengths)))
        return batches

    def _record_markers(self, actor: Actor, accession: str, markers: Mapping[str, Any],
                        state: dict[str, Any]) -> None:
        genes = markers.get(GENES_STEP)
        if genes is not None:
            self._set_summary(actor, accession, _gene_summary(genes),
                              f"genes called ({genes['mode']} mode)")
            state.update(gene_count=genes["gene_count"], mode=genes["mode"])
        annotation = markers.get(FAMILIES)
        if annotation is not None:
            state.update(hit_count=annotation["hit_count"],
                         loci_count=annotation["loci_count"])
        clusters = markers.get(CLUSTERS_STEP)
        if clusters is not None:
            state.update(cluster_count=clusters["cluster_count"])
        for step in markers:
            state["steps"][step] = "done"
        state["status"] = "done"

    # -- reading ---------------------------------------------------------------------------
    def stats(self, actor: Actor, accession: str) -> dict[str, Any]:
        """What is stored for an assembly: ingest manifest and gene-calling marker."""
        record = self._assembly(actor, accession)
        manifest = self.store.manifest(record.accession)
        if manifest is None:
            raise NotFound(f"{record.accession} has no sequences; run `lanhai ingest "
                           f"{record.accession} FILE`")
        return {"accession": record.accession, "name": record.name,
                "assembly_type": record.fields.get("assembly_type"), **_public(manifest),
                "genes": self.store.genes_done(record.accession)}

    def contig_lengths(self, actor: Actor, accession: str) -> list[tuple[str, int]]:
        """(contig id, length) of a genome's stored contigs, in input order."""
        record = self._assembly(actor, accession)
        if self.store.table_path(record.accession, "contigs") is None:
            return []
        return self.store.contig_lengths(record.accession)

    def rows(self, actor: Actor, accession: str, table: str) -> Iterator[dict[str, Any]]:
        """Rows of ``genes`` or ``proteins``, streamed."""
        record = self._assembly(actor, accession)
        if self.store.table_path(record.accession, table) is None:
            raise NotFound(f"{record.accession} has no {table} yet", [Problem(
                f"no {table} are stored", f"run `lanhai ingest {record.accession} FILE` and "
                f"`lanhai annotate {record.accession}`", record=record.accession)])
        return self.store.iter_rows(record.accession, table)

    def fasta(self, actor: Actor, accession: str, table: str) -> Iterator[str]:
        """Protein FASTA (``proteins``) or gene nucleotide FASTA (``genes``)."""
        for row in self.rows(actor, accession, table):
            if table == "genes":
                yield formats.fasta(row["protein_id"], row["sequence"],
                                    formats.gene_description(row))
            else:
                yield formats.fasta(row["id"], row["sequence"], row["description"])

    def gff3(self, actor: Actor, accession: str) -> Iterator[str]:
        """The called genes as GFF3."""
        genes = self.rows(actor, accession, "genes")
        return formats.gff3(genes, self.store.contig_lengths(accession.strip().upper()))

    # -- catalog ---------------------------------------------------------------------------
    def _assembly(self, actor: Actor, accession: str) -> Record:
        acc = accession.strip().upper()
        record = self.catalog.get(actor, acc)
        if record.kind != "assembly":
            raise UsageError(f"{acc} is a {record.kind}; sequences belong to an assembly "
                             "record (create one with `lanhai create assembly`)")
        return record

    def _stored_summary(self, accession: str, manifest: Mapping[str, Any]) -> dict[str, Any]:
        """The record summary the stored sequences and finished gene calls imply."""
        summary = dict(manifest["summary"])
        done = self.store.genes_done(accession)
        if done is not None and done.get("input_sha256") == manifest["sha256"]:
            summary.update(_gene_summary(done))
        return summary

    def _set_summary(self, actor: Actor, accession: str, values: Mapping[str, Any],
                     note: str | None) -> None:
        """Write summary fields onto the assembly record (versioned, in its history)."""
        self.catalog.set_summary(actor, accession, values, note)


def annotate_assembly(root: str, accession: str, assembly_type: str | None, threads: int,
                      packs: Sequence[Pack], steps: Sequence[str], max_gap: int = MAX_GAP
                      ) -> dict[str, Any]:
    """Run the unfinished ``steps`` of one assembly (in a worker process); returns the
    markers of the steps it finished."""
    markers: dict[str, Any] = {}
    if GENES_STEP in steps:
        markers[GENES_STEP] = call_assembly_genes(root, accession, assembly_type, threads)
    if FAMILIES in steps:
        markers[FAMILIES] = annotate_families(root, accession, packs, threads, max_gap)
    if CLUSTERS_STEP in steps:
        markers[CLUSTERS_STEP] = find_assembly_clusters(root, accession, threads)
    return markers


def markers_done(store: SequenceStore, accession: str) -> set[str]:
    """Steps whose current marker exists (after a failure: what did finish)."""
    done = set()
    manifest = store.manifest(accession) or {}
    genes = store.genes_done(accession)
    if genes is not None and genes.get("input_sha256") == manifest.get("sha256"):
        done.add(GENES_STEP)
    if store.step_done(accession, ANNOTATION) is not None:
        done.add(FAMILIES)
    if store.step_done(accession, CLUSTERS) is not None:
        done.add(CLUSTERS_STEP)
    return done


def clusters_tool() -> str:
    """The GECCO version that makes stored clusters current."""
    return f"gecco {version('gecco')}"


def call_assembly_genes(root: str, accession: str, assembly_type: str | None,
                        threads: int) -> dict[str, Any]:
    """Call the genes of one ingested assembly and store them (runs in a worker process).

    Returns the completion marker, written last."""
    store = SequenceStore.at(root)
    manifest = store.manifest(accession)
    if manifest is None:
        raise FileNotFoundError(f"{accession} has no sequences")
    mode, reason = mode_for(assembly_type, int(manifest["summary"]["genome_size"]))
    training = [seq for _, seq in store.iter_sequences(accession)] if mode == SINGLE else []
    finder, warned = make_finder(mode, training)
    del training
    genes = proteins = 0
    with store.stage_genes(accession) as staged:
        gene_table = staged.table("genes", GENES)
        protein_table = staged.table("proteins", SEQUENCES)
        for found in call_genes(finder, store.iter_sequences(accession), threads):
            for gene in found:
                row = gene.as_row()
                gene_table.add(row)
                protein_table.add(_protein_row(gene.protein_id, gene.protein, row))
            genes += len(found)
            proteins += len(found)
        staged.commit()
    marker = {"input_sha256": manifest["sha256"], "mode": mode, "reason": reason,
              "warnings": warned,
              "gene_count": genes, "protein_count": proteins,
              "tool": f"pyrodigal {version('pyrodigal')}",
              "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    store.mark_genes_done(accession, marker)
    return marker


def _part_of(marker: Mapping[str, Any] | None) -> dict[str, Any]:
    """What identifies a finished contig batch: the input it was called from, its rows."""
    return {k: (marker or {}).get(k) for k in ("input_sha256", "contigs")}


def _failure(err: BaseException, pool: Executor) -> str:
    """Why a task failed, in words (a cluster's lost scheduler or workers named)."""
    cluster = getattr(pool, "address", None)
    if cluster and isinstance(err, CancelledError):
        return (f"the task was cancelled: the Dask scheduler at {cluster} was lost (or this "
                "machine's connection to it)")
    if cluster and type(err).__name__ == "KilledWorker":
        return (f"the workers running the task died each time it was tried ({err}): out of "
                "memory? give the workers more (dask worker --memory-limit)")
    return f"{type(err).__name__}: {err}"


def call_gene_batch(root: str, accession: str, part: int, first: int, last: int,
                    threads: int) -> dict[str, Any]:
    """Call the genes of contigs ``first`` to ``last`` (rows) of a metagenome and store them
    as one part (runs in a worker); returns the part's marker."""
    store = SequenceStore.at(root)
    manifest = store.manifest(accession)
    if manifest is None:
        raise FileNotFoundError(f"{accession} has no sequences")
    finder, _ = make_finder(META)
    marker: dict[str, Any] = {"input_sha256": manifest["sha256"], "contigs": [first, last]}
    genes = 0
    with store.stage_gene_part(accession, part) as staged:
        gene_table = staged.table("genes", GENES)
        protein_table = staged.table("proteins", SEQUENCES)
        for found in call_genes(finder, store.iter_sequences(accession, start=first,
                                                             stop=last), threads):
            for gene in found:
                row = gene.as_row()
                gene_table.add(row)
                protein_table.add(_protein_row(gene.protein_id, gene.protein, row))
            genes += len(found)
        marker["gene_count"] = genes
        staged.write_json("part.json", marker)
        staged.commit()
    return marker


def join_gene_batches(root: str, accession: str, parts: int, assembly_type: str | None
                      ) -> dict[str, Any]:
    """Join a metagenome's finished contig batches, in order, into its genes and proteins
    (the rows one task would have written) and mark gene calling done (runs in a worker)."""
    store = SequenceStore.at(root)
    manifest = store.manifest(accession)
    if manifest is None:
        raise FileNotFoundError(f"{accession} has no sequences")
    mode, reason = mode_for(assembly_type, int(manifest["summary"]["genome_size"]))
    counts: dict[str, int] = {}
    with store.stage_genes(accession) as staged:
        for table, schema in (("genes", GENES), ("proteins", SEQUENCES)):
            writer = staged.table(table, schema)
            for part in range(parts):
                marker = store.gene_part(accession, part)
                if marker is None or marker.get("input_sha256") != manifest["sha256"]:
                    raise RuntimeError(f"contig batch {part + 1} of {accession} is missing; "
                                       "its gene calling runs again")
                for row in store.iter_gene_part(accession, part, table):
                    writer.add(row)
            counts[table] = writer.rows
        staged.commit()
    done = {"input_sha256": manifest["sha256"], "mode": mode, "reason": reason,
            "warnings": [], "gene_count": counts["genes"], "protein_count": counts["proteins"],
            "tool": f"pyrodigal {version('pyrodigal')}",
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    store.mark_genes_done(accession, done)
    store.remove_gene_parts(accession)
    return done


def _protein_row(protein_id: str, protein: str, gene_row: Mapping[str, Any]
                 ) -> dict[str, Any]:
    return {"id": protein_id, "length": len(protein),
            "description": formats.gene_description(gene_row), "sequence": protein}


def _process_pool(workers: int) -> ProcessPoolExecutor:
    # spawn: a forked child would inherit the parent's threads and open connections
    return ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("spawn"))


def _gene_summary(marker: Mapping[str, Any]) -> dict[str, Any]:
    return {"gene_count": marker["gene_count"], "protein_count": marker["protein_count"]}


def _public(manifest: Mapping[str, Any]) -> dict[str, Any]:
    return {k: manifest[k] for k in ("kind", "file", "sha256", "format", "compressed",
                                     "summary", "ingested_at", "set_aside", "set_aside_count")
            if k in manifest}


def _refused(name: str, reader: SequenceReader, set_aside_bad: bool, valid: int
             ) -> ValidationFailed:
    """Why nothing of the file was stored (``valid``: records without problems)."""
    more = reader.problem_count - len(reader.problems)
    why = f"{name}: {reader.problem_count} problem(s); nothing was stored"
    if reader.file_problems:
        if set_aside_bad:
            why += (f" ({reader.file_problems} of them concern the whole file, so no record "
                    "could be set aside)")
    elif set_aside_bad:
        why += " (every record has a problem: there is nothing valid to store)"
    elif valid:
        bad = reader.set_aside_count
        why += (f"; to store the {valid:,} valid record{'s' if valid != 1 else ''} and set "
                f"aside the {bad:,} with problems, ingest with --set-aside-bad (API: "
                "set_aside_bad=true)")
    return ValidationFailed(why + (f" ({more} more not listed)" if more else ""),
                            reader.problems)


#: the most a history note holds (the versions table's note column)
_NOTE = 500


def _set_aside_note(manifest: Mapping[str, Any], room: int) -> str:
    """'; 6 bad records set aside: ID (line 12: reason); …' in at most ``room`` characters
    (the whole list is in the manifest: GET /api/assemblies/{accession}/sequences)."""
    count = int(manifest.get("set_aside_count", 0))
    if not count:
        return ""
    head = f"; {count} bad record{'s' if count != 1 else ''} set aside"
    parts: list[str] = []
    used = len(head) + 2 + len(f"; and {count} more")
    for item in manifest.get("set_aside", []):
        part = f"{item['id']} (line {item['line']}: {item['reason']})"
        if len(part) > 120:
            part = part[:118] + "…)"
        if used + len(part) + 2 > room:
            break
        parts.append(part)
        used += len(part) + 2
    rest = count - len(parts)
    text = head + (": " + "; ".join(parts) if parts else "") + (
        f"; and {rest} more" if rest and parts else "")
    return text[:max(room, 0)]


