"""Bulk import from the curator's side: a real public table through a mapping, every bad
cell reported, all-or-nothing, idempotent re-import, batch update, dry run, XLSX.
Runs on SQLite and on PostgreSQL (``engine`` fixture)."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from lanhai.db.schema import metadata, versions
from lanhai.errors import Forbidden, Unauthorized, UsageError
from lanhai.imports import ImportOptions
from lanhai.imports.mapping import apply_overrides, load_mapping
from lanhai.services.access import ANONYMOUS, Actor
from tests.support import ADMIN, CURATOR, catalog_on, run_import
from tests.support.data_files import bats_workbook, cells, write

DATA = Path(__file__).parent / "data" / "imports"
BATS = DATA / "bats_samples.tsv"
BATS_MAPPING = DATA / "bats_samples.toml"


def bats_options(**changes: Any) -> ImportOptions:
    return apply_overrides(load_mapping(BATS_MAPPING), **changes)


def snapshot(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every catalog table, in key order (to prove nothing changed)."""
    out = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns)
            rows = conn.execute(select(table).order_by(*order)).all()
            out[table.name] = [tuple(repr(v) for v in row) for row in rows]
    return out


def version_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(versions)).scalar_one())


# --- a real public table through a mapping ----------------------------------------------------

def test_bats_slice_imports_through_its_mapping(engine: Engine) -> None:
    seen: list[int] = []
    report = run_import(engine, CURATOR, BATS, bats_options(), seen.append)
    assert report.problems == []
    assert (report.rows, report.created, report.committed) == (20, 20, True)
    assert report.ignored_columns == ["samplingEvent_ID", "bottle_id", "cruise_id"]
    assert report.accessions[0] == "LHSM0000001" and len(report.accessions) == 20
    assert seen[-1] == 20
    # first data row of the source: S0567, 22-04-2003, 10 m, 31.66 -64.16, ENVO purls
    record = catalog_on(engine).get(CURATOR, "LHSM0000001")
    assert record.name == "S0567"
    assert record.identifiers == ["SAMN07137064", "SRS2299015",
                                  "BATS Chisholm (PRJNA385855):S0567"]
    fields = record.fields
    assert fields["collection_date"] == "2003-04-22"
    assert fields["lat_lon"] == [31.66, -64.16] and fields["depth"] == [10.0, 10.0]
    assert fields["env_broad_scale"] == "marine biome [ENVO:00000447]"
    assert fields["env_local_scale"] == "ocean [ENVO:00000015]"
    assert fields["env_medium"] == "sea water [ENVO:00002149]"
    assert fields["geo_loc_name"] == "Atlantic Ocean: Sargasso Sea, BATS"
    assert fields["samp_taxon_id"] == 408172
    assert record.version == 1 and record.created_by == "ana"


def test_reimporting_the_same_file_changes_nothing(engine: Engine) -> None:
    run_import(engine, CURATOR, BATS, bats_options())
    before, count = snapshot(engine), version_count(engine)
    again = run_import(engine, CURATOR, BATS, bats_options())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 20)
    assert again.committed and again.accessions == []
    assert version_count(engine) == count
    assert snapshot(engine) == before


def test_dates_are_never_guessed(engine: Engine, tmp_path: Path) -> None:
    report = run_import(engine, CURATOR, BATS, replace(bats_options(), date_format=None))
    assert not report.committed and report.created == 0
    assert cells(report) == [(row, "collection_date") for row in range(2, 22)]
    first = report.problems[0]
    assert first.value == "22-04-2003" and "--date-format" in first.fix
    # 05-10-2010 in a plain CSV: reported, and read as 5 October with the format
    line = ("samp_name,project_name,samp_taxon_id,collection_date,geo_loc_name,lat_lon,"
            "env_broad_scale,env_local_scale,env_medium,depth\n"
            "D1,OSD,408172,05-10-2010,Norway,60.2 5.2,ENVO:00000447,ENVO:00000015,"
            "ENVO:00002149,1\n")
    path = write(tmp_path, "dates.csv", line)
    plain = run_import(engine, CURATOR, path, ImportOptions("sample"))
    assert cells(plain) == [(2, "collection_date")]
    assert "ambiguous" in plain.problems[0].reason
    dated = run_import(engine, CURATOR, path, ImportOptions("sample", date_format="%d-%m-%Y"))
    assert dated.committed
    record = catalog_on(engine).get(CURATOR, dated.accessions[0])
    assert record.fields["collection_date"] == "2010-10-05"


# --- a malformed file leaves the bank exactly as it was --------------------------------------

def test_malformed_file_reports_every_bad_cell_and_writes_nothing(engine: Engine) -> None:
    run_import(engine, CURATOR, BATS, bats_options())
    before = snapshot(engine)
    report = run_import(engine, CURATOR, DATA / "malformed_samples.csv",
                        ImportOptions("sample"))
    assert not report.committed
    assert cells(report) == [
        (3, "samp_taxon_id"),       # 'marine metagenome' is not a taxid
        (4, "env_medium"),          # required, empty
        (5, "lat_lon"),             # latitude 131.66
        (6, "biosample"),           # SAMN07137101 again (row 2)
        (7, "geo_loc_name"),        # byte 0xE9: the file is not UTF-8
        (8, "collection_date"),     # 05-10-2010 without --date-format
        (8, "depth"),               # -5 m
    ]
    by_row = {p.row: p for p in report.problems}
    assert by_row[6].value == "SAMN07137101" and "row 2" in by_row[6].reason
    assert by_row[7].value == "Oc\ufffdan Atlantique: mer des Sargasses"
    assert "0xE9" in by_row[7].reason and "--encoding latin-1" in by_row[7].fix
    assert by_row[5].value == "131.66 -64.16"
    assert all(p.fix for p in report.problems)
    assert snapshot(engine) == before


def test_latin1_file_imports_with_its_encoding(engine: Engine, tmp_path: Path) -> None:
    raw = (DATA / "malformed_samples.csv").read_bytes().splitlines()
    path = write(tmp_path, "latin1.csv", b"\n".join([raw[0], raw[6]]))
    report = run_import(engine, CURATOR, path, ImportOptions("sample", encoding="latin-1"))
    assert report.committed, report.problems
    record = catalog_on(engine).get(CURATOR, report.accessions[0])
    assert record.fields["geo_loc_name"] == "Océan Atlantique: mer des Sargasses"


def test_bad_smiles_is_reported_and_nothing_is_written(engine: Engine, tmp_path: Path) -> None:
    options = ImportOptions("compound", templates={
        "source_ids": "{mibig_accession};{database_ids}"})
    good = run_import(engine, CURATOR, DATA / "mibig_salinispora.tsv", options)
    assert good.committed and good.created == 3, good.problems
    salinosporamide = catalog_on(engine).get(CURATOR, good.accessions[2])
    # python -c "from rdkit import Chem; print(Chem.MolToInchiKey(Chem.MolFromSmiles(
    #   '[H][C@](O)([C@@]1([H])CCCC=C1)[C@@]12NC(=O)[C@H](CCCl)[C@]1(C)OC2=O')))"
    assert salinosporamide.fields["inchikey"] == "NGWSFRIPKNWYAO-SHTIJGAHSA-N"
    before = snapshot(engine)
    text = (DATA / "mibig_salinispora.tsv").read_text(encoding="utf-8")
    broken = text.replace("[C@]1(C)OC2=O\t", "[C@]1(C)OC2=O)\t")  # a stray ')'
    assert broken != text
    path = write(tmp_path, "mibig_bad.tsv", broken)
    report = run_import(engine, CURATOR, path, options)
    assert cells(report) == [(4, "chem_struct_smiles")]
    assert "RDKit" in report.problems[0].reason
    assert snapshot(engine) == before


def test_xlsx_import_reads_the_named_sheet(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "bats.xlsx"
    bats_workbook(path)
    report = run_import(engine, CURATOR, path, bats_options(sheet="samples"))
    assert report.committed and report.created == 20, report.problems
    record = catalog_on(engine).get(CURATOR, "LHSM0000001")
    assert record.fields["collection_date"] == "2003-04-22"
    assert record.fields["depth"] == [10.0, 10.0] and record.fields["lat_lon"] == [31.66, -64.16]
    # the same rows from the TSV are the same records, unchanged
    again = run_import(engine, CURATOR, BATS, bats_options())
    assert (again.created, again.unchanged) == (0, 20)
    with pytest.raises(UsageError, match="'notes', 'samples'"):
        run_import(engine, CURATOR, path, bats_options(sheet="Sheet9"))


def test_truncated_xlsx_is_a_problem_not_a_crash(engine: Engine, tmp_path: Path) -> None:
    run_import(engine, CURATOR, BATS, bats_options())
    before = snapshot(engine)
    whole = tmp_path / "whole.xlsx"
    bats_workbook(whole)
    data = whole.read_bytes()
    cut = write(tmp_path, "cut.xlsx", data[: len(data) // 2])
    report = run_import(engine, CURATOR, cut, bats_options(sheet="samples"))
    assert not report.committed and len(report.problems) == 1
    assert "truncated or corrupt" in report.problems[0].reason
    # a workbook whose sheet stops half-way: rows before the break are checked, then reported
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                content = content[: len(content) // 2]
            dst.writestr(item, content)
    report = run_import(engine, CURATOR, broken, bats_options(sheet="samples"))
    assert not report.committed and report.rows > 0
    assert "reading stopped after row" in report.problems[-1].reason
    assert snapshot(engine) == before


# --- identity: upsert, create, update -------------------------------------------------------

def test_upsert_updates_changed_rows_and_keeps_restriction(engine: Engine,
                                                           tmp_path: Path) -> None:
    run_import(engine, CURATOR, BATS, bats_options())
    service = catalog_on(engine)
    service.update(CURATOR, "LHSM0000002", {"restricted": "yes"})
    text = BATS.read_text(encoding="utf-8").replace("\t80\t", "\t85\t", 1)
    report = run_import(engine, CURATOR, write(tmp_path, "b.tsv", text), bats_options())
    assert (report.created, report.updated, report.unchanged) == (0, 1, 19)
    assert report.accessions == ["LHSM0000002"]
    record = service.get(CURATOR, "LHSM0000002")
    assert record.fields["depth"] == [85.0, 85.0] and record.restricted
    assert record.version == 3


def test_create_mode_refuses_existing_records(engine: Engine) -> None:
    run_import(engine, CURATOR, BATS, bats_options())
    report = run_import(engine, CURATOR, BATS, bats_options(mode="create"))
    assert not report.committed and len(report.problems) == 20
    first = report.problems[0]
    assert (first.row, first.column, first.record) == (2, "BioSample", "LHSM0000001")


def test_identifiers_of_two_records_on_one_row(engine: Engine, tmp_path: Path) -> None:
    run_import(engine, CURATOR, BATS, bats_options())
    lines = BATS.read_text(encoding="utf-8").splitlines()
    # row 2 keeps its BioSample but carries the SRA run of the record on row 3
    lines[1] = lines[1].replace("SRS2299015", "SRS2299016")
    report = run_import(engine, CURATOR, write(tmp_path, "x.tsv", "\n".join(lines[:3])),
                        bats_options())
    assert cells(report) == [(2, None), (3, "SRA")]
    assert "LHSM0000001" in report.problems[0].reason
    assert "LHSM0000002" in report.problems[0].reason
    assert "is also an identifier on row 2" in report.problems[1].reason


def test_batch_update_changes_only_given_columns(engine: Engine, tmp_path: Path) -> None:
    run_import(engine, CURATOR, BATS, bats_options())
    before = catalog_on(engine).get(CURATOR, "LHSM0000003")
    path = write(tmp_path, "fix.csv", "BioSample,depth,temp,geo_loc_name\n"
                                      "SAMN07137066,185 m,19.5,\n"
                                      "SAMN07137067,,21.0,\n"
                                      "SAMN99999999,5,,\n")
    report = run_import(engine, CURATOR, path, ImportOptions("sample", mode="update"))
    assert cells(report) == [(4, None)]
    assert "matches no sample" in report.problems[0].reason
    assert not report.committed
    ok = write(tmp_path, "fix2.csv", "\n".join(path.read_text().splitlines()[:3]))
    report = run_import(engine, CURATOR, ok, ImportOptions("sample", mode="update",
                                                           note="CTD recalibration"))
    assert (report.updated, report.committed) == (2, True), report.problems
    after = catalog_on(engine).get(CURATOR, "LHSM0000003")
    assert after.fields["depth"] == [185.0, 185.0] and after.fields["temp"] == 19.5
    assert {k: v for k, v in after.fields.items() if k not in ("depth", "depth_m", "temp")} \
        == {k: v for k, v in before.fields.items() if k not in ("depth", "depth_m")}
    history = catalog_on(engine).history(CURATOR, "LHSM0000003")
    assert history[-1].note == "CTD recalibration"
    assert set(history[-1].changes) == {"depth", "depth_m", "temp"}


def test_batch_update_by_accession_column(engine: Engine, tmp_path: Path) -> None:
    run_import(engine, CURATOR, BATS, bats_options())
    path = write(tmp_path, "edit.csv", "accession,isolation_source\n"
                                       "lhsm0000001,Niskin bottle 1\n"
                                       "LHSM0000999,Niskin bottle 2\n")
    report = run_import(engine, CURATOR, path, ImportOptions("sample", mode="update"))
    assert cells(report) == [(3, "accession")]
    fixed = write(tmp_path, "edit2.csv", "accession,isolation_source\n"
                                         "lhsm0000001,Niskin bottle 1\n")
    report = run_import(engine, CURATOR, fixed, ImportOptions("sample", mode="update"))
    assert report.updated == 1
    record = catalog_on(engine).get(CURATOR, "LHSM0000001")
    assert record.fields["isolation_source"] == "Niskin bottle 1"


def test_dry_run_counts_and_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    before = snapshot(engine)
    report = run_import(engine, CURATOR, BATS, bats_options(dry_run=True))
    assert (report.created, report.dry_run, report.committed) == (20, True, False)
    assert report.problems == [] and report.accessions == []
    assert snapshot(engine) == before
    run_import(engine, CURATOR, BATS, bats_options())
    before = snapshot(engine)
    text = BATS.read_text(encoding="utf-8").replace("\t80\t", "\t85\t", 1)
    report = run_import(engine, CURATOR, write(tmp_path, "b.tsv", text),
                        bats_options(dry_run=True))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 19)
    assert snapshot(engine) == before


# --- options and access ---------------------------------------------------------------------

@pytest.mark.parametrize(("options", "message"), [
    (ImportOptions("widget"), "unknown record kind 'widget'"),
    (ImportOptions("sample", mode="merge"), "unknown mode 'merge'"),
    (ImportOptions("sample", columns={"lat": "latitude_deg"}), "has no field 'latitude_deg'"),
    (ImportOptions("sample", constants={"latitude": "3"}), "'latitude' is computed"),
    (ImportOptions("sample", constants={"collection_date": "05-10-2010"}), "not valid"),
    (ImportOptions("sample", units={"geo_loc_name": "m"}), "takes no unit"),
    (ImportOptions("sample", units={"depth": "furlong"}), "unknown unit"),
    (ImportOptions("sample", date_format="dd-mm-yyyy"), "no strftime codes"),
    (ImportOptions("sample", encoding="latin-9x"), "unknown encoding"),
    (ImportOptions("sample", columns={"Latitude": "lat_lon"}),
     "its columns are: 'samplingEvent_ID'"),
    (ImportOptions("sample", templates={"lat_lon": "{lat} {Longitude}"}), "no column 'Longitude'"),
    (ImportOptions("sample", columns={"lat": "lat_lon"}, constants={"lat_lon": "1 1"}),
     "given twice"),
])
def test_bad_options_are_usage_errors(engine: Engine, options: ImportOptions,
                                      message: str) -> None:
    with pytest.raises(UsageError, match=message):
        run_import(engine, CURATOR, BATS, options)


def test_only_curators_import(engine: Engine) -> None:
    with pytest.raises(Unauthorized):
        run_import(engine, ANONYMOUS, BATS, bats_options())
    with pytest.raises(Forbidden):
        run_import(engine, Actor("rui", "reader"), BATS, bats_options())
    assert run_import(engine, ADMIN, BATS, bats_options()).committed


def test_mapping_file_and_overrides(tmp_path: Path) -> None:
    options = load_mapping(BATS_MAPPING)
    assert options.kind == "sample" and options.date_format == "%d-%m-%Y"
    merged = apply_overrides(options, columns=[("cruise_id", "project_name")],
                             constants=[("samp_taxon_id", "1874687")], mode="create")
    assert "project_name" not in merged.constants  # the column replaces the file's constant
    assert merged.columns["cruise_id"] == "project_name"
    assert merged.constants["samp_taxon_id"] == "1874687" and merged.mode == "create"
    bad = write(tmp_path, "bad.toml", 'kind = "sample"\n[colums]\n"a" = "b"\n')
    with pytest.raises(UsageError, match="unknown keys 'colums'"):
        load_mapping(bad)
    with pytest.raises(UsageError, match="for kind 'sample', not 'strain'"):
        load_mapping(BATS_MAPPING, "strain")
    with pytest.raises(UsageError, match="not valid TOML"):
        load_mapping(write(tmp_path, "broken.toml", "kind = \n"))


def test_progress_is_reported_per_chunk(engine: Engine, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from lanhai.services import imports as import_engine

    monkeypatch.setattr(import_engine, "CHUNK_ROWS", 7)
    seen: list[int] = []
    report = run_import(engine, CURATOR, BATS, bats_options(), seen.append)
    assert seen == [7, 14, 20] and report.created == 20
    # duplicates across chunks are still found, with both rows named
    lines = BATS.read_text(encoding="utf-8").splitlines()
    text = "\n".join([*lines, lines[3].replace("SAMN07137066", "SAMN07137166")
                      .replace("S0569", "S0569b")])
    dup = run_import(engine, ADMIN, write(tmp_path, "d.tsv", text), bats_options())
    assert dup.problems[0].row == 22
    assert "same record (LHSM0000003) as row 4" in dup.problems[0].reason


@pytest.mark.parametrize("mode", ["upsert", "create"])
def test_duplicate_rows_across_chunks_of_new_records(engine: Engine, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     mode: str) -> None:
    from lanhai.services import imports as import_engine

    monkeypatch.setattr(import_engine, "CHUNK_ROWS", 5)
    lines = BATS.read_text(encoding="utf-8").splitlines()
    copy = lines[2].replace("S0568", "S0568-copy").replace("SRS2299016", "SRS9999999")
    path = write(tmp_path, "d.tsv", "\n".join([*lines, copy]))
    report = run_import(engine, CURATOR, path, bats_options(mode=mode))
    assert cells(report) == [(22, None)]
    assert "describes the same record (LHSM0000002) as row 3" in report.problems[0].reason
    assert snapshot(engine)["records"] == []


def test_nothing_is_visible_before_the_commit(engine: Engine, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Another connection sees no row of an import until it commits (one transaction)."""
    from lanhai.db.engine import make_engine, migrate
    from lanhai.services import imports as import_engine

    if engine.dialect.name == "sqlite":  # the in-memory test bank has a single connection
        engine = make_engine(f"sqlite:///{tmp_path / 'bank.sqlite'}")
        migrate(engine)
    monkeypatch.setattr(import_engine, "CHUNK_ROWS", 5)
    reader = make_engine(str(engine.url.render_as_string(hide_password=False)))
    seen: list[int] = []

    def look(rows: int) -> None:
        with reader.connect() as conn:
            seen.append(len(conn.execute(select(metadata.tables["records"].c.id)).all()))

    try:
        report = run_import(engine, CURATOR, BATS, bats_options(), look)
    finally:
        reader.dispose()
    assert report.committed and seen == [0, 0, 0, 0, 20]
