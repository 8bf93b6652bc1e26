"""Similarity search over every stored protein or contig, with each hit's lineage resolved.

:class:`SequenceSearch` is the use case the CLI and the API call: it validates the query
FASTA, runs MMseqs2 over the segmented index (:mod:`lanhai.store.seq_index`), and resolves
each hit through the catalog's lineage graph — protein (its contig and coordinates for
called genes) → assembly → strain → sample (place, depth, date) → who may receive the
strain — showing nothing the caller may not see: a hit in a restricted assembly is dropped
for readers, and a restricted strain or sample is left out of the lineage.

:meth:`SequenceSearch.update_index` is the hook for code that changes an assembly's
sequences.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

from lanhai.errors import NotFound, Problem, UsageError, ValidationFailed
from lanhai.limits import Limits
from lanhai.search.mmseqs import MMseqs, find_binary
from lanhai.sequence.reader import GENOME, PROTEOME, SequenceReader
from lanhai.services.access import Actor
from lanhai.services.catalog import CatalogService
from lanhai.services.sequences import cpu_count
from lanhai.store.layout import Layout
from lanhai.store.leftovers import scratch
from lanhai.store.seq_index import DBS, SequenceIndex

log = logging.getLogger("lanhai.search")

Progress = Callable[[int, int, str], None]
#: queries above this many are run as a background job by the API
SYNC_QUERIES = 50
#: largest total query size accepted (residues)
MAX_QUERY_RESIDUES = 50_000_000
#: a bank's searched residues from which its segments are searched on the Dask cluster
#: (when one is named): below it, connecting to the cluster costs more than it saves
CLUSTER_MIN_RESIDUES = 100_000_000
_DNA = frozenset("ACGTUN")
STRAIN_FIELDS = ("taxon_name", "strain_designation", "collection_numbers", "status",
                 "restrictions_on_use", "nagoya_compliance", "risk_group", "risk_group_scheme",
                 "form_of_supply")
SAMPLE_FIELDS = ("samp_name", "lat_lon", "depth", "collection_date", "geo_loc_name",
                 "env_medium")


def _no_progress(done: int, total: int, what: str) -> None:
    """Default progress callback: does nothing."""



_BARE = re.compile(rb"^[A-Za-z*\s\d-]+$")


def bare_sequence_as_fasta(raw: bytes) -> bytes:
    """A pasted sequence without a '>' line (letters, perhaps numbered lines or spaces, as
    copied from a paper or a GenBank ORIGIN block) becomes one FASTA record "query"."""
    text = raw.strip()
    if not text or text.startswith((b">", b"\x1f\x8b", b"LOCUS")) or not _BARE.match(text):
        return raw
    letters = re.sub(rb"[\s\d-]", b"", text)
    return b">query\n" + letters + b"\n" if letters else raw


def read_query(data: bytes | str, db: str = "proteins", name: str = "query",
               limits: Limits | None = None) -> list[tuple[str, str]]:
    """(id, sequence) of a query FASTA; ValidationFailed listing every problem. A gzip
    query may expand to ``limits.query`` bytes (it is a search request)."""
    raw = data.encode() if isinstance(data, str) else data
    raw = bare_sequence_as_fasta(raw)
    kind = GENOME if db == "contigs" else PROTEOME
    reader = SequenceReader(io.BytesIO(raw), kind=kind, name=name, allow_stops=True,
                            limits=limits, cap="query")
    records = [(r.id, r.sequence) for r in reader]
    problems = list(reader.problems)
    if not problems and not records:
        problems.append(Problem("holds no sequence", "give FASTA: a '>id' line, then the "
                                "sequence", file=name))
    if db == "proteins":
        for ident, seq in records:
            if len(seq) >= 30 and set(seq) <= _DNA:
                problems.append(Problem(
                    "looks like a nucleotide sequence, but the protein bank is searched",
                    "search the contigs with --db contigs (API: \"db\": \"contigs\") or give "
                    "the protein sequence", record=ident, file=name))
    if sum(len(s) for _, s in records) > MAX_QUERY_RESIDUES:
        problems.append(Problem(f"is larger than {MAX_QUERY_RESIDUES:,} residues",
                                "split the query into several searches", file=name))
    if problems:
        raise ValidationFailed(f"the query {name} is not valid {db[:-1]} FASTA", problems)
    return records


#: the loosest e-value a search may ask for (MMseqs2 reports nothing useful past it)
MAX_EVALUE = 1e6
#: the most hits a search may ask for per query
MAX_HITS = 100_000


def check_options(db: str, evalue: float, min_identity: float, max_hits: int) -> None:
    if db not in DBS:
        raise UsageError(f"db must be one of: {', '.join(DBS)}")
    if not 0 < evalue <= MAX_EVALUE:  # also refuses nan and inf
        raise UsageError(f"--evalue must be above 0 and at most {MAX_EVALUE:g} (e.g. 1e-3)")
    if not 0 <= min_identity <= 1:
        raise UsageError("--min-identity is a fraction between 0 and 1 (e.g. 0.3)")
    if not 1 <= max_hits <= MAX_HITS:
        raise UsageError(f"--max-hits must be between 1 and {MAX_HITS:,}")


class SequenceSearch:
    """Sequence search over one bank: its catalog and its stored sequences."""

    def __init__(self, catalog: CatalogService, layout: Layout, *,
                 mmseqs: MMseqs | None = None, binary: str | None = None,
                 jobs: int = 0, limits: Limits | None = None, scheduler: str = "",
                 cluster_min_residues: int = CLUSTER_MIN_RESIDUES) -> None:
        self.catalog = catalog
        self.layout = layout
        self._mmseqs = mmseqs
        self.binary = binary
        self.jobs = jobs
        #: what a query may hold once decompressed
        self.limits = limits or Limits()
        #: the Dask scheduler whose workers search the index segments ("" = this machine)
        self.scheduler = scheduler
        #: a search of fewer residues than this stays on this machine
        self.cluster_min_residues = cluster_min_residues

    def with_jobs(self, jobs: int) -> SequenceSearch:
        """The same search with MMseqs2 on ``jobs`` threads (0: all cores)."""
        return SequenceSearch(self.catalog, self.layout, binary=self.binary, jobs=jobs,
                              limits=self.limits, scheduler=self.scheduler,
                              cluster_min_residues=self.cluster_min_residues)

    @property
    def mmseqs(self) -> MMseqs:
        """The MMseqs2 runner (``binary``: a path, 'bundled' or 'system'; LANHAI_MMSEQS)."""
        if self._mmseqs is None:
            self._mmseqs = MMseqs(find_binary(self.binary), threads=self.jobs or cpu_count())
        return self._mmseqs

    def index(self, db: str = "proteins") -> SequenceIndex:
        if db not in DBS:
            raise UsageError(f"db must be one of: {', '.join(DBS)}")
        return SequenceIndex(self.layout, db, self.mmseqs)

    def _restricted(self) -> set[str]:
        """The assemblies only curators may see (kept in segments of their own)."""
        return self.catalog.restricted_accessions("assembly")

    def search(self, actor: Actor, query: bytes | str | Sequence[tuple[str, str]], *,
               db: str = "proteins", evalue: float = 1e-3, min_identity: float = 0.0,
               max_hits: int = 10, sensitive: bool = False, name: str = "query",
               progress: Progress = _no_progress) -> dict[str, Any]:
        """Hits of every query sequence, best first, each with its lineage resolved."""
        check_options(db, evalue, min_identity, max_hits)
        records = (list(query) if not isinstance(query, (bytes, str))
                   else read_query(query, db, name, self.limits))
        index = self.index(db)
        seen = actor.can_see_restricted
        restricted = self._restricted()
        hidden = () if seen else restricted
        segments = index.searched(seen, hidden)
        on_cluster = bool(self.scheduler) and len(segments) > 1 and sum(
            index.live_residues(seg) for seg in segments) >= self.cluster_min_residues
        # locked while used, so `lanhai clean` takes only dead ones; under the data folder
        # (shared with the cluster's workers) when the segments are searched there, unless
        # the workers fetch them from object storage
        shared = on_cluster and index.store.remote is None
        with scratch(self.layout.scratch if shared else None) as work, \
                self._executor(on_cluster) as executor:
            fasta = work / "query.fasta"
            with open(fasta, "w", encoding="ascii", errors="replace") as out:
                for ident, seq in records:
                    out.write(f">{ident}\n{seq}\n")
            # a caller below curator searches the public segments only, with an assembly
            # restricted since it was indexed left out: what a bank without the restricted
            # assemblies would answer (hits, e-values, sizes)
            raw, info = index.search(fasta, work, evalue=evalue,
                                     max_seqs=max(300, max_hits), sensitive=sensitive,
                                     include_restricted=seen, hidden=hidden,
                                     progress=progress, executor=executor)
        if on_cluster:
            info["cluster"] = self.scheduler
        lineage = Lineage(self.catalog, actor, index)
        hits: list[dict[str, Any]] = []
        per_query: dict[str, int] = {}
        for hit in raw:
            if hit.identity < min_identity or hit.evalue > evalue:
                continue
            if per_query.get(hit.query, 0) >= max_hits:
                continue
            resolved = lineage.of(hit.assembly)
            if resolved is None:
                continue
            per_query[hit.query] = per_query.get(hit.query, 0) + 1
            row = hit.to_dict()
            gene = lineage.gene(hit.assembly, hit.target)
            if gene is not None:
                row["gene"] = gene
            row["lineage"] = resolved
            hits.append(row)
        return {"db": db, "mode": "sensitive" if sensitive else "default",
                "queries": [{"id": i, "length": len(s), "hits": per_query.get(i, 0)}
                            for i, s in records],
                "evalue": evalue, "min_identity": min_identity, "max_hits": max_hits,
                "index": {**info, "pending": self._pending(index, restricted, seen)},
                "hits": hits}

    @contextlib.contextmanager
    def _executor(self, on_cluster: bool) -> Iterator[Executor | None]:
        """The cluster's executor (each segment one task on a worker), or None: here."""
        if not on_cluster:
            yield None
            return
        from lanhai.services.cluster import ClusterExecutor

        store = self.layout.sequence_store()
        # the workers must see the data folder, or with object storage reach the bucket
        executor = ClusterExecutor(self.scheduler, store.address if store.remote is not None
                                   else self.layout.root)
        try:
            yield executor
        finally:
            executor.shutdown(cancel_futures=True)

    # -- the index -------------------------------------------------------------------------
    def update_index(self, accessions: Iterable[str] | None = None, *,
                     dbs: Sequence[str] = DBS, progress: Progress = _no_progress
                     ) -> dict[str, Any]:
        """Bring the sequence indexes up to date for ``accessions`` (all when None): call
        after an assembly's sequences, proteins or restriction change. Cheap when nothing
        changed."""
        names = None if accessions is None else list(accessions)
        restricted = self._restricted()
        done = {db: self.index(db).update(names, restricted=restricted, progress=progress)
                for db in dbs}
        self._publish(dbs)
        return done

    def _publish(self, dbs: Sequence[str]) -> None:
        """With a Dask cluster and object storage, upload new segments now, so the first
        search on the cluster does not wait for them (one the storage refuses now is
        uploaded by that search, or it says why it cannot)."""
        from lanhai.store.remote import StorageUnavailable

        if self.scheduler and self.layout.storage_url:
            for db in dbs:
                try:
                    self.index(db).publish()
                except StorageUnavailable as err:
                    log.warning("the index segments stay on this server for now: %s",
                                err.message)

    def rebuild_index(self, db: str, progress: Progress = _no_progress) -> dict[str, Any]:
        """Index every stored assembly again (one segment per kind)."""
        done = self.index(db).rebuild(self._restricted(), progress)
        self._publish([db])
        return done

    def compact_index(self, db: str, progress: Progress = _no_progress) -> dict[str, Any]:
        """Merge small segments and drop masked (removed, replaced or moved) assemblies."""
        done = self.index(db).compact(progress=progress)
        self._publish([db])
        return done

    def warm_index(self, db: str) -> dict[str, Any]:
        """Load the index into the page cache for fast interactive searches."""
        return self.index(db).warm()

    def index_status(self, db: str) -> dict[str, Any]:
        """Segments, sizes and what the next update would do (the bank's own view)."""
        return self.index(db).status(self._restricted())

    @staticmethod
    def _pending(index: SequenceIndex, restricted: set[str], seen: bool) -> int:
        """Assemblies the caller may see that the next update would add, move or drop."""
        add, mask = index.changes(restricted=restricted)
        waiting = set(add) | set(mask)
        return len(waiting if seen else waiting - restricted)


class Lineage:
    """Resolves assemblies (and called genes) to what the caller may see, with a cache."""

    def __init__(self, catalog: CatalogService, actor: Actor, index: SequenceIndex) -> None:
        self.catalog, self.actor, self.index = catalog, actor, index
        self._cache: dict[str, dict[str, Any] | None] = {}
        self._genes: dict[str, dict[str, dict[str, Any]] | None] = {}

    def of(self, accession: str) -> dict[str, Any] | None:
        """The assembly's strains, samples and access terms; None when hidden or unknown."""
        if accession not in self._cache:
            self._cache[accession] = self._resolve(accession)
        return self._cache[accession]

    def _resolve(self, accession: str) -> dict[str, Any] | None:
        try:
            assembly = self.catalog.get(self.actor, accession)
            walk = self.catalog.lineage(self.actor, accession, max_depth=4)
        except NotFound:
            return None
        kinds = {n["accession"]: n["kind"] for n in walk["nodes"]}
        strains = [self._fields(a, STRAIN_FIELDS) for a in sorted(kinds)
                   if kinds[a] == "strain"]
        samples = [self._sample(a) for a in sorted(kinds) if kinds[a] == "sample"]
        return {"assembly": {"accession": assembly.accession, "name": assembly.name,
                             "taxon_name": assembly.fields.get("taxon_name"),
                             "assembly_type": assembly.fields.get("assembly_type")},
                "strains": [s for s in strains if s is not None],
                "samples": [s for s in samples if s is not None]}

    def _fields(self, accession: str, names: Iterable[str]) -> dict[str, Any] | None:
        try:
            record = self.catalog.get(self.actor, accession)
        except NotFound:
            return None
        out: dict[str, Any] = {"accession": record.accession, "name": record.name}
        out.update({n: record.fields[n] for n in names if n in record.fields})
        return out

    def _sample(self, accession: str) -> dict[str, Any] | None:
        sample = self._fields(accession, SAMPLE_FIELDS)
        if sample is None:
            return None
        place = sample.get("lat_lon")
        if isinstance(place, list) and len(place) == 2:
            sample["lat"], sample["lon"] = place
        depth = sample.get("depth")
        if isinstance(depth, list) and depth:
            sample["depth_m"] = depth
        return sample

    def gene(self, accession: str, protein: str) -> dict[str, Any] | None:
        """Contig and coordinates of a called gene's protein (None for given proteomes)."""
        if self.index.db != "proteins":
            return None
        if accession not in self._genes:
            store = self.index.store
            table: dict[str, dict[str, Any]] | None = None
            if store.table_path(accession, "genes") is not None and \
                    store.input_table(accession) == "contigs":
                table = {row["protein_id"]: {k: row[k] for k in ("contig", "start", "end",
                                                                 "strand")}
                         for row in store.iter_rows(accession, "genes", columns=[
                             "protein_id", "contig", "start", "end", "strand"])}
            self._genes[accession] = table
        genes = self._genes[accession]
        return None if genes is None else genes.get(protein)


def as_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flat rows (one per hit) for TSV output."""
    rows = []
    for hit in result["hits"]:
        lineage = hit["lineage"]
        strains = lineage["strains"]
        samples = lineage["samples"]
        gene = hit.get("gene") or {}
        rows.append({
            "query": hit["query"], "target": hit["target"], "assembly": hit["assembly"],
            "evalue": hit["evalue"], "bits": hit["bits"], "identity": hit["identity"],
            "alignment_length": hit["alignment_length"],
            "query_start": hit["query_start"], "query_end": hit["query_end"],
            "target_start": hit["target_start"], "target_end": hit["target_end"],
            "contig": gene.get("contig", ""),
            "strain": ";".join(s["accession"] for s in strains),
            "taxon": ";".join(str(s.get("taxon_name", "")) for s in strains)
            or str(lineage["assembly"].get("taxon_name") or ""),
            "restrictions_on_use": ";".join(str(s.get("restrictions_on_use", ""))
                                            for s in strains),
            "sample": ";".join(s["accession"] for s in samples),
            "lat_lon": ";".join(" ".join(map(str, s.get("lat_lon", []))) for s in samples),
            "depth_m": ";".join("-".join(map(str, s.get("depth", []))) for s in samples),
            "collection_date": ";".join(str(s.get("collection_date", "")) for s in samples),
        })
    return rows


__all__ = ["DBS", "MAX_QUERY_RESIDUES", "SYNC_QUERIES", "Lineage", "SequenceSearch", "as_rows",
           "check_options", "read_query"]
