"""End-to-end journeys in a real browser: Debian's Chromium driven by Playwright against a
real uvicorn server on a temporary bank. Every page visited is checked with axe-core
(served from the local npm cache, never the internet) and screenshotted to
test-output/screenshots/ (the browser, the tab and the checks: tests/support/browser.py).

Needs /usr/bin/chromium (CI installs it) and axe-core (`make test` runs
`npm install --prefix .cache/npm axe-core@4`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lanhai.bank import init_bank
from lanhai.search.mmseqs import MMseqs
from lanhai.services.access import LOCAL_ADMIN
from lanhai.services.sequence_search import SequenceSearch
from lanhai.settings import Settings
from lanhai.store.layout import Layout
from tests.support import DEPOSIT, SAMPLE, ZOBELLIA, create_user
from tests.support import browser as support
from tests.support.browser import PASSWORD, check, serve, sign_in_by_keyboard
from tests.support.sequences import GENBANK, stored, sus_pack
from tests.support.sequences import REGION as ASSEMBLY
from tests.support.web import GLYCAN, HEADER, ROW

pytestmark = support.MARKS
browser = support.browser
page = support.page

#: the deposit's accession: confidential, so created restricted with a held accession
DEPOSIT_ACCESSION = re.compile(r"LHDP[0-9A-Z]{7}")

@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """A uvicorn server on a free port over a temporary bank: (base URL, application)."""
    from lanhai.app import create_app

    folder = tmp_path_factory.mktemp("web-bank")
    bank = init_bank(Settings(data_dir=folder, secret_key="browser-tests"))
    catalog = bank.catalog
    sample = catalog.create(LOCAL_ADMIN, "sample", SAMPLE).accession
    strain = catalog.create(LOCAL_ADMIN, "strain", ZOBELLIA).accession
    deposit = catalog.create(LOCAL_ADMIN, "deposit", DEPOSIT).accession
    catalog.link(LOCAL_ADMIN, sample, "isolated_from", strain)
    catalog.link(LOCAL_ADMIN, strain, "deposited_as", deposit)
    assembly = catalog.create(LOCAL_ADMIN, "assembly", ASSEMBLY).accession
    catalog.link(LOCAL_ADMIN, strain, "sequenced_as", assembly)
    sequences = bank.sequences
    sequences.ingest(LOCAL_ADMIN, assembly, GENBANK)
    sequences.annotate(LOCAL_ADMIN, [assembly], packs=[sus_pack()],
                       steps=["genes", "families"])
    SequenceSearch(catalog, Layout(folder), mmseqs=MMseqs(threads=1)).update_index(
        dbs=["proteins"])  # the sequence search
    catalog.create(LOCAL_ADMIN, "compound", GLYCAN)
    create_user(bank.db.engine, "ana", "curator", password=PASSWORD)
    app = create_app(bank=bank)
    with serve(app) as url:
        yield url, app
    bank.close()


@pytest.fixture(scope="module")
def server(served: tuple[str, Any]) -> str:
    return served[0]


def test_browse_record_lineage(page: Any) -> None:
    page.goto("/")
    assert page.get_by_role("heading", name=re.compile("Programme dashboard")).is_visible()
    check(page, "dashboard")
    page.get_by_role("link", name="Browse", exact=True).click()
    page.wait_for_url("**/browse/samples")
    check(page, "browse-samples")
    page.get_by_label("Text").fill("OSD1")
    page.get_by_label("Sort").focus()
    page.keyboard.press("Tab")  # the filter form's submit button is next
    assert page.evaluate("document.activeElement.textContent") == "Apply"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "q=OSD1" in page.url and "Showing 1–1 of 1" in page.inner_text("main")
    page.get_by_role("link", name="LHSM0000001").first.click()
    page.wait_for_url("**/records/LHSM0000001")
    assert "OSD1_2014-06-21_0m" in page.inner_text("h1")
    check(page, "record-sample")
    page.get_by_role("link", name="Lineage", exact=True).click()
    page.wait_for_url("**/records/LHSM0000001/lineage")
    check(page, "lineage")
    page.locator("svg a[href='/records/LHST0000001']").first.click()
    page.wait_for_url("**/records/LHST0000001")
    check(page, "record-strain")
    assert not DEPOSIT_ACCESSION.search(page.content())  # the confidential deposit is hidden
    page.get_by_role("link", name="LHAS0000001").first.click()  # sequenced_as
    page.wait_for_url("**/records/LHAS0000001")
    assert page.locator("svg[aria-label^='Gene map']").count() == 1
    check(page, "record-assembly")
    page.goto("/map")
    check(page, "map")
    page.goto("/?lang=zh")
    assert "项目进展总览" in page.inner_text("h1")
    check(page, "dashboard-zh")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto("/records/LHST0000001?lang=en")
    check(page, "record-strain-phone")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_import_with_errors_fix_commit(page: Any, tmp_path: Path) -> None:
    sign_in_by_keyboard(page, "/import")
    check(page, "import")
    broken = tmp_path / "stations.csv"
    broken.write_text(HEADER + ROW.format(name="B1", date="2021-13-01", latlon="59.9 10.7"),
                      "utf-8")
    page.get_by_label("File (CSV, TSV, XLSX)").set_input_files(str(broken))
    page.get_by_label("Kind").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # kind -> file -> the submit button, by keyboard
    assert page.evaluate("document.activeElement.textContent") == "Check the file"
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Nothing was written")
    assert "2021-13-01" in page.inner_text("table")
    check(page, "import-report-errors")
    broken.write_text(HEADER + ROW.format(name="B1", date="2021-12-01", latlon="59.9 10.7"),
                      "utf-8")
    page.get_by_label("File (CSV, TSV, XLSX)").set_input_files(str(broken))
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_selector("text=No problems found")
    check(page, "import-report-clean")
    page.get_by_role("button", name=re.compile("^Commit")).click()
    page.wait_for_selector("text=Committed.")
    check(page, "import-committed")
    page.get_by_role("link", name=re.compile("^LHSM")).first.click()
    assert "B1" in page.inner_text("h1")


def test_sign_in_edit_history(page: Any) -> None:
    sign_in_by_keyboard(page, "/records/LHST0000001")
    check(page, "record-strain-curator")
    assert DEPOSIT_ACCESSION.search(page.content())  # curators see the deposit
    page.get_by_role("link", name="Edit", exact=True).click()
    page.wait_for_url("**/edit")
    check(page, "edit")
    page.get_by_label("risk_group *").fill("9")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=is not a risk group 1-4")
    check(page, "edit-errors")
    page.get_by_label("risk_group *").fill("2")
    page.get_by_label("Note for the history (optional)").fill("re-checked biosafety")
    page.get_by_label("Note for the history (optional)").press("Enter")  # keyboard submit
    page.wait_for_url("**/records/LHST0000001/history")
    text = page.inner_text("main")
    assert "re-checked biosafety" in text and "risk_group" in text
    check(page, "history")


def test_jobs_page_refreshes_while_a_job_runs(page: Any, served: tuple[str, Any]) -> None:
    runner = served[1].state.bank.jobs
    release = threading.Event()

    def task(progress: Any) -> dict[str, Any]:
        progress(1, 3, "assemblies")
        release.wait(30)
        return {"ok": True}

    job = runner.submit("annotate", "ana", {"accessions": ["LHAS0000001"]}, task)
    sign_in_by_keyboard(page, "/jobs")
    assert "1/3 assemblies" in page.inner_text("main")
    check(page, "jobs-running")
    release.set()
    runner.wait(job.id, 30)
    page.wait_for_selector("text=done", timeout=10_000)  # the page reloaded itself
    assert page.locator("table[data-refresh=no]").count() == 1
    check(page, "jobs-done")


def test_paste_a_sequence_then_open_the_hits_sample(page: Any, served: tuple[str, Any]
                                                    ) -> None:

    store = stored(served[1].state.bank.settings.data_dir)
    [(ident, sequence)] = [(r["id"], r["sequence"]) for r in store.iter_rows(
        "LHAS0000001", "proteins", ["id", "sequence"])][:1]
    page.goto("/")
    page.get_by_role("link", name="Search", exact=True).click()
    page.wait_for_url("**/search")
    page.get_by_role("link", name="Sequence", exact=True).click()
    page.wait_for_url("**/search/sequence")
    check(page, "search-sequence")
    page.get_by_label("Query sequences (FASTA)").fill(f">{ident}\n{sequence.rstrip('*')}\n")
    page.get_by_label("Sensitive (slower)").focus()
    page.keyboard.press("Tab")  # the checkbox is followed by the submit button …
    assert page.evaluate("document.activeElement.textContent") == "Search"
    with page.expect_navigation():
        page.keyboard.press("Enter")  # … and Enter submits the form
    table = page.inner_text("main table")
    assert ident in table and "100.0 %" in table
    check(page, "search-sequence-hits")
    page.locator("main table a[href='/records/LHSM0000001']").first.click()
    page.wait_for_url("**/records/LHSM0000001")
    assert "OSD1_2014-06-21_0m" in page.inner_text("h1")
    # a broken FASTA: the form again, the problem beside the field
    page.goto("/search/sequence")
    page.get_by_label("Query sequences (FASTA)").fill(">bad\nMK1V\n")
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector("#e_fasta")
    check(page, "search-sequence-errors")


def test_search_pages_pass_axe(page: Any) -> None:
    page.goto("/search?q=Zobellia")
    assert "LHST0000001" in page.inner_text("main")
    check(page, "search-text")
    page.goto("/search?depth_min=deep&lang=zh")
    check(page, "search-text-errors-zh")
    page.goto("/search/compounds?lang=en")
    page.get_by_label("Structure", exact=True).fill("OCC1OC(O)C(O)C(O)C1O")
    page.get_by_label("similarity").check()
    page.get_by_label("Tanimoto ≥").press("Enter")  # keyboard submit
    page.wait_for_selector("figure svg")
    assert "neoagarobiose" in page.inner_text("main")
    check(page, "search-compounds")
    page.goto("/search/families?family=TonB_dep_Rec")
    check(page, "search-families")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto("/search?q=Zobellia")
    check(page, "search-text-phone")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

