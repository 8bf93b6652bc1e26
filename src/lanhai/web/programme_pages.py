"""Programme pages: the indicators' dashboard (/programme), one indicator with its trend,
breakdowns and updates, the updates to review or correct, and the printable bilingual report
of a quarter; each with its JSON twin. Reporting units submit updates and the programme
office reviews them and closes quarters through the forms here."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from lanhai.api.routing import api_router
from lanhai.errors import LanhaiError, NotFound, UsageError
from lanhai.programme.progress import HOW_STATUS, STATUS_EN, STATUS_ZH
from lanhai.services.access import Actor
from lanhai.web.auth import check_csrf, page_actor
from lanhai.web.render import bank_of, error, page, twin

router = api_router(include_in_schema=False, tags=["web"])


def _statuses() -> dict[str, Any]:
    return {"status_names": {"en": STATUS_EN, "zh": STATUS_ZH}, "how_status": HOW_STATUS}


async def overview(request: Request, is_json: bool) -> Response:
    def call(actor: Actor) -> dict[str, Any]:
        data = bank_of(request).programme.overview(actor)
        data["live_view"] = actor.signed_in and not data.get("closed") and bool(
            data.get("indicators"))
        data["office"] = actor.role in ("curator", "admin")
        data["genome_projects"] = bank_of(request).genomes.projects(actor)
        return {**data, **_statuses()}

    return await page(request, "programme.html", is_json, call)


async def indicator(request: Request, is_json: bool) -> Response:
    key = str(request.path_params["key"])

    def call(actor: Actor) -> dict[str, Any]:
        service = bank_of(request).programme
        data = service.indicator(actor, key)
        data["updates"] = service.updates(actor, indicator=key) if actor.signed_in else []
        unit = actor.member_of
        may = actor.role in ("curator", "admin") or (
            unit is not None and (not data["units"] or unit in data["units"]))
        data["may_report"] = data["method"] == "reported" and may
        return {**data, **_statuses()}

    return await page(request, "programme_indicator.html", is_json, call)


async def updates(request: Request, is_json: bool) -> Response:
    def call(actor: Actor) -> dict[str, Any]:
        status = request.query_params.get("status") or None
        found = bank_of(request).programme.updates(actor, status=status) \
            if actor.signed_in else []
        return {"updates": found, "status": status, "signed_in": actor.signed_in,
                "office": actor.role in ("curator", "admin")}

    return await page(request, "programme_updates.html", is_json, call)


async def report(request: Request, is_json: bool) -> Response:
    period = str(request.path_params["period"])

    def call(actor: Actor) -> dict[str, Any]:
        return {**bank_of(request).programme.snapshot(actor, period), **_statuses()}

    return await page(request, "programme_report.html", is_json, call)


twin(router, "/programme", overview)
twin(router, "/programme/updates", updates)
twin(router, "/programme/indicators/{key}", indicator)
twin(router, "/programme/report/{period}", report)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def _posted(request: Request) -> tuple[Actor, FormData]:
    form = await request.form(max_part_size=20 << 20)
    actor = await page_actor(request)
    check_csrf(request, _text(form, "csrf"))
    return actor, form


@router.post("/programme/indicators/{key}/updates")
async def submit(request: Request, key: str) -> Response:
    """A reporting unit's update from the indicator's page: value, quarter, a link and/or a
    document."""
    actor = None
    try:
        actor, form = await _posted(request)
        service = bank_of(request).programme
        evidence: list[dict[str, Any]] = []
        if _text(form, "url"):
            evidence.append({"url": _text(form, "url"), "title": _text(form, "title")})
        if _text(form, "record"):
            evidence.append({"record": _text(form, "record")})
        sent = form.get("document")
        if isinstance(sent, UploadFile) and sent.filename:
            data = await sent.read()
            kept = await run_in_threadpool(service.save_document, actor, sent.filename, data)
            evidence.append({"document": kept["document"], "sha256": kept["sha256"]})
        if not _text(form, "value"):
            raise UsageError("give the value at the quarter's end")
        await run_in_threadpool(
            lambda: service.submit(actor, key, period=_text(form, "period"),
                                   value=_text(form, "value"), evidence=evidence,
                                   note=_text(form, "note"),
                                   as_of=_text(form, "as_of") or None))
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    return RedirectResponse(f"/programme/indicators/{key}", status_code=303)


@router.post("/programme/updates/{update_id}/review")
async def review(request: Request, update_id: str) -> Response:
    """The programme office approves or returns an update."""
    actor = None
    try:
        actor, form = await _posted(request)
        if not update_id.isdigit():
            raise NotFound(f"no update {update_id[:20]!r}")
        await run_in_threadpool(bank_of(request).programme.review, actor, int(update_id),
                                _text(form, "decision"), _text(form, "note"))
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    return RedirectResponse("/programme/updates?status=submitted", status_code=303)


@router.post("/programme/periods/{period}/close")
async def close(request: Request, period: str) -> Response:
    """The programme office closes an ended quarter."""
    actor = None
    try:
        actor, _form = await _posted(request)
        await run_in_threadpool(bank_of(request).programme.close, actor, period)
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    return RedirectResponse(f"/programme/report/{period}", status_code=303)
