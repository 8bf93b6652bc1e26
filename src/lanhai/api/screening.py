"""API routes of compound screening under ``/api/screening``: assays and their results
imported from tables, models trained as background jobs, predictions with the applicability
domain, the library ranked by a model (JSON, CSV, SDF) and a compound's screening profile."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from lanhai.api import schemas
from lanhai.api.deps import ActorDep, BankDep, CuratorDep, if_match_version
from lanhai.api.routing import api_router
from lanhai.api.uploads import save_upload
from lanhai.errors import UsageError

router = api_router(prefix="/api/screening", tags=["screening"])

Key = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
                          description="The assay's key, e.g. mic-s-aureus")]
ModelKey = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}\.v[0-9]{1,6}$",
                               description="The model's key: its assay and version, "
                                           "e.g. mic-s-aureus.v2")]


#: how a route that starts a background job documents its 202
_JOB_STARTED = {"model": schemas.Job, "description": "Started as a background job: follow it "
                "at Location (GET /api/jobs/{id})",
                "headers": {"Location": {"description": "/api/jobs/{id}",
                                         "schema": {"type": "string"}}}}


def _example(*examples: Any) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


ASSAY = {"key": "mibig-antibacterial", "name": "Antibacterial activity reported in MIBiG",
         "target": "bacteria", "endpoint": "activity call",
         "description": "activities MIBiG curators recorded", "restricted": False,
         "data_hash": "6f1e" + "0" * 60, "result_count": 1450, "created_by": "ana",
         "created_at": "2026-12-06T10:00:00+00:00", "updated_at": "2026-12-06T10:05:00+00:00",
         "version": 2}
VALIDATION = {"split": "scaffold", "folds": 5, "repeats": 2, "seed": 0, "compounds": 1450,
              "skipped": 0, "metrics": {"roc_auc": {"mean": 0.78, "std": 0.03, "n": 10}},
              "summary": "random_forest, scaffold split, 5 folds x 2: roc_auc 0.780 ± 0.030"}
MODEL = {"key": "mibig-antibacterial.v1", "assay": "mibig-antibacterial", "version": 1,
         "algorithm": "random_forest", "task": "classification",
         "target": {"endpoint": "activity call", "target": None, "threshold": None},
         "data_hash": "9a0b" + "0" * 60, "digest": "c3d4" + "0" * 60, "size": 2_100_000,
         "training_size": 1450, "validation": {"scaffold": VALIDATION,
                                               "random": {**VALIDATION, "split": "random"}},
         "about": {"model_id": "sm-0123456789abcdef", "sklearn": "1.9.1",
                   "rdkit": "2026.09.1"},
         "restricted": False, "created_by": "ana", "created_at": "2026-12-06T10:10:00+00:00"}
CITED = {"key": "mibig-antibacterial.v1", "assay": "mibig-antibacterial", "version": 1,
         "digest": "c3d4" + "0" * 60, "data_hash": "9a0b" + "0" * 60,
         "task": "classification"}
PREDICTION = {"smiles": "CC(=O)Oc1ccccc1C(=O)O", "value": 0.12, "uncertainty": 0.08,
              "domain_similarity": 0.21, "in_domain": False,
              "nearest_training": "BSYNRYMUTXBXSQ-UHFFFAOYSA-N", "error": None}
RANKED = {"rank": 1, "accession": "LHCP0000042", "name": "salinosporamide A",
          "smiles": "CCCl", "inchikey": "NGKKFRHDMDBEEV-UHFFFAOYSA-N", "score": 0.91,
          "uncertainty": 0.05, "domain_similarity": 0.64, "in_domain": True,
          "nearest_training": "NGKKFRHDMDBEEV-UHFFFAOYSA-N"}


class ScreeningAssay(BaseModel):
    """An assay: its fields, and when read alone what its results hold and its models."""

    model_config = _example({**ASSAY, "models": 1})

    key: str
    name: str
    target: str
    endpoint: str
    description: str
    restricted: bool = Field(description="only those who may see restricted records see it")
    data_hash: str = Field(description="SHA-256 over the results (a model cites it)")
    result_count: int
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    models: int | list[dict[str, Any]] | None = None
    endpoints: dict[str, int] | None = None
    targets: dict[str, int] | None = None
    compounds: int | None = None
    linked: int | None = Field(default=None, description="compounds linked to bank records")
    censored: int | None = None
    duplicates: list[dict[str, Any]] | None = None
    conflicts: list[dict[str, Any]] | None = None


class ScreeningAssays(BaseModel):
    model_config = _example({"assays": [{**ASSAY, "models": 1}]})

    assays: list[ScreeningAssay]


class ScreeningNewAssay(BaseModel):
    """An assay's fields (key and name needed when creating)."""

    model_config = _example({"key": "mic-s-aureus", "name": "MIC against S. aureus",
                             "target": "Staphylococcus aureus", "endpoint": "MIC"})

    key: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=300)
    target: str | None = Field(default=None, max_length=300)
    endpoint: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=5000)
    restricted: bool | None = None


class ScreeningAssayImport(BaseModel):
    """What an import added: rows, compounds, links, duplicates and conflicts."""

    model_config = _example({"assay": "mic-s-aureus", "file": "mic.csv", "sha256": "ab" * 32,
                             "status": "imported", "rows": 120, "compounds": 96,
                             "linked": 12, "censored": 8, "duplicates": [],
                             "conflicts": [], "committed": True})

    assay: str
    file: str
    sha256: str
    status: Literal["imported", "replaced", "unchanged"]
    rows: int
    compounds: int | None = None
    linked: int | None = None
    censored: int | None = None
    duplicates: list[dict[str, Any]] | None = None
    conflicts: list[dict[str, Any]] | None = None
    committed: bool


class ScreeningModel(BaseModel):
    """A trained model's registration: what it predicts, its data hash and digest, its
    validation by scaffold and by random split."""

    model_config = _example(MODEL)

    key: str
    assay: str
    version: int
    algorithm: str
    task: Literal["regression", "classification"]
    target: dict[str, Any]
    data_hash: str
    digest: str = Field(description="SHA-256 of the model's bytes")
    size: int
    training_size: int
    validation: dict[str, Any]
    about: dict[str, Any]
    restricted: bool
    created_by: str
    created_at: dt.datetime


class ScreeningModels(BaseModel):
    model_config = _example({"models": [MODEL]})

    models: list[ScreeningModel]


class ScreeningTrainRequest(BaseModel):
    """What to learn: an endpoint of the assay (one target of it), as values or as active
    at a pX threshold; the algorithm and the cross-validation."""

    model_config = _example({"endpoint": "MIC", "threshold": 5.0, "folds": 5, "repeats": 2})

    endpoint: str = Field(max_length=64)
    target: str | None = Field(default=None, max_length=300)
    threshold: float | None = Field(default=None, ge=0, le=20)
    algorithm: Literal["random_forest", "extra_trees", "gradient_boosting"] = "random_forest"
    folds: int = Field(default=5, ge=2, le=10)
    repeats: int = Field(default=2, ge=1, le=10)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class ScreeningPredictRequest(BaseModel):
    model_config = _example({"smiles": ["CC(=O)Oc1ccccc1C(=O)O"]})

    smiles: list[str] = Field(min_length=1, max_length=10_000)


class ScreeningPredictions(BaseModel):
    """Each prediction with its uncertainty and applicability domain, naming the model."""

    model_config = _example({"model": CITED, "predictions": [PREDICTION]})

    model: dict[str, Any]
    predictions: list[dict[str, Any]]


class ScreeningRanking(BaseModel):
    """The library ranked by a model: in-domain compounds first, most active first."""

    model_config = _example({"model": CITED, "score": "probability active (activity call)",
                             "count": 430, "outside_domain": 120, "ranking": [RANKED]})

    model: dict[str, Any]
    score: str
    count: int
    outside_domain: int
    ranking: list[dict[str, Any]]


class ScreeningProfile(BaseModel):
    """A compound's screening profile."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "accession": "LHCP0000042", "smiles": "CC(=O)Oc1ccccc1C(=O)O",
        "inchikey": "BSYNRYMUTXBXSQ-UHFFFAOYSA-N", "formula": "C9H8O4",
        "properties": {"mw": 180.16}, "rules": [{"name": "Lipinski", "passed": True,
                                                  "violations": []}],
        "alerts": [], "nearest_drugs": [], "nearest_library": [], "predictions": []}]})

    accession: str | None
    smiles: str | None = Field(description="none for a glycan held only as WURCS or IUPAC")
    inchikey: str | None
    formula: str | None
    properties: dict[str, Any]
    rules: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    nearest_drugs: list[dict[str, Any]]
    nearest_library: list[dict[str, Any]]
    predictions: list[dict[str, Any]]


# --- assays ----------------------------------------------------------------------------------

@router.get("/assays", summary="The assays", response_model=ScreeningAssays)
def assays(actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """Every assay the caller may see, with its result and model counts."""
    return {"assays": bank.screening.assays(actor)}


@router.post("/assays", status_code=201, summary="Create an assay (curators)",
             response_model=ScreeningAssay)
def create_assay(body: ScreeningNewAssay, actor: CuratorDep, bank: BankDep) -> dict[str, Any]:
    """A new, empty assay: its key, name, target and endpoint."""
    values = body.model_dump(exclude_none=True)
    key = values.pop("key", None)
    if not key:
        raise UsageError("give the assay's key, e.g. mic-s-aureus")
    return bank.screening.create_assay(actor, key, values)


@router.get("/assays/{key}", summary="One assay", response_model=ScreeningAssay)
def assay(key: Key, actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """Its fields, what its results hold (endpoints, compounds, links to the bank,
    duplicates and conflicting replicates) and its models."""
    return bank.screening.assay(actor, key)


@router.patch("/assays/{key}", summary="Change an assay (curators)", response_model=ScreeningAssay)
def update_assay(key: Key, body: ScreeningNewAssay, request: Request, actor: CuratorDep,
                 bank: BankDep) -> dict[str, Any]:
    """Send the version read as If-Match to be told when someone changed it first."""
    values = body.model_dump(exclude_none=True)
    values.pop("key", None)
    return bank.screening.update_assay(actor, key, values,
                                       if_match_version(request.headers.get("if-match")))


class ScreeningResults(BaseModel):
    """An assay's rows as imported."""

    model_config = _example({"results": [{
        "row": 2, "key": "BSYNRYMUTXBXSQ-UHFFFAOYSA-N", "compound": None,
        "smiles": "CC(=O)Oc1ccccc1C(=O)O", "inchikey": "BSYNRYMUTXBXSQ-UHFFFAOYSA-N",
        "target": "COX-1", "organism": None, "endpoint": "IC50", "value": 1.5,
        "unit": "µM", "qualifier": "=", "nm": 1500.0, "px": 5.824, "ug_per_ml": None,
        "percent": None, "call": None, "source": "CHEMBL1", "molar_mass": 180.16,
        "compound_record": None, "file_sha256": "ab" * 32}]})

    results: list[dict[str, Any]]


@router.get("/assays/{key}/results", summary="An assay's results",
            response_model=ScreeningResults)
def results(key: Key, actor: ActorDep, bank: BankDep) -> JSONResponse:
    """Every row as imported, its value in nM and pX, and the compound record it is
    linked to."""
    return JSONResponse(_json({"results": bank.screening.results(actor, key)}))


@router.post("/assays/{key}/results", summary="Import an assay table (curators)",
             response_model=ScreeningAssayImport,
             responses={422: {"description": "The table has problems; nothing was written"}})
async def import_results(
        key: Key, actor: CuratorDep, bank: BankDep,
        file: Annotated[UploadFile, File(description="An assay table (TSV or CSV; ChEMBL's "
                                         "activity export too)")],
        replace: Annotated[bool, Form(description="replace the results it holds")] = False,
        endpoint: Annotated[str | None, Form(max_length=64)] = None,
        target: Annotated[str | None, Form(max_length=300)] = None,
        organism: Annotated[str | None, Form(max_length=300)] = None) -> dict[str, Any]:
    """Every row checked, all written or none; units normalised to nM and pX; rows
    linked to the compound records they name or whose structure they have."""
    with bank.uploads.receive(actor, file.filename, "assay table") as upload:
        await save_upload(file, upload.path)
        report: dict[str, Any] = await run_in_threadpool(
            lambda: bank.screening.import_results(actor, key, upload.path, replace=replace,
                                                  endpoint=endpoint, target=target,
                                                  organism=organism))
    return report


# --- models ----------------------------------------------------------------------------------

@router.post("/assays/{key}/models", status_code=202, response_model=schemas.Job,
             summary="Train a model on an assay (curators; a background job)",
             responses={202: _JOB_STARTED})
async def train(key: Key, body: ScreeningTrainRequest, actor: CuratorDep, bank: BankDep
                ) -> JSONResponse:
    """Validated by scaffold and by random split, then trained on every compound and
    registered as the assay's next version; 202 with the job (``GET /api/jobs/{id}``
    follows it). A job that fails or is killed registers nothing."""
    await run_in_threadpool(bank.screening.training_set, actor, key, body.endpoint,
                            target=body.target, threshold=body.threshold)  # errors now

    def task(progress: Any) -> dict[str, Any]:
        return bank.screening.train(actor, key, endpoint=body.endpoint, target=body.target,
                                    threshold=body.threshold, algorithm=body.algorithm,
                                    folds=body.folds, repeats=body.repeats, seed=body.seed,
                                    progress=progress)

    job = bank.jobs.submit(kind="screen-train", owner=actor.username,
                           params={"assay": key, **body.model_dump()}, task=task)
    return JSONResponse(job.to_dict(), status_code=202,
                        headers={"Location": f"/api/jobs/{job.id}"})


@router.get("/models", summary="The trained models", response_model=ScreeningModels)
def models(actor: ActorDep, bank: BankDep,
           assay: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, Any]:
    """Newest version first within each assay."""
    return {"models": bank.screening.models(actor, assay)}


@router.get("/models/{key}", summary="One model", response_model=ScreeningModel)
def model(key: ModelKey, actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """What it predicts, the hash of its data, its digest and its validation."""
    return bank.screening.model(actor, key)


@router.get("/models/{key}/file", summary="A model's bytes", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}}})
def model_file(key: ModelKey, actor: ActorDep, bank: BankDep) -> Response:
    """The artefact itself, checked against its SHA-256."""
    row, blob = bank.screening.model_bytes(actor, key)
    return Response(blob, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{row.key}.model"'})


@router.post("/models/{key}/predict", summary="Predict compounds with a model",
             response_model=ScreeningPredictions)
async def predict(key: ModelKey, body: ScreeningPredictRequest, actor: ActorDep, bank: BankDep
                  ) -> dict[str, Any]:
    """Value (or probability of activity), uncertainty and applicability domain per
    SMILES; a SMILES RDKit rejects gets its error, the others are still predicted."""
    found: dict[str, Any] = await run_in_threadpool(bank.screening.predict, actor, key,
                                                    body.smiles)
    return found


@router.get("/models/{key}/ranking", summary="The library ranked by a model",
            response_model=ScreeningRanking)
async def ranking(key: ModelKey, actor: ActorDep, bank: BankDep,
                  limit: Annotated[int, Query(ge=1, le=10_000)] = 100) -> dict[str, Any]:
    """The compounds the caller may see, most active first; those outside the model's
    domain after those inside."""
    found: dict[str, Any] = await run_in_threadpool(
        lambda: bank.screening.rank_library(actor, key, limit=limit))
    return found


@router.post("/models/{key}/ranking", status_code=202, response_model=schemas.Job,
             summary="Screen the whole library with a model (a background job)",
             responses={202: _JOB_STARTED})
async def screen_library(key: ModelKey, actor: ActorDep, bank: BankDep) -> JSONResponse:
    """For a large library: the ranking is computed in the background, with progress,
    and kept, so ``GET …/ranking`` then answers at once. The job's result is the count and
    the first 20."""
    await run_in_threadpool(bank.screening.model, actor, key)  # 404 before a job

    def task(progress: Any) -> dict[str, Any]:
        return bank.screening.rank_library(actor, key, limit=20, progress=progress, jobs=2)

    job = bank.jobs.submit(kind="screen-library", owner=actor.username, params={"model": key},
                           task=task)
    return JSONResponse(job.to_dict(), status_code=202,
                        headers={"Location": f"/api/jobs/{job.id}"})


@router.get("/models/{key}/ranking.{fmt}", summary="The whole ranking as CSV or SDF",
            response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}},
                                         "chemical/x-mdl-sdfile": {
                                             "schema": {"type": "string"}}}}})
async def ranking_file(key: ModelKey, fmt: Literal["csv", "sdf"], actor: ActorDep,
                       bank: BankDep) -> Response:
    """Each compound with its rank, prediction, uncertainty and domain."""
    data = await run_in_threadpool(bank.screening.ranking_file, actor, key, fmt)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "chemical/x-mdl-sdfile"
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{key}_ranking.{fmt}"'})


@router.get("/profile", summary="A compound's screening profile", response_model=ScreeningProfile)
async def profile(actor: ActorDep, bank: BankDep,
                  accession: Annotated[str | None, Query(max_length=16)] = None,
                  smiles: Annotated[str | None, Query(max_length=5000)] = None
                  ) -> dict[str, Any]:
    """Properties, drug-likeness rules, NP-likeness and synthetic accessibility,
    structural alerts, nearest approved drugs and library compounds, glycan features, and
    the latest model of every assay."""
    found: dict[str, Any] = await run_in_threadpool(
        lambda: bank.screening.profile(actor, accession=accession, smiles=smiles))
    return _json(found)


def _json(data: dict[str, Any]) -> dict[str, Any]:
    from fastapi.encoders import jsonable_encoder

    encoded: dict[str, Any] = jsonable_encoder(data)
    return encoded
