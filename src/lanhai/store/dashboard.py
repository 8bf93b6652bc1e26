"""Aggregate SQL behind the dashboard and the browse pages: the programme counts, growth per
month, facet counts and map points. One query per panel, never one per record, so the home
page stays fast with 100,000 records (benchmarks/bench_web_pages.py).

How each dashboard count is computed (docs/web.md says the same):

- ``samples``, ``strains``, ``patent_deposits``, ``genetic_parts``, ``compounds``,
  ``assemblies``, ``germplasm``: records of that kind.
- ``marine_strains``: strains flagged ``marine = true``, or linked from a sample by
  ``isolated_from`` (every sample in the bank is a MIxS marine sample).
- ``metagenomic_entries``: assemblies whose ``assembly_type`` is ``metagenome`` or ``MAG``.
- ``carbohydrate_compounds``: compounds with a WURCS or IUPAC glycan structure, or whose
  ``compound_class`` names a saccharide, carbohydrate or glycan.
- ``plastic_degrading_strains``: strains whose ``degrades`` field lists at least one polymer.

Every count only includes records the caller may see (restricted records and patent
deposits count for curators and admins only).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from lanhai.db.schema import links, records, versions
from lanhai.kinds import kind_spec

T = TypeVar("T")


#: fields whose value a dashboard count reads (a change to any other field keeps the counts)
COUNT_FIELDS = frozenset({"marine", "degrades", "assembly_type", "wurcs", "glycan_iupac",
                          "compound_class", "restricted", "record_status"})
#: actions on existing records that only change fields or links (``create`` adds a record)
_EDITS = frozenset({"update", "link", "unlink"})
#: at most this many new versions are examined one by one; more drop every cached value
MAX_CHANGES = 500


@dataclass
class Changes:
    """What the audit trail recorded since the cached values were computed."""

    created: dict[int, str] = field(default_factory=dict)  # record id -> kind
    #: (action, kind, names of the changed fields) of every other new version
    edits: list[tuple[str, str, frozenset[str]]] = field(default_factory=list)

    def edited(self, names: frozenset[str] | set[str], kind: str | None = None,
               links: bool = False) -> bool:
        """Whether an edit (of ``kind``, when given) touched one of ``names``, a link (when
        ``links``) or did something other than an update, link or unlink."""
        for action, of_kind, changed in self.edits:
            if action not in _EDITS:
                return True
            if kind is not None and of_kind != kind:
                continue
            if action != "update":
                if links:
                    return True
                continue
            if changed & names:
                return True
        return False


class AggregateCache:
    """Aggregates (dashboard counts, growth, facets) reused while nothing they read changed.

    Every change to the catalog (create, update, link, unlink, restricting a record) writes a
    row to the audit trail, so the pair (highest version id, number of versions) changes with
    it. When it moves, the new versions (at most :data:`MAX_CHANGES`) are read and each cached
    value is kept, updated or dropped (incremental invalidation):

    - the dashboard counts (``("counts", seen)``) are sums over records, so new records are
      added by counting just them; they are recomputed after a link or unlink (marine
      strains follow ``isolated_from`` links) or an edit of a field a count reads
      (:data:`COUNT_FIELDS`, with ``restricted``);
    - growth per month (``("growth", seen)``) adds new records the same way and is
      recomputed only when a record is restricted or released;
    - a kind's facets (``("facets", kind, seen)``) are recomputed when a record of that
      kind is created or a facet field or ``restricted`` of one changed;
    - any other value, or an unexpected change (an unknown action, more than
      :data:`MAX_CHANGES` versions, or on PostgreSQL a version committed out of id order, seen
      as a count that does not match the new ids), is recomputed.

    The count in the mark catches PostgreSQL transactions that commit their version ids out
    of order (SQLite has one writer at a time, so there the highest id alone is enough: one
    index lookup).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[Any, ...], Any] = {}
        self._mark: tuple[Any, ...] | None = None

    def get(self, conn: Connection, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        if conn.dialect.name == "sqlite":  # one writer at a time: ids commit in order
            mark: tuple[Any, ...] = (conn.execute(select(func.max(versions.c.id))).scalar(),)
        else:
            row = conn.execute(select(func.max(versions.c.id), func.count())
                               .select_from(versions)).one()
            mark = (row[0], row[1])
        with self._lock:
            if mark != self._mark:
                self._values = self._carry(conn, self._mark, mark, self._values)
                self._mark = mark
            if key in self._values:
                cached: T = self._values[key]
                return cached
        value = compute()
        with self._lock:
            if mark == self._mark:
                self._values[key] = value
        return value

    @staticmethod
    def _changes(conn: Connection, old: tuple[Any, ...] | None, new: tuple[Any, ...]
                 ) -> Changes | None:
        """The versions between two marks, or None when they cannot be trusted to be all."""
        if old is None or old[0] is None or new[0] is None or new[0] < old[0]:
            return None
        rows = conn.execute(
            select(versions.c.action, versions.c.record_id, versions.c.changes, records.c.kind)
            .join(records, records.c.id == versions.c.record_id)
            .where(versions.c.id > old[0], versions.c.id <= new[0])
            .order_by(versions.c.id).limit(MAX_CHANGES + 1)).all()
        if len(rows) > MAX_CHANGES:
            return None
        if len(new) > 1 and (len(old) < 2 or new[1] - old[1] != len(rows)):
            return None  # a version committed out of id order (PostgreSQL), or one deleted
        found = Changes()
        for action, record_id, changes, kind in rows:
            if action == "create":
                found.created[int(record_id)] = str(kind)
            elif record_id not in found.created:  # a new record is counted as it is now
                names = frozenset(changes) if isinstance(changes, dict) else frozenset()
                found.edits.append((str(action), str(kind), names))
        return found

    def _carry(self, conn: Connection, old: tuple[Any, ...] | None, new: tuple[Any, ...],
               values: dict[tuple[Any, ...], Any]) -> dict[tuple[Any, ...], Any]:
        """The cached values still true at ``new``: kept, updated for new records, or left
        out (to be recomputed)."""
        if not values:
            return {}
        changes = self._changes(conn, old, new)
        if changes is None:
            return {}
        kept: dict[tuple[Any, ...], Any] = {}
        created = sorted(changes.created)
        for key, value in values.items():
            name = key[0]
            if name == "counts" and not changes.edited(COUNT_FIELDS, links=True):
                kept[key] = add_counts(value, programme_counts(conn, key[1], created)) \
                    if created else value
            elif name == "growth" and not changes.edited({"restricted"}):
                kept[key] = add_growth(value, growth(conn, key[1], created)) \
                    if created else value
            elif name == "facets" and key[1] not in changes.created.values() and \
                    not changes.edited(set(FACETS.get(key[1], ())) | {"restricted"}, key[1]):
                kept[key] = value
        return kept


def add_counts(counts: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    return {k: counts.get(k, 0) + more.get(k, 0) for k in counts.keys() | more.keys()}


def add_growth(rows: list[tuple[str, str, int]], more: list[tuple[str, str, int]]
               ) -> list[tuple[str, str, int]]:
    """Growth rows plus the rows of new records, in :func:`growth`'s order (by month)."""
    total: dict[tuple[str, str], int] = {}
    for kind, month, n in [*rows, *more]:
        total[(kind, month)] = total.get((kind, month), 0) + n
    return sorted(((k, m, n) for (k, m), n in total.items()), key=lambda r: (r[1], r[0]))


def _visible(include_restricted: bool) -> ColumnElement[bool]:
    if include_restricted:
        return literal(True) == literal(True)
    return records.c.restricted == literal(False)


def _text(name: str) -> Any:
    return records.c.fields[name].as_string()


def programme_counts(conn: Connection, include_restricted: bool,
                     ids: Sequence[int] | None = None) -> dict[str, int]:
    """Every dashboard count, in two aggregate queries (over the records ``ids`` only, when
    given: each count is a sum over records, so counts of disjoint sets add up)."""
    plural = {"sample": "samples", "strain": "strains", "deposit": "patent_deposits",
              "assembly": "assemblies", "compound": "compounds", "part": "genetic_parts",
              "germplasm": "germplasm", "organisation": "organisations", "offer": "offers",
              "demand": "demands", "incubation": "incubations", "platform": "platforms",
              "project": "projects", "achievement": "achievements", "team": "teams",
              "fund": "funds", "product": "products", "approval": "approvals"}
    counts = {k: 0 for k in plural.values()}
    # suppressed and withdrawn records count towards no target, for curators either
    visible = and_(_visible(include_restricted), _text("record_status").is_(None))
    if ids is not None:
        visible = and_(visible, records.c.id.in_(list(ids)))
    for kind, n in conn.execute(select(records.c.kind, func.count()).where(visible)
                                .group_by(records.c.kind)):
        if kind in plural:
            counts[plural[kind]] = int(n)
    source = aliased(records)
    # uncorrelated: the set of strains isolated from a visible sample, computed once (a
    # correlated EXISTS let SQLite scan every sample for every strain)
    from_sample = records.c.id.in_(
        select(links.c.target_id).join(source, source.c.id == links.c.source_id).where(
            links.c.rel == "isolated_from", source.c.kind == "sample",
            _source_visible(source, include_restricted)))
    marine = and_(records.c.kind == "strain",
                  or_(func.lower(_text("marine")).in_(("true", "1")), from_sample))
    said = func.lower(func.trim(func.coalesce(_text("degrades"), "")))
    degrades = and_(records.c.kind == "strain", func.length(said) > 2,
                    ~said.like("not %"), ~said.like("missing%"),
                    said != "restricted access", said != "none", said != "unknown")
    # new parts are those mined from one of the bank's own assemblies or strains
    mined = and_(records.c.kind == "part", records.c.id.in_(
        select(links.c.target_id).where(links.c.rel == "mined_from")))
    metagenomic = and_(records.c.kind == "assembly",
                       _text("assembly_type").in_(("metagenome", "MAG")))
    klass = func.lower(func.coalesce(_text("compound_class"), ""))
    carbohydrate = and_(records.c.kind == "compound", or_(
        _text("wurcs").is_not(None), _text("glycan_iupac").is_not(None),
        klass.contains("saccharide"), klass.contains("carbohydrate"),
        klass.contains("glycan")))

    def tally(cond: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    row = conn.execute(select(tally(marine), tally(degrades), tally(metagenomic),
                              tally(carbohydrate), tally(mined)).where(
        visible, records.c.kind.in_(("strain", "assembly", "compound", "part")))).one()
    counts.update(marine_strains=int(row[0]), plastic_degrading_strains=int(row[1]),
                  metagenomic_entries=int(row[2]), carbohydrate_compounds=int(row[3]),
                  mined_parts=int(row[4]))
    return counts


def _source_visible(source: Any, include_restricted: bool) -> ColumnElement[bool]:
    if include_restricted:
        return literal(True) == literal(True)
    restricted: ColumnElement[bool] = source.c.restricted == literal(False)
    return restricted


def growth(conn: Connection, include_restricted: bool, ids: Sequence[int] | None = None
           ) -> list[tuple[str, str, int]]:
    """(kind, YYYY-MM, records created that month), from the audit trail's ``create``
    entries. Their time is also each record's ``created_at`` (the store writes both with
    one timestamp in one transaction), so this reads the records table alone, without
    joining 100,000 version rows to their records."""
    month = func.substr(cast(records.c.created_at, String), 1, 7)
    where = _visible(include_restricted)
    if ids is not None:
        where = and_(where, records.c.id.in_(list(ids)))
    stmt = (select(records.c.kind, month, func.count()).where(where)
            .group_by(records.c.kind, month).order_by(month, records.c.kind))
    return [(str(k), str(m), int(n)) for k, m, n in conn.execute(stmt)]


#: fields offered as facets when a kind has them (choice-like values)
FACETS: dict[str, tuple[str, ...]] = {
    "sample": ("project_name", "geo_loc_name", "env_medium"),
    "strain": ("organism_type", "risk_group_scheme", "form_of_supply", "status", "marine"),
    "deposit": ("depositary",),
    "assembly": ("assembly_type", "assembly_qual", "seq_meth"),
    "compound": ("compound_class", "source_organism"),
    "part": ("part_type", "role"),
    "germplasm": ("genus", "species", "sampstat", "origcty", "instcode"),
}


def facet_counts(conn: Connection, kind: str, include_restricted: bool, top: int = 8,
                 narrowed: Sequence[ColumnElement[bool]] = ()
                 ) -> dict[str, list[dict[str, Any]]]:
    """The most common values of each facet field of ``kind`` over its visible records, or
    over those matching the ``narrowed`` conditions (a page's filters and words); one GROUP
    BY per facet."""
    spec = kind_spec(kind)
    out: dict[str, list[dict[str, Any]]] = {}
    for name in FACETS.get(spec.name, ()):
        value = _text(name)
        conditions = [records.c.kind == spec.name, _visible(include_restricted),
                      value.is_not(None), *narrowed]
        rows = conn.execute(select(value, func.count().label("n")).where(*conditions)
                            .group_by(value).order_by(func.count().desc(), value).limit(top))
        values = [{"value": str(v), "count": int(n)} for v, n in rows]
        if values:
            out[name] = values
    return out


def map_points(conn: Connection, include_restricted: bool, limit: int = 5000
               ) -> list[dict[str, Any]]:
    """Samples (and other records) with coordinates: accession, name, lat, lon, depth."""
    stmt = (select(records.c.accession, records.c.kind, records.c.name, records.c.latitude,
                   records.c.longitude, records.c.depth_m)
            .where(_visible(include_restricted), records.c.latitude.is_not(None),
                   records.c.longitude.is_not(None))
            .order_by(records.c.accession).limit(limit))
    return [{"accession": a, "kind": k, "name": n, "latitude": float(lat),
             "longitude": float(lon), "depth_m": None if d is None else float(d)}
            for a, k, n, lat, lon, d in conn.execute(stmt)]


@dataclass(frozen=True)
class MapQuery:
    """A part of the world and which records to place on it: the box (degrees), the grid
    cell (degrees) records are gathered in, and the filters."""

    west: float
    south: float
    east: float
    north: float
    cell: float
    kinds: tuple[str, ...] = ()
    depth_min: float | None = None
    depth_max: float | None = None
    year_from: int | None = None
    year_to: int | None = None


def map_cells(conn: Connection, include_restricted: bool, q: MapQuery
              ) -> list[dict[str, Any]]:
    """The records with coordinates inside ``q``'s box, gathered per grid cell: how many,
    their mean position, depth range and kinds; a cell of one record names it."""
    lat, lon = records.c.latitude, records.c.longitude
    # the cell index: floor (PostgreSQL's cast rounds; SQLite's truncates, the same for
    # these non-negative values, and has no floor without its math extension)
    row: ColumnElement[Any]
    col: ColumnElement[Any]
    if conn.dialect.name == "postgresql":
        row, col = func.floor((lat + 90.0) / q.cell), func.floor((lon + 180.0) / q.cell)
    else:
        row = cast((lat + 90.0) / q.cell, Integer)
        col = cast((lon + 180.0) / q.cell, Integer)
    where = [_visible(include_restricted), lat.is_not(None), lon.is_not(None),
             lat >= q.south, lat <= q.north, lon >= q.west, lon <= q.east]
    if q.kinds:
        where.append(records.c.kind.in_(q.kinds))
    if q.depth_min is not None:
        where.append(records.c.depth_m >= q.depth_min)
    if q.depth_max is not None:
        where.append(records.c.depth_m <= q.depth_max)
    year = func.substr(records.c.event_date, 1, 4)
    if q.year_from is not None:
        where.append(year >= f"{q.year_from:04d}")
    if q.year_to is not None:
        where.append(year <= f"{q.year_to:04d}")
    stmt = (select(row, col, func.count(), func.avg(lat), func.avg(lon),
                   func.min(records.c.depth_m), func.max(records.c.depth_m),
                   func.min(records.c.accession), func.min(records.c.name),
                   func.min(records.c.kind), func.max(records.c.kind))
            .where(*where).group_by(row, col).order_by(row, col))
    out = []
    for _, _, n, mean_lat, mean_lon, shallow, deep, first, name, kind, other in \
            conn.execute(stmt):
        out.append({"count": int(n), "latitude": float(mean_lat), "longitude": float(mean_lon),
                    "depth_min": None if shallow is None else float(shallow),
                    "depth_max": None if deep is None else float(deep),
                    "accession": first if n == 1 else None, "name": name if n == 1 else None,
                    "kind": kind if kind == other else None})
    return out


def by_year(conn: Connection, include_restricted: bool) -> list[tuple[str, str, int]]:
    """(kind, YYYY, records) by the year of each record's own date (collection, isolation,
    deposit or acquisition), for the records that have one."""
    year = func.substr(records.c.event_date, 1, 4)
    stmt = (select(records.c.kind, year, func.count())
            .where(_visible(include_restricted), records.c.event_date.is_not(None),
                   func.length(records.c.event_date) >= 4)
            .group_by(records.c.kind, year).order_by(year, records.c.kind))
    return [(str(k), str(y), int(n)) for k, y, n in conn.execute(stmt) if str(y).isdigit()]


def last_change(conn: Connection, include_restricted: bool) -> dt.datetime | None:
    """When a record the caller may see last changed."""
    value = conn.execute(select(func.max(records.c.updated_at)).where(
        _visible(include_restricted))).scalar()
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
