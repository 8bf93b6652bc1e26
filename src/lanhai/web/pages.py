"""Read-only pages: dashboard, browse, record, lineage, history, map, jobs.

Every page answers at its path with HTML and at the same path + ``.json`` with the data the
page shows (one service call for both, :func:`lanhai.web.render.twin`).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from lanhai.api.routing import api_router
from lanhai.errors import LanhaiError
from lanhai.services.access import Actor
from lanhai.web import services
from lanhai.web.auth import page_actor
from lanhai.web.render import bank_of, error, page, twin

router = api_router(include_in_schema=False, tags=["web"])


async def home(request: Request, is_json: bool) -> Response:
    def call(actor: Actor) -> dict[str, Any]:
        data = bank_of(request).dashboard.dashboard(actor)
        data["downloads"] = services.dashboard_downloads(data)
        return data

    return await page(request, "dashboard.html", is_json, call)


@router.get("/targets.csv")
@router.get("/targets.xlsx")
async def targets_file(request: Request) -> Response:
    """The dashboard's targets table, as of now, as CSV or XLSX."""
    actor = None
    try:
        actor = await page_actor(request)
        data = await run_in_threadpool(bank_of(request).dashboard.dashboard, actor)
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    stamp = str(data["as_of"])[:10]
    if request.url.path.endswith(".csv"):
        return Response(services.targets_csv(data), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="lanhai-targets-{stamp}.csv"'})
    body = await run_in_threadpool(services.targets_xlsx, data)
    return Response(body, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="lanhai-targets-{stamp}.xlsx"'})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def browse(request: Request, is_json: bool) -> Response:
    kind = request.path_params["kind"]
    params = dict(request.query_params)
    where = request.query_params.getlist("where")
    max_size = bank_of(request).settings.page_size_max
    return await page(request, "browse.html", is_json, lambda actor: services.browse(
        bank_of(request), actor, kind, params, where, min(100, max_size)))


async def record(request: Request, is_json: bool) -> Response:
    accession = request.path_params["accession"]
    contig = request.query_params.get("contig")

    def call(actor: Actor) -> dict[str, Any]:
        data = services.record(bank_of(request), actor, accession)
        if contig and "assembly" in data:
            data["assembly"] = services.assembly_panel(bank_of(request), actor,
                                                       data["record"]["accession"], contig)
        return data

    return await page(request, "record.html", is_json, call)


async def protein(request: Request, is_json: bool) -> Response:
    accession = request.path_params["accession"]
    protein_id = request.path_params["protein_id"]
    return await page(request, "protein.html", is_json, lambda actor: services.protein(
        bank_of(request), actor, accession, protein_id))


async def lineage(request: Request, is_json: bool) -> Response:
    accession = request.path_params["accession"]
    return await page(request, "lineage.html", is_json,
                      lambda actor: services.lineage(bank_of(request), actor, accession))


async def history(request: Request, is_json: bool) -> Response:
    accession = request.path_params["accession"]
    return await page(request, "history.html", is_json,
                      lambda actor: services.history(bank_of(request), actor, accession))


async def site_map(request: Request, is_json: bool) -> Response:
    return await page(request, "map.html", is_json,
                      lambda actor: services.site_map(bank_of(request), actor,
                                                      dict(request.query_params),
                                                      request.query_params.getlist("kind")))


def _jobs(request: Request, actor: Actor) -> dict[str, Any]:
    if not actor.signed_in:
        return {"jobs": [], "signed_in": False, "running": False}
    jobs = [job.to_dict() for job in bank_of(request).jobs.of(actor)]
    return {"jobs": jobs, "signed_in": True,
            "running": any(j["status"] in ("queued", "running") for j in jobs)}


async def jobs(request: Request, is_json: bool) -> Response:
    return await page(request, "jobs.html", is_json, lambda actor: _jobs(request, actor))


twin(router, "/", home)
twin(router, "/browse/{kind}", browse)
twin(router, "/records/{accession}/proteins/{protein_id}", protein)
twin(router, "/records/{accession}/lineage", lineage)
twin(router, "/records/{accession}/history", history)
twin(router, "/records/{accession}", record)
twin(router, "/map", site_map)
twin(router, "/jobs", jobs)
