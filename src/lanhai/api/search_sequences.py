"""``POST /api/search/sequence``: similarity search over every stored protein or contig.

The body is FASTA text (``Content-Type: text/plain`` or ``text/x-fasta``; options in the
query string) or JSON ``{"fasta": "...", "db", "evalue", "min_identity", "max_hits",
"sensitive"}``. Up to :data:`~lanhai.services.sequence_search.SYNC_QUERIES` query sequences are
answered at once (200); more start a background job (202 + the job, ``Location:
/api/jobs/{id}``) whose result has the same shape. Anyone may search; hits in records the
caller may not see are left out.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lanhai.api import schemas
from lanhai.api.deps import ActorDep, BankDep
from lanhai.api.routing import api_router
from lanhai.errors import UsageError
from lanhai.services.sequence_search import SYNC_QUERIES, check_options, read_query

router = api_router(prefix="/api/search", tags=["search"])

#: largest request body accepted (bytes)
MAX_BODY = 64 << 20

#: a GH16 agarase-family protein of Zobellia galactanivorans DsijT (its first 160 residues)
_EXAMPLE = (">ZOBELLIA_3628 GH16\n"
            "MILKQAILTLVLVNANLFAQEPPKTYSSTDKETRQGPPKPPMGKRWVLNPDFSDEFNGTELDTTKWLDHHPTWIGRAPGL\n"
            "FMSSQVSVGDGFLKMEGKKLEKDTIVHAYGKDITFNIAGAAVVSKKATKFGYYECRVKAAATTMSTTFWFSSSNNFKGPK\n")
_BODY_DOC = {
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "required": ["fasta"], "properties": {
            "fasta": {"type": "string", "description": "query sequences as FASTA"},
            "db": {"type": "string", "enum": ["proteins", "contigs"], "default": "proteins"},
            "evalue": {"type": "number", "default": 1e-3},
            "min_identity": {"type": "number", "default": 0.0},
            "max_hits": {"type": "integer", "default": 10},
            "sensitive": {"type": "boolean", "default": False}}},
            "example": {"fasta": _EXAMPLE, "max_hits": 5}},
        "text/plain": {"schema": {"type": "string", "description": "FASTA; options as query "
                                                                   "parameters"},
                       "example": _EXAMPLE}}}}


def _options(request: Request, body: bytes) -> tuple[str, dict[str, Any]]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    params: dict[str, Any] = dict(request.query_params)
    if kind == "application/json":
        try:
            loaded = json.loads(body or b"null")
        except ValueError as err:
            raise UsageError(f"the body is not valid JSON: {err}") from None
        if not isinstance(loaded, dict) or not isinstance(loaded.get("fasta"), str):
            raise UsageError('send {"fasta": "<FASTA text>", ...} or the FASTA itself as '
                             "text/plain")
        params.update(loaded)
        fasta = str(params.pop("fasta"))
    else:
        fasta = body.decode("utf-8", errors="replace")
    try:
        options: dict[str, Any] = {
            "db": str(params.get("db", "proteins")),
            "evalue": float(params.get("evalue", 1e-3)),
            "min_identity": float(params.get("min_identity", 0.0)),
            "max_hits": int(params.get("max_hits", 10)),
            "sensitive": str(params.get("sensitive", "false")).lower() in ("1", "true", "yes"),
        }
    except (TypeError, ValueError) as err:
        raise UsageError(f"bad search option: {err}; evalue and min_identity are numbers, "
                         "max_hits an integer") from None
    check_options(options["db"], options["evalue"], options["min_identity"],
                  options["max_hits"])
    return fasta, options


@router.post("/sequence", summary="Similarity search (MMseqs2) over proteins or contigs",
             openapi_extra=_BODY_DOC, response_model=None, responses={
                 200: {"model": schemas.SequenceSearchAnswer,
                       "description": f"The hits (up to {SYNC_QUERIES} query sequences)"},
                 202: {"model": schemas.Job,
                       "description": f"More than {SYNC_QUERIES} query sequences: a "
                                      "background job whose result has the same shape; "
                                      "follow it at Location (GET /api/jobs/{id})",
                       "headers": {"Location": {"description": "/api/jobs/{id}",
                                                "schema": {"type": "string"}}}}})
async def search_sequence(request: Request, bank: BankDep, actor: ActorDep
                          ) -> dict[str, Any] | JSONResponse:
    """Hits of each query sequence, best first, each with its assembly, strain, sample
    (place, depth, date) and the strain's access terms."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise UsageError(f"the query is larger than {MAX_BODY >> 20} MB; split it")
    fasta, options = _options(request, body)
    service = bank.sequence_search
    records = read_query(fasta, options["db"], "query", service.limits)
    if len(records) <= SYNC_QUERIES:
        result: dict[str, Any] = await run_in_threadpool(
            lambda: service.search(actor, records, **options))
        return result
    job = bank.jobs.submit(
        kind="search-sequence", owner=actor.username,
        params={**options, "queries": len(records)},
        task=lambda progress: service.search(actor, records, progress=progress, **options))
    return JSONResponse(job.to_dict(), status_code=202,
                        headers={"Location": f"/api/jobs/{job.id}"})
