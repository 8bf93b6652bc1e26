"""API routes of genome projects under ``/api/genomes``: projects, their target lists and
each species' status, progress per taxon with the projected completion, GoaT status files
and NCBI assembly tables."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from lanhai.api.deps import ActorDep, BankDep, CuratorDep, if_match_version
from lanhai.api.routing import api_router
from lanhai.api.uploads import save_upload

router = api_router(prefix="/api/genomes", tags=["genomes"])

Key = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{1,62}$",
                          description="The project's key, e.g. fish10k")]
Taxid = Annotated[int, Path(ge=1, le=2**31 - 1, description="NCBI Taxonomy id")]


def _example(*examples: Any) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


COUNTS = {"total": 24, "done": 15, "in_progress": 9, "targeted": 0, "done_share": 0.625,
          "by_status": {"in_assembly": 4, "insdc_submitted": 5, "insdc_open": 15}}
PROJECT = {"key": "eurofish", "name": "EUROFISH", "name_zh": "欧洲鱼类基因组",
           "goal": "reference genomes of European fishes", "taxon_scope": "Actinopterygii",
           "target_count": 24, "started": "2021-01-01", "ends": "2027-12-31",
           "done_status": "insdc_open", "reported_done": 15, "reported_on": "2024-06-30",
           "reported_source": "the project's status list", "created_by": "ana",
           "created_at": "2026-12-06T10:00:00+00:00",
           "updated_at": "2026-12-06T10:00:00+00:00", "version": 1}
PROJECTION = {"project": "eurofish", "total": 24, "done": 15, "remaining": 9,
              "as_of": "2026-12-06", "window_start": "2025-12-07", "window_days": 365,
              "done_in_window": 6, "rate_per_day": 0.016438,
              "completion": "2028-03-10", "reason": "6 species reached insdc_open in 365 days"}
PROGRESS = {"as_of": "2026-12-06", "done_step": "insdc_open", "projects": {"eurofish": COUNTS},
            "by_rank": {"family": [{"name": "Gobiidae", "project": "eurofish", **COUNTS}]},
            "tree": {"eurofish": {"rank": "project", "name": "eurofish"}},
            "table": [{"project": "eurofish", "rank": "family", "name": "Gobiidae"}],
            "projections": {"eurofish": PROJECTION},
            "next_best": [{"project": "eurofish", "taxid": 8005, "scientific_name":
                           "Esox lucius", "priority": 1, "family": "Esocidae",
                           "order": "Esociformes", "family_done": 0,
                           "family_in_progress": 0, "order_done": 0,
                           "reason": "the bank holds material; its family has no genome"}],
            "reported": {"eurofish": {"done": 15, "on": "2024-06-30",
                                      "source": "the project's status list"}}}
EVENT = {"id": 1, "project": "eurofish", "taxid": 27704, "status": "insdc_open",
         "day": "2024-03-01", "evidence": ["GCA_951802725.1"], "note": "", "allow_skip": False,
         "allow_back": False, "from_list": False, "actor": "ana",
         "at": "2026-12-06T10:00:00+00:00"}


class Counts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total: int
    done: int
    in_progress: int
    targeted: int
    done_share: float
    by_status: dict[str, int]


class Progress(BaseModel):
    """Counts per project and per rank, the tree, projections and the next best species."""

    model_config = _example(PROGRESS)

    as_of: str
    done_step: str = Field(description="the first status that counts a species as done")
    projects: dict[str, Counts]
    by_rank: dict[str, list[dict[str, Any]]]
    tree: dict[str, Any]
    table: list[dict[str, Any]]
    projections: dict[str, dict[str, Any]]
    next_best: list[dict[str, Any]]
    reported: dict[str, dict[str, Any]]


class Project(BaseModel):
    """A genome project."""

    model_config = _example({**PROJECT, "counts": COUNTS})

    key: str
    name: str
    name_zh: str
    goal: str
    taxon_scope: str
    target_count: int | None = None
    started: str | None = None
    ends: str | None = None
    done_status: str
    reported_done: int | None = Field(default=None,
                                      description="a count the project reports itself")
    reported_on: str | None = None
    reported_source: str | None = None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    counts: Counts | None = None
    progress: Progress | None = None


class Projects(BaseModel):
    model_config = _example({"projects": [{**PROJECT, "counts": COUNTS}]})

    projects: list[Project]


class NewProject(BaseModel):
    """A project's fields (key and name needed when creating)."""

    model_config = _example({"key": "fish10k", "name": "10,000 fish genomes",
                             "name_zh": "万种鱼类基因组计划", "target_count": 10000,
                             "reported_done": 883, "reported_source": "the city's report"})

    key: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=300)
    name_zh: str | None = Field(default=None, max_length=300)
    goal: str | None = Field(default=None, max_length=5000)
    taxon_scope: str | None = Field(default=None, max_length=300)
    target_count: int | None = Field(default=None, ge=0, le=10_000_000)
    started: str | None = Field(default=None, max_length=10)
    ends: str | None = Field(default=None, max_length=10)
    done_status: str | None = Field(default=None, max_length=32)
    reported_done: int | None = Field(default=None, ge=0, le=10_000_000)
    reported_on: str | None = Field(default=None, max_length=10)
    reported_source: str | None = Field(default=None, max_length=2000)


class Imported(BaseModel):
    model_config = _example({"project": "eurofish", "rows": 24, "added": 24, "updated": 0,
                             "statuses": 24})

    project: str
    rows: int
    added: int
    updated: int
    statuses: int


class NewStatus(BaseModel):
    """A step a species reached."""

    model_config = _example({"status": "insdc_open", "day": "2024-03-01",
                             "evidence": ["GCA_951802725.1"]},
                            {"status": "data_generation", "allow_back": True,
                             "note": "the first library failed"})

    status: str = Field(max_length=40, description="a step of the ladder (or its alias)")
    day: str | None = Field(default=None, max_length=10, description="default today")
    evidence: list[str] = Field(default=[], max_length=50)
    note: str = Field(default="", max_length=2000)
    allow_skip: bool = False
    allow_back: bool = False


class Species(BaseModel):
    """A target species of a project and its status events."""

    model_config = _example({"project": "eurofish", "taxid": 27704,
                             "scientific_name": "Gobio gobio",
                             "lineage": {"family": "Gobionidae", "genus": "Gobio"},
                             "priority": 2, "status": "insdc_open", "since": "2024-03-01",
                             "events": [EVENT]})

    project: str
    taxid: int
    scientific_name: str
    lineage: dict[str, str]
    priority: int | None = None
    status: str
    since: str | None = None
    events: list[dict[str, Any]]


class Events(BaseModel):
    model_config = _example({"project": "eurofish", "taxid": 27704, "events": [EVENT]})

    project: str
    taxid: int
    events: list[dict[str, Any]]


class AssemblyImport(BaseModel):
    """What importing an assembly table did (or would do)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "kind": "assembly", "file": "assembly_summary.txt", "layout": "assembly_summary",
        "rows": 48, "created": 48, "updated": 0, "unchanged": 0, "committed": True,
        "problem_count": 0, "problems": []}]})

    file: str
    layout: str
    created: int
    updated: int
    unchanged: int
    committed: bool
    problem_count: int
    problems: list[dict[str, Any]]


@router.get("/projects", summary="Genome projects", response_model=Projects)
def projects(actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """Every project with its counts (done, in progress, targeted)."""
    return {"projects": bank.genomes.projects(actor)}


@router.post("/projects", status_code=201, summary="Create a genome project (curators)",
             response_model=Project)
def create(body: NewProject, actor: CuratorDep, bank: BankDep) -> JSONResponse:
    """A project: key, name, goal, taxon scope, target count, dates, and a count the
    project reports itself (species sequenced so far) with its day and source."""
    values = body.model_dump(exclude_none=True)
    key = str(values.pop("key", ""))
    made = bank.genomes.create_project(actor, key, values)
    return JSONResponse(_json(made), status_code=201, headers={
        "Location": f"/api/genomes/projects/{made['key']}", "ETag": f'"{made["version"]}"'})


@router.get("/projects/{key}", summary="One genome project", response_model=Project)
def project(key: Key, actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """The project with its progress: counts per rank, the tree, the projected completion
    and the next best species."""
    return bank.genomes.project(actor, key)


@router.patch("/projects/{key}", summary="Change a genome project (curators)",
              response_model=Project)
def change(key: Key, body: NewProject, actor: CuratorDep, bank: BankDep, request: Request
           ) -> dict[str, Any]:
    """Send the version read as If-Match to be told when someone changed it first."""
    values = body.model_dump(exclude_none=True)
    values.pop("key", None)
    return bank.genomes.update_project(actor, key, values,
                                       if_match_version(request.headers.get("if-match")))


@router.post("/projects/{key}/targets", summary="Import a target list (curators)",
             response_model=Imported)
async def targets(key: Key, actor: CuratorDep, bank: BankDep,
                  file: Annotated[UploadFile, File(description="A GoaT status list or a "
                                                   "table of taxon ids and names (TSV)")]
                  ) -> dict[str, Any]:
    """Every row checked (taxon ids, names against those known, statuses), all written or
    none; statuses on the list are recorded as of today."""
    with bank.uploads.receive(actor, file.filename, "genome targets") as upload:
        await save_upload(file, upload.path)
        result: dict[str, Any] = await run_in_threadpool(bank.genomes.import_targets, actor,
                                                         key, upload.path)
    return result


@router.get("/projects/{key}/species/{taxid}", summary="A target species and its statuses",
            response_model=Species)
def species(key: Key, taxid: Taxid, actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """Its names, ranks, current status and every status event with its evidence."""
    return bank.genomes.species(actor, key, taxid)


@router.post("/projects/{key}/species/{taxid}/status", status_code=201,
             summary="Record a species' status (curators)", response_model=Events)
def set_status(key: Key, taxid: Taxid, body: NewStatus, actor: CuratorDep, bank: BankDep
               ) -> JSONResponse:
    """A step on the ladder with its day and evidence; going back or passing over steps is
    refused unless ``allow_back`` or ``allow_skip`` says it is meant."""
    done = bank.genomes.set_status(actor, key, taxid, body.status, body.day, body.evidence,
                                   body.note, body.allow_skip, body.allow_back)
    return JSONResponse(done, status_code=201)


@router.get("/projects/{key}/goat.tsv", summary="The project as a GoaT status list",
            response_class=Response,
            responses={200: {"content": {"text/tab-separated-values": {
                "schema": {"type": "string"}}}, "description": "GoaT import columns"}})
def goat_tsv(key: Key, actor: ActorDep, bank: BankDep) -> Response:
    """Targets and statuses in GoaT's status-list columns."""
    return Response(bank.genomes.goat_status(actor, key),
                    media_type="text/tab-separated-values; charset=utf-8", headers={
                        "Content-Disposition": f'attachment; filename="{key}_status.tsv"'})


@router.get("/progress", summary="Progress of every project", response_model=Progress)
def progress(actor: ActorDep, bank: BankDep,
             project: Annotated[str | None, Query(max_length=64)] = None,
             as_of: Annotated[dt.date | None, Query(description="default today")] = None,
             limit: Annotated[int, Query(ge=1, le=1000, description="next best species")] = 50
             ) -> dict[str, Any]:
    """Counts per project and per class, order and family, the tree for a treemap, the
    projected completion from the recent rate and the next best species."""
    return bank.genomes.progress(actor, project, as_of, limit)


@router.post("/assemblies", summary="Import an NCBI assembly table (curators)",
             response_model=AssemblyImport,
             responses={422: {"description": "The table has problems; nothing was written"}})
async def assemblies(actor: CuratorDep, bank: BankDep,
                     file: Annotated[UploadFile, File(description="assembly_summary.txt or "
                                                      "the team's assembly table")],
                     only: Annotated[str | None, Form(description="keep rows whose "
                                                      "selected_as is this")] = None,
                     dry_run: Annotated[bool, Form()] = False) -> JSONResponse:
    """Assembly records with their quality fields, matched on the INSDC accession, each
    judged against the EBP/VGP standards; all or nothing."""
    with bank.uploads.receive(actor, file.filename, "assembly table") as upload:
        await save_upload(file, upload.path)
        report: dict[str, Any] = await run_in_threadpool(
            bank.genomes.import_assemblies, actor, upload.path, only, dry_run)
    return JSONResponse(report, status_code=200 if report["committed"] or (dry_run and
                        not report["problems"]) else 422)


def _json(data: dict[str, Any]) -> dict[str, Any]:
    from fastapi.encoders import jsonable_encoder

    encoded: dict[str, Any] = jsonable_encoder(data)
    return encoded
