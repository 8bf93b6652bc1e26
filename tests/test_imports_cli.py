"""`lanhai import` from the curator's shell: output, problems on stderr, exit codes 0/1/2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lanhai.bank import init_bank
from lanhai.cli.main import main
from lanhai.services.access import Actor
from lanhai.settings import Settings

DATA = Path(__file__).parent / "data" / "imports"
BATS = str(DATA / "bats_samples.tsv")
MAPPING = str(DATA / "bats_samples.toml")
MALFORMED = str(DATA / "malformed_samples.csv")


@pytest.fixture
def bank_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bank"
    monkeypatch.setenv("LANHAI_DATA_DIR", str(folder))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    monkeypatch.setenv("LANHAI_USER", "curator-ana")
    init_bank(Settings(data_dir=folder)).close()
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def count(folder: Path) -> dict[str, int]:
    bank = init_bank(Settings(data_dir=folder))
    try:
        return bank.catalog.counts(Actor("admin", "admin"))
    finally:
        bank.close()


def test_import_with_mapping_then_again(bank_dir: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    code, out, err = run(capsys, "import", "sample", BATS, "--mapping", MAPPING)
    assert code == 0, err
    assert out.strip() == ("imported bats_samples.tsv: 20 rows: 20 created, 0 updated, "
                           "0 unchanged")
    assert "ignored columns (not imported): 'samplingEvent_ID', 'bottle_id', " \
           "'cruise_id'" in err
    code, out, _ = run(capsys, "import", "samples", BATS, "--mapping", MAPPING, "--json")
    report: dict[str, Any] = json.loads(out)
    assert code == 0
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 20)
    assert report["committed"] is True and report["problem_count"] == 0
    assert count(bank_dir) == {"sample": 20}


def test_every_problem_on_stderr_and_exit_1(bank_dir: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "import", "sample", MALFORMED)
    assert code == 1
    assert out.strip() == "malformed_samples.csv: 7 problems in 7 rows; nothing was written"
    lines = err.strip().splitlines()
    assert len(lines) == 7
    assert lines[0] == ("row 3, column 'samp_taxon_id': value 'marine metagenome': is not an "
                        "NCBI Taxonomy id. Fix: write the number (e.g. 408172 for marine "
                        "metagenome) or NCBI:txid408172")
    assert lines[4].startswith("row 7, column 'geo_loc_name': value 'Oc\ufffdan Atlantique: mer "
                               "des Sargasses': has byte 0xE9 that is not valid UTF-8. Fix:")
    assert lines[5].startswith("row 8, column 'collection_date': value '05-10-2010': ")
    assert count(bank_dir) == {}
    code, out, _ = run(capsys, "import", "sample", MALFORMED, "--json")
    report = json.loads(out)
    assert code == 1 and report["problem_count"] == 7 and not report["committed"]
    assert report["problems"][3] == {
        "reason": "is also an identifier on row 2: two rows describe the same sample",
        "fix": "keep one row per record (merge the two rows), or correct the identifier",
        "value": "SAMN07137101", "row": 6, "column": "biosample"}


def test_options_on_the_command_line(bank_dir: Path, capsys: pytest.CaptureFixture[str]
                                     ) -> None:
    args = ["import", "sample", BATS, "--map", "Sample name=samp_name",
            "--set", "project_name=BATS Chisholm (PRJNA385855)", "--set", "samp_taxon_id=408172",
            "--set", "env_local_scale=ocean [ENVO:00000015]", "--date-format", "%d-%m-%Y",
            "--unit", "depth=m", "--map", "bottle_id=-", "--note", "BATS slice"]
    code, out, err = run(capsys, *args, "--dry-run")
    # the lat and Lon columns give lat_lon together; env_biome / env_material hold bare labels
    assert code == 1
    assert out.startswith("bats_samples.tsv: 40 problems in 20 rows")
    lines = err.splitlines()
    assert "lat_lon" not in err
    assert lines[1] == ("row 2, column 'env_biome': value 'marine biome': does not name an ENVO "
                        "term id. Fix: write 'label [ENVO:nnnnnnnn]', e.g. 'marine biome "
                        "[ENVO:00000447]'")
    mapping = Path(bank_dir.parent / "m.toml")
    mapping.write_text('[templates]\nenv_broad_scale = "{env_biome} [{purl_biome}]"\n'
                       'env_medium = "{env_material} [{purl_material}]"\n', encoding="utf-8")
    code, out, err = run(capsys, *args, "--mapping", str(mapping), "--dry-run")
    assert code == 0, err
    assert out.strip() == ("dry run of bats_samples.tsv: 20 rows are valid and would give "
                           "20 created, 0 updated, 0 unchanged; nothing was written")
    assert count(bank_dir) == {}
    code, out, err = run(capsys, *args, "--mapping", str(mapping))
    assert code == 0 and count(bank_dir) == {"sample": 20}


@pytest.mark.parametrize(("args", "message"), [
    (["import", "widget", BATS], "unknown record kind 'widget'"),
    (["import", "sample", BATS, "--mapping", MAPPING, "--map", "Latitude=lat_lon"],
     "the file has no column 'Latitude'; its columns are: 'samplingEvent_ID', 'BioSample'"),
    (["import", "sample", BATS, "--mapping", MAPPING, "--mode", "merge"], "unknown mode"),
    (["import", "sample", BATS, "--set", "project_name"], "needs the form LEFT=RIGHT"),
    (["import", "sample", BATS, "--set", "colour=blue"], "sample has no field 'colour'"),
    (["import", "sample", "no-such-file.csv"], "no file 'no-such-file.csv'"),
    (["import", "sample", BATS, "--mapping", "missing.toml"], "cannot read the mapping"),
    (["import", "strain", BATS, "--mapping", MAPPING], "is for kind 'sample', not 'strain'"),
])
def test_usage_errors_exit_2(bank_dir: Path, capsys: pytest.CaptureFixture[str],
                             args: list[str], message: str) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err


def test_usage_error_with_json_prints_the_envelope(bank_dir: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "import", "sample", BATS, "--mode", "merge", "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "usage"
