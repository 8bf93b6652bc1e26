"""How the API's and the pages' routes are declared and mounted, for fast matching.

A request is matched against the routes in the order they were added, and the application
has over two hundred. Two things keep that cheap:

* every route is a :class:`LiteralPrefixRoute`: before its regular expression it checks that
  the path starts with the route's literal part (``/api/records/`` for
  ``/api/records/{accession}``), which rejects almost every route for a few string
  operations;
* :func:`mount` adds a module's routes to the application itself, in order, instead of
  ``include_router``, whose per-router matching walks each router's routes twice.

The order of routes is their precedence, as with ``include_router``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope


class LiteralPrefixRoute(APIRoute):
    """An API route that rejects, before its regular expression, a path that cannot match
    it: one not starting with the literal part of its path (up to its first parameter),
    or, for a path without parameters, any other path."""

    def __init__(self, path: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(path, *args, **kwargs)
        brace = path.find("{")
        self.literal_prefix = path if brace < 0 else path[:brace]
        self.literal_only = brace < 0

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = route_path(scope)
        if self.literal_only:
            if path != self.literal_prefix:
                return Match.NONE, {}
        elif not path.startswith(self.literal_prefix):
            return Match.NONE, {}
        return super().matches(scope)


def route_path(scope: Scope) -> str:
    """The path the routes see: the request's path below the application's root path
    (``--root-path`` behind a proxy), as Starlette computes it."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root):] if path[len(root)] == "/" else path


def api_router(**options: Any) -> APIRouter:
    """An ``APIRouter`` (same options) whose routes are :class:`LiteralPrefixRoute`."""
    return APIRouter(route_class=LiteralPrefixRoute, **options)


def mount(app: FastAPI, router: APIRouter) -> None:
    """Add ``router``'s routes to ``app`` after those already there (their paths already
    carry the router's prefix, tags and dependencies)."""
    if router.on_startup or router.on_shutdown:
        raise ValueError("a router with start-up or shut-down handlers must be included")
    app.router.routes.extend(router.routes)
