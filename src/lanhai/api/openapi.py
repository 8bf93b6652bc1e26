"""The OpenAPI document lists every status a route answers, each error with the envelope.

FastAPI documents a route's success and its 422; the rest come from what every route shares
(:mod:`lanhai.api.errors`, :mod:`lanhai.api.guard`): a malformed request is 400, a bad token
401 on any route, a role below the route's 403, an unknown or hidden record 404, a clash
with what is stored 409, a body over its limit 413, a busy bank 503, a full disk 507. A
property-based test (``tests/test_api_fuzz.py``) checks that no route answers a status its
entry does not list.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from lanhai.api.guard import needs, rules_of

ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "examples": ["not_found"]},
            "message": {"type": "string"},
            "problems": {"type": "array", "items": {
                "type": "object", "description": "what, where, why and how to fix",
                "properties": {name: {"type": "string"} for name in (
                    "reason", "fix", "field", "value", "column", "record", "file")}
                | {"row": {"type": "integer"}}}},
        }}},
}
MEANING = {
    "400": "The request is malformed (a bad parameter, filter or JSON)",
    "401": "No valid token (or sign-in) for a route that needs one, or a token that is "
           "unknown, expired or revoked",
    "403": "The caller's role does not allow this",
    "404": "No such record, route item or kind (or one hidden from the caller)",
    "409": "The change clashes with what is stored (a taken identifier, a changed version)",
    "413": "The body is over its limit (LANHAI_MAX_BODY, LANHAI_MAX_QUERY or "
           "LANHAI_MAX_UPLOAD)",
    "422": "The data is not valid: every problem is listed",
    "429": "Too many failed sign-ins: wait Retry-After seconds",
    "503": "The bank is busy with another write: try again after Retry-After seconds",
    "507": "The server's disk is full: nothing was written",
}
_WRITES = {"post", "put", "patch", "delete"}


def statuses(method: str, path: str, who: str | None, takes_body: bool,
             names_things: bool) -> list[str]:
    """The error statuses a route may answer (``names_things``: its parameters may name a
    record, user, dataset or kind that does not exist)."""
    found = {"400", "401", "422"}
    if who is not None:
        found.add("403")
    if "{" in path or method in _WRITES or names_things or who is not None:
        found.add("404")
    if method in _WRITES:
        found |= {"409", "503", "507"}
    if takes_body:
        found.add("413")
    if path in ("/api/me/password",):
        found.add("429")
    return sorted(found)


def document(app: FastAPI) -> None:
    """Make ``app.openapi()`` list the error statuses of every route."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version,
                             description=app.description, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        rules = {(r.method.lower(), r.path): r for r in rules_of(app, {})}
        who = {(m.lower(), p): w for (m, p), w in needs(app).items()}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in statuses(method, path, who.get((method, path)),
                                       (method, path) in rules,
                                       bool(operation.get("parameters"))):
                    entry = responses.setdefault(status, {"description": MEANING[status]})
                    entry["content"] = {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
