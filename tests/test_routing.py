"""Route matching: every route rejects a path outside its literal part before its regular
expression, the API and the pages never compete for a path, and precedence and root paths
behave as before."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.routing import Match, Mount
from starlette.types import Receive, Scope, Send

from lanhai.api.routing import (
    LiteralPrefixRoute,
    RouteIndex,
    api_router,
    direct,
    index_routes,
    mount,
    route_path,
)
from lanhai.app import create_app
from tests.support import bank_on


def _scope(path: str, method: str = "GET", root_path: str = "") -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": root_path,
            "headers": [], "query_string": b""}


def _may_share_a_path(a: LiteralPrefixRoute, b: LiteralPrefixRoute) -> bool:
    """Whether some path could match both routes (a literal part is a prefix of the other)."""
    if a.literal_only and b.literal_only:
        return a.literal_prefix == b.literal_prefix
    if a.literal_only:
        return a.literal_prefix.startswith(b.literal_prefix)
    if b.literal_only:
        return b.literal_prefix.startswith(a.literal_prefix)
    return a.literal_prefix.startswith(b.literal_prefix) or \
        b.literal_prefix.startswith(a.literal_prefix)


@pytest.fixture
def app(sqlite_engine: Engine) -> FastAPI:
    return create_app(bank=bank_on(sqlite_engine))


def test_every_route_checks_its_literal_part_first(app: FastAPI) -> None:
    others = [r for r in app.routes if not isinstance(r, LiteralPrefixRoute | RouteIndex)]
    # FastAPI's own OpenAPI document and the static files are the only other routes …
    assert sorted(getattr(r, "path", "") for r in others) == ["/openapi.json", "/static"]
    assert all(isinstance(r, Mount) or getattr(r, "path", "") == "/openapi.json"
               for r in others)
    # … and no route of ours could take one of their paths
    ours = [r for r in app.routes if isinstance(r, LiteralPrefixRoute)]
    for other in ("/openapi.json", "/static/"):
        assert [r.path for r in ours if (r.literal_prefix.startswith(other) if r.literal_only else
                other.startswith(r.literal_prefix) or r.literal_prefix.startswith(other)
                )] == []
    # the index comes first among them, once
    indexes = [n for n, r in enumerate(app.routes) if isinstance(r, RouteIndex)]
    assert len(indexes) == 1 and app.routes.index(ours[0]) == indexes[0] + 1


def _sample_paths(route: LiteralPrefixRoute) -> list[str]:
    """Paths that fill the route's parameters: plain words, an accession, a kind, a
    nested path, and the literal part alone."""
    import re

    paths = []
    for value in ("X1", "LHSM0000001", "strain", "records", "a/b"):
        paths.append(re.sub(r"\{[^}]+\}", value, route.path))
    return [*paths, route.literal_prefix, route.literal_prefix.rstrip("/")]


def test_the_index_chooses_what_the_full_walk_chooses(app: FastAPI) -> None:
    """For every method and sample path of every route (and some that match nothing), the
    route the index hands the request to is the first route, in order, that matches it
    whole; where none does, the index declines and the walk answers as before."""
    index = next(r for r in app.routes if isinstance(r, RouteIndex))
    ours = [r for r in app.routes if isinstance(r, LiteralPrefixRoute)]
    tried = 0
    paths = {p for r in ours for p in _sample_paths(r)} | {"/", "", "/api", "/api/", "/nope",
                                                           "/api/records", "/records"}
    for path in sorted(paths):
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            for root in ("", "/lanhai"):
                scope = _scope(root + path, method, root)
                walk = next((r for r in ours if r.matches(scope)[0] == Match.FULL), None)
                match, child = index.matches(scope)
                if walk is None:
                    assert match == Match.NONE, (method, path)
                else:
                    assert match == Match.FULL and child["lanhai.route"] is walk, (method, path)
                tried += 1
    assert tried > 3000


def test_requests_through_the_index() -> None:
    router = api_router(prefix="/api")

    @router.get("/things/count")
    def count() -> dict[str, int]:
        return {"count": 2}

    @router.get("/{kind}/{accession}")
    def one(kind: str, accession: str) -> dict[str, str]:
        return {"kind": kind, "accession": accession}

    app = FastAPI()
    mount(app, router)
    index_routes(app)
    client = TestClient(app)
    assert client.get("/api/things/count").json() == {"count": 2}
    assert client.get("/api/things/LH1").json() == {"kind": "things", "accession": "LH1"}
    assert client.post("/api/things/LH1").status_code == 405  # the walk's answer
    assert client.get("/api/things/count/", follow_redirects=False).status_code == 307
    assert client.get("/elsewhere").status_code == 404


def test_the_api_and_the_pages_never_compete_for_a_path(app: FastAPI) -> None:
    """So the API can come first (where programs' requests find their route soonest)
    without changing what any page or API path answers."""
    routes = [r for r in app.routes if isinstance(r, LiteralPrefixRoute)]
    from_api = [r.endpoint.__module__.startswith("lanhai.api.") for r in routes]
    api = [r for r, of_api in zip(routes, from_api, strict=True) if of_api]
    pages = [r for r, of_api in zip(routes, from_api, strict=True) if not of_api]
    assert len(api) > 100 and len(pages) > 80
    clashes = [(a.path, p.path) for a in api for p in pages if _may_share_a_path(a, p)]
    assert clashes == []
    # … and the API's routes all come before the pages'
    assert from_api == sorted(from_api, reverse=True)


def test_literal_part_and_exact_paths() -> None:
    router = api_router(prefix="/api/things")

    @router.get("/{accession}")
    def one(accession: str) -> str:
        return accession

    @router.get("/count")
    def count() -> int:
        return 0

    by_accession, exact = router.routes
    assert isinstance(by_accession, LiteralPrefixRoute) and isinstance(exact, LiteralPrefixRoute)
    assert by_accession.literal_prefix == "/api/things/" and not by_accession.literal_only
    assert exact.literal_prefix == "/api/things/count" and exact.literal_only
    assert by_accession.matches(_scope("/api/other/X1"))[0] == Match.NONE
    assert by_accession.matches(_scope("/api/things/X1"))[0] == Match.FULL
    assert by_accession.matches(_scope("/api/things/X1", "DELETE"))[0] == Match.PARTIAL
    assert exact.matches(_scope("/api/things/count"))[0] == Match.FULL
    assert exact.matches(_scope("/api/things/counter"))[0] == Match.NONE
    assert exact.matches(_scope("/api/things/count/"))[0] == Match.NONE


def test_root_path_behind_a_proxy() -> None:
    assert route_path(_scope("/lanhai/api/x", root_path="/lanhai")) == "/api/x"
    assert route_path(_scope("/lanhai", root_path="/lanhai")) == ""
    assert route_path(_scope("/lanhaiX/api", root_path="/lanhai")) == "/lanhaiX/api"
    assert route_path(_scope("/api/x", root_path="/lanhai")) == "/api/x"

    router = api_router(prefix="/api/things")

    @router.get("/{accession}")
    def one(accession: str) -> dict[str, str]:
        return {"accession": accession}

    app = FastAPI()
    mount(app, router)
    client = TestClient(app, root_path="/lanhai")
    assert client.get("/api/things/LH1").json() == {"accession": "LH1"}
    assert TestClient(app).get("/api/things/LH1").json() == {"accession": "LH1"}


def test_precedence_is_the_order_routes_were_added(app: FastAPI) -> None:
    """Specific API paths come before /api/{kind}: /api/records/… is the any-kind lookup,
    /api/search/… the searches; an unknown kind is refused by /api/{kind}."""
    client = TestClient(app)
    assert client.get("/api/records/LHXX9999999").json()["error"]["code"] == "not_found"
    assert client.get("/api/kinds").status_code == 200
    refused = client.get("/api/no-such-kind")
    assert refused.status_code in (400, 404) and "no-such-kind" in refused.text
    # a page and its JSON twin still answer after the API
    assert client.get("/browse/strain").status_code == 200
    assert client.get("/browse/strain.json").status_code == 200
    # a trailing slash is redirected as before
    moved = client.get("/api/kinds/", follow_redirects=False)
    assert moved.status_code == 307 and moved.headers["location"].endswith("/api/kinds")


def test_a_router_with_start_up_handlers_is_refused() -> None:
    router = api_router()
    router.add_event_handler("startup", lambda: None)
    with pytest.raises(ValueError, match="start-up"):
        mount(FastAPI(), router)


def _answers(app: FastAPI, asks: list[tuple[str, dict[str, str]]]
             ) -> list[tuple[int, dict[str, str], bytes]]:
    with TestClient(app) as client:
        out = []
        for path, headers in asks:
            response = client.get(path, headers=headers)
            kept = {k: v for k, v in response.headers.items() if k.lower() != "date"}
            out.append((response.status_code, kept, response.content))
        return out


def test_a_direct_read_answers_as_fastapi_would(sqlite_engine: Engine,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support import CURATOR, SAMPLE, add_token, create_user

    bank = bank_on(sqlite_engine)
    seen = bank.catalog.create(CURATOR, "sample", SAMPLE).accession
    hidden = bank.catalog.create(CURATOR, "sample", {
        **SAMPLE, "samp_name": "held back", "restricted": "yes"}).accession
    create_user(sqlite_engine, "ana", "curator")
    token = {"Authorization": f"Bearer {add_token(sqlite_engine, 'ana')}"}
    asks = [(f"/api/records/{seen}", {}), (f"/api/records/{seen.lower()}", {}),
            (f"/api/records/{hidden}", {}), (f"/api/records/{hidden}", token),
            ("/api/records/LHSM9999999", {}), (f"/api/records/{seen}", {
                "Authorization": "Bearer not-a-token"}), (f"/api/records/{seen}?x=1", {})]

    direct_app = create_app(bank=bank)
    record_route = next(r for r in direct_app.routes if isinstance(r, LiteralPrefixRoute)
                        and r.path == "/api/records/{accession}")
    assert record_route.direct_sources is not None
    called: list[str] = []
    original = LiteralPrefixRoute.call_directly

    async def counting(self: LiteralPrefixRoute, scope: Scope, receive: Receive,
                       send: Send) -> None:
        called.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(LiteralPrefixRoute, "call_directly", counting)
    direct = _answers(direct_app, asks)
    assert len(called) == len(asks)  # every one of them answered directly

    fastapi_app = create_app(bank=bank)
    for route in fastapi_app.routes:
        if isinstance(route, LiteralPrefixRoute):
            route.direct_sources = None
    called.clear()
    assert _answers(fastapi_app, asks) == direct and called == []
    assert [status for status, _h, _b in direct] == [200, 200, 404, 200, 404, 401, 200]
    assert direct[0][1]["etag"] == '"1"' and b'"accession"' in direct[0][2]


async def of_request(request: Request) -> str:
    return request.url.path


async def of_other(name: Annotated[str, Depends(of_request)]) -> str:
    return name


def test_only_request_only_endpoints_may_be_direct() -> None:
    router = api_router()

    @router.get("/fine/{name}")
    @direct
    async def fine(name: str, path: Annotated[str, Depends(of_request)]) -> PlainTextResponse:
        return PlainTextResponse(f"{name} {path}")

    app = FastAPI()
    mount(app, router)
    index_routes(app)
    with TestClient(app) as client:
        assert client.get("/fine/sea").text == "sea /fine/sea"

    def refused(endpoint: object, path: str = "/bad/{name}", **options: object) -> str:
        with pytest.raises(TypeError) as err:
            api_router(**options).get(path)(direct(endpoint))  # type: ignore[arg-type]
        return str(err.value)

    def not_async(name: str) -> PlainTextResponse:
        return PlainTextResponse(name)

    async def with_query(name: str, limit: Annotated[int, Query()] = 1) -> PlainTextResponse:
        return PlainTextResponse(name)

    async def not_in_path(other: str) -> PlainTextResponse:
        return PlainTextResponse(other)

    async def nested(name: Annotated[str, Depends(of_other)]) -> PlainTextResponse:
        return PlainTextResponse(name)

    async def constrained(name: Annotated[str, Path(max_length=3)]) -> PlainTextResponse:
        return PlainTextResponse(name)

    assert "must be async" in refused(not_async)
    assert "not a plain string" in refused(constrained)
    assert "'limit'" in refused(with_query)
    assert "'other'" in refused(not_in_path)
    assert "'name'" in refused(nested, path="/bad")
    assert "dependencies would be skipped" in refused(
        fine, dependencies=[Depends(of_request)])
