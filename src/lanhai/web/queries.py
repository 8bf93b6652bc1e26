"""Aggregate SQL behind the web pages: the programme dashboard's counts, growth per month,
facet counts and map points. One query per panel, never one per record, so the home page
stays fast with 100,000 records (benchmarks/bench_web_pages.py).

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

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
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


class AggregateCache:
    """Aggregates (dashboard counts, growth, facets) reused while nothing changed.

    Every change to the catalog (create, update, link, unlink, restricting a record) writes a
    row to the audit trail, so the pair (highest version id, number of versions) changes with
    it; a value is cached under that pair and recomputed as soon as it moves. The count
    catches PostgreSQL transactions that commit their version ids out of order (SQLite has
    one writer at a time, so there the highest id alone is enough: one index lookup).
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
                self._values, self._mark = {}, mark
            elif key in self._values:
                cached: T = self._values[key]
                return cached
        value = compute()
        with self._lock:
            if mark == self._mark:
                self._values[key] = value
        return value


def _visible(include_restricted: bool) -> ColumnElement[bool]:
    if include_restricted:
        return literal(True) == literal(True)
    return records.c.restricted == literal(False)


def _text(name: str) -> Any:
    return records.c.fields[name].as_string()


def programme_counts(conn: Connection, include_restricted: bool) -> dict[str, int]:
    """Every dashboard count, in two aggregate queries."""
    counts = {k: 0 for k in ("samples", "strains", "patent_deposits", "assemblies",
                             "compounds", "genetic_parts", "germplasm")}
    plural = {"sample": "samples", "strain": "strains", "deposit": "patent_deposits",
              "assembly": "assemblies", "compound": "compounds", "part": "genetic_parts",
              "germplasm": "germplasm"}
    visible = _visible(include_restricted)
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
    degrades = and_(records.c.kind == "strain",
                    func.length(func.coalesce(_text("degrades"), "")) > 2)
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
                              tally(carbohydrate)).where(
        visible, records.c.kind.in_(("strain", "assembly", "compound")))).one()
    counts.update(marine_strains=int(row[0]), plastic_degrading_strains=int(row[1]),
                  metagenomic_entries=int(row[2]), carbohydrate_compounds=int(row[3]))
    return counts


def _source_visible(source: Any, include_restricted: bool) -> ColumnElement[bool]:
    if include_restricted:
        return literal(True) == literal(True)
    restricted: ColumnElement[bool] = source.c.restricted == literal(False)
    return restricted


def growth(conn: Connection, include_restricted: bool) -> list[tuple[str, str, int]]:
    """(kind, YYYY-MM, records created that month), from the audit trail's ``create``
    entries. Their time is also each record's ``created_at`` (the store writes both with
    one timestamp in one transaction), so this reads the records table alone, without
    joining 100,000 version rows to their records."""
    month = func.substr(cast(records.c.created_at, String), 1, 7)
    stmt = (select(records.c.kind, month, func.count()).where(_visible(include_restricted))
            .group_by(records.c.kind, month).order_by(month))
    return [(str(k), str(m), int(n)) for k, m, n in conn.execute(stmt)]


#: fields offered as facets when a kind has them (choice-like values)
FACETS: dict[str, tuple[str, ...]] = {
    "sample": ("project_name", "geo_loc_name", "env_medium"),
    "strain": ("organism_type", "risk_group_scheme", "form_of_supply", "status", "marine"),
    "deposit": ("depositary",),
    "assembly": ("assembly_type", "assembly_qual", "seq_meth"),
    "compound": ("compound_class", "source_organism"),
    "part": ("part_type", "role"),
    "germplasm": ("genus", "species", "sampstat", "origcty"),
}


def facet_counts(conn: Connection, kind: str, include_restricted: bool, top: int = 8
                 ) -> dict[str, list[dict[str, Any]]]:
    """The most common values of each facet field of ``kind`` over all its visible records
    (one GROUP BY per facet; not narrowed by the page's current filters)."""
    spec = kind_spec(kind)
    out: dict[str, list[dict[str, Any]]] = {}
    for name in FACETS.get(spec.name, ()):
        value = _text(name)
        conditions = [records.c.kind == spec.name, _visible(include_restricted),
                      value.is_not(None)]
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
