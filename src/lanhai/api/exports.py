"""API routes: streamed exports of a kind, and a record's history as CSV.

An export holds the records the caller may list: restricted records (confidential patent
deposits among them) need a curator (or admin) token. Darwin Core Archives never include
restricted records.
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import Response, StreamingResponse

from lanhai.api import schemas
from lanhai.api.deps import ActorDep, BankDep
from lanhai.api.routing import api_router
from lanhai.errors import NotFound, UsageError
from lanhai.exports import FORMATS, formats_by_kind
from lanhai.exports.history import write_history
from lanhai.exports.sbol import RDF_FORMATS
from lanhai.kinds import KINDS, PLURALS, kind_spec

router = api_router(prefix="/api", tags=["exports"])

HISTORY_CSV = ("version,action,changed_at,changed_by,field,old,new,note\n"
               "2,update,2025-03-18T15:02:11+00:00,ana,recommended_temperature,25-25,20-25,"
               "range from the description\n")
_TEXT = {"type": "string"}
#: what each format sends (SBOL3 in the serialisation rdf_format asks for)
EXPORTED: dict[str, Any] = {
    "text/csv": {"schema": _TEXT, "example": "accession,kind,name,samp_name,depth,...\n"
                 "LHSM0000001,sample,OSD1_2014-06-21_0m,OSD1_2014-06-21_0m,0-1,...\n"},
    "text/tab-separated-values": {"schema": _TEXT},
    "application/json": {"schema": {"type": "array", "items": {
        "$ref": "#/components/schemas/ExportedRecord"}}, "example": [{
            **schemas.STRAIN_RECORD, "links": [
                {"source": "LHSM0000001", "rel": "isolated_from", "target": "LHST0000001",
                 "created_at": schemas.LATER, "created_by": "ana"}]}]},
    "application/zip": {"schema": {"type": "string", "format": "binary"}},
    "text/turtle": {"schema": _TEXT},
    "application/rdf+xml": {"schema": _TEXT},
    "application/ld+json": {"schema": {"type": ["object", "array"]}},
    "application/n-triples": {"schema": _TEXT},
}


@router.get(
    "/records/{accession}/history.csv",
    summary="A record's history as CSV (one line per changed field)",
    response_class=Response,
    responses={200: {"description": "The history, one line per changed field", "content": {
        "text/csv": {"schema": {"type": "string"}, "example": HISTORY_CSV}}}},
)
def history_csv(accession: str, actor: ActorDep, bank: BankDep) -> Response:
    """Columns: version, action, changed_at, changed_by, field, old, new, note.

    Link entries naming a record the caller may not see are left out.
    """
    record = bank.catalog.get(actor, accession)
    versions = bank.catalog.history(actor, record.accession)
    buffer = io.StringIO(newline="")
    write_history(versions, "csv", buffer)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{record.accession}-history.csv"'})


def _kind(kind: str) -> str:
    """The kind a path names; 404 for an unknown word (as the records routes answer)."""
    if kind.strip().lower() == "records":
        raise UsageError("export one kind at a time, e.g. GET /api/samples/export?format=csv")
    try:
        return kind_spec(kind).name
    except UsageError:
        raise NotFound(f"no record kind {kind!r}; kinds are: "
                       + ", ".join(PLURALS[k] for k in KINDS)) from None


@router.get(
    "/{kind}/export",
    summary="Export the records of a kind (csv, tsv, json, dwca, mcpd, sbol3), streamed",
    response_class=StreamingResponse,
    responses={200: {"description": "The file, as an attachment", "content": EXPORTED}},
)
def export(
    kind: str,
    actor: ActorDep,
    bank: BankDep,
    format: Annotated[str, Query(description="One of: " + ", ".join(FORMATS) + ". "
                                 + formats_by_kind() + ".")] = "csv",
    where: Annotated[list[str] | None, Query(
        description="Filter FIELD OP VALUE, repeatable (depth_m>1000, taxon~Zobellia)")] = None,
    q: Annotated[str | None, Query(description="Full-text search")] = None,
    rdf_format: Annotated[str, Query(description="SBOL3 serialisation: "
                                     + ", ".join(RDF_FORMATS))] = "turtle",
) -> StreamingResponse:
    """The file streams as it is written. Restricted records only with a curator token;
    dwca (for GBIF) never includes restricted records."""
    options = replace(bank.exports.options, rdf_format=rdf_format)
    planned = bank.exports.plan(actor, _kind(kind), format, where or [], q, options)
    return StreamingResponse(planned.chunks(), media_type=planned.media_type, headers={
        "Content-Disposition": f'attachment; filename="{planned.filename}"'})
