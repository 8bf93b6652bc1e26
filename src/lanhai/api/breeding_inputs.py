"""Inputs of the breeding API: multipart uploads or a dataset name read into a checked
dataset, the model form, when an analysis becomes a background job, and CSV tables.

The routes are in :mod:`lanhai.api.breeding`.
"""


from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as Sent

from lanhai.api.uploads import base_name, save_upload
from lanhai.bank import Bank
from lanhai.breeding.data import Dataset
from lanhai.breeding.io import parse_map
from lanhai.breeding.pipeline import Inputs, ModelOptions
from lanhai.breeding.qc import QcOptions
from lanhai.breeding.validate import MODELS
from lanhai.errors import LanhaiError, Problem, UsageError, ValidationFailed
from lanhai.exports.common import TableWriter
from lanhai.model import Upload
from lanhai.services.access import Actor

#: analyses on more genotype calls (animals × SNPs) than this run as background jobs
SYNC_GENOTYPE_CALLS = 1_000_000
#: … and on more genotyped animals, or pedigree animals, than these
SYNC_GENOTYPED = 2_000
SYNC_PEDIGREE = 20_000
#: a matrix is served as a table only up to this many animals (larger: use the CLI's --out)
MAX_TABLE_ANIMALS = 5_000
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
ColumnMap = Annotated[list[str] | None, Form(alias="map", description=(
    "a pedigree or phenotype column read as a field, COLUMN=FIELD (repeatable), as "
    "`lanhai breed --map`: Father_ID=sire, Mother_ID=dam, 体重=weight (a trait renamed), "
    "Notes=- (left out)"))]


@dataclass
class Uploaded:
    """The request's data: loaded and checked, with a folder holding files a task reads later
    (relationship matrix, folds, candidates); the folder goes when the work is done."""

    data: Dataset
    upload: Upload
    bank: Bank
    params: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)
    #: the name each upload was saved under (pedigree.csv …) -> the name it was sent with
    names: dict[str, str] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.upload.folder

    def cleanup(self) -> None:
        self.bank.uploads.discard(self.upload)

    def as_sent(self, exc: LanhaiError) -> LanhaiError:
        """``exc`` with the files named as the caller sent them (see :func:`as_sent`)."""
        return as_sent(exc, self.names)


def as_sent(exc: LanhaiError, names: Mapping[str, str]) -> LanhaiError:
    """A problem with uploaded data names the file as the caller sent it (``hatchery.csv``),
    never the server's private folder nor the name the upload was saved under
    (``…/uploads/…/pedigree.csv``): ``names`` maps saved names to sent ones."""
    if not names or type(exc) not in (ValidationFailed, UsageError):
        return exc

    def said(text: str) -> str:
        for saved, sent in names.items():
            text = text.replace(saved, sent)
        return text

    def where(file: str | None) -> str | None:
        return names.get(Path(file).name, file) if file else file

    problems = [replace(p, file=where(p.file), reason=said(p.reason), fix=said(p.fix))
                for p in exc.problems]
    renamed = type(exc)(said(exc.message), problems)
    renamed.__cause__ = exc.__cause__
    return renamed


async def receive(bank: Bank, actor: Actor, dataset: str | None,
                  genotypes: Sequence[Sent] | None, pedigree: Sent | None,
                  phenotypes: Sent | None, vcf_field: str, factor: list[str] | None,
                  covariate: list[str] | None,
                  extra: Mapping[str, Sent | None] | None = None,
                  germplasm: str | None = None, columns: list[str] | None = None) -> Uploaded:
    """Save the uploads to a private folder, read and check them (422 on bad data).
    ``columns`` are ``COLUMN=FIELD`` mappings of pedigree and phenotype columns."""
    vcf = (vcf_field or "GT").upper()
    if vcf not in ("GT", "DS"):
        raise UsageError("unknown VCF field", [Problem(
            reason=f"cannot read genotypes from FORMAT field {vcf_field!r}", field="vcf_field",
            value=vcf_field, fix="use GT (hard calls) or DS (dosages)")])
    mapping = parse_map(columns or [])
    upload = bank.uploads.keep(actor, None, "breeding")
    folder = upload.folder
    names: dict[str, str] = {}
    try:
        inp = Inputs(vcf_field=vcf, factors=list(factor or []),
                     covariates=list(covariate or []), germplasm=germplasm or None,
                     columns=mapping)
        params: dict[str, Any] = {"vcf_field": vcf, "factors": inp.factors,
                                  "covariates": inp.covariates}
        if mapping:
            params["map"] = mapping
        if dataset:
            bank.breeding.summary(actor, dataset)  # 404 when there is none
            params["dataset"] = dataset
        uploads: dict[str, str] = {}
        files = [g for g in genotypes or [] if g.filename]
        if files:
            inp.genotypes = await _save_genotypes(files, folder)
            uploads["genotypes"] = ", ".join(base_name(g.filename) for g in files)
            names.update({f"genotypes{_suffix(g.filename or '', '.csv')}": base_name(
                g.filename) for g in files})
        for name, sent in (("pedigree", pedigree), ("phenotypes", phenotypes),
                           *(extra or {}).items()):
            if sent is not None and sent.filename:
                path = folder / f"{name}{_suffix(sent.filename, '.csv')}"
                await save_upload(sent, path)
                uploads[name] = base_name(sent.filename)
                names[path.name] = uploads[name]
                if name == "pedigree":
                    inp.pedigree = path
                elif name == "phenotypes":
                    inp.phenotypes = path
        params["uploads"] = uploads
        if not (dataset or inp.genotypes or inp.pedigree or inp.phenotypes):
            raise UsageError("no data", [Problem(
                reason="give a dataset name, or upload genotypes, pedigree and/or phenotypes",
                fix="send multipart fields dataset=NAME, or files genotypes, pedigree, "
                    "phenotypes")])
        data = await run_in_threadpool(bank.breeding.load, actor, inp, dataset)
        got = Uploaded(data, upload, bank, params, names=names)
        got.files = {n: folder / f"{n}{_suffix(u.filename or '', '.csv')}"
                     for n, u in (extra or {}).items() if u is not None and u.filename}
        return got
    except LanhaiError as exc:
        bank.uploads.discard(upload)
        raise as_sent(exc, names) from exc.__cause__
    except BaseException:
        bank.uploads.discard(upload)
        raise


async def _save_genotypes(files: Sequence[Sent], folder: Path) -> Path:
    """PLINK parts are saved as genotypes.bed/.bim/.fam; any other file as itself."""
    by_suffix = {_suffix(f.filename or "", ""): f for f in files}
    plink = {".bed", ".bim", ".fam"}
    if set(by_suffix) & plink:
        missing = sorted(plink - set(by_suffix))
        if missing or len(files) != 3:
            raise UsageError("incomplete PLINK fileset", [Problem(
                reason=f"PLINK genotypes need .bed, .bim and .fam; missing {', '.join(missing)}"
                if missing else "send exactly the three PLINK files under genotypes",
                field="genotypes", value=", ".join(base_name(f.filename) for f in files),
                fix="upload the .bed, .bim and .fam of one fileset as three 'genotypes' "
                    "files")])
        for ext in sorted(plink):
            await save_upload(by_suffix[ext], folder / f"genotypes{ext}")
        return folder / "genotypes.bed"
    if len(files) != 1:
        raise UsageError("one genotype file", [Problem(
            reason=f"{len(files)} genotype files that are not a PLINK fileset",
            field="genotypes", fix="send one VCF or table, or a .bed + .bim + .fam")])
    path = folder / f"genotypes{_suffix(files[0].filename or '', '.csv')}"
    await save_upload(files[0], path)
    return path


def _suffix(filename: str, default: str) -> str:
    low = base_name(filename).lower()
    return next((s for s in _SUFFIXES if low.endswith(s)), default)


# -- options ------------------------------------------------------------------------------------

def fixed_effects(text: str | None) -> list[str] | None:
    """None: every factor and covariate; '-' (or 'none'): no fixed effect but the mean."""
    if text is None:
        return None
    if text.strip().lower() in ("-", "none"):
        return []
    return [f.strip() for f in text.split(",") if f.strip()]


def model_options(model: str, grm_method: int, blend: float, tuning: str, no_qc: bool
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
        return model_options(self.model, self.grm_method, self.blend, self.tuning, self.no_qc)

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

def large(data: Dataset) -> bool:
    """Whether an analysis of ``data`` runs as a background job whatever was asked."""
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


async def run_analysis(bank: Bank, actor: Actor, kind: str, got: Uploaded,
                       params: dict[str, Any], work: Work, background: bool,
                       fmt: str) -> Response:
    """Run ``work`` now (200) or as a job (202 + Location); the uploads go afterwards."""
    if fmt not in ("json", "csv"):
        got.cleanup()
        raise UsageError("unknown format", [Problem(reason="format is json or csv",
                                                    field="format", value=fmt)])
    if background or large(got.data) or kind in ("cv", "bayes"):
        def task(progress: Callable[[int, int, str], None]) -> dict[str, Any]:
            try:
                result: dict[str, Any] = clean(work(lambda s, d, t: progress(d, t, s)))
                return result
            except LanhaiError as exc:
                raise got.as_sent(exc) from exc.__cause__
            finally:
                got.cleanup()

        job = bank.jobs.submit(kind=f"breed-{kind}", owner=actor.username,
                            params={**got.params, **params}, task=task)
        return JSONResponse(job.to_dict(), status_code=202,
                            headers={"Location": f"/api/jobs/{job.id}"})
    try:
        body: dict[str, Any] = clean(await run_in_threadpool(work, _ignore))
    except LanhaiError as exc:
        raise got.as_sent(exc) from exc.__cause__
    finally:
        got.cleanup()
    if fmt == "csv":
        return csv_table(kind, body)
    return JSONResponse(body)


def _ignore(step: str, done: int, total: int) -> None:
    """Progress of a request answered at once: nobody is watching."""


#: the table each analysis gives as CSV: (key in the result, columns)
TABLES: dict[str, tuple[str, list[str]]] = {
    "predict": ("ranking", ["rank", "id", "gebv", "reliability", "accuracy", "pev",
                            "phenotyped"]),
    "bayes": ("ranking", ["rank", "id", "gebv", "phenotyped"]),
    "mate": ("matings", ["mating", "sire", "dam", "progeny_inbreeding",
                         "expected_progeny_value"]),
    "cv": ("folds", ["repeat", "fold", "n_train", "n_test", "h2", "r", "accuracy", "bias"]),
}


def csv_table(kind: str, body: Mapping[str, Any]) -> Response:
    if kind not in TABLES:
        raise UsageError(f"{kind} has no table", [Problem(
            reason="CSV is offered for predict (ranking), mate (plan) and cv (folds)",
            field="format", value="csv", fix="ask for format=json")])
    key, cols = TABLES[kind]
    buffer = io.StringIO(newline="")
    writer = TableWriter(buffer, lineterminator="\n")
    writer.writerow(cols)
    for row in body.get(key) or []:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in cols])
    name = {"predict": "ranking", "bayes": "ranking", "mate": "mating-plan",
            "cv": "cv-folds"}[kind]
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
