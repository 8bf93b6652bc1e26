"""Releases of the market's best results: an admin composes one from published offers and
publishes it; readers find it as a page, an Atom feed and a printable brochure, and never
see through it an offer they may not see."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.services.access import Actor
from tests.support import add_user, make_client

CURATOR = Actor("ana", "curator")
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def market(engine: Engine) -> tuple[TestClient, dict[str, dict[str, str]], list[str]]:
    client = make_client(engine)
    catalog = client.app.state.bank.catalog  # type: ignore[attr-defined]
    org = catalog.create(CURATOR, "organisation", {"name_zh": "中国海洋大学",
                                                   "org_type": "高校"}).accession
    strain = catalog.create(CURATOR, "strain", {
        "taxon_name": "Zobellia galactanivorans", "strain_designation": "DsijT",
        "collection_numbers": "DSM 12802", "organism_type": "Bacteria",
        "restrictions_on_use": "1", "nagoya_compliance": "1", "risk_group": "1",
        "risk_group_scheme": "WHO", "recommended_temperature": "25",
        "recommended_medium": "Marine agar 2216", "form_of_supply": "Lyo",
        "geographic_origin": "France: Roscoff"}).accession
    offers = [catalog.create(CURATOR, "offer", {
        "reference": f"R-{n}", "title": title, "title_zh": zh, "field": "enzyme",
        "sector": "food_health", "trl": "6", "transfer_types": "licence",
        "market_status": "published", "organisation": org}).accession
        for n, (title, zh) in enumerate((("PL7 alginate lyase", "褐藻胶裂解酶"),
                                         ("GH16 beta-agarase", "β-琼胶酶")))]
    catalog.link(CURATOR, strain, "evidence_for", offers[0])
    who = {"admin": add_user(engine, "root", "admin"),
           "reader": add_user(engine, "rui", "reader")}
    return client, who, offers


def test_compose_publish_and_read_a_release(
        market: tuple[TestClient, dict[str, dict[str, str]], list[str]]) -> None:
    client, who, offers = market
    body = {"title": "Qingdao's best results: synthetic biology",
            "title_zh": "青岛好成果 · 合成生物专场", "issued": "2026-11-30",
            "introduction": "Two enzymes from the marine banks.", "offers": offers}
    assert client.post("/api/market/releases", json=body, headers=who["reader"]
                       ).status_code == 403
    bad = client.post("/api/market/releases", headers=who["admin"],
                      json={**body, "offers": ["LHSM0000001"]})
    assert bad.status_code == 400 and "not offers of this bank" in bad.text
    made = client.post("/api/market/releases", json=body, headers=who["admin"])
    assert made.status_code == 201, made.text
    release = made.json()
    path = f"/api/market/releases/{release['id']}"
    assert release["published"] is False
    assert [e["accession"] for e in release["entries"]] == offers
    assert release["entries"][0]["evidence"][0]["name"] == "Zobellia galactanivorans DsijT"
    assert release["entries"][0]["organisation"]["name"] == "中国海洋大学"
    # a draft is the admins' alone
    assert client.get(path).status_code == 404
    assert client.get("/api/market/releases").json()["releases"] == []
    changed = client.put(path, headers={**who["admin"], "If-Match": '"1"'},
                         json={**body, "offers": offers[::-1]})
    assert changed.status_code == 200 and changed.json()["offers"] == offers[::-1]
    assert client.put(path, headers={**who["admin"], "If-Match": '"1"'},
                      json=body).status_code == 409
    published = client.post(f"{path}/publish", headers=who["admin"])
    assert published.status_code == 200 and published.json()["published"] is True
    assert client.put(path, headers=who["admin"], json=body).status_code == 400

    listed = client.get("/api/market/releases").json()["releases"]
    assert [r["id"] for r in listed] == [release["id"]]
    feed = client.get("/api/market/releases.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [body["title"]]
    assert "GH16 beta-agarase" in (entries[0].findtext(f"{ATOM}summary") or "")

    # an offer withdrawn after the release leaves it for readers, not for admins
    client.app.state.bank.catalog.update(  # type: ignore[attr-defined]
        CURATOR, offers[1], {"market_status": "withdrawn"})
    seen = client.get(path, headers=who["reader"]).json()
    assert [e["accession"] for e in seen["entries"]] == [offers[0]]
    assert client.get("/api/market/releases").json()["releases"][0]["offers"] == [offers[0]]
    assert "GH16" not in client.get("/api/market/releases.atom").text
    assert len(client.get(path, headers=who["admin"]).json()["entries"]) == 2


def test_release_pages_and_brochure(
        market: tuple[TestClient, dict[str, dict[str, str]], list[str]]) -> None:
    client, who, offers = market
    made = client.post("/api/market/releases", headers=who["admin"], json={
        "title": "Marine enzymes", "title_zh": "海洋酶专场", "issued": "2026-12-01",
        "offers": offers}).json()
    client.post(f"/api/market/releases/{made['id']}/publish", headers=who["admin"])
    page = client.get("/market/releases?lang=zh")
    assert page.status_code == 200 and "海洋酶专场" in page.text
    one = client.get(f"/market/releases/{made['id']}")
    assert one.status_code == 200
    assert "PL7 alginate lyase" in one.text and f"/records/{offers[0]}" in one.text
    brochure = client.get(f"/market/releases/{made['id']}/brochure")
    assert brochure.status_code == 200 and "海洋酶专场" in brochure.text
    twin = client.get(f"/market/releases/{made['id']}.json").json()
    assert [e["accession"] for e in twin["entries"]] == offers
    assert client.get("/market/releases/999.json").status_code == 404
    assert client.get("/market/releases/x99").status_code == 404
