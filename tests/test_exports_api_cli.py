"""Exports through the HTTP API (streamed, role-aware, one error envelope) and the
`lanhai export` command (files, stdout, exit codes)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sbol3
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.bank import Bank, init_bank
from lanhai.cli.main import main
from lanhai.settings import Settings
from tests.support import CURATOR, SAMPLE, ZOBELLIA, add_user, catalog_on, make_client
from tests.support.data_files import DEPOSIT_WITH_EVENTS as DEPOSIT
from tests.support.data_files import GERMPLASM, PART


def client(engine: Engine, settings: Settings | None = None) -> TestClient:
    return make_client(engine, settings)


def token(engine: Engine, username: str, role: str) -> dict[str, str]:
    return add_user(engine, username, role)


@pytest.fixture
def filled(engine: Engine) -> dict[str, str]:
    """A public sample and strain, a restricted sample, a deposit; name -> accession."""
    catalog = catalog_on(engine)
    made = {
        "sample": catalog.create(CURATOR, "sample", SAMPLE).accession,
        "secret": catalog.create(CURATOR, "sample", {**SAMPLE, "samp_name": "secret",
                                                     "restricted": "yes"}).accession,
        "strain": catalog.create(CURATOR, "strain", ZOBELLIA).accession,
        "deposit": catalog.create(CURATOR, "deposit", DEPOSIT).accession,
        "part": catalog.create(CURATOR, "part", PART).accession,
        "germplasm": catalog.create(CURATOR, "germplasm", GERMPLASM).accession,
    }
    catalog.link(CURATOR, made["strain"], "deposited_as", made["deposit"])
    return made


def test_api_export_streams_with_media_type_and_file_name(
        engine: Engine, filled: dict[str, str]) -> None:
    api = client(engine)
    got = api.get("/api/samples/export", params={"format": "csv"})
    assert got.status_code == 200
    assert got.headers["content-type"] == "text/csv; charset=utf-8"
    assert got.headers["content-disposition"] == 'attachment; filename="lanhai-samples.csv"'
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert [r["accession"] for r in rows] == [filled["sample"]]
    tsv = api.get("/api/sample/export?format=tsv&where=depth_m<5&q=OSD1")
    assert tsv.headers["content-type"].startswith("text/tab-separated-values")
    assert tsv.text.count("\n") == 2
    js = api.get("/api/strains/export?format=json")
    assert js.headers["content-type"] == "application/json"
    assert [r["accession"] for r in js.json()] == [filled["strain"]]
    assert js.json()[0]["links"] == []
    zipped = api.get("/api/strains/export?format=dwca")
    assert zipped.headers["content-type"] == "application/zip"
    assert "lanhai-strains.dwca.zip" in zipped.headers["content-disposition"]
    assert "occurrence.txt" in zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    mcpd = api.get("/api/germplasm/export?format=mcpd")
    assert mcpd.text.startswith("PUID,INSTCODE,ACCENUMB")
    turtle = api.get("/api/parts/export?format=sbol3")
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert "lanhai-parts.ttl" in turtle.headers["content-disposition"]
    doc = sbol3.Document()
    doc.read_string(turtle.text, sbol3.TURTLE)
    assert len(doc.validate()) == 0
    xml = api.get("/api/parts/export?format=sbol3&rdf_format=rdf-xml")
    assert xml.headers["content-type"].startswith("application/rdf+xml")


def test_api_export_by_role(engine: Engine, filled: dict[str, str]) -> None:
    api = client(engine)
    reader, curator = token(engine, "rui", "reader"), token(engine, "ana", "curator")
    for headers in ({}, reader):
        text = api.get("/api/samples/export?format=json", headers=headers).text
        assert filled["secret"] not in text
        assert api.get("/api/deposits/export?format=json", headers=headers).json() == []
        strain = api.get("/api/strains/export?format=json", headers=headers).json()
        assert strain[0]["links"] == []
    text = api.get("/api/samples/export?format=json", headers=curator).text
    assert filled["secret"] in text
    deposits = api.get("/api/deposits/export?format=csv", headers=curator).text
    assert filled["deposit"] in deposits
    dwca = api.get("/api/samples/export?format=dwca", headers=curator).content
    occurrences = zipfile.ZipFile(io.BytesIO(dwca)).read("occurrence.txt").decode()
    assert filled["sample"] in occurrences and filled["secret"] not in occurrences
    bad = api.get("/api/samples/export", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(("path", "needle"), [
    ("/api/samples/export?format=xlsx", "unknown export format"),
    ("/api/compounds/export?format=dwca", "dwca: sample, strain"),
    ("/api/strains/export?format=mcpd", "mcpd: germplasm"),
    ("/api/records/export?format=csv", "one kind at a time"),
    ("/api/samples/export?format=csv&where=colour=blue", "no field 'colour'"),
    ("/api/parts/export?format=sbol3&rdf_format=n3", "unknown SBOL3 serialisation"),
])
def test_api_export_errors_use_the_envelope(engine: Engine, path: str, needle: str) -> None:
    got = client(engine).get(path)
    assert got.status_code == 400
    body = got.json()
    assert set(body) == {"error"} and body["error"]["code"] == "usage"
    assert needle in body["error"]["message"]


def test_api_export_of_an_unknown_kind_is_not_found(engine: Engine) -> None:
    got = client(engine).get("/api/widgets/export?format=csv")
    assert got.status_code == 404 and got.json()["error"]["code"] == "not_found"
    assert "samples" in got.json()["error"]["message"]


def test_api_history_csv(engine: Engine, filled: dict[str, str]) -> None:
    api = client(engine)
    curator = token(engine, "ana", "curator")
    got = api.get(f"/api/records/{filled['strain'].lower()}/history.csv")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert f'filename="{filled["strain"]}-history.csv"' in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert {r["action"] for r in rows} == {"create"}  # the deposit link stays confidential
    assert filled["deposit"] not in got.text
    full = api.get(f"/api/records/{filled['strain']}/history.csv", headers=curator)
    assert filled["deposit"] in full.text
    assert {r["action"] for r in csv.DictReader(io.StringIO(full.text))} == {"create", "link"}
    for accession in (filled["deposit"], filled["secret"], "LHST9999999"):
        hidden = api.get(f"/api/records/{accession}/history.csv")
        assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    assert api.get(f"/api/records/{filled['deposit']}/history.csv",
                   headers=curator).status_code == 200


@pytest.fixture
def bank_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bank]:
    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    monkeypatch.setenv("LANHAI_USER", "tester")
    bank = init_bank(Settings(data_dir=tmp_path))
    bank.catalog.create(CURATOR, "sample", SAMPLE)
    bank.catalog.create(CURATOR, "sample", {**SAMPLE, "samp_name": "secret",
                                            "restricted": "yes"})
    bank.catalog.create(CURATOR, "part", PART)
    yield bank
    bank.close()


def test_cli_export_to_file_with_json_summary(bank_dir: Bank, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "samples.csv"
    target.parent.mkdir()
    assert main(["export", "samples", "--format", "csv", "-o", str(target), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "kind": "sample", "format": "csv", "records": 2, "file": str(target)}
    assert len(list(csv.DictReader(target.open(newline="")))) == 2
    assert main(["export", "sample", "-f", "csv", "--public", "-o", str(target)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "exported 1 sample as csv" in captured.err
    assert sorted(p.name for p in target.parent.iterdir()) == ["samples.csv"]
    archive = tmp_path / "samples.zip"
    assert main(["export", "samples", "--format", "dwca", "-o", str(archive),
                 "--title", "OSD", "--license", "CC0-1.0"]) == 0
    eml = zipfile.ZipFile(archive).read("eml.xml").decode()
    assert "<title" in eml and ">OSD<" in eml and "publicdomain/zero" in eml
    occurrences = zipfile.ZipFile(archive).read("occurrence.txt").decode()
    assert occurrences.count("\n") == 2  # header + the public sample, never the secret one


def test_cli_export_to_stdout(bank_dir: Bank, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANHAI_SBOL_NAMESPACE", "https://bank.example.org")
    capsys.readouterr()
    assert main(["export", "parts", "--format", "sbol3"]) == 0
    captured = capsys.readouterr()
    doc = sbol3.Document()
    doc.read_string(captured.out, sbol3.TURTLE)
    assert doc.find("https://bank.example.org/BBa_J23119") is not None
    assert len(doc.validate()) == 0
    assert main(["export", "samples", "--format", "json", "--json"]) == 0
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)) == 2
    assert json.loads(captured.err.strip().splitlines()[-1])["records"] == 2


@pytest.mark.parametrize(("args", "code", "needle"), [
    (["export", "samples", "--format", "xlsx"], 2, "unknown export format"),
    (["export", "strains", "--format", "mcpd"], 2, "mcpd: germplasm"),
    (["export", "samples", "--format", "dwca"], 2, "give -o FILE"),
    (["export", "samples", "--format", "csv", "--where", "colour=1"], 2, "no field"),
    (["export", "widgets", "--format", "csv"], 2, "unknown record kind"),
    (["export", "samples"], 2, "--format"),
])
def test_cli_export_usage_errors(bank_dir: Bank, capsys: pytest.CaptureFixture[str],
                                 args: list[str], code: int, needle: str) -> None:
    capsys.readouterr()
    assert main(args) == code
    captured = capsys.readouterr()
    assert needle in captured.err and captured.out == ""


def test_cli_export_json_error_envelope(bank_dir: Bank,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["export", "compounds", "--format", "dwca", "-o", "x.zip", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "usage"
