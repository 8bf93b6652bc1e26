"""API routes of strain design under ``/api/design``: the bundled models, chassis models
registered from SBML and checked, designs analysed and searched for knockouts as background
jobs, their stored analyses, fluxes (CSV), SBML and SBOL3, and the bank's enzymes for a
step. Designs and chassis are records: create and change them at ``/api/designs`` and
``/api/chassis`` like any other kind."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import File, Form, Path, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from lanhai.api import schemas
from lanhai.api.deps import ActorDep, BankDep, CuratorDep
from lanhai.api.openapi import job_answer
from lanhai.api.routing import api_router
from lanhai.api.uploads import save_upload
from lanhai.kinds import ACCESSION_PATTERN

router = api_router(prefix="/api/design", tags=["design"])

Accession = Annotated[str, Path(pattern=f"^{ACCESSION_PATTERN}$",
                                description="The design's accession, e.g. LHDS0000001")]
ChassisRef = Annotated[str, Path(min_length=1, max_length=32,
                                 description="A chassis accession (LHCH0000001) or a bundled "
                                             "model's name (textbook, iJO1366, salmonella)")]


def _example(*examples: Any) -> ConfigDict:
    return ConfigDict(extra="allow", json_schema_extra={"examples": list(examples)})


BUNDLED = {"name": "textbook", "model_id": "e_coli_core",
           "organism": "Escherichia coli K-12 MG1655, core metabolism",
           "reference": "Orth, Fleming & Palsson (2010) EcoSal Plus, "
                        "doi:10.1128/ecosalplus.10.2.1", "aliases": ["e_coli_core"]}
INPUTS = {"design": "LHDS0000001",
          "chassis": {"reference": "textbook", "record": None, "model_id": "e_coli_core",
                      "sbml_digest": "5f2a" + "0" * 60},
          "parts": [{"accession": "LHPT0000001", "version": 1, "reaction_id": "PHAC",
                     "equation": "3hbcoa_c -> phb_c + coa_c", "ec": ["2.3.1.304"],
                     "gene": "phaC"}],
          "product": "phb_c", "objective": "Biomass_Ecoli_core", "carbon_source": "EX_glc__D_e",
          "medium": {"EX_glc__D_e": 10.0, "EX_o2_e": 1000.0}, "reaction_deletions": [],
          "gene_deletions": [], "min_growth": 0.0}
COUPLING = {"growth": 0.873922, "product_min": 0.0, "product_max": 0.0,
            "growth_coupled": False}
ANALYSIS = {
    "kind": "analysis", "inputs": INPUTS, "pathway": None, "added": ["PHAC", "DM_phb_c"],
    "notes": [], "growth": 0.873922, "export": "DM_phb_c", "coupling": COUPLING,
    "pfba": {"total_flux": 518.42, "fluxes": {"EX_glc__D_e": -10.0}},
    "fva": {"PHAC": {"minimum": 0.0, "maximum": 0.0}},
    "envelope": {"product": "DM_phb_c", "points": [
        {"growth": 0.0, "product_min": 0.0, "product_max": 10.004}]},
    "yield": {"product": "DM_phb_c", "molar_yield": 1.0004, "mass_yield": 0.478,
              "carbon_yield": 0.667},
    "reactions": {"PHAC": {"name": "PHB synthase (phaC)", "subsystem": "",
                           "equation": "3hbcoa_c --> coa_c + phb_c", "genes": ["phaC"]}},
    "provenance": {"cobra": "0.30.0", "solver": "glpk"},
    "digest": "a1b2" + "0" * 60}
KNOCKOUTS = {"kind": "knockouts", "inputs": INPUTS,
             "search": {"method": "optknock", "max_knockouts": 3, "time_limit": 60.0,
                        "solver": None},
             "result": {"method": "optknock", "solver": "glpk", "product": "EX_succ_e",
                        "partial": False, "reason": "", "elapsed": 0.7,
                        "designs": [{"reactions": ["ACALD", "LDH_D", "THD2"],
                                     "genes": ["b0351", "b1241", "b1380", "b1602"],
                                     "gene_names": {"b1380": "ldhA"},
                                     "evaluation": {"growth": 0.0906, "product_min": 9.911,
                                                    "product_max": 9.911,
                                                    "growth_coupled": True}}]},
             "digest": "c3d4" + "0" * 60}


class DesignModels(BaseModel):
    """The genome-scale models that ship with cobrapy, ready as chassis."""

    model_config = _example({"models": [BUNDLED]})

    models: list[dict[str, Any]]


class DesignChassisCheck(BaseModel):
    """A chassis's model checks: counts, reactions not mass or charge balanced, dead ends,
    orphans, growth on its medium."""

    model_config = _example({
        "chassis": "textbook", "model_id": "e_coli_core", "name": "E. coli core model",
        "digest": "5f2a" + "0" * 60, "counts": {"reactions": 95, "metabolites": 72,
                                                "genes": 137},
        "growth": 0.873922, "growth_status": "optimal", "mass_imbalanced": [],
        "charge_imbalanced": [], "dead_ends": [], "orphans": [],
        "source": "cobra package data: textbook.xml.gz"})

    chassis: str
    model_id: str
    counts: dict[str, int]
    growth: float | None
    growth_status: str
    mass_imbalanced: list[dict[str, Any]]
    charge_imbalanced: list[dict[str, Any]]
    dead_ends: list[str]
    orphans: list[str]


class DesignAnalysis(BaseModel):
    """A design's stored analysis: its inputs, growth and product coupling (FBA), pFBA
    fluxes, FVA ranges, the production envelope, the maximum yield, and the SHA-256 of the
    stored file (``changed``: whether a run wrote a new one)."""

    model_config = _example({**ANALYSIS, "changed": True})

    kind: Literal["analysis"]
    inputs: dict[str, Any]
    growth: float
    coupling: dict[str, Any]
    pfba: dict[str, Any]
    fva: dict[str, Any]
    envelope: dict[str, Any]
    digest: str
    changed: bool | None = None


class DesignKnockouts(BaseModel):
    """A knockout search: its inputs and settings, and the designs found, best first,
    with the genes to delete (``partial`` when the time budget ran out)."""

    model_config = _example(KNOCKOUTS)

    kind: Literal["knockouts"]
    inputs: dict[str, Any]
    search: dict[str, Any]
    result: dict[str, Any]
    digest: str


class DesignResults(BaseModel):
    """What is stored of a design: its analysis and its knockout search (null when not
    run)."""

    model_config = _example({"design": "LHDS0000001", "version": 3, "analysis": ANALYSIS,
                             "knockouts": None})

    design: str
    version: int
    analysis: DesignAnalysis | None = None
    knockouts: DesignKnockouts | None = None


class DesignKnockoutRequest(BaseModel):
    """How to search: the method, at most how many knockouts, the solver's time budget."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"method": "optknock", "max_knockouts": 3, "time_limit": 60}]})

    method: Literal["optknock", "optcouple", "mcs", "search"] = "optknock"
    max_knockouts: int = Field(default=3, ge=1, le=10)
    time_limit: float = Field(default=60.0, gt=0, le=3600,
                              description="seconds; designs found by then are kept")
    solver: Literal["glpk", "scip"] | None = None
    candidates: list[str] | None = Field(
        default=None, max_length=5000,
        description="the reactions the search may knock out: ids, or subsystem:NAME")


class DesignEnzymes(BaseModel):
    """The bank's parts that could fill a step, best first."""

    model_config = _example({"enzymes": [{
        "accession": "LHPT0000003", "name": "phaC_Cnec", "score": 1.0,
        "reason": "EC 2.3.1.304 is 2.3.1.304", "organism": "Cupriavidus necator H16",
        "ec": ["2.3.1.304"], "family": ["PF07167"]}]})

    enzymes: list[dict[str, Any]]


@router.get("/models", summary="The models that ship as chassis", response_model=DesignModels)
def models(actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """E. coli core (textbook), iJO1366 and Salmonella iYS1720, loaded offline."""
    return {"models": bank.design.bundled()}


@router.post("/chassis", status_code=202, response_model=schemas.Job,
             summary="Register a chassis model (curators; a background job)",
             responses={202: job_answer(),
                        422: {"description": "The SBML is not valid; nothing was written"}})
async def register_chassis(
        actor: CuratorDep, bank: BankDep,
        model_name: Annotated[str, Form(min_length=1, max_length=300)],
        file: Annotated[UploadFile | None, File(description="The model's SBML (.xml or "
                                                ".xml.gz)")] = None,
        bundled: Annotated[str | None, Form(max_length=32, description="a bundled model "
                                            "instead of a file")] = None,
        organism: Annotated[str | None, Form(max_length=300)] = None,
        strain: Annotated[str | None, Form(pattern=f"^{ACCESSION_PATTERN}$")] = None
        ) -> JSONResponse:
    """The SBML is validated at once (422 with each error and its line); the model's
    checks (balance, blocked reactions, growth) then run as a job whose result is the new
    chassis record, linked to ``strain`` when given."""
    data, name = None, "model.xml"
    if file is not None:
        name = file.filename or name
        with bank.uploads.receive(actor, file.filename, "SBML model") as upload:
            await save_upload(file, upload.path)
            data = upload.path.read_bytes()
        await run_in_threadpool(bank.design.read_sbml, data, name)
    values = {k: v for k, v in (("model_name", model_name), ("bundled", bundled),
                                ("organism", organism)) if v}

    def task(progress: Any) -> dict[str, Any]:
        record = bank.design.register_chassis(actor, values, sbml=data, file_name=name,
                                              strain=strain, progress=progress)
        return record.to_dict()

    job = bank.jobs.submit(kind="design-chassis", owner=actor.username,
                           params={"model_name": model_name, "bundled": bundled,
                                   "file": name if data is not None else None}, task=task)
    return JSONResponse(job.to_dict(), status_code=202,
                        headers={"Location": f"/api/jobs/{job.id}"})


@router.get("/chassis/{chassis}/check", summary="A chassis's model checks",
            response_model=DesignChassisCheck)
async def check_chassis(chassis: ChassisRef, actor: ActorDep, bank: BankDep
                        ) -> dict[str, Any]:
    """Counts, reactions not balanced, dead ends, orphans and growth on its medium."""
    found: dict[str, Any] = await run_in_threadpool(bank.design.chassis_report, actor,
                                                    chassis)
    return found


def _sbml(data: bytes, name: str) -> Response:
    return Response(data, media_type="application/sbml+xml", headers={
        "Content-Disposition": f'attachment; filename="{name}.xml"'})


_SBML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/sbml+xml": {"schema": {"type": "string"}}}}}


@router.get("/chassis/{chassis}/sbml", summary="A chassis's SBML", response_class=Response,
            responses=_SBML)
async def chassis_sbml(chassis: ChassisRef, actor: ActorDep, bank: BankDep) -> Response:
    """The model as registered (a bundled one as cobrapy ships it)."""
    return _sbml(await run_in_threadpool(bank.design.chassis_sbml, actor, chassis), chassis)


@router.post("/{accession}/run", status_code=202, response_model=schemas.Job,
             summary="Analyse a design (curators; a background job)",
             responses={202: job_answer()})
async def run(accession: Accession, actor: CuratorDep, bank: BankDep) -> JSONResponse:
    """FBA, pFBA, FVA, the production envelope and the maximum yield, from the design's
    stored inputs; the job's result is the analysis, also kept on the design."""
    await run_in_threadpool(bank.design.build, actor, accession)  # bad inputs: 422 now

    def task(progress: Any) -> dict[str, Any]:
        return bank.design.run(actor, accession, progress=progress)

    job = bank.jobs.submit(kind="design-run", owner=actor.username,
                           params={"design": accession}, task=task)
    return JSONResponse(job.to_dict(), status_code=202,
                        headers={"Location": f"/api/jobs/{job.id}"})


@router.post("/{accession}/knockouts", status_code=202, response_model=schemas.Job,
             summary="Search knockouts that couple the product to growth (curators; a job)",
             responses={202: job_answer()})
async def knockouts(accession: Accession, body: DesignKnockoutRequest, actor: CuratorDep,
                    bank: BankDep) -> JSONResponse:
    """OptKnock, OptCouple or minimal cut sets through a free MILP solver (GLPK, SCIP), or
    an FBA search, under the time budget; the designs found are kept on the design. Bad
    inputs or candidates are refused (422) before the job starts."""
    await run_in_threadpool(bank.design.check_candidates, actor, accession, body.candidates)

    def task(progress: Any) -> dict[str, Any]:
        return bank.design.knockouts(actor, accession, method=body.method,
                                     max_knockouts=body.max_knockouts,
                                     time_limit=body.time_limit, solver=body.solver,
                                     candidates=body.candidates, progress=progress)

    job = bank.jobs.submit(kind="design-knockouts", owner=actor.username,
                           params={"design": accession, **body.model_dump()}, task=task)
    return JSONResponse(job.to_dict(), status_code=202,
                        headers={"Location": f"/api/jobs/{job.id}"})


@router.get("/{accession}/results", summary="A design's stored analysis and knockouts",
            response_model=DesignResults)
def results(accession: Accession, actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """The analysis and knockout search as they were stored (null when not run)."""
    return bank.design.results(actor, accession)


@router.get("/{accession}/fluxes.csv", summary="A design's fluxes as CSV",
            response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def fluxes(accession: Accession, actor: ActorDep, bank: BankDep) -> Response:
    """Each reaction's pFBA flux and FVA range, the added ones marked."""
    return Response(bank.design.flux_table(actor, accession),
                    media_type="text/csv; charset=utf-8", headers={
                        "Content-Disposition": f'attachment; filename="{accession}_fluxes.csv"'})


@router.get("/{accession}/sbml", summary="A design's model as SBML", response_class=Response,
            responses=_SBML)
async def sbml(accession: Accession, actor: ActorDep, bank: BankDep) -> Response:
    """The chassis with the parts' reactions, the deletions and the medium."""
    return _sbml(await run_in_threadpool(bank.design.sbml, actor, accession), accession)


@router.get("/{accession}/sbol", summary="A design's parts as SBOL3", response_class=Response,
            responses={200: {"content": {"text/turtle": {"schema": {"type": "string"}}}}})
async def sbol(accession: Accession, actor: ActorDep, bank: BankDep) -> Response:
    """Each part as a Component with its Sequence, and the design as an engineered region
    whose features they are (Turtle)."""
    data = await run_in_threadpool(bank.design.sbol, actor, accession,
                                   bank.settings.sbol_namespace)
    return Response(data, media_type="text/turtle", headers={
        "Content-Disposition": f'attachment; filename="{accession}.ttl"'})


@router.get("/enzymes", summary="The bank's enzymes for a step", response_model=DesignEnzymes)
def enzymes(actor: ActorDep, bank: BankDep,
            q: Annotated[str, Query(min_length=1, max_length=64,
                                    description="an EC number (2.4.1.69, 2.4.1.-) or a "
                                                "family (GT11, PF07167)")],
            organism: Annotated[str | None, Query(max_length=300)] = None,
            limit: Annotated[int, Query(ge=1, le=200)] = 20) -> dict[str, Any]:
    """Parts with that EC number or family, best first."""
    return {"enzymes": bank.design.enzymes(actor, q, organism=organism, limit=limit)}
