"""A breeder's journey in a real browser (Chromium, Playwright) against a real server on a
temporary bank: the breeding pages as a visitor, then signed in as a curator: upload
genotypes, phenotypes and a pedigree whose parents are in Father_ID and Mother_ID columns
(refused, the problem and its fix beside the pedigree; accepted with the column mapping
Father_ID=sire, Mother_ID=dam) → quality control → breeding values by GBLUP with REML
variance components → ranked candidates with their accuracy → a mating plan → both tables as
CSV, equal to what the API gives for the same dataset. Every page is checked with axe-core
and screenshotted, on a laptop and a phone; nothing may scroll the page sideways. The
browser, the tab and the checks are tests/support/browser.py.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lanhai.bank import init_bank
from lanhai.breeding.pipeline import Inputs, load
from lanhai.settings import Settings
from tests.support import CURATOR, add_token, create_user
from tests.support import browser as support
from tests.support.browser import PASSWORD, PHONE, check, fits_the_width, serve
from tests.support.browser import sign_in_by_keyboard as sign_in

pytestmark = support.MARKS
browser = support.browser
page = support.page

DATA = Path(__file__).parent / "data" / "breeding"
PLINK = [DATA / f"simfish.{ext}" for ext in ("bed", "bim", "fam")]


#: the curator's API token (the API's answers are what the pages' tables must equal)
TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server over a bank with a curator and one published dataset (Mrode's calves)."""
    from lanhai.app import create_app

    folder = tmp_path_factory.mktemp("breeding-bank")
    bank = init_bank(Settings(data_dir=folder, secret_key="browser-tests"))
    create_user(bank.db.engine, "ana", "curator", password=PASSWORD)
    TOKEN["ana"] = add_token(bank.db.engine, "ana", "browser tests")
    calves = load(Inputs(pedigree=DATA / "mrode_pedigree.csv",
                         phenotypes=DATA / "mrode_phenotypes.csv"))
    bank.breeding.import_dataset(CURATOR, "mrode-calves", calves, published=True)
    with serve(create_app(bank=bank)) as url:
        yield url
    bank.close()


@pytest.fixture(scope="module")
def pedigree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated pedigree as a hatchery writes it: Father_ID and Mother_ID columns."""
    path = tmp_path_factory.mktemp("files") / "hatchery_pedigree.csv"
    text = (DATA / "simfish_pedigree.csv").read_text("utf-8")
    path.write_text(text.replace("id,sire,dam,", "ID,Father_ID,Mother_ID,", 1), "utf-8")
    return path


def test_a_visitor_sees_published_datasets_only(page: Any) -> None:
    page.goto("/")
    page.get_by_role("link", name="Breeding", exact=True).click()
    page.wait_for_url("**/breeding")
    assert "mrode-calves" in page.inner_text("main")
    assert "sign in" in page.inner_text("main .notice").lower()
    check(page, "breeding-visitor")
    page.get_by_role("link", name="mrode-calves").click()
    page.wait_for_url("**/breeding/datasets/mrode-calves")
    assert "Running analyses needs a curator" in page.inner_text("main")
    assert page.locator("main form").count() == 0  # no analysis forms for visitors
    check(page, "breeding-dataset-visitor")
    page.set_viewport_size(PHONE)
    page.goto("/breeding?lang=zh")
    assert "基因组选择" in page.inner_text("h1")
    check(page, "breeding-visitor-zh-phone")
    assert fits_the_width(page)


def test_from_files_to_a_mating_plan(page: Any, pedigree: Path, server: str) -> None:
    sign_in(page, "/breeding/import")
    check(page, "breeding-import")
    # the parents are in Father_ID and Mother_ID: refused, beside the pedigree, with the fix
    page.get_by_label("Dataset name").fill("croaker")
    _choose(page, pedigree)
    page.get_by_label("Covariates (optional)").fill("age_days")
    page.get_by_role("button", name="Import").click()
    page.wait_for_selector("#e_pedigree")
    beside = page.inner_text("#e_pedigree")
    assert "hatchery_pedigree.csv" in beside and "no sire column" in beside
    assert "map Father_ID=sire" in beside and "map Mother_ID=dam" in beside
    check(page, "breeding-import-errors")
    # mapped, the same files are imported
    page.get_by_label("Column mapping (optional)").fill("Father_ID=sire\nMother_ID=dam")
    _choose(page, pedigree)
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/breeding/datasets/croaker?imported=1")
    main = page.inner_text("main")
    assert "Imported." in main and "Father_ID=sire; Mother_ID=dam" in main
    assert "weight, fillet_yield" in main
    check(page, "breeding-dataset")
    # quality control
    page.get_by_label("Least minor allele frequency").fill("0.05")
    page.get_by_role("button", name="Check quality").click()
    page.wait_for_url(re.compile(r".*/breeding/results/[0-9a-f]{32}$"))
    page.wait_for_selector("text=Quality control, step by step")
    assert "maf" in page.inner_text("main table")
    check(page, "breeding-qc")
    # breeding values: a mistake first, shown beside its field
    page.goto("/breeding/datasets/croaker")
    page.locator("#m_matings").fill("many")
    page.get_by_role("button", name="Plan matings").click()
    page.wait_for_selector("#e_m_matings")
    assert "whole number" in page.inner_text("#e_m_matings")
    check(page, "breeding-dataset-errors")
    page.locator("#p_trait").select_option("weight")
    page.locator("#p_model").select_option("gblup")
    page.locator("#p_model").focus()
    page.keyboard.press("Tab")  # the fixed effects, ticked …
    page.get_by_role("button", name="Estimate breeding values").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # … and the form submitted by keyboard
    page.wait_for_selector("text=Ranked candidates")
    main = page.inner_text("main")
    assert "Heritability h² (± SE)" in main and "Accuracy" in main and "Reliability" in main
    assert page.locator("svg[aria-label='Variance components']").count() == 1
    check(page, "breeding-values")
    ranking = _download(page)
    assert list(ranking[0]) == ["rank", "id", "gebv", "reliability", "accuracy", "pev",
                                "phenotyped"]
    assert len(ranking) == 100 and ranking[0]["id"] in main
    # the same breeding values as the API's for the same dataset and form
    model = {"dataset": "croaker", "trait": "weight", "model": "gblup",
             "fixed": "tank,sex,age_days"}
    assert ranking == _api(server, "predict", model)
    values_page = page.url
    # a mating plan from these breeding values
    page.get_by_label("Matings").fill("10")
    page.get_by_role("button", name="Plan matings").click()
    page.wait_for_selector("text=Selected parents")
    plan = _download(page)
    assert len(plan) == 10 and {row["sire"] for row in plan} <= set(page.inner_text("main")
                                                                      .split())
    assert plan == _api(server, "mate", {**model, "matings": "10", "delta_f": "0.01",
                                         "max_contribution": "0.5"})
    check(page, "breeding-mating-plan")
    plan_page = page.url
    # the analyses are background jobs: listed on the breeding page and on /jobs
    page.goto("/breeding")
    assert page.get_by_role("link", name="Mating plan").count() >= 1
    check(page, "breeding-overview-curator")
    page.goto("/jobs")
    assert "breed-predict" in page.inner_text("main")
    # the same pages on a phone: wide tables scroll inside their own box
    page.set_viewport_size(PHONE)
    for name, url in (("breeding-values-phone", values_page),
                      ("breeding-mating-plan-phone", plan_page),
                      ("breeding-dataset-phone", "/breeding/datasets/croaker"),
                      ("breeding-import-phone", "/breeding/import")):
        page.goto(url)
        check(page, name)
        assert fits_the_width(page), name
    page.goto(f"{values_page}?lang=zh")
    assert "候选个体排名" in page.inner_text("main")
    check(page, "breeding-values-zh-phone")


def _choose(page: Any, pedigree: Path) -> None:
    """Choose the genotypes (the PLINK fileset), the phenotypes and the pedigree."""
    page.get_by_label("Genotypes", exact=True).set_input_files([str(p) for p in PLINK])
    page.get_by_label("Phenotypes", exact=True).set_input_files(
        str(DATA / "simfish_phenotypes.csv"))
    page.get_by_label("Pedigree (optional)").set_input_files(str(pedigree))


def _api(server: str, analysis: str, form: dict[str, str]) -> list[dict[str, str]]:
    """The table of ``POST /api/breeding/ANALYSIS?format=csv``."""
    import httpx

    answer = httpx.post(f"{server}/api/breeding/{analysis}?format=csv", data=form,
                        headers={"Authorization": f"Bearer {TOKEN['ana']}"}, timeout=300)
    assert answer.status_code == 200, answer.text
    return list(csv.DictReader(io.StringIO(answer.text)))


def _download(page: Any) -> list[dict[str, str]]:
    with page.expect_download() as event:
        page.get_by_role("link", name="Download the table (CSV)").click()
    text = Path(event.value.path()).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))
