"""API routes for catalogue, compound and family search.

``GET /api/search`` (full text and facets), ``GET /api/search/compounds`` (exact,
substructure, similarity) and ``GET|POST /api/search/families`` (stored annotation hits, or
an uploaded HMM searched on the fly). The search services answer as the caller may see the
bank.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from lanhai.api import schemas
from lanhai.api.deps import ActorDep, BankDep
from lanhai.api.routing import api_router
from lanhai.bank import Bank
from lanhai.errors import UsageError
from lanhai.exports.common import TableWriter
from lanhai.model import MAX_OFFSET
from lanhai.search.filters import SORTS, BBox, CatalogFilters, FamilyQuery
from lanhai.services.access import Actor
from lanhai.services.families import COLUMNS, FamilyResult

router = api_router(prefix="/api/search", tags=["search"])

MAX_HMM_BYTES = 20_000_000

Kinds = Annotated[list[str], Query(description="Only these kinds (repeatable)")]
Taxon = Annotated[str | None, Query(description="Taxon name prefix, e.g. Zobellia",
                                    max_length=300)]
DepthMin = Annotated[float | None, Query(description="Depth at least (m)")]
DepthMax = Annotated[float | None, Query(description="Depth at most (m)")]
DateFrom = Annotated[str | None, Query(description="Date on or after, YYYY[-MM[-DD]]",
                                       max_length=10)]
DateTo = Annotated[str | None, Query(description="Date on or before, YYYY[-MM[-DD]]",
                                     max_length=10)]
BBoxQ = Annotated[str | None, Query(description="west,south,east,north in degrees",
                                    max_length=100)]
Available = Annotated[bool, Query(description="Only strains that can be ordered (and what "
                                              "comes from them)")]


def _filters(kind: list[str] | None = None, taxon: str | None = None,
             depth_min: float | None = None, depth_max: float | None = None,
             date_from: str | None = None, date_to: str | None = None,
             bbox: str | None = None, available: bool = False, has_genome: bool = False,
             has_family: list[str] | None = None) -> CatalogFilters:
    return CatalogFilters(kinds=tuple(kind or ()), taxon=taxon, depth_min=depth_min,
                          depth_max=depth_max, date_from=date_from, date_to=date_to,
                          bbox=BBox.parse(bbox) if bbox else None, available=available,
                          has_genome=has_genome, has_family=tuple(has_family or ()))


def _tsv(rows: list[dict[str, Any]], columns: list[str], name: str) -> Response:
    out = io.StringIO()
    writer = TableWriter(out, tsv=True, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else
                         ";".join(map(str, row[c])) if isinstance(row.get(c), list)
                         else row[c] for c in columns])
    return Response(out.getvalue(), media_type="text/tab-separated-values; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.tsv"'})


def _or_tsv(description: str) -> dict[str, Any]:
    return {"description": f"{description} (format=tsv: as a table)", "content": {
        "text/tab-separated-values": {"schema": {"type": "string"}}}}


FAMILY_FORMATS: dict[str, Any] = {
    "description": "The hits (format=tsv: a table; fasta: the proteins; genbank: the proteins "
                   "with their hits)",
    "content": {media: {"schema": {"type": "string"}} for media in (
        "text/tab-separated-values", "text/x-fasta", "text/x-genbank")}}


# --- text --------------------------------------------------------------------------------

@router.get("", summary="Full-text catalogue search with facets",
            response_model=schemas.SearchAnswer, responses={200: _or_tsv("The page of hits")})
def search_text(
    actor: ActorDep, bank: BankDep,
    q: Annotated[str, Query(description="Words to find (中文 too); empty: every record",
                            max_length=500)] = "",
    kind: Kinds = [],  # noqa: B006 - FastAPI copies defaults
    taxon: Taxon = None, depth_min: DepthMin = None, depth_max: DepthMax = None,
    date_from: DateFrom = None, date_to: DateTo = None, bbox: BBoxQ = None,
    available: Available = False,
    has_genome: Annotated[bool, Query(description="Only records with a stored genome "
                                                  "(themselves or downstream)")] = False,
    has_family: Annotated[list[str], Query(description="Only records whose genome hits "
                                                       "this family (repeatable: any)")] = [],  # noqa: B006
    facet_family: Annotated[list[str], Query(description="Also count the matches whose "
                                                         "genome hits this family")
                            ] = [],  # noqa: B006
    sort: Annotated[str, Query(description=f"One of: {', '.join(SORTS)}")] = "relevance",
    desc: Annotated[bool, Query(description="Reverse the order")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    format: Annotated[str, Query(description="json (default) or tsv")] = "json",
) -> Response:
    """Records of every kind matching the words and filters: a page, the total and facet
    counts (kind, taxon, depth, year, availability, has genome, place). Restricted records
    count only for curators and admins."""
    filters = _filters(kind, taxon, depth_min, depth_max, date_from, date_to, bbox,
                       available, has_genome, has_family)
    result = bank.search.search(actor, q, filters, sort=sort, limit=limit, offset=offset,
                                descending=desc, facet_families=facet_family)
    if format == "tsv":
        return _tsv([h.to_dict() for h in result.hits],
                    ["accession", "kind", "name", "taxon", "depth_m", "event_date",
                     "latitude", "longitude", "availability", "has_genome", "score"], "search")
    if format != "json":
        raise UsageError(f"unknown format {format!r}; use json or tsv")
    return JSONResponse(result.to_dict())


# --- compounds ---------------------------------------------------------------------------

@router.get("/compounds", summary="Compound search: exact, substructure, similarity",
            response_model=schemas.CompoundAnswer, responses={200: _or_tsv("The compounds")})
def search_compounds(
    actor: ActorDep, bank: BankDep,
    inchikey: Annotated[str | None, Query(description="Exact: InChIKey", max_length=40)] = None,
    smiles: Annotated[str | None, Query(description="Exact: SMILES, compared by InChIKey",
                                        max_length=2000)] = None,
    smarts: Annotated[str | None, Query(description="Substructure: SMARTS",
                                        max_length=2000)] = None,
    substructure: Annotated[str | None, Query(description="Substructure: SMILES",
                                              max_length=2000)] = None,
    similar: Annotated[str | None, Query(description="Similarity: SMILES (Morgan r=2, "
                                                     "2048 bits, Tanimoto)",
                                         max_length=2000)] = None,
    threshold: Annotated[float, Query(ge=0, le=1, description="Lowest Tanimoto")] = 0.7,
    limit: Annotated[int, Query(ge=1, le=10000)] = 100,
    format: Annotated[str, Query(description="json (default) or tsv")] = "json",
) -> Response:
    """Give exactly one of inchikey, smiles, smarts, substructure or similar."""
    given = {k: v for k, v in (("inchikey", inchikey), ("smiles", smiles), ("smarts", smarts),
                               ("substructure", substructure), ("similar", similar))
             if v is not None}
    if len(given) != 1:
        raise UsageError("give exactly one of inchikey, smiles, smarts, substructure or "
                         f"similar (got {', '.join(given) or 'none'})")
    [(mode, value)] = given.items()
    if mode in ("inchikey", "smiles"):
        hits = bank.compounds.exact(actor, **{mode: value})[:limit]
        total = len(hits)
    elif mode == "similar":
        hits, total = bank.compounds.similar(actor, value, threshold=threshold, limit=limit)
    else:
        hits, total = bank.compounds.substructure(actor, value, smiles=mode == "substructure",
                                                  limit=limit)
    items = [h.to_dict() for h in hits]
    if format == "tsv":
        columns = ["accession", "name", "inchikey", "canonical_smiles"]
        return _tsv(items, columns + (["similarity"] if mode == "similar" else []),
                    "compounds")
    if format != "json":
        raise UsageError(f"unknown format {format!r}; use json or tsv")
    return JSONResponse({"mode": mode, "total": total, "items": items})


# --- families ----------------------------------------------------------------------------

def _family_response(result: FamilyResult, fmt: str, bank: Bank) -> Response:
    if fmt == "tsv":
        return _tsv(result.hits, list(COLUMNS), "families")
    if fmt == "fasta":
        text = "".join(f">{h}\n" + "".join(s[i:i + 60] + "\n" for i in range(0, len(s), 60))
                       for h, s in bank.families.hit_sequences(result.hits))
        return Response(text, media_type="text/x-fasta; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="hits.faa"'})
    if fmt == "genbank":
        return Response("".join(bank.families.hit_genbank(result.hits)),
                        media_type="text/x-genbank; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="hits.gbk"'})
    if fmt != "json":
        raise UsageError(f"unknown format {fmt!r}; use json, tsv, fasta or genbank")
    return JSONResponse(result.to_dict())


@router.get("/families", summary="Proteins hitting protein families across the bank",
            response_model=schemas.FamilyAnswer, responses={200: FAMILY_FORMATS})
def search_families_route(
    actor: ActorDep, bank: BankDep,
    family: Annotated[list[str], Query(description="Family name or accession (GH16, "
                                                   "PF07980); repeatable; or give substrate "
                                                   "alone")] = [],  # noqa: B006
    pack: Annotated[list[str], Query(description="Only these profile packs")] = [],  # noqa: B006
    substrate: Annotated[list[str], Query(description="Only hits with these substrates")
                         ] = [],  # noqa: B006
    min_score: Annotated[float | None, Query(description="Lowest bit score")] = None,
    max_evalue: Annotated[float | None, Query(gt=0, description="Highest e-value")] = None,
    taxon: Taxon = None, depth_min: DepthMin = None, depth_max: DepthMax = None,
    date_from: DateFrom = None, date_to: DateTo = None, bbox: BBoxQ = None,
    available: Available = False,
    limit: Annotated[int, Query(ge=1, le=100000)] = 1000,
    format: Annotated[str, Query(description="json (default), tsv, fasta or genbank")] = "json",
) -> Response:
    """Every stored annotation hit to the families, with its assembly, strain, sample,
    depth, place and date; filtered by score, e-value, pack, substrate and catalogue
    fields."""
    query = FamilyQuery(tuple(family), tuple(pack), tuple(substrate), min_score, max_evalue,
                        _filters(None, taxon, depth_min, depth_max, date_from, date_to, bbox,
                                 available), limit)
    return _family_response(bank.families.search(actor, query), format, bank)


@router.post("/families", summary="Search an uploaded HMM over the stored proteins",
             response_model=schemas.FamilyAnswer, responses={200: FAMILY_FORMATS})
async def search_families_hmm(
    actor: ActorDep, bank: BankDep,
    hmm: Annotated[UploadFile, File(description="HMMER3 profile file (hmmbuild output)")],
    min_score: Annotated[float | None, Form(description="Lowest bit score")] = None,
    max_evalue: Annotated[float | None, Form(gt=0, description="Highest e-value")] = None,
    taxon: Annotated[str | None, Form(max_length=300)] = None,
    depth_min: Annotated[float | None, Form()] = None,
    depth_max: Annotated[float | None, Form()] = None,
    date_from: Annotated[str | None, Form(max_length=10)] = None,
    date_to: Annotated[str | None, Form(max_length=10)] = None,
    bbox: Annotated[str | None, Form(max_length=100)] = None,
    available: Annotated[bool, Form()] = False,
    limit: Annotated[int, Form(ge=1, le=100000)] = 1000,
    format: Annotated[str, Form(description="json (default), tsv, fasta or genbank")] = "json",
) -> Response:
    """pyhmmer searches the profile(s) over every visible assembly's proteins that pass the
    catalogue filters (E-values with Z = proteins searched, like ``hmmsearch -Z``)."""
    data = await hmm.read(MAX_HMM_BYTES + 1)
    if len(data) > MAX_HMM_BYTES:
        raise UsageError(f"the HMM file is larger than {MAX_HMM_BYTES // 1_000_000} MB")
    query = FamilyQuery((), (), (), min_score, max_evalue,
                        _filters(None, taxon, depth_min, depth_max, date_from, date_to, bbox,
                                 available), limit)
    result = await run_in_threadpool(_run_hmm, bank, actor, data, query,
                                     hmm.filename or "hmm")
    return _family_response(result, format, bank)


def _run_hmm(bank: Bank, actor: Actor, data: bytes, query: FamilyQuery, source: str
             ) -> FamilyResult:
    return bank.families.search_hmm(actor, data, query, source=source)
