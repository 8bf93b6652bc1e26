"""The web interface: server-rendered pages (Jinja2) with a JSON twin each, in English and
Chinese, mounted beside the API by :func:`lanhai.app.create_app` through :func:`install`.

See docs/web.md.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from lanhai.errors import LanhaiError

#: the pages' forms: the body limit each takes (a field of lanhai.limits.Limits) and whom it
#: needs, checked before its body is read (lanhai.api.guard)
FORMS: dict[tuple[str, str], tuple[str, str | None]] = {
    ("POST", "/signin"): ("body", None),
    ("POST", "/signout"): ("body", None),
    ("POST", "/account/password"): ("body", "user"),
    ("POST", "/records/{accession}/edit"): ("body", "writer"),
    ("POST", "/import"): ("upload", "writer"),
    ("POST", "/import.json"): ("upload", "writer"),
    ("POST", "/import/commit"): ("body", "writer"),
    ("POST", "/search/sequence"): ("query", None),
    ("POST", "/search/sequence.json"): ("query", None),
    ("POST", "/breeding/import"): ("upload", "writer"),
    ("POST", "/breeding/import.json"): ("upload", "writer"),
    ("POST", "/breeding/datasets/{name}/run"): ("body", "writer"),
    ("POST", "/breeding/datasets/{name}/run.json"): ("body", "writer"),
}


async def error_page(request: Request, exc: LanhaiError) -> Response:
    """A refusal before the page's route ran: the error page, or the envelope for a
    ``.json`` twin."""
    from lanhai.web.render import error

    return error(request, exc, request.url.path.endswith(".json"))


def install(app: FastAPI) -> None:
    """Add the pages and their local static files (CSS, a tiny script) to ``app``."""
    from lanhai.api.routing import mount
    from lanhai.web import (
        breeding,
        design_pages,
        forms,
        genome_pages,
        market_pages,
        pages,
        programme_pages,
        screening_pages,
        search_pages,
    )

    mount(app, pages.router)
    mount(app, forms.router)
    mount(app, search_pages.router)
    mount(app, breeding.router)
    mount(app, market_pages.router)
    mount(app, programme_pages.router)
    mount(app, genome_pages.router)
    mount(app, screening_pages.router)
    mount(app, design_pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"),
              name="static")
