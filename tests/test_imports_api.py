"""`POST /api/{kind}/import` from a program's side: who may import, the report, the error
envelope for a bad file (with the report), mapping upload and form overrides.
Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.app import create_app
from lanhai.services.access import Actor
from tests.support import add_user, bank_on, catalog_on

DATA = Path(__file__).parent / "data" / "imports"
BATS = DATA / "bats_samples.tsv"
MAPPING = DATA / "bats_samples.toml"
MALFORMED = DATA / "malformed_samples.csv"


@pytest.fixture
def api(engine: Engine) -> TestClient:
    return TestClient(create_app(bank=bank_on(engine)))


def token(engine: Engine, username: str, role: str) -> dict[str, str]:
    return add_user(engine, username, role)


def upload(path: Path, mapping: Path | None = None) -> list[tuple[str, Any]]:
    files: list[tuple[str, Any]] = [("file", (path.name, path.read_bytes()))]
    if mapping:
        files.append(("mapping", (mapping.name, mapping.read_bytes())))
    return files


def test_import_needs_a_curator(api: TestClient, engine: Engine) -> None:
    anonymous = api.post("/api/samples/import", files=upload(BATS, MAPPING))
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"
    reader = api.post("/api/samples/import", files=upload(BATS, MAPPING),
                      headers=token(engine, "rui", "reader"))
    assert reader.status_code == 403 and reader.json()["error"]["code"] == "forbidden"
    assert catalog_on(engine).counts(Actor("a", "admin")) == {}


def test_import_with_mapping_file_then_again(api: TestClient, engine: Engine) -> None:
    curator = token(engine, "ana", "curator")
    made = api.post("/api/samples/import", files=upload(BATS, MAPPING), headers=curator)
    assert made.status_code == 200, made.json()
    report = made.json()
    assert (report["file"], report["rows"], report["created"]) == ("bats_samples.tsv", 20, 20)
    assert report["committed"] is True and report["accessions"][0] == "LHSM0000001"
    again = api.post("/api/sample/import", files=upload(BATS, MAPPING), headers=curator)
    assert again.status_code == 200 and again.json()["unchanged"] == 20
    record = api.get("/api/samples/LHSM0000001").json()
    assert record["created_by"] == "ana"
    assert record["fields"]["collection_date"] == "2003-04-22"


def test_bad_file_is_422_with_every_problem_and_the_report(api: TestClient,
                                                          engine: Engine) -> None:
    curator = token(engine, "ana", "curator")
    response = api.post("/api/samples/import", files=upload(MALFORMED), headers=curator)
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "invalid"
    assert body["error"]["message"] == "malformed_samples.csv has 7 problems; nothing was written"
    assert [(p["row"], p["column"]) for p in body["error"]["problems"]] == [
        (3, "samp_taxon_id"), (4, "env_medium"), (5, "lat_lon"), (6, "biosample"),
        (7, "geo_loc_name"), (8, "collection_date"), (8, "depth")]
    assert body["report"]["committed"] is False and body["report"]["problem_count"] == 7
    assert catalog_on(engine).counts(Actor("a", "admin")) == {}


def test_form_fields_override_and_dry_run(api: TestClient, engine: Engine) -> None:
    curator = token(engine, "ana", "curator")
    form = {"map": ["Sample name=samp_name", "bottle_id=-"],
            "set": ["project_name=BATS", "samp_taxon_id=408172"],
            "unit": ["depth=m"], "date_format": "%d-%m-%Y", "dry_run": "true",
            "note": "from the API"}
    mapping = DATA / "bats_samples.toml"
    response = api.post("/api/samples/import", files=upload(BATS, mapping), data=form,
                        headers=curator)
    assert response.status_code == 200, response.json()
    report = response.json()
    assert (report["created"], report["dry_run"], report["committed"]) == (20, True, False)
    assert catalog_on(engine).counts(Actor("a", "admin")) == {}
    form["dry_run"] = "false"
    response = api.post("/api/samples/import", files=upload(BATS, mapping), data=form,
                        headers=curator)
    assert response.status_code == 200
    record = catalog_on(engine).get(Actor("a", "admin"), "LHSM0000001")
    assert record.fields["project_name"] == "BATS"
    history = catalog_on(engine).history(Actor("a", "admin"), "LHSM0000001")
    assert history[0].note == "from the API"


@pytest.mark.parametrize(("path", "form", "code", "message"), [
    ("/api/widgets/import", {}, 400, "unknown record kind 'widgets'"),
    ("/api/samples/import", {"map": "Latitude=lat_lon"}, 400, "the file has no column"),
    ("/api/samples/import", {"mode": "merge"}, 400, "unknown mode 'merge'"),
    ("/api/samples/import", {"set": "colour=blue"}, 400, "sample has no field 'colour'"),
])
def test_bad_options_are_usage_errors(api: TestClient, engine: Engine, path: str,
                                      form: dict[str, str], code: int, message: str) -> None:
    response = api.post(path, files=upload(BATS, MAPPING), data=form,
                        headers=token(engine, "ana", "curator"))
    assert response.status_code == code
    error = response.json()["error"]
    assert error["code"] == "usage" and message in error["message"]


def test_missing_file_is_a_request_error(api: TestClient, engine: Engine) -> None:
    response = api.post("/api/samples/import", data={"mode": "upsert"},
                        headers=token(engine, "ana", "curator"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_xlsx_upload(api: TestClient, engine: Engine, tmp_path: Path) -> None:
    from tests.support.data_files import bats_workbook

    path = tmp_path / "BATS samples.xlsx"
    bats_workbook(path)
    response = api.post("/api/samples/import", files=upload(path, MAPPING),
                        data={"sheet": "samples"}, headers=token(engine, "ana", "curator"))
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 20 and response.json()["file"] == "BATS samples.xlsx"
