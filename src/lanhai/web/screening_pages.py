"""Compound screening pages: the assays and models (/screening), one assay with its results
and a training form (/screening/assays/{key}), one model with its validation and the
library ranked by it, each compound drawn (/screening/models/{key}), and a compound's
screening profile (/screening/profile?accession=…); each with its JSON twin."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from lanhai.api.routing import api_router
from lanhai.errors import LanhaiError, UsageError
from lanhai.services.access import Actor
from lanhai.web.auth import check_csrf, page_actor
from lanhai.web.render import bank_of, error, page, twin
from lanhai.web.search import draw_structure

router = api_router(include_in_schema=False, tags=["web"])
#: results and ranked compounds shown on a page (the API and files hold all)
SHOWN = 100


async def overview(request: Request, is_json: bool) -> Response:
    def call(actor: Actor) -> dict[str, Any]:
        service = bank_of(request).screening
        return {"assays": service.assays(actor), "models": service.models(actor),
                "may_edit": actor.can_write}

    return await page(request, "screening.html", is_json, call)


async def assay(request: Request, is_json: bool) -> Response:
    key = str(request.path_params["key"])

    def call(actor: Actor) -> dict[str, Any]:
        service = bank_of(request).screening
        found = service.assay(actor, key)
        rows = service.results(actor, key)
        return {**found, "results": rows[:SHOWN], "shown": min(len(rows), SHOWN),
                "may_edit": actor.can_write}

    return await page(request, "screening_assay.html", is_json, call)


async def model(request: Request, is_json: bool) -> Response:
    key = str(request.path_params["key"])

    def call(actor: Actor) -> dict[str, Any]:
        service = bank_of(request).screening
        found = service.model(actor, key)
        ranked = service.rank_library(actor, key, limit=SHOWN)
        if not is_json:
            for item in ranked["ranking"]:
                item["drawing"] = draw_structure(item["smiles"])
        return {**found, "ranked": ranked}

    return await page(request, "screening_model.html", is_json, call)


async def profile(request: Request, is_json: bool) -> Response:
    accession = request.query_params.get("accession") or None
    smiles = request.query_params.get("smiles") or None

    def call(actor: Actor) -> dict[str, Any]:
        if accession is None and smiles is None:
            return {"asked": False}
        found = bank_of(request).screening.profile(actor, accession=accession,
                                                   smiles=smiles)
        if not is_json:
            found["drawing"] = draw_structure(found["smiles"], 320, 240)
        return {"asked": True, **found}

    return await page(request, "screening_profile.html", is_json, call)


@router.post("/screening/assays/{key}/train")
async def train(request: Request, key: str) -> Response:
    """A curator starts training a model from the assay's page; the job page follows it."""
    actor = None
    try:
        form = await request.form()
        actor = await page_actor(request)
        check_csrf(request, str(form.get("csrf") or ""))
        endpoint = str(form.get("endpoint") or "").strip()
        if not endpoint:
            raise UsageError("choose the endpoint to learn")
        threshold_text = str(form.get("threshold") or "").strip()
        try:
            threshold = float(threshold_text) if threshold_text else None
        except ValueError:
            raise UsageError(f"the threshold {threshold_text!r} is not a number; give a pX "
                             "such as 6") from None
        algorithm = str(form.get("algorithm") or "random_forest")
        bank = bank_of(request)
        who = actor
        await run_in_threadpool(bank.screening.training_set, who, key, endpoint,
                                threshold=threshold)

        def task(progress: Any) -> dict[str, Any]:
            return bank.screening.train(who, key, endpoint=endpoint, threshold=threshold,
                                        algorithm=algorithm, progress=progress)

        bank.jobs.submit(kind="screen-train", owner=actor.username,
                         params={"assay": key, "endpoint": endpoint,
                                 "threshold": threshold, "algorithm": algorithm}, task=task)
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    return RedirectResponse("/jobs", status_code=303)


twin(router, "/screening", overview)
twin(router, "/screening/assays/{key}", assay)
twin(router, "/screening/models/{key}", model)
twin(router, "/screening/profile", profile)
