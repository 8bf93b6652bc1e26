"""`lanhai search seq` and `lanhai search index` as a researcher runs them."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from lanhai.cli.main import main
from tests.support.sequences import DOKDONENSIS, FORSETII, LITORALIS


@pytest.fixture
def bank_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path / "bank"))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    monkeypatch.setenv("LANHAI_USER", "miner-li")
    assert main(["init"]) == 0
    for name, path in (("dok", DOKDONENSIS), ("fors", FORSETII)):
        made = run_json(capsys, ["create", "assembly", "--set", f"assembly_name={name}",
                                 "--set", "assembly_type=isolate genome",
                                 "--set", "seq_meth=Illumina", "--set", "assembly_software=x"])
        run_json(capsys, ["ingest", made["accession"], str(path), "--kind", "proteome",
                          "--allow-stops"])
    return tmp_path / "bank"


def run_json(capsys: pytest.CaptureFixture[str], args: list[str], code: int = 0) -> Any:
    capsys.readouterr()
    assert main([*args, "--json"]) == code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def query_file(tmp_path: Path, path: Path, count: int) -> Path:
    out = tmp_path / "query.faa"
    with gzip.open(path, "rt") as lines:
        text = "".join(lines)
    out.write_text(">" + ">".join(text.split(">")[1:count + 1]))
    return out


def test_index_then_search(bank_dir: Path, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    status = run_json(capsys, ["search", "index", "--status"])
    assert status["proteins"]["status"]["pending_add"] == ["LHAS0000001", "LHAS0000002"]
    done = run_json(capsys, ["search", "index"])
    assert done["proteins"]["action"]["added"] == ["LHAS0000001", "LHAS0000002"]
    assert done["proteins"]["status"]["sequences"] == 500
    assert done["proteins"]["status"]["up_to_date"] is True
    query = query_file(tmp_path, DOKDONENSIS, 2)
    result = run_json(capsys, ["search", "seq", str(query), "--max-hits", "1"])
    assert [(h["target"], h["assembly"], h["identity"]) for h in result["hits"]] == [
        ("I600_1_[Maribacter_dokdonensis_DSW-8]", "LHAS0000001", 1.0),
        ("I600_2_[Maribacter_dokdonensis_DSW-8]", "LHAS0000001", 1.0)]
    capsys.readouterr()
    assert main(["search", "seq", str(query), "--format", "tsv", "--max-hits", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t")[:6] == ["query", "target", "assembly", "evalue", "bits",
                                        "identity"]
    assert len(lines) == 3 and lines[1].split("\t")[2] == "LHAS0000001"


def test_search_seq_indexes_new_assemblies_first(bank_dir: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run_json(capsys, ["search", "index", "--db", "proteins"])
    made = run_json(capsys, ["create", "assembly", "--set", "assembly_name=lit",
                             "--set", "assembly_type=isolate genome",
                             "--set", "seq_meth=Illumina", "--set", "assembly_software=x"])
    run_json(capsys, ["ingest", made["accession"], str(LITORALIS), "--kind", "proteome"])
    query = query_file(tmp_path, LITORALIS, 1)
    stale = run_json(capsys, ["search", "seq", str(query), "--no-update"])
    assert stale["index"]["pending"] == 1
    assert made["accession"] not in {h["assembly"] for h in stale["hits"]}
    fresh = run_json(capsys, ["search", "seq", str(query)])
    assert fresh["hits"][0]["assembly"] == made["accession"]
    assert fresh["index"]["segments"] == 2 and fresh["index"]["pending"] == 0
    fresh_segments = run_json(capsys, ["search", "index", "--status"])
    first = fresh_segments["proteins"]["status"]["segments"][0]["name"]
    shutil.rmtree(bank_dir / "assemblies" / "LHAS0000002")  # half of the first segment
    masked = run_json(capsys, ["search", "index", "--db", "proteins"])
    assert masked["proteins"]["action"]["masked"] == ["LHAS0000002"]
    compacted = run_json(capsys, ["search", "index", "--compact", "--db", "proteins"])
    assert compacted["proteins"]["action"]["replaced"] == [first]
    assert compacted["proteins"]["status"]["sequences"] == 400
    rebuilt = run_json(capsys, ["search", "index", "--rebuild", "--db", "proteins"])
    assert len(rebuilt["proteins"]["status"]["segments"]) == 1


def test_bad_query_and_usage_errors(bank_dir: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.faa"
    bad.write_text(">q1\nMKV#LL\n")
    error = run_json(capsys, ["search", "seq", str(bad)], code=1)
    problem = error["error"]["problems"][0]
    assert (problem["record"], problem["row"], problem["file"]) == ("q1", 2, "bad.faa")
    assert "#" in problem["reason"] or problem.get("value") == "#"
    missing = run_json(capsys, ["search", "seq", str(tmp_path / "none.faa")], code=2)
    assert "no such file" in missing["error"]["message"]
    assert main(["search", "seq", str(bad), "--evalue", "0", "--json"]) == 2
    assert main(["search", "index", "--rebuild", "--compact", "--json"]) == 2
