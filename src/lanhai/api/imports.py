"""API route for bulk import: ``POST /api/{kind}/import`` (multipart form).

Same engine and validation as ``lanhai import``. 200 with the report when the rows were
written (or a dry run found nothing wrong); 422 with the error envelope plus the report when
the file has problems, in which case nothing was written.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from lanhai.api import schemas
from lanhai.api.deps import BankDep, CuratorDep
from lanhai.api.errors import envelope
from lanhai.api.routing import api_router
from lanhai.api.uploads import save_upload
from lanhai.errors import UsageError
from lanhai.imports import ImportOptions
from lanhai.imports.mapping import apply_overrides, mapping_from_dict, parse_pairs
from lanhai.kinds import kind_spec

router = api_router(prefix="/api", tags=["imports"])

_MAX_MAPPING = 1 << 20


@router.post("/{kind}/import", summary="Bulk import a CSV, TSV or XLSX table",
             response_model=schemas.ImportReport, responses={
                 200: {"description": "Every row written (or, with dry_run, checked)"},
                 422: {"description": "The file has problems, each listed with the "
                                      "report; nothing was written (or the request itself "
                                      "is not valid: the envelope alone)",
                       "content": {"application/json": {"schema": {"anyOf": [
                           {"$ref": "#/components/schemas/ImportRefused"},
                           {"$ref": "#/components/schemas/Error"}]}}}}})
async def import_table(
    kind: str,
    bank: BankDep,
    actor: CuratorDep,
    file: UploadFile,
    mapping: UploadFile | None = None,
    map_: Annotated[list[str] | None, Form(alias="map", description=(
        "SOURCE=FIELD: read column SOURCE as FIELD (repeatable; FIELD '-' ignores it)"),
        examples=[["Sample name=samp_name", "Notes=-"]])] = None,
    set_: Annotated[list[str] | None, Form(alias="set", description=(
        "FIELD=VALUE: the same value on every row (repeatable)"),
        examples=[["samp_taxon_id=408172"]])] = None,
    unit: Annotated[list[str] | None, Form(description=(
        "FIELD=UNIT: unit of bare numbers, e.g. depth=ft (repeatable)"))] = None,
    date_format: Annotated[str | None, Form(description=(
        "strftime layout of non-ISO dates, e.g. %d-%m-%Y (never guessed)"),
        examples=["%d-%m-%Y"])] = None,
    encoding: Annotated[str | None, Form(description="text encoding, default UTF-8")] = None,
    delimiter: Annotated[str | None, Form(description="cell separator of a text table")] = None,
    sheet: Annotated[str | None, Form(description="XLSX sheet (default: the first)")] = None,
    mode: Annotated[str | None, Form(description="upsert (default), create or update")] = None,
    dry_run: Annotated[bool, Form(description="check and count; write nothing")] = False,
    note: Annotated[str | None, Form(description="note stored with every version")] = None,
) -> JSONResponse:
    """Import ``file`` as records of ``kind``: every row checked, all written or none.

    Needs a curator token. The optional ``mapping`` is a TOML mapping file; the form fields
    override it for the same field.
    """
    spec = kind_spec(kind)
    options = ImportOptions(kind=spec.name)
    if mapping is not None and mapping.filename:
        options = _mapping(await mapping.read(_MAX_MAPPING + 1), spec.name)
    options = apply_overrides(
        options, columns=parse_pairs(map_ or [], "--map", split_last=True),
        constants=parse_pairs(set_ or [], "--set"), units=parse_pairs(unit or [], "--unit"),
        date_format=date_format or None, encoding=encoding or None,
        delimiter=delimiter or None, sheet=sheet or None, mode=mode or None,
        dry_run=dry_run or None, note=note or None)
    with bank.uploads.receive(actor, file.filename, f"import {spec.name}") as upload:
        await save_upload(file, upload.path)
        report = await run_in_threadpool(bank.imports.run, actor, upload.path, options)
    body: dict[str, Any] = {"report": report.to_dict()}
    if report.ok and not report.problems_omitted:
        return JSONResponse(body["report"], status_code=200)
    count = body["report"]["problem_count"]
    error = envelope("invalid", f"{report.file} has {count} problem{'s' if count != 1 else ''}; "
                                "nothing was written",
                     [p.to_dict() for p in report.problems])
    return JSONResponse({**error, **body}, status_code=422)


def _mapping(data: bytes, kind: str) -> ImportOptions:
    import tomllib

    if len(data) > _MAX_MAPPING:
        raise UsageError("the mapping file is larger than 1 MB; a mapping is a few lines")
    try:
        parsed = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise UsageError(f"the mapping file is not valid UTF-8 TOML: {err}") from None
    return mapping_from_dict(parsed, kind, source="the mapping file")
