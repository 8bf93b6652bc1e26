"""The search pages (lanhai.web.search_pages) through FastAPI's TestClient, on SQLite and
PostgreSQL: text search with facets, sequence search with lineage, compound structure and
protein family search. Each page's JSON twin equals its service data; readers never see
restricted records; bad input shows the form again with the problem beside its field (422)
and the twin gives the API's error envelope; every form field is labelled (keyboard and
screen-reader use).

The sequence bank is built as in tests/test_search_sequences.py: slices of real Maribacter
proteomes (tests/data/search/) ingested as proteomes, indexed with MMseqs2.
"""

from __future__ import annotations

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
from lanhai.search.mmseqs import MMseqs
from lanhai.services.access import ANONYMOUS, LOCAL_ADMIN
from lanhai.services.sequence_search import SequenceSearch
from lanhai.settings import Settings
from lanhai.store.layout import Layout
from lanhai.web import search
from tests.support import SAMPLE, ZOBELLIA, add_token, add_user, create_user, database
from tests.support.sequences import DOKDONENSIS, FORSETII, fasta, records
from tests.support.web import GLYCAN, Site, csrf_of, make_site


@pytest.fixture
def site(engine: Engine) -> Iterator[Site]:
    yield from make_site(engine)


def labelled(html: str) -> None:
    """Every visible form control has a label (a <label for> or a wrapping <label>) and the
    form a submit button: usable by keyboard and screen readers."""
    for form in re.findall(r"<form\b.*?</form>", html, re.S):
        if 'action="/signout"' in form:
            continue
        assert re.search(r'<button type="submit"', form), form[:200]
        wrapped = set()
        for label in re.findall(r"<label\b[^>]*>.*?</label>", form, re.S):
            wrapped.update(re.findall(r'<input[^>]*name="([^"]+)"', label))
        ids = set(re.findall(r'<label for="([^"]+)"', form))
        for tag, attrs in re.findall(r"<(input|select|textarea)\b([^>]*)>", form):
            if 'type="hidden"' in attrs:
                continue
            ident = re.search(r'id="([^"]+)"', attrs)
            name = re.search(r'name="([^"]+)"', attrs)
            assert (ident and ident[1] in ids) or (name and name[1] in wrapped), (tag, attrs)


# --- text search -------------------------------------------------------------------------

def test_text_search_page_and_twin(site: Site) -> None:
    body = site.client.get("/search.json?q=Zobellia").json()
    assert body == search.text_search(site.bank, ANONYMOUS, {"q": "Zobellia"}, [], [])
    found = {i["accession"] for i in body["items"]}
    assert site.strain in found and body["total"] == len(found)
    assert {k["value"] for k in body["links"]["kind"]} >= {"strain"}
    page = site.client.get("/search?q=Zobellia")
    assert page.status_code == 200
    assert f'href="/records/{site.strain}"' in page.text
    labelled(page.text)
    # a facet link narrows the search to that kind, and is then shown as chosen
    strain_link = next(k["href"] for k in body["links"]["kind"] if k["value"] == "strain")
    narrowed = site.client.get(strain_link.replace("/search?", "/search.json?")).json()
    assert {i["kind"] for i in narrowed["items"]} == {"strain"}
    assert narrowed["filters"]["kind"] == ["strain"]
    assert next(k for k in narrowed["links"]["kind"] if k["value"] == "strain")["chosen"]


def test_text_search_filters_sorting_and_paging(site: Site) -> None:
    everything = site.client.get("/search.json?sort=accession").json()
    accessions = [i["accession"] for i in everything["items"]]
    assert accessions == sorted(accessions) and everything["total"] == len(accessions)
    first = site.client.get("/search.json?sort=accession&limit=2").json()
    assert [i["accession"] for i in first["items"]] == accessions[:2]
    assert first["next"] and first["previous"] is None
    second = site.client.get(first["next"].replace("/search?", "/search.json?")).json()
    assert [i["accession"] for i in second["items"]] == accessions[2:4]
    # SAMPLE was taken at 0 m depth on 2014-06-21
    deep = site.client.get("/search.json?depth_min=100").json()
    assert site.sample not in {i["accession"] for i in deep["items"]}
    dated = site.client.get("/search.json?date_from=2014-06-01&date_to=2014-06-30").json()
    assert site.sample in {i["accession"] for i in dated["items"]}
    assert site.client.get("/search.json?has_genome=yes").json()["total"] == 0
    # the TSV link asks the API for the same selection
    kinds = site.client.get("/search.json?kind=strain&sort=name&desc=yes").json()
    tsv = site.client.get(kinds["tsv"])
    assert tsv.status_code == 200
    lines = tsv.text.splitlines()
    assert [line.split("\t")[0] for line in lines[1:]] == [i["accession"]
                                                           for i in kinds["items"]]


def test_readers_never_see_restricted_records_in_search(site: Site) -> None:
    for headers in ({}, site.bearer("rui")):
        body = site.client.get("/search.json?q=secret", headers=headers).json()
        assert body["total"] == 0 and body["items"] == []
        everything = site.client.get("/search.json?limit=100", headers=headers).json()
        seen = {i["accession"] for i in everything["items"]}
        assert site.hidden_sample not in seen and site.deposit not in seen
        assert "deposit" not in everything["facets"]["kind"]
        page = site.client.get("/search?q=secret+site", headers=headers).text
        assert site.hidden_sample not in page
    curator = site.client.get("/search.json?q=secret", headers=site.bearer("ana")).json()
    assert [i["accession"] for i in curator["items"]] == [site.hidden_sample]


@pytest.mark.parametrize(("query", "field", "shown"), [
    ("depth_min=deep", "depth_min", "is not a number"),
    ("date_from=yesterday", "date_from", "is not an ISO date"),
    ("bbox=1,2,3", "bbox", "give W,S,E,N"),
    ("sort=colour", "sort", "cannot sort by"),
    ("kind=planets", "kind", "no record kind"),
])
def test_bad_text_search_input_shows_the_form_again(site: Site, query: str, field: str,
                                                    shown: str) -> None:
    page = site.client.get(f"/search?{query}")
    assert page.status_code == 422
    assert f'id="e_{field}"' in page.text and shown in page.text
    labelled(page.text)
    twin = site.client.get(f"/search.json?{query}")
    assert twin.status_code == 422
    error = twin.json()["error"]
    assert error["code"] == "invalid" and error["problems"][0]["field"] == field


# --- compound search ---------------------------------------------------------------------

def test_compound_search_exact_substructure_similarity(site: Site) -> None:
    hidden = site.bank.catalog.create(LOCAL_ADMIN, "compound", {
        **GLYCAN, "compound_name": "secret sugar", "source_ids": "LHTEST-GLYCAN-2",
        "restricted": "yes"}).accession
    smiles = GLYCAN["smiles"]
    params = {"structure": smiles, "mode": "exact"}
    body = site.client.get("/search/compounds.json", params=params).json()
    assert body == search.compound_search(site.bank, ANONYMOUS, params)
    assert [i["name"] for i in body["items"]] == ["neoagarobiose"]
    item = body["items"][0]
    assert item["drawing"].startswith("<svg") and "<script" not in item["drawing"]
    page = site.client.get("/search/compounds", params=params)
    assert page.status_code == 200 and f'href="/records/{item["accession"]}"' in page.text
    assert page.text.count("<svg") >= 1 and "secret sugar" not in page.text
    labelled(page.text)
    # the InChIKey of the same structure finds it too
    by_key = site.client.get("/search/compounds.json", params={
        "structure": item["inchikey"], "mode": "exact"}).json()
    assert [i["accession"] for i in by_key["items"]] == [item["accession"]]
    # a pyranose ring as SMARTS, and similarity to itself (Tanimoto 1.0)
    ring = site.client.get("/search/compounds.json", params={
        "structure": "C1OCCCC1", "mode": "substructure"}).json()
    assert item["accession"] in {i["accession"] for i in ring["items"]}
    similar = site.client.get("/search/compounds.json", params={
        "structure": smiles, "mode": "similarity", "threshold": "0.9"}).json()
    assert similar["items"][0]["similarity"] == 1.0
    # the restricted copy: only curators
    for headers in ({}, site.bearer("rui")):
        seen = site.client.get("/search/compounds.json", params=params, headers=headers).json()
        assert hidden not in {i["accession"] for i in seen["items"]}
    curator = site.client.get("/search/compounds.json", params=params,
                              headers=site.bearer("ana")).json()
    assert hidden in {i["accession"] for i in curator["items"]}


@pytest.mark.parametrize(("params", "field", "shown"), [
    ({"structure": "C1CC(", "mode": "exact"}, "structure", "is not a SMILES"),
    ({"structure": "[C@@", "mode": "substructure"}, "structure", "is not a SMARTS"),
    ({"structure": "CCO", "mode": "similarity", "threshold": "2"}, "threshold",
     "between 0 and 1"),
    ({"structure": "CCO", "mode": "shape"}, "mode", "no search mode"),
])
def test_bad_compound_input_shows_the_form_again(site: Site, params: dict[str, str],
                                                 field: str, shown: str) -> None:
    page = site.client.get("/search/compounds", params=params)
    assert page.status_code == 422 and f'id="e_{field}"' in page.text and shown in page.text
    twin = site.client.get("/search/compounds.json", params=params)
    assert twin.status_code == 422 and twin.json()["error"]["problems"][0]["field"] == field


def test_structure_drawings_are_sanitized() -> None:
    evil = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
            ' width="10" height="10" onload="alert(1)"><script>alert(2)</script>'
            '<a href="javascript:alert(3)"><path d="M0 0" /></a><!-- c -->'
            '<path d="M1 1" style="fill:url(http://x)" id="x" />'
            '<image xlink:href="http://example.org/x.png" /></svg>')
    clean = search.sanitize_svg(evil)
    assert clean == '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">' \
                    '<path d="M1 1" /></svg>'
    drawing = search.draw_structure("OCC1OC(O)C(O)C(O)C1O")
    assert drawing is not None and drawing.startswith("<svg")
    assert search.draw_structure("not a smiles") is None


# --- family search -----------------------------------------------------------------------

def test_family_search_lists_proteins_with_lineage(engine: Engine, tmp_path: Path) -> None:
    from tests.support.search import build_bank

    data_dir = tmp_path / "bank"
    data_dir.mkdir()
    made = build_bank(engine, data_dir)
    bank = Bank.over(Settings(data_dir=data_dir, secret_key="test-secret"), database(engine))
    token = add_user(engine, "ana", "curator")["Authorization"].removeprefix("Bearer ")
    client = TestClient(create_app(bank=bank))
    empty = client.get("/search/families.json").json()
    assert empty["searched"] is False and empty["items"] == []
    params = {"family": "GH16 PF07980"}
    body = client.get("/search/families.json", params=params).json()
    assert body == search.family_search(bank, ANONYMOUS, params, ["GH16 PF07980"])
    # tests/test_search_families.py: GH16_3 on MAR621_03589 (dbCAN), three SusD_RagB hits
    assert sorted(h["protein_id"] for h in body["items"]) == [
        "MAR621_02265", "MAR621_02601", "MAR621_02893", "MAR621_03589"]
    gh16 = next(h for h in body["items"] if h["family"] == "GH16_3")
    assert gh16["sample"] == made.acc["deep_sample"] and gh16["depth_m"] == 1000.0
    page = client.get("/search/families", params=params)
    assert page.status_code == 200
    for acc in (made.acc["deep"], made.acc["deep_sample"], made.acc["strain"]):
        assert f'href="/records/{acc}"' in page.text
    labelled(page.text)
    deep = client.get("/search/families.json", params={**params, "depth_min": "500"}).json()
    assert [h["protein_id"] for h in deep["items"]] == ["MAR621_03589"]
    # the restricted sample beside the deep one is never shown to anonymous callers
    assert made.acc["hidden_sample"] not in page.text
    bad = client.get("/search/families?family=GH16&depth_min=abc")
    assert bad.status_code == 422 and 'id="e_depth_min"' in bad.text
    twin = client.get("/search/families.json?family=GH16&date_from=soon")
    assert twin.status_code == 422 and twin.json()["error"]["problems"][0]["field"] == \
        "date_from"
    assert client.get("/search/families.json", params=params,
                      headers={"Authorization": f"Bearer {token}"}).status_code == 200


# --- sequence search ---------------------------------------------------------------------

@dataclass
class SeqSite:
    client: TestClient
    bank: Bank
    dok: str
    hidden: str
    strain: str
    sample: str
    tokens: dict[str, str]

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def csrf(self) -> str:
        return csrf_of(self.client.get("/search/sequence").text)


@pytest.fixture
def seq_site(engine: Engine) -> Iterator[SeqSite]:
    folder = Path(tempfile.mkdtemp(prefix="lanhai-web-seq-"))
    bank = Bank.over(Settings(data_dir=folder, secret_key="test-secret"), database(engine))
    catalog = bank.catalog
    fields = {"assembly_type": "isolate genome", "seq_meth": "Illumina HiSeq 2000",
              "assembly_software": "SPAdes;3.15.5"}
    dok = catalog.create(LOCAL_ADMIN, "assembly", {
        **fields, "assembly_name": "Maribacter dokdonensis DSW-8"}).accession
    hidden = catalog.create(LOCAL_ADMIN, "assembly", {
        **fields, "assembly_name": "Maribacter forsetii DSM 18668", "restricted": "yes"}
                            ).accession
    strain = catalog.create(LOCAL_ADMIN, "strain", ZOBELLIA).accession
    sample = catalog.create(LOCAL_ADMIN, "sample", {**SAMPLE, "depth": "1200 m"}).accession
    catalog.link(LOCAL_ADMIN, sample, "isolated_from", strain)
    catalog.link(LOCAL_ADMIN, strain, "sequenced_as", dok)
    for acc, path in ((dok, DOKDONENSIS), (hidden, FORSETII)):
        bank.sequences.ingest(LOCAL_ADMIN, acc, path, kind="proteome", allow_stops=True)
    SequenceSearch(catalog, Layout(folder), mmseqs=MMseqs(threads=1)).update_index(
        dbs=["proteins"])
    tokens = {}
    for name, role in (("rui", "reader"), ("ana", "curator")):
        create_user(engine, name, role)
        tokens[name] = add_token(engine, name, "web tests")
    with TestClient(create_app(bank=bank)) as client:
        yield SeqSite(client, bank, dok, hidden, strain, sample, tokens)


def _post(seq: SeqSite, path: str, text: str, headers: dict[str, str] | None = None,
          **options: str) -> Any:
    return seq.client.post(path, data={"csrf": seq.csrf(), "fasta": text, **options},
                            headers=headers or {}, follow_redirects=False)


def test_sequence_search_shows_hits_with_lineage(seq_site: SeqSite) -> None:
    form = seq_site.client.get("/search/sequence")
    assert form.status_code == 200
    labelled(form.text)
    assert seq_site.client.get("/search/sequence.json").json()["options"]["db"] == "proteins"
    query = records(DOKDONENSIS)[:2]
    answer = _post(seq_site, "/search/sequence", fasta(query), max_hits="3")
    assert answer.status_code == 200, answer.text
    for acc in (seq_site.dok, seq_site.strain, seq_site.sample):
        assert f'href="/records/{acc}"' in answer.text
    assert query[0][0] in answer.text and "1200" in answer.text
    twin = _post(seq_site, "/search/sequence.json", fasta(query), max_hits="3").json()
    direct = seq_site.bank.sequence_search.with_jobs(1).search(ANONYMOUS, fasta(query),
                                                               max_hits=3)
    assert [(h["query"], h["target"], h["assembly"], h["evalue"]) for h in twin["result"]["hits"]
            ] == [(h["query"], h["target"], h["assembly"], h["evalue"]) for h in direct["hits"]]
    best = twin["result"]["hits"][0]
    assert (best["target"], best["identity"]) == (query[0][0], 1.0)
    assert best["lineage"]["samples"][0]["href"] == f"/records/{seq_site.sample}"
    assert best["lineage"]["strains"][0]["href"] == f"/records/{seq_site.strain}"
    # an uploaded file works like pasted text
    upload = seq_site.client.post("/search/sequence.json", data={
        "csrf": seq_site.csrf(), "max_hits": "3"}, files={
        "file": ("q.faa", fasta(query).encode(), "text/plain")})
    assert upload.json()["result"]["hits"] == twin["result"]["hits"]


def test_sequence_hits_in_restricted_assemblies_only_for_curators(seq_site: SeqSite) -> None:
    # a forsetii protein: its own (restricted) assembly is the best hit for curators
    query = fasta(records(FORSETII)[:1])
    for headers in ({}, seq_site.bearer("rui")):
        body = _post(seq_site, "/search/sequence.json", query, headers).json()
        assert seq_site.hidden not in {h["assembly"] for h in body["result"]["hits"]}
        page = _post(seq_site, "/search/sequence", query, headers).text
        assert seq_site.hidden not in page
    curator = _post(seq_site, "/search/sequence.json", query, seq_site.bearer("ana")).json()
    assert curator["result"]["hits"][0]["assembly"] == seq_site.hidden


def test_bad_fasta_shows_the_form_again_with_the_problems(seq_site: SeqSite) -> None:
    answer = _post(seq_site, "/search/sequence", ">q1\nMK1V\n", evalue="-1")
    assert answer.status_code == 422
    assert 'id="e_fasta"' in answer.text and "q1" in answer.text
    assert 'id="e_evalue"' in answer.text
    assert "&gt;q1" in answer.text  # the pasted text is kept in the form
    labelled(answer.text)
    twin = _post(seq_site, "/search/sequence.json", ">q1\nMK1V\n")
    assert twin.status_code == 422
    assert twin.json()["error"]["problems"][0]["record"] == "q1"
    empty = _post(seq_site, "/search/sequence", "")
    assert empty.status_code == 422 and "no sequence given" in empty.text
    dna = _post(seq_site, "/search/sequence.json", ">d\n" + "ACGT" * 20 + "\n")
    assert dna.status_code == 422 and "nucleotide" in dna.text
    no_csrf = seq_site.client.post("/search/sequence", data={"fasta": ">q\nMKV\n"})
    assert no_csrf.status_code == 403


def test_many_queries_start_a_background_job(seq_site: SeqSite) -> None:
    query = fasta(records(FORSETII)[:60])
    anonymous = _post(seq_site, "/search/sequence", query)
    assert anonymous.status_code == 422 and "sign in" in anonymous.text
    started = _post(seq_site, "/search/sequence", query, seq_site.bearer("rui"),
                    max_hits="1")
    assert started.status_code == 303
    assert started.headers["location"].startswith("/jobs")
    jobs = seq_site.client.get("/jobs.json", headers=seq_site.bearer("rui")).json()["jobs"]
    assert [j["kind"] for j in jobs] == ["search-sequence"]
    assert jobs[0]["params"]["queries"] == 60
    twin = _post(seq_site, "/search/sequence.json", query, seq_site.bearer("rui"),
                 max_hits="1")
    assert twin.status_code == 202
    assert twin.headers["location"] == f"/api/jobs/{twin.json()['id']}"
    runner = seq_site.client.app.state.bank.jobs  # type: ignore[attr-defined]
    for job in (jobs[0]["id"], twin.json()["id"]):
        done = runner.wait(job, timeout=120)
        assert done.status == "done", done.error
        assert len(done.result["queries"]) == 60
        # the reader's job never reveals the restricted forsetii assembly
        assert seq_site.hidden not in {h["assembly"] for h in done.result["hits"]}


def test_navigation_links_the_search_pages_in_both_languages(site: Site) -> None:
    en = site.client.get("/?lang=en").text
    assert '<a href="/search"' in en and ">Search<" in en
    zh = site.client.get("/search?lang=zh").text
    assert ">检索<" in zh and 'aria-current="page">检索' in zh.replace("\n", "")
    for path in ("/search/sequence", "/search/compounds", "/search/families"):
        page = site.client.get(path + "?lang=zh")
        assert page.status_code == 200 and 'href="/search/sequence"' in page.text
