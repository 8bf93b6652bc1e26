"""Animals belong to germplasm lines: the import checks every accession against the catalog
(per file row), and a dataset is found from the germplasm records it covers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from lanhai.bank import init_bank
from lanhai.breeding.germplasm import Lookup, check_germplasm, linked_lines
from lanhai.breeding.pipeline import Inputs, load
from lanhai.errors import ValidationFailed
from lanhai.services.access import LOCAL_ADMIN, Actor
from lanhai.services.breeding import BreedingService
from lanhai.settings import Settings
from tests.support import CURATOR, READER, bank_on
from tests.support import breed as run
from tests.support.data_files import germplasm_lines as catalog
from tests.support.data_files import pedigree_with

DATA = Path(__file__).parent / "data" / "breeding"
GENO = DATA / "simfish.bed"
PED = DATA / "simfish_pedigree.csv"
PHEN = DATA / "simfish_phenotypes.csv"


def lookup(engine: Engine, actor: Actor) -> Lookup:
    """Accessions -> kinds of the records ``actor`` may see, over the catalog."""
    found = bank_on(engine).breeding.lookup(actor)
    assert found is not None
    return found


def stored(data_dir: Path) -> BreedingService:
    """The breeding datasets of the bank in ``data_dir``."""
    return BreedingService.for_settings(Settings(data_dir=data_dir))


def test_every_bad_accession_is_named_by_row_column_and_value(engine: Engine,
                                                               tmp_path: Path) -> None:
    acc = catalog(engine)
    ped = pedigree_with(tmp_path, {2: acc["line"].lower(), 3: "LHGP0000099", 4: acc["strain"],
                                   5: "line-7", 6: acc["secret"], 7: acc["line"]})
    data = load(Inputs(pedigree=ped))
    with pytest.raises(ValidationFailed) as err:
        check_germplasm(data, lookup(engine, READER))
    found = {p.row or 0: p for p in err.value.problems}
    assert sorted(found) == [3, 4, 5, 6]  # row 2 (lower case) and 7 are the visible line
    for row, p in found.items():
        assert p.column == "accession" and p.file == str(ped) and p.fix
        assert p.record == PED.read_text().splitlines()[row - 1].split(",")[0]
    assert found[3].value == "LHGP0000099"
    assert found[3].reason == f"no germplasm record LHGP0000099 in the catalog (animal " \
                              f"{found[3].record})"
    assert found[4].reason.startswith(f"{acc['strain']} is a strain record, not a germplasm")
    assert "is not a Lanhai accession" in found[5].reason and found[5].value == "line-7"
    # a confidential line reads exactly as one that does not exist
    assert found[6].reason == f"no germplasm record {acc['secret']} in the catalog (animal " \
                              f"{found[6].record})"
    # a curator may see the restricted line: only the three others remain
    with pytest.raises(ValidationFailed) as err:
        check_germplasm(load(Inputs(pedigree=ped)), lookup(engine, CURATOR))
    assert sorted(p.row for p in err.value.problems if p.row) == [3, 4, 5]


def test_a_valid_dataset_is_normalised_and_counted(engine: Engine) -> None:
    acc = catalog(engine)
    data = load(Inputs(genotypes=GENO, pedigree=PED, phenotypes=PHEN))
    lines = check_germplasm(data, lookup(engine, READER), acc["line"].lower())
    # every animal of the dataset (100 genotyped, 100 in the pedigree: the same fish)
    assert lines == {acc["line"]: 100}
    assert linked_lines(data) == {}  # the option is a dataset-level link, not a column
    with pytest.raises(ValidationFailed) as err:
        check_germplasm(data, lookup(engine, READER), "LHGP0000042")
    (problem,) = err.value.problems
    assert problem.field == "germplasm" and problem.value == "LHGP0000042"


@pytest.fixture
def bank_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bank"
    monkeypatch.setenv("LANHAI_DATA_DIR", str(folder))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    return folder


def test_cli_import_links_lines_and_lists_datasets_by_germplasm(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank = init_bank(Settings(data_dir=bank_dir))
    acc = catalog(bank.db.engine)
    bank.close()
    ped = pedigree_with(tmp_path, {row: acc["line"] for row in range(2, 12)})
    code, out, _ = run(capsys, "import", "--name", "croaker", "--pedigree", str(ped),
                       "--phenotypes", str(PHEN), "--json")
    assert code == 0
    assert out["germplasm"] == {acc["line"]: 10}  # type: ignore[index]
    assert out["counts"]["germplasm_linked"] == 10  # type: ignore[index]
    code, out, _ = run(capsys, "import", "--name", "whole", "--genotypes", str(GENO),
                       "--germplasm", acc["line"], "--publish", "--json")
    assert code == 0 and out["germplasm"] == {acc["line"]: 100}  # type: ignore[index]
    code, out, _ = run(capsys, "datasets", "--germplasm", acc["line"].lower(), "--json")
    assert code == 0
    listed = {d["dataset"]: d for d in out["datasets"]}  # type: ignore[index]
    assert sorted(listed) == ["croaker", "whole"]
    assert listed["whole"]["published"] and not listed["croaker"]["published"]
    assert listed["whole"]["counts"]["snps"] == 300
    code, out, _ = run(capsys, "datasets", "--germplasm", acc["secret"], "--json")
    assert code == 0 and out == {"datasets": []}
    code, text, _ = run(capsys, "datasets")
    assert code == 0 and f"germplasm {acc['line']} (10)" in text  # type: ignore[operator]
    # the name is taken: nothing changes unless --replace
    code, out, err = run(capsys, "import", "--name", "whole", "--pedigree", str(PED), "--json")
    assert code == 1 and out["error"]["code"] == "conflict"  # type: ignore[index]
    assert "--replace" in err
    assert stored(bank_dir).summary(LOCAL_ADMIN, "whole")["counts"]["genotyped_animals"] == 100
    code, _, _ = run(capsys, "import", "--name", "whole", "--pedigree", str(PED), "--replace")
    assert code == 0
    assert "genotyped_animals" not in stored(bank_dir).summary(LOCAL_ADMIN, "whole")["counts"]


def test_cli_import_rejects_a_bad_accession_and_writes_nothing(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank = init_bank(Settings(data_dir=bank_dir))
    acc = catalog(bank.db.engine)
    bank.close()
    ped = pedigree_with(tmp_path, {2: acc["line"], 9: acc["strain"]})
    code, out, err = run(capsys, "import", "--name", "bad", "--pedigree", str(ped), "--json")
    assert code == 1
    (problem,) = out["error"]["problems"]  # type: ignore[index]
    assert problem["row"] == 9 and problem["column"] == "accession"
    assert problem["value"] == acc["strain"] and problem["record"] == "F008"
    assert "row 9" in err and "not a germplasm record" in err
    assert not (bank_dir / "breeding" / "bad").exists()
    assert stored(bank_dir).list_datasets(LOCAL_ADMIN) == []
    code, out, _ = run(capsys, "import", "--name", "dry", "--pedigree", str(PED), "--germplasm",
                       acc["line"], "--dry-run", "--json")
    assert code == 0 and out["dry_run"] and out["germplasm"] == {acc["line"]: 100}  # type: ignore[index]
    assert not (bank_dir / "breeding" / "dry").exists()


def test_cli_import_with_accessions_needs_a_bank(bank_dir: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "import", "--name", "x", "--pedigree", str(PED), "--germplasm",
                       "LHGP0000001")
    assert code == 2 and "lanhai init" in err
    code, _, _ = run(capsys, "import", "--name", "x", "--pedigree", str(PED))
    assert code == 0  # no accession: no catalog needed
