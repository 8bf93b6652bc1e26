"""The curator's command line: init, create, show, list, link, lineage, history, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lanhai.cli.main import main
from tests.support import SAMPLE, ZOBELLIA, catalog_on


def run_json(capsys: pytest.CaptureFixture[str], args: list[str], code: int = 0) -> object:
    capsys.readouterr()
    assert main([*args, "--json"]) == code
    return json.loads(capsys.readouterr().out)


def fields_args(fields: dict[str, str]) -> list[str]:
    return [arg for name, value in fields.items() for arg in ("--set", f"{name}={value}")]


def test_init_twice_is_safe(bank_dir: Path) -> None:
    assert main(["init"]) == 0
    assert (bank_dir / "lanhai.sqlite").exists()


def test_create_show_link_lineage_history(bank_dir: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    strain = run_json(capsys, ["create", "strain", *fields_args(ZOBELLIA)])
    sample = run_json(capsys, ["create", "sample", *fields_args(SAMPLE)])
    assert isinstance(strain, dict) and isinstance(sample, dict)
    assert strain["accession"] == "LHST0000001" and sample["accession"] == "LHSM0000001"

    made = run_json(capsys, ["link", "lhst0000001", "isolated_from", "LHSM0000001"])
    assert made == {**made, "source": "LHSM0000001", "target": "LHST0000001"}
    shown = run_json(capsys, ["show", "LHST0000001"])
    assert isinstance(shown, dict)
    assert shown["fields"]["recommended_medium"] == "Marine agar 2216"
    assert shown["links"][0]["rel"] == "isolated_from"

    tree = run_json(capsys, ["lineage", "LHST0000001"])
    assert isinstance(tree, dict) and tree["ancestors"][0]["source"] == "LHSM0000001"

    run_json(capsys, ["update", "LHST0000001", "--set", "recommended_medium=Zobell 2216E",
                      "--note", "medium corrected"])
    versions = run_json(capsys, ["history", "LHST0000001"])
    assert isinstance(versions, list)
    assert versions[-1]["changed_by"] == "miner-li"  # LANHAI_USER
    assert versions[-1]["note"] == "medium corrected"
    assert versions[-1]["changes"]["recommended_medium"] == ["Marine agar 2216", "Zobell 2216E"]

    listed = run_json(capsys, ["list", "strains", "--where", "taxon~zobellia"])
    assert isinstance(listed, dict) and listed["total"] == 1
    capsys.readouterr()
    assert main(["list", "samples", "-q", "Western English Channel"]) == 0
    assert "LHSM0000001" in capsys.readouterr().out


def test_exit_codes(bank_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # bad data: 1, with every problem on stderr
    assert main(["create", "sample", "--set", "samp_name=x", "--set", "lat_lon=91 0"]) == 1
    err = capsys.readouterr().err
    assert "lat_lon" in err and "project_name" in err and "Fix:" in err
    # not found: 1
    assert main(["show", "LHSM0000999"]) == 1
    # usage: 2 (unknown kind, malformed accession, bad filter, unknown option)
    assert main(["list", "widgets"]) == 2
    assert main(["show", "12"]) == 2
    assert main(["list", "samples", "--where", "depth_m"]) == 2
    assert main(["list", "--no-such-option"]) == 2
    envelope = run_json(capsys, ["show", "LHSM0000999"], code=1)
    assert isinstance(envelope, dict) and envelope["error"]["code"] == "not_found"


def test_without_init_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path / "none"))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    assert main(["list"]) == 2
    assert "lanhai init" in capsys.readouterr().err


def test_an_older_bank_is_refused_until_init_upgrades_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A bank made by an earlier version (schema 0002: Chinese text not yet spelled out) is
    not searched with wrong answers: every command says to run `lanhai init`, which upgrades
    it in place, keeping the records."""
    from sqlalchemy import text

    from lanhai.db.engine import make_engine, migrate
    from lanhai.services.access import Actor
    from tests.support.search import TOMATO

    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path / "old"))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'old' / 'lanhai.sqlite'}")
    migrate(engine, "0002")
    made = catalog_on(engine).create(Actor("ana", "curator"), "germplasm", TOMATO)
    with engine.begin() as conn:  # the search text as the earlier version wrote it
        conn.execute(text("UPDATE records SET search_text = "
                          "substr(search_text, 1, instr(search_text, ' ||') - 1)"))
    engine.dispose()
    capsys.readouterr()
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert "revision 0002" in err and "lanhai init" in err
    assert main(["init"]) == 0
    found = run_json(capsys, ["list", "germplasm", "-q", "种质"])
    assert isinstance(found, dict)
    assert [r["accession"] for r in found["items"]] == [made.accession]


def test_deposit_lifecycle_moves_the_retention_clock(bank_dir: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    deposit = run_json(capsys, ["create", "deposit", "--set", "deposit_accession=CGMCC 12345",
                                "--set", "depositary=CGMCC", "--set", "deposit_date=2021-05-17",
                                "--set", "depositor=Lanhai test lab",
                                "--set", "rule_6_1_statement=pure culture, Zobellia sp."])
    assert isinstance(deposit, dict) and deposit["restricted"] is True
    assert deposit["fields"]["retention_end"] == "2051-05-17"
    acc = deposit["accession"]
    run_json(capsys, ["deposit-event", acc, "viability", "--set", "date=2021-05-20",
                      "--set", "result=viable"])
    later = run_json(capsys, ["deposit-event", acc, "furnishing", "--set", "date=2048-01-10",
                              "--set", "recipient=Examiner", "--set", "rule=11.1"])
    assert isinstance(later, dict)
    assert later["fields"]["retention_end"] == "2053-01-10"
    assert later["fields"]["last_viability"] == "viable"
    # an event before the deposit date is bad data
    assert main(["deposit-event", acc, "receipt", "--set", "date=2020-01-01",
                 "--set", "form=BP/4"]) == 1
