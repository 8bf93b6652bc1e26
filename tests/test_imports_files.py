"""Bulk import of files with the wrong shape: empty, header only, duplicate or ambiguous
headers, extra cells, CRLF + BOM, gzip (whole and truncated), a required field no column
gives, more problems than the report lists. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lanhai.imports import ImportOptions
from tests.support import CURATOR, catalog_on, run_import
from tests.support.data_files import cells, write

HEADER = ("samp_name,project_name,samp_taxon_id,collection_date,geo_loc_name,lat_lon,"
          "env_broad_scale,env_local_scale,env_medium,depth")
ROW = ('{name},OSD 2014,408172,2014-06-21,"Norway: Bergen",60.27 5.22,'
       "marine biome [ENVO:00000447],coastal water body [ENVO:02000049],"
       "sea water [ENVO:00002149],{depth}")


@pytest.mark.parametrize(("content", "expected"), [
    (b"", "the file is empty"),
    (HEADER.encode() + b"\n", "has a header but no data rows"),
    (b"\n\n  \n", "has no header row"),
])
def test_empty_files(engine: Engine, tmp_path: Path, content: bytes, expected: str) -> None:
    report = run_import(engine, CURATOR, write(tmp_path, "t.csv", content),
                        ImportOptions("sample"))
    assert len(report.problems) == 1 and report.problems[0].reason.startswith(expected)
    assert not report.committed


def test_header_and_row_shape_problems(engine: Engine, tmp_path: Path) -> None:
    text = "\n".join([HEADER + ",depth,notes", ROW.format(name="a", depth="1") + ",2,x",
                      ROW.format(name="b", depth="1") + ",2,x,surplus"])
    report = run_import(engine, CURATOR, write(tmp_path, "t.csv", text),
                        ImportOptions("sample"))
    assert cells(report) == [(1, "depth"), (3, "(column 13)")]
    assert "header of 2 columns (10, 11)" in report.problems[0].reason
    assert report.problems[1].value == "surplus"


def test_two_columns_meaning_one_field(engine: Engine, tmp_path: Path) -> None:
    text = "\n".join([HEADER + ",Sampling depth", ROW.format(name="a", depth="1") + ",2"])
    path = write(tmp_path, "t.csv", text)
    report = run_import(engine, CURATOR, path, ImportOptions("sample"))
    # the exact field name wins; the alias column is reported only when neither is exact
    assert report.committed
    alias = write(tmp_path, "u.csv", text.replace("depth,Sampling", "Depth (m),Sampling"))
    report = run_import(engine, CURATOR, alias, ImportOptions("sample"))
    assert cells(report) == [(1, "Sampling depth")]
    assert "--map" in report.problems[0].fix


def test_crlf_bom_gzip_and_blank_lines(engine: Engine, tmp_path: Path) -> None:
    text = "\r\n".join([HEADER, ROW.format(name="a", depth="1"), "",
                        ROW.format(name="b", depth="2 ft")]) + "\r\n"
    data = b"\xef\xbb\xbf" + text.encode()
    report = run_import(engine, CURATOR, write(tmp_path, "t.csv.gz", gzip.compress(data)),
                        ImportOptions("sample"))
    assert report.committed and report.created == 2, report.problems
    record = catalog_on(engine).get(CURATOR, report.accessions[1])
    assert record.fields["depth"] == [0.61, 0.61] and record.name == "b"
    truncated = write(tmp_path, "cut.csv.gz", gzip.compress(data * 200)[:-40])
    report = run_import(engine, CURATOR, truncated, ImportOptions("sample"))
    assert not report.committed
    assert "gzip file is truncated or corrupt" in report.problems[0].reason


def test_required_field_no_column_gives_is_reported_once(engine: Engine,
                                                         tmp_path: Path) -> None:
    text = "\n".join([HEADER.replace(",depth", ""),
                      *(ROW.format(name=f"s{i}", depth="").rstrip(",") for i in range(5))])
    report = run_import(engine, CURATOR, write(tmp_path, "t.csv", text),
                        ImportOptions("sample"))
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert problem.field == "depth" and "5 rows lack it (rows 2, 3, 4 … 6)" in problem.reason
    assert "--set depth=" in problem.fix


def test_problem_list_is_capped_but_counted(engine: Engine, tmp_path: Path) -> None:
    rows = [ROW.format(name=f"s{i}", depth="deep") for i in range(1200)]
    report = run_import(engine, CURATOR, write(tmp_path, "t.csv", "\n".join([HEADER, *rows])),
                        ImportOptions("sample"))
    assert len(report.problems) == 1000 and report.problems_omitted == 200
    assert report.to_dict()["problem_count"] == 1200
