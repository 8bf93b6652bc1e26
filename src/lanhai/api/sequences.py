"""API routes for an assembly's sequences and annotation.

Uploading sequences and starting annotation need a curator token; reads are public for
public assemblies (a restricted assembly is 404 for anyone below curator, as in the
catalog). Annotation runs as a background job: 202 with the job and ``Location:
/api/jobs/{id}``; it resumes like ``lanhai annotate`` (finished steps are not redone).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from lanhai.api import schemas
from lanhai.api.deps import ActorDep, BankDep, CuratorDep
from lanhai.api.routing import api_router
from lanhai.api.uploads import save_upload
from lanhai.errors import NotFound, UsageError
from lanhai.sequence import formats
from lanhai.sequence.loci import MAX_GAP
from lanhai.services.access import Actor
from lanhai.services.sequences import STEPS, SequenceService

router = api_router(prefix="/api/assemblies", tags=["sequences"])
RESULTS = ("families", "substrates", "plastics", "loci", "clusters", "hits")
_JOB = {"model": schemas.Job, "description": "Started as a background job: follow it at "
                                             "Location (GET /api/jobs/{id})",
        "headers": {"Location": {"description": "/api/jobs/{id}",
                                 "schema": {"type": "string"}}}}


def _text(media_type: str, description: str, example: str) -> dict[str, Any]:
    return {"description": description, "content": {
        media_type: {"schema": {"type": "string"}, "example": example}}}


class AnnotateRequest(BaseModel):
    """What to run; everything is optional."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"packs": ["marine-cazy", "sus"], "steps": ["genes", "families"], "max_gap": 2}]})

    #: profile packs (default: every available pack)
    packs: list[str] | None = None
    #: genes, families, clusters
    steps: list[str] = Field(default_factory=lambda: list(STEPS))
    #: PULs: most non-signature genes between two signature genes
    max_gap: int = Field(default=MAX_GAP, ge=0)
    #: afterwards, add the assembly's proteins and contigs to the sequence-search index
    index: bool = True


@router.post("/{accession}/sequences", summary="Upload an assembly's contigs or proteome",
             status_code=201, response_model=schemas.Ingested, responses={
                 201: {"description": "Stored (set_aside lists records left out with "
                                      "set_aside_bad)"},
                 200: {"model": schemas.Ingested,
                       "description": "The same file was already stored: nothing changed"}})
async def upload_sequences(
    accession: str, bank: BankDep, actor: CuratorDep, file: UploadFile,
    kind: Annotated[str, Form(description="genome (contigs) or proteome",
                              examples=["proteome"])] = "genome",
    replace: Annotated[bool, Form(description="replace stored sequences")] = False,
    allow_stops: Annotated[bool, Form(description="accept internal '*' in proteins")] = False,
    set_aside_bad: Annotated[bool, Form(description=(
        "store the valid records and list the ones with problems (id, line, reason) "
        "instead of refusing the whole file"), examples=[True])] = False,
) -> JSONResponse:
    """FASTA or GenBank, plain or gzip, validated as by ``lanhai ingest``: 201 when stored,
    200 when the same file was already there, 422 with every problem otherwise (nothing is
    stored). With ``set_aside_bad=true`` records with problems of their own (stray
    characters such as a spreadsheet's ``#NAME?``, empty sequences, missing or repeated
    ids) are left out and listed in ``set_aside``, and the rest is stored; a problem of the
    whole file still refuses it."""
    with bank.uploads.receive(actor, file.filename or "upload.fasta",
                              f"sequences of {accession}") as upload:
        await save_upload(file, upload.path)
        result = await run_in_threadpool(
            lambda: bank.sequences.ingest(actor, accession, upload.path, kind=kind,
                                          replace=replace, allow_stops=allow_stops,
                                          set_aside_bad=set_aside_bad))
    return JSONResponse(result, status_code=200 if result["status"] == "unchanged" else 201)


@router.post("/{accession}/annotate", summary="Annotate an assembly (background job)",
             status_code=202, response_model=schemas.Job, responses={202: _JOB})
async def annotate(accession: str, bank: BankDep, actor: CuratorDep,
                   body: AnnotateRequest | None = None) -> JSONResponse:
    """Start gene calling, family annotation (with substrates and PULs) and gene clusters,
    then (unless ``index`` is false) add the sequences to the search index: 202 with the job
    (``GET /api/jobs/{id}`` follows it)."""
    wanted = body or AnnotateRequest()
    service = bank.sequences
    stats = await run_in_threadpool(service.stats, actor, accession)  # 404 before a job
    acc = stats["accession"]
    unknown = [s for s in wanted.steps if s not in STEPS]
    if unknown or not wanted.steps:
        raise UsageError(f"unknown step(s): {', '.join(unknown) or '(none)'}; steps are "
                         f"{', '.join(STEPS)}")
    def task(progress: Any) -> dict[str, Any]:
        result = service.annotate(actor, [acc], jobs=1, pack_names=wanted.packs,
                                  steps=wanted.steps, max_gap=wanted.max_gap,
                                  progress=progress)
        if wanted.index:  # searchable at once, without waiting for `lanhai search index`
            result["search_index"] = bank.sequence_search.update_index([acc])
        return result

    job = bank.jobs.submit(kind="annotate", owner=actor.username,
                        params={"accession": acc, **wanted.model_dump()}, task=task)
    return JSONResponse(job.to_dict(), status_code=202,
                        headers={"Location": f"/api/jobs/{job.id}"})


@router.get("/{accession}/sequences", summary="What is stored for an assembly",
            response_model=schemas.SequenceStats)
async def sequences(accession: str, bank: BankDep, actor: ActorDep) -> JSONResponse:
    """The ingested file, its statistics and the gene-calling summary."""
    return JSONResponse(await run_in_threadpool(bank.sequences.stats, actor, accession))


def _result(service: SequenceService, actor: Actor, accession: str, what: str) -> Any:
    if what == "families":
        return service.families(actor, accession)
    if what == "substrates":
        return service.substrates(actor, accession)
    if what == "plastics":
        return service.plastics(actor, accession)
    if what == "clusters":
        service.clusters_status(actor, accession)
        return list(service.rows(actor, accession, "clusters"))
    service.annotation_summary(actor, accession)
    return service.rows(actor, accession, what)  # loci, hits: streamed


@router.get("/{accession}/annotations/{what}", summary="Annotation results (JSON)",
            response_model=None, responses={200: {
                "description": "families, loci, clusters, hits and plastics: a list; "
                               "substrates: an object",
                "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Annotations"}}}}})
async def annotation_results(accession: str, what: str, bank: BankDep,
                      actor: ActorDep) -> Any:
    """``families``, ``substrates``, ``plastics``, ``loci``, ``clusters`` or ``hits``."""
    if what not in RESULTS:
        raise NotFound(f"no annotation result {what!r}; results are {', '.join(RESULTS)}")
    found = await run_in_threadpool(_result, bank.sequences, actor, accession, what)
    if isinstance(found, list | dict):
        return JSONResponse(found)
    return StreamingResponse(_json_array(found), media_type="application/json")


def _json_array(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for number, row in enumerate(rows):
        yield ("," if number else "") + json.dumps(row, ensure_ascii=False)
    yield "]"


@router.get("/{accession}/genes.gff3", summary="Genes with their hits as GFF3",
            response_class=StreamingResponse, responses={200: _text(
                "text/x-gff3", "GFF3, streamed",
                "##gff-version 3\nBGC0001866.1\tpyrodigal\tCDS\t347\t1645\t.\t-\t0\t"
                "ID=BGC0001866.1_1;domains=ketoacyl-synt\n")})
async def genes_gff3(accession: str, bank: BankDep, actor: ActorDep) -> StreamingResponse:
    """The assembly's genes (called or, for proteomes, in file order) as GFF3, each with
    its family hits as attributes; streamed."""
    lines = await run_in_threadpool(bank.sequences.annotated_gff3, actor, accession)
    return StreamingResponse(lines, media_type="text/x-gff3")


@router.get("/{accession}/genbank", summary="Contigs with CDS, hits, PULs, BGCs (GenBank)",
            response_class=StreamingResponse, responses={200: _text(
                "text/x-genbank", "GenBank, streamed",
                "LOCUS       BGC0001866.1   33290 bp    DNA     linear   UNK 01-JAN-1980\n")})
async def genbank(accession: str, bank: BankDep, actor: ActorDep) -> StreamingResponse:
    """Every contig as a GenBank record: CDS features with translations and locus tags,
    domain hits, polysaccharide utilisation loci and gene clusters; streamed."""
    records = await run_in_threadpool(bank.sequences.genbank, actor, accession)
    return StreamingResponse(records, media_type="text/x-genbank")


@router.get("/{accession}/proteins.fasta", summary="Proteins (called or as given) as FASTA",
            response_class=StreamingResponse, responses={200: _text(
                "text/x-fasta", "FASTA, streamed",
                ">ZOBELLIA_3628_[Zobellia_galactanivorans_DsiJ]\n"
                "MILKQAILTLVLVNANLFAQEPPKTYSSTDKETRQGPPKPPMGKRWVLNPDFSDEFNGTELDTTKWLDHHPTWIGRAPGL"
                "\n")})
async def proteins_fasta(accession: str, bank: BankDep,
                         actor: ActorDep) -> StreamingResponse:
    """The proteins annotation works on, with the identifiers of the input file; streamed."""
    rows = await run_in_threadpool(bank.sequences.rows, actor, accession, "proteins")
    return StreamingResponse((formats.fasta(r["id"], r["sequence"], r["description"])
                              for r in rows), media_type="text/x-fasta")
