"""Reading tables: encodings, line endings, delimiters, row numbers and broken files.
No database: these are about the bytes."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from lanhai.errors import UsageError
from lanhai.imports import ImportOptions
from lanhai.imports.columns import Template, build_plan
from lanhai.imports.mapping import resolve_options
from lanhai.imports.reader import open_table
from lanhai.kinds import kind_spec


def read(path: Path, **options: Any) -> tuple[list[str], list[tuple[int, list[Any]]], list[str]]:
    """(header, [(row, cells)], [problem reasons]) of a table."""
    with open_table(path, **options) as table:
        rows = [(row.number, list(row.cells)) for row in table.rows()]
        reasons = [p.reason for p in table.problems]
        return table.header, rows, reasons


def test_bom_crlf_and_blank_lines_keep_spreadsheet_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"\xef\xbb\xbfName,Depth\r\na,1\r\n\r\n\"b\r\nc\",2\r\nd,3\r\n")
    header, rows, problems = read(path)
    assert header == ["Name", "Depth"] and problems == []
    # the quoted cell spans two lines but is one row, as in a spreadsheet
    assert rows == [(2, ["a", "1"]), (4, ["b\r\nc", "2"]), (5, ["d", "3"])]


def test_utf16_from_excel_unicode_text(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes("名称\t深度\n海水\t5 m\n".encode("utf-16"))
    header, rows, _ = read(path)
    assert header == ["名称", "深度"] and rows == [(2, ["海水", "5 m"])]


@pytest.mark.parametrize(("text", "delimiter", "expected"), [
    ("a;b\n1;2\n", None, ["1", "2"]),
    ("a\tb\n1\t2\n", None, ["1", "2"]),
    ("a|b\n1|2\n", "|", ["1", "2"]),
    ("a\tb\n1\t2\n", "tab", ["1", "2"]),
    ("a\tb\n1\t2\n", "\\t", ["1", "2"]),
])
def test_delimiter_sniffed_or_given(tmp_path: Path, text: str, delimiter: str | None,
                                    expected: list[str]) -> None:
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    assert read(path, delimiter=delimiter)[1] == [(2, expected)]


def test_non_utf8_bytes_are_named_by_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"name,place\nA,Brest\nB,Gen\xe8ve \x96 Lac L\xe9man\n")
    with open_table(path) as table:
        rows = list(table.rows())
    problem = rows[1].problems[0]
    assert (problem.row, problem.column) == (3, "place")
    assert problem.reason == "has bytes 0xE8, 0x96, 0xE9 that are not valid UTF-8"
    assert rows[1].cells[1] == "Gen\ufffdve \ufffd Lac L\ufffdman"
    _, cp1252, _ = read(path, encoding="cp1252")
    assert cp1252[1][1][1] == "Genève – Lac Léman"


def test_unclosed_quote_stops_with_the_row(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('a,b\n1,2\n3,"oops\n5,6\n', encoding="utf-8")
    _, rows, problems = read(path)
    assert rows == [(2, ["1", "2"])]
    assert problems == ["has a quote (\") that opens a cell and is never closed"]
    with open_table(path) as table:
        list(table.rows())
        assert table.problems[0].row == 3 and "quotes" in table.problems[0].fix


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("t.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "old Excel .xls"),
    ("t.ods", b"PK\x03\x04rest", "OpenDocument"),
    ("t.xlsx", b"name,depth\n", "is not an XLSX workbook"),
    ("t.csv.gz", b"name,depth\n", "is named .gz but is not gzip-compressed"),
    ("t.csv.gz", gzip.compress(b"PK\x03\x04 a workbook"), "is a compressed workbook"),
    ("t.csv", b"", "the file is empty"),
    ("t.csv.gz", gzip.compress(b""), "the file is empty"),
])
def test_files_that_cannot_be_tables(tmp_path: Path, name: str, content: bytes,
                                     reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    header, rows, problems = read(path)
    assert header == [] and rows == []
    assert len(problems) == 1 and reason in problems[0]


def test_xlsx_rows_keep_sheet_numbers_and_types(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"], sheet["B1"], sheet["C1"] = " Name ", "Depth", None
    sheet["A2"], sheet["B2"] = "a", 10
    sheet["A5"], sheet["B5"], sheet["D5"] = "b", 2.5, "surplus"
    path = tmp_path / "t.xlsx"
    book.save(path)
    with open_table(path) as table:
        rows = list(table.rows())
    assert table.header == ["Name", "Depth"]
    assert [(r.number, list(r.cells[:2])) for r in rows] == [(2, ["a", 10]), (5, ["b", 2.5])]
    assert rows[1].problems[0].column == "(column 4)"
    with pytest.raises(UsageError, match="has no sheet 'Data'; its sheets are: 'Sheet'"):
        read(path, sheet="Data")


def test_bad_reader_options_are_usage_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(UsageError, match="unknown encoding"):
        read(path, encoding="klingon")
    with pytest.raises(UsageError, match="one character"):
        read(path, delimiter="::")
    with pytest.raises(UsageError, match="--sheet applies to XLSX"):
        read(path, sheet="x")


def test_templates_combine_cells() -> None:
    spec = kind_spec("sample")
    header = ["Latitude", "Longitude", "Biome", "Biome id"]
    options = resolve_options(ImportOptions("sample", templates={
        "lat_lon": "{Latitude} {longitude}", "env_broad_scale": "{Biome} [{Biome id}] {{x}}"}))
    plan = build_plan(spec, header, 1, options)
    raw = plan.raw(["48.7", -3.9, "marine biome", "ENVO:00000447"], keep_blank=False)
    assert raw == {"lat_lon": "48.7 -3.9",
                   "env_broad_scale": "marine biome [ENVO:00000447] {x}"}
    assert plan.raw(["", None, "", "not collected"], keep_blank=True) == {
        "lat_lon": None, "env_broad_scale": "not collected"}
    assert plan.ignored == []
    assert isinstance(plan.templates[0][1], Template)
    with pytest.raises(UsageError, match="unmatched brace"):
        build_plan(spec, header, 1, resolve_options(ImportOptions(
            "sample", templates={"lat_lon": "{Latitude} {Longitude"})))
    with pytest.raises(UsageError, match="names no column"):
        build_plan(spec, header, 1, resolve_options(ImportOptions(
            "sample", templates={"lat_lon": "48 -3"})))
