"""The search pages' services: one call per page, returning the JSON-able data the page
shows (and its JSON twin returns).

Bad input is a :class:`~lanhai.errors.ValidationFailed` whose problems name the form field
(``field``), so the page can show the form again with each problem beside its field (422).
"""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from lanhai.bank import Bank
from lanhai.errors import LanhaiError, Problem, UsageError, ValidationFailed
from lanhai.exports.common import TableWriter
from lanhai.kinds import KINDS, PLURALS
from lanhai.search.enzymes import Suggestion, families_by_substrate, substrate_names, suggest
from lanhai.search.filters import SORTS, BBox, CatalogFilters, FamilyQuery
from lanhai.services.access import Actor
from lanhai.services.compounds import DEFAULT_THRESHOLD
from lanhai.services.sequence_search import MAX_EVALUE, SYNC_QUERIES, as_rows, read_query

#: fields of the text search form (query string names)
TEXT_FIELDS = ("q", "taxon", "depth_min", "depth_max", "date_from", "date_to", "bbox",
               "sort", "desc", "limit", "offset", "has_genome", "available")
PAGE_SIZES = (20, 50, 100)
SEQUENCE_DEFAULTS: dict[str, Any] = {"db": "proteins", "evalue": 1e-3, "min_identity": 0.0,
                                     "max_hits": 10, "sensitive": False}
#: largest query the sequence page accepts (bytes, pasted or uploaded)
MAX_FASTA_BYTES = 20 << 20
COMPOUND_MODES = ("exact", "substructure", "similarity")
_INCHIKEY = re.compile(r"^[A-Za-z]{14}-[A-Za-z]{10}-[A-Za-z]$")


def _number(params: Mapping[str, str], name: str, problems: list[Problem],
            cast: Callable[[str], Any] = float, default: Any = None) -> Any:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    what = "a whole number" if cast is int else "a number"
    try:
        value = cast(raw)
        if not math.isfinite(value) or abs(value) > 1e12:
            raise ValueError(raw)
        return value
    except (ValueError, OverflowError):
        problems.append(Problem(f"{raw[:50]!r} is not {what} (or is far too large)",
                                f"write {name} as {what}, e.g. "
                                + ("20" if cast is int else "1000"), field=name,
                                value=raw[:50]))
        return default


def _flag(params: Mapping[str, str], name: str) -> bool:
    return (params.get(name) or "").strip().lower() in ("1", "true", "yes", "on")


# --- text search ---------------------------------------------------------------------------

def text_search(bank: Bank, actor: Actor, params: Mapping[str, str], kinds: Sequence[str],
                families: Sequence[str]) -> dict[str, Any]:
    """Catalogue search: a page of records of every kind matching the words and filters,
    the facet counts over every match (each value a link that adds or removes that
    filter), sorting and paging links."""
    problems: list[Problem] = []
    q = (params.get("q") or "").strip()[:500]
    depth_min = _number(params, "depth_min", problems)
    depth_max = _number(params, "depth_max", problems)
    limit = _number(params, "limit", problems, int, 20)
    offset = _number(params, "offset", problems, int, 0)
    sort = (params.get("sort") or "relevance").strip()
    if sort not in SORTS:
        problems.append(Problem(f"cannot sort by {sort!r}", "sort by one of: "
                                + ", ".join(SORTS), field="sort", value=sort))
        sort = "relevance"
    if limit is not None and not 1 <= limit <= 100:
        problems.append(Problem(f"{limit} results per page is out of range",
                                "show 1 to 100 results per page", field="limit",
                                value=str(limit)))
        limit = 20
    if offset is not None and offset < 0:
        problems.append(Problem("offset is below 0", "start at 0", field="offset",
                                value=str(offset)))
        offset = 0
    wanted_kinds = [k.strip() for k in kinds if k.strip()]
    singular = {PLURALS[k]: k for k in KINDS} | {k: k for k in KINDS}
    for k in wanted_kinds:
        if k not in singular:
            problems.append(Problem(f"no record kind {k!r}", "choose among: "
                                    + ", ".join(KINDS), field="kind", value=k))
    bbox = None
    raw_box = (params.get("bbox") or "").strip()
    if raw_box:
        try:
            bbox = BBox.parse(raw_box)
        except UsageError as err:
            problems.append(Problem(err.message, "give W,S,E,N in decimal degrees, e.g. "
                                    "110,20,130,40", field="bbox", value=raw_box))
    dates = {name: (params.get(name) or "").strip() or None
             for name in ("date_from", "date_to")}
    filters = None
    try:
        filters = CatalogFilters(
            kinds=tuple(singular[k] for k in wanted_kinds if k in singular),
            taxon=(params.get("taxon") or "").strip()[:300] or None,
            depth_min=depth_min, depth_max=depth_max, **dates, bbox=bbox,
            has_genome=_flag(params, "has_genome"),
            has_family=tuple(f.strip() for f in families if f.strip()),
            available=_flag(params, "available"))
    except UsageError as err:
        field = next((n for n in ("date_from", "date_to") if n.replace("_", "-")
                      in err.message), "depth_min")
        problems.append(Problem(err.message, "write dates as YYYY, YYYY-MM or YYYY-MM-DD, "
                                "the lower depth first", field=field,
                                value=str(params.get(field) or "")))
    if problems or filters is None:
        raise ValidationFailed("the search form has problems; fix the fields marked",
                               problems)
    descending = _flag(params, "desc")
    result = bank.search.search(actor, q, filters, sort=sort, limit=limit, offset=offset,
                                descending=descending)
    body = result.to_dict()
    # the form's state as query pairs: links add or remove one filter from it
    state: list[tuple[str, str]] = [(k, str(params.get(k) or "").strip()) for k in TEXT_FIELDS
                                    if k not in ("offset",) and (params.get(k) or "").strip()]
    state += [("kind", singular[k]) for k in wanted_kinds]
    state += [("has_family", f) for f in filters.has_family]

    def url(drop: Sequence[str] = (), add: Sequence[tuple[str, str]] = (),
            remove: tuple[str, str] | None = None) -> str:
        pairs = [(k, v) for k, v in state if k not in drop and (k, v) != remove]
        pairs += [p for p in add if p not in pairs]
        return "/search" + ("?" + urlencode(pairs) if pairs else "")

    facets = body["facets"]
    chosen_kinds = set(filters.kinds)
    kind_links = [{"value": k, "plural": PLURALS[k], "count": facets["kind"].get(k, 0),
                   "chosen": k in chosen_kinds,
                   "href": url(remove=("kind", k)) if k in chosen_kinds
                   else url(add=[("kind", k)])}
                  for k in KINDS if k in facets["kind"] or k in chosen_kinds]
    taxon_links = [{**t, "href": url(drop=["taxon"], add=[("taxon", t["value"])])}
                   for t in facets["taxon"]]
    depth_links = [{**d, "href": url(drop=["depth_min", "depth_max"], add=[
        ("depth_min", f"{d['from_m']:g}")] + ([("depth_max", f"{d['to_m']:g}")]
                                              if d["to_m"] is not None else []))}
                   for d in facets["depth"] if d["count"]]
    year_links = [{"value": y, "count": n, "href": url(drop=["date_from", "date_to"], add=[
        ("date_from", y), ("date_to", f"{y}-12-31")])} for y, n in facets["year"].items()]
    avail_links = [{"value": a, "count": n} for a, n in facets["availability"].items()]
    limit_used = int(limit)
    total = int(body["total"])
    start = int(offset)
    items = [{**item, "href": f"/records/{item['accession']}"} for item in body["items"]]
    filters_echo = {"q": q, "kind": sorted(chosen_kinds), "taxon": filters.taxon,
                    "depth_min": depth_min, "depth_max": depth_max,
                    "date_from": filters.date_from, "date_to": filters.date_to,
                    "bbox": raw_box or None, "has_genome": filters.has_genome,
                    "has_family": list(filters.has_family), "available": filters.available,
                    "sort": sort, "desc": descending, "limit": limit_used}
    enzymes = [{**s.to_dict(), "href": _family_link(s)} for s in suggest(q)]
    return {**body, "items": items, "filters": filters_echo, "sorts": list(SORTS),
            "enzymes": enzymes,
            "page_sizes": list(PAGE_SIZES), "kinds": list(KINDS),
            "links": {"kind": kind_links, "taxon": taxon_links, "depth": depth_links,
                      "year": year_links,
                      "has_genome": url(drop=["has_genome"], add=[("has_genome", "yes")]),
                      "available": url(drop=["available"], add=[("available", "yes")]),
                      "availability": avail_links, "clear": "/search" + (
                          "?" + urlencode([("q", q)]) if q else "")},
            "previous": (url(add=[("offset", str(max(0, start - limit_used)))])
                         if start > 0 else None),
            "next": (url(add=[("offset", str(start + limit_used))])
                     if start + limit_used < total else None),
            "tsv": "/api/search?" + urlencode(
                [(k, v) for k, v in state if k not in ("limit",)]
                + [("format", "tsv"), ("limit", "1000")])}


def _family_link(found: Suggestion) -> str:
    """The family search for a suggestion: its substrate, or the families named."""
    if found.substrate is not None:
        return "/search/families?" + urlencode([("substrate", found.substrate)])
    return "/search/families?" + urlencode([("family", " ".join(found.families))])


# --- sequence search -----------------------------------------------------------------------

def example_query() -> str:
    """A real query to try: the beta-agarase AgaB of Zobellia galactanivorans DsijT (GH16;
    Hehemann et al. 2012), from the proteome the demo bank holds."""
    return resources.files("lanhai.web").joinpath("data", "example_query.faa").read_text(
        "utf-8")


def sequence_form(options: Mapping[str, Any] | None = None, fasta: str = "",
                  problems: Sequence[Problem] = ()) -> dict[str, Any]:
    """The sequence form's state: options, the pasted text, problems by field."""
    by_field: dict[str, list[dict[str, Any]]] = {}
    for p in problems:
        by_field.setdefault(p.field or "fasta", []).append(p.to_dict())
    return {"options": {**SEQUENCE_DEFAULTS, **(options or {})}, "fasta": fasta,
            "problems": by_field, "sync_queries": SYNC_QUERIES, "dbs": ["proteins", "contigs"],
            "result": None, "job": None, "example": "/search/sequence?example=agab"}


def sequence_options(form: Mapping[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """Search options from the form, and a problem per bad field."""
    problems: list[Problem] = []
    db = (form.get("db") or "proteins").strip()
    if db not in ("proteins", "contigs"):
        problems.append(Problem(f"no sequence bank {db!r}", "search proteins or contigs",
                                field="db", value=db))
        db = "proteins"
    evalue = _number(form, "evalue", problems, float, 1e-3)
    if evalue is not None and not 0 < evalue <= MAX_EVALUE:  # also nan and inf
        problems.append(Problem(f"the e-value must be above 0 and at most {MAX_EVALUE:g}",
                                "e.g. 1e-3", field="evalue", value=str(evalue)))
    identity = _number(form, "min_identity", problems, float, 0.0)
    if identity is not None and not 0 <= identity <= 1:
        problems.append(Problem("the identity is a fraction between 0 and 1",
                                "e.g. 0.3 for 30 %", field="min_identity",
                                value=str(identity)))
    max_hits = _number(form, "max_hits", problems, int, 10)
    if max_hits is not None and not 1 <= max_hits <= 1000:
        problems.append(Problem("hits per query must be 1 to 1000", "e.g. 10",
                                field="max_hits", value=str(max_hits)))
    return ({"db": db, "evalue": evalue, "min_identity": identity, "max_hits": max_hits,
             "sensitive": _flag(form, "sensitive")}, problems)


def sequence_search(bank: Bank, actor: Actor, fasta: str, options: Mapping[str, Any],
                    problems: Sequence[Problem]) -> dict[str, Any]:
    """Run the search (≤ SYNC_QUERIES queries) or start a background job (more).

    Returns the page data: the form state and ``result`` (hits with their lineage, and a
    link for each record) or ``job`` (the started job's dict)."""
    found = list(problems)
    records: list[tuple[str, str]] = []
    if not fasta.strip():
        found.append(Problem("no sequence given", "paste FASTA ('>id' line, then the "
                             "sequence) or choose a FASTA file", field="fasta"))
    else:
        try:
            records = read_query(fasta, str(options["db"]), "query")
        except ValidationFailed as err:
            found += [Problem(p.reason, p.fix, field="fasta", value=p.value, row=p.row,
                              record=p.record) for p in err.problems]
    if not found and len(records) > SYNC_QUERIES and actor.role == "anonymous":
        found.append(Problem(f"{len(records)} sequences: more than {SYNC_QUERIES} run as a "
                             "background job, which needs an account",
                             f"sign in, or search at most {SYNC_QUERIES} sequences at once",
                             field="fasta"))
    if found:
        raise ValidationFailed("the search form has problems; fix the fields marked", found)
    data = sequence_form(options, fasta if len(fasta) <= 200_000 else "")
    service = bank.sequence_search
    if len(records) > SYNC_QUERIES:
        job = bank.jobs.submit(kind="search-sequence", owner=actor.username,
                         params={**options, "queries": len(records)},
                         task=lambda progress: service.search(actor, records,
                                                              progress=progress, **options))
        data["job"] = job.to_dict()
        return data
    result = service.search(actor, records, **options)
    for hit in result["hits"]:
        lineage = hit["lineage"]
        lineage["assembly"]["href"] = f"/records/{lineage['assembly']['accession']}"
        for item in lineage["strains"] + lineage["samples"]:
            item["href"] = f"/records/{item['accession']}"
        if options["db"] == "proteins":
            hit["href"] = _protein_href(hit["assembly"], hit["target"])
    data["result"] = result
    data["tsv"] = _tsv_download(as_rows(result))
    return data


def _tsv_download(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """The hits as a TSV file to save (a data: link: the search was a POST)."""
    if not rows:
        return None
    out = io.StringIO()
    writer = TableWriter(out, tsv=True, lineterminator="\n")
    writer.writerow(list(rows[0]))
    writer.writerows([row[c] for c in rows[0]] for row in rows)
    return "data:text/tab-separated-values;charset=utf-8," + quote(out.getvalue())


# --- compound search -----------------------------------------------------------------------

_SVG_NS = "http://www.w3.org/2000/svg"
_SVG_TAGS = {"svg", "rect", "path", "g", "ellipse", "circle", "polygon", "polyline", "line",
             "text", "tspan"}
_SVG_ATTRS = {"width", "height", "viewBox", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy",
              "r", "rx", "ry", "d", "points", "fill", "stroke", "stroke-width",
              "stroke-linecap", "stroke-linejoin", "stroke-opacity", "fill-opacity",
              "fill-rule", "font-size", "font-family", "text-anchor", "dominant-baseline",
              "transform", "opacity", "class", "font-weight"}
#: style properties RDKit writes, turned into the presentation attributes of the same name
#: (a page's Content-Security-Policy allows no inline style)
_STYLE_TO_ATTRIBUTE = _SVG_ATTRS - {"width", "height", "viewBox", "x", "y", "x1", "x2", "y1",
                                    "y2", "cx", "cy", "r", "rx", "ry", "d", "points",
                                    "transform", "class"}
_BAD_STYLE = re.compile(r"url\s*\(|expression|@import|javascript:", re.IGNORECASE)


def sanitize_svg(text: str) -> str:
    """Only drawing elements and presentation attributes: no script, link, event handler,
    id, external reference or comment survives; raises ValueError on anything else."""
    ET.register_namespace("", _SVG_NS)
    root = ET.fromstring(text)

    def clean(element: ET.Element) -> None:
        for child in list(element):
            tag = child.tag.rsplit("}", 1)[-1]
            if not isinstance(child.tag, str) or tag not in _SVG_TAGS:
                element.remove(child)
                continue
            clean(child)
        style = element.attrib.pop("style", "")
        for declaration in style.split(";"):
            prop, _, value = declaration.partition(":")
            prop, value = prop.strip().lower(), value.strip()
            if prop in _STYLE_TO_ATTRIBUTE and value and prop not in element.attrib:
                element.set(prop, value)
        for name in list(element.attrib):
            bare = name.rsplit("}", 1)[-1]
            value = element.attrib[name]
            if bare not in _SVG_ATTRS or "}" in name or _BAD_STYLE.search(value):
                del element.attrib[name]

    if root.tag.rsplit("}", 1)[-1] != "svg":
        raise ValueError("not an SVG drawing")
    clean(root)
    return ET.tostring(root, encoding="unicode", short_empty_elements=True)


@lru_cache(maxsize=2048)
def draw_structure(smiles: str, width: int = 180, height: int = 130) -> str | None:
    """A small SVG drawing of the structure (RDKit), sanitized; None when RDKit cannot read
    the SMILES or the molecule is too large to draw legibly this small."""
    from rdkit import Chem
    from rdkit.Chem.Draw import rdMolDraw2D

    from lanhai.search.compounds import quiet

    quiet()
    mol = Chem.MolFromSmiles(smiles) if smiles and len(smiles) <= 2000 else None
    if mol is None or mol.GetNumHeavyAtoms() > 150:
        return None
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    setattr(drawer.drawOptions(), "clearBackground", False)  # noqa: B010 - untyped option
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol)
    drawer.FinishDrawing()
    try:
        svg = sanitize_svg(drawer.GetDrawingText())
    except (ValueError, ET.ParseError):
        return None
    return svg


def compound_search(bank: Bank, actor: Actor, params: Mapping[str, str]) -> dict[str, Any]:
    """Exact (InChIKey, or SMILES compared by InChIKey), substructure (SMARTS) or similarity
    (SMILES, Morgan fingerprints, Tanimoto ≥ threshold) search over compound records; each
    hit with a small drawing of its structure and a link to its record."""
    structure = (params.get("structure") or "").strip()
    mode = (params.get("mode") or "exact").strip()
    problems: list[Problem] = []
    threshold = _number(params, "threshold", problems, float, DEFAULT_THRESHOLD)
    limit = _number(params, "limit", problems, int, 100)
    if mode not in COMPOUND_MODES:
        problems.append(Problem(f"no search mode {mode!r}", "choose exact, substructure or "
                                "similarity", field="mode", value=mode))
    if threshold is not None and not 0 <= threshold <= 1:
        problems.append(Problem("the threshold is a Tanimoto similarity between 0 and 1",
                                "e.g. 0.7", field="threshold", value=str(threshold)))
    if limit is not None and not 1 <= limit <= 1000:
        problems.append(Problem("show 1 to 1000 compounds", "e.g. 100", field="limit",
                                value=str(limit)))
    if len(structure) > 2000:
        problems.append(Problem("the structure is longer than 2,000 characters",
                                "give a shorter SMILES or SMARTS", field="structure"))
    form = {"structure": structure, "mode": mode, "threshold": threshold, "limit": limit,
            "modes": list(COMPOUND_MODES)}
    if problems:
        raise ValidationFailed("the search form has problems; fix the fields marked", problems)
    if not structure:
        return {**form, "searched": False, "total": 0, "items": []}
    try:
        if mode == "exact":
            is_key = bool(_INCHIKEY.match(structure))
            hits = bank.compounds.exact(
                actor, **({"inchikey": structure} if is_key else {"smiles": structure}))
            total = len(hits)
            hits = hits[:limit]
        elif mode == "similarity":
            hits, total = bank.compounds.similar(actor, structure, threshold=threshold,
                                                 limit=limit)
        else:
            hits, total = bank.compounds.substructure(actor, structure, limit=limit)
    except ValidationFailed as err:
        raise ValidationFailed(err.message, [Problem(p.reason, p.fix, field="structure",
                                                     value=p.value)
                                             for p in err.problems]) from None
    items = [{**h.to_dict(), "href": f"/records/{h.accession}",
              "drawing": draw_structure(h.canonical_smiles)} for h in hits]
    return {**form, "searched": True, "total": total, "items": items}


# --- family search -------------------------------------------------------------------------

def family_search(bank: Bank, actor: Actor, params: Mapping[str, str],
                  families: Sequence[str]) -> dict[str, Any]:
    """Proteins whose stored annotation hits the families, with their assembly, strain,
    sample, depth, place and date, filtered by the catalogue fields."""
    problems: list[Problem] = []
    names = [f.strip() for part in families for f in part.replace(",", " ").split()
             if f.strip()][:50]
    depth_min = _number(params, "depth_min", problems)
    depth_max = _number(params, "depth_max", problems)
    min_score = _number(params, "min_score", problems)
    limit = _number(params, "limit", problems, int, 200)
    if limit is not None and not 1 <= limit <= 5000:
        problems.append(Problem("show 1 to 5,000 proteins", "e.g. 200", field="limit",
                                value=str(limit)))
    raw_box = (params.get("bbox") or "").strip()
    bbox = None
    if raw_box:
        try:
            bbox = BBox.parse(raw_box)
        except UsageError as err:
            problems.append(Problem(err.message, "e.g. 110,20,130,40", field="bbox",
                                    value=raw_box))
    substrate = (params.get("substrate") or "").strip()
    if substrate and substrate not in families_by_substrate():
        problems.append(Problem(f"{substrate[:60]!r} is not a substrate the annotation knows",
                                "choose one of: " + ", ".join(substrate_names()),
                                field="substrate", value=substrate[:60]))
    assembly = (params.get("assembly") or "").strip().upper()[:20]
    form = {"family": " ".join(names), "substrate": substrate, "assembly": assembly,
            "taxon": (params.get("taxon") or "").strip()[:300],
            "depth_min": depth_min, "depth_max": depth_max, "min_score": min_score,
            "date_from": (params.get("date_from") or "").strip(),
            "date_to": (params.get("date_to") or "").strip(), "bbox": raw_box,
            "available": _flag(params, "available"), "limit": limit}
    filters = None
    try:
        filters = CatalogFilters(taxon=form["taxon"] or None, depth_min=depth_min,
                                 depth_max=depth_max, date_from=form["date_from"] or None,
                                 date_to=form["date_to"] or None, bbox=bbox,
                                 available=form["available"])
    except UsageError as err:
        field = next((n for n in ("date_from", "date_to") if n.replace("_", "-")
                      in err.message), "depth_min")
        problems.append(Problem(err.message, "write dates as YYYY, YYYY-MM or YYYY-MM-DD, "
                                "the lower depth first", field=field))
    if problems or filters is None:
        raise ValidationFailed("the search form has problems; fix the fields marked", problems)
    choices = {"substrates": [{"substrate": s, "families": list(families_by_substrate()[s])}
                              for s in substrate_names()]}
    if not names and not substrate:
        return {**form, **choices, "searched": False, "total": 0, "returned": 0, "items": []}
    try:
        result = bank.families.search(actor, FamilyQuery(
            tuple(names), substrates=(substrate,) if substrate else (), min_score=min_score,
            filters=filters, limit=limit, assemblies=(assembly,) if assembly else ()))
    except (UsageError, ValidationFailed) as err:
        raise ValidationFailed(err.message, [Problem(err.message, "check the family names",
                                                     field="family")]) from None
    body = result.to_dict()
    for item in body["items"]:
        item["substrates"] = list(item.get("substrates") or [])
        item["href"] = _protein_href(item["assembly"], item["protein_id"])
    return {**form, **choices, "searched": True, **body,
            "downloads": _family_downloads(params, names, substrate)}


def _protein_href(assembly: str, protein: str) -> str:
    return f"/records/{assembly}/proteins/{quote(protein, safe='')}"


def _family_downloads(params: Mapping[str, str], names: Sequence[str], substrate: str
                      ) -> list[dict[str, str]]:
    """The same search from the API, as a table, protein FASTA or GenBank."""
    pairs = [("family", n) for n in names]
    pairs += [(k, str(params.get(k)).strip()) for k in (
        "taxon", "depth_min", "depth_max", "date_from", "date_to", "bbox", "min_score",
        "available") if (params.get(k) or "").strip()]
    if substrate:
        pairs.append(("substrate", substrate))
    return [{"label": label, "href": "/api/search/families?" + urlencode(
        [*pairs, ("format", fmt), ("limit", "5000")])}
        for fmt, label in (("tsv", "TSV"), ("fasta", "FASTA"), ("genbank", "GenBank"))]


def form_problems(err: LanhaiError) -> dict[str, list[dict[str, Any]]]:
    """A ValidationFailed's problems grouped by form field (for showing beside each)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for p in getattr(err, "problems", []):
        out.setdefault(p.field or "", []).append(p.to_dict())
    return out
