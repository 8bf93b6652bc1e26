"""The web pages (lanhai.web) through FastAPI's TestClient: what each page must show, JSON
twins equal to the page's service data, restricted records never shown to readers, and
bad input answered by an error page whose JSON twin is the API's error envelope."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import Engine

from lanhai.app import create_app
from lanhai.bank import Bank
from lanhai.services.access import ANONYMOUS, LOCAL_ADMIN
from lanhai.settings import Settings
from lanhai.web import i18n, services
from tests.support import ZOBELLIA
from tests.support.web import HEADER, PASSWORDS, ROW, Site, csrf_of, make_site, sign_in


@pytest.fixture
def site(engine: Engine) -> Iterator[Site]:
    yield from make_site(engine)


# --- dashboard ---------------------------------------------------------------------------

def test_warm_fills_the_cache_before_the_first_visit(site: Site,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from lanhai.app import warm
    from lanhai.store import dashboard as queries

    warm(site.client.app)  # type: ignore[arg-type]
    def now(data: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in data.items() if k != "as_of"}  # the clock moves on

    fresh = now(site.client.get("/.json").json())  # what the cached values give …

    def recompute(*args: object, **kwargs: object) -> None:
        raise AssertionError("computed again after warm()")

    for name in ("programme_counts", "growth", "facet_counts"):
        monkeypatch.setattr(queries, name, recompute)
    # … and no visit computes anything: dashboard, curator dashboard, facets of every kind
    assert now(site.client.get("/.json").json()) == fresh
    assert site.client.get("/.json", headers=site.bearer("ana")).status_code == 200
    for plural in ("samples", "strains", "deposits", "assemblies", "compounds", "parts"):
        assert site.client.get(f"/browse/{plural}.json").status_code == 200


def test_dashboard_counts_against_targets(site: Site) -> None:
    body = site.client.get("/.json").json()
    counts = {t["key"]: t["count"] for t in body["targets"]}
    # the deposit is confidential: anonymous callers never count it; the hidden sample too
    assert counts == {"samples": 1, "strains": 2, "marine_strains": 2, "patent_deposits": 0,
                      "metagenomic_entries": 1, "carbohydrate_compounds": 1,
                      "plastic_degrading_strains": 1, "mined_parts": 0, "germplasm": 0}
    targets = {t["key"]: t["target"] for t in body["targets"]}
    assert targets["strains"] == 40000 and targets["germplasm"] is None
    assert body["as_of"] and body["last_change"]
    assert [(d["label"], d["href"]) for d in body["downloads"]] == [
        ("CSV", "/targets.csv"), ("XLSX", "/targets.xlsx")]
    csv = site.client.get("/targets.csv")
    assert csv.headers["content-disposition"].startswith(
        'attachment; filename="lanhai-targets-')
    csv_text = csv.text
    assert csv_text.splitlines()[0].startswith("measure,measure_zh,count,target")
    assert "Strains,菌株,2,40000" in csv_text and "Patent deposits,专利保藏,0,100" in csv_text
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(site.client.get("/targets.xlsx",
                                                    headers=site.bearer("ana")).content))
    rows = list(book["targets"].iter_rows(values_only=True))
    assert rows[0][:4] == ("measure", "measure_zh", "count", "target")
    assert ("Patent deposits", "专利保藏", 1, 100) in [r[:4] for r in rows]  # a curator
    curator = site.client.get("/.json", headers=site.bearer("ana")).json()
    assert {t["key"]: t["count"] for t in curator["targets"]}["patent_deposits"] == 1
    assert curator["records_by_kind"]["sample"] == 2
    # growth comes from the audit trail: every visible creation counted this month; read
    # from records.created_at, it equals the versions table's 'create' entries
    assert sum(g["created"] for g in body["growth"]) == 5
    from lanhai.store.dashboard import growth as fast_growth
    from lanhai.store.records import growth

    with site.bank.db.read() as conn:
        for seen in (False, True):
            assert sorted(fast_growth(conn, seen)) == sorted(growth(conn, seen))
    page = site.client.get("/")
    assert page.status_code == 200 and "Programme dashboard" in page.text
    assert "Plastic- and textile-degrading strains" in page.text and "<svg" in page.text
    assert re.findall(r"(?:src|href)=['\"]https?://", page.text) == []


def test_cached_aggregates_follow_every_change(site: Site) -> None:
    from lanhai.store.dashboard import AggregateCache

    cache, calls = AggregateCache(), []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    with site.bank.db.read() as conn:
        assert cache.get(conn, ("x",), compute) == 1
        assert cache.get(conn, ("x",), compute) == 1  # nothing changed: reused
    site.bank.catalog.update(LOCAL_ADMIN, site.sample, {"description": "checked"})
    with site.bank.db.read() as conn:
        assert cache.get(conn, ("x",), compute) == 2  # a new version row: recomputed
    # through the pages: the app's cache never serves a stale count
    before = site.client.get("/.json").json()["records_by_kind"]["strain"]
    site.bank.catalog.create(LOCAL_ADMIN, "strain", {
        **ZOBELLIA, "collection_numbers": "KCTC 12921", "strain_designation": "KMM 3526"})
    assert site.client.get("/.json").json()["records_by_kind"]["strain"] == before + 1
    facets = site.client.get("/browse/strains.json").json()["facets"]["organism_type"]
    assert [(f["value"], f["count"]) for f in facets] == [("Bacteria", 3)]
    site.bank.catalog.update(LOCAL_ADMIN, site.plastic_strain, {"restricted": "yes"})
    assert site.client.get("/.json").json()["records_by_kind"]["strain"] == before


def test_cached_aggregates_are_carried_over_changes_they_do_not_read(site: Site) -> None:
    """Incremental invalidation: an edit of a field no count reads keeps the counts, new
    records are added by counting just them, and a link recomputes; every value equals a
    fresh computation."""
    from lanhai.store import dashboard as queries

    cache = queries.AggregateCache()
    calls: list[str] = []

    def fetch(conn: Any, key: tuple[Any, ...]) -> Any:
        fresh = {"counts": lambda: queries.programme_counts(conn, False),
                 "growth": lambda: queries.growth(conn, False),
                 "facets": lambda: queries.facet_counts(conn, "strain", False)}[key[0]]

        def compute() -> Any:
            calls.append(key[0])
            return fresh()

        value = cache.get(conn, key, compute)
        assert value == fresh(), key  # never stale
        return value

    keys = [("counts", False), ("growth", False), ("facets", "strain", False)]

    def read_all() -> list[str]:
        calls.clear()
        with site.bank.db.read() as conn:
            for key in keys:
                fetch(conn, key)
        return sorted(calls)

    assert read_all() == ["counts", "facets", "growth"]
    assert read_all() == []
    site.bank.catalog.update(LOCAL_ADMIN, site.sample, {"description": "checked"})
    assert read_all() == []  # no count, month or facet reads a description
    site.bank.catalog.create(LOCAL_ADMIN, "strain", {
        **ZOBELLIA, "collection_numbers": "KCTC 12921", "strain_designation": "KMM 3526",
        "marine": "yes", "degrades": "PET"})
    assert read_all() == ["facets"]  # counts and growth: the new record added
    site.bank.catalog.update(LOCAL_ADMIN, site.plastic_strain, {"status": "in preparation"})
    assert read_all() == ["facets"]  # a strain facet field
    site.bank.catalog.link(LOCAL_ADMIN, site.hidden_sample, "isolated_from",
                           site.plastic_strain)
    assert read_all() == ["counts"]  # marine strains follow isolated_from links
    site.bank.catalog.update(LOCAL_ADMIN, site.strain, {"restricted": "yes"})
    assert read_all() == ["counts", "facets", "growth"]


def test_targets_come_from_a_file(site: Site, tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text('year = 2030\n[[target]]\nkey = "strains"\ntarget = 7\nen = "Strains"\n'
                    'zh = "菌株"\n', "utf-8")
    bank = Bank.over(Settings(data_dir=tmp_path, targets_file=str(path)), site.bank.db)
    data = bank.dashboard.dashboard(ANONYMOUS)
    assert data["year"] == 2030 and [(t["key"], t["count"], t["target"]) for t in
                                     data["targets"]] == [("strains", 2, 7)]
    path.write_text('[[target]]\nkey = "unicorns"\ntarget = 1\n', "utf-8")
    client = TestClient(create_app(bank=bank))
    answer = client.get("/.json")
    assert answer.status_code == 400 and "unicorns" in answer.json()["error"]["message"]


def test_language_switch(site: Site) -> None:
    page = site.client.get("/?lang=zh")
    assert "项目进展总览" in page.text and 'lang="zh-Hans"' in page.text
    assert page.cookies.get("lanhai_lang") == "zh"
    assert "项目进展总览" in site.client.get("/").text  # the cookie keeps it
    fresh = TestClient(site.client.app)
    assert "项目进展总览" in fresh.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert "Programme dashboard" in fresh.get("/", headers={"Accept-Language": "en"}).text


def test_both_languages_have_every_label() -> None:
    strings = i18n.catalogue()
    assert set(strings["en"]) == set(strings["zh"])
    assert all(strings["zh"][k] for k in strings["zh"])


# --- browse, record, lineage, history ----------------------------------------------------

def test_browse_json_twin_is_the_service_data(site: Site) -> None:
    answer = site.client.get("/browse/strains.json?sort=name&limit=1")
    expected = services.browse(site.bank, ANONYMOUS, "strains",
                               {"sort": "name", "limit": "1"}, [])
    assert answer.json() == expected
    assert expected["total"] == 2 and expected["items"][0]["name"].startswith("Ideonella")
    assert expected["next"] == "/browse/strains?sort=name&offset=1&limit=1"
    facets = expected["facets"]["organism_type"]
    assert facets == [{"value": "Bacteria", "count": 2, "chosen": False,
                       "href": "/browse/strains?sort=name&where=organism_type%3DBacteria"}]
    page = site.client.get("/browse/strains?where=taxon_name~Zobellia")
    assert site.strain in page.text and site.plastic_strain not in page.text


def test_facets_count_the_current_result(site: Site) -> None:
    """Narrowed by the words and filters; a chosen value links back to the wider list."""
    [every] = site.client.get("/browse/strains.json").json()["facets"]["organism_type"]
    assert every["count"] == 2
    narrowed = site.client.get("/browse/strains.json?where=taxon_name~Ideonella").json()
    [bacteria] = narrowed["facets"]["organism_type"]
    assert bacteria["count"] == 1 and narrowed["total"] == 1
    chosen = site.client.get("/browse/strains.json?where=organism_type=Bacteria").json()
    value = chosen["facets"]["organism_type"][0]
    assert value["chosen"] and value["href"] == "/browse/strains"
    wrong = site.client.get("/browse/samples?where=depth>1000")
    assert wrong.status_code == 400 and "depth_m" in wrong.text
    typo = site.client.get("/browse/samples.json?where=depht_m>1000")
    assert typo.status_code == 400 and "did you mean 'depth_m'" in typo.json()["error"][
        "message"]


def test_record_page_groups_fields_and_draws_lineage(site: Site) -> None:
    page = site.client.get(f"/records/{site.strain.lower()}")
    assert page.status_code == 200
    # MIRRI groups, in the standard's order, with the field values
    assert page.text.index("<h3>Identity</h3>") < page.text.index("<h3>Biosafety</h3>")
    assert "Marine agar 2216" in page.text and "DSM 12802; CIP 106680" in page.text
    assert f'href="/records/{site.sample}"' in page.text  # link and lineage node
    assert 'role="group"' in page.text and "isolated_from" in page.text  # graph with links
    twin = site.client.get(f"/records/{site.strain}.json").json()
    assert twin == services.record(site.bank, ANONYMOUS, site.strain)
    assert [d["label"] for d in twin["downloads"]][:2] == ["JSON (API)", "history CSV"]
    assert any("format=dwca" in d["href"] for d in twin["downloads"])


def test_lineage_and_history_pages(site: Site) -> None:
    lineage = site.client.get(f"/records/{site.strain}/lineage.json").json()
    assert lineage == site.bank.catalog.lineage(ANONYMOUS, site.strain)
    assert "<svg" in site.client.get(f"/records/{site.strain}/lineage").text
    history = site.client.get(f"/records/{site.strain}/history.json").json()
    assert [v["action"] for v in history["history"]] == ["create", "link"]
    assert "create" in site.client.get(f"/records/{site.strain}/history").text


def test_readers_never_see_restricted_records(site: Site) -> None:
    for headers in ({}, site.bearer("rui")):
        listing = site.client.get("/browse/samples", headers=headers).text
        assert site.sample in listing and site.hidden_sample not in listing
        assert site.client.get("/browse/deposits.json", headers=headers).json()["total"] == 0
        for acc in (site.deposit, site.hidden_sample):
            assert site.client.get(f"/records/{acc}", headers=headers).status_code == 404
            assert site.client.get(f"/records/{acc}/lineage.json",
                                   headers=headers).status_code == 404
        strain = site.client.get(f"/records/{site.strain}", headers=headers).text
        assert site.deposit not in strain  # not in links, lineage or history
        assert site.deposit not in site.client.get(f"/records/{site.strain}/history",
                                                   headers=headers).text
        assert site.hidden_sample not in site.client.get("/map.json", headers=headers).text
    curator = site.client.get(f"/records/{site.strain}", headers=site.bearer("ana")).text
    assert site.deposit in curator
    assert site.client.get(f"/records/{site.deposit}",
                           headers=site.bearer("ana")).status_code == 200


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/records/NOT-AN-ACCESSION", 400, "usage"),
    ("/records/LHSM0000999", 404, "not_found"),
    ("/browse/widgets", 404, "not_found"),
    ("/browse/samples?sort=colour", 400, "usage"),
    ("/browse/samples?where=depth_m>deep", 400, "usage"),
    ("/browse/samples?limit=ten", 400, "usage"),
])
def test_bad_input_gives_an_error_page_and_envelope(site: Site, path: str, status: int,
                                                    code: str) -> None:
    page = site.client.get(path)
    assert page.status_code == status and page.headers["content-type"].startswith("text/html")
    base, _, query = path.partition("?")
    twin = site.client.get(base + ".json" + ("?" + query if query else ""))
    assert twin.status_code == status and set(twin.json()) == {"error"}
    error = twin.json()["error"]
    assert error["code"] == code
    assert str(escape(error["message"])) in page.text


def test_bad_bearer_token_is_refused_on_pages(site: Site) -> None:
    answer = site.client.get("/.json", headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized"


# --- map, jobs ---------------------------------------------------------------------------

def test_map_gathers_zooms_pans_and_filters(site: Site) -> None:
    from tests.support import SAMPLE

    for name, lat_lon, depth in (("Roscoff A", "48.72 -3.98", "5 m"),
                                 ("Roscoff B", "48.73 -3.97", "50 m"),
                                 ("Station ALOHA", "22.75 -158.0", "4000 m")):
        site.bank.catalog.create(LOCAL_ADMIN, "sample", {**SAMPLE, "samp_name": name,
                                                         "lat_lon": lat_lon, "depth": depth})
    data = site.client.get("/map.json").json()
    assert data == services.site_map(site.bank, ANONYMOUS, {})
    assert data["records"] == 4  # the hidden sample is not on a reader's map
    cells = sorted(data["cells"], key=lambda c: c["count"])
    assert [c["count"] for c in cells] == [1, 3]
    aloha, channel = cells
    assert aloha["name"] == "Station ALOHA" and aloha["depth_max"] == 4000
    assert channel["accession"] is None and channel["href"].startswith("/map?at=")
    page = site.client.get("/map").text
    assert 'viewBox="0 0 360 180"' in page and "Natural Earth" in page
    assert f'href="{escape(channel["href"])}"' in page and ">3</text>" in page
    # closer: the English Channel site leaves the view, the two Roscoff samples stay
    # together until the closest zooms
    closer = site.client.get(channel["href"].replace("/map?", "/map.json?")).json()
    assert closer["view"]["zoom"] == 2 and closer["records"] == 3
    roscoff = site.client.get("/map.json?at=48.7,-4&zoom=6").json()
    assert [c["count"] for c in roscoff["cells"]] == [2]
    apart = site.client.get("/map.json?at=48.725,-3.975&zoom=8").json()
    assert sorted(c["name"] for c in apart["cells"]) == ["Roscoff A", "Roscoff B"]
    page = site.client.get("/map?at=48.7,-4&zoom=6").text
    assert re.search(r'viewBox="173.188 39.893\d 5.625 2.8125"', page)  # Roscoff
    assert "zoom=7" in page and "zoom=5" in page  # zoom in and out
    assert "at=48.7000%2C-1.1875&amp;zoom=6" in page  # east by half a view
    # filters: depth, kind, year; the hidden sample shows to a curator
    deep = site.client.get("/map.json?depth_min=1000").json()
    assert [c["name"] for c in deep["cells"]] == ["Station ALOHA"]
    assert site.client.get("/map.json?kind=strain").json()["records"] == 0
    assert site.client.get("/map.json?year_from=2015").json()["records"] == 0
    curator = site.client.get("/map.json", headers=site.bearer("ana")).json()
    assert curator["records"] == 5
    # a bad view is a clear error
    for query, said in (("at=95,0", "off the globe"), ("zoom=12", "whole number from 0"),
                        ("depth_min=deep", "not a number"), ("kind=fish", "not a record")):
        answer = site.client.get(f"/map.json?{query}")
        assert answer.status_code == 400 and said in answer.json()["error"]["message"]


def test_jobs_page_lists_the_callers_jobs(site: Site) -> None:
    runner = site.client.app.state.bank.jobs  # type: ignore[attr-defined]
    job = runner.submit("annotate", "ana", {"accessions": ["LHAS0000001"]},
                        lambda progress: (progress(1, 1, "assemblies"), {"ok": True})[1])
    runner.wait(job.id, 10)
    mine = site.client.get("/jobs.json", headers=site.bearer("ana")).json()
    assert [j["id"] for j in mine["jobs"]] == [job.id] and mine["running"] is False
    assert site.client.get("/jobs.json", headers=site.bearer("rui")).json()["jobs"] == []
    assert site.client.get("/jobs.json").json() == {"jobs": [], "signed_in": False,
                                                    "running": False}
    page = site.client.get("/jobs", headers=site.bearer("ana")).text
    assert job.id[:8] in page and 'data-refresh="no"' in page


# --- sign in, edit -----------------------------------------------------------------------

def test_sign_in_needs_csrf_and_the_right_password(site: Site) -> None:
    csrf = csrf_of(site.client.get("/signin").text)
    no_csrf = site.client.post("/signin", data={"username": "ana", "password": "x"})
    assert no_csrf.status_code == 403
    wrong = site.client.post("/signin", data={"username": "ana", "password": "wrong",
                                              "csrf": csrf})
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    evil = site.client.post("/signin", data={"username": "ana", "csrf": csrf,
                                             "password": PASSWORDS["ana"],
                                             "next": "//evil.example/"},
                            follow_redirects=False)
    assert evil.status_code == 303 and evil.headers["location"] == "/"
    assert 'Signed in as <a href="/account">ana</a> (curator)' in site.client.get("/").text
    signed_out = site.client.post("/signout", data={"csrf": csrf}, follow_redirects=False)
    assert signed_out.status_code == 303
    assert "Signed in as" not in site.client.get("/").text


def test_signing_out_ends_the_session_on_the_server(site: Site) -> None:
    """A copy of the cookie taken before sign-out is worth nothing after it."""
    sign_in(site, "ana")
    stolen = site.client.cookies.get("lanhai_session")
    assert stolen and "ana" not in stolen  # a random secret, not the name
    csrf = csrf_of(site.client.get("/").text)
    site.client.post("/signout", data={"csrf": csrf}, follow_redirects=False)
    site.client.cookies.set("lanhai_session", stolen)
    assert "Signed in as" not in site.client.get("/").text
    log = site.bank.users.auth_log(LOCAL_ADMIN, "ana")
    assert [e.event for e in log[:2]] == ["sign_out", "sign_in"]


def test_a_role_change_or_disabling_ends_the_users_sessions(site: Site) -> None:
    sign_in(site, "ana")
    assert "(curator)" in site.client.get("/").text
    site.bank.users.set_user(LOCAL_ADMIN, "ana", role="reader")
    assert "Signed in as" not in site.client.get("/").text  # signed out, not demoted in place
    site.bank.users.set_user(LOCAL_ADMIN, "ana", role="curator")
    sign_in(site, "ana")
    site.bank.users.set_user(LOCAL_ADMIN, "ana", active=False)
    assert "Signed in as" not in site.client.get("/").text
    events = [e.event for e in site.bank.users.auth_log(LOCAL_ADMIN, "ana")]
    assert events.count("sessions_ended") == 2


def test_failed_sign_ins_are_throttled_and_logged(site: Site) -> None:
    """After five wrong passwords for one account each try must wait, doubling: 429 with
    Retry-After and the wait on the page, the password not even checked meanwhile (so the
    right one is refused too until the wait is over)."""
    csrf = csrf_of(site.client.get("/signin").text)

    def attempt(password: str) -> Any:
        return site.client.post("/signin", data={"username": "ANA", "csrf": csrf,
                                                 "password": password},
                                follow_redirects=False)

    for _ in range(5):
        assert attempt("not-the-password").status_code == 401
    refused = attempt(PASSWORDS["ana"])
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 2 and f"Try again in {wait} s" in refused.text
    log = site.bank.users.auth_log(LOCAL_ADMIN, "ana")
    assert [e.event for e in log].count("sign_in_failed") == 5
    assert log[0].event == "throttled" and log[0].address == "testclient"


def test_a_user_changes_their_password_and_their_other_sessions_end(site: Site) -> None:
    other = TestClient(site.client.app)
    page = other.get("/signin").text
    other.post("/signin", data={"username": "ana", "password": PASSWORDS["ana"],
                                "csrf": csrf_of(page)})
    assert "Signed in as" in other.get("/").text
    sign_in(site, "ana")
    form = site.client.get("/account")
    assert form.status_code == 200 and 'autocomplete="new-password"' in form.text
    csrf = csrf_of(form.text)
    weak = site.client.post("/account/password", data={
        "csrf": csrf, "current": PASSWORDS["ana"], "new": "password1", "repeat": "password1"})
    assert weak.status_code == 422 and 'id="e_new"' in weak.text
    wrong = site.client.post("/account/password", data={
        "csrf": csrf, "current": "nope", "new": "kelp forest at dusk", "repeat":
        "kelp forest at dusk"})
    assert wrong.status_code == 422 and 'id="e_current"' in wrong.text
    done = site.client.post("/account/password", data={
        "csrf": csrf, "current": PASSWORDS["ana"], "new": "kelp forest at dusk",
        "repeat": "kelp forest at dusk"}, follow_redirects=False)
    assert done.status_code == 303
    assert "Signed in as" in site.client.get("/").text  # this session stays
    assert "Signed in as" not in other.get("/").text  # the other one ended
    assert site.bank.users.sign_in("ana", "kelp forest at dusk") is not None
    assert site.client.get("/account.json").json()["username"] == "ana"
    assert TestClient(site.client.app).get("/account").status_code == 401


def test_pages_and_answers_carry_security_headers(site: Site) -> None:
    for path in ("/", "/signin", f"/records/{site.sample}", "/api/stats", "/nowhere"):
        answer = site.client.get(path)
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
        assert answer.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"], path
        assert answer.headers["Referrer-Policy"] == "same-origin", path
    https = TestClient(site.client.app, base_url="https://bank.example")
    page = https.get("/signin")
    assert "Secure" in page.headers["set-cookie"]
    assert "max-age=" in page.headers["Strict-Transport-Security"]
    plain = TestClient(site.client.app).get("/signin")
    assert "secure" not in plain.headers["set-cookie"].lower()
    assert "Strict-Transport-Security" not in plain.headers


def test_a_tampered_session_cookie_is_anonymous(site: Site) -> None:
    sign_in(site, "ana")
    cookie = site.client.cookies.get("lanhai_session")
    assert cookie
    site.client.cookies.set("lanhai_session", cookie[:-2] + "00")
    assert "Signed in as" not in site.client.get("/").text


def test_edit_shows_errors_per_field_then_saves_and_shows_history(site: Site) -> None:
    assert site.client.get(f"/records/{site.strain}/edit").status_code == 401
    assert site.client.get(f"/records/{site.strain}/edit.json",
                           headers=site.bearer("rui")).status_code == 403
    sign_in(site, "ana")
    form = site.client.get(f"/records/{site.strain}/edit")
    assert form.status_code == 200 and 'name="f_risk_group"' in form.text
    assert 'name="f_hazard_rank"' not in form.text  # computed fields are not editable
    csrf = csrf_of(form.text)
    fields = site.client.get(f"/records/{site.strain}/edit.json").json()["fields"]
    values = {f"f_{f['name']}": f["value"] for f in fields}
    bad = site.client.post(f"/records/{site.strain}/edit", data={
        **values, "f_risk_group": "7", "csrf": csrf})
    assert bad.status_code == 422
    assert 'id="e_risk_group"' in bad.text and "is not a risk group 1-4" in bad.text
    assert 'aria-invalid="true"' in bad.text
    assert site.bank.catalog.get(ANONYMOUS, site.strain).fields["risk_group"] == "1"
    good = site.client.post(f"/records/{site.strain}/edit", data={
        **values, "f_recommended_temperature": "22", "note": "checked", "csrf": csrf},
        follow_redirects=False)
    assert good.status_code == 303
    assert good.headers["location"] == f"/records/{site.strain}/history"
    history = site.client.get(good.headers["location"]).text
    assert "recommended_temperature" in history and "checked" in history
    record = site.bank.catalog.get(ANONYMOUS, site.strain)
    assert record.fields["recommended_temperature"] == [22.0, 22.0] and record.updated_by == "ana"
    forged = site.client.post(f"/records/{site.strain}/edit", data={
        **values, "f_recommended_temperature": "30", "csrf": "forged"})
    assert forged.status_code == 403


def test_an_edit_keeps_changes_others_made_since_the_form_was_opened(site: Site) -> None:
    """Ana opens the form; Wei changes another field, then the field Ana is changing: Ana's
    save keeps Wei's first change, and for the field both changed shows both values (409);
    saving the form shown then keeps Ana's value."""
    wei = LOCAL_ADMIN
    sign_in(site, "ana")

    def opened() -> tuple[str, dict[str, str]]:
        page = site.client.get(f"/records/{site.sample}/edit").text
        data = site.client.get(f"/records/{site.sample}/edit.json").json()
        values = {f"f_{f['name']}": f["value"] for f in data["fields"]}
        return page, {**values, "csrf": csrf_of(page), "version": str(data["version"])}

    page, form = opened()
    assert f'name="version" value="{form["version"]}"' in page
    site.bank.catalog.update(wei, site.sample, {"size_frac": "0.22-3 um"})
    saved = site.client.post(f"/records/{site.sample}/edit", data={
        **form, "f_samp_collect_device": "Niskin bottle"}, follow_redirects=False)
    assert saved.status_code == 303
    record = site.bank.catalog.get(ANONYMOUS, site.sample)
    assert record.fields["size_frac"] == "0.22-3 um"  # not written back with the old value
    assert record.fields["samp_collect_device"] == "Niskin bottle"

    page, form = opened()
    site.bank.catalog.update(wei, site.sample, {"samp_collect_device": "CTD rosette"})
    crossed = site.client.post(f"/records/{site.sample}/edit", data={
        **form, "f_samp_collect_device": "Go-Flo bottle"})
    assert crossed.status_code == 409
    assert "CTD rosette" in crossed.text and 'value="Go-Flo bottle"' in crossed.text
    assert 'id="e_samp_collect_device"' in crossed.text
    current = site.bank.catalog.get(ANONYMOUS, site.sample)
    assert current.fields["samp_collect_device"] == "CTD rosette"
    assert f'name="version" value="{current.version}"' in crossed.text
    again = site.client.post(f"/records/{site.sample}/edit", data={
        **form, "version": str(current.version), "f_samp_collect_device": "Go-Flo bottle"},
        follow_redirects=False)
    assert again.status_code == 303
    assert site.bank.catalog.get(ANONYMOUS, site.sample).fields[
        "samp_collect_device"] == "Go-Flo bottle"


# --- import ------------------------------------------------------------------------------


def _upload(site: Site, text: str, csrf: str) -> Any:
    return site.client.post("/import", data={"kind": "sample", "csrf": csrf},
                            files={"file": ("stations.csv", text.encode(), "text/csv")})


def test_import_reports_every_cell_then_commits_the_fixed_file(site: Site) -> None:
    anonymous = site.client.post("/import", data={"kind": "sample"},
                                 files={"file": ("a.csv", b"x\n1\n", "text/csv")})
    assert anonymous.status_code in (401, 403)
    sign_in(site, "ana")
    csrf = csrf_of(site.client.get("/import").text)
    broken = HEADER + ROW.format(name="W1", date="2021-13-01", latlon="59.9 10.7") + \
        ROW.format(name="W2", date="2021-06-01", latlon="95 10.7")
    report = _upload(site, broken, csrf)
    assert report.status_code == 422 and "Nothing was written" in report.text
    table = report.text[report.text.index("<tbody>"):]
    assert "collection_date" in table and "2021-13-01" in table and "lat_lon" in table
    assert 'action="/import/commit"' not in report.text  # nothing to commit
    assert site.bank.catalog.counts(LOCAL_ADMIN)["sample"] == 2  # nothing written
    fixed = HEADER + ROW.format(name="W1", date="2021-12-01", latlon="59.9 10.7") + \
        ROW.format(name="W2", date="2021-06-01", latlon="59.5 10.7")
    checked = _upload(site, fixed, csrf)
    assert checked.status_code == 200 and "No problems found" in checked.text
    assert site.bank.catalog.counts(LOCAL_ADMIN)["sample"] == 2  # a dry run only
    upload = re.search(r'name="upload" value="([0-9a-f]{32})"', checked.text)
    assert upload
    done = site.client.post("/import/commit", data={"upload": upload[1], "csrf": csrf})
    assert done.status_code == 200 and "Committed" in done.text
    assert site.bank.catalog.counts(LOCAL_ADMIN)["sample"] == 4
    again = site.client.post("/import/commit", data={"upload": upload[1], "csrf": csrf})
    assert again.status_code == 404


def test_import_maps_columns_on_the_page_then_commits(site: Site) -> None:
    """A station table as a field team writes it: its own column names, separate latitude
    and longitude, day-first dates, depth in feet, no project column. The curator maps it
    on the page (no new upload) until it is clean, then commits."""
    sign_in(site, "ana")
    csrf = csrf_of(site.client.get("/import").text)
    table = ("Station,Sampled on,Latitude,Longitude,Place,Biome,Feature,Material,Depth\n"
             'OF-7,21/06/2021,59.9,10.7,"Norway: Oslofjord","marine biome [ENVO:00000447]",'
             '"coastal water body [ENVO:02000049]","sea water [ENVO:00002149]",16\n')
    first = _upload(site, table, csrf)
    assert first.status_code == 422
    upload = re.search(r'name="upload" value="([0-9a-f]{32})"', first.text)
    assert upload and 'action="/import/commit"' not in first.text
    # latitude and longitude are read together as lat_lon, automatically
    assert "automatic: lat_lon (combined)" in first.text
    columns = dict(re.findall(r'name="col_(\d+)" value="([^"]+)"', first.text))
    index = {name: i for i, name in columns.items()}
    form = {"csrf": csrf, "upload": upload[1], **{f"col_{i}": n for i, n in columns.items()},
            f"map_{index['Station']}": "samp_name",
            f"map_{index['Sampled on']}": "collection_date",
            f"map_{index['Place']}": "geo_loc_name",
            "set": "project_name=Oslofjord stations\nsamp_taxon_id=408172",
            "date_format": "%d/%m/%Y", "unit": "depth=ft"}
    checked = site.client.post("/import", data=form)
    assert checked.status_code == 200, checked.text[checked.text.find("<tbody>"):][:2000]
    assert "No problems found" in checked.text
    assert 'value="samp_name" selected' in checked.text  # the choices stay on the page
    done = site.client.post("/import/commit", data={"upload": upload[1], "csrf": csrf})
    assert done.status_code == 200 and "Committed" in done.text
    acc = re.search(r'href="/records/(LHSM\w+)"', done.text)
    assert acc
    made = site.bank.catalog.get(LOCAL_ADMIN, acc[1]).fields
    assert (made["samp_name"], made["collection_date"], made["lat_lon"], made["project_name"]
            ) == ("OF-7", "2021-06-21", [59.9, 10.7], "Oslofjord stations")
    assert made["depth_m"] == pytest.approx(16 * 0.3048, abs=1e-3)
    # committed uploads are gone; a mapping that names a field the kind lacks is said on
    # the page, and the file waits for a better one
    second = _upload(site, table, csrf)
    waiting = re.search(r'name="upload" value="([0-9a-f]{32})"', second.text)
    assert waiting
    bad = site.client.post("/import", data={**form, "upload": waiting[1],
                                            "set": "colour=blue"})
    assert bad.status_code == 400 and "sample has no field &#39;colour&#39;" in bad.text
    assert f'name="upload" value="{waiting[1]}"' in bad.text
    assert 'name="map_0"' in bad.text  # the columns to map are still there


def test_import_json_twin_gives_the_report(site: Site) -> None:
    broken = HEADER + ROW.format(name="W1", date="2021-13-01", latlon="59.9 10.7")
    answer = site.client.post("/import.json", data={"kind": "sample"},
                              files={"file": ("s.csv", broken.encode(), "text/csv")},
                              headers=site.bearer("ana"))
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["report"]["problems"]
    assert (problem["row"], problem["column"], problem["value"]) == (
        2, "collection_date", "2021-13-01")
    reader = site.client.post("/import.json", data={"kind": "sample"},
                              files={"file": ("s.csv", broken.encode(), "text/csv")},
                              headers=site.bearer("rui"))
    assert reader.status_code == 403 and reader.json()["error"]["code"] == "forbidden"


# --- every page route is exercised here --------------------------------------------------

WEB_ROUTES = {
    ("GET", "/"), ("GET", "/.json"), ("GET", "/targets.csv"), ("GET", "/targets.xlsx"),
    ("GET", "/browse/{kind}"), ("GET", "/browse/{kind}.json"),
    ("GET", "/records/{accession}"), ("GET", "/records/{accession}.json"),
    ("GET", "/records/{accession}/lineage"), ("GET", "/records/{accession}/lineage.json"),
    ("GET", "/records/{accession}/history"), ("GET", "/records/{accession}/history.json"),
    ("GET", "/records/{accession}/proteins/{protein_id}"),
    ("GET", "/records/{accession}/proteins/{protein_id}.json"),
    ("GET", "/map"), ("GET", "/map.json"), ("GET", "/jobs"), ("GET", "/jobs.json"),
    ("GET", "/signin"), ("POST", "/signin"), ("POST", "/signout"),
    ("GET", "/account"), ("GET", "/account.json"), ("POST", "/account/password"),
    ("GET", "/records/{accession}/edit"), ("GET", "/records/{accession}/edit.json"),
    ("POST", "/records/{accession}/edit"),
    ("GET", "/import"), ("POST", "/import"), ("POST", "/import.json"),
    ("POST", "/import/commit"),
    # creating records and links: tests/test_web_curation.py
    ("GET", "/new/{kind}"), ("GET", "/new/{kind}.json"), ("POST", "/new/{kind}"),
    ("POST", "/records/{accession}/links"), ("POST", "/records/{accession}/links/remove"),
    # the search pages: tests/test_web_search.py
    ("GET", "/search"), ("GET", "/search.json"), ("GET", "/search/sequence"),
    ("GET", "/search/sequence.json"), ("POST", "/search/sequence"),
    ("POST", "/search/sequence.json"), ("GET", "/search/compounds"),
    ("GET", "/search/compounds.json"), ("GET", "/search/families"),
    ("GET", "/search/families.json"),
    # the breeding pages: tests/test_breeding_web.py
    ("GET", "/breeding"), ("GET", "/breeding.json"), ("GET", "/breeding/import"),
    ("GET", "/breeding/import.json"), ("POST", "/breeding/import"),
    ("POST", "/breeding/import.json"), ("GET", "/breeding/datasets/{name}"),
    ("GET", "/breeding/datasets/{name}.json"), ("POST", "/breeding/datasets/{name}/run"),
    ("POST", "/breeding/datasets/{name}/run.json"), ("GET", "/breeding/results/{job_id}"),
    ("GET", "/breeding/results/{job_id}.json"), ("GET", "/breeding/results/{job_id}.csv"),
    # the market's releases (tests/test_market_releases.py)
    ("GET", "/market/releases"), ("GET", "/market/releases.json"),
    ("GET", "/market/inbox"), ("GET", "/market/inbox.json"),
    ("GET", "/market/deals"), ("GET", "/market/deals.json"),
    ("GET", "/market/deals/{deal_id}"), ("GET", "/market/deals/{deal_id}.json"),
    ("POST", "/market/deals/{deal_id}/events"), ("POST", "/market/deals"),
    ("GET", "/market/financing"), ("GET", "/market/financing.json"),
    ("POST", "/market/financing"), ("POST", "/market/financing/{need_id}/close"),
    ("POST", "/market/releases"), ("POST", "/market/releases/{release_id}/publish"),
    ("GET", "/market/releases/{release_id}"), ("GET", "/market/releases/{release_id}.json"),
    ("GET", "/market/releases/{release_id}/brochure"),
    ("GET", "/market/releases/{release_id}/brochure.json"),
    # programme monitoring (tests/test_programme.py)
    ("GET", "/programme"), ("GET", "/programme.json"), ("GET", "/programme/updates"),
    ("GET", "/programme/updates.json"), ("GET", "/programme/indicators/{key}"),
    ("GET", "/programme/indicators/{key}.json"), ("GET", "/programme/report/{period}"),
    ("GET", "/programme/report/{period}.json"),
    ("POST", "/programme/indicators/{key}/updates"),
    ("POST", "/programme/updates/{update_id}/review"),
    ("POST", "/programme/periods/{period}/close"),
    # genome projects (tests/test_genomes.py)
    ("GET", "/genomes"), ("GET", "/genomes.json"), ("GET", "/genomes/{key}"),
    ("GET", "/genomes/{key}.json"),
    # compound screening (tests/test_screening.py)
    ("GET", "/screening"), ("GET", "/screening.json"), ("GET", "/screening/assays/{key}"),
    ("GET", "/screening/assays/{key}.json"), ("GET", "/screening/models/{key}"),
    ("GET", "/screening/models/{key}.json"), ("GET", "/screening/profile"),
    ("GET", "/screening/profile.json"), ("POST", "/screening/assays/{key}/train"),
    # strain design (tests/test_design.py)
    ("POST", "/designs/{accession}/run"), ("POST", "/designs/{accession}/knockouts"),
}


def test_every_web_route_is_covered_by_these_tests(site: Site) -> None:
    from tests.support import app_routes, web_routes

    served = web_routes(site.client.app)  # type: ignore[arg-type]
    assert served == WEB_ROUTES
    assert served.isdisjoint(app_routes(site.client.app))  # type: ignore[arg-type]


def test_static_files_are_served(site: Site) -> None:
    assert site.client.get("/static/style.css").status_code == 200
    assert site.client.get("/static/app.js").status_code == 200


# --- assembly page -----------------------------------------------------------------------

def test_assembly_page_shows_statistics_gene_map_and_annotation(site: Site) -> None:
    from tests.support.sequences import annotated_assemblies

    public, hidden = annotated_assemblies(site.client)
    data = site.client.get(f"/records/{public}.json").json()["assembly"]
    assert data == services.assembly_panel(site.bank, ANONYMOUS, public, None)
    # BGC0001866.gbk is one 33,290 bp record; pyrodigal calls 42 genes on it
    # (`prodigal -i BGC0001866.fna -p single -f gff | grep -vc '^#'` also gives 42)
    assert data["contigs"] == [{"id": data["contig"], "length": 33290}]
    assert len(data["genes"]) == 42 and data["annotated"] is True
    assert data["stats"]["summary"]["genome_size"] == 33290
    page = site.client.get(f"/records/{public}").text
    assert page.count("<path d=") >= 42 and "Protein families" in page
    assert site.client.get(f"/records/{hidden}").status_code == 404
    assert site.client.get(f"/records/{hidden}.json",
                           headers=site.bearer("ana")).json()["assembly"]["genes"]
    for link in data["downloads"]:  # every download link answers
        assert site.client.get(link["href"]).status_code == 200, link
    assert {d["label"] for d in data["downloads"]} >= {"genes GFF3", "families JSON"}
    missing = site.client.get(f"/records/{public}?contig=nope").text
    assert data["contig"] in missing  # an unknown contig falls back to the first


def test_values_are_escaped_in_pages_and_drawings(site: Site) -> None:
    evil = "<script>alert(1)</script>"
    site.bank.catalog.update(LOCAL_ADMIN, site.strain, {"strain_designation": evil,
                                                        "description": evil})
    for path in (f"/records/{site.strain}", f"/records/{site.sample}/lineage",
                 "/browse/strains", f"/records/{site.strain}/history"):
        page = site.client.get(path).text
        at = page.find(evil)
        assert at < 0, (path, page[at - 200:at + 40])
        # the lineage box shortens the name before the tag; the others show it escaped
        assert "&lt;script&gt;" in page or path.endswith("/lineage"), path
