"""The records API from a program's side: create, list with filters and pages, get, update,
history, links in both directions, lineage. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.settings import Settings
from tests.support import DEPOSIT, SAMPLE, ZOBELLIA, add_user, make_client


@pytest.fixture
def api(engine: Engine) -> TestClient:
    return make_client(engine, Settings(page_size_max=5))


@pytest.fixture
def curator(engine: Engine) -> dict[str, str]:
    return add_user(engine, "ana", "curator")


def sample(name: str, depth: str = "1 m", **extra: str) -> dict[str, Any]:
    return {**SAMPLE, "samp_name": name, "depth": depth, **extra}


def test_create_returns_201_location_and_the_stored_record(
        api: TestClient, curator: dict[str, str]) -> None:
    made = api.post("/api/samples", json={**SAMPLE, "note": "from the OSD table"},
                    headers=curator)
    assert made.status_code == 201
    body = made.json()
    assert made.headers["location"] == "/api/samples/LHSM0000001"
    assert body["accession"] == "LHSM0000001" and body["kind"] == "sample"
    assert body["version"] == 1 and body["created_by"] == "ana"
    assert body["fields"]["depth_m"] == 0 and body["fields"]["latitude"] == 50.25
    assert "Ocean Sampling Day 2014:OSD1_2014-06-21_0m" in body["identifiers"]
    # the Location resolves, in any case, under the kind or under /api/records
    for path in ("/api/samples/LHSM0000001", "/api/sample/lhsm0000001",
                 "/api/records/lHsM0000001"):
        got = api.get(path)
        assert got.status_code == 200, path
        assert got.json() == body
    history = api.get("/api/records/LHSM0000001/history").json()
    assert history["versions"][0]["note"] == "from the OSD table"


def test_create_reads_dates_with_the_given_format(api: TestClient,
                                                  curator: dict[str, str]) -> None:
    raw = sample("dmy", collection_date="05-10-2010")
    refused = api.post("/api/samples", json=raw, headers=curator)
    assert refused.status_code == 422
    assert refused.json()["error"]["problems"][0]["field"] == "collection_date"
    made = api.post("/api/samples?date_format=%25d-%25m-%25Y", json=raw, headers=curator)
    assert made.status_code == 201
    assert made.json()["fields"]["collection_date"] == "2010-10-05"


def test_invalid_record_reports_every_field_and_stores_nothing(
        api: TestClient, curator: dict[str, str]) -> None:
    bad = sample("bad", lat_lon="95 10", collection_date="05-10-2010", depth="-3 m")
    del bad["env_medium"]
    answer = api.post("/api/samples", json=bad, headers=curator)
    assert answer.status_code == 422
    problems = answer.json()["error"]["problems"]
    assert sorted(p["field"] for p in problems) == ["collection_date", "depth", "env_medium",
                                                    "lat_lon"]
    assert all(p["reason"] and p["fix"] for p in problems)
    assert {p["value"] for p in problems if p["field"] == "lat_lon"} == {"95 10"}
    assert api.get("/api/stats").json()["total"] == 0


def test_duplicate_identifier_is_a_conflict(api: TestClient, curator: dict[str, str]) -> None:
    assert api.post("/api/strains", json=ZOBELLIA, headers=curator).status_code == 201
    again = api.post("/api/strains", json={**ZOBELLIA, "collection_numbers": "DSM 12802"},
                     headers=curator)
    assert again.status_code == 409
    assert "DSM 12802" in again.json()["error"]["message"]


def test_list_filters_search_sort_and_pages(api: TestClient, curator: dict[str, str]) -> None:
    for i, depth in enumerate(["5 m", "1200 m", "3000 m", "20 m", "1500 m", "4000 m", "2 m"]):
        made = api.post("/api/samples", json=sample(f"s{i}", depth,
                                                    description=f"station {i} 深海" if i % 2
                                                    else f"station {i}"),
                        headers=curator)
        assert made.status_code == 201
    deep = api.get("/api/samples", params={"where": ["depth_m>1000", "depth_m<3500"],
                                           "sort": "-depth_m"}).json()
    assert [r["fields"]["depth_m"] for r in deep["items"]] == [3000, 1500, 1200]
    assert deep["total"] == 3 and deep["next"] is None
    assert api.get("/api/samples", params={"q": "深海"}).json()["total"] == 3

    # default page size is capped by LANHAI_PAGE_SIZE_MAX (5 here); follow `next`
    first = api.get("/api/samples", params={"limit": 3, "where": "depth_m>=1"}).json()
    assert (first["total"], first["limit"], first["offset"]) == (7, 3, 0)
    seen = [r["accession"] for r in first["items"]]
    page = first
    while page["next"]:
        assert "where=depth_m" in page["next"]
        page = api.get(page["next"]).json()
        seen += [r["accession"] for r in page["items"]]
    assert seen == [f"LHSM{n:07d}" for n in range(1, 8)]
    assert page["offset"] == 6 and page["next"] is None
    too_big = api.get("/api/samples", params={"limit": 6})
    assert too_big.status_code == 422
    assert too_big.json()["error"]["problems"][0]["field"] == "limit"
    everything = api.get("/api/records", params={"limit": 5}).json()
    assert everything["total"] == 7 and everything["next"].endswith("offset=5&limit=5")


def test_bad_filter_and_sort_are_usage_errors(api: TestClient) -> None:
    for params in ({"where": "nonsense"}, {"where": "bogus>1"}, {"sort": "fields"}):
        answer = api.get("/api/samples", params=params)
        assert answer.status_code == 400, params
        assert answer.json()["error"]["code"] == "usage"


def test_update_bumps_version_and_history_says_who_and_what(
        engine: Engine, api: TestClient, curator: dict[str, str]) -> None:
    admin = add_user(engine, "root", "admin")
    api.post("/api/strains", json=ZOBELLIA, headers=curator)
    changed = api.patch("/api/strains/LHST0000001",
                        json={"recommended_medium": "Zobell 2216E", "note": "medium corrected"},
                        headers=admin)
    assert changed.status_code == 200
    assert changed.json()["version"] == 2 and changed.json()["updated_by"] == "root"
    assert changed.json()["fields"]["recommended_temperature"] == [20.0, 25.0]  # untouched
    same = api.patch("/api/strains/LHST0000001", json={"recommended_medium": "Zobell 2216E"},
                     headers=admin)
    assert same.json()["version"] == 2  # nothing changed, no new version
    history = api.get("/api/records/lhst0000001/history").json()["versions"]
    assert [(v["version"], v["action"], v["changed_by"]) for v in history] == [
        (1, "create", "ana"), (2, "update", "root")]
    assert history[1]["changes"] == {"recommended_medium": ["Marine agar 2216", "Zobell 2216E"]}
    assert history[1]["note"] == "medium corrected"

    # PUT replaces everything: required fields must all be there
    partial = api.put("/api/strains/LHST0000001", json={"taxon_name": "Zobellia"},
                      headers=curator)
    assert partial.status_code == 422
    assert "organism_type" in {p["field"] for p in partial.json()["error"]["problems"]}
    whole = {**ZOBELLIA, "isolation_habitat": None}
    replaced = api.put("/api/strains/LHST0000001", json=whole, headers=curator)
    assert replaced.status_code == 200 and replaced.json()["version"] == 3
    assert "isolation_habitat" not in replaced.json()["fields"]
    assert replaced.json()["fields"]["recommended_medium"] == "Marine agar 2216"


def test_update_of_wrong_kind_or_unknown_record_is_404(api: TestClient,
                                                       curator: dict[str, str]) -> None:
    api.post("/api/samples", json=SAMPLE, headers=curator)
    assert api.patch("/api/strains/LHSM0000001", json={}, headers=curator).status_code == 404
    assert api.patch("/api/samples/LHSM0000009", json={}, headers=curator).status_code == 404
    assert api.get("/api/strains/LHSM0000001").status_code == 404
    assert api.get("/api/widgets/LHSM0000001").status_code == 404
    assert api.patch("/api/records/lhsm0000001", json={"description": "via any kind"},
                     headers=curator).json()["version"] == 2


def test_links_both_directions_and_lineage(engine: Engine, api: TestClient,
                                           curator: dict[str, str]) -> None:
    api.post("/api/samples", json=SAMPLE, headers=curator)
    api.post("/api/strains", json=ZOBELLIA, headers=curator)
    api.post("/api/deposits", json={**DEPOSIT, "restricted": False}, headers=curator)
    # written the natural way round; stored as lineage (sample is the ancestor)
    made = api.post("/api/links", json={"source": "lhst0000001", "rel": "isolated_from",
                                        "target": "lhsm0000001"}, headers=curator)
    assert made.status_code == 201
    assert (made.json()["source"], made.json()["target"]) == ("LHSM0000001", "LHST0000001")
    assert api.post("/api/links", json={"source": "LHST0000001", "rel": "deposited_as",
                                        "target": "LHDP0000001"},
                    headers=curator).status_code == 201
    refused = api.post("/api/links", json={"source": "LHSM0000001", "rel": "produces",
                                           "target": "LHST0000001"}, headers=curator)
    assert refused.status_code == 422
    unknown = api.post("/api/links", json={"source": "LHSM0000001", "rel": "eats",
                                           "target": "LHST0000001"}, headers=curator)
    assert unknown.status_code == 422
    assert unknown.json()["error"]["problems"][0]["field"] == "rel"

    strain_links = api.get("/api/records/LHST0000001/links").json()["links"]
    assert [(lk["rel"], lk["direction"]) for lk in strain_links] == [
        ("isolated_from", "in"), ("deposited_as", "out")]
    sample_links = api.get("/api/records/LHSM0000001/links").json()["links"]
    assert [(lk["target"], lk["direction"]) for lk in sample_links] == [("LHST0000001", "out")]

    down = api.get("/api/records/LHSM0000001/lineage").json()
    assert [(e["source"], e["target"], e["depth"]) for e in down["descendants"]] == [
        ("LHSM0000001", "LHST0000001", 1), ("LHST0000001", "LHDP0000001", 2)]
    assert api.get("/api/records/LHSM0000001/lineage?depth=1").json()["descendants"] == [
        down["descendants"][0]]
    up = api.get("/api/records/LHDP0000001/lineage").json()
    assert [e["source"] for e in up["ancestors"]] == ["LHST0000001", "LHSM0000001"]
    assert {n["accession"] for n in up["nodes"]} == {"LHSM0000001", "LHST0000001",
                                                     "LHDP0000001"}
    assert api.get("/api/records/LHSM0000001/lineage?depth=0").status_code == 422

    # the link is in both records' history; removing it works from either end
    actions = [v["action"] for v in
               api.get("/api/records/LHSM0000001/history").json()["versions"]]
    assert actions == ["create", "link"]
    gone = api.request("DELETE", "/api/links", json={
        "source": "LHSM0000001", "rel": "isolated_from", "target": "LHST0000001"},
        headers=curator)
    assert gone.status_code == 204 and gone.content == b""
    again = api.request("DELETE", "/api/links", json={
        "source": "LHSM0000001", "rel": "isolated_from", "target": "LHST0000001"},
        headers=curator)
    assert again.status_code == 404
    assert api.get("/api/records/LHSM0000001/links").json()["links"] == []


def test_kinds_and_stats(api: TestClient, curator: dict[str, str]) -> None:
    kinds = api.get("/api/kinds").json()
    by_name = {k["name"]: k for k in kinds["kinds"]}
    assert set(by_name) == {"sample", "strain", "deposit", "assembly", "compound", "part",
                            "germplasm", "organisation", "offer", "demand", "incubation",
                            "platform", "project", "achievement", "team", "fund", "product",
                            "approval", "chassis", "design"}
    assert by_name["sample"]["accession_prefix"] == "LHSM"
    assert by_name["deposit"]["restricted_by_default"] is True
    depth = next(f for f in by_name["sample"]["fields"] if f["name"] == "depth")
    assert set(depth) == {"name", "required", "aliases", "description", "group", "example"}
    assert depth["required"] is True and "深度" in depth["aliases"]
    rules = {r["rel"]: r for r in kinds["link_rules"]}
    assert rules["deposited_as"]["sources"] == ["strain"]

    api.post("/api/samples", json=SAMPLE, headers=curator)
    stats = api.get("/api/stats").json()
    assert stats["counts"]["sample"] == 1 and stats["counts"]["strain"] == 0
    assert stats["total"] == 1


def test_openapi_document_has_a_summary_for_every_route(api: TestClient) -> None:
    doc = api.get("/openapi.json").json()
    operations = [(path, method, op) for path, item in doc["paths"].items()
                  for method, op in item.items()]
    assert len(operations) >= 20
    missing = [(path, method) for path, method, op in operations
               if not op.get("summary") or not op.get("description")]
    assert missing == []
