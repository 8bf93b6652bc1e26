"""An enzyme miner's journey on the pages, on the real Zobellia galactanivorans DsijT
proteome annotated with the shipped marine CAZyme and SusC/SusD packs: words that name an
enzyme lead to family search; a substrate finds every protein acting on it; the assembly page
tells its CAZymes first and its PULs with their members; a protein page shows its families,
domains, PUL and neighbours and leads to similar sequences; results can be downloaded.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from lanhai.app import create_app
from lanhai.db.engine import make_engine, migrate
from lanhai.profiles.registry import load_packs
from tests.support import bank_on
from tests.support.sequences import ANNOTATOR, ZOBELLIA_PROTEOME

#: the beta-agarase AgaB of Zobellia galactanivorans (GH16; GenBank CAZ97711.1), in its
#: agar/porphyran PUL (PULDB PUL0315: ZOBELLIA_3570-3573)
AGAB = "ZOBELLIA_3573_[Zobellia_galactanivorans_DsiJ]"


@pytest.fixture(scope="module")
def miner() -> Iterator[tuple[TestClient, str]]:
    folder = Path(tempfile.mkdtemp(prefix="lanhai-proteins-"))
    engine = make_engine(f"sqlite:///{folder / 'bank.sqlite'}")
    migrate(engine)
    bank = bank_on(engine, folder, secret_key="proteins")
    accession = bank.catalog.create(ANNOTATOR, "assembly", {
        "assembly_name": "Zobellia galactanivorans DsijT proteome",
        "assembly_type": "isolate genome", "seq_meth": "Sanger",
        "assembly_software": "Arachne"}).accession
    bank.sequences.ingest(ANNOTATOR, accession, ZOBELLIA_PROTEOME, kind="proteome",
                          allow_stops=True)
    packs = load_packs(folder / "profiles", ["marine-cazy", "sus"])
    bank.sequences.annotate(ANNOTATOR, [accession], packs=packs, steps=["families"])
    bank.sequence_search.update_index([accession], dbs=["proteins"])
    with TestClient(create_app(bank=bank)) as client:
        yield client, accession
    bank.close()


def test_the_assembly_page_tells_its_cazymes_first(miner: tuple[TestClient, str]) -> None:
    client, acc = miner
    panel = client.get(f"/records/{acc}.json").json()["assembly"]
    first = panel["families"][0]
    assert first["label"] == "category_cazy"
    names = {f["family"].split("_")[0] for f in first["families"]}
    assert {"GH16", "PL6", "PL7"} <= names  # agarases and alginate lyases of Zobellia
    gh16 = next(f for f in first["families"] if f["family"] == "GH16")
    assert gh16["href"] == f"/search/families?family=GH16&assembly={acc}"
    assert all(p["href"].startswith(f"/records/{acc}/proteins/") for p in gh16["proteins"])
    page = client.get(f"/records/{acc}").text
    assert page.index("CAZymes (carbohydrate-active enzymes)") < page.index(
        "PUL components (SusC/SusD)")
    # a proteome's PULs are placed by their first and last protein, never "None"
    assert panel["loci"], "the proteome has PULs"
    for locus in panel["loci"]:
        assert "None" not in locus["where"] and locus["members"]
    loci = page[page.index('id="loci-h"'):]
    assert ">None<" not in loci and f"/records/{acc}/proteins/" in loci


def test_a_protein_page_shows_families_domains_pul_and_neighbours(
        miner: tuple[TestClient, str]) -> None:
    client, acc = miner
    path = f"/records/{acc}/proteins/{AGAB}"
    data = client.get(path + ".json").json()
    assert data["protein"]["id"] == AGAB and data["protein"]["length"] > 300
    assert data["families"][0]["family"].startswith("GH16")
    assert "agar" in data["substrates"]
    assert next(d["family"] for d in data["domains"]).startswith("GH16")
    assert data["loci"] and AGAB in [m["id"] for m in data["loci"][0]["members"]]
    neighbours = [g["protein_id"] for g in data["neighbours"]]
    assert AGAB in neighbours and len(neighbours) == 13
    assert sum(g["self"] for g in data["neighbours"]) == 1
    page = client.get(path)
    assert page.status_code == 200
    assert "GH16" in page.text and 'class="self"' in page.text
    similar = re.search(r'href="(/search/sequence\?fasta=[^"]+)"', page.text)
    assert similar
    form = client.get(similar[1].replace("&amp;", "&"))
    assert data["protein"]["sequence"][:40] in form.text
    assert client.get(f"/records/{acc}/proteins/no-such-protein").status_code == 404


def test_enzyme_words_lead_to_their_families(miner: tuple[TestClient, str]) -> None:
    client, _ = miner
    for words, substrate in (("alginate lyase", "alginate"), ("agarase", "agar"),
                             ("褐藻胶裂解酶", "alginate"), ("琼胶酶", "agar")):
        data = client.get("/search.json", params={"q": words}).json()
        [found] = data["enzymes"]
        assert found["substrate"] == substrate
        assert found["href"] == f"/search/families?substrate={substrate}"
        assert client.get("/search", params={"q": words}).text.count(found["href"]) >= 1
    named = client.get("/search.json", params={"q": "PL7"}).json()["enzymes"]
    assert named == [{"words": "PL7", "substrate": None, "families": ["PL7"],
                      "href": "/search/families?family=PL7"}]
    assert client.get("/search.json", params={"q": "Zobellia"}).json()["enzymes"] == []


def test_a_substrate_finds_every_protein_acting_on_it(miner: tuple[TestClient, str]) -> None:
    client, acc = miner
    data = client.get("/search/families.json", params={"substrate": "agar",
                                                       "assembly": acc}).json()
    found = {h["protein_id"] for h in data["items"]}
    assert AGAB in found
    assert all("agar" in h["substrates"] for h in data["items"])
    assert {h["family"].split("_")[0] for h in data["items"]} <= {
        "GH16", "GH50", "GH86", "GH96", "GH117", "GH118"}
    agab = next(h for h in data["items"] if h["protein_id"] == AGAB)
    assert agab["href"] == f"/records/{acc}/proteins/{AGAB}".replace("[", "%5B").replace(
        "]", "%5D")
    tsv = next(d["href"] for d in data["downloads"] if d["label"] == "TSV")
    table = client.get(tsv)
    assert table.status_code == 200 and AGAB in table.text
    bad = client.get("/search/families", params={"substrate": "gold"})
    assert bad.status_code == 422 and "alginate" in bad.text
    page = client.get("/search/families", params={"substrate": "agar"}).text
    assert '<option value="agar" selected>' in page


def test_a_bare_sequence_is_searched_and_hits_link_to_their_protein(
        miner: tuple[TestClient, str]) -> None:
    client, acc = miner
    example = client.get("/search/sequence", params={"example": "agab"}).text
    assert "beta-agarase AgaB" in example
    sequence = client.get(f"/records/{acc}/proteins/{AGAB}.json").json()["protein"]["sequence"]
    csrf = _csrf(client.get("/search/sequence").text)
    bare = "\n".join(f"{i * 60 + 1} {sequence[i * 60:(i + 1) * 60].lower()}"
                     for i in range(len(sequence) // 60))  # as copied from a GenBank file
    answer = client.post("/search/sequence.json", data={"fasta": bare, "csrf": csrf})
    assert answer.status_code == 200, answer.text[:300]
    hits = answer.json()["result"]["hits"]
    assert hits[0]["target"] == AGAB and hits[0]["identity"] == 1.0
    assert unquote(hits[0]["href"]) == f"/records/{acc}/proteins/{AGAB}"
    page = client.post("/search/sequence", data={"fasta": bare, "csrf": csrf}).text
    download = re.search(r'href="(data:text/tab-separated-values[^"]+)"', page)
    assert download and AGAB in unquote(download[1])


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match
    return match[1]

