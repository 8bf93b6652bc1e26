"""The web application factory: the HTTP API and the web pages, mounted side by side over
one bank."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from lanhai import __version__, api, web
from lanhai.api import guard, openapi, routing
from lanhai.bank import Bank, open_bank
from lanhai.errors import LanhaiError
from lanhai.settings import Settings


def create_app(settings: Settings | None = None, bank: Bank | None = None) -> FastAPI:
    """Build the application for one bank (opened from ``settings`` unless given)."""
    app = FastAPI(
        title="Lanhai (蓝海) API", version=__version__,
        description="Marine bioresource catalog: records, lineage, import and export. "
                    "Every error has the shape {\"error\": {\"code\", \"message\", "
                    "\"problems\"?}}.",
        # FastAPI's Swagger/ReDoc pages load scripts from a CDN; Lanhai works offline and
        # serves its own reference page at /docs (lanhai.api.home).
        docs_url=None, redoc_url=None,
    )
    opened = bank or open_bank(settings or Settings.from_env())
    app.state.bank = opened
    # a long-running server answers catalogue searches from columns kept in memory
    opened.search.keep_columns_in_memory()
    api.install_errors(app)
    # The API's paths all start with /api/ and no page's does, so the two never compete
    # for a path; the API goes first, where programs' requests find their route soonest.
    api.install(app)
    web.install(app)  # the pages (/, /browse, /records …) and /static
    routing.index_routes(app)  # found by their first path segments
    openapi.document(app)
    app.add_middleware(
        guard.Guard, limits=lambda: opened.settings.limits,
        rules=lambda: guard.rules_of(app, web.FORMS), actor=guard.actor_of, refuse=_refuse)
    return app


async def _refuse(request: Request, exc: LanhaiError) -> Response:
    """A request refused before its route ran (too large, not signed in): the API's
    envelope, or for the pages their error page."""
    path = request.url.path
    if path.startswith("/api/") or path == "/openapi.json":
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status,
                            headers=exc.headers() or None)
    return await web.error_page(request, exc)


def serve() -> FastAPI:
    """The application of one process of ``lanhai serve --workers N``: the bank named by the
    environment, warmed (uvicorn calls it in each worker process)."""
    app = create_app(Settings.from_env())
    warm(app)
    return app


def warm(app: FastAPI) -> None:
    """Load what the server keeps in memory now (search columns, dashboard and facet
    counts, the market's readings), so the first visitors get fast pages, and start the
    market's notifier. `lanhai serve` and `lanhai demo` call it before serving; tests do
    not."""
    bank: Bank = app.state.bank
    bank.warm()
    bank.notifications.start()  # new matches notified every LANHAI_NOTIFY_EVERY seconds
