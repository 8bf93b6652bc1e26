"""One call per page: each function returns the JSON-able data a page shows.

The HTML page renders exactly this data and its JSON twin (same path + ``.json``) returns
it, so what a script reads is what a person sees.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from lanhai.bank import Bank
from lanhai.errors import NotFound, UsageError
from lanhai.exports import FORMATS
from lanhai.exports.common import TableWriter, spreadsheet_safe
from lanhai.kinds import KINDS, LINK_RULES, PLURALS, kind_spec
from lanhai.kinds.fields import KindSpec
from lanhai.sequence.reader import PROTEOME
from lanhai.services.access import Actor, own_entry
from lanhai.services.catalog import check_accession
from lanhai.services.dashboard import MAX_ZOOM, MapView, parse_map_view
from lanhai.services.proteins import CATEGORY_ORDER, rank
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
    facets = bank.dashboard.facets(actor, spec.name, where, q or None)
    base: list[tuple[str, str]] = [("q", q)] if q else []
    base += [("where", w) for w in where]
    if sort != "accession":
        base.append(("sort", sort))
    plural = PLURALS[spec.name]

    def url(**extra: Any) -> str:
        pairs = base + [(k, str(v)) for k, v in extra.items()]
        return f"/browse/{plural}" + ("?" + urlencode(pairs) if pairs else "")

    total = total or 0
    # each facet value narrows the current result (or, when chosen, widens it again); the
    # counts may be the cache's: copied, never changed
    linked: dict[str, list[dict[str, Any]]] = {}
    for name, values in facets.items():
        linked[name] = []
        for value in values:
            condition = f"{name}={value['value']}"
            chosen = condition in where
            pairs = [p for p in base if p != ("where", condition)] if chosen \
                else [*base, ("where", condition)]
            linked[name].append({**value, "chosen": chosen, "href": f"/browse/{plural}" + (
                "?" + urlencode(pairs) if pairs else "")})
    facets = linked
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


def link_choices(kind: str) -> list[dict[str, str]]:
    """The relations a record of ``kind`` can take part in (either side), with the rule."""
    return [{"rel": rule.name, "description": rule.description}
            for rule in LINK_RULES.values() if kind in rule.sources or kind in rule.targets]


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
        "downloads": downloads, "can_edit": actor.can_write,
        "own_entry": own_entry(actor, rec),
        "relations": link_choices(rec.kind) if actor.can_write else []}
    if rec.kind == "assembly":
        data["assembly"] = assembly_panel(bank, actor, rec.accession, None)
    if rec.kind in ("offer", "demand"):
        data["market"] = bank.market.match(actor, rec.accession, top=10)
    if rec.kind == "design":
        from lanhai.web.design_pages import design_panel

        data["design"] = design_panel(bank, actor, rec.accession)
    if rec.kind == "chassis":
        downloads.insert(0, {"label": "SBML", "href": f"/api/design/chassis/{rec.accession}/sbml"})
        downloads.insert(1, {"label": "model checks (JSON)",
                             "href": f"/api/design/chassis/{rec.accession}/check"})
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
    best: dict[str, tuple[tuple[int, float], str]] = {}
    families: dict[str, dict[str, Any]] = {}
    substrates: Counter[str] = Counter()
    hits = _table(service, actor, acc, "hits")
    for hit in hits or []:
        family = str(hit.get("family") or "")
        entry = families.setdefault(family, {
            "family": family, "category": hit.get("category") or "",
            "description": hit.get("description") or "", "proteins": [], "hits": 0,
            "substrates": sorted(hit.get("substrates") or [])})
        entry["hits"] += 1
        protein = str(hit.get("protein_id"))
        if protein not in entry["proteins"]:
            entry["proteins"].append(protein)
        for substrate in hit.get("substrates") or []:
            substrates[str(substrate)] += 1
        # a gene is drawn with its enzyme family when it has one, else its best hit
        key = (-rank(hit.get("category")), float(hit.get("score") or 0.0))
        if key > best.get(protein, ((-99, float("-inf")), ""))[0]:
            best[protein] = (key, family)
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
    record_fields = bank.catalog.get(actor, acc).fields
    base = f"/api/assemblies/{acc}"
    downloads = [{"label": "proteins FASTA", "href": f"{base}/proteins.fasta"}]
    if stats.get("genes"):
        downloads += [{"label": "genes GFF3", "href": f"{base}/genes.gff3"},
                      {"label": "GenBank", "href": f"{base}/genbank"}]
    ready = {"families": hits, "substrates": hits, "hits": hits, "loci": loci,
             "clusters": clusters}
    downloads += [{"label": f"{what} JSON", "href": f"{base}/annotations/{what}"}
                  for what, rows in ready.items() if rows is not None]
    return {**empty, "stats": _new_facts(stats, record_fields), "downloads": downloads,
            "contigs": [{"id": c, "length": lengths[c]} for c in names[:500]],
            "contig": chosen, "contig_length": lengths[chosen] if chosen else 0,
            "genes": genes, "annotated": hits is not None,
            "families": _family_groups(acc, families.values()),
            "substrates": [{"substrate": k, "hits": n,
                            "href": f"/search/families?substrate={quote(k)}&assembly={acc}"}
                           for k, n in substrates.most_common()],
            "loci": None if loci is None else [_locus(acc, r) for r in loci[:200]],
            "clusters": None if clusters is None else [_locus(acc, r) for r in clusters[:200]],
            "protein_href": f"/records/{acc}/proteins/{{id}}"}


#: families shown per category on an assembly's page (every enzyme family; the rest capped)
SHOWN = {"enzymes": 10_000, "other": 25}


def _family_groups(acc: str, families: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The assembly's families by category, CAZymes first; each with its proteins (linked)
    and a link to them in family search."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for f in families:
        proteins = f["proteins"]
        groups.setdefault(rank(f["category"]), []).append({
            **f, "proteins": [{"id": p, "href": f"/records/{acc}/proteins/{quote(p, safe='')}"}
                              for p in proteins[:12]],
            "protein_count": len(proteins),
            "href": f"/search/families?family={quote(f['family'])}&assembly={acc}"})
    out = []
    for order in sorted(groups):
        rows = sorted(groups[order], key=lambda f: (-f["protein_count"], f["family"]))
        category = rows[0]["category"] or "other"
        limit = SHOWN["enzymes"] if order <= rank("plastics") else SHOWN["other"]
        label = CATEGORY_ORDER[order] if order < len(CATEGORY_ORDER) else "other"
        out.append({"category": category, "label": f"category_{label}", "total": len(rows),
                    "families": rows[:limit]})
    return out


def _locus(acc: str, row: dict[str, Any]) -> dict[str, Any]:
    """A PUL or gene cluster for the page: where it lies (contig and coordinates, or its
    first and last protein for a proteome) and its member proteins, each linked."""
    view = _jsonable(row)
    proteins = list(row.get("proteins") or [])
    roles = list(row.get("roles") or [])
    families = list(row.get("families") or [])
    view["members"] = [{"id": p, "href": f"/records/{acc}/proteins/{quote(p, safe='')}",
                        "role": roles[i] if i < len(roles) else "",
                        "family": families[i] if i < len(families) else ""}
                       for i, p in enumerate(proteins)]
    if row.get("contig") is None:
        first, last = row.get("first_protein") or (proteins[0] if proteins else ""), \
            row.get("last_protein") or (proteins[-1] if proteins else "")
        view["where"] = f"{first} … {last}" if first != last else str(first)
    else:
        view["where"] = f"{row['contig']}:{row.get('start')}–{row.get('end')}"
    return view


def _new_facts(stats: dict[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """The stored statistics the record's own fields do not already show."""
    shown = {k for k, v in fields.items() if v is not None}
    return {k: v for k, v in stats.items() if k not in shown}


def protein(bank: Bank, actor: Actor, accession: str, protein_id: str) -> dict[str, Any]:
    """One protein's page: its sequence, domains, families, PUL or cluster, neighbours and
    where it comes from; links to search for similar sequences and for its families."""
    data = bank.proteins.protein(actor, check_accession(accession), protein_id)
    acc = data["assembly"]["accession"]
    seq = data["protein"]["sequence"]
    fasta = f">{data['protein']['id']}\n{seq}\n"
    data["similar_href"] = "/search/sequence?" + urlencode([("fasta", fasta)]) \
        if len(fasta) < 6000 else None
    data["sequence_lines"] = [seq[i:i + 60] for i in range(0, len(seq), 60)]
    for family in data["families"]:
        family["href"] = "/search/families?" + urlencode([("family", family["family"])])
    for group in ("loci", "clusters"):
        data[group] = [_locus(acc, row) for row in data[group]]
    data["protein_href"] = f"/records/{acc}/proteins/{{id}}"
    for gene in data["neighbours"]:
        gene["href"] = f"/records/{acc}/proteins/{quote(str(gene['protein_id']), safe='')}"
    return data


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


def site_map(bank: Bank, actor: Actor, params: Mapping[str, str],
             kinds: Sequence[str] = ()) -> dict[str, Any]:
    """The map page: the records in view gathered in cells, and links that zoom, pan and
    filter (all on the server: the page needs no script)."""
    view = parse_map_view(params, kinds)
    data = bank.dashboard.map_view(actor, view)
    width, height = view.size()
    lat, lon = view.centre()

    def href(**changes: Any) -> str:
        return "/map?" + urlencode(view.params(**changes))

    for cell in data["cells"]:
        if cell["count"] > 1:
            cell["href"] = (href(lat=cell["latitude"], lon=cell["longitude"],
                                 zoom=min(view.zoom + 2, MAX_ZOOM))
                            if view.zoom < MAX_ZOOM else _browse_cell(view, cell))
    data["nav"] = {
        "zoom_in": href(zoom=view.zoom + 1) if view.zoom < MAX_ZOOM else None,
        "zoom_out": href(zoom=view.zoom - 1) if view.zoom > 0 else None,
        "north": href(lat=min(lat + height / 2, 90.0), lon=lon) if view.zoom else None,
        "south": href(lat=max(lat - height / 2, -90.0), lon=lon) if view.zoom else None,
        "west": href(lat=lat, lon=max(lon - width / 2, -180.0)) if view.zoom else None,
        "east": href(lat=lat, lon=min(lon + width / 2, 180.0)) if view.zoom else None,
        "world": "/map?" + urlencode(MapView(kinds=view.kinds, depth_min=view.depth_min,
                                             depth_max=view.depth_max,
                                             year_from=view.year_from,
                                             year_to=view.year_to).params()),
    }
    data["kinds"] = [{"kind": k, "chosen": k in view.kinds} for k in MAP_KINDS]
    data["listed"] = sorted(data["cells"], key=lambda c: -c["count"])[:50]
    return data


#: the kinds that carry coordinates
MAP_KINDS = ("sample", "strain", "germplasm")


def _browse_cell(view: MapView, cell: Mapping[str, Any]) -> str:
    """At the closest zoom a cell still holding several records lists them."""
    kind = cell.get("kind") or "sample"
    half = view.cell() / 2
    lat, lon = cell["latitude"], cell["longitude"]
    where = [f"latitude>={lat - half:.5f}", f"latitude<={lat + half:.5f}",
             f"longitude>={lon - half:.5f}", f"longitude<={lon + half:.5f}"]
    return f"/browse/{PLURALS[kind]}?" + urlencode([("where", w) for w in where])


def dashboard_downloads(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """The dashboard's targets table as files to save (named for the day they count)."""
    stamp = str(data["as_of"])[:10]
    return [{"label": "CSV", "name": f"lanhai-targets-{stamp}.csv", "href": "/targets.csv"},
            {"label": "XLSX", "name": f"lanhai-targets-{stamp}.xlsx", "href": "/targets.xlsx"}]


#: the columns of the targets table as a file
TARGET_COLUMNS = ["measure", "measure_zh", "count", "target", "percent", "how_counted", "as_of"]


def targets_rows(data: Mapping[str, Any]) -> list[list[Any]]:
    """The dashboard's targets, a row each, as the page shows them."""
    return [[t["en"], t["zh"], t["count"], t["target"] if t["target"] is not None else "",
             t["percent"] if t["percent"] is not None else "", t["how"], data["as_of"]]
            for t in data["targets"]]


def targets_csv(data: Mapping[str, Any]) -> str:
    text = io.StringIO()
    writer = TableWriter(text)
    writer.writerow(TARGET_COLUMNS)
    writer.writerows(targets_rows(data))
    return text.getvalue()


def targets_xlsx(data: Mapping[str, Any]) -> bytes:
    """The targets as a workbook whose own dates are the dashboard's 'as of'."""
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    when = dt.datetime.fromisoformat(str(data["as_of"])).replace(tzinfo=None)
    book.properties.created = book.properties.modified = when
    sheet = book.create_sheet("targets")
    sheet.append(TARGET_COLUMNS)
    for row in targets_rows(data):
        sheet.append([spreadsheet_safe(v) if isinstance(v, str) else v for v in row])
    binary = io.BytesIO()
    book.save(binary)
    return binary.getvalue()
