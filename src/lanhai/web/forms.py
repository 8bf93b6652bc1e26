"""Pages with forms: sign in/out, edit a record, import a spreadsheet.

Every form carries a CSRF token (:mod:`lanhai.web.auth`) and answers a bad submission with
the form again, each problem shown beside its field or cell.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from lanhai.api.uploads import save_upload
from lanhai.bank import Bank
from lanhai.errors import (
    Conflict,
    LanhaiError,
    Problem,
    StaleVersion,
    UsageError,
    ValidationFailed,
)
from lanhai.kinds import KINDS, PLURALS, kind_spec
from lanhai.kinds.fields import KindSpec
from lanhai.model import Record
from lanhai.services.access import ANONYMOUS, Actor, require_user, require_writer
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

router = APIRouter(include_in_schema=False, tags=["web"])

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

def editable(spec: KindSpec, record: Record) -> list[dict[str, Any]]:
    """The form's fields: every field a curator may set, with its current value as text.

    Lists of events (a deposit's receipts, viability tests, furnishings) are changed with
    `lanhai deposit-event`, not here.
    """
    out = []
    for f in spec.fields:
        if f.name in spec.computed:
            continue
        value = record.fields.get(f.name)
        if isinstance(value, list) and any(isinstance(v, dict) for v in value):
            continue
        out.append({"name": f.name, "group": f.group, "required": f.required,
                    "description": f.description, "example": f.example,
                    "value": show(value)})
    order = {g: i for i, g in enumerate(dict.fromkeys(f["group"] for f in out))}
    return sorted(out, key=lambda f: order[f["group"]])  # each group once, as on the page


def _version(text: str) -> int | None:
    """The record version the form was opened on (absent from older forms)."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise UsageError(f"version {text!r} is not a record version; open the form again")
    return int(text)


def _edit_data(bank: Bank, actor: Actor, accession: str, version: int | None = None
               ) -> tuple[Record, dict[str, Any]]:
    """The form's data for ``accession``, as it is now or as it was at ``version``."""
    require_writer(actor)
    acc = check_accession(accession)
    record = (bank.catalog.get(actor, acc) if version is None
              else bank.catalog.at_version(actor, acc, version))
    spec = kind_spec(record.kind)
    return record, {"accession": record.accession, "kind": record.kind, "name": record.name,
                    "version": record.version, "fields": editable(spec, record),
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
    raw: dict[str, Any] = {}
    for item in data["fields"]:
        submitted = _text(form, f"f_{item['name']}").strip()
        if submitted != item["value"]:
            raw[item["name"]] = submitted
        item["value"] = submitted
    note = _text(form, "note").strip()[:500]
    data["note"] = note
    if not raw:
        return RedirectResponse(f"/records/{record.accession}", status_code=303)
    try:
        await run_in_threadpool(functools.partial(
            bank_of(request).catalog.update, actor, record.accession, raw, None, note or None,
            since_version=record.version))
    except StaleVersion as exc:
        # changed on both sides: the form again, on the current version, each field with
        # the curator's value and the one stored now
        data["problems"] = {p.field or "": p.to_dict() for p in exc.problems}
        data["message"] = exc.message
        data["version"] = exc.current
        return html(request, "edit.html", data, actor, status=409)
    except ValidationFailed as exc:
        data["problems"] = {p.field or "": p.to_dict() for p in exc.problems}
        data["message"] = exc.message
        return html(request, "edit.html", data, actor, status=422)
    except (Conflict, UsageError) as exc:
        data["message"] = exc.message
        return html(request, "edit.html", data, actor, status=exc.http_status)
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    return RedirectResponse(f"/records/{record.accession}/history", status_code=303)


# --- import --------------------------------------------------------------------------------

def _import_page(kind: str = "sample") -> dict[str, Any]:
    return {"kinds": [{"kind": k, "plural": PLURALS[k], "title": KINDS[k].title}
                      for k in KINDS], "kind": kind, "report": None, "upload": None,
            "committed": False}


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
    """Save the upload, dry-run it, and show the report (and a commit button if clean)."""
    form = await request.form(max_part_size=_MAX_UPLOAD)
    actor = None
    try:
        actor = await _form_actor(request, form)
        kind = kind_spec(_text(form, "kind") or "sample").name
        sent = form.get("file")
        if not isinstance(sent, UploadFile) or not sent.filename:
            raise UsageError("choose a CSV, TSV or XLSX file to upload")
        imports = bank_of(request).imports
        upload = await run_in_threadpool(imports.stage, actor, kind, sent.filename)
        await save_upload(sent, upload.path)
        report = await run_in_threadpool(imports.check_staged, actor, upload)
    except LanhaiError as exc:
        return error(request, exc, is_json, actor)
    body = report.to_dict()
    data = {**_import_page(kind), "report": body,
            "upload": upload.id if report.ok and not report.problems_omitted else None}
    status = 200 if data["upload"] else 422
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
    data = {**_import_page(report.kind), "report": report.to_dict(), "upload": None,
            "committed": report.committed}
    return html(request, "import.html", data, actor, status=200 if report.committed else 422)


twin(router, "/import", import_check, methods=("POST",))
