"""The API's front door works offline: the reference page loads nothing from the internet."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.app import create_app
from tests.support import bank_on


def client(engine: Engine) -> TestClient:
    return TestClient(create_app(bank=bank_on(engine)))


def test_index_points_to_docs_and_collections(sqlite_engine: Engine) -> None:
    # `/` is the web dashboard (lanhai.web); its JSON twin says where the API lives
    body = client(sqlite_engine).get("/.json").json()["api"]
    assert body["docs"] == "/docs" and body["collections"]["strains"] == "/api/strains"


def test_reference_page_is_self_contained(sqlite_engine: Engine) -> None:
    page = client(sqlite_engine).get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # every route of the OpenAPI document is on the page …
    assert "/api/{kind}/{accession}" in page.text and "Bulk import" in page.text
    # … and nothing is fetched from elsewhere (no CDN scripts, styles or fonts)
    assert re.findall(r"(?:src|href)=['\"]https?://", page.text) == []
    assert client(sqlite_engine).get("/redoc").status_code == 404
