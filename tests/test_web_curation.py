"""A curator's work on the pages: create one record, choose from closed lists, add and
remove lineage links; readers never see the forms and cannot post them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from lanhai.services.access import LOCAL_ADMIN
from tests.support import ZOBELLIA
from tests.support.web import Site, csrf_of, make_site, sign_in


@pytest.fixture
def site(engine: Engine) -> Iterator[Site]:
    yield from make_site(engine)


def _form(site: Site, path: str) -> tuple[str, str]:
    page = site.client.get(path)
    assert page.status_code == 200, page.text[:500]
    return page.text, csrf_of(page.text)


def _as_sent(page: str, csrf: str) -> dict[str, str | list[str]]:
    """The edit form as a browser sends it unchanged: every text field, select and ticked
    checkbox."""
    form: dict[str, str | list[str]] = {"csrf": csrf}
    version = re.search(r'name="version" value="(\d+)"', page)
    if version:
        form["version"] = version[1]
    for name, value in re.findall(r'type="text" id="f_\w+" name="f_(\w+)" value="([^"]*)"',
                                  page):
        form[f"f_{name}"] = value.replace("&#39;", "'").replace("&amp;", "&")
    for name, body in re.findall(r'<select id="f_(\w+)"[^>]*>(.*?)</select>', page, re.S):
        selected = re.search(r'<option value="([^"]*)" selected>', body)
        form[f"f_{name}"] = selected[1] if selected else ""
    for name in set(re.findall(r'type="checkbox" name="f_(\w+)"', page)):
        form[f"f_{name}"] = re.findall(
            rf'type="checkbox" name="f_{name}" value="([^"]*)" checked', page)
    return form


def test_a_curator_creates_one_strain_from_the_page(site: Site) -> None:
    assert site.client.get("/new/strain").status_code in (401, 403)
    sign_in(site, "ana")
    browse = site.client.get("/browse/strains").text
    assert 'href="/new/strain"' in browse
    page, csrf = _form(site, "/new/strain")
    # closed vocabularies are selects and checkboxes, not free text
    assert re.search(r'<select id="f_organism_type" name="f_organism_type"', page)
    assert '<option value="Bacteria">Bacteria</option>' in page
    assert re.search(r'<input type="checkbox" name="f_form_of_supply" value="Lyo">', page)
    assert re.search(r'<select id="f_type_strain"[^>]*><option value="">—</option>'
                     r'<option value="yes">yes</option>', page)
    fields = {**ZOBELLIA, "collection_numbers": "KCTC 12921",
              "strain_designation": "KMM 3526", "recommended_temperature": "nonsense"}
    form: dict[str, str | list[str]] = {"csrf": csrf, "note": "from the KCTC catalogue"}
    form.update({f"f_{k}": v for k, v in fields.items() if k != "form_of_supply"})
    form["f_form_of_supply"] = ["Lyo", "Agar"]
    bad = site.client.post("/new/strain", data=form)
    assert bad.status_code == 422
    assert 'id="e_recommended_temperature"' in bad.text
    assert 'value="KMM 3526"' in bad.text  # what was typed stays
    assert re.search(r'value="Agar" checked', bad.text)
    assert site.bank.catalog.counts(LOCAL_ADMIN)["strain"] == 2  # nothing stored
    form["f_recommended_temperature"] = "25"
    made = site.client.post("/new/strain", data=form, follow_redirects=False)
    assert made.status_code == 303
    accession = made.headers["location"].rsplit("/", 1)[1]
    record = site.bank.catalog.get(LOCAL_ADMIN, accession)
    assert record.fields["form_of_supply"] == ["Lyo", "Agar"]
    assert record.fields["recommended_temperature"] == [25.0, 25.0]
    assert site.bank.catalog.history(LOCAL_ADMIN, accession)[0].note == \
        "from the KCTC catalogue"
    # the same identifiers again: a conflict, said on the form
    again = site.client.post("/new/strain", data=form)
    assert again.status_code == 409 and "KCTC 12921" in again.text


def test_new_patent_deposits_start_restricted(site: Site) -> None:
    sign_in(site, "ana")
    page, _ = _form(site, "/new/deposit")
    assert re.search(r'<select id="f_restricted"[^>]*>.*<option value="yes" selected>', page,
                     re.S)


def test_edit_form_uses_widgets_and_keeps_unchanged_sets(site: Site) -> None:
    sign_in(site, "ana")
    page, csrf = _form(site, f"/records/{site.strain}/edit")
    assert re.search(r'<option value="WHO" selected>WHO</option>', page)
    assert re.search(r'value="Lyo" checked', page)
    fields = site.bank.catalog.get(LOCAL_ADMIN, site.strain).fields
    form = _as_sent(page, csrf)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    form["f_form_of_supply"] = ["Lyo"]
    unchanged = site.client.post(f"/records/{site.strain}/edit", data=form,
                                 follow_redirects=False)
    assert unchanged.status_code == 303
    assert site.bank.catalog.get(LOCAL_ADMIN, site.strain).version == int(version[1])
    form["f_form_of_supply"] = ["Agar", "Lyo"]
    changed = site.client.post(f"/records/{site.strain}/edit", data=form,
                               follow_redirects=False)
    assert changed.status_code == 303
    after = site.bank.catalog.get(LOCAL_ADMIN, site.strain)
    assert sorted(after.fields["form_of_supply"]) == ["Agar", "Lyo"]
    assert {k: v for k, v in after.fields.items() if k != "form_of_supply"} == {
        k: v for k, v in fields.items() if k != "form_of_supply"}


def test_a_curator_adds_and_removes_a_lineage_link(site: Site) -> None:
    record = site.client.get(f"/records/{site.plastic_strain}").text
    assert 'action="/records/' not in record  # a reader sees no link forms
    anonymous = site.client.post(f"/records/{site.plastic_strain}/links",
                                 data={"rel": "isolated_from", "other": site.sample})
    assert anonymous.status_code in (401, 403)
    sign_in(site, "ana")
    page, csrf = _form(site, f"/records/{site.plastic_strain}")
    assert '<option value="isolated_from">' in page
    # added from the strain's page: the sample is still the source of isolated_from
    added = site.client.post(f"/records/{site.plastic_strain}/links", follow_redirects=False,
                             data={"csrf": csrf, "rel": "isolated_from",
                                   "other": site.sample.lower()})
    assert added.status_code == 303
    links = site.bank.catalog.links(LOCAL_ADMIN, site.plastic_strain)
    assert [(lk.source, lk.rel, lk.target) for lk in links] == [
        (site.sample, "isolated_from", site.plastic_strain)]
    shown = site.client.get(f"/records/{site.plastic_strain}").text
    assert f'href="/records/{site.sample}"' in shown
    # a link the rules do not allow is refused with the rule
    wrong = site.client.post(f"/records/{site.plastic_strain}/links",
                             data={"csrf": csrf, "rel": "deposited_as", "other": site.sample})
    assert wrong.status_code == 422 and "deposited_as links strain to deposit" in wrong.text
    missing = site.client.post(f"/records/{site.plastic_strain}/links",
                               data={"csrf": csrf, "rel": "isolated_from", "other": ""})
    assert missing.status_code == 400
    removed = site.client.post(f"/records/{site.plastic_strain}/links/remove",
                               follow_redirects=False,
                               data={"csrf": csrf, "source": site.sample,
                                     "rel": "isolated_from", "target": site.plastic_strain})
    assert removed.status_code == 303
    assert site.bank.catalog.links(LOCAL_ADMIN, site.plastic_strain) == []
    forged = site.client.post(f"/records/{site.plastic_strain}/links",
                              data={"csrf": "forged", "rel": "isolated_from",
                                    "other": site.sample})
    assert forged.status_code == 403


def test_suppress_and_withdraw_with_a_reason(site: Site) -> None:
    """Suppressed: out of every list, count and search, but its page still opens; withdrawn:
    readers get 410 with when and why, never the data; a reason is required; clearing the
    status reinstates the record."""
    from lanhai.errors import ValidationFailed

    catalog = site.bank.catalog
    sample = catalog.get(LOCAL_ADMIN, site.sample)
    with pytest.raises(ValidationFailed) as refused:
        catalog.update(LOCAL_ADMIN, site.sample, {"record_status": "withdrawn"})
    assert [(p.field, p.reason) for p in refused.value.problems] == [
        ("status_reason", "a withdrawn record needs a reason")]
    sign_in(site, "ana")
    page, csrf = _form(site, f"/records/{site.plastic_strain}/edit")
    assert re.search(r'<select id="f_record_status"[^>]*><option value="">—</option>'
                     r'<option value="suppressed">suppressed</option>', page)
    form = {**_as_sent(page, csrf), "f_record_status": "suppressed",
            "f_status_reason": "duplicate of NBRC 110686 entry"}
    assert site.client.post(f"/records/{site.plastic_strain}/edit", data=form,
                            follow_redirects=False).status_code == 303
    catalog.update(LOCAL_ADMIN, site.sample, {"record_status": "withdrawn",
                                              "status_reason": "mislabelled station"})
    site.client.cookies.clear()  # a visitor
    strains = site.client.get("/browse/strains.json").json()
    assert site.plastic_strain not in [r["accession"] for r in strains["items"]]
    assert site.client.get("/.json").json()["records_by_kind"]["strain"] == 1
    assert site.plastic_strain not in site.client.get("/search.json?q=Ideonella").text
    suppressed = site.client.get(f"/records/{site.plastic_strain}")
    assert suppressed.status_code == 200
    assert "Suppressed" in suppressed.text and "duplicate of NBRC 110686 entry" in suppressed.text
    assert site.client.get(f"/api/records/{site.plastic_strain}").status_code == 200
    gone = site.client.get(f"/records/{site.sample}")
    assert gone.status_code == 410 and "mislabelled station" in gone.text
    assert sample.fields["samp_name"] not in gone.text  # none of its data
    api = site.client.get(f"/api/records/{site.sample}")
    assert api.status_code == 410 and api.json()["error"]["code"] == "gone"
    assert "was withdrawn on" in api.json()["error"]["message"]
    zh = site.client.get(f"/api/records/{site.sample}", headers={"Accept-Language": "zh"})
    assert zh.status_code == 410
    # a record created hidden stays unknown whatever its status
    catalog.update(LOCAL_ADMIN, site.hidden_sample, {"record_status": "withdrawn",
                                                     "status_reason": "test"})
    assert site.client.get(f"/records/{site.hidden_sample}").status_code == 404
    # curators see everything, with the status said; clearing it reinstates the record
    curator = site.client.get(f"/api/records/{site.sample}", headers=site.bearer("ana"))
    assert curator.status_code == 200
    # and no target counts a suppressed or withdrawn record, for curators either
    counted = site.client.get("/.json", headers=site.bearer("ana")).json()["records_by_kind"]
    assert (counted["sample"], counted["strain"]) == (0, 1)
    catalog.update(LOCAL_ADMIN, site.sample, {"record_status": "", "status_reason": ""})
    assert site.client.get(f"/records/{site.sample}").status_code == 200
    assert site.client.get("/.json").json()["records_by_kind"]["sample"] == 1
    assert site.client.get("/.json", headers=site.bearer("ana")).json()[
        "records_by_kind"]["sample"] == 1  # the hidden one is still withdrawn
