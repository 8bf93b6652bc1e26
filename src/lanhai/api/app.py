"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from lanhai import __version__, web
from lanhai.api import (
    breeding,
    errors,
    exports,
    home,
    imports,
    jobs,
    records,
    search_catalog,
    search_sequences,
    sequences,
    users,
)
from lanhai.bank import Bank, open_bank
from lanhai.jobs import JobRunner
from lanhai.search.catalog_columns import keep_in_memory
from lanhai.settings import Settings


def create_app(settings: Settings | None = None, bank: Bank | None = None) -> FastAPI:
    """Build the API for one bank (opened from ``settings`` unless given)."""
    app = FastAPI(
        title="Lanhai (蓝海) API", version=__version__,
        description="Marine bioresource catalog: records, lineage, import and export. "
                    "Every error has the shape {\"error\": {\"code\", \"message\", "
                    "\"problems\"?}}.",
        # FastAPI's Swagger/ReDoc pages load scripts from a CDN; Lanhai works offline and
        # serves its own reference page at /docs (lanhai.api.home).
        docs_url=None, redoc_url=None,
    )
    app.state.bank = bank or open_bank(settings or Settings.from_env())
    # catalogue search answers from in-memory columns in a long-running server
    keep_in_memory(app.state.bank.engine)
    app.state.jobs = JobRunner(app.state.bank.settings.data_dir)
    errors.install(app)
    # Specific prefixes first: the generic /api/{kind} routes come last.
    app.include_router(home.router)
    web.install(app)  # the web pages (lanhai.web: /, /browse, /records …) and /static
    app.include_router(users.router)
    app.include_router(jobs.router)
    app.include_router(breeding.router)
    app.include_router(imports.router)
    app.include_router(exports.router)
    app.include_router(search_sequences.router)
    app.include_router(search_catalog.router)
    app.include_router(sequences.router)
    app.include_router(records.router)
    return app
