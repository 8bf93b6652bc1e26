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

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from lanhai.api.breeding_inputs import (
    MAX_TABLE_ANIMALS,
    Background,
    ColumnMap,
    DatasetField,
    Format,
    GenotypeFiles,
    ModelDep,
    ModelForm,
    OneFile,
    Repeat,
    Uploaded,
    VcfField,
    csv_table,
    fixed_effects,
    model_options,
    receive,
    run_analysis,
)
from lanhai.api.deps import ActorDep, BankDep, CuratorDep
from lanhai.api.routing import api_router
from lanhai.bank import Bank
from lanhai.breeding.analyses import choose_trait, read_candidates
from lanhai.breeding.pipeline import ModelOptions
from lanhai.breeding.qc import QcOptions
from lanhai.breeding.validate import check_dataset
from lanhai.errors import LanhaiError, NotFound, Problem, UsageError
from lanhai.services.access import Actor

router = api_router(prefix="/api/breeding", tags=["breeding"])


# -- datasets ------------------------------------------------------------------------------------

@router.get("/datasets", summary="Imported breeding datasets (published ones for readers)")
def list_datasets(
    bank: BankDep, actor: ActorDep,
    germplasm: Annotated[str | None, Query(description="only datasets with animals of this "
                                           "germplasm line (accession LHGP…)")] = None,
) -> dict[str, Any]:
    """Datasets with their counts and the germplasm lines they cover. Curators see every
    dataset; others only published ones, and only germplasm records they may see."""
    return {"datasets": bank.breeding.list_datasets(actor, germplasm)}


@router.get("/datasets/{name}", summary="One dataset's summary")
def get_dataset(name: str, bank: BankDep, actor: ActorDep) -> dict[str, Any]:
    """Counts, germplasm lines, effects, who imported it. Unpublished datasets: curators."""
    return bank.breeding.summary(actor, name)


@router.post("/datasets", summary="Import genotypes, pedigree and phenotypes as a dataset",
             status_code=201)
async def import_dataset(
    bank: BankDep, actor: CuratorDep,
    name: Annotated[str, Form(description="dataset name: letters, digits, _ . -")],
    genotypes: GenotypeFiles = None, pedigree: OneFile = None, phenotypes: OneFile = None,
    vcf_field: VcfField = "GT", factor: Repeat = None, covariate: Repeat = None,
    map_: ColumnMap = None,
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
    bank.breeding.check_name(name)  # a usage error for a bad name, before the uploads
    got = await receive(bank, actor, None, genotypes, pedigree, phenotypes, vcf_field, factor,
                        covariate, germplasm=germplasm, columns=map_)
    try:
        res = await run_in_threadpool(
            lambda: bank.breeding.import_dataset(
                actor, name, got.data, germplasm=germplasm or None,
                dosage=got.params["vcf_field"] == "DS", sources=got.params["uploads"],
                published=publish, replace=replace, dry_run=dry_run,
                columns=got.params.get("map")))
    except LanhaiError as exc:
        raise got.as_sent(exc) from exc.__cause__
    finally:
        got.cleanup()
    if dry_run:
        return JSONResponse(res)
    return JSONResponse(res, status_code=201,
                        headers={"Location": f"/api/breeding/datasets/{name}"})


# -- analyses ------------------------------------------------------------------------------------

@router.post("/qc", summary="QC: call rates, MAF, HWE, Mendelian conflicts, duplicates")
async def qc(
    bank: BankDep, actor: CuratorDep,
    dataset: DatasetField = None, genotypes: GenotypeFiles = None, pedigree: OneFile = None,
    vcf_field: VcfField = "GT", map_: ColumnMap = None,
    min_snp_call: Annotated[float, Form()] = 0.90,
    min_animal_call: Annotated[float, Form()] = 0.90,
    min_maf: Annotated[float, Form()] = 0.01,
    hwe_p: Annotated[float, Form(description="exact test threshold; 0 skips")] = 1e-6,
    max_mendel: Annotated[float, Form()] = 0.02,
    drop_duplicates: Annotated[bool, Form()] = False,
    background: Background = False,
) -> Response:
    """The same counts as ``lanhai breed qc --json``."""
    got = await receive(bank, actor, dataset, genotypes, pedigree, None, vcf_field, None, None,
                        columns=map_)
    opts = QcOptions(min_snp_call, min_animal_call, min_maf, hwe_p, max_mendel, 0.99,
                     drop_duplicates)
    if got.data.genotypes is None:
        got.cleanup()
        raise UsageError("qc needs genotypes", [Problem(reason="no genotypes given",
                                                        field="genotypes")])

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        return bank.breeding.quality_control(actor, got.data, opts, progress)[0]

    return await run_analysis(bank, actor, "qc", got, {"qc": opts.__dict__}, work,
                              background, "json")


@router.post("/grm", summary="Relationship matrix G, A, A-inverse or H-inverse")
async def grm(
    bank: BankDep, actor: CuratorDep,
    dataset: DatasetField = None, genotypes: GenotypeFiles = None, pedigree: OneFile = None,
    vcf_field: VcfField = "GT", map_: ColumnMap = None,
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
    got = await receive(bank, actor, dataset, genotypes, pedigree, None, vcf_field, None, None,
                        columns=map_)
    opts = model_options("gblup", grm_method, blend, tuning, no_qc)
    opts.grm_weight = 0.0
    if format == "tsv":
        return await _matrix_table(bank, actor, got, matrix, opts)

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        return bank.breeding.relationship_matrix(actor, got.data, matrix, opts, None, progress)

    params = {"matrix": matrix, "grm_method": grm_method, "blend": blend, "tuning": tuning,
              "no_qc": no_qc}
    return await run_analysis(bank, actor, "grm", got, params, work, background, "json")


async def _matrix_table(bank: Bank, actor: Actor, got: Uploaded, matrix: str,
                        opts: ModelOptions) -> Response:
    try:
        n = max(got.data.genotypes.n_animals if got.data.genotypes else 0,
                len(got.data.pedigree.ids) if got.data.pedigree else 0)
        if n > MAX_TABLE_ANIMALS:
            raise UsageError("matrix too large to send", [Problem(
                reason=f"{n} animals: the table would have {n * n:,} cells",
                fix="ask for the summary (format=json), or write it with `lanhai breed grm "
                    "--out G.npy`")])
        out = got.folder / "matrix.tsv"
        await run_in_threadpool(bank.breeding.relationship_matrix, actor, got.data, matrix,
                                 opts, out)
        text = out.read_text("utf-8")
    except LanhaiError as exc:
        raise got.as_sent(exc) from exc.__cause__
    finally:
        got.cleanup()
    return Response(text, media_type="text/tab-separated-values; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{matrix.upper()}.tsv"'})


@router.post("/reml", summary="Variance components and h² (± SE) by REML")
async def reml(
    bank: BankDep, actor: CuratorDep, m: ModelDep,
    dataset: DatasetField = None, genotypes: GenotypeFiles = None, pedigree: OneFile = None,
    phenotypes: OneFile = None, relationship: OneFile = None, vcf_field: VcfField = "GT",
    factor: Repeat = None, covariate: Repeat = None, map_: ColumnMap = None,
    second_trait: Annotated[str | None, Form(description="fit the bivariate model")] = None,
    method: Annotated[str, Form(description="spectral or ai")] = "spectral",
    background: Background = False,
) -> Response:
    """The same figures as ``lanhai breed reml --json``."""
    if method not in ("spectral", "ai"):
        raise UsageError("unknown REML method", [Problem(
            reason="method is spectral or ai", field="method", value=method)])
    opts = m.options()
    got = await receive(bank, actor, dataset, genotypes, pedigree, phenotypes, vcf_field, factor,
                         covariate, {"relationship": relationship}, columns=map_)
    traits = _checked(got, m)
    if second_trait:
        traits.append(second_trait)

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        return bank.breeding.variance_components(
            actor, got.data, traits, fixed_effects(m.fixed), opts, method,
            got.files.get("relationship"), progress)

    params = {**m.params(), "traits": traits, "method": method}
    return await run_analysis(bank, actor, "reml", got, params, work, background, "json")


def _checked(got: Uploaded, m: ModelForm) -> list[str]:
    """The trait, with the data checked for the model now (a 422 before any job starts)."""
    try:
        trait = choose_trait(got.data, m.trait)
        data = got.data
        if m.model == "pblup" and "relationship" in got.files and data.pedigree is None:
            return [trait]  # the matrix stands in for the pedigree; checked when read
        check_dataset(data, trait, m.model)
        return [trait]
    except LanhaiError as exc:
        got.cleanup()
        raise got.as_sent(exc) from exc.__cause__
    except BaseException:
        got.cleanup()
        raise


@router.post("/predict", summary="Breeding values (pblup, gblup, ssgblup, bayes), ranked")
async def predict(
    bank: BankDep, actor: CuratorDep, m: ModelDep,
    dataset: DatasetField = None, genotypes: GenotypeFiles = None, pedigree: OneFile = None,
    phenotypes: OneFile = None, relationship: OneFile = None, vcf_field: VcfField = "GT",
    factor: Repeat = None, covariate: Repeat = None, map_: ColumnMap = None,
    iterations: Annotated[int, Form(description="bayes: Gibbs iterations")] = 3000,
    seed: Annotated[int, Form()] = 1,
    background: Background = False, format: Format = "json",
) -> Response:
    """The ranking of ``lanhai breed predict --json`` (``format=csv``: the ranking as CSV).
    BayesR always runs as a job."""
    opts = m.options()
    got = await receive(bank, actor, dataset, genotypes, pedigree, phenotypes, vcf_field, factor,
                         covariate, {"relationship": relationship}, columns=map_)
    trait = _checked(got, m)[0]

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        return bank.breeding.predictions(actor, got.data, trait, fixed_effects(m.fixed), opts,
                                   got.files.get("relationship"), iterations, seed,
                                   progress)[0]

    kind = "bayes" if m.model == "bayes" else "predict"
    params = {**m.params(), "trait": trait, "iterations": iterations, "seed": seed}
    return await run_analysis(bank, actor, kind, got, params, work, background, format)


@router.post("/cv", summary="Cross-validation (always a background job)")
async def cv(
    bank: BankDep, actor: CuratorDep, m: ModelDep,
    dataset: DatasetField = None, genotypes: GenotypeFiles = None, pedigree: OneFile = None,
    phenotypes: OneFile = None, relationship: OneFile = None, vcf_field: VcfField = "GT",
    factor: Repeat = None, covariate: Repeat = None, map_: ColumnMap = None,
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
    got = await receive(bank, actor, dataset, genotypes, pedigree, phenotypes, vcf_field, factor,
                         covariate, {"relationship": relationship, "folds": folds_file},
                        columns=map_)
    trait = _checked(got, m)[0]
    how = str(got.files["folds"]) if "folds" in got.files else folds.strip()

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        res = bank.breeding.cross_validation(
            actor, got.data, trait, fixed_effects(m.fixed), opts, how, seed, repeats,
            by_family, got.files.get("relationship"), iterations, progress)
        if "folds" in got.files:
            res["folds_from"] = "folds from the uploaded file"
        return res

    params = {**m.params(), "trait": trait,
              "folds": folds if "folds" not in got.files else "uploaded",
              "repeats": repeats, "by_family": by_family, "seed": seed}
    return await run_analysis(bank, actor, "cv", got, params, work, True, "json")


@router.post("/mate", summary="Optimal contributions under a kinship limit, then matings")
async def mate(
    bank: BankDep, actor: CuratorDep, m: ModelDep,
    matings: Annotated[int, Form(description="number of matings to plan")],
    dataset: DatasetField = None, genotypes: GenotypeFiles = None, pedigree: OneFile = None,
    phenotypes: OneFile = None, vcf_field: VcfField = "GT",
    factor: Repeat = None, covariate: Repeat = None, map_: ColumnMap = None,
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
    got = await receive(bank, actor, dataset, genotypes, pedigree, phenotypes, vcf_field, factor,
                         covariate, {"candidates": candidates}, columns=map_)
    trait = _checked(got, m)[0]
    cands = read_candidates(got.files["candidates"]) \
        if "candidates" in got.files else None

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        return bank.breeding.mating_plan(
            actor, got.data, trait, fixed_effects(m.fixed), opts, cands, matings, max_kinship,
            delta_f, max_contribution, progress)

    return await run_analysis(bank, actor, "mate", got, {
        **m.params(), "trait": trait, "matings": matings, "max_kinship": max_kinship,
        "delta_f": delta_f, "max_contribution": max_contribution,
        "candidates": len(cands) if cands is not None else None}, work, background, format)


# -- a finished job's table ----------------------------------------------------------------------

@router.get("/jobs/{job_id}/result.csv", summary="A breeding job's table as CSV",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def job_csv(job_id: str, bank: BankDep, actor: ActorDep) -> Response:
    """The ranking (predict), mating plan (mate) or folds (cv) of a finished job; readable
    by whoever may read the job (its owner or an admin)."""
    try:
        job = bank.jobs.read(actor, job_id)
    except NotFound:
        job = None
    if job is None or not job.kind.startswith("breed-"):
        raise NotFound(f"no breeding job {job_id!r}")
    if job.status != "done" or job.result is None:
        raise UsageError(f"job {job_id} is {job.status}", [Problem(
            reason="the job has no result yet" if job.status in ("queued", "running")
            else f"the job {job.status}: {job.error or ''}".strip(),
            fix=f"follow GET /api/jobs/{job_id} until its status is done")])
    return csv_table(job.kind.removeprefix("breed-"), job.result)
