"""Exports from a user's side: table values round-trip, who sees what, formats per kind,
filters, streaming in keyset batches and atomic files. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from lanhai.errors import UsageError
from lanhai.exports import ExportOptions
from lanhai.exports.tables import columns
from lanhai.kinds import kind_spec
from lanhai.kinds.fields import validate_fields
from lanhai.model import NewRecord
from lanhai.services.access import ANONYMOUS
from lanhai.services.catalog import CatalogService
from lanhai.store import queries
from lanhai.store import records as store
from tests.support import ADMIN, CURATOR, READER, SAMPLE, ZOBELLIA, catalog_on, exports_on
from tests.support.data_files import DEPOSIT_WITH_EVENTS as DEPOSIT
from tests.support.data_files import GERMPLASM, PART, csv_rows, export_text


@pytest.fixture
def catalog(engine: Engine) -> CatalogService:
    return catalog_on(engine)


def test_csv_columns_and_values(engine: Engine, catalog: CatalogService) -> None:
    sample = catalog.create(CURATOR, "sample", {**SAMPLE, "biosample": "SAMEA2620084",
                                                "temp": "15.5", "description": "含盐 seawater"})
    strain = catalog.create(CURATOR, "strain", {**ZOBELLIA, "type_strain": "yes"})
    [row] = csv_rows(export_text(engine, READER, "samples", "csv"))
    assert list(row) == columns(kind_spec("sample"))
    assert list(row)[:3] == ["accession", "name", "samp_name"]
    assert list(row)[-4:] == ["latitude", "longitude", "depth_m", "identifiers"]
    assert row["accession"] == sample.accession and row["name"] == "OSD1_2014-06-21_0m"
    assert row["samp_taxon_id"] == "408172" and row["temp"] == "15.5"
    assert row["lat_lon"] == "50.25 -4.22" and row["depth"] == "0-1 m"
    assert row["latitude"] == "50.25" and row["depth_m"] == "0"
    assert row["description"] == "含盐 seawater" and row["restricted"] == "false"
    assert row["identifiers"] == "SAMEA2620084; Ocean Sampling Day 2014:OSD1_2014-06-21_0m"
    [srow] = csv_rows(export_text(engine, READER, "strain", "csv"))
    assert srow["accession"] == strain.accession
    assert srow["collection_numbers"] == "DSM 12802; CIP 106680"
    assert srow["recommended_temperature"] == "20-25" and srow["type_strain"] == "true"
    assert srow["hazard_rank"] == "1" and srow["form_of_supply"] == "Lyo"


@pytest.mark.parametrize(("kind", "raw"), [
    ("sample", {**SAMPLE, "tot_depth_water_col": "45 m", "salinity": "35.1"}),
    ("strain", {**ZOBELLIA, "type_strain": "true", "latitude": "48.72 N", "gc_content": "42.8"}),
    ("deposit", DEPOSIT),
    ("germplasm", GERMPLASM),
    ("part", PART),
    ("organisation", {"name_zh": "青岛某海洋生物公司", "org_type": "enterprise",
                      "credit_code": "91370200163562681G",
                      "qualifications": "gazelle 2024; high_tech 2022"}),
    ("platform", {"name": "Biofoundry", "platform_type": "foundry", "level": "municipal",
                  "recognised": "2025-06-01"}),
    ("approval", {"approval_type": "pesticide_registration", "number": "PD20250012",
                  "product_name": "Bt wettable powder", "granted": "2025-10-01"}),
])
def test_csv_and_tsv_round_trip_through_validation(engine: Engine, catalog: CatalogService,
                                                   kind: str, raw: dict[str, str]) -> None:
    """Every cell reads back, through the same validation imports use, to the stored value."""
    record = catalog.create(CURATOR, kind, raw)
    spec = kind_spec(kind)
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        [row] = csv_rows(export_text(engine, ADMIN, kind, fmt), delimiter)
        given = {name: value for name, value in row.items()
                 if name in spec.field_names and name not in ("identifiers", "restricted")
                 and value != ""}
        fields, problems = validate_fields(spec, given)
        assert problems == []
        assert fields == {k: v for k, v in record.fields.items() if k != "identifiers"}
        assert row["identifiers"].split("; ") == record.identifiers


def test_deposit_events_are_json_cells(engine: Engine, catalog: CatalogService) -> None:
    deposit = catalog.create(CURATOR, "deposit", DEPOSIT)
    [row] = csv_rows(export_text(engine, CURATOR, "deposits", "csv"))
    assert json.loads(row["receipts"]) == [{"date": "2020-03-02", "form": "BP/4"}]
    assert row["retention_end"] == "2050-02-28" and row["last_viability"] == "viable"
    assert row["restricted"] == "true" and row["accession"] == deposit.accession


def test_json_is_records_with_links(engine: Engine, catalog: CatalogService) -> None:
    sample = catalog.create(CURATOR, "sample", SAMPLE)
    strain = catalog.create(CURATOR, "strain", ZOBELLIA)
    catalog.link(CURATOR, strain.accession, "isolated_from", sample.accession)
    [body] = json.loads(export_text(engine, READER, "strains", "json"))
    expected = catalog.get(READER, strain.accession).to_dict()
    assert {k: v for k, v in body.items() if k != "links"} == expected
    assert [(lk["source"], lk["rel"], lk["target"]) for lk in body["links"]] == [
        (sample.accession, "isolated_from", strain.accession)]
    assert json.loads(export_text(engine, READER, "compounds", "json")) == []


def test_readers_and_anonymous_export_exactly_what_they_may_list(
        engine: Engine, catalog: CatalogService) -> None:
    """Confidential records (a patent deposit by default, anything restricted) stay out;
    a deposit a curator released (its patent published) is exported as it is listed."""
    public = catalog.create(CURATOR, "sample", SAMPLE)
    hidden = catalog.create(CURATOR, "sample", {**SAMPLE, "samp_name": "secret site",
                                                "restricted": "yes"})
    strain = catalog.create(CURATOR, "strain", ZOBELLIA)
    deposit = catalog.create(CURATOR, "deposit", DEPOSIT)
    catalog.link(CURATOR, strain.accession, "deposited_as", deposit.accession)
    # a deposit a curator released
    other = catalog.create(CURATOR, "deposit", {**DEPOSIT, "deposit_accession": "DSM 1",
                                                "restricted": "no"})
    catalog.link(CURATOR, strain.accession, "deposited_as", other.accession)
    for actor in (READER, ANONYMOUS):
        for fmt in ("csv", "tsv", "json"):
            text = export_text(engine, actor, "sample", fmt)
            assert public.accession in text and hidden.accession not in text
            assert "secret site" not in text
            deposits = export_text(engine, actor, "deposit", fmt)
            assert deposit.accession not in deposits and "CGMCC No" not in deposits
            assert other.accession in deposits and "DSM 1" in deposits
        listed, _ = catalog.list(actor, "deposit")
        assert [r.accession for r in listed] == [other.accession]
        [body] = json.loads(export_text(engine, actor, "strain", "json"))
        assert [lk["target"] for lk in body["links"]] == [other.accession]
    for actor in (CURATOR, ADMIN):
        text = export_text(engine, actor, "sample", "csv")
        assert hidden.accession in text
        assert {r["accession"] for r in csv_rows(export_text(engine, actor, "deposit", "csv"))
                } == {deposit.accession, other.accession}
        [body] = json.loads(export_text(engine, actor, "strain", "json"))
        assert {lk["target"] for lk in body["links"]} == {deposit.accession, other.accession}


def test_formats_a_kind_cannot_use_say_which_kinds_they_serve(engine: Engine) -> None:
    for kind, fmt in (("compound", "dwca"), ("strain", "mcpd"), ("sample", "sbol3"),
                      ("part", "mcpd"), ("deposit", "dwca")):
        with pytest.raises(UsageError) as err:
            exports_on(engine).plan(CURATOR, kind, fmt)
        assert "dwca: sample, strain" in err.value.message
        assert "mcpd: germplasm" in err.value.message and "sbol3: part" in err.value.message
    with pytest.raises(UsageError, match="unknown export format 'xlsx'"):
        exports_on(engine).plan(CURATOR, "sample", "xlsx")
    with pytest.raises(UsageError, match="unknown record kind"):
        exports_on(engine).plan(CURATOR, "widgets", "csv")


def test_filters_and_text_search(engine: Engine, catalog: CatalogService) -> None:
    catalog.create(CURATOR, "sample", SAMPLE)
    deep = catalog.create(CURATOR, "sample", {**SAMPLE, "samp_name": "deep",
                                              "depth": "1500 m", "description": "深海沉积物"})
    rows = csv_rows(export_text(engine, READER, "sample", "csv", "depth_m>1000"))
    assert [r["accession"] for r in rows] == [deep.accession]
    rows = csv_rows(export_text(engine, READER, "sample", "csv", query="深海沉积"))
    assert [r["accession"] for r in rows] == [deep.accession]
    with pytest.raises(UsageError, match="no field 'colour'"):
        exports_on(engine).plan(READER, "sample", "csv", ["colour=blue"])
    with pytest.raises(UsageError, match="cannot read the filter"):
        exports_on(engine).plan(READER, "sample", "csv", ["depth_m"])


def test_records_stream_in_keyset_batches(engine: Engine) -> None:
    spec = kind_spec("sample")
    items = []
    for n in range(23):
        fields, problems = validate_fields(spec, {**SAMPLE, "samp_name": f"s{n:02d}"})
        assert problems == []
        items.append(NewRecord(spec, fields, spec.identifiers(fields), n % 5 == 0))
    with engine.begin() as conn:
        store.insert_records(conn, items, "ana")
    with engine.connect() as conn:
        batches = list(queries.iter_records(conn, "sample", batch_size=4,
                                          include_restricted=True))
        assert [len(b) for b in batches] == [4, 4, 4, 4, 4, 3]
        accessions = [r.accession for b in batches for r in b]
        assert accessions == sorted(accessions) and len(set(accessions)) == 23
        # s00 was created restricted: a held accession, after the numbered ones
        assert batches[0][0].identifiers == ["Ocean Sampling Day 2014:s01"]
        public = [r for b in queries.iter_records(conn, "sample", batch_size=4) for r in b]
        assert len(public) == 18 and not any(r.restricted for r in public)
        assert [r.accession for r in public] == [f"LHSM{n:07d}" for n in range(1, 19)]
    rows = csv_rows(export_text(engine, CURATOR, "sample", "csv", batch_size=4))
    names = [r["samp_name"] for r in rows]
    assert names[:18] == [f"s{n:02d}" for n in range(23) if n % 5]
    assert sorted(names[18:]) == [f"s{n:02d}" for n in range(0, 23, 5)]


def test_a_file_is_written_whole_or_not_at_all(engine: Engine, catalog: CatalogService,
                                               tmp_path: Path) -> None:
    for n in range(5):
        catalog.create(CURATOR, "sample", {**SAMPLE, "samp_name": f"s{n}"})
    target = tmp_path / "samples.csv"
    summary = exports_on(engine).write(CURATOR, "sample", "csv", target,
                             options=ExportOptions(batch_size=2))
    assert summary.to_dict() == {"kind": "sample", "format": "csv", "records": 5,
                                 "file": str(target)}
    before = target.read_bytes()

    def interrupt(done: int) -> None:
        if done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        exports_on(engine).write(CURATOR, "sample", "json", target,
                       options=ExportOptions(batch_size=2), progress=interrupt)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.csv"]
    with pytest.raises(UsageError, match="no field"):
        exports_on(engine).write(CURATOR, "sample", "csv", tmp_path / "new.csv", ["colour=1"])
    assert not (tmp_path / "new.csv").exists()
    with pytest.raises(UsageError, match="does not exist"):
        exports_on(engine).write(CURATOR, "sample", "csv", tmp_path / "nope" / "x.csv")


def test_writers_stream_batch_by_batch(engine: Engine, catalog: CatalogService) -> None:
    """Each writer emits a batch's output before it asks for the next batch."""
    from lanhai.exports import FORMATS
    from lanhai.exports.common import Item

    records = {kind: catalog.create(CURATOR, kind, raw) for kind, raw in (
        ("sample", SAMPLE), ("strain", ZOBELLIA), ("germplasm", GERMPLASM))}
    for fmt in ("csv", "tsv", "json", "dwca", "mcpd"):
        kind = {"mcpd": "germplasm", "dwca": "strain"}.get(fmt, "sample")
        pulled = 0

        def batches(kind: str = kind) -> Any:
            nonlocal pulled
            for _ in range(5):
                pulled += 1
                yield [Item(records[kind])]

        spec = kind_spec(kind)
        chunks = FORMATS[fmt].writer(spec, batches(), ExportOptions())
        seen = []
        for chunk in chunks:
            seen.append(pulled)
            assert chunk is not None
        # output after every batch, before the next one is pulled
        assert {1, 2, 3, 4, 5} <= set(seen), fmt


def test_memory_stays_flat_as_the_export_grows(sqlite_engine: Engine) -> None:
    """Peak memory exporting 5,000 records is about that of 1,000 (keyset batches)."""
    import tracemalloc

    spec = kind_spec("sample")
    fields, _ = validate_fields(spec, SAMPLE)

    def add(start: int, count: int) -> None:
        items = []
        for n in range(start, start + count):
            row = {**fields, "samp_name": f"s{n:05d}"}
            items.append(NewRecord(spec, row, spec.identifiers(row), False))
        with sqlite_engine.begin() as conn:
            store.insert_records(conn, items, "bench")

    class Discard(io.RawIOBase):
        def write(self, data: Any) -> int:
            return len(data)

    def peak(fmt: str) -> tuple[int, int]:
        tracemalloc.start()
        try:
            summary = exports_on(sqlite_engine).write(ADMIN, "sample", fmt, Discard(),
                                     options=ExportOptions(batch_size=200))
            return tracemalloc.get_traced_memory()[1], summary.records
        finally:
            tracemalloc.stop()

    add(0, 1000)
    small = {fmt: peak(fmt) for fmt in ("csv", "dwca")}
    add(1000, 4000)
    for fmt, (small_peak, small_count) in small.items():
        large_peak, large_count = peak(fmt)
        assert (small_count, large_count) == (1000, 5000)
        assert large_peak < small_peak * 1.5 + 256_000, fmt
