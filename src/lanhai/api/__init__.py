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
    from lanhai.api.routing import mount

    mount(app, home.router)
    mount(app, users.router)
    mount(app, jobs.router)
    mount(app, breeding.router)
    mount(app, imports.router)
    mount(app, exports.router)
    mount(app, search_sequences.router)
    mount(app, search_catalog.router)
    mount(app, sequences.router)
    mount(app, market.router)
    mount(app, programme.router)
    mount(app, genomes.router)
    mount(app, screening.router)
    mount(app, design.router)
    mount(app, records.router)
