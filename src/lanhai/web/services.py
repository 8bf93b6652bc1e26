"""One call per page: each function returns the JSON-able data a page shows.

The HTML page renders exactly this data and its JSON twin (same path + ``.json``) returns
it, so what a script reads is what a person sees.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from lanhai.bank import Bank
from lanhai.errors import NotFound, UsageError
from lanhai.exports import FORMATS
from lanhai.kinds import KINDS, PLURALS, kind_spec
from lanhai.kinds.fields import KindSpec
from lanhai.sequence.reader import PROTEOME
from lanhai.services.access import Actor
from lanhai.services.catalog import check_accession
from lanhai.services.sequences import SequenceService


def browse(bank: Bank, actor: Actor, kind: str, params: Mapping[str, str],
           where: list[str], page_size_max: int = 100) -> dict[str, Any]:
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
    facets = bank.dashboard.facets(actor, spec.name)
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
    service = bank.sequences
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
    lengths = dict(service.contig_lengths(actor, acc)) if stats.get("kind") != PROTEOME \
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


def _table(service: SequenceService, actor: Actor, accession: str, table: str
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
    points = bank.dashboard.map_points(actor)
    return {"points": points, "count": len(points)}
