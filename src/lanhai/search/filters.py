"""What a search asks for: catalogue filters, family queries, sort orders and relevance.

Plain values with their own checks, shared by the search services, the store that turns them
into SQL, and the adapters that read them from a form or the command line.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lanhai.errors import UsageError
from lanhai.kinds import kind_spec

SORTS = ("relevance", "accession", "date", "depth", "name")
#: depth facet buckets (metres): epipelagic, mesopelagic, bathypelagic, abyssal and below
DEPTH_BUCKETS = ((0.0, 200.0), (200.0, 1000.0), (1000.0, 4000.0), (4000.0, math.inf))
TOP_TAXA = 20
#: how far up the lineage a search looks for a record's strain and sample
LINEAGE_DEPTH = 6
DEFAULT_FAMILY_LIMIT = 1000

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


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

    def contains(self, lat: float | None, lon: float | None) -> bool:
        if lat is None or lon is None or not self.south <= lat <= self.north:
            return False
        if self.west <= self.east:
            return self.west <= lon <= self.east
        return lon >= self.west or lon <= self.east


def _real_date(value: str) -> bool:
    """YYYY, YYYY-MM or YYYY-MM-DD naming a day (or month) that exists."""
    if not _DATE.match(value):
        return False
    parts = [int(p) for p in value.split("-")]
    try:
        dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        return False
    return True


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
            if value is not None and not _real_date(value):
                raise UsageError(f"{name.replace('_', '-')} {value[:40]!r} is not an ISO "
                                 "date; write YYYY, YYYY-MM or YYYY-MM-DD (a month 01-12, a "
                                 "day that month has)")
        if self.date_from and self.date_to and self.date_from > self.date_to + "~":
            raise UsageError(f"date-from {self.date_from} is after date-to {self.date_to}")
        for name in ("depth_min", "depth_max"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise UsageError(f"{name.replace('_', '-')} must be a number of metres")
        if (self.depth_min is not None and self.depth_max is not None
                and self.depth_min > self.depth_max):
            raise UsageError(f"depth-min {self.depth_min} is above depth-max {self.depth_max}")
        object.__setattr__(self, "kinds", tuple(kind_spec(k).name for k in self.kinds))

    def matches(self, ctx: Mapping[str, Any]) -> bool:
        """Whether a hit's lineage context (taxon, depth_m, event_date, latitude, longitude,
        availability) passes the filters; kinds and the lineage filters do not apply."""
        depth, date, taxon = ctx["depth_m"], ctx["event_date"], ctx["taxon"]
        if self.depth_min is not None and (depth is None or depth < self.depth_min):
            return False
        if self.depth_max is not None and (depth is None or depth > self.depth_max):
            return False
        if self.date_from and (date is None or date < self.date_from):
            return False
        if self.date_to and (date is None or date > self.date_to + "~"):
            return False
        if self.taxon and (taxon is None
                           or not taxon.casefold().startswith(self.taxon.strip().casefold())):
            return False
        if self.available and ctx["availability"] != "available":
            return False
        return self.bbox is None or self.bbox.contains(ctx["latitude"], ctx["longitude"])


@dataclass(frozen=True)
class FamilyQuery:
    """Which hits: families (names or accessions; GH16 also matches subfamily GH16_3), or
    every family acting on the ``substrates``; optionally only in some ``assemblies``."""

    families: tuple[str, ...] = ()
    packs: tuple[str, ...] = ()
    substrates: tuple[str, ...] = ()
    min_score: float | None = None
    max_evalue: float | None = None
    filters: CatalogFilters = field(default_factory=CatalogFilters)
    limit: int | None = DEFAULT_FAMILY_LIMIT
    assemblies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_evalue is not None and not self.max_evalue > 0:
            raise UsageError(f"max-evalue must be above 0, got {self.max_evalue}")
        if self.limit is not None and self.limit < 1:
            raise UsageError("limit must be at least 1")


def check_named(query: FamilyQuery) -> None:
    """A usage error unless the query names a family or a substrate."""
    if not any(f.strip() for f in query.families) and not any(
            s.strip() for s in query.substrates):
        raise UsageError("name at least one family (e.g. GH16 or PF07980) or a substrate "
                         "(e.g. alginate)")


def family_names(families: tuple[str, ...] | list[str]) -> list[str]:
    """The family names or accessions asked for, lower case; a usage error for none."""
    names = [raw.strip().lower() for raw in families if raw.strip()]
    if not names:
        raise UsageError("name at least one family, e.g. GH16 or PF07980")
    return names


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


def words_of(query: str) -> list[str]:
    """The words of a text query."""
    return [t for t in re.split(r"\s+", query.strip()) if t]
