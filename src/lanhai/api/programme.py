"""API routes of programme monitoring under ``/api/programme``: the indicators and their
history, the figures (live for the programme office and reporting units, published quarters
for everyone), the records behind each value, reported updates and their review, evidence
documents, closing a quarter and its funder's workbook."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import File, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from lanhai.api.deps import ActorDep, AdminDep, BankDep, UserDep, if_match_version
from lanhai.api.routing import api_router
from lanhai.model import MAX_KEY
from lanhai.services.programme import MAX_BEHIND, MAX_DOCUMENT

router = api_router(prefix="/api/programme", tags=["programme"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Key = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,62}$", description="The indicator's key")]
Period = Annotated[str, Path(pattern=r"^\d{4}-Q[1-4]$", description="A quarter: 2026-Q3")]
_BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}
UpdateId = Annotated[int, Path(ge=1, le=MAX_KEY, description="The update's number")]

def _example(*examples: Any) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


TARGET = {"min": 30.0, "max": None, "milestone": False, "above": False, "text": "≥ 30"}
SUMMARY = {"achieved": 1, "on_track": 0, "needs_attention": 0, "off_track": 0, "tracked": 0,
           "no_data": 0}
FIGURES: dict[str, Any] = {
    "key": "key_technologies", "task": "overall", "en": "Key technologies broken through",
    "zh": "突破关键核心技术", "unit": "technologies", "unit_zh": "项", "target": TARGET,
    "target_year": 2027, "baseline_date": "2024-12-31", "baseline_value": 0.0,
    "responsible": "Municipal Science and Technology Bureau", "responsible_zh": "市科技局",
    "method": "computed", "how": "achievement records with achievement_type=key_technology",
    "how_zh": "achievement 记录满足 achievement_type=key_technology", "source": "achievement",
    "value": 31.0, "series": [{"period": "2025-Q1", "value": 12.0},
                              {"period": "2025-Q2", "value": 31.0}],
    "status": "achieved", "status_en": "Achieved", "status_zh": "已完成", "projected": 31.0,
    "ratio": 1.033, "evidence": 31, "update": None}
PERIOD = {"period": "2025-Q2", "start": "2025-04-01", "end": "2025-06-30", "closed": True,
          "closed_at": "2025-07-10T09:00:00+00:00", "closed_by": "office", "sha256": "0" * 64,
          "pending": 0, "ended": True}
SNAPSHOT = {"title": "Synthetic biology industry action plan, 2025-2027",
            "title_zh": "合成生物产业发展行动计划（2025—2027年）", "year": 2027,
            "period": "2025-Q2", "as_of": "2025-06-30", "closed": True,
            "start": "2025-04-01", "end": "2025-06-30",
            "closed_at": "2025-07-10T09:00:00+00:00", "closed_by": "office",
            "sha256": "0" * 64,
            "tasks": [{"key": "overall", "en": "Overall targets", "zh": "总体目标",
                       "summary": SUMMARY}],
            "indicators": [FIGURES],
            "by_unit": [{"unit": "Municipal Science and Technology Bureau",
                         "unit_zh": "市科技局", "indicators": 1, "summary": SUMMARY}],
            "summary": SUMMARY}
COUNT = {"source": "achievement", "where": ["achievement_type=key_technology"], "any": [],
         "date": "appraised", "since_baseline": True}
DEFINITION = {"key": "key_technologies", "task": "overall", "en": FIGURES["en"],
              "zh": FIGURES["zh"], "unit": "technologies", "unit_zh": "项", "definition": "",
              "definition_zh": "", "target": TARGET, "target_year": 2027, "baseline": 0.0,
              "baseline_date": "2024-12-31", "responsible": FIGURES["responsible"],
              "responsible_zh": "市科技局", "units": [], "method": "computed", "count": COUNT,
              "per_year": False, "retired": False, "how": FIGURES["how"],
              "how_zh": FIGURES["how_zh"]}
UPDATE = {"id": 1, "indicator": "plant_medicine_centre", "period": "2025-Q2", "value": 1.0,
          "as_of": "2025-06-30",
          "evidence": [{"url": "https://example.gov.cn/notice", "title": "founding notice"}],
          "note": "", "unit": "LHOG0000001", "status": "submitted", "submitted_by": "mei",
          "submitted_at": "2025-07-02T08:00:00+00:00", "reviewed_by": None,
          "reviewed_at": None, "review_note": None, "version": 1}


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetOut(_Closed):
    min: float | None = None
    max: float | None = None
    milestone: bool
    above: bool
    text: str


class CountOut(_Closed):
    source: str
    where: list[str]
    any: list[str]
    date: str | None = None
    since_baseline: bool


class SeriesPoint(_Closed):
    period: str
    value: float | None = None
    update: int | None = None
    evidence: int | None = None


class Figures(_Closed):
    """One indicator's figures: value, series per quarter, status and evidence."""

    key: str
    task: str
    en: str
    zh: str
    unit: str
    unit_zh: str
    target: TargetOut
    target_year: int
    baseline_date: str | None = None
    baseline_value: float
    responsible: str
    responsible_zh: str
    method: str = Field(description="computed (counted from the bank) or reported")
    how: str
    how_zh: str
    source: str | None = None
    value: float | None = None
    series: list[SeriesPoint]
    status: str = Field(description="achieved, on_track, needs_attention, off_track, "
                                    "tracked or no_data")
    status_en: str
    status_zh: str
    projected: float | None = Field(default=None,
                                    description="the trend's value at the target year's end")
    ratio: float | None = Field(default=None, description="projected / target")
    evidence: int = Field(description="records behind a computed value, or documents and "
                                      "links behind a reported one")
    update: int | None = Field(default=None,
                               description="the approved update a reported value comes from")
    breakdown: dict[str, dict[str, int]] | None = None


class TaskSummary(_Closed):
    key: str
    en: str
    zh: str
    summary: dict[str, int]


class UnitSummary(_Closed):
    unit: str
    unit_zh: str
    indicators: int
    summary: dict[str, int]


class PeriodOut(_Closed):
    period: str
    start: str
    end: str
    closed: bool
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    sha256: str | None = None
    pending: int = Field(description="updates waiting for review (programme office)")
    ended: bool


class Snapshot(_Closed):
    """Every indicator's figures at a quarter: frozen when the quarter is closed."""

    model_config = _example(SNAPSHOT)

    title: str = ""
    title_zh: str = ""
    year: int | None = None
    period: str | None = None
    as_of: str | None = None
    closed: bool
    start: str | None = None
    end: str | None = None
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    sha256: str | None = None
    tasks: list[TaskSummary]
    indicators: list[Figures]
    by_unit: list[UnitSummary] = []
    summary: dict[str, int]
    periods: list[PeriodOut] | None = None


class Definition(_Closed):
    """An indicator's definition; its live figures for those who see them; its values in
    published quarters."""

    model_config = _example(DEFINITION)

    key: str
    task: str
    task_name: dict[str, str] | None = None
    en: str
    zh: str
    unit: str
    unit_zh: str
    definition: str
    definition_zh: str
    target: TargetOut
    target_year: int
    baseline: float
    baseline_date: str | None = None
    responsible: str
    responsible_zh: str
    units: list[str] = Field(description="organisations whose members report it (any when "
                                         "empty)")
    method: str
    count: CountOut | None = None
    per_year: bool
    retired: bool
    how: str
    how_zh: str
    live: Figures | None = None
    published: list[dict[str, Any]] = []
    version: int | None = None


class Definitions(_Closed):
    model_config = _example({"title": SNAPSHOT["title"], "title_zh": SNAPSHOT["title_zh"],
                             "year": 2027, "start": "2025-Q1",
                             "tasks": [{"key": "overall", "en": "Overall targets",
                                        "zh": "总体目标"}], "indicators": [DEFINITION]})

    title: str
    title_zh: str
    year: int
    start: str
    tasks: list[dict[str, str]]
    indicators: list[Definition]


class Version(_Closed):
    key: str
    version: int
    definition: dict[str, Any]
    changed_by: str
    changed_at: dt.datetime | None = None
    reason: str


class Versions(_Closed):
    model_config = _example({"versions": [{"key": "strains", "version": 1,
                                           "definition": {"key": "strains", "target": 41000},
                                           "changed_by": "root",
                                           "changed_at": "2026-03-01T10:00:00+00:00",
                                           "reason": "mid-term review"}]})

    versions: list[Version]


class Periods(_Closed):
    model_config = _example({"periods": [PERIOD]})

    periods: list[PeriodOut]


class Behind(_Closed):
    """What a value rests on: the records counted, or the approved update."""

    model_config = _example({"indicator": "key_technologies", "method": "computed",
                             "period": "2025-Q2", "total": 2, "offset": 0,
                             "records": ["LHAC0000001", "LHAC0000002"]})

    indicator: str
    method: str
    period: str | None = None
    source: str | None = None
    total: int | None = None
    offset: int | None = None
    records: list[str] | None = None
    update: dict[str, Any] | None = None


class UpdateOut(_Closed):
    model_config = _example(UPDATE)

    id: int
    indicator: str
    period: str
    value: float
    as_of: str
    evidence: list[dict[str, str]]
    note: str
    unit: str | None = None
    status: str = Field(description="submitted, approved or returned")
    submitted_by: str
    submitted_at: dt.datetime
    reviewed_by: str | None = None
    reviewed_at: dt.datetime | None = None
    review_note: str | None = None
    version: int


class Updates(_Closed):
    model_config = _example({"updates": [UPDATE]})

    updates: list[UpdateOut]


class Evidence(_Closed):
    """One piece of evidence: a link, a record of the bank or an uploaded document."""

    url: str | None = Field(default=None, max_length=2000)
    record: str | None = Field(default=None, max_length=16)
    document: str | None = Field(default=None, max_length=300)
    sha256: str | None = Field(default=None, max_length=64)
    title: str = Field(default="", max_length=300)


class NewUpdate(_Closed):
    """A reported value with its evidence."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"indicator": "plant_medicine_centre", "period": "2026-Q3", "value": 1,
         "evidence": [{"url": "https://example.gov.cn/notice", "title": "founding notice"}]}]})

    indicator: str = Field(max_length=64)
    period: str = Field(max_length=10, description="The quarter, e.g. 2026-Q3")
    value: float = Field(ge=0, le=1e15, description="The value at the quarter's end (1 = yes "
                                                    "for a milestone)")
    as_of: str | None = Field(default=None, max_length=10,
                              description="The day observed, within the quarter")
    evidence: list[Evidence] = Field(min_length=1, max_length=50)
    note: str = Field(default="", max_length=5000)


class ChangedUpdate(_Closed):
    """The parts of an update a reporting unit corrects."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"value": 2, "note": "a second centre was recognised in June"}]})

    period: str | None = Field(default=None, max_length=10)
    value: float | None = Field(default=None, ge=0, le=1e15)
    as_of: str | None = Field(default=None, max_length=10)
    evidence: list[Evidence] | None = Field(default=None, min_length=1, max_length=50)
    note: str | None = Field(default=None, max_length=5000)


class Review(_Closed):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"decision": "approve"}, {"decision": "return", "note": "attach the notice"}]})

    decision: str = Field(description="approve or return")
    note: str = Field(default="", max_length=5000)


class Edit(_Closed):
    """An admin's change of an indicator: the parts that change, and why."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"changes": {"target": 35}, "reason": "raised at the mid-term review"}]})

    changes: dict[str, Any] = Field(description="definition parts: target, baseline, "
                                                "responsible, count …")
    reason: str = Field(min_length=1, max_length=2000)


class Closing(_Closed):
    model_config = _example({"period": "2025-Q2", "closed_at": "2025-07-10T09:00:00+00:00",
                             "closed_by": "office", "sha256": "0" * 64,
                             "public_sha256": "1" * 64, "indicators": 47})

    period: str
    closed_at: dt.datetime
    closed_by: str
    sha256: str = Field(description="the digest of the snapshot over every record")
    public_sha256: str = Field(description="the digest of the published snapshot over the "
                                           "records anyone may see")
    indicators: int


class Document(_Closed):
    model_config = _example({"document": "notice.pdf", "sha256": "0" * 64, "size": 2048})

    document: str
    sha256: str
    size: int


def _evidence(items: list[Evidence] | None) -> list[dict[str, Any]] | None:
    if items is None:
        return None
    return [i.model_dump(exclude_none=True) for i in items]


@router.get("", summary="The programme's figures", response_model=Snapshot)
def overview(actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """Live figures of every indicator for the programme office and reporting units; the
    latest published (closed) quarter for everyone else; the quarters reported on."""
    return bank.programme.overview(actor)


@router.get("/indicators", summary="Every indicator's definition", response_model=Definitions)
def indicators(actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """Each target of the plan with its unit, baseline, target, responsible unit and how its
    value is counted (a declared query over the bank) or reported."""
    del actor  # a bad token is refused here as everywhere
    programme = bank.programme.programme()
    return {"title": programme.title, "title_zh": programme.title_zh,
            "year": programme.year, "start": programme.start,
            "tasks": [{"key": t.key, "en": t.en, "zh": t.zh} for t in programme.tasks],
            "indicators": [i.to_dict() for i in programme.indicators]}


@router.get("/indicators/{key}", summary="One indicator", response_model=Definition)
def indicator(key: Key, actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """Its definition, its values in published quarters and, for the programme office and
    reporting units, its live figures with the breakdown by district, sector and task."""
    return bank.programme.indicator(actor, key)


@router.put("/indicators/{key}", summary="Change or add an indicator (admins)",
            response_model=Definition)
def edit_indicator(key: Key, body: Edit, actor: AdminDep, bank: BankDep) -> dict[str, Any]:
    """The whole new definition is checked (a range's minimum above its maximum, an unknown
    field in a count …) and kept as a new version; closed quarters keep the definition they
    were closed with."""
    return bank.programme.edit(actor, key, body.changes, body.reason)


@router.get("/indicators/{key}/history", summary="Every version of an indicator",
            response_model=Versions)
def history(key: Key, actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """Version 0 is the shipped definition; each admin edit adds one."""
    return {"versions": bank.programme.history(actor, key)}


@router.get("/indicators/{key}/records", summary="What a value rests on",
            response_model=Behind)
def behind(key: Key, actor: ActorDep, bank: BankDep,
           period: Annotated[str | None, Query(pattern=r"^\d{4}-Q[1-4]$",
                                               description="A closed quarter; live when "
                                                           "left out")] = None,
           limit: Annotated[int, Query(ge=1, le=MAX_BEHIND)] = 100,
           offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> dict[str, Any]:
    """The records a computed value counts (those the caller may see) or the approved
    update a reported value comes from."""
    return bank.programme.behind(actor, key, period, limit, offset)


@router.get("/periods", summary="The quarters reported on", response_model=Periods)
def periods(actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """Closed (published) quarters for everyone; open ones, with their pending updates,
    for the programme office and reporting units."""
    return {"periods": bank.programme.periods(actor)}


@router.get("/periods/{period}", summary="A quarter's figures", response_model=Snapshot)
def period(period: Period, actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """A closed quarter's frozen snapshot, or an open one's live figures (programme office
    and reporting units)."""
    return bank.programme.snapshot(actor, period)


@router.post("/periods/{period}/close", summary="Close a quarter (programme office)",
             response_model=Closing)
def close(period: Period, actor: UserDep, bank: BankDep) -> dict[str, Any]:
    """Freeze an ended quarter with no update waiting for review: its figures and the
    records behind them never change afterwards."""
    return bank.programme.close(actor, period)


@router.get("/periods/{period}/report.xlsx", summary="The funder's workbook of a quarter",
            response_class=Response,
            responses={200: {"content": {XLSX: _BINARY}, "description": "The workbook"}})
def report(period: Period, actor: ActorDep, bank: BankDep) -> Response:
    """One sheet per task (value, target, status, evidence count of every indicator), a
    summary and the breakdowns; for a closed quarter byte-identical every time."""
    data = bank.programme.report_xlsx(actor, period)
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="lanhai-programme-{period}.xlsx"'})


@router.get("/updates", summary="Reported updates", response_model=Updates)
def updates(actor: UserDep, bank: BankDep,
            indicator: Annotated[str | None, Query(max_length=64)] = None,
            status: Annotated[str | None, Query(pattern="^(submitted|approved|returned)$")
                              ] = None,
            period: Annotated[str | None, Query(pattern=r"^\d{4}-Q[1-4]$")] = None
            ) -> dict[str, Any]:
    """Every update for the programme office; a reporting unit's own; none for others."""
    return {"updates": bank.programme.updates(actor, indicator=indicator, status=status,
                                              period=period)}


@router.post("/updates", status_code=201, summary="Submit an update (reporting units)",
             response_model=UpdateOut)
def submit(body: NewUpdate, actor: UserDep, bank: BankDep) -> JSONResponse:
    """A value of a reported indicator at a quarter's end, with evidence; it counts once
    the programme office approves it. Refused for a closed quarter."""
    made = bank.programme.submit(actor, body.indicator, period=body.period, value=body.value,
                                 evidence=_evidence(body.evidence) or [], note=body.note,
                                 as_of=body.as_of)
    return JSONResponse(made, status_code=201, headers={
        "Location": f"/api/programme/updates/{made['id']}", "ETag": f'"{made["version"]}"'})


@router.get("/updates/{update_id}", summary="One update", response_model=UpdateOut)
def get_update(update_id: UpdateId, actor: UserDep, bank: BankDep) -> dict[str, Any]:
    """Its reporting unit's members and the programme office (404 for anyone else)."""
    return bank.programme.get_update(actor, update_id)


@router.put("/updates/{update_id}", summary="Correct an update (its reporting unit)",
            response_model=UpdateOut)
def change_update(update_id: UpdateId, body: ChangedUpdate, actor: UserDep, bank: BankDep,
                  request: Request) -> dict[str, Any]:
    """A submitted or returned update is corrected and goes back for review; send
    If-Match with the version read to be told when someone changed it first."""
    version = if_match_version(request.headers.get("if-match"))
    return bank.programme.change_update(actor, update_id, version=version, period=body.period,
                                        value=body.value, evidence=_evidence(body.evidence),
                                        note=body.note, as_of=body.as_of)


@router.post("/updates/{update_id}/review", summary="Approve or return an update "
             "(programme office)", response_model=UpdateOut)
def review(update_id: UpdateId, body: Review, actor: UserDep, bank: BankDep) -> dict[str, Any]:
    """Approved, it counts; returned, its unit sees the note saying what to fix."""
    return bank.programme.review(actor, update_id, body.decision, body.note)


@router.post("/documents", status_code=201, summary="Upload an evidence document",
             response_model=Document)
async def upload(actor: UserDep, bank: BankDep,
                 file: Annotated[UploadFile, File(description="The document (PDF, scan, "
                                                  "spreadsheet), at most 20 MB")]
                 ) -> dict[str, Any]:
    """Keep a document (notice, certificate, scan) to cite in an update's evidence by its
    name and SHA-256."""
    data = await file.read(MAX_DOCUMENT + 1)
    result: dict[str, Any] = await run_in_threadpool(
        bank.programme.save_document, actor, file.filename or "", data)
    return result


@router.get("/documents/{sha256}", summary="An evidence document", response_class=Response,
            responses={200: {"content": {"application/octet-stream": _BINARY},
                             "description": "The document"}})
def document(sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")], actor: UserDep,
             bank: BankDep) -> Response:
    """To the programme office and reporting units."""
    return Response(bank.programme.document(actor, sha256),
                    media_type="application/octet-stream")
