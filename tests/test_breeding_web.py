"""The breeding pages (``/breeding…``, TestClient, SQLite and PostgreSQL), from the breeder's
side: a curator signs in, uploads genotypes, phenotypes and a pedigree whose parents are in
``Father_ID``/``Mother_ID`` columns (refused with the column and the mapping that fixes it,
then accepted with the mapping), runs quality control, GBLUP and a mating plan as background
jobs and downloads the tables; every number the pages show equals what ``lanhai breed`` and
the API give for the same files. Then who may see what: private datasets and other people's
analyses never show to readers or anonymous visitors, and every form needs a curator and
its CSRF token. The same journey in a real browser is tests/test_web_browser_breeding.py.
"""

from __future__ import annotations

import csv
import io
import math
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.app import create_app
from lanhai.bank import Bank
from lanhai.breeding.pipeline import Inputs, load
from lanhai.services.access import Actor
from lanhai.web import breeding_forms
from tests.support import CURATOR, add_token, bank_on, breed, create_user
from tests.support.web import csrf_of

DATA = Path(__file__).parent / "data" / "breeding"
PLINK = ("simfish.bed", "simfish.bim", "simfish.fam")
PASSWORDS = {"ana": "curator-pass-1", "bo": "curator-pass-2", "rui": "reader-pass-1"}
#: the mapping the breeder types into the form (one COLUMN=FIELD a line)
MAPPING = "Father_ID=sire\nMother_ID=dam"
#: the mating plan asked for on the page and through the API
PLAN = {"matings": "10", "delta_f": "0.01", "max_kinship": "", "max_contribution": "0.5"}


@dataclass
class Breeders:
    client: TestClient
    bank: Bank
    tokens: dict[str, str]
    pedigree: Path

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def sign_in(self, who: str, then: str = "/breeding") -> None:
        self.client.cookies.clear()
        form = self.client.get("/signin")
        answer = self.client.post("/signin", data={
            "username": who, "password": PASSWORDS[who], "csrf": csrf_of(form.text),
            "next": then}, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == then

    def csrf(self, path: str = "/breeding/import") -> str:
        return csrf_of(self.client.get(path).text)


@pytest.fixture
def site(engine: Engine, tmp_path: Path) -> Iterator[Breeders]:
    """A bank with two curators, a reader and one published dataset (Mrode's calves); the
    simulated fish pedigree as a hatchery writes it, parents in Father_ID and Mother_ID."""
    folder = Path(tempfile.mkdtemp(prefix="lanhai-breeding-web-"))
    bank = bank_on(engine, folder, secret_key="breeding-web")
    tokens = {}
    for name, role in (("ana", "curator"), ("bo", "curator"), ("rui", "reader")):
        create_user(engine, name, role, password=PASSWORDS[name])
        tokens[name] = add_token(engine, name, "breeding web tests")
    calves = load(Inputs(pedigree=DATA / "mrode_pedigree.csv",
                         phenotypes=DATA / "mrode_phenotypes.csv"))
    bank.breeding.import_dataset(CURATOR, "mrode-calves", calves, published=True)
    pedigree = tmp_path / "hatchery.csv"
    text = (DATA / "simfish_pedigree.csv").read_text("utf-8")
    pedigree.write_text(text.replace("id,sire,dam,", "ID,Father_ID,Mother_ID,", 1), "utf-8")
    with TestClient(create_app(bank=bank)) as client:
        yield Breeders(client, bank, tokens, pedigree)
    bank.close()


def _files(pedigree: Path) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The breeder's files as the import form sends them."""
    out = [("genotypes", (name, (DATA / name).read_bytes(), "application/octet-stream"))
           for name in PLINK]
    out.append(("phenotypes", ("simfish_phenotypes.csv",
                               (DATA / "simfish_phenotypes.csv").read_bytes(), "text/csv")))
    out.append(("pedigree", (pedigree.name, pedigree.read_bytes(), "text/csv")))
    return out


def _import(site: Breeders, mapping: str, **extra: str) -> Any:
    form = {"csrf": site.csrf(), "name": "croaker", "covariate": "age_days", "map": mapping,
            **extra}
    return site.client.post("/breeding/import", data=form, files=_files(site.pedigree),
                            follow_redirects=False)


def _run(site: Breeders, name: str, form: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """Submit an analysis form of the dataset page; the results page's address and its JSON
    twin once the job is done."""
    answer = site.client.post(f"/breeding/datasets/{name}/run", data={
        "csrf": site.csrf(f"/breeding/datasets/{name}"), **form}, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:2000]
    target = answer.headers["location"]
    job_id = target.rsplit("/", 1)[1]
    assert re.fullmatch(r"/breeding/results/[0-9a-f]{32}", target)
    done = site.bank.jobs.wait(job_id, 300)
    assert done.status == "done", done.error
    twin = site.client.get(f"{target}.json")
    assert twin.status_code == 200
    data: dict[str, Any] = twin.json()
    assert data["job"]["status"] == "done" and not data["running"]
    return target, data


def _same(a: Any, b: Any, path: str = "") -> None:
    """Equal, floats to 1e-9 relative (NaN equal to NaN)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), (path, set(a) ^ set(b))
        for key in a:
            _same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            assert a is b, path
        elif not (math.isnan(a) and math.isnan(b)):
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b, (path, a, b)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _cli(capsys: pytest.CaptureFixture[str], pedigree: Path, *args: str) -> Any:
    """``lanhai breed ARGS --json`` on the same files, read with the same mapping."""
    code, out, err = breed(capsys, *args, "--genotypes", str(DATA / "simfish.bed"),
                           "--phenotypes", str(DATA / "simfish_phenotypes.csv"),
                           "--pedigree", str(pedigree), "--covariate", "age_days",
                           "--map", "Father_ID=sire", "--map", "Mother_ID=dam", "--json")
    assert code == 0, err
    return out


# --- the journey ----------------------------------------------------------------------------

def test_a_breeder_goes_from_files_to_a_mating_plan(
        site: Breeders, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path / "cli-bank"))
    site.sign_in("ana")
    home = site.client.get("/breeding")
    assert home.status_code == 200 and 'href="/breeding/import"' in home.text
    assert "mrode-calves" in home.text
    # the parents' columns are not named sire and dam: refused, beside the pedigree, with
    # the column and the mapping that fixes it; nothing stored
    refused = _import(site, "")
    assert refused.status_code == 422
    beside = re.search(r'<p class="error br-error" id="e_pedigree">(.*?)</p>', refused.text,
                       re.S)
    assert beside, "the problem is not beside the pedigree field"
    assert "hatchery.csv" in beside[1] and "no sire column" in beside[1]
    assert "column Father_ID" in beside[1] and "map Father_ID=sire" in beside[1]
    assert "map Mother_ID=dam" in beside[1]
    assert 'aria-invalid="true"' in refused.text and 'value="croaker"' in refused.text
    assert site.bank.breeding.datasets.meta("croaker") is None
    # checked only (a dry run): the counts, nothing stored
    checked = _import(site, MAPPING, dry_run="yes")
    assert checked.status_code == 200 and "Nothing was stored (check only)" in checked.text
    assert site.bank.breeding.datasets.meta("croaker") is None
    # mapped: imported; the dataset page shows what it holds and the mapping it was read with
    imported = _import(site, MAPPING)
    assert imported.status_code == 303, imported.text[:2000]
    assert imported.headers["location"] == "/breeding/datasets/croaker?imported=1"
    page = site.client.get(imported.headers["location"])
    assert page.status_code == 200 and "Imported." in page.text
    assert "Father_ID=sire; Mother_ID=dam" in page.text
    summary = site.client.get("/breeding/datasets/croaker.json").json()
    assert summary == breeding_forms.dataset_page(site.bank, Actor("ana", "curator"),
                                                  "croaker")
    cli_import = breed(capsys, "import", "--name", "croaker", "--genotypes",
                       str(DATA / "simfish.bed"), "--phenotypes",
                       str(DATA / "simfish_phenotypes.csv"), "--pedigree", str(site.pedigree),
                       "--covariate", "age_days", "--map", "Father_ID=sire", "--map",
                       "Mother_ID=dam", "--json")
    assert cli_import[0] == 0, cli_import[2]
    assert summary["dataset"]["counts"] == cli_import[1]["counts"]  # type: ignore[index]
    assert summary["dataset"]["map"] == {"Father_ID": "sire", "Mother_ID": "dam"}
    assert summary["dataset"]["covariates"] == ["age_days"]

    # quality control with the breeder's thresholds: the API's report for the same data
    qc_page, qc = _run(site, "croaker", {"analysis": "qc", "min_snp_call": "0.9",
                                         "min_animal_call": "0.9", "min_maf": "0.05",
                                         "hwe_p": "1e-06", "max_mendel": "0.02"})
    api_qc = site.client.post("/api/breeding/qc", data={"dataset": "croaker",
                                                        "min_maf": "0.05"},
                              headers=site.bearer("ana"))
    assert api_qc.status_code == 200, api_qc.text
    _same(qc["result"], api_qc.json())
    _same(qc["result"], _cli(capsys, site.pedigree, "qc", "--min-maf", "0.05"))
    html = site.client.get(qc_page).text
    steps = {s["step"]: s for s in qc["result"]["steps"]}
    assert steps["maf"]["snps_removed"] > 0
    assert "Quality control, step by step" in html and f'{steps["maf"]["snps_removed"]:,}' in html

    # GBLUP: variance components, then ranked candidates with their accuracy
    values_page, values = _run(site, "croaker", {"analysis": "predict", "trait": "weight",
                                                 "model": "gblup", "fixed_given": "1",
                                                 "fixed": "tank"})
    values_page_2, values_all = _run(site, "croaker", {"analysis": "predict",
                                                       "trait": "weight", "model": "gblup"})
    form = {"trait": "weight", "model": "gblup", "fixed": "tank"}
    api = site.client.post("/api/breeding/predict", data={"dataset": "croaker", **form},
                           headers=site.bearer("ana"))
    assert api.status_code == 200, api.text
    _same(values["result"], api.json())
    cli = _cli(capsys, site.pedigree, "predict", "--trait", "weight", "--model", "gblup",
               "--fixed", "tank")
    _same(values["result"], cli)
    assert set(values_all["result"]["fixed"]) == {"intercept", "tank=T2", "tank=T3",
                                                  "sex=M", "age_days"}
    ranking = values["result"]["ranking"]
    assert len(ranking) == 100 and ranking[0]["rank"] == 1
    assert ranking[0]["gebv"] >= ranking[-1]["gebv"]
    for row in ranking:
        assert math.isclose(row["accuracy"], math.sqrt(max(row["reliability"], 0.0)))
    best = ranking[0]
    html = site.client.get(values_page).text
    assert "Ranked candidates" in html and "Heritability h² (± SE)" in html
    assert f'<th scope="row">{best["id"]}</th><td class="num">{best["gebv"]:.4f}</td>' \
           f'<td class="num">{best["accuracy"]:.3f}</td>' in html
    assert 'aria-label="Variance components"' in html
    table = site.client.get(f"{values_page}.csv")
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    api_table = site.client.post("/api/breeding/predict?format=csv",
                                 data={"dataset": "croaker", **form},
                                 headers=site.bearer("ana"))
    rows = _rows(table.text)
    assert list(rows[0]) == ["rank", "id", "gebv", "reliability", "accuracy", "pev",
                             "phenotyped"]
    assert [(r["id"], float(r["gebv"]), float(r["accuracy"])) for r in rows] == [
        (r["id"], r["gebv"], r["accuracy"]) for r in ranking]
    assert rows == _rows(api_table.text)
    assert site.client.get(f"{values_page_2}.csv").text != table.text  # other effects

    # a mating plan from these breeding values (the form under the ranking)
    assert 'name="analysis" value="mate"' in html
    plan_page, plan = _run(site, "croaker", {"analysis": "mate", "fixed_given": "1",
                                             "fixed": "tank", **form, **PLAN})
    api_plan = site.client.post("/api/breeding/mate", data={
        "dataset": "croaker", **form, "matings": "10", "delta_f": "0.01",
        "max_contribution": "0.5"}, headers=site.bearer("ana"))
    assert api_plan.status_code in (200, 202), api_plan.text
    expected = api_plan.json() if api_plan.status_code == 200 else \
        site.bank.jobs.wait(api_plan.json()["id"], 300).result
    _same(plan["result"], expected)
    matings = plan["result"]["matings"]
    assert len(matings) == 10
    html = site.client.get(plan_page).text
    assert "Selected parents" in html and '<h2 id="plan-h">Matings</h2>' in html
    for m in matings:
        assert f"<td>{m['sire']}</td><td>{m['dam']}</td>" in html
    plan_rows = _rows(site.client.get(f"{plan_page}.csv").text)
    assert [(r["sire"], r["dam"]) for r in plan_rows] == [(m["sire"], m["dam"])
                                                          for m in matings]
    # the analyses are the breeder's jobs, listed on the breeding page and on /jobs
    overview = site.client.get("/breeding.json").json()
    assert {j["analysis"] for j in overview["jobs"]} == {"qc", "predict", "mate"}
    assert {j["href"] for j in overview["jobs"]} >= {qc_page, values_page, plan_page}
    assert "breed-mate" in site.client.get("/jobs").text


def test_the_json_twins_run_analyses_for_scripts(site: Breeders) -> None:
    """A bearer token needs no CSRF; a field left out takes the form's default."""
    made = site.client.post("/breeding/import.json", data={
        "name": "croaker", "covariate": "age_days", "map": ["Father_ID=sire",
                                                            "Mother_ID=dam"]},
        files=_files(site.pedigree), headers=site.bearer("ana"))
    assert made.status_code == 201, made.text
    assert made.headers["location"] == "/breeding/datasets/croaker.json"
    assert made.json()["counts"]["pedigree_animals"] == 100
    answer = site.client.post("/breeding/datasets/croaker/run.json",
                              data={"analysis": "predict"}, headers=site.bearer("ana"))
    if answer.status_code == 202:
        site.bank.jobs.wait(answer.json()["id"], 300)
        answer = site.client.get(answer.headers["location"], headers=site.bearer("ana"))
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["job"]["params"]["trait"] == "weight"  # the first trait, by GBLUP
    assert result["job"]["params"]["model"] == "gblup"
    assert result["csv"] == f"/breeding/results/{result['job']['id']}.csv"
    bad = site.client.post("/breeding/datasets/croaker/run.json", data={
        "analysis": "mate", "matings": "many"}, headers=site.bearer("ana"))
    assert bad.status_code == 422
    [problem] = bad.json()["error"]["problems"]
    assert problem["field"] == "matings" and problem["value"] == "many"
    unmapped = site.client.post("/breeding/import.json", data={"name": "other"},
                                files=_files(site.pedigree), headers=site.bearer("ana"))
    assert unmapped.status_code == 422
    problems = unmapped.json()["error"]["problems"]
    assert [(p["file"], p["column"]) for p in problems] == [
        ("hatchery.csv", "Father_ID"), ("hatchery.csv", "Mother_ID")]
    assert "map Father_ID=sire" in problems[0]["fix"]


def test_mapping_mistakes_are_shown_beside_the_mapping(site: Breeders) -> None:
    site.sign_in("ana", "/breeding/import")
    for mapping, words in (
            ("Father_ID", ["a mapping is written COLUMN=FIELD", "Father_ID=sire"]),
            ("Fathr_ID=sire\nMother_ID=dam", ["no column", "Fathr_ID",
                                              "ID, Father_ID, Mother_ID"]),
            ("Father_ID=sir\nMother_ID=dam", ["is not a pedigree field",
                                              "id, sire, dam"])):
        answer = _import(site, mapping)
        assert answer.status_code == 422, mapping
        beside = re.search(r'id="e_map">(.*?)</p>', answer.text, re.S)
        assert beside, (mapping, answer.text[:3000])
        text = beside[1].replace("&#39;", "'")
        for word in words:
            assert word in text, (mapping, word, text)
        assert f">{mapping}</textarea>" in answer.text  # the mapping is kept to fix
    assert site.bank.breeding.datasets.meta("croaker") is None


def test_a_refused_import_speaks_chinese(site: Breeders) -> None:
    """On the 中文 page the pedigree's unmapped parents are refused in Chinese: the reason,
    the mapping that fixes it and the message; the columns and the mapping stay as written."""
    site.sign_in("ana", "/breeding/import")
    form = {"csrf": site.csrf(), "name": "croaker", "covariate": "age_days", "map": ""}
    refused = site.client.post("/breeding/import?lang=zh", data=form,
                               files=_files(site.pedigree), follow_redirects=False)
    assert refused.status_code == 422
    page = refused.text.replace("&#39;", "'")
    beside = re.search(r'<p class="error br-error" id="e_pedigree">(.*?)</p>', page, re.S)
    assert beside, "the problem is not beside the pedigree field"
    assert "hatchery.csv" in beside[1]
    assert "系谱中没有 sire 列" in beside[1] and "系谱中没有 dam 列" in beside[1]
    assert "指明哪一列是 sire：映射 Father_ID=sire（命令行：--map 'Father_ID=sire'）" in \
        beside[1]
    assert "指明哪一列是 dam：映射 Mother_ID=dam" in beside[1]
    assert "无法确定系谱的列" in page  # the message above the form
    for english in ("no sire column", "no dam column", "name the column that holds",
                    "columns are not clear", "command line"):
        assert english not in page, english
    assert site.bank.breeding.datasets.meta("croaker") is None


def test_forms_show_each_problem_beside_its_field(site: Breeders) -> None:
    site.sign_in("ana")
    assert _import(site, MAPPING).status_code == 303
    csrf = site.csrf("/breeding/datasets/croaker")
    answer = site.client.post("/breeding/datasets/croaker/run", data={
        "csrf": csrf, "analysis": "mate", "trait": "weight", "model": "gblup",
        "fixed_given": "1", "matings": "many", "delta_f": "2", "max_kinship": "",
        "max_contribution": "0.5"})
    assert answer.status_code == 422
    assert re.search(r'id="e_m_matings">[^<]*whole number', answer.text)
    assert re.search(r'id="e_m_delta_f">[^<]*at most 1', answer.text)
    assert 'value="many"' in answer.text  # the values are kept
    wrong = site.client.post("/breeding/datasets/croaker/run", data={
        "csrf": csrf, "analysis": "predict", "trait": "length", "model": "gblup"})
    assert wrong.status_code == 422 and re.search(r'id="e_p_trait">[^<]*not a trait',
                                                  wrong.text)
    qc = site.client.post("/breeding/datasets/croaker/run", data={
        "csrf": csrf, "analysis": "qc", "min_snp_call": "0.9", "min_animal_call": "0.9",
        "min_maf": "0.7", "hwe_p": "1e-6", "max_mendel": "0.02"})
    assert qc.status_code == 422 and re.search(r'id="e_q_min_maf">[^<]*at most 0.5', qc.text)
    nameless = site.client.post("/breeding/import", data={"csrf": site.csrf(), "name": ""},
                                files=_files(site.pedigree))
    assert nameless.status_code == 422 and 'id="e_name"' in nameless.text
    taken = _import(site, MAPPING)
    assert taken.status_code == 409 and "croaker" in taken.text


# --- who may see and do what ---------------------------------------------------------------

def test_private_datasets_and_analyses_stay_private(site: Breeders) -> None:
    site.sign_in("ana")
    assert _import(site, MAPPING).status_code == 303  # private: not published
    ana_page, _ = _run(site, "croaker", {"analysis": "predict", "trait": "weight",
                                         "model": "gblup"})
    site.client.cookies.clear()
    for who in ("anonymous", "rui"):
        headers = site.bearer(who) if who in site.tokens else {}
        listing = site.client.get("/breeding", headers=headers)
        assert listing.status_code == 200 and "mrode-calves" in listing.text
        assert "croaker" not in listing.text
        assert [d["dataset"] for d in site.client.get("/breeding.json", headers=headers)
                .json()["datasets"]] == ["mrode-calves"]
        for path in ("/breeding/datasets/croaker", ana_page, f"{ana_page}.csv"):
            assert site.client.get(path, headers=headers).status_code == 404, (who, path)
        twin = site.client.get("/breeding/datasets/croaker.json", headers=headers)
        assert twin.status_code == 404 and twin.json()["error"]["code"] == "not_found"
        public = site.client.get("/breeding/datasets/mrode-calves.json", headers=headers)
        assert public.status_code == 200 and "sources" not in public.json()["dataset"]
        assert not public.json()["can_run"]
        assert "<form" not in site.client.get("/breeding/datasets/mrode-calves",
                                              headers=headers).text.split("<main", 1)[1]
    # a reader may not import or run; a token needs no CSRF, a signed-in form does
    reader = site.bearer("rui")
    assert site.client.post("/breeding/import.json", data={"name": "x"}, files=_files(
        site.pedigree), headers=reader).status_code == 403
    assert site.client.post("/breeding/datasets/mrode-calves/run.json", data={
        "analysis": "predict"}, headers=reader).status_code == 403
    anonymous = site.client.post("/breeding/datasets/mrode-calves/run",
                                 data={"analysis": "predict"})
    assert anonymous.status_code in (401, 403)
    site.sign_in("ana")
    forged = site.client.post("/breeding/datasets/mrode-calves/run",
                              data={"analysis": "predict"})
    assert forged.status_code == 403
    # another curator sees the dataset, not ana's analyses
    site.sign_in("bo")
    assert site.client.get("/breeding/datasets/croaker").status_code == 200
    assert site.client.get(ana_page).status_code == 404
    assert site.client.get("/breeding.json").json()["jobs"] == []


def test_a_published_dataset_is_read_by_anyone_and_run_by_curators(site: Breeders) -> None:
    page = site.client.get("/breeding/datasets/mrode-calves")
    assert page.status_code == 200 and "Running analyses needs a curator" in page.text
    site.sign_in("bo")
    target, result = _run(site, "mrode-calves", {"analysis": "predict", "trait": "wwg",
                                                 "model": "pblup"})
    assert [r["id"] for r in result["result"]["ranking"]][:1] and result["mate"] is not None
    assert site.client.get("/breeding/import.json").json() == {
        "form": {"name": "", "vcf_field": "GT", "factor": "", "covariate": "", "map": "",
                 "germplasm": "", "publish": False, "replace": False, "dry_run": False},
        "result": None}
    chinese = site.client.get(f"{target}?lang=zh")
    assert "候选个体排名" in chinese.text and "准确性" in chinese.text


def test_a_mating_plan_needs_sexes(site: Breeders) -> None:
    """Genotypes and phenotypes, the sex column left out (``sex=-``), no pedigree: breeding
    values yes, a mating plan no (said on the page, and a 422 for a forged post)."""
    site.sign_in("ana")
    files = [f for f in _files(site.pedigree) if f[0] != "pedigree"]
    made = site.client.post("/breeding/import", data={
        "csrf": site.csrf(), "name": "lines", "map": "sex=-"}, files=files,
        follow_redirects=False)
    assert made.status_code == 303, made.text[:2000]
    data = site.client.get("/breeding/datasets/lines.json").json()
    assert data["dataset"]["factors"] == ["tank"] and data["mating_models"] == []
    page = site.client.get("/breeding/datasets/lines").text
    assert "A mating plan needs the sex of the candidates" in page
    assert 'value="mate"' not in page
    refused = site.client.post("/breeding/datasets/lines/run", data={
        "csrf": site.csrf("/breeding/datasets/lines"), "analysis": "mate", "trait": "weight",
        "model": "gblup", **PLAN})
    assert refused.status_code == 422 and "records no sex" in refused.text
    values_page, values = _run(site, "lines", {"analysis": "predict", "trait": "weight",
                                               "model": "gblup"})
    assert values["mate"] is None and len(values["result"]["ranking"]) == 100
    assert 'value="mate"' not in site.client.get(values_page).text


def test_a_running_analysis_shows_its_progress(site: Breeders) -> None:
    """An analysis is a background job: until it is done its page shows the progress and
    reloads itself (the one page script), the table is not there yet, and the overview and
    /jobs list it."""
    import threading

    release = threading.Event()

    def task(progress: Any) -> dict[str, Any]:
        progress(1, 3, "REML")
        release.wait(60)
        return {"ranking": [{"rank": 1, "id": "A", "gebv": 1.0, "reliability": 0.25,
                             "accuracy": 0.5, "pev": 0.75, "phenotyped": True}]}

    job = site.bank.jobs.submit("breed-predict", "ana", {
        "analysis": "predict", "dataset": "mrode-calves", "trait": "wwg",
        "model": "pblup"}, task)
    site.sign_in("ana")
    try:
        for _ in range(100):
            page = site.client.get(f"/breeding/results/{job.id}")
            if 'value="1"' in page.text:
                break
            threading.Event().wait(0.05)
        assert page.status_code == 200 and 'data-refresh="yes"' in page.text
        assert '<progress max="3" value="1"' in page.text and "REML" in page.text
        assert site.client.get(f"/breeding/results/{job.id}.json").json()["running"]
        early = site.client.get(f"/breeding/results/{job.id}.csv")
        assert early.status_code == 400 and "no result yet" in early.text
        assert [j["status"] for j in site.client.get("/breeding.json").json()["jobs"]] == [
            "running"]
    finally:
        release.set()
    site.bank.jobs.wait(job.id, 30)
    done = site.client.get(f"/breeding/results/{job.id}")
    assert 'data-refresh="yes"' not in done.text and "<th scope=\"row\">A</th>" in done.text
    assert _rows(site.client.get(f"/breeding/results/{job.id}.csv").text)[0]["accuracy"] \
        == "0.5"
