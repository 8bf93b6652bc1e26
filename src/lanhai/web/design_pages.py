"""Strain design on the pages: a design's record page shows its stored analysis (the
production envelope and the largest fluxes drawn, the pathway's flux ranges, yields) and
its knockout designs with the genes to delete; curators start an analysis or a knockout
search from there (background jobs the jobs page follows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from lanhai.api.routing import api_router
from lanhai.bank import Bank
from lanhai.errors import LanhaiError, UsageError
from lanhai.kinds.design import KNOCKOUT_METHODS
from lanhai.services.access import Actor
from lanhai.services.jobs import Task
from lanhai.web.auth import check_csrf, page_actor
from lanhai.web.render import bank_of, error

router = api_router(include_in_schema=False, tags=["web"])
#: reactions drawn in the flux chart
FLUX_BARS = 30


def design_panel(bank: Bank, actor: Actor, accession: str) -> dict[str, Any]:
    """What the record page of a design shows besides its fields."""
    stored = bank.design.results(actor, accession)
    analysis, knockouts = stored["analysis"], stored["knockouts"]
    panel: dict[str, Any] = {"analysed": analysis is not None, "methods": KNOCKOUT_METHODS,
                             "can_run": actor.can_write, "knockouts": None}
    if analysis is not None:
        added = set(analysis["added"])
        reactions = analysis["reactions"]
        panel.update({
            "digest": analysis["digest"], "growth": analysis["growth"],
            "coupling": analysis["coupling"], "yield": analysis["yield"],
            "notes": analysis["notes"], "export": analysis["export"],
            "envelope": analysis["envelope"]["points"],
            "fluxes": analysis["pfba"]["fluxes"], "added": sorted(added),
            "pathway": [{"id": rid, "equation": reactions.get(rid, {}).get("equation", ""),
                         "flux": analysis["pfba"]["fluxes"].get(rid, 0.0),
                         **analysis["fva"].get(rid, {"minimum": None, "maximum": None})}
                        for rid in sorted(added)],
            "provenance": analysis["provenance"],
        })
    if knockouts is not None:
        result = knockouts["result"]
        panel["knockouts"] = {
            "method": result["method"], "solver": result["solver"],
            "elapsed": result["elapsed"], "partial": result["partial"],
            "reason": result["reason"], "designs": result["designs"][:20],
            "wild_type": result["wild_type"]}
    base = f"/api/design/{accession}"
    panel["downloads"] = [{"label": "SBML", "href": f"{base}/sbml"},
                          {"label": "SBOL3", "href": f"{base}/sbol"},
                          {"label": "JSON", "href": f"{base}/results"}]
    if analysis is not None:
        panel["downloads"].insert(0, {"label": "CSV", "href": f"{base}/fluxes.csv"})
    return panel


def _number(form: Any, name: str, default: float, low: float, high: float) -> float:
    text = str(form.get(name) or "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        raise UsageError(f"{name.replace('_', ' ')} {text!r} is not a number") from None
    if not low <= value <= high:
        raise UsageError(f"{name.replace('_', ' ')} must be between {low:g} and {high:g}")
    return value


async def _start(request: Request, accession: str, kind: str,
                 job: Callable[[Bank, Actor, Any], tuple[dict[str, Any], Task]]) -> Response:
    """A curator starts a job on the design from its page (``job``, in a thread, checks the
    form and the design and gives the job's parameters and task); the jobs page follows
    it."""
    actor = None
    try:
        form = await request.form()
        actor = await page_actor(request)
        check_csrf(request, str(form.get("csrf") or ""))
        bank = bank_of(request)
        params, task = await run_in_threadpool(job, bank, actor, form)  # bad inputs: now
        bank.jobs.submit(kind=kind, owner=actor.username,
                         params={"design": accession, **params}, task=task)
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    return RedirectResponse("/jobs", status_code=303)


@router.post("/designs/{accession}/run")
async def run(request: Request, accession: str) -> Response:
    """Analyse the design from its stored inputs."""

    def job(bank: Bank, actor: Actor, form: Any) -> tuple[dict[str, Any], Task]:
        bank.design.build(actor, accession)
        return {}, lambda progress: bank.design.run(actor, accession, progress=progress)

    return await _start(request, accession, "design-run", job)


@router.post("/designs/{accession}/knockouts")
async def knockouts(request: Request, accession: str) -> Response:
    """Search knockouts with the method, limit and time budget the form gives."""

    def job(bank: Bank, actor: Actor, form: Any) -> tuple[dict[str, Any], Task]:
        method = str(form.get("method") or "optknock")
        if method not in KNOCKOUT_METHODS:
            raise UsageError(f"unknown method {method!r}; use one of: "
                             + ", ".join(KNOCKOUT_METHODS))
        most = int(_number(form, "max_knockouts", 3, 1, 10))
        budget = _number(form, "time_limit", 60, 1, 3600)
        text = str(form.get("candidates") or "")
        chosen = [c.strip() for c in text.split(";") if c.strip()] or None
        bank.design.check_candidates(actor, accession, chosen)
        return ({"method": method, "max_knockouts": most, "time_limit": budget,
                 "candidates": chosen},
                lambda progress: bank.design.knockouts(
                    actor, accession, method=method, max_knockouts=most, time_limit=budget,
                    candidates=chosen, progress=progress))

    return await _start(request, accession, "design-knockouts", job)
