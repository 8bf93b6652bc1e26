"""Pages with forms: sign in/out, edit a record, import a spreadsheet.

Every form carries a CSRF token (:mod:`lanhai.web.auth`) and answers a bad submission with
the form again, each problem shown beside its field or cell.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from lanhai.api.routing import api_router
from lanhai.api.uploads import save_upload
from lanhai.bank import Bank
from lanhai.errors import (
    Conflict,
    Forbidden,
    LanhaiError,
    Problem,
    StaleVersion,
    UsageError,
    ValidationFailed,
)
from lanhai.imports import ImportReport
from lanhai.imports.mapping import unit_fields
from lanhai.kinds import KINDS, PLURALS, kind_spec
from lanhai.kinds.fields import Field, KindSpec
from lanhai.kinds.vocab import offered
from lanhai.model import Record
from lanhai.services.access import (
    ANONYMOUS,
    ENTRY_KINDS,
    MEMBER_STATES,
    Actor,
    own_entry,
    require_user,
    require_writer,
)
from lanhai.services.catalog import check_accession
from lanhai.services.users import Throttled
from lanhai.web.auth import (
    address_of,
    check_csrf,
    end_session,
    page_actor,
    session_secret,
    start_session,
)
from lanhai.web.render import bank_of, error, html, show, twin

router = api_router(include_in_schema=False, tags=["web"])

_MAX_UPLOAD = 200 << 20


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect to another site after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


# --- sign in / out -------------------------------------------------------------------------

@router.get("/signin")
async def signin_form(request: Request) -> Response:
    actor = await page_actor(request)
    return html(request, "signin.html", {"next": _safe_next(request.query_params.get("next")),
                                         "failed": False, "username": ""}, actor)


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await request.form()
    target = _safe_next(_text(form, "next"))
    try:
        check_csrf(request, _text(form, "csrf"))
    except LanhaiError as exc:
        return error(request, exc, False)
    username, password = _text(form, "username"), _text(form, "password")
    data = {"next": target, "failed": True, "username": username[:100], "wait": None}
    try:
        actor = await run_in_threadpool(bank_of(request).users.sign_in, username, password,
                                        address_of(request)) if username and password else None
    except Throttled as exc:
        await asyncio.sleep(exc.hold)  # held without work: guessing gets slow, not costly
        refused = html(request, "signin.html", {**data, "wait": exc.retry_after}, ANONYMOUS,
                       status=429)
        refused.headers.update(exc.headers())
        return refused
    except LanhaiError as exc:  # busy checking others' passwords
        return error(request, exc, False)
    if actor is None:
        return html(request, "signin.html", data, ANONYMOUS, status=401)
    signed_in = RedirectResponse(target, status_code=303)
    await run_in_threadpool(start_session, request, signed_in, actor)
    return signed_in


@router.post("/signout")
async def signout(request: Request) -> Response:
    form = await request.form()
    try:
        check_csrf(request, _text(form, "csrf"))
    except LanhaiError as exc:
        return error(request, exc, False)
    response = RedirectResponse("/", status_code=303)
    await run_in_threadpool(end_session, request, response)
    return response


# --- your account --------------------------------------------------------------------------

def _account(actor: Actor, changed: bool = False) -> dict[str, Any]:
    require_user(actor)
    return {"username": actor.username, "role": actor.role, "changed": changed,
            "problems": {}, "message": None}


async def account_page(request: Request, is_json: bool) -> Response:
    actor = None
    try:
        actor = await page_actor(request)
        data = _account(actor, request.query_params.get("changed") == "1")
    except LanhaiError as exc:
        return error(request, exc, is_json, actor)
    if is_json:
        return JSONResponse(data)
    return html(request, "account.html", data, actor)


twin(router, "/account", account_page)


@router.post("/account/password")
async def change_password(request: Request) -> Response:
    form = await request.form()
    actor = None
    try:
        actor = await page_actor(request)
        check_csrf(request, _text(form, "csrf"))
        data = _account(actor)
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    new, repeated = _text(form, "new"), _text(form, "repeat")
    try:
        if new != repeated:
            raise ValidationFailed("the password was not changed", [Problem(
                field="repeat", reason="is not the same as the new password",
                fix="type the new password twice, the same both times")])
        await run_in_threadpool(functools.partial(
            bank_of(request).users.change_password, actor, _text(form, "current"), new,
            address_of(request), keep_session=session_secret(request)))
    except Throttled as exc:
        await asyncio.sleep(exc.hold)
        data["message"] = exc.message
        refused = html(request, "account.html", data, actor, status=429)
        refused.headers.update(exc.headers())
        return refused
    except ValidationFailed as exc:
        data["problems"] = {p.field or "": p.to_dict() for p in exc.problems}
        data["message"] = exc.message
        return html(request, "account.html", data, actor, status=422)
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    return RedirectResponse("/account?changed=1", status_code=303)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# --- edit a record -------------------------------------------------------------------------

def editable(spec: KindSpec, fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The form's fields: every field a curator may set, with its current value as text.

    Lists of events (a deposit's receipts, viability tests, furnishings) are changed with
    `lanhai deposit-event`, not here.
    """
    out = []
    for f in spec.fields:
        if f.name in spec.computed:
            continue
        value = fields.get(f.name)
        if isinstance(value, list) and any(isinstance(v, dict) for v in value):
            continue
        out.append({"name": f.name, "group": f.group, "required": f.required,
                    "description": f.description, "example": f.example,
                    "value": show(value), **_widget(f, value)})
    order = {g: i for i, g in enumerate(dict.fromkeys(f["group"] for f in out))}
    return sorted(out, key=lambda f: order[f["group"]])  # each group once, as on the page


def _widget(f: Field, value: Any) -> dict[str, Any]:
    """How the form asks for a field: a select (one of a closed list), checkboxes (several
    of one), or free text; a stored value outside the list stays offered."""
    closed = offered(f.normalise)
    if closed is None:
        return {"widget": "text", "options": []}
    options, multiple = closed
    current = [show(v) for v in value] if isinstance(value, list) else (
        [show(value)] if value is not None else [])
    known = {v for v, _ in options}
    options = (*options, *((v, v) for v in current if v and v not in known))
    return {"widget": "checkboxes" if multiple else "select",
            "options": [{"value": v, "label": label, "chosen": v in current}
                        for v, label in options]}


def _submitted(form: FormData, item: dict[str, Any]) -> str:
    """A field's value as the form sent it; checkboxes as 'a; b', unchanged when the same
    set as stored (whatever the order)."""
    if item.get("widget") != "checkboxes":
        return _text(form, f"f_{item['name']}").strip()
    chosen = [v for v in form.getlist(f"f_{item['name']}") if isinstance(v, str)]
    stored = [v for v in item["value"].split("; ") if v]
    return item["value"] if set(chosen) == set(stored) else "; ".join(chosen)


def _version(text: str) -> int | None:
    """The record version the form was opened on (absent from older forms)."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise UsageError(f"version {text!r} is not a record version; open the form again")
    return int(text)


def may_use_form(actor: Actor, kind: str, record: Record | None = None) -> bool:
    """Whether ``actor`` may open the new-record or edit form of ``kind``: curators and
    admins for every kind; a member for its organisation's offers and demands (the catalog
    still checks every value it sends)."""
    if actor.can_write:
        return True
    if actor.member_of is None or kind not in ENTRY_KINDS:
        return False
    return record is None or own_entry(actor, record)


def _member_fields(actor: Actor, fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A member's form: its organisation fixed, and only the review states it may give."""
    if actor.can_write:
        return fields
    out = []
    for item in fields:
        if item["name"] == "organisation":
            continue  # the catalog writes the member's own organisation
        if item["name"] == "market_status":
            item = {**item, "options": [o for o in item["options"]
                                        if o["value"] in MEMBER_STATES]}
        out.append(item)
    return out


def _edit_data(bank: Bank, actor: Actor, accession: str, version: int | None = None
               ) -> tuple[Record, dict[str, Any]]:
    """The form's data for ``accession``, as it is now or as it was at ``version``."""
    require_user(actor)
    acc = check_accession(accession)
    record = (bank.catalog.get(actor, acc) if version is None
              else bank.catalog.at_version(actor, acc, version))
    if not may_use_form(actor, record.kind, record):
        if actor.member_of is not None and record.kind in ENTRY_KINDS:
            raise Forbidden(f"member {actor.username!r} changes its own organisation's "
                            "offers and demands only")
        require_writer(actor)
    spec = kind_spec(record.kind)
    fields = _member_fields(actor, editable(spec, record.fields))
    return record, {"accession": record.accession, "kind": record.kind, "name": record.name,
                    "version": record.version, "fields": fields,
                    "problems": {}, "message": None, "note": ""}


async def edit_form(request: Request, is_json: bool) -> Response:
    actor = None
    try:
        actor = await page_actor(request)
        _, data = await run_in_threadpool(_edit_data, bank_of(request), actor,
                                          request.path_params["accession"])
    except LanhaiError as exc:
        return error(request, exc, is_json, actor)
    if is_json:
        return JSONResponse(data)
    return html(request, "edit.html", data, actor)


twin(router, "/records/{accession}/edit", edit_form)


@router.post("/records/{accession}/edit")
async def edit(request: Request, accession: str) -> Response:
    form = await request.form()
    actor = None
    try:
        actor = await page_actor(request)
        check_csrf(request, _text(form, "csrf"))
        seen = _version(_text(form, "version"))
        record, data = await run_in_threadpool(_edit_data, bank_of(request), actor, accession,
                                               seen)
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    # what the curator changed is what differs from the form as it was opened (that
    # version), so fields others changed since are not written back with old values
    raw = _take(form, data, changed_only=True)
    if not raw:
        return RedirectResponse(f"/records/{record.accession}", status_code=303)
    try:
        await run_in_threadpool(functools.partial(
            bank_of(request).catalog.update, actor, record.accession, raw, None,
            data["note"] or None, since_version=record.version))
    except LanhaiError as exc:
        return _refused(request, "edit.html", data, actor, exc)
    return RedirectResponse(f"/records/{record.accession}/history", status_code=303)


def _take(form: FormData, data: dict[str, Any], changed_only: bool) -> dict[str, Any]:
    """Put the submitted values into the form's data (a refused form shows them again) and
    return what to write: the fields that differ from the form as opened (an edit), or every
    field given (a new record)."""
    raw: dict[str, Any] = {}
    for item in data["fields"]:
        opened = item["value"]
        submitted = _submitted(form, item if changed_only else {**item, "value": ""})
        if (submitted != opened) if changed_only else submitted:
            raw[item["name"]] = submitted
        item["value"] = submitted
        chosen = set(submitted.split("; ")) if item["widget"] == "checkboxes" else {submitted}
        for option in item["options"]:
            option["chosen"] = option["value"] in chosen
    data["note"] = _text(form, "note").strip()[:500]
    return raw


def _refused(request: Request, template: str, data: dict[str, Any], actor: Actor,
             exc: LanhaiError) -> Response:
    """A record form refused: again, with each problem beside its field (422), both values
    of a field changed meanwhile by someone else (409), or the conflict said (409)."""
    if isinstance(exc, (StaleVersion, ValidationFailed)):
        data["problems"] = {p.field or "": p.to_dict() for p in exc.problems}
    if isinstance(exc, StaleVersion):
        data["version"] = exc.current  # the form again, on the current version
    if isinstance(exc, (StaleVersion, ValidationFailed, Conflict, UsageError)):
        data["message"] = exc.message
        return html(request, template, data, actor, status=exc.http_status)
    return error(request, exc, False, actor)


# --- create a record ------------------------------------------------------------------------

def _defaults(spec: KindSpec) -> dict[str, Any]:
    """What a new record of ``spec`` starts with: restricted when the kind is held."""
    return {"restricted": True} if spec.restricted_by_default else {}


def _new_data(actor: Actor, kind: str) -> dict[str, Any]:
    """The empty form for a new record of ``kind`` (every field a curator may set; a
    member's offer or demand without its organisation, which is the member's own)."""
    require_user(actor)
    spec = kind_spec(kind)
    if not may_use_form(actor, spec.name):
        require_writer(actor)
    return {"kind": spec.name, "title": spec.title, "plural": PLURALS[spec.name],
            "standard": spec.standard,
            "fields": _member_fields(actor, editable(spec, _defaults(spec))), "problems": {},
            "message": None, "note": ""}


async def new_form(request: Request, is_json: bool) -> Response:
    actor = None
    try:
        actor = await page_actor(request)
        data = _new_data(actor, request.path_params["kind"])
    except LanhaiError as exc:
        return error(request, exc, is_json, actor)
    if is_json:
        return JSONResponse(data)
    return html(request, "new.html", data, actor)


twin(router, "/new/{kind}", new_form)


@router.post("/new/{kind}")
async def create(request: Request, kind: str) -> Response:
    form = await request.form()
    actor = None
    try:
        actor = await page_actor(request)
        check_csrf(request, _text(form, "csrf"))
        data = _new_data(actor, kind)
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    raw = _take(form, data, changed_only=False)
    try:
        made = await run_in_threadpool(functools.partial(
            bank_of(request).catalog.create, actor, data["kind"], raw, None,
            data["note"] or None))
    except LanhaiError as exc:
        return _refused(request, "new.html", data, actor, exc)
    return RedirectResponse(f"/records/{made.accession}", status_code=303)


# --- links -----------------------------------------------------------------------------------

@router.post("/records/{accession}/links")
async def add_link(request: Request, accession: str) -> Response:
    """Link this record to another (the relation is read in the direction its rule allows)."""
    form = await request.form()
    actor = None
    try:
        actor = await page_actor(request)
        check_csrf(request, _text(form, "csrf"))
        other = _text(form, "other").strip().upper()
        if not other:
            raise UsageError("give the accession of the record to link, e.g. LHSM0000001")
        await run_in_threadpool(bank_of(request).catalog.link, actor,
                                check_accession(accession), _text(form, "rel"),
                                check_accession(other))
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    return RedirectResponse(f"/records/{accession.upper()}#links-h", status_code=303)


@router.post("/records/{accession}/links/remove")
async def remove_link(request: Request, accession: str) -> Response:
    form = await request.form()
    actor = None
    try:
        actor = await page_actor(request)
        check_csrf(request, _text(form, "csrf"))
        await run_in_threadpool(bank_of(request).catalog.unlink, actor,
                                check_accession(_text(form, "source")), _text(form, "rel"),
                                check_accession(_text(form, "target")))
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    return RedirectResponse(f"/records/{accession.upper()}#links-h", status_code=303)


# --- import --------------------------------------------------------------------------------

def _import_page(kind: str = "sample") -> dict[str, Any]:
    return {"kinds": [{"kind": k, "plural": PLURALS[k], "title": KINDS[k].title}
                      for k in KINDS], "kind": kind, "report": None, "upload": None,
            "committable": False, "committed": False, "reading": {}, "columns": [],
            "fields": [], "units": [], "message": None}


def _mapping(kind: str, report: dict[str, Any], reading: dict[str, Any]) -> dict[str, Any]:
    """The mapping part of the page: each column of the file with the field it feeds now
    (automatically, or as the curator chose), and the kind's fields to choose from."""
    spec = kind_spec(kind)
    chosen = dict(p.partition("=")[::2] for p in (reading.get("map") or []))
    feeds: dict[str, str] = {}
    for fld, source in report.get("sources", {}).items():
        for part in source.split(" + "):
            feeds.setdefault(part, fld)
    columns = [{"index": i, "name": name, "chosen": chosen.get(name, ""),
                "feeds": feeds.get(name, ""),
                "combined": " + " in report.get("sources", {}).get(feeds.get(name, ""), "")}
               for i, name in enumerate(report.get("header", [])) if name]
    return {"columns": columns, "fields": [f.name for f in spec.fields
                                           if f.name not in spec.computed],
            "units": unit_fields(spec)}


def _reading(form: FormData) -> dict[str, Any]:
    """The import page's choices as reading options: a field per column, values for all
    rows, units, the date format."""
    maps = []
    for key in form:
        if key.startswith("col_") and key[4:].isdigit():
            name, target = _text(form, key), _text(form, f"map_{key[4:]}").strip()
            if name and target:
                maps.append(f"{name}={target}")

    def lines(name: str) -> list[str]:
        return [line.strip() for line in _text(form, name).splitlines() if line.strip()]

    reading: dict[str, Any] = {"map": maps, "set": lines("set"), "unit": lines("unit"),
                               "date_format": _text(form, "date_format").strip()}
    return {k: v for k, v in reading.items() if v}


def _import_result(kind: str, report: ImportReport, upload: str | None,
                   reading: dict[str, Any]) -> dict[str, Any]:
    body = report.to_dict()
    return {**_import_page(kind), **_mapping(kind, body, reading), "report": body,
            "upload": upload, "reading": reading,
            "committable": bool(upload) and report.ok and not report.problems_omitted}


@router.get("/import")
async def import_form(request: Request) -> Response:
    actor = await page_actor(request)
    return html(request, "import.html", _import_page(), actor)


async def _form_actor(request: Request, form: FormData) -> Actor:
    actor = await page_actor(request)
    check_csrf(request, _text(form, "csrf"))
    require_writer(actor)
    return actor


async def import_check(request: Request, is_json: bool) -> Response:
    """Save the upload, dry-run it, and show the report (and a commit button if clean).

    The upload waits (a day) so its columns can be mapped and checked again: a form with
    ``upload`` instead of ``file`` checks the same file again with the new mapping."""
    form = await request.form(max_part_size=_MAX_UPLOAD)
    actor = None
    try:
        actor = await _form_actor(request, form)
        imports = bank_of(request).imports
        reading = _reading(form)
        if _text(form, "upload"):
            upload = await run_in_threadpool(imports.staged, actor, _text(form, "upload"))
            kind = upload.meta["kind"]
        else:
            kind = kind_spec(_text(form, "kind") or "sample").name
            sent = form.get("file")
            if not isinstance(sent, UploadFile) or not sent.filename:
                raise UsageError("choose a CSV, TSV or XLSX file to upload")
            upload = await run_in_threadpool(imports.stage, actor, kind, sent.filename)
            await save_upload(sent, upload.path)
    except LanhaiError as exc:
        return error(request, exc, is_json, actor)
    try:
        report = await run_in_threadpool(imports.check_staged, actor, upload, reading)
    except UsageError as exc:  # a mapping that does not fit the file: choose again
        data = {**_import_page(kind), "upload": upload.id, "reading": reading,
                "message": exc.message, "report": None}
        last = upload.meta.get("last_report")
        if isinstance(last, dict):
            data.update(_mapping(kind, last, reading))
        if is_json:
            return JSONResponse(data, status_code=exc.http_status)
        return html(request, "import.html", data, actor, status=exc.http_status)
    except LanhaiError as exc:
        return error(request, exc, is_json, actor)
    data = _import_result(kind, report, upload.id, reading)
    status = 200 if data["committable"] else 422
    if is_json:
        return JSONResponse(data, status_code=status)
    return html(request, "import.html", data, actor, status=status)


@router.post("/import/commit")
async def import_commit(request: Request) -> Response:
    form = await request.form()
    actor = None
    try:
        actor = await _form_actor(request, form)
        report = await run_in_threadpool(bank_of(request).imports.commit_staged, actor,
                                         _text(form, "upload"))
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    data = {**_import_result(report.kind, report, None, {}), "committed": report.committed}
    return html(request, "import.html", data, actor, status=200 if report.committed else 422)


twin(router, "/import", import_check, methods=("POST",))
