"""The funder's workbook of a quarter: a summary sheet, one sheet per task (every indicator
with its value, target, status and evidence count) and the breakdowns by district, sector
and task, in English and Chinese.

The workbook is a function of the period's snapshot alone, and is written byte for byte the
same every time: the document's times and every zip entry's time are the period's closing
time (or its last day for an open quarter), never the clock.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from lanhai.programme.progress import STATUS_EN, STATUS_ZH

COLUMNS = (
    ("Indicator", "指标"), ("Unit", "单位"), ("Baseline", "基线"), ("Target", "目标"),
    ("Target year", "目标年份"), ("Value", "当前值"), ("Status", "状态"),
    ("Projected", "预计"), ("Evidence", "证据数"), ("Method", "取得方式"),
    ("Responsible unit", "责任单位"), ("How counted", "统计口径"),
)
FILLS = {"achieved": "C6EFCE", "on_track": "DDEBF7", "needs_attention": "FFEB9C",
         "off_track": "FFC7CE", "tracked": "EDEDED", "no_data": "EDEDED"}
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


def _sheet_name(text: str, taken: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "", text.replace(" · ", " "))[:31].strip() or "Sheet"
    base, n = name, 2
    while name in taken:
        name = f"{base[:28]} {n}"
        n += 1
    taken.add(name)
    return name


def _fixed_time(snapshot: Mapping[str, Any]) -> dt.datetime:
    stamp = snapshot.get("closed_at") or f"{snapshot.get('as_of') or '2000-01-01'}T00:00:00"
    when = dt.datetime.fromisoformat(str(stamp))
    return when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def workbook(snapshot: Mapping[str, Any]) -> bytes:
    """The XLSX bytes of ``snapshot`` (as :meth:`ProgrammeService.snapshot` gives it)."""
    when = _fixed_time(snapshot)
    book = Workbook()
    book.properties.creator = "Lanhai"
    book.properties.title = f"{snapshot.get('title', '')} {snapshot.get('period', '')}"
    book.properties.created = when
    taken: set[str] = set()
    summary = book.active
    assert summary is not None
    summary.title = _sheet_name("Summary 总览", taken)
    summary.append([snapshot.get("title", ""), snapshot.get("title_zh", "")])
    summary["A1"].font = Font(bold=True, size=14)
    state = "closed 已关账" if snapshot.get("closed") else "open 未关账"
    summary.append(["Period 报告期", snapshot.get("period"), state])
    summary.append(["As of 截至", snapshot.get("as_of")])
    if snapshot.get("closed_at"):
        summary.append(["Closed 关账时间", snapshot.get("closed_at"), snapshot.get("closed_by")])
    if snapshot.get("sha256"):
        summary.append(["Snapshot SHA-256 快照校验值", snapshot.get("sha256")])
    summary.append([])
    header = ["Task 任务", "Indicators 指标数"] + [f"{STATUS_EN[s]} {STATUS_ZH[s]}"
                                                  for s in STATUS_EN]
    summary.append(header)
    for cell in summary[summary.max_row]:
        cell.font = _BOLD
    rows = list(snapshot.get("indicators", []))
    for task in snapshot.get("tasks", []):
        counts = task.get("summary", {})
        summary.append([f"{task['en']} {task['zh']}", sum(counts.values()),
                        *(counts.get(s, 0) for s in STATUS_EN)])
    totals = snapshot.get("summary", {})
    summary.append(["All 合计", sum(totals.values()), *(totals.get(s, 0) for s in STATUS_EN)])
    summary.append([])
    summary.append(["Responsible unit 责任单位", "Indicators 指标数"] +
                   [f"{STATUS_EN[s]} {STATUS_ZH[s]}" for s in STATUS_EN])
    for cell in summary[summary.max_row]:
        cell.font = _BOLD
    for unit in snapshot.get("by_unit", []):
        counts = unit.get("summary", {})
        summary.append([f"{unit['unit']} {unit.get('unit_zh') or ''}".strip(),
                        unit["indicators"], *(counts.get(s, 0) for s in STATUS_EN)])
    summary.column_dimensions["A"].width = 48
    for task in snapshot.get("tasks", []):
        sheet = book.create_sheet(_sheet_name(task["en"], taken))
        sheet.append([f"{task['en']} {task['zh']}"])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([f"{en} {zh}" for en, zh in COLUMNS])
        for cell in sheet[2]:
            cell.font = _BOLD
            cell.alignment = _WRAP
        for row in rows:
            if row["task"] != task["key"]:
                continue
            sheet.append([
                f"{row['en']} {row['zh']}", f"{row.get('unit', '')} {row.get('unit_zh', '')}"
                .strip(), _number(row.get("baseline_value")), row["target"]["text"],
                row.get("target_year"), _number(row.get("value")),
                f"{row['status_en']} {row['status_zh']}", _number(row.get("projected")),
                row.get("evidence", 0), row.get("method"),
                f"{row.get('responsible', '')} {row.get('responsible_zh', '')}".strip(),
                row.get("how", "")])
            status_cell = sheet.cell(row=sheet.max_row, column=7)
            status_cell.fill = PatternFill("solid", fgColor=FILLS.get(row["status"], "FFFFFF"))
        for letter, width in zip("ABCDEFGHIJKL", (46, 14, 10, 10, 8, 10, 18, 10, 9, 10, 30, 60),
                                 strict=True):
            sheet.column_dimensions[letter].width = width
        sheet.freeze_panes = "B3"
    breakdowns = book.create_sheet(_sheet_name("Breakdowns 分解", taken))
    breakdowns.append(["Indicator 指标", "By 维度", "Value 取值", "Count 数量"])
    for cell in breakdowns[1]:
        cell.font = _BOLD
    for row in rows:
        for by, counts in sorted((row.get("breakdown") or {}).items()):
            for value, n in sorted(counts.items()):
                breakdowns.append([row["key"], by, value or "(none 未填)", n])
    raw = io.BytesIO()
    book.save(raw)
    return _pinned(raw.getvalue(), when)


def _pinned(data: bytes, when: dt.datetime) -> bytes:
    """The zip ``data`` again with every entry's time and the document's modified time set
    to ``when``."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp.encode() + rb"\g<2>", body)
            pinned = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = 0o600 << 16
            target.writestr(pinned, body)
    return out.getvalue()
