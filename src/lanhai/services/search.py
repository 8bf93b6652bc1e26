"""Catalogue search: full text across every record kind, with facets, sorting and paging.

The store finds the matches (the full-text index and the indexed columns, restricted
records left out for callers who may not see them) and gives their facet columns as arrays;
the lineage filters (has a genome, has a family) are sets of record ids worked out from the
links and the stored annotation; facet counts, sorting and paging then run over that one
result, and only the page's records are read in full.

A long-running server keeps every record's facet columns in memory
(:meth:`SearchService.keep_columns_in_memory`): a search is then the full-text lookup plus
array operations.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lanhai.errors import UsageError
from lanhai.model import MAX_OFFSET, Record
from lanhai.search.filters import (
    DEPTH_BUCKETS,
    LINEAGE_DEPTH,
    SORTS,
    TOP_TAXA,
    CatalogFilters,
    name_relevance,
    words_of,
)
from lanhai.services.access import Actor
from lanhai.store import hits as hit_store
from lanhai.store import links as link_store
from lanhai.store import search as search_store
from lanhai.store.database import Conn, Database
from lanhai.store.search_columns import BankColumns, Columns
from lanhai.store.sequences import SequenceStore


@dataclass(frozen=True)
class Hit:
    """One record in a result page."""

    accession: str
    kind: str
    name: str
    taxon: str | None
    depth_m: float | None
    event_date: str | None
    latitude: float | None
    longitude: float | None
    availability: str | None
    has_genome: bool
    score: float | None
    record: Record

    def to_dict(self) -> dict[str, Any]:
        return {"accession": self.accession, "kind": self.kind, "name": self.name,
                "taxon": self.taxon, "depth_m": self.depth_m, "event_date": self.event_date,
                "latitude": self.latitude, "longitude": self.longitude,
                "availability": self.availability, "has_genome": self.has_genome,
                "score": self.score}


@dataclass(frozen=True)
class SearchResult:
    """A page of hits, the total and the facet counts over every match."""

    query: str
    total: int
    limit: int
    offset: int
    sort: str
    hits: list[Hit]
    facets: dict[str, Any] = field(default_factory=dict)

    @property
    def next_offset(self) -> int | None:
        end = self.offset + len(self.hits)
        return end if end < self.total else None

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "total": self.total, "limit": self.limit,
                "offset": self.offset, "next_offset": self.next_offset, "sort": self.sort,
                "items": [h.to_dict() for h in self.hits], "facets": self.facets}


class SearchService:
    """Catalogue search over one bank: its catalog and its stored assemblies."""

    def __init__(self, db: Database, sequences: SequenceStore) -> None:
        self.db = db
        self.sequences = sequences
        self._columns: BankColumns | None = None
        self._lock = threading.Lock()
        #: include_restricted -> ((latest change, assemblies with sequences), record ids)
        self._genomes: dict[bool, tuple[Any, set[int]]] = {}

    # -- the in-memory columns -----------------------------------------------------------------
    def keep_columns_in_memory(self) -> None:
        """Keep every record's facet columns in memory (SQLite; for long-running servers: a
        one-off command reads its matches with SQL instead of loading the whole bank)."""
        if self.db.dialect == "sqlite":
            with self._lock:
                self._columns = self._columns or BankColumns()

    @property
    def columns_kept(self) -> bool:
        return self._columns is not None

    def warm(self) -> None:
        """Load the in-memory columns now, if they are kept (a server calls this at start)."""
        if self._columns is None:
            return
        with self.db.read() as conn:
            if search_store.has_search_table(conn):
                with self._fresh(conn):
                    pass

    @contextmanager
    def _fresh(self, conn: Conn) -> Iterator[BankColumns]:
        """The in-memory columns brought up to date; read them inside the block (another
        search may refresh them otherwise)."""
        columns = self._columns
        assert columns is not None
        with columns.lock:
            columns.refresh(conn)
            yield columns

    # -- the search ------------------------------------------------------------------------
    def search(self, actor: Actor, query: str | None,
               filters: CatalogFilters | None = None, *, sort: str = "relevance",
               limit: int = 20, offset: int = 0, descending: bool = False,
               facet_families: Sequence[str] = ()) -> SearchResult:
        """Records matching the text and every filter, a page of them and facet counts.

        ``sort`` is relevance (best first; accession when there is no text), accession,
        date, depth or name; ``descending`` reverses it. Records without the sort value come
        last. ``facet_families`` adds a count, per family, of the matches whose genome hits
        it.
        """
        if sort not in SORTS:
            raise UsageError(f"cannot sort by {sort!r}; sort by one of: {', '.join(SORTS)}")
        if not 1 <= limit <= MAX_OFFSET or not 0 <= offset <= MAX_OFFSET:
            raise UsageError(f"limit must be at least 1 and offset between 0 and "
                             f"{MAX_OFFSET:,}")
        filters = filters or CatalogFilters()
        seen = actor.can_see_restricted
        text = query or ""
        with self.db.read() as conn:
            found = self._matches(conn, text, filters, seen or actor.member_of is not None)
            if not seen and actor.member_of is not None:
                # a member finds its organisation's unpublished entries, nothing else hidden
                own = _own_entries(conn, actor.member_of)
                found = found.take(~found.restricted | np.isin(found.ids, own))
            genome_ids = self._genome_ids(conn, seen)
            genomes = np.fromiter(genome_ids, dtype=np.int64, count=len(genome_ids))
            if filters.has_genome:
                found = found.take(np.isin(found.ids, genomes))
            if filters.has_family:
                with_family = self._with_family(conn, filters.has_family, seen)
                found = found.take(np.isin(found.ids, list(with_family)))
            facets = found.facets(genomes, DEPTH_BUCKETS, TOP_TAXA)
            if facet_families:
                counts = {}
                for family in dict.fromkeys(f.strip() for f in facet_families if f.strip()):
                    with_it = self._with_family(conn, [family], seen)
                    counts[family] = int(np.count_nonzero(np.isin(found.ids, list(with_it))))
                facets["family"] = counts
            ranked = search_store.TextMatch(conn, text, search_store.records_search).ranked
            words = " ".join(words_of(text)).lower() if ranked and sort == "relevance" \
                else None
            page = found.first(offset + limit, sort, descending, words,
                               name_relevance)[offset:offset + limit]
            page_ids = [int(found.ids[p]) for p in page]
            full = search_store.records_by_id(conn, page_ids)
        hits = []
        for position, rid in zip(page, page_ids, strict=True):
            record = full[rid]
            kind, name, taxon, depth, date, lat, lon, avail = found.hit_fields(position)
            hits.append(Hit(record.accession, kind, name, taxon, depth, date, lat, lon, avail,
                            rid in genome_ids,
                            None if words is None else float(-name_relevance(name, words)),
                            record))
        return SearchResult(text, len(found), limit, offset, sort, hits, facets)

    def _matches(self, conn: Conn, text: str, filters: CatalogFilters, seen: bool
                 ) -> Columns:
        """The facet columns of every record matching the text and the column filters."""
        if self._columns is not None and search_store.has_search_table(conn):
            # the text gives record ids; every other condition, the counts and the order run
            # over the in-memory columns
            ids = search_store.text_ids(conn, text)
            box = filters.bbox
            with self._fresh(conn) as columns:
                return columns.select(
                    ids, kinds=filters.kinds, taxon=filters.taxon,
                    depth_min=filters.depth_min, depth_max=filters.depth_max,
                    date_from=filters.date_from, date_to=filters.date_to,
                    bbox=None if box is None else (box.west, box.south, box.east, box.north),
                    available=filters.available, include_restricted=seen)
        return search_store.matching_rows(conn, text, filters, seen)

    def _with_family(self, conn: Conn, families: Sequence[str], seen: bool) -> set[int]:
        """Ids of the records whose genome (themselves or downstream) hits a family."""
        accessions = hit_store.assemblies_with_family(self.sequences.annotated(), families)
        return link_store.upstream_ids(conn, search_store.ids_of(conn, sorted(accessions),
                                                                 seen), seen, LINEAGE_DEPTH)

    def _genome_ids(self, conn: Conn, seen: bool) -> set[int]:
        """Ids of records with a genome (themselves or downstream), remembered until the
        catalogue changes (a new version, link or unlink) or the stored assemblies do."""
        genomes = self.sequences.with_sequences()
        stamp = (search_store.latest_change(conn), frozenset(genomes))
        with self._lock:
            cached = self._genomes.get(seen)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        found = (link_store.upstream_ids(conn, search_store.ids_of(conn, sorted(genomes),
                                                                   seen), seen, LINEAGE_DEPTH)
                 if genomes else set())
        with self._lock:
            self._genomes[seen] = (stamp, found)
        return found


__all__ = ["Hit", "SearchResult", "SearchService"]


def _own_entries(conn: Conn, organisation: str) -> list[int]:
    """Database ids of the restricted offers and demands of ``organisation``."""
    from lanhai.model import Filter
    from lanhai.store import queries

    own: list[int] = []
    for kind in ("offer", "demand"):
        for batch in queries.iter_records(conn, kind, [Filter("organisation", "=", organisation)],
                                          include_restricted=True):
            own.extend(r._id for r in batch if r.restricted)
    return own
