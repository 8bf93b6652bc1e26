"""One call per page: each function returns the JSON-able data a page shows.

The HTML page renders exactly this data and its JSON twin (same path + ``.json``) returns
it, so what a script reads is what a person sees.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from lanhai.bank import Bank
from lanhai.errors import NotFound, UsageError
from lanhai.exports import FORMATS
from lanhai.kinds import KINDS, PLURALS, kind_spec
from lanhai.kinds.fields import KindSpec
from lanhai.services.catalog import Actor, check_accession
from lanhai.web import queries

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


def load_targets(path: str | Path | None) -> dict[str, Any]:
    """The targets TOML: the shipped 2027 file unless ``path`` (LANHAI_TARGETS_FILE)."""
    if path:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as err:
            raise UsageError(f"cannot read the targets file {path}: {err.strerror}; fix "
                             "LANHAI_TARGETS_FILE") from None
    else:
        text = resources.files("lanhai.web").joinpath("targets.toml").read_text("utf-8")
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


def dashboard(bank: Bank, actor: Actor, cache: queries.AggregateCache | None = None
              ) -> dict[str, Any]:
    targets = load_targets(bank.settings.targets_file)
    cache = cache or queries.AggregateCache()
    seen = actor.can_see_restricted
    with bank.engine.connect() as conn:
        counts = cache.get(conn, ("counts", seen),
                           lambda: queries.programme_counts(conn, seen))
        growth = cache.get(conn, ("growth", seen), lambda: queries.growth(conn, seen))
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


def browse(bank: Bank, actor: Actor, kind: str, params: Mapping[str, str],
           where: list[str], page_size_max: int = 100,
           cache: queries.AggregateCache | None = None) -> dict[str, Any]:
    try:
        spec = kind_spec(kind)
    except UsageError:
        raise NotFound(f"no record kind {kind!r}; kinds are: "
                       + ", ".join(PLURALS[k] for k in KINDS)) from None
    q = params.get("q", "").strip()
    sort = params.get("sort", "accession") or "accession"
    try:
        limit = int(params.get("limit", "20") or 20)
        offset = int(params.get("offset", "0") or 0)
    except ValueError:
        raise UsageError("limit and offset must be whole numbers, e.g. ?limit=20&offset=40"
                         ) from None
    limit = max(1, min(limit, page_size_max))
    where = [w for w in where if w.strip()]
    items, total = bank.catalog.list(actor, spec.name, where, query=q or None, limit=limit,
                                     offset=max(0, offset), sort=sort)
    seen = actor.can_see_restricted
    with bank.engine.connect() as conn:
        facets = (cache or queries.AggregateCache()).get(
            conn, ("facets", spec.name, seen),
            lambda: queries.facet_counts(conn, spec.name, seen))
    base: list[tuple[str, str]] = [("q", q)] if q else []
    base += [("where", w) for w in where]
    if sort != "accession":
        base.append(("sort", sort))
    plural = PLURALS[spec.name]

    def url(**extra: Any) -> str:
        pairs = base + [(k, str(v)) for k, v in extra.items()]
        return f"/browse/{plural}" + ("?" + urlencode(pairs) if pairs else "")

    total = total or 0
    return {"kind": spec.name, "plural": plural, "title": spec.title, "standard": spec.standard,
            "q": q, "where": where, "sort": sort, "limit": limit, "offset": offset,
            "total": total, "items": [_summary(r.to_dict()) for r in items],
            "facets": facets,
            "previous": url(offset=max(0, offset - limit), limit=limit) if offset > 0 else None,
            "next": url(offset=offset + limit, limit=limit) if offset + limit < total else None,
            "export": f"/api/{plural}/export?" + urlencode(
                [("format", "csv"), *([("q", q)] if q else []),
                 *[("where", w) for w in where]])}


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    fields = record["fields"]
    return {"accession": record["accession"], "name": record["name"],
            "restricted": record["restricted"], "updated_at": record["updated_at"],
            "taxon": fields.get("taxon_name") or fields.get("organism") or "",
            "depth_m": fields.get("depth_m"),
            "date": fields.get("collection_date") or fields.get("deposit_date")
            or fields.get("isolation_date") or fields.get("acqdate") or ""}


def field_groups(spec: KindSpec, fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The record's fields under the standard's headings, in the standard's order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in spec.fields:
        if f.name in fields:
            groups.setdefault(f.group, []).append(
                {"name": f.name, "value": fields[f.name], "description": f.description})
    computed = [{"name": k, "value": v, "description": "computed by Lanhai"}
                for k, v in fields.items() if k not in spec.field_names]
    if computed:
        groups.setdefault("Computed", []).extend(computed)
    return [{"group": g, "fields": items} for g, items in groups.items()]


def record(bank: Bank, actor: Actor, accession: str) -> dict[str, Any]:
    acc = check_accession(accession)
    rec = bank.catalog.get(actor, acc)
    spec = kind_spec(rec.kind)
    links = bank.catalog.links(actor, rec.accession)
    lineage = bank.catalog.lineage(actor, rec.accession)
    history = bank.catalog.history(actor, rec.accession)
    plural = PLURALS[rec.kind]
    one = urlencode([("where", f"accession={rec.accession}")])
    downloads = [{"label": "JSON (API)", "href": f"/api/records/{rec.accession}"},
                 {"label": "history CSV", "href": f"/api/records/{rec.accession}/history.csv"}]
    for fmt, spec_fmt in FORMATS.items():
        if (not spec_fmt.kinds or rec.kind in spec_fmt.kinds) and not (
                fmt == "dwca" and rec.restricted):
            downloads.append({"label": (fmt.upper() if fmt != "sbol3" else "SBOL3")
                              + " export",
                              "href": f"/api/{plural}/export?format={fmt}&{one}"})
    data: dict[str, Any] = {
        "record": rec.to_dict(), "title": spec.title, "standard": spec.standard,
        "plural": plural, "groups": field_groups(spec, rec.fields),
        "links": [{"source": lk.source, "rel": lk.rel, "target": lk.target,
                   "direction": "outgoing" if lk.source == rec.accession else "incoming",
                   "other": lk.target if lk.source == rec.accession else lk.source}
                  for lk in links],
        "lineage": lineage, "history": [v.to_dict() for v in history],
        "downloads": downloads, "can_edit": actor.can_write}
    if rec.kind == "assembly":
        data["assembly"] = assembly_panel(bank, actor, rec.accession, None)
    return data


def assembly_panel(bank: Bank, actor: Actor, accession: str, contig: str | None
                   ) -> dict[str, Any]:
    """Stored statistics, the genes of one contig (the first by default) with their best
    family hit, and the annotation results when they exist: family and substrate counts,
    polysaccharide utilisation loci and biosynthetic gene clusters."""
    from lanhai.sequence.reader import PROTEOME
    from lanhai.services.sequences import SequenceService

    service = SequenceService(bank.engine, bank.settings.data_dir)
    empty: dict[str, Any] = {"stats": None, "contigs": [], "contig": None, "genes": [],
                             "contig_length": 0, "families": [], "substrates": [],
                             "loci": None, "clusters": None, "annotated": False,
                             "downloads": []}
    try:
        stats = service.stats(actor, accession)
    except NotFound:
        return empty
    acc = str(stats["accession"])
    # a proteome has proteins but no contigs to draw
    lengths = dict(service.store.contig_lengths(acc)) if stats.get("kind") != PROTEOME \
        else {}
    names = list(lengths)
    chosen: str | None = contig if contig in lengths else (names[0] if names else None)
    best: dict[str, tuple[float, str]] = {}
    families: Counter[str] = Counter()
    substrates: Counter[str] = Counter()
    hits = _table(service, actor, acc, "hits")
    for hit in hits or []:
        family = str(hit.get("family") or "")
        families[family] += 1
        for substrate in hit.get("substrates") or []:
            substrates[str(substrate)] += 1
        score = float(hit.get("score") or 0.0)
        protein = str(hit.get("protein_id"))
        if score > best.get(protein, (float("-inf"), ""))[0]:
            best[protein] = (score, family)
    genes: list[dict[str, Any]] = []
    if chosen is not None and stats.get("genes"):
        for row in service.rows(actor, acc, "genes"):
            if row.get("contig") == chosen:
                protein = str(row.get("protein_id"))
                genes.append({"id": protein, "start": row["start"], "end": row["end"],
                              "strand": row["strand"],
                              "family": best.get(protein, (0.0, ""))[1]})
    loci = _table(service, actor, acc, "loci")
    clusters = _table(service, actor, acc, "clusters")
    base = f"/api/assemblies/{acc}"
    downloads = [{"label": "proteins FASTA", "href": f"{base}/proteins.fasta"}]
    if stats.get("genes"):
        downloads += [{"label": "genes GFF3", "href": f"{base}/genes.gff3"},
                      {"label": "GenBank", "href": f"{base}/genbank"}]
    ready = {"families": hits, "substrates": hits, "hits": hits, "loci": loci,
             "clusters": clusters}
    downloads += [{"label": f"{what} JSON", "href": f"{base}/annotations/{what}"}
                  for what, rows in ready.items() if rows is not None]
    return {**empty, "stats": stats, "downloads": downloads,
            "contigs": [{"id": c, "length": lengths[c]} for c in names[:500]],
            "contig": chosen, "contig_length": lengths[chosen] if chosen else 0,
            "genes": genes, "annotated": hits is not None,
            "families": [{"family": f, "hits": n} for f, n in families.most_common(25)],
            "substrates": [{"substrate": k, "hits": n} for k, n in substrates.most_common()],
            "loci": None if loci is None else [_jsonable(r) for r in loci[:200]],
            "clusters": None if clusters is None else [_jsonable(r) for r in clusters[:200]]}


def _table(service: Any, actor: Actor, accession: str, table: str
           ) -> list[dict[str, Any]] | None:
    """The rows of an annotation table, or None when that step has not run."""
    try:
        return list(service.rows(actor, accession, table))
    except NotFound:
        return None


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in row.items()
            if k not in ("proteins", "sequence")}


def lineage(bank: Bank, actor: Actor, accession: str) -> dict[str, Any]:
    return bank.catalog.lineage(actor, check_accession(accession))


def history(bank: Bank, actor: Actor, accession: str) -> dict[str, Any]:
    rec = bank.catalog.get(actor, check_accession(accession))
    return {"accession": rec.accession, "name": rec.name, "kind": rec.kind,
            "history": [v.to_dict() for v in bank.catalog.history(actor, rec.accession)]}


def site_map(bank: Bank, actor: Actor) -> dict[str, Any]:
    with bank.engine.connect() as conn:
        points = queries.map_points(conn, actor.can_see_restricted)
    return {"points": points, "count": len(points)}
