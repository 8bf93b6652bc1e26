"""The facet columns of catalogue records as arrays, for counting, filtering and ordering
search matches without a Python object per match.

:class:`Columns` holds, for a set of records, the id, kind, accession, name, taxon, depth,
date, place, a strain's availability and the restricted flag: numbers in numpy arrays,
strings as codes into shared vocabularies. :class:`BankColumns` keeps those columns for a
whole SQLite bank in memory (about 60 bytes and a name string per record: ~200 MB for a
million records), read once from ``records_search`` and brought up to date from the audit trail
before each search: every change to a record writes a ``versions`` row, and SQLite commits
writers one at a time, so the rows past the last seen ``versions.id`` are exactly the
records changed since. A search then costs the full-text lookup plus array operations:
on a million records, a word matching 100,000 of them is counted, faceted and paged in tens
of milliseconds instead of the third of a second reading 100,000 rows took.

The web server keeps them (:class:`BankColumns`, owned by its bank's search service and
loaded when the server starts: about 4 s and 200 MB for a million records); a one-off command,
PostgreSQL (where a transaction may commit a lower ``versions.id`` after a higher one) and a
bank that keeps no columns build :class:`Columns` from the rows one SQL query returns
instead.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, func, select, text

from lanhai.db.schema import versions
from lanhai.kinds import KINDS, accession_number

#: kind codes: the kinds in the order of their accession prefixes, so that (kind code,
#: accession number) orders like the accession string (every accession is its kind's
#: prefix and a fixed number of digits)
KIND_ORDER: tuple[str, ...] = tuple(sorted(KINDS, key=lambda k: KINDS[k].prefix))
_KIND_CODE = {name: code for code, name in enumerate(KIND_ORDER)}
_NUMBER_SPAN = 10 ** 9  # above any accession number (7 digits, room to grow)
#: (low, high) depth bands in metres, as catalog.DEPTH_BUCKETS
Bands = Sequence[tuple[float, float]]
#: above this many changed records a refresh reads the whole bank again
_FULL_RELOAD = 50_000
_SLICE = 50_000


class Vocabulary:
    """Strings and their codes; codes never change once given (append-only)."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._codes: dict[str, int] = {}
        self._order: tuple[int, NDArray[np.int64]] | None = None

    def code(self, value: str | None) -> int:
        """The value's code (-1 for None or empty)."""
        if not value:
            return -1
        found = self._codes.get(value)
        if found is None:
            found = self._codes[value] = len(self.values)
            self.values.append(value)
        return found

    def codes(self, values: Iterable[str | None]) -> NDArray[np.int32]:
        return np.fromiter((self.code(v) for v in values), dtype=np.int32)

    def where(self, keep: Callable[[str], bool]) -> NDArray[np.bool_]:
        """A lookup table: entry code+1 is True when ``keep(value)`` (entry 0 is None)."""
        table = np.zeros(len(self.values) + 1, dtype=bool)
        table[1:] = [keep(v) for v in self.values]
        return table

    def ranks(self) -> NDArray[np.int64]:
        """Each code's position in the sorted values (cached until a value is added)."""
        count = len(self.values)  # a refresh may add values meanwhile: codes below stay
        cached = self._order
        if cached is None or cached[0] != count:
            order = sorted(range(count), key=self.values.__getitem__)
            ranks = np.empty(count, dtype=np.int64)
            ranks[order] = np.arange(count, dtype=np.int64)
            cached = self._order = (count, ranks)
        return cached[1]


@dataclass
class Vocabularies:
    taxon: Vocabulary
    date: Vocabulary
    availability: Vocabulary

    @classmethod
    def new(cls) -> Vocabularies:
        return cls(Vocabulary(), Vocabulary(), Vocabulary())


@dataclass
class Columns:
    """Facet columns of a set of records, one array entry per record."""

    ids: NDArray[np.int64]
    kind: NDArray[np.int8]
    number: NDArray[np.int64]  # accession number
    name: NDArray[np.object_]
    taxon: NDArray[np.int32]
    depth: NDArray[np.float64]
    date: NDArray[np.int32]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    availability: NDArray[np.int32]
    restricted: NDArray[np.bool_]
    vocab: Vocabularies

    #: (id, accession, kind, name, taxon, depth_m, event_date, latitude, longitude,
    #: availability, restricted): the order of the rows :meth:`from_rows` reads
    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]], vocab: Vocabularies) -> Columns:
        n = len(rows)
        if n:
            (ids, accessions, kinds, names, taxa, depths, dates, lats, lons, avail,
             restricted) = zip(*rows, strict=True)
        else:
            ids = accessions = kinds = names = taxa = depths = dates = lats = lons = avail \
                = restricted = ()
        return cls(
            ids=np.fromiter(ids, dtype=np.int64, count=n),
            kind=np.fromiter((_KIND_CODE[k] for k in kinds), dtype=np.int8, count=n),
            number=np.fromiter((accession_number(a) for a in accessions), dtype=np.int64,
                               count=n),
            name=_objects(names),
            taxon=vocab.taxon.codes(taxa),
            depth=_floats(depths),
            date=vocab.date.codes(dates),
            lat=_floats(lats),
            lon=_floats(lons),
            availability=vocab.availability.codes(avail),
            restricted=np.fromiter((bool(r) for r in restricted), dtype=bool, count=n),
            vocab=vocab)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, which: NDArray[Any]) -> Columns:
        """The records at these positions (or where this mask is True)."""
        return Columns(self.ids[which], self.kind[which], self.number[which],
                       self.name[which], self.taxon[which], self.depth[which],
                       self.date[which], self.lat[which], self.lon[which],
                       self.availability[which], self.restricted[which], self.vocab)

    def hit_fields(self, position: int) -> tuple[Any, ...]:
        """(kind, name, taxon, depth, date, lat, lon, availability) as Python values, None
        where missing."""
        return (KIND_ORDER[self.kind[position]],
                str(self.name[position]),
                _value(self.vocab.taxon, self.taxon[position]),
                _number(self.depth[position]),
                _value(self.vocab.date, self.date[position]),
                _number(self.lat[position]), _number(self.lon[position]),
                _value(self.vocab.availability, self.availability[position]))

    # --- filters -------------------------------------------------------------------------

    def mask(self, *, kinds: Sequence[str] = (), taxon: str | None = None,
             depth_min: float | None = None, depth_max: float | None = None,
             date_from: str | None = None, date_to: str | None = None,
             bbox: tuple[float, float, float, float] | None = None,
             available: bool = False, include_restricted: bool = True) -> NDArray[np.bool_]:
        """The records passing every condition, with the SQL conditions' meaning
        (catalog.CatalogFilters.sql_conditions): a missing value never passes a condition
        on it."""
        keep = np.ones(len(self), dtype=bool)
        if not include_restricted:
            keep &= ~self.restricted
        if kinds:
            keep &= np.isin(self.kind, [_KIND_CODE[k] for k in kinds])
        if taxon:
            prefix = taxon.strip().casefold()
            keep &= self.vocab.taxon.where(lambda v: v.casefold().startswith(prefix))[
                self.taxon + 1]
        with np.errstate(invalid="ignore"):
            if depth_min is not None:
                keep &= self.depth >= depth_min
            if depth_max is not None:
                keep &= self.depth <= depth_max
        if date_from or date_to:
            low, high = date_from or "", (date_to + "~") if date_to else None
            keep &= self.vocab.date.where(
                lambda v: v >= low and (high is None or v <= high))[self.date + 1]
        if bbox is not None:
            west, south, east, north = bbox
            with np.errstate(invalid="ignore"):
                inside = (self.lat >= south) & (self.lat <= north)
                if west <= east:
                    inside &= (self.lon >= west) & (self.lon <= east)
                else:  # the box crosses 180°
                    inside &= (self.lon >= west) | (self.lon <= east)
            keep &= inside
        if available:
            code = self.vocab.availability.code("available")
            keep &= self.availability == code
        return keep

    # --- facets --------------------------------------------------------------------------

    def facets(self, genomes: NDArray[np.int64], bands: Bands, top_taxa: int
               ) -> dict[str, Any]:
        """Counts per kind, taxon (the ``top_taxa`` commonest), depth band, year and
        availability, records with a genome, and the box around the records with a place."""
        kinds = np.bincount(self.kind, minlength=len(KIND_ORDER))
        taxa = _counts(self.taxon, self.vocab.taxon)
        years: dict[str, int] = {}
        for date, count in _counts(self.date, self.vocab.date).items():
            if date[:4].isdigit():
                years[date[:4]] = years.get(date[:4], 0) + count
        with np.errstate(invalid="ignore"):
            depths = [int(np.count_nonzero((self.depth >= low) & (self.depth < high)))
                      for low, high in bands]
        placed = ~np.isnan(self.lat) & ~np.isnan(self.lon)
        count = int(np.count_nonzero(placed))
        box = None
        if count:
            lats, lons = self.lat[placed], self.lon[placed]
            box = [float(lons.min()), float(lats.min()), float(lons.max()), float(lats.max())]
        return {
            "kind": {KIND_ORDER[c]: int(n) for c, n in sorted(
                enumerate(kinds), key=lambda x: KIND_ORDER[x[0]]) if n},
            "taxon": [{"value": t, "count": n} for t, n in
                      sorted(taxa.items(), key=lambda x: (-x[1], x[0]))[:top_taxa]],
            "depth": [{"from_m": low, "to_m": None if math.isinf(high) else high,
                       "count": n} for (low, high), n in zip(bands, depths, strict=True)],
            "year": dict(sorted(years.items())),
            "availability": dict(sorted(_counts(self.availability,
                                                self.vocab.availability).items())),
            "has_genome": int(np.count_nonzero(np.isin(self.ids, genomes)))
            if len(genomes) else 0,
            "place": {"count": count, "bbox": box},
        }

    # --- order ---------------------------------------------------------------------------

    def first(self, wanted: int, sort: str, descending: bool, words: str | None,
              relevance: Callable[[str, str], int]) -> list[int]:
        """Positions of the first ``wanted`` records in the requested order: relevance
        (``relevance(name, words)``, lower first, when there are words), accession, date,
        depth or name, ties by accession; records without the sort value last, by
        accession; ``descending`` reverses all but the missing ones."""
        key = self.kind.astype(np.int64) * _NUMBER_SPAN + self.number  # accession order
        names: list[str] = self.name.tolist()
        if words is not None:
            in_name = np.fromiter((words in n.lower() for n in names), dtype=bool,
                                  count=len(names))
            named = np.flatnonzero(in_name)
            rest = np.flatnonzero(~in_name)
            ranked = sorted(named.tolist(), key=lambda p: (relevance(names[p], words), key[p]),
                            reverse=descending)
            if descending:
                top = _smallest(-key[rest], wanted, rest)
                return top + ranked[:wanted - len(top)]
            return ranked[:wanted] + _smallest(key[rest], wanted - len(ranked[:wanted]), rest)
        if sort in ("accession", "relevance"):
            everything = np.arange(len(self))
            return _smallest(-key if descending else key, wanted, everything)
        missing: list[int]
        if sort == "name":  # every record has a name
            ordered = sorted(range(len(names)), key=lambda p: (names[p].casefold(), key[p]),
                             reverse=descending)[:wanted]
            missing = []
        else:
            if sort == "date":
                has = self.date >= 0
                value = self.vocab.date.ranks()[np.where(has, self.date, 0)].astype(np.float64)
            else:
                has = ~np.isnan(self.depth)
                value = self.depth
            where = np.flatnonzero(has)
            sign = -1 if descending else 1
            order = np.lexsort((sign * key[where], sign * value[where]))[:wanted]
            ordered = where[order].tolist()
            missing = np.flatnonzero(~has).tolist()
        if len(ordered) < wanted:
            missing.sort(key=lambda p: key[p])
            ordered += missing[:wanted - len(ordered)]
        return ordered


class BankColumns:
    """The facet columns of every record of one SQLite bank, indexed by record id."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stamp: int | None = None
        self.vocab = Vocabularies.new()
        self.present = np.zeros(0, dtype=bool)
        self.columns = Columns.from_rows([], self.vocab)

    def refresh(self, conn: Connection) -> None:
        """Bring the columns up to date with the bank (under the lock)."""
        latest = conn.execute(select(func.max(versions.c.id))).scalar() or 0
        if latest == self.stamp:
            return
        if self.stamp is None or latest < self.stamp:
            changed = None
        else:
            changed = [r[0] for r in conn.execute(
                select(versions.c.record_id).where(versions.c.id > self.stamp).distinct())]
            if len(changed) > _FULL_RELOAD:
                changed = None
        if changed is None:
            self.vocab = Vocabularies.new()
            self.present = np.zeros(0, dtype=bool)
            self.columns = Columns.from_rows([], self.vocab)
            self._reserve(int(conn.execute(text("SELECT max(id) FROM records_search"))
                              .scalar() or 0) + 1)
            last = 0
            while True:  # in slices, so that a million rows never sit in memory as tuples
                rows = conn.execute(text(
                    f"SELECT {_COLUMNS} FROM records_search WHERE id > :last ORDER BY id "
                    "LIMIT :n"), {"last": last, "n": _SLICE}).all()
                if not rows:
                    break
                self._put(rows)
                last = rows[-1][0]
        else:
            for start in range(0, len(changed), 500):
                chunk = ",".join(str(int(i)) for i in changed[start:start + 500])
                self._put(conn.execute(text(
                    f"SELECT {_COLUMNS} FROM records_search WHERE id IN ({chunk})")).all())
        self.stamp = latest

    def _put(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        new = Columns.from_rows(rows, self.vocab)
        size = int(new.ids.max()) + 1
        if size > len(self.present):
            self._reserve(max(size, len(self.present) + len(self.present) // 2 + 1024))
        at = new.ids
        cols = self.columns
        for name in ("ids", "kind", "number", "name", "taxon", "depth", "date", "lat", "lon",
                     "availability", "restricted"):
            getattr(cols, name)[at] = getattr(new, name)
        self.present[at] = True

    def _reserve(self, size: int) -> None:
        """Room for record ids below ``size``."""
        if size <= len(self.present):
            return
        self.present = _grown(self.present, size, False)
        old = self.columns
        self.columns = Columns(
            _grown(old.ids, size, 0), _grown(old.kind, size, 0),
            _grown(old.number, size, 0), _grown(old.name, size, ""),
            _grown(old.taxon, size, -1), _grown(old.depth, size, math.nan),
            _grown(old.date, size, -1), _grown(old.lat, size, math.nan),
            _grown(old.lon, size, math.nan), _grown(old.availability, size, -1),
            _grown(old.restricted, size, True), self.vocab)

    def select(self, ids: NDArray[np.int64] | None, **conditions: Any) -> Columns:
        """The columns of these records (None: every record) passing ``conditions``
        (:meth:`Columns.mask`); ids not known yet (written after the refresh) are left out."""
        if ids is None:
            keep = self.present & self.columns.mask(**conditions)
            return self.columns.take(np.flatnonzero(keep))
        ids = ids[ids < len(self.present)]
        found = self.columns.take(ids[self.present[ids]])
        return found.take(found.mask(**conditions))


_COLUMNS = ("id, accession, kind, name, taxon, depth_m, event_date, latitude, longitude, "
            "availability, restricted")
# --- helpers ---------------------------------------------------------------------------------

def _objects(values: Sequence[Any]) -> NDArray[np.object_]:
    array = np.empty(len(values), dtype=object)
    array[:] = [v or "" for v in values]
    return array


def _floats(values: Sequence[Any]) -> NDArray[np.float64]:
    return np.fromiter((math.nan if v is None else v for v in values), dtype=np.float64,
                       count=len(values))


def _grown(array: NDArray[Any], size: int, fill: Any) -> NDArray[Any]:
    grown = np.full(size, fill, dtype=array.dtype)
    grown[:len(array)] = array
    return grown


def _counts(codes: NDArray[np.int32], vocab: Vocabulary) -> dict[str, int]:
    counted = np.bincount(codes[codes >= 0], minlength=len(vocab.values))
    return {vocab.values[c]: int(counted[c]) for c in np.flatnonzero(counted)}


def _smallest(keys: NDArray[np.int64], wanted: int, positions: NDArray[np.int64]
              ) -> list[int]:
    """``positions`` of the ``wanted`` smallest keys, in order (a partial sort)."""
    if wanted <= 0 or not len(keys):
        return []
    if wanted < len(keys):
        part = np.argpartition(keys, wanted - 1)[:wanted]
        order = part[np.argsort(keys[part], kind="stable")]
    else:
        order = np.argsort(keys, kind="stable")
    return [int(p) for p in positions[order]]


def _value(vocab: Vocabulary, code: int) -> str | None:
    return vocab.values[code] if code >= 0 else None


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
