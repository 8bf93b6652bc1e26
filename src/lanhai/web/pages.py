"""Read-only pages: dashboard, browse, record, lineage, history, map, jobs.

Every page answers at its path with HTML and at the same path + ``.json`` with the data the
page shows (one service call for both).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lanhai.jobs import JobRunner
from lanhai.services.catalog import Actor
from lanhai.web import services
from lanhai.web.render import bank_of, cache_of, page, split_json

router = APIRouter(include_in_schema=False, tags=["web"])


@router.get("/")
async def home(request: Request) -> Response:
    return await page(request, "dashboard.html", False,
                      lambda actor: services.dashboard(bank_of(request), actor,
                                                       cache_of(request)))


@router.get("/.json")
async def home_json(request: Request) -> Response:
    return await page(request, "dashboard.html", True,
                      lambda actor: services.dashboard(bank_of(request), actor,
                                                       cache_of(request)))


@router.get("/browse/{kind}")
async def browse(request: Request, kind: str) -> Response:
    name, is_json = split_json(kind)
    params = dict(request.query_params)
    where = request.query_params.getlist("where")
    max_size = bank_of(request).settings.page_size_max
    return await page(request, "browse.html", is_json, lambda actor: services.browse(
        bank_of(request), actor, name, params, where, min(100, max_size), cache_of(request)))


@router.get("/records/{accession}")
async def record(request: Request, accession: str) -> Response:
    acc, is_json = split_json(accession)
    contig = request.query_params.get("contig")

    def call(actor: Actor) -> dict[str, Any]:
        data = services.record(bank_of(request), actor, acc)
        if contig and "assembly" in data:
            data["assembly"] = services.assembly_panel(bank_of(request), actor,
                                                       data["record"]["accession"], contig)
        return data

    return await page(request, "record.html", is_json, call)


@router.get("/records/{accession}/lineage")
async def lineage(request: Request, accession: str) -> Response:
    return await page(request, "lineage.html", False,
                      lambda actor: services.lineage(bank_of(request), actor, accession))


@router.get("/records/{accession}/lineage.json")
async def lineage_json(request: Request, accession: str) -> Response:
    return await page(request, "lineage.html", True,
                      lambda actor: services.lineage(bank_of(request), actor, accession))


@router.get("/records/{accession}/history")
async def history(request: Request, accession: str) -> Response:
    return await page(request, "history.html", False,
                      lambda actor: services.history(bank_of(request), actor, accession))


@router.get("/records/{accession}/history.json")
async def history_json(request: Request, accession: str) -> Response:
    return await page(request, "history.html", True,
                      lambda actor: services.history(bank_of(request), actor, accession))


@router.get("/map")
async def site_map(request: Request) -> Response:
    return await page(request, "map.html", False,
                      lambda actor: services.site_map(bank_of(request), actor))


@router.get("/map.json")
async def site_map_json(request: Request) -> Response:
    return await page(request, "map.html", True,
                      lambda actor: services.site_map(bank_of(request), actor))


def _jobs(request: Request, actor: Actor) -> dict[str, Any]:
    runner: JobRunner = request.app.state.jobs
    if actor.role == "anonymous":
        return {"jobs": [], "signed_in": False, "running": False}
    jobs = [job.to_dict() for job in runner.list(None if actor.is_admin else actor.username)]
    return {"jobs": jobs, "signed_in": True,
            "running": any(j["status"] in ("queued", "running") for j in jobs)}


@router.get("/jobs")
async def jobs(request: Request) -> Response:
    return await page(request, "jobs.html", False, lambda actor: _jobs(request, actor))


@router.get("/jobs.json")
async def jobs_json(request: Request) -> Response:
    return await page(request, "jobs.html", True, lambda actor: _jobs(request, actor))
