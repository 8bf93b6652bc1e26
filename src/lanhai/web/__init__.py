"""The web interface: server-rendered pages (Jinja2) with a JSON twin each, in English and
Chinese, mounted beside the API by :func:`lanhai.app.create_app` through :func:`install`.

See docs/web.md.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def install(app: FastAPI) -> None:
    """Add the pages and their local static files (CSS, a tiny script) to ``app``."""
    from lanhai.web import forms, pages, search_pages

    app.include_router(pages.router)
    app.include_router(forms.router)
    app.include_router(search_pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"),
              name="static")
