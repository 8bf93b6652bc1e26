"""Breeding API: the operations of ``lanhai breed`` over HTTP (``/api/breeding/…``).

Data come as multipart uploads (PLINK ``.bed``/``.bim``/``.fam`` together under
``genotypes``, a VCF plain or bgzip, or a genotype table; ``pedigree`` and ``phenotypes``
CSV/TSV) or as the name of a dataset imported before (``dataset``). Inputs are read and
checked in the request, so bad data always get a 422 with every problem; short analyses
answer at once, long ones run as background jobs (202, the job, ``Location: /api/jobs/{id}``).

Access: importing and running analyses need a curator. Imported datasets are private unless
imported with ``publish``: anyone may list and read the summary (counts, germplasm lines) of
a published dataset; other datasets are invisible (404) below curator, as restricted records
are. Genotypes, phenotypes and breeding values themselves are never served to readers.
"""

from __future__ import annotations

import csv
import io
import math
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from lanhai.api.deps import ActorDep, BankDep, CuratorDep
from lanhai.bank import Bank
from lanhai.breeding import datasets, service
from lanhai.breeding.data import Dataset
from lanhai.breeding.germplasm import catalog_lookup, visible_lines
from lanhai.breeding.pipeline import Inputs, ModelOptions, load
from lanhai.breeding.qc import QcOptions
from lanhai.breeding.validate import MODELS, check_dataset
from lanhai.errors import NotFound, Problem, UsageError
from lanhai.jobs import Job, JobRunner
from lanhai.services.catalog import Actor

router = APIRouter(prefix="/api/breeding", tags=["breeding"])

#: analyses on more genotype calls (animals × SNPs) than this run as background jobs
SYNC_GENOTYPE_CALLS = 1_000_000
#: … and on more genotyped animals, or pedigree animals, than these
SYNC_GENOTYPED = 2_000
SYNC_PEDIGREE = 20_000
#: a matrix is served as a table only up to this many animals (larger: use the CLI's --out)
MAX_TABLE_ANIMALS = 5_000
_COPY_CHUNK = 1 << 20
_SUFFIXES = (".vcf.gz", ".vcf.bgz", ".vcf", ".bed", ".bim", ".fam", ".csv.gz", ".tsv.gz",
             ".txt.gz", ".csv", ".tsv", ".txt", ".gz")

# -- form fields shared by the routes --------------------------------------------------------

DatasetField = Annotated[str | None, Form(description="name of a dataset imported before "
                                          "(files given as well override its parts)")]
GenotypeFiles = Annotated[list[UploadFile] | None, File(description=(
    "PLINK .bed + .bim + .fam (three files under this one field), a VCF (.vcf, .vcf.gz, "
    "bgzip) or a genotype table (CSV/TSV: id, one column per SNP, 0/1/2)"))]
OneFile = Annotated[UploadFile | None, File()]
VcfField = Annotated[str, Form(description="VCF FORMAT field: GT (hard calls) or DS "
                               "(dosages)")]
Repeat = Annotated[list[str] | None, Form()]


@dataclass
class Uploaded:
    """The request's data: loaded and checked, with a folder holding files a task reads later
    (relationship matrix, folds, candidates); the folder goes when the work is done."""

    data: Dataset
    folder: Path
    params: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


async def _receive(bank: Bank, dataset: str | None, genotypes: list[UploadFile] | None,
                   pedigree: UploadFile | None, phenotypes: UploadFile | None,
                   vcf_field: str, factor: list[str] | None, covariate: list[str] | None,
                   extra: Mapping[str, UploadFile | None] | None = None,
                   germplasm: str | None = None) -> Uploaded:
    """Save the uploads to a private folder, read and check them (422 on bad data)."""
    vcf = (vcf_field or "GT").upper()
    if vcf not in ("GT", "DS"):
        raise UsageError("unknown VCF field", [Problem(
            reason=f"cannot read genotypes from FORMAT field {vcf_field!r}", field="vcf_field",
            value=vcf_field, fix="use GT (hard calls) or DS (dosages)")])
    folder = Path(tempfile.mkdtemp(prefix="lanhai-breed-"))
    try:
        inp = Inputs(vcf_field=vcf, factors=list(factor or []),
                     covariates=list(covariate or []), germplasm=germplasm or None)
        params: dict[str, Any] = {"vcf_field": vcf, "factors": inp.factors,
                                  "covariates": inp.covariates}
        if dataset:
            datasets.summary(bank.settings.data_dir, dataset)  # 404 when there is none
            inp.dataset = datasets.folder(bank.settings.data_dir, dataset)
            params["dataset"] = dataset
        uploads: dict[str, str] = {}
        files = [g for g in genotypes or [] if g.filename]
        if files:
            inp.genotypes = await run_in_threadpool(_save_genotypes, files, folder)
            uploads["genotypes"] = ", ".join(_base(g.filename) for g in files)
        for name, upload in (("pedigree", pedigree), ("phenotypes", phenotypes),
                             *(extra or {}).items()):
            if upload is not None and upload.filename:
                path = folder / f"{name}{_suffix(upload.filename, '.csv')}"
                await run_in_threadpool(_save, upload, path)
                uploads[name] = _base(upload.filename)
                if name == "pedigree":
                    inp.pedigree = path
                elif name == "phenotypes":
                    inp.phenotypes = path
        params["uploads"] = uploads
        if not (inp.dataset or inp.genotypes or inp.pedigree or inp.phenotypes):
            raise UsageError("no data", [Problem(
                reason="give a dataset name, or upload genotypes, pedigree and/or phenotypes",
                fix="send multipart fields dataset=NAME, or files genotypes, pedigree, "
                    "phenotypes")])
        data = await run_in_threadpool(load, inp)
        got = Uploaded(data, folder, params)
        got.files = {n: folder / f"{n}{_suffix(u.filename or '', '.csv')}"
                     for n, u in (extra or {}).items() if u is not None and u.filename}
        return got
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _save_genotypes(files: list[UploadFile], folder: Path) -> Path:
    """PLINK parts are saved as genotypes.bed/.bim/.fam; any other file as itself."""
    by_suffix = {_suffix(f.filename or "", ""): f for f in files}
    plink = {".bed", ".bim", ".fam"}
    if set(by_suffix) & plink:
        missing = sorted(plink - set(by_suffix))
        if missing or len(files) != 3:
            raise UsageError("incomplete PLINK fileset", [Problem(
                reason=f"PLINK genotypes need .bed, .bim and .fam; missing {', '.join(missing)}"
                if missing else "send exactly the three PLINK files under genotypes",
                field="genotypes", value=", ".join(_base(f.filename) for f in files),
                fix="upload the .bed, .bim and .fam of one fileset as three 'genotypes' "
                    "files")])
        for ext in plink:
            _save(by_suffix[ext], folder / f"genotypes{ext}")
        return folder / "genotypes.bed"
    if len(files) != 1:
        raise UsageError("one genotype file", [Problem(
            reason=f"{len(files)} genotype files that are not a PLINK fileset",
            field="genotypes", fix="send one VCF or table, or a .bed + .bim + .fam")])
    path = folder / f"genotypes{_suffix(files[0].filename or '', '.csv')}"
    _save(files[0], path)
    return path


def _save(upload: UploadFile, path: Path) -> None:
    upload.file.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(upload.file, out, _COPY_CHUNK)


def _base(filename: str | None) -> str:
    return Path((filename or "").replace("\\", "/")).name[-120:]


def _suffix(filename: str, default: str) -> str:
    low = _base(filename).lower()
    return next((s for s in _SUFFIXES if low.endswith(s)), default)


# -- options ------------------------------------------------------------------------------------

def _fixed(text: str | None) -> list[str] | None:
    """None: every factor and covariate; '-' (or 'none'): no fixed effect but the mean."""
    if text is None:
        return None
    if text.strip().lower() in ("-", "none"):
        return []
    return [f.strip() for f in text.split(",") if f.strip()]


def _model(model: str, grm_method: int, blend: float, tuning: str, no_qc: bool
           ) -> ModelOptions:
    if model not in MODELS:
        raise UsageError(f"unknown model {model!r}", [Problem(
            reason=f"no model {model!r}", field="model", value=model,
            fix=f"use one of {', '.join(MODELS)}")])
    if grm_method not in (1, 2):
        raise UsageError("grm_method is 1 or 2", [Problem(
            reason="VanRaden's method 1 or 2", field="grm_method", value=str(grm_method))])
    if tuning not in ("christensen", "mean", "none"):
        raise UsageError("unknown tuning", [Problem(
            reason="tuning is christensen, mean or none", field="tuning", value=tuning)])
    return ModelOptions(model, grm_method, 0.01, blend, tuning, None if no_qc else QcOptions())


@dataclass
class ModelForm:
    trait: str | None
    model: str
    fixed: str | None
    grm_method: int
    blend: float
    tuning: str
    no_qc: bool

    def options(self) -> ModelOptions:
        return _model(self.model, self.grm_method, self.blend, self.tuning, self.no_qc)

    def params(self) -> dict[str, Any]:
        return {"trait": self.trait, "model": self.model, "fixed": self.fixed,
                "grm_method": self.grm_method, "blend": self.blend, "tuning": self.tuning,
                "no_qc": self.no_qc}


def model_form(
    trait: Annotated[str | None, Form(description="trait column (default: the only one)")]
    = None,
    model: Annotated[str, Form(description="pblup, gblup, ssgblup or bayes")] = "gblup",
    fixed: Annotated[str | None, Form(description=(
        "comma-separated fixed effects; default every factor and covariate; '-' for none"))]
    = None,
    grm_method: Annotated[int, Form(description="VanRaden method for G: 1 or 2")] = 1,
    blend: Annotated[float, Form(description="ssgblup: weight of A22 in G")] = 0.05,
    tuning: Annotated[str, Form(description="ssgblup: christensen, mean or none")]
    = "christensen",
    no_qc: Annotated[bool, Form(description="use genotypes as given (no QC filters)")] = False,
) -> ModelForm:
    return ModelForm(trait, model, fixed, grm_method, blend, tuning, no_qc)


ModelDep = Annotated[ModelForm, Depends(model_form)]
Background = Annotated[bool, Form(description="run as a background job whatever the size")]
Format = Annotated[str, Query(description="json, or csv for the table (ranking, plan, "
                              "folds)")]


# -- running: at once, or as a job ---------------------------------------------------------------

def _large(data: Dataset) -> bool:
    g = data.genotypes
    calls = g.n_animals * g.n_snps if g is not None else 0
    genotyped = g.n_animals if g is not None else 0
    pedigree = len(data.pedigree.ids) if data.pedigree is not None else 0
    return (calls > SYNC_GENOTYPE_CALLS or genotyped > SYNC_GENOTYPED
            or pedigree > SYNC_PEDIGREE)


def clean(value: Any) -> Any:
    """JSON-ready: NaN and infinities become null (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


Work = Callable[[Callable[[str, int, int], None]], dict[str, Any]]


async def _run(request: Request, actor: Actor, kind: str, got: Uploaded, params: dict[str, Any],
               work: Work, background: bool, fmt: str) -> Response:
    """Run ``work`` now (200) or as a job (202 + Location); the uploads go afterwards."""
    if fmt not in ("json", "csv"):
        got.cleanup()
        raise UsageError("unknown format", [Problem(reason="format is json or csv",
                                                    field="format", value=fmt)])
    if background or _large(got.data) or kind in ("cv", "bayes"):
        runner: JobRunner = request.app.state.jobs

        def task(progress: Callable[[int, int, str], None]) -> dict[str, Any]:
            try:
                result: dict[str, Any] = clean(work(lambda s, d, t: progress(d, t, s)))
                return result
            finally:
                got.cleanup()

        job = runner.submit(kind=f"breed-{kind}", owner=actor.username,
                            params={**got.params, **params}, task=task)
        return JSONResponse(job.to_dict(), status_code=202,
                            headers={"Location": f"/api/jobs/{job.id}"})
    try:
        body: dict[str, Any] = clean(await run_in_threadpool(work, _ignore))
    finally:
        got.cleanup()
    if fmt == "csv":
        return _csv(kind, body)
    return JSONResponse(body)


def _ignore(step: str, done: int, total: int) -> None:
    """Progress of a request answered at once: nobody is watching."""


#: the table each analysis gives as CSV: (key in the result, columns)
TABLES: dict[str, tuple[str, list[str]]] = {
    "predict": ("ranking", ["rank", "id", "gebv", "reliability", "pev", "phenotyped"]),
    "bayes": ("ranking", ["rank", "id", "gebv", "phenotyped"]),
    "mate": ("matings", ["mating", "sire", "dam", "progeny_inbreeding",
                         "expected_progeny_value"]),
    "cv": ("folds", ["repeat", "fold", "n_train", "n_test", "h2", "r", "accuracy", "bias"]),
}


def _csv(kind: str, body: Mapping[str, Any]) -> Response:
    if kind not in TABLES:
        raise UsageError(f"{kind} has no table", [Problem(
            reason="CSV is offered for predict (ranking), mate (plan) and cv (folds)",
            field="format", value="csv", fix="ask for format=json")])
    key, cols = TABLES[kind]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(cols)
    for row in body.get(key) or []:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in cols])
    name = {"predict": "ranking", "bayes": "ranking", "mate": "mating-plan",
            "cv": "cv-folds"}[kind]
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


# -- datasets ------------------------------------------------------------------------------------

@router.get("/datasets", summary="Imported breeding datasets (published ones for readers)")
def list_datasets(
    bank: BankDep, actor: ActorDep,
    germplasm: Annotated[str | None, Query(description="only datasets with animals of this "
                                           "germplasm line (accession LHGP…)")] = None,
) -> dict[str, Any]:
    """Datasets with their counts and the germplasm lines they cover. Curators see every
    dataset; others only published ones, and only germplasm records they may see."""
    items = datasets.list_datasets(bank.settings.data_dir, germplasm,
                                   published_only=not actor.can_see_restricted)
    shown = [_shown(bank, actor, d) for d in items]
    return {"datasets": [d for d in shown
                         if not germplasm or germplasm.strip().upper() in d["germplasm"]]}


def _shown(bank: Bank, actor: Actor, item: dict[str, Any]) -> dict[str, Any]:
    """The summary as ``actor`` may see it: no confidential germplasm accession, no paths."""
    lines = item["germplasm"]
    if not actor.can_see_restricted and lines:
        seen = visible_lines(bank.engine, False, lines)
        item = {**item, "germplasm": {a: n for a, n in lines.items() if a in seen}}
    if not actor.can_see_restricted:
        item = {k: v for k, v in item.items() if k != "sources"}
    return item


@router.get("/datasets/{name}", summary="One dataset's summary")
def get_dataset(name: str, bank: BankDep, actor: ActorDep) -> dict[str, Any]:
    """Counts, germplasm lines, effects, who imported it. Unpublished datasets: curators."""
    item = datasets.summary(bank.settings.data_dir, name)
    if not item["published"] and not actor.can_see_restricted:
        raise NotFound(f"no breeding dataset {name!r}")
    return _shown(bank, actor, item)


@router.post("/datasets", summary="Import genotypes, pedigree and phenotypes as a dataset",
             status_code=201)
async def import_dataset(
    bank: BankDep, actor: CuratorDep,
    name: Annotated[str, Form(description="dataset name: letters, digits, _ . -")],
    genotypes: GenotypeFiles = None, pedigree: OneFile = None, phenotypes: OneFile = None,
    vcf_field: VcfField = "GT", factor: Repeat = None, covariate: Repeat = None,
    germplasm: Annotated[str | None, Form(description=(
        "germplasm accession (LHGP…) of every animal; an accession column links animals "
        "one by one"))] = None,
    publish: Annotated[bool, Form(description="readers may see the summary")] = False,
    replace: Annotated[bool, Form(description="replace a dataset of that name")] = False,
    dry_run: Annotated[bool, Form(description="check and count; store nothing")] = False,
) -> JSONResponse:
    """Checks every file and every germplasm accession (against the catalog, as the caller
    sees it), then stores the dataset atomically: 201 + Location, or 422 with every
    problem and nothing stored. A dry run answers 200."""
    folder = datasets.folder(bank.settings.data_dir, name)
    got = await _receive(bank, None, genotypes, pedigree, phenotypes, vcf_field, factor,
                         covariate, germplasm=germplasm)
    try:
        res = await run_in_threadpool(
            datasets.import_dataset, bank.settings.data_dir, name, got.data,
            lookup=catalog_lookup(bank.engine, actor.can_see_restricted),
            germplasm=germplasm or None, dosage=got.params["vcf_field"] == "DS",
            sources=got.params["uploads"], published=publish, replace=replace,
            dry_run=dry_run, created_by=actor.username)
    finally:
        got.cleanup()
    res.pop("path", None)
    if dry_run:
        return JSONResponse(res)
    return JSONResponse(res, status_code=201,
                        headers={"Location": f"/api/breeding/datasets/{folder.name}"})


# -- analyses ------------------------------------------------------------------------------------

@router.post("/qc", summary="QC: call rates, MAF, HWE, Mendelian conflicts, duplicates")
async def qc(
    request: Request, bank: BankDep, actor: CuratorDep,
    dataset: DatasetField = None, genotypes: GenotypeFiles = None, pedigree: OneFile = None,
    vcf_field: VcfField = "GT",
    min_snp_call: Annotated[float, Form()] = 0.90,
    min_animal_call: Annotated[float, Form()] = 0.90,
    min_maf: Annotated[float, Form()] = 0.01,
    hwe_p: Annotated[float, Form(description="exact test threshold; 0 skips")] = 1e-6,
    max_mendel: Annotated[float, Form()] = 0.02,
    drop_duplicates: Annotated[bool, Form()] = False,
    background: Background = False,
) -> Response:
    """The same counts as ``lanhai breed qc --json``."""
    got = await _receive(bank, dataset, genotypes, pedigree, None, vcf_field, None, None)
    opts = QcOptions(min_snp_call, min_animal_call, min_maf, hwe_p, max_mendel, 0.99,
                     drop_duplicates)
    if got.data.genotypes is None:
        got.cleanup()
        raise UsageError("qc needs genotypes", [Problem(reason="no genotypes given",
                                                        field="genotypes")])

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        return service.quality_control(got.data, opts, progress)[0]

    return await _run(request, actor, "qc", got, {"qc": opts.__dict__}, work, background,
                      "json")


@router.post("/grm", summary="Relationship matrix G, A, A-inverse or H-inverse")
async def grm(
    request: Request, bank: BankDep, actor: CuratorDep,
    dataset: DatasetField = None, genotypes: GenotypeFiles = None, pedigree: OneFile = None,
    vcf_field: VcfField = "GT",
    matrix: Annotated[str, Form(description="G, A, A-inverse or H-inverse")] = "G",
    grm_method: Annotated[int, Form()] = 1, blend: Annotated[float, Form()] = 0.05,
    tuning: Annotated[str, Form()] = "christensen", no_qc: Annotated[bool, Form()] = False,
    background: Background = False,
    format: Annotated[str, Query(description="json (a summary) or tsv (the matrix: a table "
                                 "for G and A, triplets for the inverses)")] = "json",
) -> Response:
    """A summary as ``lanhai breed grm --json``; ``format=tsv`` sends the matrix itself (up
    to 5,000 animals; larger matrices: the CLI's --out)."""
    if matrix.upper() not in ("G", "A", "A-INVERSE", "H-INVERSE"):
        raise UsageError("unknown matrix", [Problem(
            reason="matrix is G, A, A-inverse or H-inverse", field="matrix", value=matrix)])
    if format not in ("json", "tsv"):
        raise UsageError("unknown format", [Problem(reason="format is json or tsv",
                                                    field="format", value=format)])
    got = await _receive(bank, dataset, genotypes, pedigree, None, vcf_field, None, None)
    opts = _model("gblup", grm_method, blend, tuning, no_qc)
    opts.grm_weight = 0.0
    if format == "tsv":
        return await _matrix_table(got, matrix, opts)

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        return service.relationship_matrix(got.data, matrix, opts, None, progress)

    return await _run(request, actor, "grm", got, {"matrix": matrix, "grm_method": grm_method,
                                                   "blend": blend, "tuning": tuning,
                                                   "no_qc": no_qc}, work, background, "json")


async def _matrix_table(got: Uploaded, matrix: str, opts: ModelOptions) -> Response:
    try:
        n = max(got.data.genotypes.n_animals if got.data.genotypes else 0,
                len(got.data.pedigree.ids) if got.data.pedigree else 0)
        if n > MAX_TABLE_ANIMALS:
            raise UsageError("matrix too large to send", [Problem(
                reason=f"{n} animals: the table would have {n * n:,} cells",
                fix="ask for the summary (format=json), or write it with `lanhai breed grm "
                    "--out G.npy`")])
        out = got.folder / "matrix.tsv"
        await run_in_threadpool(service.relationship_matrix, got.data, matrix, opts, out)
        text = out.read_text("utf-8")
    finally:
        got.cleanup()
    return Response(text, media_type="text/tab-separated-values; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{matrix.upper()}.tsv"'})


@router.post("/reml", summary="Variance components and h² (± SE) by REML")
async def reml(
    request: Request, bank: BankDep, actor: CuratorDep, m: ModelDep,
    dataset: DatasetField = None, genotypes: GenotypeFiles = None, pedigree: OneFile = None,
    phenotypes: OneFile = None, relationship: OneFile = None, vcf_field: VcfField = "GT",
    factor: Repeat = None, covariate: Repeat = None,
    second_trait: Annotated[str | None, Form(description="fit the bivariate model")] = None,
    method: Annotated[str, Form(description="spectral or ai")] = "spectral",
    background: Background = False,
) -> Response:
    """The same figures as ``lanhai breed reml --json``."""
    if method not in ("spectral", "ai"):
        raise UsageError("unknown REML method", [Problem(
            reason="method is spectral or ai", field="method", value=method)])
    opts = m.options()
    got = await _receive(bank, dataset, genotypes, pedigree, phenotypes, vcf_field, factor,
                         covariate, {"relationship": relationship})
    traits = _checked(got, m)
    if second_trait:
        traits.append(second_trait)

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        return service.variance_components(got.data, traits, _fixed(m.fixed), opts, method,
                                           got.files.get("relationship"), progress)

    return await _run(request, actor, "reml", got, {**m.params(), "traits": traits,
                                                    "method": method}, work, background,
                      "json")


def _checked(got: Uploaded, m: ModelForm) -> list[str]:
    """The trait, with the data checked for the model now (a 422 before any job starts)."""
    try:
        trait = service.choose_trait(got.data, m.trait)
        data = got.data
        if m.model == "pblup" and "relationship" in got.files and data.pedigree is None:
            return [trait]  # the matrix stands in for the pedigree; checked when read
        check_dataset(data, trait, m.model)
        return [trait]
    except BaseException:
        got.cleanup()
        raise


@router.post("/predict", summary="Breeding values (pblup, gblup, ssgblup, bayes), ranked")
async def predict(
    request: Request, bank: BankDep, actor: CuratorDep, m: ModelDep,
    dataset: DatasetField = None, genotypes: GenotypeFiles = None, pedigree: OneFile = None,
    phenotypes: OneFile = None, relationship: OneFile = None, vcf_field: VcfField = "GT",
    factor: Repeat = None, covariate: Repeat = None,
    iterations: Annotated[int, Form(description="bayes: Gibbs iterations")] = 3000,
    seed: Annotated[int, Form()] = 1,
    background: Background = False, format: Format = "json",
) -> Response:
    """The ranking of ``lanhai breed predict --json`` (``format=csv``: the ranking as CSV).
    BayesR always runs as a job."""
    opts = m.options()
    got = await _receive(bank, dataset, genotypes, pedigree, phenotypes, vcf_field, factor,
                         covariate, {"relationship": relationship})
    trait = _checked(got, m)[0]

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        return service.predictions(got.data, trait, _fixed(m.fixed), opts,
                                   got.files.get("relationship"), iterations, seed,
                                   progress)[0]

    kind = "bayes" if m.model == "bayes" else "predict"
    return await _run(request, actor, kind, got, {**m.params(), "trait": trait,
                                                  "iterations": iterations, "seed": seed},
                      work, background, format)


@router.post("/cv", summary="Cross-validation (always a background job)")
async def cv(
    request: Request, bank: BankDep, actor: CuratorDep, m: ModelDep,
    dataset: DatasetField = None, genotypes: GenotypeFiles = None, pedigree: OneFile = None,
    phenotypes: OneFile = None, relationship: OneFile = None, vcf_field: VcfField = "GT",
    factor: Repeat = None, covariate: Repeat = None,
    folds: Annotated[str, Form(description="number of folds")] = "5",
    folds_file: Annotated[UploadFile | None, File(description=(
        "the breeder's folds: CSV/TSV of animal id and fold number (0 = never tested)"))]
    = None,
    repeats: Annotated[int, Form()] = 1, by_family: Annotated[bool, Form()] = False,
    seed: Annotated[int, Form()] = 1,
    iterations: Annotated[int, Form(description="bayes: Gibbs iterations per fold")] = 1500,
) -> Response:
    """The folds and summary of ``lanhai breed cv --json``, as the job's result."""
    if not folds.strip().isdigit() or int(folds) < 2:
        raise UsageError("folds is a number of at least 2", [Problem(
            reason="not a number of folds", field="folds", value=folds,
            fix="send folds=5, or upload your folds as folds_file")])
    opts = m.options()
    got = await _receive(bank, dataset, genotypes, pedigree, phenotypes, vcf_field, factor,
                         covariate, {"relationship": relationship, "folds": folds_file})
    trait = _checked(got, m)[0]
    how = str(got.files["folds"]) if "folds" in got.files else folds.strip()

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        res = service.cross_validation(got.data, trait, _fixed(m.fixed), opts, how, seed,
                                       repeats, by_family, got.files.get("relationship"),
                                       iterations, progress)
        if "folds" in got.files:
            res["folds_from"] = "folds from the uploaded file"
        return res

    return await _run(request, actor, "cv", got, {**m.params(), "trait": trait,
                                                  "folds": folds if "folds" not in got.files
                                                  else "uploaded", "repeats": repeats,
                                                  "by_family": by_family, "seed": seed},
                      work, True, "json")


@router.post("/mate", summary="Optimal contributions under a kinship limit, then matings")
async def mate(
    request: Request, bank: BankDep, actor: CuratorDep, m: ModelDep,
    matings: Annotated[int, Form(description="number of matings to plan")],
    dataset: DatasetField = None, genotypes: GenotypeFiles = None, pedigree: OneFile = None,
    phenotypes: OneFile = None, vcf_field: VcfField = "GT",
    factor: Repeat = None, covariate: Repeat = None,
    max_kinship: Annotated[float | None, Form()] = None,
    delta_f: Annotated[float | None, Form(description="rate of inbreeding limit")] = None,
    max_contribution: Annotated[float, Form()] = 0.5,
    candidates: Annotated[UploadFile | None, File(description=(
        "candidate ids in the first column (default: every animal with a known sex)"))]
    = None,
    background: Background = False, format: Format = "json",
) -> Response:
    """The plan of ``lanhai breed mate --json`` (``format=csv``: the matings as CSV)."""
    opts = m.options()
    got = await _receive(bank, dataset, genotypes, pedigree, phenotypes, vcf_field, factor,
                         covariate, {"candidates": candidates})
    trait = _checked(got, m)[0]
    cands = service.read_candidates(got.files["candidates"]) \
        if "candidates" in got.files else None

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        return service.mating_plan(got.data, trait, _fixed(m.fixed), opts, cands, matings,
                                   max_kinship, delta_f, max_contribution, progress)

    return await _run(request, actor, "mate", got, {
        **m.params(), "trait": trait, "matings": matings, "max_kinship": max_kinship,
        "delta_f": delta_f, "max_contribution": max_contribution,
        "candidates": len(cands) if cands is not None else None}, work, background, format)


# -- a finished job's table ----------------------------------------------------------------------

@router.get("/jobs/{job_id}/result.csv", summary="A breeding job's table as CSV",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def job_csv(job_id: str, request: Request, actor: ActorDep) -> Response:
    """The ranking (predict), mating plan (mate) or folds (cv) of a finished job; readable
    by whoever may read the job (its owner or an admin)."""
    runner: JobRunner = request.app.state.jobs
    job = runner.get(job_id) if re.fullmatch(r"[0-9a-f]{32}", job_id) else None
    if job is None or not _may_read(job, actor) or not job.kind.startswith("breed-"):
        raise NotFound(f"no breeding job {job_id!r}")
    if job.status != "done" or job.result is None:
        raise UsageError(f"job {job_id} is {job.status}", [Problem(
            reason="the job has no result yet" if job.status in ("queued", "running")
            else f"the job {job.status}: {job.error or ''}".strip(),
            fix=f"follow GET /api/jobs/{job_id} until its status is done")])
    return _csv(job.kind.removeprefix("breed-"), job.result)


def _may_read(job: Job, actor: Actor) -> bool:
    return actor.is_admin or job.owner == actor.username or job.owner == "anonymous"
