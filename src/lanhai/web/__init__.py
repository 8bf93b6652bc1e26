"""The web interface: server-rendered pages (Jinja2) with a JSON twin each, in English and
Chinese, mounted by :func:`lanhai.api.app.create_app` through :func:`install`.

See docs/web.md.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def install(app: FastAPI) -> None:
    """Add the pages and their local static files (CSS, a tiny script) to ``app``."""
    from lanhai.web import forms, pages, search_pages
    from lanhai.web.queries import AggregateCache

    app.state.web_cache = AggregateCache()
    app.include_router(pages.router)
    app.include_router(forms.router)
    app.include_router(search_pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"),
              name="static")



def warm(app: FastAPI) -> None:
    """Fill the aggregate cache (dashboard counts, growth, every kind's facets) for the
    public and the curator view, and load catalogue search's in-memory columns, so the first
    visitors after a server start get cached pages. `lanhai serve` and `lanhai demo` call it
    before serving; tests do not."""
    from lanhai.kinds import KINDS
    from lanhai.search import catalog_columns
    from lanhai.web import queries

    cache: queries.AggregateCache = app.state.web_cache
    catalog_columns.warm(app.state.bank.engine)  # catalogue search's in-memory columns
    with app.state.bank.engine.connect() as conn:
        for seen in (False, True):
            cache.get(conn, ("counts", seen), partial(queries.programme_counts, conn, seen))
            cache.get(conn, ("growth", seen), partial(queries.growth, conn, seen))
            for kind in KINDS:
                cache.get(conn, ("facets", kind, seen),
                          partial(queries.facet_counts, conn, kind, seen))
