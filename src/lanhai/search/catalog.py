"""Catalogue search: full text across every record kind, with facets, sorting and paging.

One SQL query selects the matching rows' facet columns (kind, taxon, depth, date, place,
a strain's availability and a name-match relevance) through the full-text index (SQLite
FTS5 trigram, PostgreSQL pg_trgm) and the indexed columns; on SQLite it reads them from
``records_search``, the narrow copy migration 0002 keeps in step by triggers. The lineage
filters (has genome, has family) are sets of record ids worked out from the links and the
data folder; facet counts, sorting and paging then run over that one result, and only the
page's records are read in full. Restricted records are excluded in SQL for callers below
curator, so they never reach a page or a count.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    column,
    exists,
    func,
    literal,
    or_,
    select,
    text,
)

from lanhai.db.schema import links, records, versions
from lanhai.errors import UsageError
from lanhai.kinds import fts_phrase, kind_spec
from lanhai.search.catalog_columns import Columns, Vocabularies, bank_columns, columns_kept
from lanhai.services.catalog import Actor
from lanhai.store.records import Record, record_from_row

#: assembly folders under LANHAI_DATA_DIR/assemblies whose sequences were ingested
MANIFEST = "manifest.json"
#: written last by the annotation pipeline; hits.parquet is valid only beside it
ANNOTATION_MARKER = "annotation.done.json"

SORTS = ("relevance", "accession", "date", "depth", "name")
#: depth facet buckets (metres): epipelagic, mesopelagic, bathypelagic, abyssal and below
DEPTH_BUCKETS = ((0.0, 200.0), (200.0, 1000.0), (1000.0, 4000.0), (4000.0, math.inf))
TOP_TAXA = 20
LINEAGE_DEPTH = 6


@dataclass(frozen=True)
class BBox:
    """A geographic box: west, south, east, north in degrees (west > east crosses 180°)."""

    west: float
    south: float
    east: float
    north: float

    @classmethod
    def parse(cls, value: str) -> BBox:
        parts = [p.strip() for p in value.split(",")]
        try:
            west, south, east, north = (float(p) for p in parts)
        except ValueError:
            raise UsageError(f"cannot read the box {value!r}: give W,S,E,N in decimal degrees, "
                             "e.g. 110,20,130,40 (west, south, east, north)") from None
        if not (-180 <= west <= 180 and -180 <= east <= 180):
            raise UsageError(f"box {value!r}: longitudes must be within -180..180")
        if not (-90 <= south <= north <= 90):
            raise UsageError(f"box {value!r}: latitudes must be within -90..90 with "
                             "south <= north (did you swap them?)")
        return cls(west, south, east, north)

    def condition(self, table: Table = records) -> ColumnElement[bool]:
        lat, lon = table.c.latitude, table.c.longitude
        inside_lat = and_(lat >= self.south, lat <= self.north)
        if self.west <= self.east:
            return and_(inside_lat, lon >= self.west, lon <= self.east)
        return and_(inside_lat, or_(lon >= self.west, lon <= self.east))


@dataclass(frozen=True)
class CatalogFilters:
    """Conditions on catalogue fields shared by text and family search."""

    kinds: tuple[str, ...] = ()
    taxon: str | None = None
    depth_min: float | None = None
    depth_max: float | None = None
    date_from: str | None = None
    date_to: str | None = None
    bbox: BBox | None = None
    has_genome: bool = False
    has_family: tuple[str, ...] = ()
    available: bool = False

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value is not None and not _DATE.match(value):
                raise UsageError(f"{name.replace('_', '-')} {value!r} is not an ISO date; "
                                 "write YYYY, YYYY-MM or YYYY-MM-DD")
        if (self.depth_min is not None and self.depth_max is not None
                and self.depth_min > self.depth_max):
            raise UsageError(f"depth-min {self.depth_min} is above depth-max {self.depth_max}")
        object.__setattr__(self, "kinds", tuple(kind_spec(k).name for k in self.kinds))

    def sql_conditions(self, table: Table = records) -> list[ColumnElement[bool]]:
        """The conditions on indexed columns of ``table`` (``records`` or the SQLite
        ``records_search`` copy); lineage ones are applied as id sets."""
        found: list[ColumnElement[bool]] = []
        if self.kinds:
            found.append(table.c.kind.in_(self.kinds))
        if self.taxon:
            found.append(table.c.taxon.ilike(_escape(self.taxon.strip()) + "%", escape="\\"))
        if self.depth_min is not None:
            found.append(table.c.depth_m >= self.depth_min)
        if self.depth_max is not None:
            found.append(table.c.depth_m <= self.depth_max)
        if self.date_from:
            found.append(table.c.event_date >= self.date_from)
        if self.date_to:
            # '2010' includes every day of 2010: compare below the next character
            found.append(table.c.event_date <= self.date_to + "~")
        if self.bbox is not None:
            found.append(self.bbox.condition(table))
        if self.available:
            found.append(_availability(table) == "available")
        return found


_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _availability(table: Table = records) -> ColumnElement[Any]:
    """A strain's status field (available, not available, in preparation); NULL otherwise."""
    if table is records_search:
        return records_search.c.availability
    return case((records.c.kind == "strain", records.c.fields["status"].as_string()),
                else_=None)


#: SQLite only (migration 0002): a narrow copy of each record's facet columns, kept in step
#: by triggers, so reading the facets of many matches never reads the wide records rows
records_search = Table(
    "records_search", MetaData(),
    Column("id", Integer, primary_key=True), Column("kind", String(16)),
    Column("restricted", Boolean), Column("accession", String(16)), Column("name", String(300)),
    Column("taxon", String(300)), Column("depth_m", Float), Column("event_date", String(32)),
    Column("latitude", Float), Column("longitude", Float), Column("availability", Text),
)


def _source(conn: Connection) -> Table:
    """records_search on a migrated SQLite bank, else records."""
    if conn.dialect.name != "sqlite":
        return records
    found = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records_search'").first()
    return records_search if found else records


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


# --- the data folder: which assemblies have sequences, which have annotation hits ----------

def genome_accessions(data_dir: Path) -> set[str]:
    """Assemblies whose contigs or proteins were ingested (a manifest is in their folder)."""
    root = Path(data_dir) / "assemblies"
    found: set[str] = set()
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return found
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue  # .staging holds unfinished writes
        if os.path.exists(os.path.join(entry.path, MANIFEST)):
            found.add(entry.name)
    return found


def annotated_hits(data_dir: Path) -> dict[str, Path]:
    """Assembly accession -> its hits.parquet, for finished annotations only (the marker is
    there and belongs to the stored sequences; staging folders are never read)."""
    from lanhai.store.sequences import SequenceStore

    store = SequenceStore(data_dir)
    found: dict[str, Path] = {}
    try:
        entries = sorted(os.scandir(store.root), key=lambda e: e.name)
    except FileNotFoundError:
        return found
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        if not os.path.exists(os.path.join(entry.path, ANNOTATION_MARKER)):
            continue
        path = store.table_path(entry.name, "hits")
        if path is not None:
            found[entry.name] = path
    return found


def assemblies_with_family(data_dir: Path, families: Sequence[str]) -> set[str]:
    """Assemblies with at least one hit to any of ``families`` (name or accession)."""
    files = annotated_hits(data_dir)
    if not files or not families:
        return set()
    import duckdb

    from lanhai.search.families import family_condition

    condition, params = family_condition(families)
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT DISTINCT filename FROM read_parquet(?, filename = true) h "
            f"WHERE {condition}", [[str(p) for p in files.values()], *params]).fetchall()
    finally:
        con.close()
    by_path = {str(p): acc for acc, p in files.items()}
    return {by_path[r[0]] for r in rows if r[0] in by_path}


# --- lineage: from assemblies up to the strains and samples they came from ----------------

def ancestor_ids(conn: Connection, accessions: Iterable[str], include_restricted: bool,
                 max_depth: int = LINEAGE_DEPTH) -> set[int]:
    """Ids of the records named and of every record upstream of them in the lineage graph.

    A restricted record the caller may not see is neither returned nor walked through.
    """
    wanted = sorted(set(accessions))
    ids: set[int] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        stmt = select(records.c.id).where(records.c.accession.in_(chunk))
        if not include_restricted:
            stmt = stmt.where(records.c.restricted == literal(False))
        ids.update(r[0] for r in conn.execute(stmt))
    frontier, seen = set(ids), set(ids)
    for _ in range(max_depth):
        if not frontier:
            break
        found: set[int] = set()
        listed = sorted(frontier)
        for start in range(0, len(listed), 500):
            stmt = (select(links.c.source_id).join(records, records.c.id == links.c.source_id)
                    .where(links.c.target_id.in_(listed[start:start + 500])))
            if not include_restricted:
                stmt = stmt.where(records.c.restricted == literal(False))
            found.update(r[0] for r in conn.execute(stmt))
        frontier = found - seen
        seen |= frontier
    return seen


# --- the search ----------------------------------------------------------------------------

def _tokens(query: str) -> list[str]:
    return [t for t in re.split(r"\s+", query.strip()) if t]


def _text_conditions(conn: Connection, query: str, table: Table
                     ) -> tuple[list[ColumnElement[bool]], Any | None, bool]:
    """(conditions, FTS5 subquery to join or None, whether matches are ranked by name)."""
    tokens = _tokens(query)
    if not tokens:
        return [], None, False
    conditions: list[ColumnElement[bool]] = []
    if conn.dialect.name == "sqlite":
        phrases = [p for p in (fts_phrase(t) for t in tokens) if p is not None]
        # trigram FTS5 needs three characters (short Han words are stored spelled out to
        # reach three); short Latin words are checked by LIKE on the rows the other words
        # found (or, alone, by a scan)
        for short in (t for t in tokens if fts_phrase(t) is None):
            like = records.c.search_text.ilike("%" + _escape(short) + "%", escape="\\")
            conditions.append(like if table is records else exists(
                select(literal(1)).where(records.c.id == table.c.id, like)))
        if phrases:
            match = " AND ".join('"' + t.replace('"', '""') + '"' for t in phrases)
            fts = (text("SELECT rowid AS rid FROM records_fts "
                        "WHERE records_fts MATCH :match").bindparams(match=match)
                   .columns(column("rid", Integer)).subquery("fts"))
            return conditions, fts, True
        return conditions, None, False
    for token in tokens:
        conditions.append(records.c.search_text.ilike("%" + _escape(token) + "%", escape="\\"))
    return conditions, None, True


def name_relevance(name: str, words: str) -> int:
    """Relevance (lower is better) of a match named ``name`` for the lower-cased ``words``:
    the record named exactly so (-3), a name starting with the words (-2), a name containing
    them (-1), the words elsewhere (0).

    FTS5's bm25 needs a document-size lookup per match, which doubled the cost of a search
    with thousands of matches; a catalogue user looks for the record *named* so first.
    Worked out here rather than in SQL: SQLite's lower() and instr() per row cost a third of
    a 100,000-match search.
    """
    lowered = name.lower()
    where = lowered.find(words)
    if where < 0:
        return 0
    if where > 0:
        return -1
    return -3 if len(lowered) == len(words) else -2


def search_catalog(conn: Connection, actor: Actor, query: str | None,
                   filters: CatalogFilters = CatalogFilters(), *, data_dir: Path,
                   sort: str = "relevance", limit: int = 20, offset: int = 0,
                   descending: bool = False, facet_families: Sequence[str] = ()
                   ) -> SearchResult:
    """Records matching the text and every filter, a page of them and facet counts.

    ``sort`` is relevance (best first; accession when there is no text), accession, date,
    depth or name; ``descending`` reverses it. Records without the sort value come last.
    ``facet_families`` adds a count, per family, of the matches whose genome hits it.
    """
    if sort not in SORTS:
        raise UsageError(f"cannot sort by {sort!r}; sort by one of: {', '.join(SORTS)}")
    if limit < 1 or offset < 0:
        raise UsageError("limit must be at least 1 and offset at least 0")
    include_restricted = actor.can_see_restricted
    table = _source(conn)
    in_memory = table is records_search and columns_kept(conn.engine)
    # the in-memory way asks SQL for record ids only: its word conditions are on ``records``
    text_conditions, fts, ranked = _text_conditions(conn, query or "",
                                                    records if in_memory else table)
    found = None
    if in_memory:
        # SQLite, where the process keeps the bank's columns in memory: the text gives record
        # ids; every other condition, the counts and the order run over the columns
        ids = _text_ids(conn, text_conditions, fts) if (text_conditions or fts is not None) \
            else None
        box = filters.bbox
        with bank_columns(conn) as bank:
            if bank is not None:
                found = bank.select(
                    ids, kinds=filters.kinds, taxon=filters.taxon,
                    depth_min=filters.depth_min, depth_max=filters.depth_max,
                    date_from=filters.date_from, date_to=filters.date_to,
                    bbox=None if box is None else (box.west, box.south, box.east, box.north),
                    available=filters.available, include_restricted=include_restricted)
    if found is None:
        found = _matching_rows(conn, table, filters, include_restricted, text_conditions, fts)

    genome_ids = _genome_ids(conn, data_dir, include_restricted)
    genomes = np.fromiter(genome_ids, dtype=np.int64, count=len(genome_ids))
    if filters.has_genome:
        found = found.take(np.isin(found.ids, genomes))
    if filters.has_family:
        with_family = ancestor_ids(conn, assemblies_with_family(data_dir, filters.has_family),
                                   include_restricted)
        found = found.take(np.isin(found.ids, list(with_family)))

    facets = found.facets(genomes, DEPTH_BUCKETS, TOP_TAXA)
    if facet_families:
        counts = {}
        for family in dict.fromkeys(f.strip() for f in facet_families if f.strip()):
            with_it = ancestor_ids(conn, assemblies_with_family(data_dir, [family]),
                                   include_restricted)
            counts[family] = int(np.count_nonzero(np.isin(found.ids, list(with_it))))
        facets["family"] = counts
    words = " ".join(_tokens(query or "")).lower() if ranked and sort == "relevance" else None
    page = found.first(offset + limit, sort, descending, words,
                       name_relevance)[offset:offset + limit]
    page_ids = [int(found.ids[p]) for p in page]
    full = {}
    if page_ids:
        for row in conn.execute(select(records).where(records.c.id.in_(page_ids))):
            full[row.id] = record_from_row(row)
    hits = []
    for position, rid in zip(page, page_ids, strict=True):
        record = full[rid]
        kind, name, taxon, depth, date, lat, lon, avail = found.hit_fields(position)
        hits.append(Hit(record.accession, kind, name, taxon, depth, date, lat, lon, avail,
                        rid in genome_ids,
                        None if words is None else float(-name_relevance(name, words)),
                        record))
    return SearchResult(query or "", len(found), limit, offset, sort, hits, facets)


def _text_ids(conn: Connection, conditions: list[ColumnElement[bool]], fts: Any | None
              ) -> NDArray[np.int64]:
    """Ids of the records holding every word (SQLite: FTS5, LIKE for short Latin words)."""
    if fts is not None and not conditions:
        stmt = select(fts.c.rid)
    elif fts is not None:
        stmt = (select(records.c.id).select_from(fts.join(records, records.c.id == fts.c.rid))
                .where(and_(*conditions)))
    else:
        stmt = select(records.c.id).where(and_(*conditions))
    result = conn.execute(stmt)
    found = np.fromiter((r[0] for r in result.cursor.fetchall()), dtype=np.int64)
    result.close()
    return found


def _matching_rows(conn: Connection, table: Table, filters: CatalogFilters,
                   include_restricted: bool, text_conditions: list[ColumnElement[bool]],
                   fts: Any | None) -> Columns:
    """The matches' columns read by one SQL query (PostgreSQL, or a SQLite bank without
    ``records_search``)."""
    conditions = filters.sql_conditions(table)
    if not include_restricted:
        conditions.append(table.c.restricted == literal(False))
    conditions.extend(text_conditions)
    stmt = select(table.c.id, table.c.accession, table.c.kind, table.c.name,
                  table.c.taxon, table.c.depth_m, table.c.event_date,
                  table.c.latitude, table.c.longitude, _availability(table).label("avail"),
                  table.c.restricted)
    if fts is not None:
        stmt = stmt.select_from(fts.join(table, table.c.id == fts.c.rid))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    # plain tuples straight from the driver: every column is a plain number or string
    result = conn.execute(stmt)
    rows = result.cursor.fetchall()
    result.close()
    return Columns.from_rows(rows, Vocabularies.new())


_GENOME_MEMO: dict[tuple[str, bool], tuple[Any, set[int]]] = {}


def _genome_ids(conn: Connection, data_dir: Path, include_restricted: bool) -> set[int]:
    """Ids of records with a genome (themselves or downstream), remembered until the
    catalogue changes (a new version, link or unlink) or the stored assemblies do."""
    genomes = genome_accessions(data_dir)
    latest = conn.execute(select(func.max(versions.c.id))).scalar()
    key = (f"{conn.engine.url}|{Path(data_dir).resolve()}", include_restricted)
    stamp = (latest, frozenset(genomes))
    cached = _GENOME_MEMO.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    found = ancestor_ids(conn, genomes, include_restricted) if genomes else set()
    if len(_GENOME_MEMO) > 16:
        _GENOME_MEMO.clear()
    _GENOME_MEMO[key] = (stamp, found)
    return found


__all__ = [
    "SORTS",
    "BBox",
    "CatalogFilters",
    "Hit",
    "SearchResult",
    "ancestor_ids",
    "annotated_hits",
    "assemblies_with_family",
    "genome_accessions",
    "search_catalog",
]
