"""The breeding API (``/api/breeding/…``) gives what the service (and so ``lanhai breed``)
gives for the same files: uploads or an imported dataset in, the same JSON out; long work as
background jobs; bad data as a 422 with every problem."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.api import breeding_inputs as api
from lanhai.app import create_app
from lanhai.bank import Bank
from lanhai.breeding import analyses as service
from lanhai.breeding.pipeline import Inputs, ModelOptions, load
from lanhai.breeding.qc import QcOptions
from lanhai.settings import Settings
from tests.support import add_user, database
from tests.support.data_files import germplasm_lines as catalog
from tests.support.data_files import pedigree_with

DATA = Path(__file__).parent / "data" / "breeding"
Files = list[tuple[str, tuple[str, bytes]]]


def upload(*names: str, field: str | None = None) -> Files:
    """Multipart files: simfish.bed/.bim/.fam under genotypes, CSVs under their own field."""
    out: Files = []
    for name in names:
        key = field or ("genotypes" if name.startswith("simfish.") or ".vcf" in name
                        else name.removeprefix("simfish_").removesuffix(".csv"))
        out.append((key, (name, (DATA / name).read_bytes())))
    return out


PLINK = ("simfish.bed", "simfish.bim", "simfish.fam")
PED_PHEN = ("simfish_pedigree.csv", "simfish_phenotypes.csv")


class Api:
    def __init__(self, engine: Engine, data_dir: Path) -> None:
        self.engine = engine
        self.data_dir = data_dir
        app = create_app(bank=Bank.over(Settings(data_dir=data_dir), database(engine)))
        self.app = app
        self.client = TestClient(app)
        self.curator = add_user(engine, "ana", "curator")
        self.reader = add_user(engine, "rui", "reader")

    def post(self, route: str, files: Files, data: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> Any:
        return self.client.post(f"/api/breeding/{route}", files=files, data=data or {},
                                headers=self.curator if headers is None else headers)

    def result(self, answer: Any) -> dict[str, Any]:
        """The finished job's result, after checking the 202 and its Location."""
        assert answer.status_code == 202, answer.text
        job = answer.json()
        assert answer.headers["location"] == f"/api/jobs/{job['id']}"
        assert job["status"] in ("queued", "running", "done") and job["owner"] == "ana"
        done = self.app.state.bank.jobs.wait(job["id"], 120)
        assert done.status == "done", done.error
        polled = self.client.get(answer.headers["location"], headers=self.curator).json()
        assert polled["status"] == "done"
        result: dict[str, Any] = polled["result"]
        return result


@pytest.fixture
def sq(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Api]:
    """Analyses touch no catalog table: SQLite is enough."""
    yield Api(sqlite_engine, tmp_path / "bank")


@pytest.fixture
def both(engine: Engine, tmp_path: Path) -> Iterator[Api]:
    """Routes that read the catalog (germplasm): every backend."""
    yield Api(engine, tmp_path / "bank")


def same(api_value: Any, service_value: Any) -> None:
    """JSON has no NaN: the API sends null where the service has NaN."""
    assert api_value == api.clean(service_value)


def files_data(**kw: Any) -> Any:
    return load(Inputs(**kw))


def test_reml_on_plink_uploads_equals_the_service(sq: Api) -> None:
    answer = sq.post("reml", upload(*PLINK, "simfish_phenotypes.csv"),
                     {"trait": "weight", "model": "gblup", "covariate": "age_days"})
    assert answer.status_code == 200, answer.text
    data = files_data(genotypes=DATA / "simfish.bed", phenotypes=DATA /
                      "simfish_phenotypes.csv", covariates=["age_days"])
    want = service.variance_components(data, ["weight"], None, ModelOptions("gblup"))
    same(answer.json(), want)
    assert 0 < answer.json()["h2"] < 1 and "age_days" in answer.json()["fixed"]


def test_bivariate_reml_and_ai_method(sq: Api) -> None:
    answer = sq.post("reml", upload(*PED_PHEN), {"trait": "weight", "second_trait":
                                                  "fillet_yield", "model": "pblup",
                                                  "fixed": "tank"})
    assert answer.status_code == 200, answer.text
    data = files_data(pedigree=DATA / "simfish_pedigree.csv",
                      phenotypes=DATA / "simfish_phenotypes.csv")
    same(answer.json(), service.variance_components(
        data, ["weight", "fillet_yield"], ["tank"], ModelOptions("pblup")))
    answer = sq.post("reml", upload(*PED_PHEN), {"trait": "weight", "model": "pblup",
                                                  "method": "ai", "fixed": "-"})
    assert answer.status_code == 200 and answer.json()["method"] == "ai"
    assert list(answer.json()["fixed"]) == ["intercept"]


def test_predict_json_and_csv_equal_the_service(sq: Api) -> None:
    form = {"trait": "weight", "model": "pblup", "fixed": "tank"}
    answer = sq.post("predict", upload(*PED_PHEN), form)
    assert answer.status_code == 200, answer.text
    data = files_data(pedigree=DATA / "simfish_pedigree.csv",
                      phenotypes=DATA / "simfish_phenotypes.csv")
    body, _, _ = service.predictions(data, "weight", ["tank"], ModelOptions("pblup"))
    same(answer.json(), body)
    assert len(answer.json()["ranking"]) == 100
    table = sq.client.post("/api/breeding/predict?format=csv", files=upload(*PED_PHEN),
                           data=form, headers=sq.curator)
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert list(rows[0]) == ["rank", "id", "gebv", "reliability", "accuracy", "pev",
                             "phenotyped"]
    assert [(r["id"], float(r["gebv"])) for r in rows] == \
        [(r["id"], r["gebv"]) for r in body["ranking"]]


def test_vcf_upload_and_a_phenotyped_animal_without_a_genotype(sq: Api,
                                                               tmp_path: Path) -> None:
    vcf = DATA / "simfish40.vcf.gz"
    answer = sq.post("reml", upload("simfish40.vcf.gz", "simfish_phenotypes.csv"),
                     {"trait": "weight", "model": "gblup", "vcf_field": "DS"})
    assert answer.status_code == 200, answer.text
    data = files_data(genotypes=vcf, phenotypes=DATA / "simfish_phenotypes.csv",
                      vcf_field="DS")
    same(answer.json(), service.variance_components(data, ["weight"], None,
                                                    ModelOptions("gblup")))
    stray = tmp_path / "phenotypes.csv"
    stray.write_text((DATA / "simfish_phenotypes.csv").read_text() + "X999,T1,M,300,5.0,1.0\n")
    answer = sq.post("predict", [*upload("simfish40.vcf.gz"),
                                 ("phenotypes", ("phenotypes.csv", stray.read_bytes()))],
                     {"trait": "weight", "model": "gblup"})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid"
    (problem,) = error["problems"]
    assert problem["record"] == "X999" and problem["row"] == 82
    assert problem["reason"] == ("animal X999 has a phenotype but no genotype, so model "
                                 "gblup cannot relate it to any other animal")
    assert problem["fix"]


def test_qc_and_grm_equal_the_service(sq: Api) -> None:
    answer = sq.post("qc", upload(*PLINK, "simfish_pedigree.csv"), {"min_maf": "0.05"})
    assert answer.status_code == 200, answer.text
    data = files_data(genotypes=DATA / "simfish.bed", pedigree=DATA / "simfish_pedigree.csv")
    want, _ = service.quality_control(data, QcOptions(min_maf=0.05))
    same(answer.json(), want)
    assert {s["step"] for s in answer.json()["steps"]} >= {"maf", "snp_call_rate"}
    for matrix in ("G", "A-inverse"):
        answer = sq.post("grm", upload(*PLINK, "simfish_pedigree.csv"), {"matrix": matrix})
        assert answer.status_code == 200, answer.text
        opts = ModelOptions("gblup", grm_weight=0.0)
        same(answer.json(), service.relationship_matrix(data, matrix, opts, None))
    table = sq.client.post("/api/breeding/grm?format=tsv", files=upload(*PLINK),
                           data={"matrix": "G"}, headers=sq.curator)
    assert table.status_code == 200
    lines = table.text.splitlines()
    assert len(lines) == 101 and lines[0].split("\t")[0] == "id"


def test_cv_is_a_job_with_the_services_folds(sq: Api) -> None:
    form = {"trait": "weight", "model": "gblup", "folds": "4", "seed": "9", "fixed": "tank"}
    result = sq.result(sq.post("cv", upload(*PLINK, "simfish_phenotypes.csv"), form))
    data = files_data(genotypes=DATA / "simfish.bed", phenotypes=DATA /
                      "simfish_phenotypes.csv")
    want = service.cross_validation(data, "weight", ["tank"], ModelOptions("gblup"), "4", 9)
    same(result, want)
    assert len(result["folds"]) == 4 and result["folds_from"] == "4-fold"
    job_id = sq.client.get("/api/jobs", headers=sq.curator).json()["jobs"][0]["id"]
    table = sq.client.get(f"/api/breeding/jobs/{job_id}/result.csv", headers=sq.curator)
    assert table.status_code == 200
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [int(r["n_test"]) for r in rows] == [f["n_test"] for f in want["folds"]]
    # another curator may not read ana's job
    other = add_user(sq.engine, "bo", "curator")
    assert sq.client.get(f"/api/breeding/jobs/{job_id}/result.csv",
                         headers=other).status_code == 404


def test_cv_with_the_breeders_folds_file(sq: Api, tmp_path: Path) -> None:
    ids = [r["id"] for r in csv.DictReader((DATA / "simfish_phenotypes.csv").open())]
    folds = tmp_path / "folds.csv"
    folds.write_text("id,fold\n" + "".join(f"{a},{i // 9 % 3 + 1}\n"
                                           for i, a in enumerate(ids)))
    files = [*upload(*PED_PHEN), ("folds_file", ("folds.csv", folds.read_bytes()))]
    result = sq.result(sq.post("cv", files, {"trait": "weight", "model": "pblup"}))
    data = files_data(pedigree=DATA / "simfish_pedigree.csv",
                      phenotypes=DATA / "simfish_phenotypes.csv")
    want = service.cross_validation(data, "weight", None, ModelOptions("pblup"),
                                    str(folds), 1)
    assert result["folds"] == api.clean(want["folds"])
    assert result["folds_from"] == "folds from the uploaded file"


def test_mate_plan_equals_the_service(sq: Api, tmp_path: Path) -> None:
    form = {"trait": "weight", "model": "pblup", "matings": "10", "delta_f": "0.01"}
    answer = sq.post("mate", upload(*PED_PHEN), form)
    assert answer.status_code == 200, answer.text
    data = files_data(pedigree=DATA / "simfish_pedigree.csv",
                      phenotypes=DATA / "simfish_phenotypes.csv")
    want = service.mating_plan(data, "weight", None, ModelOptions("pblup"), None, 10, None,
                               0.01)
    same(answer.json(), want)
    assert len(answer.json()["matings"]) == 10
    table = sq.client.post("/api/breeding/mate?format=csv", files=upload(*PED_PHEN),
                           data=form, headers=sq.curator)
    assert table.text.splitlines()[0] == \
        "mating,sire,dam,progeny_inbreeding,expected_progeny_value"
    assert len(table.text.splitlines()) == 11


def test_large_data_and_background_run_as_jobs(sq: Api, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    form = {"trait": "weight", "model": "gblup"}
    files = upload(*PLINK, "simfish_phenotypes.csv")
    direct = sq.post("predict", files, form)
    assert direct.status_code == 200
    forced = sq.result(sq.post("predict", files, {**form, "background": "true"}))
    assert forced == direct.json()
    monkeypatch.setattr(api, "SYNC_GENOTYPE_CALLS", 100 * 300 - 1)  # simfish: 100 × 300
    assert sq.result(sq.post("predict", files, form)) == direct.json()


def test_usage_errors_are_precise(sq: Api) -> None:
    answer = sq.post("reml", upload("simfish.bed", "simfish.bim", "simfish_phenotypes.csv"),
                     {"trait": "weight"})
    assert answer.status_code == 400
    problem = answer.json()["error"]["problems"][0]
    assert problem["field"] == "genotypes" and ".fam" in problem["reason"]
    answer = sq.post("reml", upload(*PLINK, "simfish_phenotypes.csv"))
    assert answer.status_code == 400
    assert "weight, fillet_yield" in answer.json()["error"]["problems"][0]["fix"]
    answer = sq.post("predict", [], {"trait": "weight"})
    assert answer.status_code == 400 and "dataset" in answer.json()["error"]["problems"][0][
        "fix"]
    answer = sq.post("predict", upload(*PED_PHEN), {"model": "blup"})
    assert answer.status_code == 400
    assert answer.json()["error"]["problems"][0]["field"] == "model"
    answer = sq.post("reml", [], {"dataset": "nope", "trait": "weight"})
    assert answer.status_code == 404
    assert set(answer.json()) == {"error"}


def test_import_a_dataset_then_analyse_it_by_name(both: Api, tmp_path: Path) -> None:
    acc = catalog(both.engine)
    ped = pedigree_with(tmp_path, {row: acc["line"] for row in range(2, 22)})
    files = [*upload(*PLINK, "simfish_phenotypes.csv"),
             ("pedigree", ("pedigree.csv", ped.read_bytes()))]
    answer = both.post("datasets", files, {"name": "croaker", "covariate": "age_days"})
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"] == "/api/breeding/datasets/croaker"
    assert answer.json()["germplasm"] == {acc["line"]: 20}
    # by name, the same as the files
    by_name = both.post("reml", [], {"dataset": "croaker", "trait": "weight",
                                     "model": "ssgblup"})
    assert by_name.status_code == 200, by_name.text
    data = files_data(genotypes=DATA / "simfish.bed", pedigree=ped,
                      phenotypes=DATA / "simfish_phenotypes.csv", covariates=["age_days"])
    same(by_name.json(), service.variance_components(data, ["weight"], None,
                                                     ModelOptions("ssgblup")))
    # the name is taken
    again = both.post("datasets", upload("simfish_pedigree.csv"), {"name": "croaker"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    # a curator sees it; a reader does not (not published)
    got = both.client.get("/api/breeding/datasets/croaker", headers=both.curator)
    assert got.status_code == 200 and got.json()["counts"]["snps"] == 300
    listed = both.client.get(f"/api/breeding/datasets?germplasm={acc['line']}",
                             headers=both.curator).json()["datasets"]
    assert [d["dataset"] for d in listed] == ["croaker"]
    assert both.client.get("/api/breeding/datasets/croaker",
                           headers=both.reader).status_code == 404
    assert both.client.get("/api/breeding/datasets").json() == {"datasets": []}


def test_published_datasets_are_readable_without_confidential_lines(both: Api) -> None:
    acc = catalog(both.engine)
    answer = both.post("datasets", upload("simfish_pedigree.csv"),
                       {"name": "open", "germplasm": acc["secret"], "publish": "true"})
    assert answer.status_code == 201, answer.text
    for headers in ({}, both.reader):
        shown = both.client.get("/api/breeding/datasets/open", headers=headers).json()
        assert shown["published"] and shown["germplasm"] == {}  # the line is restricted
        assert "sources" not in shown
        assert both.client.get(f"/api/breeding/datasets?germplasm={acc['secret']}",
                               headers=headers).json() == {"datasets": []}
    shown = both.client.get("/api/breeding/datasets/open", headers=both.curator).json()
    assert shown["germplasm"] == {acc["secret"]: 100}
    assert shown["sources"] == {"pedigree": "simfish_pedigree.csv"}


def test_import_with_bad_accessions_is_a_422_and_stores_nothing(both: Api,
                                                                 tmp_path: Path) -> None:
    acc = catalog(both.engine)
    ped = pedigree_with(tmp_path, {2: acc["line"], 5: acc["strain"], 6: "LHGP0000077"})
    answer = both.post("datasets", [("pedigree", ("ped.csv", ped.read_bytes()))],
                       {"name": "bad"})
    assert answer.status_code == 422
    problems = answer.json()["error"]["problems"]
    assert [(p["row"], p["column"], p["value"]) for p in problems] == [
        (5, "accession", acc["strain"]), (6, "accession", "LHGP0000077")]
    assert all(p["fix"] for p in problems)
    assert both.client.get("/api/breeding/datasets/bad",
                           headers=both.curator).status_code == 404
    dry = both.post("datasets", upload("simfish_pedigree.csv"),
                    {"name": "dry", "germplasm": acc["line"], "dry_run": "true"})
    assert dry.status_code == 200 and dry.json()["dry_run"]
    assert dry.json()["germplasm"] == {acc["line"]: 100}
    assert not (both.data_dir / "breeding" / "dry").exists()


def test_readers_may_not_import_or_run(both: Api) -> None:
    for route in ("datasets", "reml", "predict", "qc", "grm", "cv", "mate"):
        answer = both.post(route, upload(*PED_PHEN), {"name": "x", "matings": "2"},
                           headers=both.reader)
        assert answer.status_code == 403, route
        anonymous = both.post(route, upload(*PED_PHEN), {"name": "x"}, headers={})
        assert anonymous.status_code == 401, route


def test_column_mapping_on_the_form(both: Api, tmp_path: Path) -> None:
    """``map`` (repeatable COLUMN=FIELD, as ``--map``): a pedigree with Father_ID and
    Mother_ID is refused naming the columns and the fix, and read with the mapping."""
    text = (DATA / "simfish_pedigree.csv").read_text()
    hatchery = text.replace("id,sire,dam,", "ID,Father_ID,Mother_ID,", 1).encode()
    files = [*upload(*PLINK, "simfish_phenotypes.csv"),
             ("pedigree", ("hatchery.csv", hatchery))]
    refused = both.post("datasets", files, {"name": "croaker", "covariate": "age_days"})
    assert refused.status_code == 422
    problems = refused.json()["error"]["problems"]
    assert [(p["file"], p["column"]) for p in problems] == [("hatchery.csv", "Father_ID"),
                                                            ("hatchery.csv", "Mother_ID")]
    assert "map Father_ID=sire" in problems[0]["fix"]
    assert "map Mother_ID=dam" in problems[1]["fix"]
    assert both.client.get("/api/breeding/datasets/croaker",
                           headers=both.curator).status_code == 404
    mapped = both.post("datasets", files, {"name": "croaker", "covariate": "age_days",
                                           "map": ["Father_ID=sire", "Mother_ID=dam"]})
    assert mapped.status_code == 201, mapped.text
    assert mapped.json()["counts"]["pedigree_animals"] == 100
    summary = both.client.get("/api/breeding/datasets/croaker", headers=both.curator).json()
    assert summary["map"] == {"Father_ID": "sire", "Mother_ID": "dam"}
    reader_view = both.client.get("/api/breeding/datasets", headers=both.reader).json()
    assert reader_view == {"datasets": []}  # not published
    # an analysis of uploads takes the same field; the answer equals the service's
    form = {"trait": "weight", "model": "pblup", "fixed": "tank",
            "map": ["Father_ID=sire", "Mother_ID=dam"]}
    answer = both.post("predict", [("pedigree", ("hatchery.csv", hatchery)),
                                   *upload("simfish_phenotypes.csv")], form)
    assert answer.status_code == 200, answer.text
    data = files_data(pedigree=DATA / "simfish_pedigree.csv",
                      phenotypes=DATA / "simfish_phenotypes.csv")
    body, _, _ = service.predictions(data, "weight", ["tank"], ModelOptions("pblup"))
    same(answer.json(), body)
    # a phenotype column renamed, another left out
    phen = (DATA / "simfish_phenotypes.csv").read_text().replace("weight", "体重", 1)
    renamed = both.post("reml", [("phenotypes", ("p.csv", phen.encode())),
                                 *upload("simfish_pedigree.csv")],
                        {"trait": "weight", "model": "pblup", "fixed": "tank",
                         "map": ["体重=weight", "fillet_yield=-"]})
    assert renamed.status_code == 200, renamed.text
    expected = service.variance_components(data, ["weight"], ["tank"], ModelOptions("pblup"))
    same(renamed.json(), expected)
    wrong = both.post("predict", [("pedigree", ("hatchery.csv", hatchery))],
                      {"model": "pblup", "map": "Father_ID"})
    assert wrong.status_code == 400
    [problem] = wrong.json()["error"]["problems"]
    assert problem["field"] == "map" and "COLUMN=FIELD" in problem["reason"]
