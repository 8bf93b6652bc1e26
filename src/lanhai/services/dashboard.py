"""The programme dashboard: every target counted from the bank's records, growth per month,
facet counts of each kind and the map of sampling sites, each as the caller may see it.

Aggregates are cached per bank and kept up to date from the audit trail
(:class:`lanhai.store.dashboard.AggregateCache`), so the home page costs one index lookup
while nothing changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from lanhai.errors import UsageError
from lanhai.kinds import KINDS, PLURALS, kind_spec
from lanhai.model import parse_filter
from lanhai.services.access import Actor
from lanhai.settings import read_toml
from lanhai.store import dashboard as store
from lanhai.store import queries
from lanhai.store.database import Database

#: how each dashboard count is computed (shown on the page, documented in docs/web.md)
HOW_COUNTED: dict[str, str] = {
    "samples": "sample records",
    "strains": "strain records",
    "marine_strains": "strains with marine = true, or isolated_from a sample",
    "patent_deposits": "deposit records (curators and admins only: confidential)",
    "metagenomic_entries": "assemblies of type metagenome or MAG",
    "carbohydrate_compounds": "compounds with a WURCS or IUPAC glycan, or a compound_class "
                              "naming a saccharide, carbohydrate or glycan",
    "plastic_degrading_strains": "strains whose degrades field lists a polymer (not a "
                                 "missing-value term)",
    "genetic_parts": "part records",
    "mined_parts": "parts mined from the bank's own assemblies or strains (linked "
                   "mined_from), the programme's newly mined genetic parts",
    "germplasm": "germplasm accessions (MCPD)",
}
HOW_COUNTED_ZH: dict[str, str] = {
    "samples": "样品记录数",
    "strains": "菌株记录数",
    "marine_strains": "标记为海洋（marine = true）或由样品分离（isolated_from）的菌株",
    "patent_deposits": "专利保藏记录（保密：仅馆员和管理员可见）",
    "metagenomic_entries": "类型为宏基因组或MAG的组装",
    "carbohydrate_compounds": "具有WURCS或IUPAC糖链结构，"
                              "或compound_class为寡糖、多糖、糖类的化合物",
    "plastic_degrading_strains": "degrades字段列出至少一种聚合物（而非缺失值术语）的菌株",
    "genetic_parts": "遗传元件记录数",
    "mined_parts": "从本库自有组装或菌株挖掘（mined_from 链接）的元件，即新挖掘的遗传元件",
    "germplasm": "种质资源记录数（MCPD）",
}
#: fields offered as facets when a kind has them (choice-like values)
FACETS = store.FACETS
#: the dashboard's breakdowns: samples by project, germplasm by holding institute (FAO WIEWS
#: code), deposits by depositary, assemblies by type
BREAKDOWNS = (("sample", "project_name"), ("germplasm", "instcode"), ("deposit", "depositary"),
              ("assembly", "assembly_type"))


def load_targets(path: str | Path | None) -> dict[str, Any]:
    """The targets TOML: the shipped 2027 file unless ``path`` (LANHAI_TARGETS_FILE)."""
    data = read_toml(path, "lanhai.services", "targets.toml", "LANHAI_TARGETS_FILE",
                     "targets file")
    targets = data.get("target")
    if not isinstance(targets, list) or not targets:
        raise UsageError("the targets file needs [[target]] tables with key, target, en, zh")
    for item in targets:
        if item.get("key") not in HOW_COUNTED or not isinstance(item.get("target", 0), int):
            raise UsageError(f"target {item.get('key')!r} in the targets file: key must be "
                             f"one of {', '.join(HOW_COUNTED)} and target a whole number "
                             "(or left out for a count tracked without a target)")
    return data


class DashboardService:
    """Programme counts, growth, facets and map points over one catalog."""

    def __init__(self, db: Database, targets_file: str = "") -> None:
        self.db = db
        self.targets_file = targets_file
        self.cache = store.AggregateCache()

    def counts(self, actor: Actor) -> dict[str, int]:
        """Every programme count over the records ``actor`` may see."""
        seen = actor.can_see_restricted
        with self.db.read() as conn:
            return self.cache.get(conn, ("counts", seen),
                                  partial(store.programme_counts, conn, seen))

    def growth(self, actor: Actor) -> list[tuple[str, str, int]]:
        """(kind, YYYY-MM, records created that month) over what ``actor`` may see."""
        seen = actor.can_see_restricted
        with self.db.read() as conn:
            return self.cache.get(conn, ("growth", seen), partial(store.growth, conn, seen))

    def facets(self, actor: Actor, kind: str, where: Sequence[str] = (),
               query: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """The most common values of each facet field of ``kind`` among the records
        ``actor`` may see that match the filters ``where`` and the words ``query`` (all of
        the kind when none: cached)."""
        spec = kind_spec(kind)
        seen = actor.can_see_restricted
        filters = [parse_filter(w) for w in where if w.strip()]
        with self.db.read() as conn:
            if not filters and not (query and query.strip()):
                return self.cache.get(conn, ("facets", spec.name, seen),
                                      partial(store.facet_counts, conn, spec.name, seen))
            narrowed = queries.match_conditions(conn, spec.name, filters, query)
            return store.facet_counts(conn, spec.name, seen, narrowed=narrowed)

    def map_view(self, actor: Actor, view: MapView) -> dict[str, Any]:
        """The records ``actor`` may see in ``view``, gathered in grid cells (a cell of one
        record names it), with the view's box and how many records it holds."""
        west, south, east, north = view.box()
        query = store.MapQuery(west, south, east, north, view.cell(), view.kinds,
                               view.depth_min, view.depth_max, view.year_from, view.year_to)
        with self.db.read() as conn:
            cells = store.map_cells(conn, actor.can_see_restricted, query)
        return {"view": view.to_dict(), "box": [west, south, east, north],
                "cells": cells, "records": sum(c["count"] for c in cells)}

    def map_points(self, actor: Actor, limit: int = 5000) -> list[dict[str, Any]]:
        """Records with coordinates ``actor`` may see: accession, kind, name, lat, lon, depth."""
        with self.db.read() as conn:
            return store.map_points(conn, actor.can_see_restricted, limit)

    def dashboard(self, actor: Actor) -> dict[str, Any]:
        """The targets with their counts as of now, records per kind, growth per month and
        by collection year, and breakdowns by project, institute and depositary."""
        targets = load_targets(self.targets_file)
        counts = self.counts(actor)
        growth = self.growth(actor)
        seen = actor.can_see_restricted
        with self.db.read() as conn:
            years = self.cache.get(conn, ("years", seen), partial(store.by_year, conn, seen))
            last = self.cache.get(conn, ("last", seen), partial(store.last_change, conn, seen))
        rows = []
        for item in targets["target"]:
            count = counts.get(item["key"], 0)
            target = item.get("target")
            rows.append({"key": item["key"], "en": item.get("en", item["key"]),
                         "zh": item.get("zh", item.get("en", item["key"])),
                         "target": target, "count": count,
                         "percent": round(100 * count / target, 1) if target else None,
                         "how": HOW_COUNTED[item["key"]],
                         "how_zh": HOW_COUNTED_ZH[item["key"]]})
        by_kind = {"sample": counts["samples"], "strain": counts["strains"],
                   "deposit": counts["patent_deposits"], "assembly": counts["assemblies"],
                   "compound": counts["compounds"], "part": counts["genetic_parts"],
                   "germplasm": counts["germplasm"], "organisation": counts["organisations"],
                   "offer": counts["offers"], "demand": counts["demands"],
                   "incubation": counts["incubations"], "platform": counts["platforms"],
                   "project": counts["projects"], "achievement": counts["achievements"],
                   "team": counts["teams"], "fund": counts["funds"],
                   "product": counts["products"], "approval": counts["approvals"]}
        breakdowns = []
        for kind, field in BREAKDOWNS:
            values = self.facets(actor, kind).get(field, [])
            if values:
                breakdowns.append({"kind": kind, "field": field, "values": values})
        return {"year": targets.get("year"), "targets": rows, "records_by_kind": by_kind,
                "as_of": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "last_change": last.isoformat(timespec="seconds") if last else None,
                "growth": [{"kind": k, "month": m, "created": n} for k, m, n in growth],
                "by_year": [{"kind": k, "month": y, "created": n} for k, y, n in years],
                "breakdowns": breakdowns,
                "api": {"docs": "/docs", "openapi": "/openapi.json", "kinds": "/api/kinds",
                        "stats": "/api/stats",
                        "collections": {PLURALS[k]: f"/api/{PLURALS[k]}" for k in KINDS}}}

    def warm(self) -> None:
        """Fill the cache (counts, growth, every kind's facets) for the public and the
        curator view, so the first visitors after a server start get cached pages."""
        from lanhai.services.access import ANONYMOUS, LOCAL_ADMIN

        for actor in (ANONYMOUS, LOCAL_ADMIN):
            self.counts(actor)
            self.growth(actor)
            for kind in KINDS:
                self.facets(actor, kind)


__all__ = ["FACETS", "HOW_COUNTED", "HOW_COUNTED_ZH", "DashboardService", "load_targets"]


#: how far the map zooms in (each level halves the width shown)
MAX_ZOOM = 8
#: the grid a view gathers records in: this many cells across its width
MAP_GRID = 40


@dataclass(frozen=True)
class MapView:
    """What the map shows: a centre and zoom (0 = the whole world, each level twice as
    close) and filters (record kinds, depth range in metres, years of the record's date)."""

    lat: float = 0.0
    lon: float = 0.0
    zoom: int = 0
    kinds: tuple[str, ...] = ()
    depth_min: float | None = None
    depth_max: float | None = None
    year_from: int | None = None
    year_to: int | None = None

    def size(self) -> tuple[float, float]:
        """Width and height shown, in degrees (2:1, like the world)."""
        width = 360.0 / 2 ** self.zoom
        return width, width / 2

    def box(self) -> tuple[float, float, float, float]:
        """West, south, east, north: the centre's box, moved inside the world."""
        width, height = self.size()
        west = min(max(self.lon - width / 2, -180.0), 180.0 - width)
        south = min(max(self.lat - height / 2, -90.0), 90.0 - height)
        return west, south, west + width, south + height

    def cell(self) -> float:
        return self.size()[0] / MAP_GRID

    def centre(self) -> tuple[float, float]:
        west, south, east, north = self.box()
        return (south + north) / 2, (west + east) / 2

    def moved(self, **changes: Any) -> MapView:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        lat, lon = self.centre()
        return {"lat": round(lat, 4), "lon": round(lon, 4), "zoom": self.zoom,
                "kinds": list(self.kinds), "depth_min": self.depth_min,
                "depth_max": self.depth_max, "year_from": self.year_from,
                "year_to": self.year_to}

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """The query string of this view (with ``changes``), for links."""
        view = self.moved(**changes)
        lat, lon = view.centre() if "lat" not in changes else (view.lat, view.lon)
        out = [("at", f"{lat:.4f},{lon:.4f}"), ("zoom", str(view.zoom))]
        out += [("kind", k) for k in view.kinds]
        for name in ("depth_min", "depth_max", "year_from", "year_to"):
            value = getattr(view, name)
            if value is not None:
                out.append((name, f"{value:g}"))
        return out


def parse_map_view(params: Mapping[str, str], kinds: Sequence[str] = ()) -> MapView:
    """A map view from a query string: ``at=LAT,LON``, ``zoom``, ``kind`` (repeatable),
    ``depth_min``/``depth_max`` (m) and ``year_from``/``year_to``; UsageError otherwise."""
    lat = lon = 0.0
    at = params.get("at", "").strip()
    if at:
        try:
            lat, lon = (float(v) for v in at.split(","))
        except ValueError:
            raise UsageError(f"at={at!r} is not a position; write at=LAT,LON in decimal "
                             "degrees, e.g. at=48.72,-3.98") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise UsageError(f"at={at!r} is off the globe; latitude is -90..90 and longitude "
                             "-180..180")
    zoom = _whole(params, "zoom", 0, MAX_ZOOM) or 0
    for kind in kinds:
        if kind not in KINDS:
            raise UsageError(f"kind={kind!r} is not a record kind; kinds are: "
                             + ", ".join(KINDS))
    depth = [_number(params, name) for name in ("depth_min", "depth_max")]
    years = [_whole(params, name, 1000, 2200) for name in ("year_from", "year_to")]
    return MapView(lat, lon, zoom, tuple(dict.fromkeys(kinds)), depth[0], depth[1],
                   years[0], years[1])


def _number(params: Mapping[str, str], name: str) -> float | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name}={text!r} is not a number; give metres, e.g. {name}=200"
                         ) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise UsageError(f"{name}={text!r} is not a number; give metres, e.g. {name}=200")
    return value


def _whole(params: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    if not text.lstrip("-").isdigit() or not low <= int(text) <= high:
        raise UsageError(f"{name}={text!r} is not a whole number from {low} to {high}")
    return int(text)
