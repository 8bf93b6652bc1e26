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


def test_reference_page_is_a_reference(sqlite_engine: Engine) -> None:
    """Whom each operation needs, its request body, every status with its schema and
    headers, examples, and every schema with its fields."""
    text = client(sqlite_engine).get("/docs").text
    assert "Authorization: Bearer" in text and "who: curator" in text and "who: admin" in text
    upload = text[text.index("id='op-post-api-assemblies-accession-sequences'"):]
    upload = upload[:upload.index("<div class='op'", 10)]
    assert "multipart/form-data" in upload and "href='#schema-Ingested'" in upload
    for status in ("201", "200", "401", "403", "413", "422"):
        assert f"<td>{status}</td>" in upload
    assert "<summary>example 201</summary>" in upload and "set_aside" in upload
    assert "<code>Retry-After</code>" in text and "<code>WWW-Authenticate</code>" in text
    assert "id='schema-Error'" in text and "<code>problems</code>" in text
    assert "id='schema-Body_upload_sequences" in text and "<code>set_aside_bad</code>" in text
    assert "{&quot;detail&quot;" not in text
