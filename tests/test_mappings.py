"""The shipped example mappings: each names only real fields and imports its shipped demo
file with zero problems; the real-world quirks they handle are reported, never guessed."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lanhai.demo.builder import options_for
from lanhai.demo.sources import DEMO_SOURCES, DemoSource, mappings_dir, source_path
from lanhai.errors import UsageError
from lanhai.imports import ImportReport
from lanhai.imports.mapping import load_mapping, resolve_options
from lanhai.kinds import kind_spec
from lanhai.kinds.vocab import ValueContext, collection_numbers
from lanhai.services.access import Actor
from tests.support import SHARED, catalog_on, run_import

CURATOR = Actor("ana", "curator")
MAPPINGS = sorted(mappings_dir().glob("*.toml"))
SOURCES = {s.name: s for s in DEMO_SOURCES}
CATALOG = SHARED / "catalog"


def _import(engine: Engine, source: DemoSource, path: Path | None = None,
            **changes: object) -> ImportReport:
    options = replace(options_for(source), **changes)  # type: ignore[arg-type]
    return run_import(engine, CURATOR, path or source_path(source), options)


def test_every_mapping_is_shipped_with_a_demo_file() -> None:
    assert {p.name for p in MAPPINGS} == {s.mapping for s in DEMO_SOURCES if s.mapping}


@pytest.mark.parametrize("path", MAPPINGS, ids=[p.stem for p in MAPPINGS])
def test_mapping_names_only_real_fields_and_says_where_it_comes_from(path: Path) -> None:
    head = path.read_text(encoding="utf-8").splitlines()[:3]
    assert all(line.startswith("#") for line in head), "a header comment names the source"
    options = resolve_options(load_mapping(path))
    spec = kind_spec(options.kind)
    named = {*options.columns.values(), *options.templates, *options.constants,
             *options.units} - {""}
    assert named <= set(spec.field_names), named - set(spec.field_names)


@pytest.mark.parametrize("name", list(SOURCES))
def test_demo_file_imports_with_zero_problems_and_again_changes_nothing(
        engine: Engine, name: str) -> None:
    source = SOURCES[name]
    first = _import(engine, source)
    assert first.problems == [] and first.committed, [p.describe() for p in first.problems]
    assert first.rows > 0 and first.created == first.rows
    again = _import(engine, source)
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.rows)


def test_osd_tables_merge_on_biosample(engine: Engine) -> None:
    _import(engine, SOURCES["osd2014_samples"])
    merged = _import(engine, SOURCES["osd2014_vliz"])
    assert (merged.created, merged.updated) == (0, merged.rows)
    [record], total = catalog_on(engine).list(CURATOR, "sample", ["biosample=SAMEA3275525"])
    assert total == 1
    assert record.fields["samp_collect_device"] == "Bottle, Niskin 1.6-L"  # osd_sample.tsv
    assert record.fields["identifiers"] == ["OSD126_2014-06_NPL022_1"]  # OSD14Data (VLIZ)


def test_bats_dates_need_the_mapping_date_format(engine: Engine) -> None:
    source = SOURCES["bats"]
    guessed = _import(engine, source, date_format=None, dry_run=True)
    assert guessed.problems and not guessed.committed
    assert {p.column for p in guessed.problems} == {"collection_date"}
    assert "ambiguous" in guessed.problems[0].reason
    _import(engine, source)
    [sample], _ = catalog_on(engine).list(CURATOR, "sample", ["samp_name=S0567"])
    assert sample.fields["collection_date"] == "2003-04-22"  # '22-04-2003' in the file


def test_malaspina_unknown_time_99_99_is_reported_not_guessed(engine: Engine,
                                                              tmp_path: Path) -> None:
    """The one BioSample left out of the cut, with its real value: reported, nothing saved."""
    source = SOURCES["malaspina"]
    text = source_path(source).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    bad = {**rows[0], "biosample": "SAMEA110646464", "submitter_id": "MH021C019001DA0311",
           "sample_accession": "ERS12744171", "event_date.time_start": "2011-01-04T99:99Z"}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows([*rows, bad])
    path = tmp_path / "malaspina_with_99_99.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    report = _import(engine, source, path=path)
    assert not report.committed
    [problem] = report.problems
    assert problem.column == "event_date.time_start" and problem.value == "2011-01-04T99:99Z"
    assert "impossible time" in problem.reason
    assert catalog_on(engine).counts(CURATOR) == {}


def test_ijsem_collection_numbers_and_missing_mirri_fields(engine: Engine) -> None:
    assert collection_numbers("CGMCC=1.6783|CECT=7303", ValueContext(), "x") == [
        "CGMCC 1.6783", "CECT 7303"]
    assert collection_numbers("ATCCBAA-916T|DSM44818T", ValueContext(), "x") == [
        "ATCCBAA-916", "DSM 44818"]  # the type-strain 'T' is not part of the number
    assert load_mapping(mappings_dir() / "ijsem_type_strains.toml").encoding == "latin-1"
    _import(engine, SOURCES["ijsem_marine"])
    [strain], _ = catalog_on(engine).list(CURATOR, "strain",
                                              ["taxon_name=Zobellia amurskyensis"])
    assert strain.fields["collection_numbers"] == ["LMG 22069", "CCUG 47080"]
    assert strain.fields["recommended_temperature"] == [24.0, 24.0]
    assert strain.fields["marine"] is True
    for name in ("organism_type", "restrictions_on_use", "nagoya_compliance", "risk_group",
                 "risk_group_scheme", "recommended_medium", "form_of_supply",
                 "geographic_origin"):
        assert strain.fields[name] == "not provided", name


def test_tara_mags_keep_cr_line_endings_and_say_what_mimag_lacks(engine: Engine) -> None:
    source = SOURCES["tara_mags"]
    raw = source_path(source).read_bytes()
    assert b"\r" in raw and b"\n" not in raw
    _import(engine, source)
    [mag], _ = catalog_on(engine).list(CURATOR, "assembly",
                                           ["assembly_name=TARA_PON_MAG_00061"])
    assert mag.fields["assembly_type"] == "MAG"
    assert mag.fields["taxon_name"] == ("d__Bacteria;p__Proteobacteria;c__Gammaproteobacteria;"
                                        "o__Alteromonadales;f__Alteromonadaceae;g__Alteromonas;"
                                        "s__")
    for name in ("compl_score", "contam_score", "assembly_qual", "binning_software"):
        assert mag.fields[name] == "not provided"


def test_compounds_smiles_by_rdkit_and_glycans_as_iupac(engine: Engine) -> None:
    catalog = catalog_on(engine)
    _import(engine, SOURCES["mibig"])
    [abyssomicin], _ = catalog.list(CURATOR, "compound", ["compound_name=abyssomicin C"])
    assert abyssomicin.fields["source_organism"] == "Verrucosispora maris AB-18-032"
    assert abyssomicin.fields["inchikey"].count("-") == 2  # computed by RDKit
    _import(engine, SOURCES["glycans"])
    glycans, _ = catalog.list(CURATOR, "compound", ["source_ids~G47362BJ"])
    [glycan] = glycans
    assert glycan.fields["glycan_iupac"] == "GlcNAc(b1-4)GlcNAc(b1-4)GlcNAc"
    assert "wurcs" not in glycan.fields and "smiles" not in glycan.fields


def test_cmnpd_inchikeys_from_rdkit_match_the_database(engine: Engine) -> None:
    """Expected values from CMNPD's own STANDARD_INCHI_KEY column (all 200 rows agree)."""
    source = SOURCES["cmnpd"]
    _import(engine, source)
    text = source_path(source).read_text(encoding="utf-8")
    expected = {r["COMPOUND_ID"]: r["STANDARD_INCHI_KEY"]
                for r in csv.DictReader(io.StringIO(text), delimiter="\t")}
    catalog = catalog_on(engine)
    page, total = catalog.list(CURATOR, "compound", limit=500)
    assert total == len(expected) == 200
    assert {r.fields["source_ids"][0]: r.fields["inchikey"] for r in page} == expected
    assert all(r.fields["source_organism"] == "not provided" for r in page)


def test_igem_parts_have_so_roles(engine: Engine) -> None:
    _import(engine, SOURCES["igem_parts"])
    catalog = catalog_on(engine)
    [promoter], _ = catalog.list(CURATOR, "part", ["display_id=BBa_J23119"])
    assert promoter.fields["role"] == "https://identifiers.org/SO:0000167"
    assert promoter.fields["sequence"] == "ttgacagctagctcagtcctaggtataatgctagc"
    [rbs], _ = catalog.list(CURATOR, "part", ["display_id=BBa_B0034"])
    assert rbs.fields["role"] == "https://identifiers.org/SO:0000139"


def test_a_typo_in_a_mapping_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('kind = "sample"\n[set]\nsamp_taxonid_typo = "408172"\n', encoding="utf-8")
    with pytest.raises(UsageError, match="no field"):
        resolve_options(load_mapping(bad))


@pytest.mark.skipif(not CATALOG.is_dir(), reason="needs ../shared/data/catalog")
def test_cuts_reproduce_from_the_public_tables(tmp_path: Path) -> None:
    from lanhai.demo.cut import cut_all
    from lanhai.demo.igem import write_csv

    cut_all(CATALOG, tmp_path)
    write_csv(tmp_path / "parts/igem_anderson_promoters_rbs.csv",
              [CATALOG / "synbio/iGEM_AndersonPromoters_SBOL2_imports.nt",
               CATALOG / "synbio/iGEM_RBSCollection_SBOL2_imports.nt"])
    for source in DEMO_SOURCES:
        if source.mapping is None:
            continue
        assert (tmp_path / source.file).read_bytes() == source_path(source).read_bytes(), \
            source.file
