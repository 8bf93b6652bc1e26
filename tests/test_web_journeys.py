"""The first hour on the demo bank, in a real browser: each user's journey walked to its
end, at laptop and phone sizes, in English and 中文. Every page is checked with axe-core and
screenshotted to test-output/screenshots/journey-*.png; on a phone nothing scrolls sideways.

The demo bank is the one `make demo` builds (real public data, annotation, sequence index,
jobs), built once for this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lanhai.bank import Bank, init_bank
from lanhai.demo.builder import DEMO_CURATOR, DemoSummary, build_demo
from lanhai.services.access import LOCAL_ADMIN
from lanhai.settings import Settings
from tests.support import browser as support
from tests.support import copy_of_demo
from tests.support.browser import PHONE, check, fits_the_width, serve

pytestmark = [*support.MARKS, pytest.mark.slow]
browser = support.browser
page = support.page

PASSWORD = "journey-curator-pass"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory,
         built_demo: tuple[Path, dict[str, Any]]) -> Iterator[tuple[Bank, DemoSummary]]:
    """A copy of the built demo bank, and the summary building it again gives."""
    folder = copy_of_demo(built_demo, tmp_path_factory.mktemp("demo-bank"))
    bank = init_bank(Settings(data_dir=folder, secret_key="journeys"))
    summary = build_demo(bank, LOCAL_ADMIN)
    bank.users.set_user(LOCAL_ADMIN, DEMO_CURATOR, password=PASSWORD)
    yield bank, summary
    bank.close()


@pytest.fixture(scope="module")
def server(demo: tuple[Bank, DemoSummary]) -> Iterator[str]:
    from lanhai.app import create_app

    with serve(create_app(bank=demo[0])) as url:
        yield url


def _sign_in(page: Any) -> None:
    page.goto("/signin?next=/")
    page.get_by_label("Username").fill(DEMO_CURATOR)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _phone(page: Any, path: str, name: str) -> None:
    """The same page on a phone: checked, screenshotted, and nothing scrolls sideways."""
    page.set_viewport_size(PHONE)
    page.goto(path)
    check(page, name)
    assert fits_the_width(page), f"{path} scrolls sideways on a phone"
    page.set_viewport_size(support.LAPTOP)


def test_enzyme_miner_from_words_to_the_sample(page: Any, demo: tuple[Bank, DemoSummary]
                                              ) -> None:
    summary = demo[1]
    page.goto("/search?q=alginate+lyase")
    check(page, "journey-miner-words")
    page.get_by_role("link", name=re.compile(r"alginate lyase → alginate")).click()
    page.wait_for_url(re.compile(r"/search/families\?substrate=alginate"))
    check(page, "journey-miner-families")
    rows = page.locator("table tbody tr")
    assert rows.count() > 0
    families = {row.split("\t")[1] for row in rows.evaluate_all(
        "rs => rs.map(r => [...r.cells].map(c => c.innerText).join('\\t'))")}
    assert families & {"PL6", "PL7", "PL14", "PL17"}, families
    downloads = page.locator("a[href*='format=tsv'], a[href*='.tsv']")
    assert downloads.count() >= 1  # results export
    # a protein of the Zobellia proteome: its page, then up the lineage to the sample
    zobellia = summary.highlights["zobellia_proteome"]
    link = page.locator(f"a[href^='/records/{zobellia}/proteins/']").first
    link.click()
    page.wait_for_url(re.compile(rf"/records/{zobellia}/proteins/"))
    check(page, "journey-miner-protein")
    strain = summary.highlights["zobellia_strain"]
    page.locator(f"main a[href='/records/{strain}']").first.click()
    page.wait_for_url(f"**/records/{strain}")
    sample = summary.highlights["isolation_sample"]
    page.locator(f"main a[href='/records/{sample}']").first.click()
    page.wait_for_url(f"**/records/{sample}")
    assert "Roscoff" in page.inner_text("main")
    check(page, "journey-miner-sample")
    # a sequence: the example agarase finds itself and its family
    page.goto("/search/sequence?example=agab")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Search")).click()
    check(page, "journey-miner-sequence-hits")
    hit = page.locator(f"a[href^='/records/{zobellia}/proteins/']").first
    assert hit.count() == 1
    hit.click()
    page.wait_for_url(re.compile(r"/proteins/"))
    assert "GH16" in page.inner_text("main")
    # in Chinese, on a phone
    _phone(page, "/search?q=%E8%A4%90%E8%97%BB%E8%83%B6%E8%A3%82%E8%A7%A3%E9%85%B6&lang=zh",
           "journey-miner-words-zh-phone")
    assert page.locator("a[href*='substrate=alginate']").count() >= 1
    _phone(page, f"{page.url}", "journey-miner-protein-phone")


def test_manager_reads_the_dashboard_and_takes_it_away(page: Any) -> None:
    page.goto("/?lang=en")
    check(page, "journey-manager-dashboard")
    text = page.inner_text("main")
    assert re.search(r"as of \d{4}-\d{2}-\d{2}", text, re.I), text[:500]
    for measure in ("germplasm", "genetic parts"):
        assert measure in text.lower()
    csv = page.locator("a[download$='.csv']")
    xlsx = page.locator("a[download$='.xlsx']")
    assert csv.count() == 1 and xlsx.count() == 1
    with page.expect_download() as got:
        csv.click()
    saved = Path(got.value.path()).read_text("utf-8")
    assert saved.startswith("measure,measure_zh,count,target")
    _phone(page, "/?lang=zh", "journey-manager-dashboard-zh-phone")
    legend = page.inner_text("main")
    assert "样品" in legend and "Samples" not in legend


def test_curator_imports_maps_links_and_edits(page: Any, demo: tuple[Bank, DemoSummary],
                                             tmp_path: Path) -> None:
    bank, summary = demo
    _sign_in(page)
    page.goto("/browse/samples")
    page.get_by_role("link", name="Import").first.click()
    page.wait_for_url("**/import")
    table = tmp_path / "roscoff-stations.csv"
    table.write_text(
        "Station,Sampled on,Latitude,Longitude,Place,Biome,Feature,Material,Depth\n"
        'RA-1,14/05/2024,48.7749,-3.9897,"France: Roscoff","marine biome [ENVO:00000447]",'
        '"coastal water body [ENVO:02000049]","sea water [ENVO:00002149]",3\n', "utf-8")
    page.get_by_label("Kind").select_option("sample")
    page.locator("input#file").set_input_files(str(table))
    with page.expect_navigation():
        page.get_by_role("button", name="Check the file").click()
    check(page, "journey-curator-import-report")
    assert "lat_lon (combined)" in page.inner_text("main")
    page.get_by_label("Station", exact=True).select_option("samp_name")
    page.get_by_label("Sampled on", exact=True).select_option("collection_date")
    page.get_by_label("Place", exact=True).select_option("geo_loc_name")
    page.locator("textarea#set").fill("project_name=Roscoff coastal survey\n"
                                      "samp_taxon_id=408172")
    page.locator("input#date_format").fill("%d/%m/%Y")
    with page.expect_navigation():
        page.get_by_role("button", name="Check again").click()
    assert "No problems found" in page.inner_text("main")
    check(page, "journey-curator-import-mapped")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Commit")).click()
    new = page.locator("main ul a[href^='/records/LHSM']").first
    accession = new.inner_text()
    new.click()
    page.wait_for_url(f"**/records/{accession}")
    # a lineage link from the new sample's page
    strain = summary.highlights["zobellia_strain"]
    page.get_by_label("Relation").select_option("derived_from")
    page.get_by_label("Other record (accession)").fill(summary.highlights["isolation_sample"])
    with page.expect_navigation():
        page.get_by_role("button", name="Add a link").click()
    assert summary.highlights["isolation_sample"] in page.inner_text("main")
    check(page, "journey-curator-linked")
    # an edit with vocabulary widgets
    page.goto(f"/records/{strain}/edit")
    check(page, "journey-curator-edit")
    assert page.locator("select#f_organism_type").input_value() == "Bacteria"
    page.locator("select#f_status").select_option("available")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    assert bank.catalog.get(LOCAL_ADMIN, strain).fields["status"] == "available"
    _phone(page, f"/records/{strain}/edit?lang=zh", "journey-curator-edit-zh-phone")
    _phone(page, "/import?lang=zh", "journey-curator-import-zh-phone")


def test_metabolic_engineer_reads_a_design(page: Any, demo: tuple[Bank, DemoSummary]
                                          ) -> None:
    """The demo's growth-coupled succinate design: its analysis drawn, the knockout search
    of the design it came from, and the curator's forms, checked for accessibility."""
    made = demo[1].design
    _sign_in(page)
    page.goto(f"/records/{made['problem']}")
    check(page, "journey-design-problem")
    text = page.inner_text("main")
    assert "Knockouts that couple the product to growth" in text
    assert "adhE" in text  # the genes to delete, named
    page.goto(f"/records/{made['coupled']}")
    check(page, "journey-design-coupled")
    assert page.locator("svg[aria-label='Production envelope'] polygon").count() == 1
    assert "growth-coupled" in page.inner_text("main")
    assert page.get_by_role("button", name="Search knockouts").count() == 1
    _phone(page, f"/records/{made['coupled']}?lang=zh", "journey-design-zh-phone")


def test_map_zooms_in_on_the_demo_sites(page: Any) -> None:
    page.goto("/map")
    check(page, "journey-map-world")
    cluster = page.locator("svg.map a[href^='/map?']").first
    assert cluster.count() == 1
    with page.expect_navigation():
        cluster.click()
    assert "zoom=2" in page.url
    check(page, "journey-map-closer")
    _phone(page, "/map?lang=zh", "journey-map-zh-phone")


def test_developer_reads_the_reference(page: Any) -> None:
    page.goto("/docs")
    check(page, "journey-developer-docs")
    assert "bearer" in page.inner_text("body").lower()
    spec = page.request.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]
