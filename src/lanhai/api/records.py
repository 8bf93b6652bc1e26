"""API routes for records: kinds, stats, list, get, create, update, links, lineage, history.

Accessions in paths are case-insensitive; a kind is accepted singular or plural
(``/api/samples`` = ``/api/sample``), and ``records`` stands for any kind.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from anyio import CapacityLimiter, to_thread
from fastapi import Body, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from lanhai.api import schemas
from lanhai.api.deps import ActorDep, BankDep, CuratorDep, EntryWriterDep, if_match_version
from lanhai.api.routing import api_router, direct
from lanhai.bank import Bank
from lanhai.errors import NotFound, Problem, UsageError, ValidationFailed
from lanhai.kinds import KINDS, LINK_RULES, PLURALS, KindSpec, kind_of_accession, kind_spec
from lanhai.kinds.vocab import ValueContext
from lanhai.model import MAX_OFFSET, Record

router = api_router(prefix="/api", tags=["records"])
T = TypeVar("T")

#: the path word meaning "any kind" (``GET /api/records?q=…``, ``/api/records/{accession}``)
ANY_KIND = "records"
DEFAULT_LIMIT = 50

FieldsBody = Annotated[dict[str, Any], Body(
    description="Field name (or an alias from the standard) -> value; an optional 'note' "
                "goes into the record's history.",
    examples=[{"samp_name": "OSD1_2014-06-21_0m", "depth": "0-1 m",
               "note": "registered from the OSD 2014 table"}],
)]
DateFormat = Annotated[str | None, Query(
    description="strftime format for ambiguous dates, e.g. %d-%m-%Y (never guessed)",
    max_length=40,
)]
_ETAG = {"ETag": {"description": 'The record\'s version, e.g. "3": send it back as '
                                 "If-Match to change the record only if nobody did since",
                  "schema": {"type": "string"}}}
RECORD: dict[str, Any] = {"description": "The record", "headers": _ETAG}
CREATED: dict[str, Any] = {"description": "Created", "headers": {
    **_ETAG, "Location": {"description": "/api/{kinds}/{accession}",
                          "schema": {"type": "string"}}}}
CHANGED: dict[str, Any] = {"description": "The record as changed", "headers": _ETAG}


class LinkBody(BaseModel):
    """A typed link between two records: ``source --rel--> target``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"source": "LHSM0000001", "rel": "isolated_from", "target": "LHST0000001"}]})

    source: str = Field(description="Accession of one end", examples=["LHSM0000001"])
    rel: str = Field(description="Relation (see GET /api/kinds)", examples=["isolated_from"])
    target: str = Field(description="Accession of the other end", examples=["LHST0000001"])


# --- helpers ---------------------------------------------------------------------------------

def _spec(kind: str) -> KindSpec | None:
    """The kind a path names; None for ``records`` (any kind); 404 for an unknown word."""
    if kind.lower() == ANY_KIND:
        return None
    try:
        return kind_spec(kind)
    except UsageError:
        raise NotFound(f"no record kind {kind!r}; kinds are: "
                       + ", ".join(PLURALS[k] for k in KINDS)) from None


def _accession_of(spec: KindSpec | None, accession: str) -> str:
    """The upper-cased accession; 404 when it cannot belong to ``spec``."""
    acc = accession.strip().upper()
    if spec is not None:
        actual = kind_of_accession(acc)
        if actual is None or actual.name != spec.name:
            raise NotFound(f"no {spec.name} {accession!r}; {spec.name} accessions look like "
                           f"{spec.prefix}0000001")
    return acc


def record_url(record: Record) -> str:
    """The canonical path of a record."""
    return f"/api/{PLURALS[record.kind]}/{record.accession}"


#: threads reading one record from a server database at once: each mostly waits on the
#: database, and more of them only contend with the event loop for the interpreter and
#: with each other for the server's processes (a long tail under load)
SERVER_READ_THREADS = 4


@functools.cache
def _server_reads() -> CapacityLimiter:
    return CapacityLimiter(SERVER_READ_THREADS)


async def _read(bank: Bank, func: Callable[..., T], *args: Any) -> T:
    """Run a one-record read: inline on SQLite, in the thread pool on a database server.

    SQLite answers an indexed lookup in-process in tens of microseconds; a thread hop costs
    more than that and, contending for the GIL with the event loop, multiplies the tail
    latency under load. A server database waits on the network, so it gets a thread.
    """
    if bank.catalog.embedded:
        return func(*args)
    return await to_thread.run_sync(functools.partial(func, *args), limiter=_server_reads())


def _json(data: Any, status_code: int = 200, headers: dict[str, str] | None = None
          ) -> JSONResponse:
    return JSONResponse(data, status_code=status_code, headers=headers)


def _record_json(record: Record, status_code: int = 200,
                 headers: dict[str, str] | None = None) -> JSONResponse:
    """A record, with its version as the ETag (send it back in If-Match to change it)."""
    return _json(record.to_dict(), status_code,
                 {**(headers or {}), "ETag": f'"{record.version}"'})


def _note(spec: KindSpec, body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Split the optional history note off the fields."""
    if "note" not in body or spec.field_for("note") is not None:
        return body, None
    fields = dict(body)
    note = fields.pop("note")
    if note is not None and not isinstance(note, str):
        raise ValidationFailed("the note is not valid", [Problem(
            "is not text", "give the note as a string", field="note", value=str(note))])
    return fields, note[:500] if note else None


def _page_limit(limit: int | None, maximum: int) -> int:
    if limit is None:
        return min(DEFAULT_LIMIT, maximum)
    if 1 <= limit <= maximum:
        return limit
    raise RequestValidationError([{
        "type": "less_than_equal", "loc": ("query", "limit"), "input": limit,
        "msg": f"limit must be between 1 and {maximum} (LANHAI_PAGE_SIZE_MAX)",
    }])


@functools.cache
def _kinds_document() -> dict[str, Any]:
    kinds = []
    for spec in KINDS.values():
        kinds.append({
            "name": spec.name, "plural": PLURALS[spec.name], "title": spec.title,
            "standard": spec.standard, "accession_prefix": spec.prefix,
            "accession_example": f"{spec.prefix}0000001",
            "restricted_by_default": spec.restricted_by_default,
            "computed": list(spec.computed),
            "fields": [{"name": f.name, "required": f.required, "aliases": list(f.aliases),
                        "description": f.description, "group": f.group,
                        "example": f.example} for f in spec.fields],
        })
    links = [{"rel": r.name, "sources": list(r.sources), "targets": list(r.targets),
              "description": r.description} for r in LINK_RULES.values()]
    return {"kinds": kinds, "link_rules": links}


# --- catalogue-wide --------------------------------------------------------------------------

@router.get("/kinds", summary="Record kinds, their standards' fields, and link rules",
            response_model=schemas.Kinds)
async def get_kinds(actor: ActorDep) -> JSONResponse:
    """Every record kind with its standard, accession prefix and fields (name, required,
    aliases, description, group, example), and which kinds each relation may link."""
    return _json(_kinds_document())


@router.get("/stats", summary="Number of records per kind (those the caller may see)",
            response_model=schemas.Stats)
def get_stats(actor: ActorDep, bank: BankDep) -> JSONResponse:
    """Counts per kind; restricted records count only for curators and admins."""
    counts = bank.catalog.counts(actor)
    per_kind = {kind: counts.get(kind, 0) for kind in KINDS}
    return _json({"counts": per_kind, "total": sum(per_kind.values())})


@router.get("/records/{accession}", summary="Get any record by accession",
            response_model=schemas.Record, responses={200: RECORD})
@direct
async def get_any_record(accession: str, actor: ActorDep, bank: BankDep) -> JSONResponse:
    """The record with this accession, whatever its kind (case-insensitive)."""
    record = await _read(bank, bank.catalog.get, actor, accession)
    return _record_json(record)


@router.get("/records/{accession}/links", summary="Links into and out of a record",
            response_model=schemas.Links)
async def get_links(accession: str, actor: ActorDep, bank: BankDep) -> JSONResponse:
    """Each link with its direction seen from this record ('out': it is the source)."""
    acc = accession.strip().upper()
    found = []
    for link in await _read(bank, bank.catalog.links, actor, acc):
        item = link.to_dict()
        item["direction"] = "out" if link.source == acc else "in"
        found.append(item)
    return _json({"accession": acc, "links": found})


@router.get("/records/{accession}/lineage", summary="Ancestors and descendants of a record",
            response_model=schemas.Lineage)
def get_lineage(
    accession: str, actor: ActorDep, bank: BankDep,
    depth: Annotated[int, Query(ge=1, le=50, description="How many links to follow")] = 10,
) -> JSONResponse:
    """Edges upstream (ancestors) and downstream (descendants), and the records they touch."""
    return _json(bank.catalog.lineage(actor, accession, depth))


@router.get("/records/{accession}/history", summary="Every change of a record",
            response_model=schemas.History)
async def get_history(accession: str, actor: ActorDep, bank: BankDep) -> JSONResponse:
    """The audit trail, oldest first: version, action, when, who, what changed, note.
    Link entries naming a record the caller may not see are left out."""
    acc = accession.strip().upper()
    versions = await _read(bank, bank.catalog.history, actor, acc)
    return _json({"accession": acc, "versions": [v.to_dict() for v in versions]})


def _check_rel(body: LinkBody) -> None:
    if body.rel not in LINK_RULES:
        raise ValidationFailed(f"unknown relation {body.rel!r}", [Problem(
            "is not a relation", "use one of: " + ", ".join(LINK_RULES), field="rel",
            value=body.rel)])


@router.post("/links", status_code=201, summary="Link two records (curator)",
             response_model=schemas.Link, responses={201: {"description": "The link"}})
def create_link(body: LinkBody, actor: CuratorDep, bank: BankDep) -> JSONResponse:
    """Create ``source --rel--> target``; written the other way round it is turned when only
    that direction is allowed. Creating an existing link again is harmless."""
    _check_rel(body)
    link = bank.catalog.link(actor, body.source, body.rel, body.target)
    return _json(link.to_dict(), status_code=201)


@router.delete("/links", status_code=204, summary="Remove a link (curator)",
               responses={204: {"description": "Removed"}})
def delete_link(body: LinkBody, actor: CuratorDep, bank: BankDep) -> Response:
    """Remove the link between two records (in either direction); 404 if there is none."""
    _check_rel(body)
    bank.catalog.unlink(actor, body.source, body.rel, body.target)
    return Response(status_code=204)


# --- one kind --------------------------------------------------------------------------------

@router.get("/{kind}", summary="List records of a kind, with filters and full-text search",
            response_model=schemas.RecordPage)
def list_records(
    kind: str, request: Request, actor: ActorDep, bank: BankDep,
    where: Annotated[list[str] | None, Query(
        description="FIELD OP VALUE, OP one of = != > >= < <= ~ (contains); repeatable",
        examples=["depth_m>1000"])] = None,
    q: Annotated[str | None, Query(description="Full-text search (names, descriptions, "
                                               "identifiers; Chinese too)")] = None,
    limit: Annotated[int | None, Query(description="Page size: default 50, at most "
                                                   "LANHAI_PAGE_SIZE_MAX")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    sort: Annotated[str, Query(description="Column to sort by; '-' for descending",
                               examples=["-depth_m"])] = "accession",
) -> JSONResponse:
    """One page of records: ``{items, total, limit, offset, next}``; ``next`` is the URL of
    the next page, or null on the last one. ``/api/records`` lists every kind."""
    spec = _spec(kind)
    limit = _page_limit(limit, bank.settings.page_size_max)
    found, total = bank.catalog.list(actor, spec.name if spec else None, where or [],
                                     query=q, limit=limit, offset=offset, sort=sort)
    items = []
    for record in found:
        item = record.to_dict()
        del item["identifiers"]  # not loaded for lists; GET the record for them
        items.append(item)
    total = total or 0
    following = None
    if offset + len(found) < total:
        following = str(request.url.include_query_params(offset=offset + limit, limit=limit))
    return _json({"items": items, "total": total, "limit": limit, "offset": offset,
                  "next": following})


@router.post("/{kind}", status_code=201, summary="Create a record (curator)",
             response_model=schemas.Record, responses={201: CREATED})
def create_record(kind: str, body: FieldsBody, actor: EntryWriterDep, bank: BankDep,
                  date_format: DateFormat = None) -> JSONResponse:
    """Validate and store a new record; 201 with a Location header. Every invalid field is
    reported at once (422); identifiers that belong to another record give 409."""
    spec = _spec(kind)
    if spec is None:
        raise NotFound("create records under their kind, e.g. POST /api/samples")
    fields, note = _note(spec, body)
    record = bank.catalog.create(actor, spec.name, fields, ValueContext(date_format=date_format),
                                 note=note)
    return _record_json(record, 201, {"Location": record_url(record)})


@router.get("/{kind}/{accession}", summary="Get a record of a kind by accession",
            response_model=schemas.Record, responses={200: RECORD})
async def get_record(kind: str, accession: str, actor: ActorDep, bank: BankDep
                     ) -> JSONResponse:
    """The record; 404 when it does not exist, is not of this kind, or is hidden from you."""
    acc = _accession_of(_spec(kind), accession)
    record = await _read(bank, bank.catalog.get, actor, acc)
    return _record_json(record)


IfMatch = Annotated[str | None, Header(
    description='The record\'s ETag as you read it (e.g. "3"): the change is made only if '
                "nobody changed the record since, else 409 with the current version")]


def _change(kind: str, accession: str, body: dict[str, Any], actor: EntryWriterDep, bank: BankDep,
            date_format: str | None, replace: bool, if_match: str | None) -> JSONResponse:
    spec = _spec(kind)
    acc = _accession_of(spec, accession)
    target = spec or kind_of_accession(acc)
    if target is None:
        raise NotFound(f"no record {accession!r}")
    fields, note = _note(target, body)
    record = bank.catalog.update(actor, acc, fields, ValueContext(date_format=date_format),
                                 note=note, replace=replace,
                                 expected_version=if_match_version(if_match))
    return _record_json(record)


@router.patch("/{kind}/{accession}", summary="Change some fields of a record (curator)",
              response_model=schemas.Record, responses={200: CHANGED})
def patch_record(kind: str, accession: str, body: FieldsBody, actor: EntryWriterDep,
                 bank: BankDep, date_format: DateFormat = None, if_match: IfMatch = None
                 ) -> JSONResponse:
    """Set the given fields (null or '' clears one); the others stay, including fields
    others change at the same time. The version goes up and the history records who
    changed what. With ``If-Match`` the change is made only on that version (409 and the
    current version otherwise)."""
    return _change(kind, accession, body, actor, bank, date_format, False, if_match)


@router.put("/{kind}/{accession}", summary="Replace all fields of a record (curator)",
            response_model=schemas.Record, responses={200: CHANGED})
def put_record(kind: str, accession: str, body: FieldsBody, actor: EntryWriterDep,
               bank: BankDep, date_format: DateFormat = None, if_match: IfMatch = None
               ) -> JSONResponse:
    """Replace the record's fields with the body; required fields must all be given. Send
    ``If-Match`` with the version you read so a change made meanwhile is not replaced."""
    return _change(kind, accession, body, actor, bank, date_format, True, if_match)
