"""The OpenAPI document: every status a route answers, what each answer holds, and who may
call it.

- **Answers.** The routes declare their answers' schemas (:mod:`lanhai.api.schemas`) and
  media types; :data:`ANSWERS` adds them for routes declared elsewhere (breeding).
- **Errors.** FastAPI documents a route's success and its 422; the rest come from what every
  route shares (:mod:`lanhai.api.errors`, :mod:`lanhai.api.guard`): a malformed request is
  400, a bad token 401 on any route, a role below the route's 403, an unknown or hidden
  record 404, a clash with what is stored 409, a body over its limit 413, a busy bank 503, a
  full disk 507. Each error has the envelope's schema (``Error``).
- **Who.** The bearer scheme (tokens ``lh_…``) is declared once; each operation says whom it
  needs (``security`` and ``x-lanhai-access``: anyone, signed in, curator or admin), read
  from the routes' dependencies (:func:`lanhai.api.guard.needs`).
- **Reading it.** :data:`INTRO` (the document's description) tells a developer how to
  authenticate, what errors look like, how to write safely and follow jobs; ``/docs``
  (:mod:`lanhai.api.home`) shows the whole document as one offline page; ``docs/api.md``.

``tests/test_api_fuzz.py`` checks with Schemathesis that no route answers a status, a media
type or a body its entry does not document; ``tests/test_api_document.py`` checks every
answer of a normal session against it with jsonschema.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from lanhai.api import schemas as answer_models
from lanhai.api.guard import needs, rules_of
from lanhai.api.schemas import ANNOTATIONS, MODELS

MEANING = {
    "400": "The request is malformed (a bad parameter, filter or JSON)",
    "401": "No valid token (or sign-in) for a route that needs one, or a token that is "
           "unknown, expired or revoked",
    "403": "The caller's role does not allow this",
    "404": "No such record, route item or kind (or one hidden from the caller)",
    "410": "The record was withdrawn: the message says when and why",
    "409": "The change clashes with what is stored (a taken identifier, a changed version)",
    "413": "The body is over its limit (LANHAI_MAX_BODY, LANHAI_MAX_QUERY or "
           "LANHAI_MAX_UPLOAD)",
    "422": "The data is not valid: every problem is listed",
    "429": "Too many failed sign-ins: wait Retry-After seconds",
    "503": "The bank is busy with another write: try again after Retry-After seconds",
    "507": "The server's disk is full: nothing was written",
}
_RETRY = {"Retry-After": {"description": "Seconds to wait before trying again",
                           "schema": {"type": "integer"}}}
#: headers an error status always carries
ERROR_HEADERS: dict[str, dict[str, Any]] = {
    "401": {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    "429": _RETRY, "503": _RETRY}
INTRO = """\
The catalogue of a marine gene bank (samples, strains, patent deposits, assemblies,
compounds, genetic parts, germplasm) with its lineage graph, imports and exports; sequences
and their annotation; search by words, structure, protein family and sequence; genomic
selection. Also browsable at `/docs`; the command line (`lanhai`) does the same work.

**Who may call what.** Reads of public records need no token. Everything else needs an API
token sent as `Authorization: Bearer lh_…` (security scheme `bearer`): made on the server
with `lanhai tokens create USER`, or with `POST /api/tokens` by someone who has one. A token
acts with its user's role: *reader* (reads, own tokens), *curator* (also writes records,
imports, uploads sequences, starts annotation and breeding analyses), *admin* (also users,
everyone's tokens, the sign-in log). Each operation names whom it needs
(`x-lanhai-access`: anyone, signed in, curator, admin; and `security`). A missing or bad
token is 401, a role below the operation's 403. Restricted records (patent deposits, records
marked restricted) are invisible below curator: 404, never 403, and never counted.

**Errors.** Every error has one shape (schema `Error`): `{"error": {"code", "message",
"problems"?}}`. `code` is for programs (`invalid`, `not_found`, `stale_version` …; see the
schema), `message` for people, and for bad data `problems` lists every problem found, each
with where (`field`, `row`, `column`, `record`, `file`), the `value`, the `reason` and a
`fix`. A refused bulk import adds its `report` (schema `ImportRefused`). 401 carries
`WWW-Authenticate: Bearer`; 429 and 503 carry `Retry-After`.

**Writing safely.** Records carry their version as `ETag`; send it back as `If-Match` with
`PATCH` or `PUT` to change a record only if nobody did since (409 `stale_version` with
`current_version` otherwise). Bodies are bounded before they are read (413 `too_large`).

**Lists and jobs.** Lists page with `limit` and `offset` and give `total` and the `next`
page's URL. Long work (annotation, sequence searches of more than 50 queries, breeding
cross-validation, large breeding analyses) answers 202 with a job (schema `Job`) and
`Location: /api/jobs/{id}`; poll it until `status` is `done` (then `result` holds what the
route answers at once for small requests) or `failed`.
"""
#: whom a route needs (a key of lanhai.api.guard.WHO, None for anyone) as callers say it
ACCESS = {None: "anyone", "user": "signed in", "entry writer": "member or curator",
          "writer": "curator", "admin": "admin"}
ACCESS_TEXT = {
    None: "Anyone may call this; with a token, restricted records count for curators and "
          "admins.",
    "user": "Needs a token (Authorization: Bearer lh_…) of any signed-in user.",
    "entry writer": "Needs a token (Authorization: Bearer lh_…) of a curator or admin; a "
                    "member's token also writes its own organisation's offers and demands "
                    "(up to submitting them).",
    "writer": "Needs a token (Authorization: Bearer lh_…) of a curator or admin.",
    "admin": "Needs a token (Authorization: Bearer lh_…) of an admin.",
}
BEARER = {
    "type": "http", "scheme": "bearer", "bearerFormat": "lh_…",
    "description": "An API token: `lanhai tokens create USER` on the server, or POST "
                   "/api/tokens with a token you have. Send it as `Authorization: Bearer "
                   "lh_…`. Tokens carry their user's role (reader, curator, admin).",
}
TAGS = [
    {"name": "records", "description": "The catalogue: kinds, records, links, lineage and "
                                       "history"},
    {"name": "search", "description": "Catalogue search with facets; compounds by "
                                      "structure; protein families; sequence similarity"},
    {"name": "sequences", "description": "An assembly's sequences, annotation and results"},
    {"name": "imports", "description": "Bulk import of CSV, TSV and XLSX tables"},
    {"name": "exports", "description": "Streamed exports and histories as CSV"},
    {"name": "jobs", "description": "Background jobs started by long requests"},
    {"name": "users", "description": "The caller, users, API tokens, the sign-in log"},
    {"name": "breeding", "description": "Genomic selection for aquaculture: datasets, QC, "
                                        "relationships, REML, breeding values, matings"},
]
_WRITES = {"post", "put", "patch", "delete"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_answer(name: str, description: str) -> dict[str, Any]:
    """An answer whose body is the component schema ``name``."""
    return {"description": description, "content": {"application/json": {"schema": ref(name)}}}


def text_answer(media_type: str, description: str, example: str | None = None
                ) -> dict[str, Any]:
    """An answer whose body is text (or bytes) of ``media_type``."""
    content: dict[str, Any] = {"schema": {"type": "string"}}
    if example is not None:
        content["example"] = example
    return {"description": description, "content": {media_type: content}}


def job_answer(what: str = "Started as a background job") -> dict[str, Any]:
    """202: a job to follow at its Location."""
    return {**json_answer("Job", f"{what}: follow it at Location (GET /api/jobs/{{id}})"),
            "headers": {"Location": {"description": "/api/jobs/{id}",
                                     "schema": {"type": "string"}}}}


def merged(*answers: dict[str, Any]) -> dict[str, Any]:
    """One status with several media types."""
    content: dict[str, Any] = {}
    for answer in answers:
        content.update(answer["content"])
    return {**answers[0], "content": content}


_CSV_RANKING = "rank,id,gebv,reliability,pev,phenotyped\n1,G2F10-04,13.41,0.584,25.96,True\n"
_CSV_PLAN = ("mating,sire,dam,progeny_inbreeding,expected_progeny_value\n"
             "1,G2F01-03,G1F05-04,0.0,7.91\n")
#: the answers of routes whose modules do not declare them: (method, path) -> status -> entry
ANSWERS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("get", "/api/breeding/datasets"): {"200": json_answer("Datasets", "The datasets")},
    ("get", "/api/breeding/datasets/{name}"): {"200": json_answer("Dataset", "The summary")},
    ("post", "/api/breeding/datasets"): {
        "201": json_answer("DatasetStored", "Stored (Location: /api/breeding/datasets/NAME)"),
        "200": json_answer("DatasetStored", "A dry run: what would be stored")},
    ("post", "/api/breeding/qc"): {"200": json_answer("QcReport", "The QC report"),
                                   "202": job_answer()},
    ("post", "/api/breeding/grm"): {
        "200": merged(json_answer("MatrixSummary", "The matrix's summary, or (format=tsv) "
                                                   "the matrix"),
                      text_answer("text/tab-separated-values", "The matrix")),
        "202": job_answer()},
    ("post", "/api/breeding/reml"): {
        "200": json_answer("VarianceComponents", "Variance components and h²"),
        "202": job_answer()},
    ("post", "/api/breeding/predict"): {
        "200": merged(json_answer("Predictions", "The ranking (format=csv: as CSV)"),
                      text_answer("text/csv", "The ranking", _CSV_RANKING)),
        "202": job_answer("Started as a background job (bayes, large data, background)")},
    ("post", "/api/breeding/cv"): {"202": job_answer("Always a background job")},
    ("post", "/api/breeding/mate"): {
        "200": merged(json_answer("MatingPlan", "The plan (format=csv: the matings as CSV)"),
                      text_answer("text/csv", "The matings", _CSV_PLAN)),
        "202": job_answer()},
    ("get", "/api/breeding/jobs/{job_id}/result.csv"): {
        "200": text_answer("text/csv", "The ranking, plan or folds", _CSV_RANKING)},
}


def statuses(method: str, path: str, who: str | None, takes_body: bool,
             takes_input: bool) -> list[str]:
    """The error statuses a route may answer: 401 on every route (a bad token); 400 and
    422 when it takes parameters or a body (``takes_input``), 404 when these may name a
    record, user, dataset, job or kind that does not exist (or a write may); 403 below the
    role it needs; 409, 503 and 507 for writes; 413 when the guard bounds its body."""
    found = {"401"}
    if takes_input:
        found |= {"400", "404", "422"}
    if who is not None:
        found.add("403")
    if "{" in path or method in _WRITES:
        found.add("404")
    if "{accession}" in path and method == "get":
        found.add("410")
    if method in _WRITES:
        found |= {"409", "503", "507"}
    if takes_body:
        found.add("413")
    if path in ("/api/me/password",):
        found.add("429")
    return sorted(found)


def _components(schemas: dict[str, Any]) -> None:
    """Every answer model and the error envelope, under their own names."""
    _, found = models_json_schema([(m, "serialization") for m in MODELS],
                                  ref_template="#/components/schemas/{model}")
    for name, schema in found.get("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas["Annotations"] = ANNOTATIONS
    # the examples as written (the schema generator sorts their keys)
    for model in vars(answer_models).values():
        if isinstance(model, type) and issubclass(model, BaseModel) \
                and model.__name__ in schemas:
            extra = model.model_config.get("json_schema_extra")
            if isinstance(extra, dict) and "examples" in extra:
                schemas[model.__name__]["examples"] = extra["examples"]


def _describe_success(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """FastAPI's "Successful Response" says nothing: say what the body is (its schema's
    description), or the operation's summary."""
    for status, entry in operation.get("responses", {}).items():
        if not status.startswith("2") or entry.get("description") != "Successful Response":
            continue
        schema = entry.get("content", {}).get("application/json", {}).get("schema", {})
        target = schemas.get(str(schema.get("$ref", "")).rsplit("/", 1)[-1], {})
        text = str(target.get("description") or operation.get("summary") or "The answer")
        entry["description"] = text.split("\n\n")[0].replace("\n", " ")


def _is_default_error(entry: dict[str, Any]) -> bool:
    """FastAPI's own 422 entry (or none): replaced by the envelope."""
    schema = entry.get("content", {}).get("application/json", {}).get("schema", {})
    return not schema or schema.get("$ref", "").endswith("/HTTPValidationError")


def _access(operation: dict[str, Any], who: str | None) -> None:
    operation["x-lanhai-access"] = ACCESS[who]
    operation["security"] = [{"bearer": []}] if who else [{}, {"bearer": []}]
    text = ACCESS_TEXT[who]
    description = operation.get("description", "")
    operation["description"] = f"{description}\n\n{text}" if description else text


def document(app: FastAPI) -> None:
    """Make ``app.openapi()`` the whole document described above."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=INTRO,
                             routes=app.routes, tags=TAGS)
        components = schema.setdefault("components", {})
        _components(components.setdefault("schemas", {}))
        components["securitySchemes"] = {"bearer": BEARER}
        rules = {(r.method.lower(), r.path): r for r in rules_of(app, {})}
        who = {(m.lower(), p): w for (m, p), w in needs(app).items()}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                declared = ANSWERS.get((method, path))
                if declared is not None:
                    for status in [s for s in responses if s.startswith("2")]:
                        del responses[status]
                    responses.update(declared)
                _describe_success(operation, components["schemas"])
                needed = who.get((method, path))
                _access(operation, needed)
                takes = bool(operation.get("parameters")) or "requestBody" in operation
                for status in statuses(method, path, needed, (method, path) in rules, takes):
                    entry = responses.setdefault(status, {"description": MEANING[status]})
                    if _is_default_error(entry):
                        entry["description"] = MEANING[status]
                        entry["content"] = {"application/json": {"schema": ref("Error")}}
                    if status in ERROR_HEADERS:
                        entry.setdefault("headers", {}).update(ERROR_HEADERS[status])
        schemas = components["schemas"]
        if "HTTPValidationError" in schemas and "HTTPValidationError" not in str(schema["paths"]):
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
