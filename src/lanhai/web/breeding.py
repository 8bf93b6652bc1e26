"""Breeding pages: a breeder's way from files to a mating plan.

``/breeding`` lists the datasets the caller may see (published ones for everyone, every one
for curators) and their own analyses; ``/breeding/import`` uploads genotypes (PLINK, VCF or
a table), phenotypes and a pedigree as a dataset, with a column mapping when the files use
other headers; a dataset's page runs quality control, breeding values (REML variance
components and GBLUP or another model) and a mating plan; each analysis runs as a
background job whose page shows its result, with the table as CSV. Every page has a JSON
twin at its path + ``.json``; a form with a problem comes back with the problem beside its
field (422), and its twin answers the API's error envelope.

The use cases are :mod:`lanhai.services.breeding` and :mod:`lanhai.services.jobs`; the pages'
data and the forms' checks are :mod:`lanhai.web.breeding_forms`.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from lanhai.api.breeding_inputs import csv_table, receive
from lanhai.api.routing import api_router
from lanhai.api.uploads import base_name
from lanhai.errors import Conflict, LanhaiError, Problem, UsageError, ValidationFailed
from lanhai.services.access import Actor, require_writer
from lanhai.web import breeding_forms as forms
from lanhai.web import breeding_svg
from lanhai.web.auth import check_csrf, page_actor
from lanhai.web.render import TEMPLATES, bank_of, error, html, page, twin

router = api_router(include_in_schema=False, tags=["web"])
TEMPLATES.env.globals["breeding_svg"] = breeding_svg
TEMPLATES.env.globals["breeding_rows"] = forms.SHOWN_ROWS

#: how long a form waits for an analysis of small data before answering with its page, which
#: shows the job's progress and reloads itself until it is done
WAIT_SECONDS = 2.0
#: the import form's fields, as the page shows them first
IMPORT_DEFAULTS: dict[str, Any] = {
    "name": "", "vcf_field": "GT", "factor": "", "covariate": "", "map": "", "germplasm": "",
    "publish": False, "replace": False, "dry_run": False}
IMPORT_FIELDS = ("name", "genotypes", "vcf_field", "pedigree", "phenotypes", "factor",
                 "covariate", "map", "germplasm")
#: the fields of each analysis form (text values; checkboxes are flags)
RUN_FIELDS: dict[str, tuple[str, ...]] = {
    "qc": tuple(forms.QC_FIELDS),
    "predict": ("trait", "model"),
    "mate": ("trait", "model", "matings", "delta_f", "max_kinship", "max_contribution"),
}


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _texts(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)]


def _flag(form: FormData, name: str) -> bool:
    return _text(form, name).lower() in ("yes", "on", "true", "1")


def _files(form: FormData, name: str) -> list[UploadFile]:
    return [f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename]


# --- the overview --------------------------------------------------------------------------

async def overview(request: Request, is_json: bool) -> Response:
    return await page(request, "breeding.html", is_json,
                      lambda actor: forms.overview(bank_of(request), actor))


twin(router, "/breeding", overview)


# --- import --------------------------------------------------------------------------------

async def import_form(request: Request, is_json: bool) -> Response:
    return await page(request, "breeding_import.html", is_json,
                      lambda actor: {"form": dict(IMPORT_DEFAULTS), "result": None})


twin(router, "/breeding/import", import_form)


async def import_files(request: Request, is_json: bool) -> Response:
    """Check the uploaded files and store them as a dataset: the dataset's page (303), the
    form again with each problem beside its field (422), or, checked only, the counts."""
    form = await request.form()
    actor: Actor | None = None
    try:
        actor = await page_actor(request)
        check_csrf(request, _text(form, "csrf"))
        require_writer(actor)
    except LanhaiError as exc:
        return error(request, exc, is_json, actor)
    values = {**IMPORT_DEFAULTS, **{k: _text(form, k)[:4000] for k in (
        "name", "vcf_field", "germplasm")}}
    values["factor"] = ", ".join(_texts(form, "factor"))[:4000]
    values["covariate"] = ", ".join(_texts(form, "covariate"))[:4000]
    values["map"] = "\n".join(_texts(form, "map"))[:20000]
    for flag in ("publish", "replace", "dry_run"):
        values[flag] = _flag(form, flag)
    genotypes = _files(form, "genotypes")
    pedigree = next(iter(_files(form, "pedigree")), None)
    phenotypes = next(iter(_files(form, "phenotypes")), None)
    names = {"genotypes": [base_name(f.filename) for f in genotypes],
             "pedigree": [base_name(pedigree.filename)] if pedigree else [],
             "phenotypes": [base_name(phenotypes.filename)] if phenotypes else []}
    bank = bank_of(request)
    try:
        name = values["name"]
        if not name:
            raise UsageError("the dataset needs a name", [Problem(
                reason="no name given", field="name", fix="e.g. croaker2024")])
        bank.breeding.check_name(name)
        if not (genotypes or pedigree or phenotypes):
            raise UsageError("nothing to import", [Problem(
                reason="no file chosen", field="genotypes",
                fix="choose genotypes, phenotypes and, if you have one, a pedigree")])
        got = await receive(bank, actor, None, genotypes, pedigree, phenotypes,
                            values["vcf_field"] or "GT", _split(values["factor"]),
                            _split(values["covariate"]), germplasm=values["germplasm"] or None,
                            columns=[values["map"]])
        try:
            result = await run_in_threadpool(functools.partial(
                bank.breeding.import_dataset, actor, name, got.data,
                germplasm=values["germplasm"] or None,
                dosage=got.params["vcf_field"] == "DS", sources=got.params["uploads"],
                published=values["publish"], replace=values["replace"],
                dry_run=values["dry_run"], columns=got.params.get("map")))
        finally:
            got.cleanup()
    except (ValidationFailed, UsageError, Conflict) as exc:
        if is_json:
            return error(request, forms.renamed(exc, names), True, actor)
        return html(request, "breeding_import.html", {"form": values, "result": None}, actor,
                    status=409 if isinstance(exc, Conflict) else 422, extra={
                        "problems": forms.beside(exc.problems, IMPORT_FIELDS, names),
                        "message": exc.message})
    except LanhaiError as exc:
        return error(request, exc, is_json, actor)
    if values["dry_run"]:
        if is_json:
            return JSONResponse(result)
        return html(request, "breeding_import.html", {"form": values, "result": result}, actor)
    target = f"/breeding/datasets/{name}"
    if is_json:
        return JSONResponse(result, status_code=201, headers={"Location": f"{target}.json"})
    return RedirectResponse(f"{target}?imported=1", status_code=303)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


twin(router, "/breeding/import", import_files, methods=("POST",))


# --- a dataset and its analyses ------------------------------------------------------------

async def dataset(request: Request, is_json: bool) -> Response:
    name = request.path_params["name"]
    imported = request.query_params.get("imported") == "1"

    def call(actor: Actor) -> dict[str, Any]:
        data = forms.dataset_page(bank_of(request), actor, name)
        if imported and not is_json:
            data["imported"] = True
        return data

    return await page(request, "breeding_dataset.html", is_json, call)


def _submitted(form: FormData) -> forms.Submitted:
    analysis = _text(form, "analysis")
    fields = RUN_FIELDS.get(analysis, ())
    sent = forms.Submitted(analysis, {k: _text(form, k)[:200] for k in fields if k in form})
    if "fixed_given" in form:  # the page's form: the ticked effects (none: the mean only)
        sent.fixed = [v.strip() for v in _texts(form, "fixed") if v.strip()]
    elif "fixed" in form:  # a script: a comma-separated list, or '-' for none
        joined = ",".join(_texts(form, "fixed"))
        sent.fixed = [] if joined.strip() in ("-", "none") else _split(joined)
    if _flag(form, "drop_duplicates"):
        sent.flags.add("drop_duplicates")
    return sent


async def run(request: Request, is_json: bool) -> Response:
    """Start an analysis of the dataset as a background job; its page (303), or the
    dataset's page with the form's problems beside their fields (422)."""
    name = request.path_params["name"]
    form = await request.form()
    actor: Actor | None = None
    bank = bank_of(request)
    try:
        actor = await page_actor(request)
        check_csrf(request, _text(form, "csrf"))
        require_writer(actor)
        data = await run_in_threadpool(forms.dataset_page, bank, actor, name)
    except LanhaiError as exc:
        return error(request, exc, is_json, actor)
    sent = _submitted(form)
    try:
        job, small = await run_in_threadpool(forms.start, bank, actor, name, sent)
    except (ValidationFailed, UsageError) as exc:
        if is_json:
            return error(request, exc, True, actor)
        if sent.analysis in data["form"]:
            data["form"][sent.analysis] = {**data["form"][sent.analysis], **sent.shown()}
        fields = (*RUN_FIELDS.get(sent.analysis, ()), "fixed")
        return html(request, "breeding_dataset.html", data, actor, status=422, extra={
            "analysis": sent.analysis, "message": exc.message,
            "problems": forms.beside(exc.problems, fields)})
    except LanhaiError as exc:
        return error(request, exc, is_json, actor)
    if small:
        with contextlib.suppress(TimeoutError):  # not done yet: its page shows it running
            job = await run_in_threadpool(bank.jobs.wait, job.id, WAIT_SECONDS)
    target = f"/breeding/results/{job.id}"
    if not is_json:
        return RedirectResponse(target, status_code=303)
    if job.status in ("queued", "running"):
        return JSONResponse({k: v for k, v in job.to_dict().items() if k != "result"},
                            status_code=202, headers={"Location": f"{target}.json"})
    return JSONResponse(await run_in_threadpool(forms.results, bank, actor, job.id))


twin(router, "/breeding/datasets/{name}/run", run, methods=("POST",))
twin(router, "/breeding/datasets/{name}", dataset)


# --- results -------------------------------------------------------------------------------

@router.get("/breeding/results/{job_id}.csv")
async def result_table(request: Request, job_id: str) -> Response:
    """A finished analysis' table as CSV: the ranking, or the mating plan."""
    actor: Actor | None = None
    try:
        actor = await page_actor(request)
        job = await run_in_threadpool(forms.breeding_job, bank_of(request), actor, job_id)
        if job.status != "done" or job.result is None:
            raise UsageError(f"the analysis is {job.status}", [Problem(
                reason="the analysis has no result yet" if job.status in ("queued", "running")
                else f"the analysis {job.status}", fix=f"open /breeding/results/{job.id}")])
        return csv_table(job.kind.removeprefix("breed-"), job.result)
    except LanhaiError as exc:
        return error(request, exc, False, actor)


async def result(request: Request, is_json: bool) -> Response:
    job_id = request.path_params["job_id"]
    return await page(request, "breeding_results.html", is_json,
                      lambda actor: forms.results(bank_of(request), actor, job_id))


twin(router, "/breeding/results/{job_id}", result)
