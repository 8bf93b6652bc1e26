"""How the API's and the pages' routes are declared and mounted, for fast matching.

A request is matched against the routes in the order they were added, and the application
has over two hundred. Three things keep that cheap:

* every route is a :class:`LiteralPrefixRoute`: before its regular expression it checks that
  the path starts with the route's literal part (``/api/records/`` for
  ``/api/records/{accession}``);
* :func:`mount` adds a module's routes to the application itself, in order, instead of
  ``include_router``, whose per-router matching walks each router's routes twice;
* :func:`index_routes` puts a :class:`RouteIndex` first: it tries only the routes whose
  literal first path segments fit the request, in their order, and hands the request to the
  first that matches it. A request no route matches whole (a wrong method, a missing
  slash, an unknown path) goes on through every route as before, for its 405, redirect or
  404.

The order of routes is their precedence, as with ``include_router``.

The hottest read, the record lookup, is also marked :func:`direct`: its arguments are a
string path parameter and request-only dependencies (the bank, the actor), so the index makes
them and calls it, without FastAPI's per-request dependency solving and validation (about a
tenth of a lookup's time on PostgreSQL). Errors reach the same exception handlers.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

#: the route a :class:`RouteIndex` chose for a request, in the request's scope
_CHOSEN = "lanhai.route"
#: the attribute :func:`direct` sets on an endpoint
_DIRECT = "__lanhai_direct__"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Response]])
#: how a direct call gets one argument: the name of a path parameter, or a request-only
#: dependency
Source = str | Callable[[Request], Awaitable[Any]]


def direct(endpoint: Endpoint) -> Endpoint:
    """Mark an async endpoint that returns a response and takes only string path parameters
    and dependencies on async functions of the request alone: the :class:`RouteIndex` calls it
    directly. Checked when its route is made (a ``TypeError`` names what does not fit)."""
    setattr(endpoint, _DIRECT, True)
    return endpoint


def _direct_sources(route: APIRoute) -> list[tuple[str, Source]]:
    """What each argument of a :func:`direct` endpoint is made from, read from the
    dependency tree FastAPI built for its route."""
    where = f"direct endpoint {route.endpoint.__qualname__} ({route.path})"
    if not inspect.iscoroutinefunction(route.endpoint):
        raise TypeError(f"{where}: must be async")
    tree = route.dependant
    sources: list[tuple[str, Source]] = []
    for field in tree.path_params:
        if field.field_info.annotation is not str or field.field_info.metadata:
            raise TypeError(f"{where}: path parameter {field.name!r} is not a plain string")
        sources.append((field.name, field.alias))
    others = [f.name for f in (*tree.query_params, *tree.header_params, *tree.cookie_params,
                               *tree.body_params)]
    if others or tree.request_param_name or tree.response_param_name \
            or tree.background_tasks_param_name or tree.http_connection_param_name:
        raise TypeError(f"{where}: arguments {others} are neither string path parameters "
                        "nor dependencies on an async function of the request alone")
    for sub in tree.dependencies:
        if sub.name is None:
            raise TypeError(f"{where}: its router's dependencies would be skipped")
        if not inspect.iscoroutinefunction(sub.call) or sub.request_param_name is None or any(
                (sub.path_params, sub.query_params, sub.header_params, sub.cookie_params,
                 sub.body_params, sub.dependencies, sub.response_param_name,
                 sub.background_tasks_param_name, sub.http_connection_param_name,
                 sub.security_scopes_param_name)):
            raise TypeError(f"{where}: argument {sub.name!r} is neither a string path "
                            "parameter nor a dependency on an async function of the "
                            "request alone")
        sources.append((sub.name, sub.call))
    return sources


class LiteralPrefixRoute(APIRoute):
    """An API route that rejects, before its regular expression, a path that cannot match
    it: one not starting with the literal part of its path (up to its first parameter),
    or, for a path without parameters, any other path."""

    def __init__(self, path: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(path, *args, **kwargs)
        brace = path.find("{")
        self.literal_prefix = path if brace < 0 else path[:brace]
        self.literal_only = brace < 0
        #: for a :func:`direct` endpoint, what each of its arguments is made from
        self.direct_sources = _direct_sources(self) \
            if getattr(self.endpoint, _DIRECT, False) else None

    async def call_directly(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer with the :func:`direct` endpoint, its arguments made here."""
        assert self.direct_sources is not None
        request = Request(scope, receive)
        arguments: dict[str, Any] = {}
        made: dict[Any, Any] = {}  # a dependency is called once per request, as FastAPI does
        for name, source in self.direct_sources:
            if isinstance(source, str):
                arguments[name] = request.path_params[source]
                continue
            if source not in made:
                made[source] = await source(request)
            arguments[name] = made[source]
        response: Response = await self.endpoint(**arguments)
        await response(scope, receive, send)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = route_path(scope)
        if self.literal_only:
            if path != self.literal_prefix:
                return Match.NONE, {}
        elif not path.startswith(self.literal_prefix):
            return Match.NONE, {}
        return super().matches(scope)

    @property
    def segments(self) -> tuple[str, ...]:
        """The whole path segments of the literal part, at most the first two (the
        :class:`RouteIndex` key): ``("api", "records")`` for ``/api/records/{accession}``,
        ``("api",)`` for ``/api/{kind}``."""
        pieces = self.literal_prefix.split("/")[1:]
        whole = pieces if self.literal_only else pieces[:-1]
        return tuple(whole[:2])


class RouteIndex(BaseRoute):
    """The first route of the application: finds a request's route among ``routes`` (in
    their order) trying only those whose literal first segments fit its path."""

    def __init__(self, routes: Sequence[LiteralPrefixRoute]) -> None:
        by_key: dict[tuple[str, ...], list[int]] = {}
        for number, route in enumerate(routes):
            by_key.setdefault(route.segments, []).append(number)
        everywhere = by_key.get((), [])
        #: (), (first,) or (first, second) -> the routes a path with those segments may match
        self._candidates: dict[tuple[str, ...], list[LiteralPrefixRoute]] = {(): [
            routes[n] for n in everywhere]}
        for key in by_key:
            numbers = set(everywhere) | set(by_key.get(key[:1], [])) | set(by_key[key])
            self._candidates[key] = [routes[n] for n in sorted(numbers)]

    def candidates(self, path: str) -> list[LiteralPrefixRoute]:
        """The routes ``path`` may match, in their order."""
        pieces = path.split("/", 3)[1:3]
        if len(pieces) == 2 and (found := self._candidates.get((pieces[0], pieces[1]))):
            return found
        if pieces and (found := self._candidates.get((pieces[0],))):
            return found
        return self._candidates[()]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        for route in self.candidates(route_path(scope)):
            match, child_scope = route.matches(scope)
            if match == Match.FULL:
                return Match.FULL, {**child_scope, _CHOSEN: route}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: LiteralPrefixRoute = scope[_CHOSEN]
        if route.direct_sources is not None:
            await route.call_directly(scope, receive, send)
        else:
            await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)  # the routes themselves name their paths


def index_routes(app: FastAPI) -> None:
    """Put a :class:`RouteIndex` of the application's :class:`LiteralPrefixRoute` routes
    before the first of them (the routes stay, for the OpenAPI document, URL building and
    requests the index does not match whole)."""
    routes = app.router.routes
    ours = [r for r in routes if isinstance(r, LiteralPrefixRoute)]
    if ours:
        routes.insert(routes.index(ours[0]), RouteIndex(ours))


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
