"""The programme dashboard: every target counted from the bank's records, growth per month,
facet counts of each kind and the map of sampling sites, each as the caller may see it.

Aggregates are cached per bank and kept up to date from the audit trail
(:class:`lanhai.store.dashboard.AggregateCache`), so the home page costs one index lookup
while nothing changed.
"""

from __future__ import annotations

import tomllib
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from lanhai.errors import UsageError
from lanhai.kinds import KINDS, PLURALS, kind_spec
from lanhai.services.access import Actor
from lanhai.store import dashboard as store
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
    "plastic_degrading_strains": "strains whose degrades field lists a polymer",
    "genetic_parts": "part records",
}
HOW_COUNTED_ZH: dict[str, str] = {
    "samples": "样品记录数",
    "strains": "菌株记录数",
    "marine_strains": "标记为海洋（marine = true）或由样品分离（isolated_from）的菌株",
    "patent_deposits": "专利保藏记录（保密：仅馆员和管理员可见）",
    "metagenomic_entries": "类型为宏基因组或MAG的组装",
    "carbohydrate_compounds": "具有WURCS或IUPAC糖链结构，"
                              "或compound_class为寡糖、多糖、糖类的化合物",
    "plastic_degrading_strains": "degrades字段列出至少一种聚合物的菌株",
    "genetic_parts": "遗传元件记录数",
}
#: fields offered as facets when a kind has them (choice-like values)
FACETS = store.FACETS


def load_targets(path: str | Path | None) -> dict[str, Any]:
    """The targets TOML: the shipped 2027 file unless ``path`` (LANHAI_TARGETS_FILE)."""
    if path:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as err:
            raise UsageError(f"cannot read the targets file {path}: {err.strerror}; fix "
                             "LANHAI_TARGETS_FILE") from None
    else:
        text = resources.files("lanhai.services").joinpath("targets.toml").read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"the targets file {path or 'targets.toml'} is not valid TOML: "
                         f"{err}") from None
    targets = data.get("target")
    if not isinstance(targets, list) or not targets:
        raise UsageError("the targets file needs [[target]] tables with key, target, en, zh")
    for item in targets:
        if item.get("key") not in HOW_COUNTED or not isinstance(item.get("target"), int):
            raise UsageError(f"target {item.get('key')!r} in the targets file: key must be "
                             f"one of {', '.join(HOW_COUNTED)} and target a whole number")
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

    def facets(self, actor: Actor, kind: str) -> dict[str, list[dict[str, Any]]]:
        """The most common values of each facet field of ``kind`` ``actor`` may see."""
        spec = kind_spec(kind)
        seen = actor.can_see_restricted
        with self.db.read() as conn:
            return self.cache.get(conn, ("facets", spec.name, seen),
                                  partial(store.facet_counts, conn, spec.name, seen))

    def map_points(self, actor: Actor, limit: int = 5000) -> list[dict[str, Any]]:
        """Records with coordinates ``actor`` may see: accession, kind, name, lat, lon, depth."""
        with self.db.read() as conn:
            return store.map_points(conn, actor.can_see_restricted, limit)

    def dashboard(self, actor: Actor) -> dict[str, Any]:
        """The targets with their counts, records per kind and growth per month."""
        targets = load_targets(self.targets_file)
        counts = self.counts(actor)
        growth = self.growth(actor)
        rows = []
        for item in targets["target"]:
            count = counts.get(item["key"], 0)
            rows.append({"key": item["key"], "en": item.get("en", item["key"]),
                         "zh": item.get("zh", item.get("en", item["key"])),
                         "target": item["target"], "count": count,
                         "percent": round(100 * count / item["target"], 1) if item["target"]
                         else 0.0, "how": HOW_COUNTED[item["key"]],
                         "how_zh": HOW_COUNTED_ZH[item["key"]]})
        by_kind = {"sample": counts["samples"], "strain": counts["strains"],
                   "deposit": counts["patent_deposits"], "assembly": counts["assemblies"],
                   "compound": counts["compounds"], "part": counts["genetic_parts"],
                   "germplasm": counts["germplasm"]}
        return {"year": targets.get("year"), "targets": rows, "records_by_kind": by_kind,
                "growth": [{"kind": k, "month": m, "created": n} for k, m, n in growth],
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
