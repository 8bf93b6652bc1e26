"""Search pages: text with facets, sequence (paste or upload FASTA), compound structure and
protein family. Each has a JSON twin at its path + ``.json`` from the same service call
(:mod:`lanhai.web.search`); bad input shows the form again with each problem beside its
field (422), or on the twin the API's error envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from lanhai.api.routing import api_router
from lanhai.errors import LanhaiError, Problem, ValidationFailed
from lanhai.services.access import Actor
from lanhai.web import search
from lanhai.web.auth import check_csrf, page_actor
from lanhai.web.render import bank_of, error, html, twin

router = api_router(include_in_schema=False, tags=["web"])


async def _answer(request: Request, template: str, is_json: bool, form: Mapping[str, Any],
                  call: Callable[[Actor], dict[str, Any]]) -> Response:
    """One service call; the page (with the form as submitted) or its JSON twin. A
    ValidationFailed shows the form again with the problems beside their fields (422)."""
    actor: Actor | None = None
    try:
        actor = await page_actor(request)
        data = await run_in_threadpool(call, actor)
    except ValidationFailed as exc:
        if is_json or actor is None:
            return error(request, exc, is_json, actor)
        return html(request, template, {}, actor, status=422, extra={
            "form": form, "problems": search.form_problems(exc), "message": exc.message})
    except LanhaiError as exc:
        return error(request, exc, is_json, actor)
    if is_json:
        return JSONResponse(data)
    return html(request, template, data, actor,
                extra={"form": form, "problems": {}, "message": None})


# --- text --------------------------------------------------------------------------------

async def text_search(request: Request, is_json: bool) -> Response:
    params = dict(request.query_params)
    kinds = request.query_params.getlist("kind")
    families = request.query_params.getlist("has_family")
    form = {**params, "kind": kinds, "has_family": families}
    return await _answer(request, "search.html", is_json, form, lambda actor: search.text_search(
        bank_of(request), actor, params, kinds, families))


twin(router, "/search", text_search)


# --- sequence ----------------------------------------------------------------------------

def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def sequence_form(request: Request, is_json: bool) -> Response:
    """The empty form, or filled with ``?fasta=`` (a link from a protein page) or the
    example query (``?example=agab``)."""
    fasta = (request.query_params.get("fasta") or "")[:search.MAX_FASTA_BYTES]
    if request.query_params.get("example"):
        fasta = search.example_query()
    form = {**search.SEQUENCE_DEFAULTS, "fasta": fasta}
    return await _answer(request, "search_sequence.html", is_json, form,
                         lambda actor: search.sequence_form(fasta=fasta))


twin(router, "/search/sequence", sequence_form)


async def _sequence(request: Request, is_json: bool) -> Response:
    form = await request.form(max_part_size=search.MAX_FASTA_BYTES)
    try:
        check_csrf(request, _field(form, "csrf"))
    except LanhaiError as exc:
        return error(request, exc, is_json)
    raw = {k: _field(form, k) for k in ("db", "evalue", "min_identity", "max_hits",
                                        "sensitive")}
    options, problems = search.sequence_options(raw)
    fasta = _field(form, "fasta")
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(search.MAX_FASTA_BYTES + 1)
        if len(data) > search.MAX_FASTA_BYTES:
            problems.append(Problem(f"the file is larger than "
                                    f"{search.MAX_FASTA_BYTES >> 20} MB",
                                    "split it into several searches", field="file"))
        else:
            text = data.decode("utf-8", errors="replace")
            fasta = (fasta.rstrip() + "\n" + text) if fasta.strip() else text
    if len(fasta.encode()) > search.MAX_FASTA_BYTES:
        problems.append(Problem(f"the query is larger than {search.MAX_FASTA_BYTES >> 20} MB",
                                "split it into several searches", field="fasta"))
        fasta = ""
    shown = {**search.SEQUENCE_DEFAULTS, **raw, "sensitive": options["sensitive"],
             "fasta": fasta if len(fasta) <= 200_000 else ""}
    response = await _answer(
        request, "search_sequence.html", is_json, shown,
        lambda actor: search.sequence_search(bank_of(request), actor, fasta, options,
                                             problems))
    if response.status_code == 200 and isinstance(response, JSONResponse):
        import json

        body = json.loads(bytes(response.body))
        if body.get("job"):
            job = body["job"]
            return JSONResponse(job, status_code=202,
                                headers={"Location": f"/api/jobs/{job['id']}"})
    return response


async def sequence_search(request: Request, is_json: bool) -> Response:
    if is_json:
        return await _sequence(request, True)
    response = await _sequence(request, False)
    job = getattr(response, "context", {}).get("data", {}).get("job") \
        if response.status_code == 200 else None
    if job:
        return RedirectResponse(f"/jobs?started={job['id']}", status_code=303)
    return response


twin(router, "/search/sequence", sequence_search, methods=("POST",))


# --- compounds ---------------------------------------------------------------------------

async def compound_search(request: Request, is_json: bool) -> Response:
    params = dict(request.query_params)
    return await _answer(request, "search_compounds.html", is_json, params,
                         lambda actor: search.compound_search(bank_of(request), actor, params))


twin(router, "/search/compounds", compound_search)


# --- families ----------------------------------------------------------------------------

async def family_search(request: Request, is_json: bool) -> Response:
    params = dict(request.query_params)
    families = request.query_params.getlist("family")
    return await _answer(request, "search_families.html", is_json, params,
                         lambda actor: search.family_search(bank_of(request), actor, params,
                                                            families))


twin(router, "/search/families", family_search)
