"""Assay tables (lanhai.screening.assays): units to nM and pX by hand, censored values,
all-or-nothing reading with every bad row listed, duplicates and conflicting replicates, and
the values handed to model training."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from lanhai.errors import UsageError, ValidationFailed
from lanhai.screening.assays import (
    CompoundInfo,
    parse_unit,
    px_of,
    read_assay_table,
    to_nm,
)

DATA = Path(__file__).parent / "data" / "screening"
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
ASPIRIN_KEY = "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"
PHENOL = "Oc1ccccc1"


def table(*rows: str, header: str = "compound\tsmiles\ttarget\tendpoint\tvalue\tunit") -> str:
    return "\n".join([header, *rows]) + "\n"


def test_molar_units_by_hand() -> None:
    assert to_nm(1, "µM") == 1000.0
    assert px_of(1000.0) == 6.0
    assert to_nm(5, "pM") == pytest.approx(0.005)
    assert to_nm(2, "mM") == 2e6
    assert px_of(to_nm(1, "M") or 0) == 0.0
    # 10 µg/mL of a compound of molar mass 500 g/mol is 20 µM
    assert to_nm(10, "µg/mL", 500.0) == pytest.approx(20_000.0)
    assert to_nm(10, "mg/L", 500.0) == pytest.approx(20_000.0)
    assert to_nm(10, "ng/mL", 500.0) == pytest.approx(20.0)
    assert to_nm(10, "µg/mL") is None  # no molar mass
    assert [parse_unit(u) for u in ("uM", "μM", "µM", "nmol/L", "ug/ml", "ug.mL-1")] == \
        ["µM", "µM", "µM", "nM", "µg/mL", "µg/mL"]
    assert parse_unit("mm") == "mm" and parse_unit("mM") == "mM"  # a length is no mM


def test_a_table_reads_into_rows_with_nm_and_px() -> None:
    t = read_assay_table(table(f"LHCP1\t{ASPIRIN}\tCOX-1\tIC50\t1\tuM",
                               f"LHCP2\t{PHENOL}\tCOX-1\tpIC50\t\t",
                               header="compound\tsmiles\ttarget\tendpoint\tvalue\tunit")
                         .replace("pIC50\t\t", "EC50\t250\tnM"))
    first, second = t.rows
    assert (first.row, first.key, first.endpoint, first.unit) == (2, ASPIRIN_KEY, "IC50", "µM")
    assert first.nm == 1000.0 and first.px == 6.0 and not first.censored
    assert first.molar_mass == pytest.approx(180.159, abs=1e-3)
    assert first.ug_per_ml == pytest.approx(0.180159, rel=1e-5)
    assert second.endpoint == "EC50" and second.px == pytest.approx(6.60206, abs=1e-5)


def test_a_mass_unit_converts_with_the_structures_molar_mass() -> None:
    # phenol, 94.113 g/mol: 10 µg/mL = 106.26 µM
    t = read_assay_table(table(f"x\t{PHENOL}\tS. aureus\tMIC\t10\tµg/mL"))
    row = t.rows[0]
    assert row.ug_per_ml == 10.0
    assert row.nm == pytest.approx(10e-3 / 94.113 * 1e9, rel=1e-4)
    assert row.px == pytest.approx(-math.log10(10e-3 / 94.113), abs=1e-4)


def test_a_resolver_gives_the_molar_mass_of_an_accession() -> None:
    def resolve(accession: str) -> CompoundInfo | None:
        return CompoundInfo(molar_mass=500.0) if accession == "LHCP0000007" else None

    t = read_assay_table("compound\tendpoint\tvalue\tunit\tsource\n"
                         "LHCP0000007\tMIC\t10\tug/mL\tdoi:10.1/x\n", resolve=resolve)
    row = t.rows[0]
    assert row.key == "LHCP0000007" and row.nm == pytest.approx(20_000.0)
    assert row.px == pytest.approx(-math.log10(20e-6)) and row.source == "doi:10.1/x"
    with pytest.raises(ValidationFailed) as err:
        read_assay_table("compound\tendpoint\tvalue\tunit\nLHCP9\tMIC\t10\tug/mL\n",
                         resolve=resolve)
    assert err.value.problems[0].reason == "is not a compound the bank knows"


def test_censored_values_are_kept_and_flagged() -> None:
    t = read_assay_table(table(f"a\t{ASPIRIN}\tT\tIC50\t>100\tuM",
                               f"b\t{PHENOL}\tT\tIC50\t<= 0.01\tuM",
                               "c\tCCO\tT\tIC50\t~5\tuM"))
    above, below, approx = t.rows
    assert (above.qualifier, above.censored, above.px, above.px_qualifier) == \
        (">", True, 4.0, "<")
    assert (below.qualifier, below.censored, below.px_qualifier) == ("<=", True, ">=")
    assert below.px == pytest.approx(8.0)
    assert approx.qualifier == "~" and not approx.censored
    # regression leaves censored values out by default
    assert t.training_values("IC50", "T") == [("LFQSCWFLJHTTHZ-UHFFFAOYSA-N",
                                               pytest.approx(5.30103, abs=1e-5))]
    assert len(t.training_values("IC50", "T", include_censored=True)) == 3
    # classification at pIC50 6: IC50 > 100 µM is inactive, <= 10 nM active, 5 µM inactive
    labels = dict(t.training_values("IC50", "T", threshold=6.0))
    assert labels == {ASPIRIN_KEY: 0.0, "ISWSIDIOOBJBQZ-UHFFFAOYSA-N": 1.0,
                      "LFQSCWFLJHTTHZ-UHFFFAOYSA-N": 0.0}
    # a bound on the wrong side of the threshold decides nothing
    assert dict(t.training_values("IC50", "T", threshold=3.0)).get(ASPIRIN_KEY) is None


def test_a_qualifier_column_and_chembl_headers() -> None:
    t = read_assay_table(DATA / "assays_chembl_style.csv")
    assert len(t.rows) == 6
    ibuprofen = [r for r in t.rows if r.compound == "CHEMBL521"]
    assert [r.qualifier for r in ibuprofen] == [">", "="]
    assert ibuprofen[0].target == "Cyclooxygenase-1" and ibuprofen[0].source == "CHEMBL0000001"
    mic = t.rows[-1]
    assert (mic.endpoint, mic.unit, mic.organism) == ("MIC", "µg/mL", "Staphylococcus aureus")
    # 13.81 µg/mL of salicylic acid (138.12 g/mol) is 100 µM
    assert mic.nm == pytest.approx(100_000, rel=1e-3) and mic.px == pytest.approx(4.0, abs=1e-3)
    assert mic.ug_per_ml == pytest.approx(13.81)


def test_every_bad_row_is_listed_and_nothing_is_read() -> None:
    text = table(f"ok\t{ASPIRIN}\tT\tIC50\t5\tnM",
                 "bad-smiles\tC1CC(\tT\tIC50\t5\tnM",
                 f"percent\t{ASPIRIN}\tT\tIC50\t40\t%",
                 f"zone\t{ASPIRIN}\tE. coli\tMIC\t12\tmm",
                 "no-structure\t\tT\tIC50\t10\tug/mL",
                 f"words\t{ASPIRIN}\tT\tIC50\tstrong\tnM",
                 f"unknown\t{ASPIRIN}\tT\tLD50\t5\tnM",
                 f"zero\t{ASPIRIN}\tT\tKi\t0\tnM")
    with pytest.raises(ValidationFailed) as err:
        read_assay_table(text, name="screen.tsv")
    problems = err.value.problems
    where = {(p.row, p.column, p.value) for p in problems}
    assert where == {(3, "smiles", "C1CC("), (4, "unit", "%"), (5, "unit", "mm"),
                     (6, "unit", "ug/mL"), (7, "value", "strong"), (8, "endpoint", "LD50"),
                     (9, "value", "0")}
    assert "7 problems in 7 rows; nothing was read" in err.value.message
    by_row = {p.row: p for p in problems}
    assert by_row[4].reason == "cannot be converted to a concentration for IC50"
    assert "nM" in by_row[4].fix and "µg/mL" in by_row[4].fix
    assert "structure is not known" in by_row[6].reason and "SMILES" in by_row[6].fix
    assert by_row[3].reason == "is not a SMILES string RDKit can parse"
    assert all(p.file == "screen.tsv" and p.fix for p in problems)


def test_header_aliases_mapping_and_constants() -> None:
    text = "Cpd\tStructure\tStandard_Type\tSTANDARD_RELATION\tStandard Value\tStandard Units\n" \
           f"x\t{ASPIRIN}\tKi\t=\t3\tnM\n"
    t = read_assay_table(text, mapping={"Cpd": "compound"}, target="COX-2")
    row = t.rows[0]
    assert (row.compound, row.endpoint, row.nm, row.target) == ("x", "Ki", 3.0, "COX-2")
    with pytest.raises(UsageError):
        read_assay_table(text, mapping={"Cpd": "molecule"})
    with pytest.raises(UsageError):
        read_assay_table(text, mapping={"Nope": "compound"})
    with pytest.raises(ValidationFailed) as err:
        read_assay_table("smiles\tvalue\nCCO\t5\n")
    assert {p.column for p in err.value.problems} == {"endpoint"}


def test_activity_calls_and_percent_inhibition() -> None:
    text = "inchikey\torganism\tendpoint\tvalue\tunit\tcall\n" \
           f"{ASPIRIN_KEY}\tV. harveyi\tactivity\t\t\tactive\n" \
           f"{ASPIRIN_KEY}\tV. harveyi\tactivity\t\t\tinactive\n" \
           f"{ASPIRIN_KEY}\tV. harveyi\tactivity\t\t\tActive\n" \
           f"{ASPIRIN_KEY}\tV. harveyi\t% inhibition\t62\t%\t\n"
    t = read_assay_table(text)
    assert [r.call for r in t.rows[:3]] == [True, False, True]
    assert t.rows[3].percent == 62.0
    assert t.training_values("activity call", "v. harveyi") == [(ASPIRIN_KEY, 1.0)]
    assert t.training_values("% inhibition", "V. harveyi", threshold=50) == [(ASPIRIN_KEY, 1.0)]
    conflict = t.conflicts[0]
    assert conflict.rows == (2, 3, 4) and conflict.reason == "both active and inactive calls"
    with pytest.raises(ValidationFailed) as err:
        read_assay_table(text.replace("inactive", "maybe"))
    assert err.value.problems[0].reason == "is not an activity call"


def test_duplicates_conflicts_and_the_median_of_replicates() -> None:
    t = read_assay_table(DATA / "assays_chembl_style.csv")
    # aspirin: 1000 nM and 1 µM are one measurement written twice; 4 µM a replicate
    dup = [d for d in t.duplicates if d.key == ASPIRIN_KEY]
    assert [d.rows for d in dup] == [(2, 3)]
    assert not [c for c in t.conflicts if c.key == ASPIRIN_KEY]  # 6.0 vs 5.4: within 1 log
    # ibuprofen: > 100 µM and 10 nM: the censored value is no spread, so no conflict yet
    values = dict(t.training_values("IC50", "cyclooxygenase-1"))
    assert values[ASPIRIN_KEY] == pytest.approx(6.0)  # median of 6, 6, 5.398
    assert values["HEFNNWSXXWATRW-UHFFFAOYSA-N"] == pytest.approx(8.0)
    text = table(f"a\t{PHENOL}\tT\tIC50\t10\tnM", f"a\t{PHENOL}\tT\tIC50\t20\tuM")
    conflicts = read_assay_table(text).conflicts
    assert len(conflicts) == 1 and conflicts[0].spread == pytest.approx(3.301, abs=1e-3)
    assert conflicts[0].rows == (2, 3)


def test_an_inchikey_that_disagrees_with_the_smiles_is_refused() -> None:
    text = "smiles\tinchikey\tendpoint\tvalue\tunit\n" \
           f"{PHENOL}\t{ASPIRIN_KEY}\tIC50\t1\tnM\n"
    with pytest.raises(ValidationFailed) as err:
        read_assay_table(text)
    assert err.value.problems[0].column == "inchikey"


def test_an_empty_table_and_a_header_alone() -> None:
    with pytest.raises(ValidationFailed, match="empty"):
        read_assay_table("\n\n")
    with pytest.raises(ValidationFailed) as err:
        read_assay_table("smiles\tendpoint\tvalue\n")
    assert err.value.problems[0].reason == "has a header but no data rows"
