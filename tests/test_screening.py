"""Screening as a chemist uses it: an assay table imported (all or nothing, linked to the
bank's compounds), a model trained and validated on it and registered with its data hash,
predictions that flag compounds outside the model's domain, the library ranked, and a
compound's screening profile. The assay is real approved drugs with made-up IC50s
(tests/support/screening.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lanhai.bank import Bank
from lanhai.errors import ConcurrentChange, NotFound, UsageError, ValidationFailed
from lanhai.screening.profile import approved_drugs
from lanhai.services.access import ANONYMOUS
from lanhai.store import screening as screening_store
from tests.support import ADMIN, CURATOR, READER, bank_on, run_json
from tests.support.screening import assay_table as _table
from tests.support.screening import drugs as _drugs
from tests.support.screening import pic50 as _pic50


@pytest.fixture
def bank(engine: Engine, tmp_path: Path) -> Bank:
    made = bank_on(engine, tmp_path)
    made.screening.create_assay(CURATOR, "kinase-ic50", {
        "name": "Test kinase IC50", "target": "test kinase", "endpoint": "IC50"})
    return made


def _compound(bank: Bank, name: str, smiles: str, restricted: bool = False) -> str:
    record = bank.catalog.create(CURATOR, "compound", {
        "compound_name": name, "smiles": smiles, "source_organism": "Salinispora tropica",
        "source_ids": f"test:{name.lower()}", "restricted": "yes" if restricted else "no"})
    return record.accession


def test_an_assay_table_is_imported_whole_and_linked_to_the_banks_compounds(
        bank: Bank, tmp_path: Path) -> None:
    drugs = _drugs(60)
    linked = _compound(bank, drugs[0][0].title(), drugs[0][1])
    report = bank.screening.import_results(CURATOR, "kinase-ic50", _table(
        tmp_path / "ic50.csv", drugs))
    assert report["committed"] and report["rows"] == 60 and report["compounds"] == 60
    assert report["linked"] == 1
    shown = bank.screening.assay(READER, "kinase-ic50")
    assert shown["result_count"] == 60 and shown["endpoints"] == {"IC50": 60}
    assert shown["linked"] == 1 and len(shown["data_hash"]) == 64
    first = bank.screening.results(READER, "kinase-ic50")[0]
    assert first["compound_record"] == linked
    # 1 µM is pIC50 6: the stored row carries nM and pX
    assert first["px"] == pytest.approx(_pic50(drugs[0][1]), abs=1e-4)
    again = bank.screening.import_results(CURATOR, "kinase-ic50", tmp_path / "ic50.csv")
    assert again["status"] == "unchanged"
    # a bad row refuses the file: nothing is added
    bad = tmp_path / "bad.csv"
    text = (tmp_path / "ic50.csv").read_text("utf-8").splitlines()
    text[3] = text[3].replace(",uM,", ",mm,")
    text[5] = text[5].replace('"C', '"Xq', 1)
    bad.write_text("\n".join(text) + "\n", "utf-8")
    with pytest.raises(ValidationFailed) as err:
        bank.screening.import_results(CURATOR, "kinase-ic50", bad)
    assert {p.row for p in err.value.problems} >= {4}
    assert bank.screening.assay(READER, "kinase-ic50")["result_count"] == 60
    with pytest.raises(Exception, match="curator"):
        bank.screening.import_results(READER, "kinase-ic50", bad)


def test_a_model_is_validated_registered_and_cites_its_data(bank: Bank,
                                                            tmp_path: Path) -> None:
    drugs = _drugs(90)
    bank.screening.import_results(CURATOR, "kinase-ic50", _table(tmp_path / "t.csv", drugs))
    seen: list[tuple[int, int, str]] = []
    model = bank.screening.train(CURATOR, "kinase-ic50", endpoint="IC50", folds=3,
                                 repeats=1, n_estimators=60,
                                 progress=lambda d, t, w: seen.append((d, t, w)))
    assert model["key"] == "kinase-ic50.v1" and model["task"] == "regression"
    assert model["training_size"] == 90 and len(model["digest"]) == 64
    assert set(model["validation"]) == {"scaffold", "random"}
    for split in ("scaffold", "random"):
        r2 = model["validation"][split]["metrics"]["r2"]
        assert r2["n"] == 3 and r2["mean"] > 0.3, (split, r2)  # the logP rule is learnt
    assert seen[-1][0] == seen[-1][1]
    done = [d for d, _, _ in seen]
    assert done == sorted(done) and len(set(done)) >= 3 * 2  # each fold moves it on
    _, blob = bank.screening.model_bytes(READER, "kinase-ic50.v1")
    assert screening_store.model_file(bank.layout.models, model["digest"]).read_bytes() == blob
    # predictions name the model; a far-away structure is flagged, a bad SMILES reported
    inside = drugs[3][1]
    far = "C(F)(F)(F)C(F)(F)C(F)(F)C(F)(F)C(F)(F)C(F)(F)S(=O)(=O)O"
    out = bank.screening.predict(ANONYMOUS, "kinase-ic50.v1", [inside, far, "C1CC"])
    assert out["model"]["key"] == "kinase-ic50.v1"
    near, outside, broken = out["predictions"]
    assert near["in_domain"] is True and near["domain_similarity"] == 1.0
    assert abs(near["value"] - _pic50(inside)) < 1.0
    assert outside["in_domain"] is False
    assert broken["error"] and broken["value"] is None
    second = bank.screening.train(CURATOR, "kinase-ic50", endpoint="IC50", folds=3,
                                  repeats=1, n_estimators=20)
    assert second["key"] == "kinase-ic50.v2"
    assert [m["key"] for m in bank.screening.models(READER, "kinase-ic50")] == [
        "kinase-ic50.v2", "kinase-ic50.v1"]


def test_too_few_compounds_and_a_killed_training_register_nothing(
        bank: Bank, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bank.screening.import_results(CURATOR, "kinase-ic50", _table(tmp_path / "t.csv",
                                                                 _drugs(8)))
    with pytest.raises(ValidationFailed, match="too few"):
        bank.screening.train(CURATOR, "kinase-ic50", endpoint="IC50")
    bank.screening.import_results(CURATOR, "kinase-ic50", _table(tmp_path / "u.csv",
                                                                 _drugs(50)[8:]))

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(screening_store, "insert_model", killed)
    with pytest.raises(KeyboardInterrupt):
        bank.screening.train(CURATOR, "kinase-ic50", endpoint="IC50", folds=3, repeats=1,
                             n_estimators=10)
    assert bank.screening.models(ADMIN) == []
    with pytest.raises(NotFound):
        bank.screening.model(ADMIN, "kinase-ic50.v1")
    with pytest.raises(UsageError, match="has no EC50 values"):
        bank.screening.train(CURATOR, "kinase-ic50", endpoint="EC50")


def test_the_library_is_ranked_and_profiled_for_what_the_caller_may_see(
        bank: Bank, tmp_path: Path) -> None:
    drugs = _drugs(70)
    bank.screening.import_results(CURATOR, "kinase-ic50", _table(tmp_path / "t.csv",
                                                                 drugs[:60]))
    bank.screening.train(CURATOR, "kinase-ic50", endpoint="IC50", folds=3, repeats=1,
                         n_estimators=30)
    public = [_compound(bank, name.title(), smiles) for name, smiles in drugs[60:66]]
    secret = _compound(bank, drugs[66][0].title(), drugs[66][1], restricted=True)
    ranked = bank.screening.rank_library(READER, "kinase-ic50.v1")
    assert {r["accession"] for r in ranked["ranking"]} == set(public)
    assert [r["rank"] for r in ranked["ranking"]] == list(range(1, 7))
    inside = [r for r in ranked["ranking"] if r["in_domain"]]
    assert [r["score"] for r in inside] == sorted((r["score"] for r in inside), reverse=True)
    assert secret in {r["accession"] for r in bank.screening.rank_library(
        ADMIN, "kinase-ic50.v1")["ranking"]}
    table = bank.screening.ranking_file(READER, "kinase-ic50.v1", "csv").decode()
    assert table.splitlines()[0].startswith("rank,accession,name,score")
    assert len(table.splitlines()) == 7
    sdf = bank.screening.ranking_file(READER, "kinase-ic50.v1", "sdf").decode()
    assert sdf.count("$$$$") == 6 and "<score>" in sdf
    profile = bank.screening.profile(READER, accession=public[0])
    assert profile["accession"] == public[0]
    assert {r["name"] for r in profile["rules"]} >= {"Lipinski", "Veber"}
    assert profile["predictions"][0]["model"]["key"] == "kinase-ic50.v1"
    assert profile["nearest_drugs"][0]["similarity"] == 1.0  # it is an approved drug
    assert public[0] not in {n["key"] for n in profile["nearest_library"]}
    with pytest.raises(NotFound):
        bank.screening.profile(READER, accession=secret)
    assert len(approved_drugs()) > 2000


def test_a_glycan_without_a_structure_is_profiled_by_its_notation(bank: Bank) -> None:
    """kappa-carrageenan's repeat unit as glycowork writes it: a 4-sulfated beta-galactose
    and a 3,6-anhydro-alpha-galactose."""
    made = bank.catalog.create(CURATOR, "compound", {
        "compound_name": "kappa-carrageenan repeat", "source_organism": "Kappaphycus alvarezii",
        "glycan_iupac": "3,6-Anhydro-Gal(a1-3)Gal4S", "source_ids": "test:kappa"})
    found = bank.screening.profile(READER, accession=made.accession)
    assert found["smiles"] is None and found["carbohydrate"] is True
    glycan = found["glycan"]
    assert glycan["glycan_dp"] == 2 and glycan["glycan_sulfate"] == 1
    assert glycan["glycan_anhydro"] == 1
    with pytest.raises(NotFound):
        bank.screening.profile(READER, accession="LHCP9999999")


def test_a_confidential_assay_and_its_models_are_hidden(bank: Bank, tmp_path: Path) -> None:
    bank.screening.create_assay(CURATOR, "secret-mic", {
        "name": "Partner MIC", "endpoint": "MIC", "restricted": True})
    assert "secret-mic" not in {a["key"] for a in bank.screening.assays(READER)}
    assert "secret-mic" in {a["key"] for a in bank.screening.assays(CURATOR)}
    with pytest.raises(NotFound):
        bank.screening.assay(ANONYMOUS, "secret-mic")
    shown = bank.screening.assay(CURATOR, "kinase-ic50")
    with pytest.raises(ConcurrentChange):
        bank.screening.update_assay(CURATOR, "kinase-ic50", {"description": "x"},
                                    version=shown["version"] + 1)
    with pytest.raises(ValidationFailed, match="not valid"):
        bank.screening.create_assay(CURATOR, "bad", {"name": "x", "endpoint": "IC5O"})


def test_the_command_line(bank_dir: Path, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    from lanhai.cli.main import main

    made = run_json(capsys, ["screen", "create", "kinase", "--name", "Test kinase",
                             "--endpoint", "ic50", "--target", "test kinase"])
    assert made["endpoint"] == "IC50"
    table = _table(tmp_path / "kinase.csv", _drugs(45))
    text = table.read_text("utf-8").replace("Standard Value", "Potency")
    table.write_text(text, "utf-8")
    refused = run_json(capsys, ["screen", "import", "kinase", str(table)], code=1)
    assert "value" in json.dumps(refused)
    report = run_json(capsys, ["screen", "import", "kinase", str(table),
                               "--map", "Potency=value"])
    assert report["rows"] == 45
    model = run_json(capsys, ["screen", "train", "kinase", "--endpoint", "IC50",
                              "--folds", "3", "--repeats", "1"])
    assert model["key"] == "kinase.v1"
    assert [m["key"] for m in run_json(capsys, ["screen", "models"])] == ["kinase.v1"]
    out = run_json(capsys, ["screen", "predict", "kinase.v1", _drugs(1)[0][1], "C1CC"])
    assert out["predictions"][0]["in_domain"] is True and out["predictions"][1]["error"]
    ranked = run_json(capsys, ["screen", "rank", "kinase.v1", "--jobs", "2", "--csv",
                               str(tmp_path / "rank.csv")])
    assert ranked["count"] == 0 and (tmp_path / "rank.csv").read_text().startswith("rank,")
    profile = run_json(capsys, ["screen", "profile", "CC(=O)Oc1ccccc1C(=O)O"])
    assert profile["predictions"][0]["model"]["key"] == "kinase.v1"
    assert run_json(capsys, ["screen", "show", "kinase"])["models"][0]["key"] == "kinase.v1"
    capsys.readouterr()
    assert main(["screen", "profile", "CC(=O)Oc1ccccc1C(=O)O"]) == 0
    assert "Lipinski: passes" in capsys.readouterr().out


def test_the_api_by_role(engine: Engine, tmp_path: Path) -> None:
    import time

    from lanhai.settings import Settings
    from tests.support import add_user, make_client

    with make_client(engine, Settings(data_dir=tmp_path / "bank")) as client:
        curator = add_user(engine, "ana2", "curator")
        reader = add_user(engine, "rui2", "reader")
        body = {"key": "kinase", "name": "Test kinase", "endpoint": "IC50"}
        assert client.post("/api/screening/assays", json=body).status_code == 401
        assert client.post("/api/screening/assays", json=body,
                           headers=reader).status_code == 403
        made = client.post("/api/screening/assays", json=body, headers=curator)
        assert made.status_code == 201, made.text
        table = _table(tmp_path / "kinase.csv", _drugs(40)).read_bytes()
        sent = client.post("/api/screening/assays/kinase/results", headers=curator,
                           files={"file": ("kinase.csv", table, "text/csv")})
        assert sent.status_code == 200 and sent.json()["rows"] == 40, sent.text
        broken = table.replace(b",uM,", b",mm,", 1)
        refused = client.post("/api/screening/assays/kinase/results", headers=curator,
                              files={"file": ("kinase2.csv", broken, "text/csv")})
        assert refused.status_code == 422 and "mm" in refused.text
        assert client.get("/api/screening/assays/kinase").json()["result_count"] == 40
        assert client.post("/api/screening/assays/kinase/models", headers=reader,
                           json={"endpoint": "IC50"}).status_code == 403
        job = client.post("/api/screening/assays/kinase/models", headers=curator,
                          json={"endpoint": "IC50", "folds": 3, "repeats": 1})
        assert job.status_code == 202, job.text
        for _ in range(240):  # every half second: each signed-in read records the token's use
            state = client.get(job.headers["Location"], headers=curator).json()
            if state["status"] in ("done", "failed"):
                break
            time.sleep(0.5)
        assert state["status"] == "done", state.get("error")
        assert state["result"]["key"] == "kinase.v1"
        assert client.get("/api/screening/models").json()["models"][0]["key"] == "kinase.v1"
        out = client.post("/api/screening/models/kinase.v1/predict",
                          json={"smiles": [_drugs(1)[0][1]]}).json()
        assert out["predictions"][0]["in_domain"] is True
        assert client.get("/api/screening/models/kinase.v1/ranking").json()["count"] == 0
        screened = client.post("/api/screening/models/kinase.v1/ranking")
        assert screened.status_code == 202, screened.text
        assert client.get("/api/screening/models/kinase.v1/ranking.csv").text.startswith(
            "rank,")
        blob = client.get("/api/screening/models/kinase.v1/file").content
        import hashlib

        assert hashlib.sha256(blob).hexdigest() == state["result"]["digest"]
        profile = client.get("/api/screening/profile",
                             params={"smiles": "CC(=O)Oc1ccccc1C(=O)O"}).json()
        assert profile["inchikey"] == "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"
        assert client.get("/api/screening/models/nothing.v1").status_code == 404


def test_the_pages(engine: Engine, tmp_path: Path) -> None:
    from lanhai.settings import Settings
    from tests.support import make_client

    with make_client(engine, Settings(data_dir=tmp_path / "bank")) as client:
        bank = client.app.state.bank  # type: ignore[attr-defined]
        bank.screening.create_assay(CURATOR, "kinase", {"name": "Test kinase",
                                                        "endpoint": "IC50"})
        drugs = _drugs(45)
        bank.screening.import_results(CURATOR, "kinase", _table(tmp_path / "k.csv",
                                                                drugs[:40]))
        bank.screening.train(CURATOR, "kinase", endpoint="IC50", folds=3, repeats=1,
                             n_estimators=20)
        shown = _compound(bank, drugs[42][0].title(), drugs[42][1])
        overview = client.get("/screening")
        assert overview.status_code == 200 and "kinase.v1" in overview.text
        assert "Test kinase" in client.get("/screening/assays/kinase").text
        page = client.get("/screening/models/kinase.v1").text
        assert shown in page and "<svg" in page and "ranking.sdf" in page
        profile = client.get("/screening/profile", params={"accession": shown})
        assert profile.status_code == 200 and "Lipinski" in profile.text, profile.text[:500]
        assert "类药性规则" in client.get("/screening/profile",
                                        params={"smiles": "CCO", "lang": "zh"}).text
        twin = client.get("/screening/models/kinase.v1.json").json()
        assert twin["ranked"]["ranking"][0]["accession"] == shown
        assert client.get("/screening/models/nothing.v1").status_code == 404
        bad = client.get("/screening/profile", params={"smiles": "C1CC"})
        assert bad.status_code == 422 and "SMILES" in bad.text
