"""The HTTP API (``/api/…``, ``/docs``): routes that parse a request, call a service of the
bank and answer JSON, CSV or a stream. Mounted by :func:`lanhai.app.create_app`."""

from __future__ import annotations

from fastapi import FastAPI


def install_errors(app: FastAPI) -> None:
    """One error envelope for every answer (API and pages' JSON twins)."""
    from lanhai.api import errors

    errors.install(app)


def install(app: FastAPI) -> None:
    """Add the API's routes to ``app``; specific prefixes first, /api/{kind} last."""
    from lanhai.api import (
        breeding,
        design,
        exports,
        genomes,
        home,
        imports,
        jobs,
        market,
        programme,
        records,
        screening,
        search_catalog,
        search_sequences,
        sequences,
        users,
    )

    app.include_router(home.router)
    app.include_router(users.router)
    app.include_router(jobs.router)
    app.include_router(breeding.router)
    app.include_router(imports.router)
    app.include_router(exports.router)
    app.include_router(search_sequences.router)
    app.include_router(search_catalog.router)
    app.include_router(sequences.router)
    app.include_router(market.router)
    app.include_router(programme.router)
    app.include_router(genomes.router)
    app.include_router(screening.router)
    app.include_router(design.router)
    app.include_router(records.router)
