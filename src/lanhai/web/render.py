"""Rendering: one service call, then the HTML page or its JSON twin; error pages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Undefined, pass_context
from jinja2.runtime import Context
from starlette.concurrency import run_in_threadpool

from lanhai.bank import Bank
from lanhai.errors import LanhaiError
from lanhai.kinds import PLURALS
from lanhai.problem_text import localize, localize_error
from lanhai.services.access import ANONYMOUS, Actor
from lanhai.web import svg
from lanhai.web.auth import csrf_token, page_actor, set_csrf_cookie
from lanhai.web.i18n import LANG_COOKIE, LANGUAGES, language, term, translator

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
KIND_ORDER = ("sample", "strain", "deposit", "assembly", "compound", "part", "germplasm",
              "organisation", "offer", "demand", "incubation", "platform", "project",
              "achievement", "team", "fund", "product", "approval")


def show(value: Any) -> str:
    """A stored value as text: lists joined with '; ', booleans yes/no, objects as JSON."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return "; ".join(str(v) for v in value)
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def when(value: str) -> str:
    """ISO timestamp as 'YYYY-MM-DD HH:MM UTC'."""
    try:
        return dt.datetime.fromisoformat(value).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return str(value)


@pass_context
def tp(context: Context, text: Any) -> str:
    """A validation text (a problem's reason or fix, an error's message) in the page's
    language, from lanhai/problems.toml: ``{{ tp(p.reason) }}``; unknown text as it is."""
    if text is None or isinstance(text, Undefined):
        return ""
    return localize(str(text), str(context.get("lang") or "en"))


TEMPLATES.env.filters["show"] = show
TEMPLATES.env.filters["when"] = when
TEMPLATES.env.globals["tp"] = tp
TEMPLATES.env.globals["svg"] = svg
TEMPLATES.env.globals["KIND_ORDER"] = KIND_ORDER
TEMPLATES.env.globals["PLURALS"] = PLURALS


#: a page's handler: the request and whether the JSON twin was asked for
Handler = Callable[[Request, bool], Awaitable[Response]]


def twin(router: APIRouter, path: str, handler: Handler,
         methods: Sequence[str] = ("GET",)) -> None:
    """Route ``path`` to the page and ``path`` + ``.json`` (``/.json`` for ``/``) to its
    JSON twin, both answered by ``handler`` (path parameters are in
    ``request.path_params``)."""

    async def as_json(request: Request) -> Response:
        return await handler(request, True)

    async def as_html(request: Request) -> Response:
        return await handler(request, False)

    # the twin first: '/browse/{kind}' would also match '/browse/samples.json'
    router.add_api_route("/.json" if path == "/" else f"{path}.json", as_json,
                         methods=list(methods))
    router.add_api_route(path, as_html, methods=list(methods))


def bank_of(request: Request) -> Bank:
    bank: Bank = request.app.state.bank
    return bank


def html(request: Request, template: str, data: dict[str, Any], actor: Actor, *,
         status: int = 200, extra: dict[str, Any] | None = None) -> HTMLResponse:
    lang = language(request)
    _ = translator(lang)
    path = request.url.path
    context = {"request": request, "data": data, "actor": actor, "lang": lang, "_": _,
               "term": lambda word: term(lang, word), "csrf": csrf_token(request),
               "path": path, "json_url": _json_url(request), "languages": LANGUAGES,
               **(extra or {})}
    response = TEMPLATES.TemplateResponse(request, template, context, status_code=status)
    set_csrf_cookie(request, response)
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, samesite="lax", path="/")
    return response


def _json_url(request: Request) -> str | None:
    path = request.url.path
    if request.method != "GET":
        return None
    twin = "/.json" if path == "/" else path.rstrip("/") + ".json"
    return twin + (f"?{request.url.query}" if request.url.query else "")


def error(request: Request, exc: LanhaiError, is_json: bool, actor: Actor | None = None
          ) -> Response:
    """The error page, or for a JSON twin the API's error envelope, with the error's status."""
    headers = exc.headers()
    if exc.http_status == 401 and not request.headers.get("authorization"):
        headers.pop("WWW-Authenticate", None)  # a page asks to sign in, not for a token
    if is_json:
        return JSONResponse({"error": localize_error(exc.to_dict(), language(request))},
                            status_code=exc.http_status, headers=headers or None)
    response = html(request, "error.html", {"error": exc.to_dict()}, actor or ANONYMOUS,
                    status=exc.http_status)
    if headers:
        response.headers.update(headers)
    return response


async def page(request: Request, template: str, is_json: bool,
               call: Callable[[Actor], dict[str, Any]]) -> Response:
    """Resolve the actor, call the page's service once, answer HTML or its JSON twin."""
    actor: Actor | None = None
    try:
        actor = await page_actor(request)
        data = await run_in_threadpool(call, actor)
    except LanhaiError as exc:
        return error(request, exc, is_json, actor)
    if is_json:
        return JSONResponse(data)
    return html(request, template, data, actor)
