"""`GET /api/search`, `/api/search/compounds`, `GET|POST /api/search/families` and the
`lanhai search text|compound|family` commands, over the bank of test_search_catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.cli.main import main
from lanhai.db.engine import make_engine, migrate
from lanhai.settings import Settings
from tests.support import add_user, make_client
from tests.support.search import DATA, SALINOSPORAMIDE_B, SearchBank, build_bank, proteins


@pytest.fixture
def api(engine: Engine, tmp_path: Path) -> tuple[TestClient, SearchBank, dict[str, str]]:
    data_dir = tmp_path / "bank"
    data_dir.mkdir()
    bank = build_bank(engine, data_dir)
    client = make_client(engine, Settings(data_dir=data_dir))
    return client, bank, add_user(engine, "ana2", "curator")


def test_text_search_route(api: tuple[TestClient, SearchBank, dict[str, str]]) -> None:
    client, bank, curator = api
    body = client.get("/api/search", params={"q": "Zobellia"}).json()
    assert [i["accession"] for i in body["items"]] == [bank.acc["strain"]]
    assert body["facets"]["kind"] == {"strain": 1} and body["total"] == 1
    body = client.get("/api/search", params={"kind": "sample", "depth_min": 800,
                                             "sort": "depth", "desc": "true"}).json()
    assert [i["accession"] for i in body["items"]] == [bank.acc["deep_sample"]]
    body = client.get("/api/search", params={"kind": "sample", "depth_min": 800,
                                             "sort": "depth", "desc": "true"},
                      headers=curator).json()
    assert [i["accession"] for i in body["items"]] == [bank.acc["hidden_sample"],
                                                       bank.acc["deep_sample"]]
    body = client.get("/api/search", params={"q": "番茄"}).json()
    assert [i["accession"] for i in body["items"]] == [bank.acc["tomato"]]
    body = client.get("/api/search", params=[("has_family", "GH16")]).json()
    assert {i["accession"] for i in body["items"]} == {bank.acc["deep"],
                                                       bank.acc["deep_sample"]}
    tsv = client.get("/api/search", params={"q": "Salinispora", "format": "tsv"})
    lines = tsv.text.splitlines()
    assert lines[0].split("\t")[:3] == ["accession", "kind", "name"] and len(lines) == 3
    bad = client.get("/api/search", params={"bbox": "1,2,3"})
    assert bad.status_code == 400 and "W,S,E,N" in bad.json()["error"]["message"]


def test_compound_route(api: tuple[TestClient, SearchBank, dict[str, str]]) -> None:
    client, bank, _ = api
    body = client.get("/api/search/compounds",
                      params={"similar": SALINOSPORAMIDE_B, "threshold": 0.5}).json()
    assert [(i["name"], i["similarity"]) for i in body["items"]] == [
        ("salinosporamide A", 0.7925)]
    body = client.get("/api/search/compounds", params={"smarts": "[Cl]"}).json()
    assert body["mode"] == "smarts" and body["total"] == 1
    body = client.get("/api/search/compounds",
                      params={"inchikey": "LUEYTMPPCOCKBX-RLAAQAFRSA-N"}).json()
    assert [i["accession"] for i in body["items"]] == [bank.acc["curacin A"]]
    two = client.get("/api/search/compounds", params={"smarts": "C", "similar": "C"})
    assert two.status_code == 400
    bad = client.get("/api/search/compounds", params={"smiles": "C1CC("})
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["fix"]


def test_family_routes(api: tuple[TestClient, SearchBank, dict[str, str]]) -> None:
    client, bank, _ = api
    body = client.get("/api/search/families",
                      params={"family": ["GH16", "PF07980"], "depth_min": 800}).json()
    assert [i["protein_id"] for i in body["items"]] == ["MAR621_03589"]
    assert body["items"][0]["sample"] == bank.acc["deep_sample"]
    fasta = client.get("/api/search/families", params={"family": "PF07980",
                                                       "format": "fasta"}).text
    expected = {h.split()[0]: s for h, s in proteins()}
    headers = [line[1:].split()[0] for line in fasta.splitlines() if line.startswith(">")]
    assert headers == ["MAR621_02893", "MAR621_02265", "MAR621_02601"]
    first = fasta.split(">")[1].splitlines()
    assert "".join(first[1:]) == expected["MAR621_02893"]
    gbk = client.get("/api/search/families", params={"family": "PF07980", "format": "genbank"})
    assert gbk.headers["content-type"].startswith("text/x-genbank")
    assert [line.split()[1] for line in gbk.text.splitlines()
            if line.startswith("LOCUS")] == headers
    tsv = client.get("/api/search/families", params={"family": "GH16", "format": "tsv"})
    assert tsv.text.splitlines()[1].split("\t")[:3] == [bank.acc["deep"], "MAR621_03589",
                                                        "GH16_3"]
    posted = client.post("/api/search/families", data={"min_score": "50"},
                         files={"hmm": ("susd.hmm", (DATA / "SusD_RagB_PF07980.hmm")
                                        .read_bytes(), "text/plain")}).json()
    assert [(i["protein_id"], i["score"]) for i in posted["items"]] == [
        ("MAR621_02893", 84.3), ("MAR621_02265", 79.1)]
    bad = client.post("/api/search/families", files={"hmm": ("x.hmm", b"nonsense\n",
                                                              "text/plain")})
    assert bad.status_code == 422 and "HMMER3" in bad.json()["error"]["problems"][0]["fix"]


# --- the command line -----------------------------------------------------------------------

@pytest.fixture
def cli_bank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SearchBank:
    data_dir = tmp_path / "bank"
    data_dir.mkdir()
    monkeypatch.setenv("LANHAI_DATA_DIR", str(data_dir))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    engine = make_engine(f"sqlite:///{data_dir / 'lanhai.sqlite'}")
    migrate(engine)
    try:
        return build_bank(engine, data_dir)
    finally:
        engine.dispose()


def run_json(capsys: pytest.CaptureFixture[str], args: list[str], code: int = 0) -> Any:
    capsys.readouterr()
    assert main([*args, "--json"]) == code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_search_commands(cli_bank: SearchBank, capsys: pytest.CaptureFixture[str]) -> None:
    acc = cli_bank.acc
    body = run_json(capsys, ["search", "text", "tara", "--kind", "sample"])
    assert [i["accession"] for i in body["items"]] == [acc["deep_sample"]]
    body = run_json(capsys, ["search", "text", "--has-genome", "--sort", "accession"])
    assert body["facets"]["has_genome"] == body["total"] == 6  # the CLI acts as admin
    body = run_json(capsys, ["search", "text", "--bbox", "30,-30,60,0"])
    assert [i["accession"] for i in body["items"]] == [acc["deep_sample"]]
    body = run_json(capsys, ["search", "compound", "--smarts", "C1CSC=N1"])
    assert [i["name"] for i in body["items"]] == ["curacin A"]
    body = run_json(capsys, ["search", "family", "GH16", "PF07980", "--depth-max", "10",
                             "--min-score", "50"])
    assert [i["protein_id"] for i in body["items"]] == ["MAR621_02893", "MAR621_02265"]
    body = run_json(capsys, ["search", "family", "--hmm",
                             str(DATA / "SusD_RagB_PF07980.hmm"), "--depth-min", "800"])
    assert body["items"] == [] and body["proteins_searched"] == 15
    capsys.readouterr()
    assert main(["search", "family", "PF07980", "--format", "fasta"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(">MAR621_02893 assembly=" + acc["shallow"])
    assert main(["search", "text", "Zobellia", "--format", "tsv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split("\t")[:2] == [acc["strain"], "strain"]
    assert main(["search", "compound", "--smarts", "C", "--similar", "C"]) == 2
    assert "exactly one" in capsys.readouterr().err
    assert main(["search", "family"]) == 2
    assert main(["search", "text", "x", "--date-from", "June"]) == 2


def test_parts_export_as_sbol3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path / "bank"))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    assert main(["init"]) == 0
    # iGEM BBa_J23100 (Anderson promoter collection, demo data)
    assert main(["create", "part", "--set", "display_id=BBa_J23100", "--set",
                 "part_type=DNA", "--set", "role=promoter", "--set",
                 "sequence=ttgacggctagctcagtcctaggtacagtgctagc",
                 "--set", "part_name=constitutive promoter J23100"]) == 0
    capsysbinary.readouterr()
    assert main(["search", "text", "J23100", "--kind", "part", "--format", "sbol3"]) == 0
    turtle = capsysbinary.readouterr().out.decode()
    assert "BBa_J23100" in turtle and "sbol" in turtle
