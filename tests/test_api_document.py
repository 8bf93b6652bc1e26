"""The OpenAPI document (``/openapi.json``, shown at ``/docs``) is a reference an API client
can be generated from: a normal session's every answer is one it describes.

A curator, a reader and an admin work through the API as people do (create, read, list and
page, change with If-Match, link, lineage, history, exports, imports, users and tokens,
ingest a proteome with records set aside, annotate it and a genome, search by words,
structure, family, HMM and sequence, background jobs, a breeding dataset), and every answer
is checked against the document with ``jsonschema`` (OpenAPI 3.1 schemas are JSON Schema
Draft 2020-12): its status listed for the operation, its media type listed for the status,
the headers it declares sent, a JSON body valid against the schema. The session must reach
every operation of the document (the few it leaves out are named), so a route whose answer
changes without its schema fails here. Runs on SQLite and PostgreSQL.

Schemathesis holds the same document to random requests (``tests/test_api_fuzz.py``); this
test reaches the answers random requests rarely do (stored sequences, finished jobs,
search hits).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import relevance
from sqlalchemy import Engine

from lanhai.settings import Settings
from tests.support import SAMPLE, ZOBELLIA, add_user, create_user, make_client
from tests.support.sequences import GENBANK, REGION, SUS_HMM, ZOBELLIA_PROTEOME, records

BREEDING = Path(__file__).parent / "data" / "breeding"
_JSON = re.compile(r"^application/(.+\+)?json$")
#: RFC 3339 date-times (jsonschema checks the format only with an optional package)
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time")
    dt.datetime.fromisoformat(value)
    return True

#: operations the session does not call, and why
NOT_IN_THE_SESSION: dict[tuple[str, str], str] = {}


class Document:
    """An application's OpenAPI document, and which (method, path, status) answers were
    checked against it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.checked: set[tuple[str, str, str]] = set()
        # the paths in the order the application matches its routes (FastAPI writes them so)
        self._paths = [(re.compile("^" + re.sub(r"\{[^/}]+\}", "[^/]+", path) + "$"), path)
                       for path in spec["paths"]]

    def operation(self, method: str, url: str) -> tuple[str, dict[str, Any]]:
        """The path template and operation that answer ``method url``."""
        path = urlsplit(url).path
        for pattern, template in self._paths:
            operations = self.spec["paths"][template]
            if pattern.match(path) and method.lower() in operations:
                return template, operations[method.lower()]
        raise AssertionError(f"{method} {path}: no operation in the document")

    def problems(self, method: str, url: str, status: int, headers: dict[str, str],
                 body: bytes) -> list[str]:
        """What is wrong with one answer, by the document ([] when it conforms)."""
        template, operation = self.operation(method, url)
        said = f"{method.upper()} {template} -> {status}"
        answer = operation["responses"].get(str(status))
        if answer is None:
            return [f"{said}: status not documented ({sorted(operation['responses'])})"]
        self.checked.add((method.upper(), template, str(status)))
        sent = {name.lower(): value for name, value in headers.items()}
        found = [f"{said}: declared header {name} not sent"
                 for name in answer.get("headers", {}) if name.lower() not in sent]
        content = answer.get("content", {})
        if not body:
            return found + ([f"{said}: empty body, documented {sorted(content)}"]
                            if content and status != 204 else [])
        media = sent.get("content-type", "").split(";")[0].strip()
        if media not in content:
            return [*found, f"{said}: media type {media!r} not documented ({sorted(content)})"]
        schema = content[media].get("schema")
        if not schema:
            return [*found, f"{said}: no schema for {media}"]
        if not _JSON.match(media):
            return found if schema.get("type") == "string" else [
                *found, f"{said}: {media} is documented as {schema}, not a string"]
        try:
            value = json.loads(body)
        except ValueError as exc:
            return [*found, f"{said}: the {media} body is not JSON ({exc})"]
        return found + [f"{said}: {why}" for why in self.invalid(schema, value)]

    def invalid(self, schema: dict[str, Any], value: Any) -> list[str]:
        """Why ``value`` does not fit ``schema`` ($refs into the document's components)."""
        validator = Draft202012Validator({**schema, "components": self.spec["components"]},
                                         format_checker=FORMATS)
        errors = sorted(validator.iter_errors(value), key=relevance)[:5]
        return [f"at {'/'.join(str(p) for p in e.absolute_path) or 'the body'}: "
                f"{e.message[:300]}" for e in errors]


class Checked:
    """A test client whose every answer is checked against the document; ``call`` also
    checks the status the session expects."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.document = Document(client.get("/openapi.json").json())
        self.failures: list[str] = []

    def call(self, method: str, url: str, status: int, **kwargs: Any) -> Any:
        answer = self.client.request(method, url, **kwargs)
        assert answer.status_code == status, (method, url, answer.status_code,
                                              answer.text[:400])
        self.failures += self.document.problems(method, url, answer.status_code,
                                                dict(answer.headers), answer.content)
        return answer

    def json(self, method: str, url: str, status: int, **kwargs: Any) -> Any:
        return self.call(method, url, status, **kwargs).json()

    def wait(self, job: dict[str, Any], who: dict[str, str]) -> dict[str, Any]:
        """A finished job, polled through the API."""
        bank = self.client.app.state.bank  # type: ignore[attr-defined]
        assert bank.jobs.wait(job["id"], 600).status == "done"
        done: dict[str, Any] = self.json("GET", f"/api/jobs/{job['id']}", 200, headers=who)
        assert done["status"] == "done", done["error"]
        return done


@pytest.fixture
def session(engine: Engine, tmp_path: Path) -> tuple[Checked, dict[str, dict[str, str]]]:
    client = make_client(engine, Settings(data_dir=tmp_path / "bank", page_size_max=50))
    create_user(engine, "mei", "reader", "an old password 1")
    people = {"admin": add_user(engine, "root", "admin"),
              "curator": add_user(engine, "ana", "curator"),
              "reader": add_user(engine, "rui", "reader")}
    people["mei"] = {"Authorization": f"Bearer {_token_of(client, people['admin'], 'mei')}"}
    return Checked(client), people


def _token_of(client: TestClient, admin: dict[str, str], username: str) -> str:
    made = client.post("/api/tokens", json={"name": "session", "username": username},
                       headers=admin)
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


def test_a_session_gets_only_documented_answers(
        session: tuple[Checked, dict[str, dict[str, str]]]) -> None:
    api, people = session
    strain = _catalogue(api, people)
    _market(api, people["curator"], strain)
    _programme(api, people)
    _genomes(api, people)
    _screening(api, people)
    _design(api, people)
    _people(api, people)
    _tables(api, people["curator"])
    _sequences(api, people["curator"], strain)
    _genome(api, people["curator"])
    _breeding(api, people["curator"])
    assert api.failures == [], "\n".join(api.failures[:40])

    every = {(method.upper(), path) for path, operations in api.document.spec["paths"].items()
             for method in operations}
    reached = {(method, path) for method, path, _ in api.document.checked}
    assert every - reached == set(NOT_IN_THE_SESSION)
    statuses = {status for _, _, status in api.document.checked}
    assert {"200", "201", "202", "204", "400", "401", "403", "404", "409", "413", "422",
            "429"} <= statuses


def _genomes(api: Checked, people: dict[str, dict[str, str]]) -> None:
    """A curator sets up a genome project, its targets and statuses, and imports an NCBI
    assembly table."""
    curator, reader = people["curator"], people["reader"]
    data = Path(__file__).parent / "data"
    base = "/api/genomes"
    api.call("POST", f"{base}/projects", 201, headers=curator,
             json={"key": "eurofish", "name": "EUROFISH", "target_count": 24})
    api.call("POST", f"{base}/projects", 409, headers=curator,
             json={"key": "eurofish", "name": "EUROFISH"})
    api.call("POST", f"{base}/projects", 403, headers=reader,
             json={"key": "x1", "name": "x"})
    api.call("GET", f"{base}/projects", 200)
    api.call("PATCH", f"{base}/projects/eurofish", 200, headers=curator,
             json={"reported_done": 15, "reported_on": "2024-06-30"})
    api.call("PATCH", f"{base}/projects/eurofish", 422, headers=curator,
             json={"started": "2027-01-01", "ends": "2026-01-01"})
    listed = (data / "genome_status" / "EUROFISH_expanded.tsv").read_bytes()
    api.call("POST", f"{base}/projects/eurofish/targets", 200, headers=curator,
             files={"file": ("eurofish.tsv", listed, "text/tab-separated-values")})
    api.call("POST", f"{base}/projects/eurofish/targets", 422, headers=curator,
             files={"file": ("bad.tsv", b"ncbi_taxon_id\tscientific_name\n-1\tx\n",
                             "text/tab-separated-values")})
    api.call("GET", f"{base}/projects/eurofish", 200)
    api.call("GET", f"{base}/projects/nothing", 404)
    api.call("POST", f"{base}/projects/eurofish/species/8168/status", 201, headers=curator,
             json={"status": "in_assembly"})
    api.call("POST", f"{base}/projects/eurofish/species/58317/status", 422, headers=curator,
             json={"status": "published"})
    api.call("GET", f"{base}/projects/eurofish/species/8168", 200)
    api.call("GET", f"{base}/projects/eurofish/goat.tsv", 200)
    api.call("GET", f"{base}/progress?project=eurofish", 200)
    table = (data / "genomes" / "ncbi_assemblies_subset.tsv").read_bytes()
    api.call("POST", f"{base}/assemblies", 200, headers=curator,
             files={"file": ("assemblies.tsv", table, "text/tab-separated-values")})


def _screening(api: Checked, people: dict[str, dict[str, str]]) -> None:
    """A curator creates an assay, imports its table and trains a model; anyone predicts,
    ranks the library and reads a compound's profile."""
    import time

    from tests.support.screening import assay_table, drugs

    curator, reader = people["curator"], people["reader"]
    base = "/api/screening"
    api.call("POST", f"{base}/assays", 201, headers=curator,
             json={"key": "kinase", "name": "Test kinase", "endpoint": "IC50"})
    api.call("POST", f"{base}/assays", 409, headers=curator,
             json={"key": "kinase", "name": "Test kinase"})
    api.call("POST", f"{base}/assays", 403, headers=reader, json={"key": "x1", "name": "x"})
    api.call("GET", f"{base}/assays", 200)
    api.call("PATCH", f"{base}/assays/kinase", 200, headers=curator,
             json={"description": "made-up IC50s of approved drugs"})
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="lanhai-document-"))
    table = assay_table(folder / "kinase.csv", drugs(30)).read_bytes()
    api.call("POST", f"{base}/assays/kinase/results", 200, headers=curator,
             files={"file": ("kinase.csv", table, "text/csv")})
    api.call("POST", f"{base}/assays/kinase/results", 422, headers=curator,
             files={"file": ("bad.csv", b"smiles,endpoint,value,unit\nC1CC,IC50,1,uM\n",
                             "text/csv")})
    api.call("GET", f"{base}/assays/kinase", 200)
    api.call("GET", f"{base}/assays/kinase/results", 200)
    api.call("GET", f"{base}/assays/nothing", 404)
    started = api.call("POST", f"{base}/assays/kinase/models", 202, headers=curator,
                       json={"endpoint": "IC50", "folds": 2, "repeats": 1})
    job = started.json()["id"]
    for _ in range(240):  # every half second: each signed-in read records the token's use
        if api.client.get(f"/api/jobs/{job}", headers=curator).json()["status"] in (
                "done", "failed"):
            break
        time.sleep(0.5)
    api.call("GET", f"{base}/models", 200)
    api.call("GET", f"{base}/models/kinase.v1", 200)
    api.call("GET", f"{base}/models/kinase.v9", 404)
    api.call("GET", f"{base}/models/kinase.v1/file", 200)
    api.call("POST", f"{base}/models/kinase.v1/predict", 200,
             json={"smiles": ["CC(=O)Oc1ccccc1C(=O)O", "C1CC"]})
    api.call("POST", f"{base}/models/kinase.v1/ranking", 202)
    api.call("GET", f"{base}/models/kinase.v1/ranking", 200)
    api.call("GET", f"{base}/models/kinase.v1/ranking.csv", 200)
    api.call("GET", f"{base}/profile?smiles=CC(=O)Oc1ccccc1C(=O)O", 200)
    api.call("GET", f"{base}/profile?smiles=C1CC", 422)


def _design(api: Checked, people: dict[str, dict[str, str]]) -> None:
    """A curator registers a chassis, writes a design, analyses it and searches knockouts;
    anyone reads the results and exports."""
    curator, reader = people["curator"], people["reader"]
    base = "/api/design"
    api.call("GET", f"{base}/models", 200)
    api.call("POST", f"{base}/chassis", 403, headers=reader,
             data={"model_name": "core", "bundled": "textbook"})
    api.call("POST", f"{base}/chassis", 422, headers=curator, data={"model_name": "bad"},
             files={"file": ("bad.xml", b"<sbml><oops", "application/xml")})
    job = api.json("POST", f"{base}/chassis", 202, headers=curator,
                   data={"model_name": "E. coli core", "bundled": "textbook"})
    chassis = api.wait(job, curator)["result"]["accession"]
    api.call("GET", f"{base}/chassis/{chassis}/check", 200)
    api.call("GET", f"{base}/chassis/LHCH0000999/check", 404)
    api.call("GET", f"{base}/chassis/textbook/sbml", 200)
    design = api.json("POST", "/api/designs", 201, headers=curator, json={
        "title": "Succinate, anaerobic", "chassis": chassis, "product": "succ_e",
        "medium": "EX_o2_e=0"})["accession"]
    api.call("GET", f"{base}/{design}/results", 200)
    api.call("GET", f"{base}/{design}/fluxes.csv", 404)
    api.wait(api.json("POST", f"{base}/{design}/run", 202, headers=curator), curator)
    api.call("POST", f"{base}/{design}/run", 403, headers=reader)
    api.wait(api.json("POST", f"{base}/{design}/knockouts", 202, headers=curator,
                      json={"method": "search", "max_knockouts": 1, "time_limit": 10}),
             curator)
    api.call("POST", f"{base}/{design}/knockouts", 422, headers=curator,
             json={"method": "magic"})
    api.call("GET", f"{base}/{design}/results", 200)
    api.call("GET", f"{base}/{design}/fluxes.csv", 200)
    api.call("GET", f"{base}/{design}/sbml", 200)
    api.call("GET", f"{base}/{design}/sbol", 200)
    api.call("GET", f"{base}/enzymes?q=2.3.1.9", 200)
    api.call("GET", f"{base}/enzymes?q=", 422)


def _programme(api: Checked, people: dict[str, dict[str, str]]) -> None:
    """The programme office reports, reviews, closes a quarter and fetches its workbook."""
    admin, curator, reader = people["admin"], people["curator"], people["reader"]
    base = "/api/programme"
    api.call("GET", base, 200)
    api.call("GET", base, 200, headers=curator)
    api.call("GET", f"{base}/indicators", 200)
    api.call("GET", f"{base}/indicators/strains", 200, headers=curator)
    api.call("GET", f"{base}/indicators/no_such_one", 404)
    api.call("PUT", f"{base}/indicators/strains", 200, headers=admin,
             json={"changes": {"target": 41000}, "reason": "mid-term review"})
    api.call("PUT", f"{base}/indicators/strains", 422, headers=admin,
             json={"changes": {"target": [9, 1]}, "reason": "typo"})
    api.call("PUT", f"{base}/indicators/strains", 403, headers=curator,
             json={"changes": {"target": 1}, "reason": "x"})
    api.call("GET", f"{base}/indicators/strains/history", 200)
    api.call("GET", f"{base}/indicators/strains/records", 200, headers=curator)
    api.call("GET", f"{base}/indicators/strains/records", 404)
    kept = api.json("POST", f"{base}/documents", 201, headers=curator, files={
        "file": ("notice.pdf", b"%PDF-1.4 founding notice", "application/pdf")})
    api.call("GET", f"{base}/documents/{kept['sha256']}", 200, headers=curator)
    api.call("GET", f"{base}/documents/{kept['sha256']}", 404, headers=reader)
    body = {"indicator": "plant_medicine_centre", "period": "2025-Q4", "value": 1,
            "evidence": [{"document": kept["document"], "sha256": kept["sha256"]}]}
    update = api.json("POST", f"{base}/updates", 201, headers=curator, json=body)
    api.call("POST", f"{base}/updates", 400, headers=curator,
             json={**body, "indicator": "strains"})
    api.call("POST", f"{base}/updates", 401, json=body)
    one = f"{base}/updates/{update['id']}"
    api.call("GET", one, 200, headers=curator)
    api.call("PUT", one, 200, headers=curator, json={"note": "founding notice attached"})
    api.call("GET", f"{base}/updates?status=submitted", 200, headers=curator)
    api.call("POST", f"{one}/review", 200, headers=admin, json={"decision": "approve"})
    api.call("POST", f"{one}/review", 409, headers=admin, json={"decision": "approve"})
    api.call("GET", f"{base}/periods", 200, headers=curator)
    api.call("GET", f"{base}/periods/2025-Q4", 404)
    api.call("POST", f"{base}/periods/2025-Q4/close", 403, headers=reader)
    api.call("POST", f"{base}/periods/2025-Q4/close", 200, headers=curator)
    api.call("POST", f"{base}/periods/2025-Q4/close", 409, headers=curator)
    api.call("GET", f"{base}/periods/2025-Q4", 200)
    api.call("GET", f"{base}/periods/2025-Q4/report.xlsx", 200)
    api.call("GET", f"{base}/indicators/strains/records?period=2025-Q4", 200)


def _market(api: Checked, curator: dict[str, str], strain: str) -> None:
    """An offer with the strain behind it, a demand in Chinese, and their match."""
    base = {"field": "enzyme", "sector": "food_health", "market_status": "published"}
    org = api.json("POST", "/api/organisations", 201, headers=curator, json={
        "name_zh": "中国海洋大学", "org_type": "高校"})["accession"]
    offer = api.json("POST", "/api/offers", 201, headers=curator, json={
        **base, "reference": "ALY-1", "title": "PL7 alginate lyase for oligosaccharides",
        "trl": "6", "transfer_types": "licence; co-development",
        "patents": "ZL201510123456.1"})["accession"]
    demand = api.json("POST", "/api/demands", 201, headers=curator, json={
        **base, "reference": "D-1", "title_zh": "褐藻胶寡糖制备用酶",
        "min_trl": "7"})["accession"]
    api.call("POST", "/api/links", 201, headers=curator,
             json={"source": strain, "rel": "evidence_for", "target": offer})
    found = api.json("GET", f"/api/market/match/{demand}?top=3", 200)
    assert found["matches"][0]["evidence"][0]["accession"] == strain
    api.call("GET", f"/api/market/match/{offer}", 200, headers=curator)
    api.call("GET", f"/api/market/match/{strain}", 400)
    api.call("GET", "/api/market/match/LHDM0099999", 404)
    api.call("GET", f"/api/market/match/{demand}?top=0", 422)
    api.call("POST", "/api/offers", 422, headers=curator, json={
        **base, "reference": "BAD", "title": "x", "trl": "10", "transfer_types": "licence"})
    engine = api.client.app.state.bank.db.engine  # type: ignore[attr-defined]
    admin = add_user(engine, "boss", "admin")
    broker = add_user(engine, "wang", "broker")
    api.call("PUT", "/api/market/brokers/wang", 200, headers=admin,
             json={"specialities": ["enzyme"], "level": "senior"})
    api.call("PUT", "/api/market/brokers/wang", 422, headers=admin, json={"level": "senior"})
    api.call("GET", "/api/market/brokers", 200, headers=broker)
    deal = api.json("POST", "/api/market/deals", 201, headers=broker,
                    json={"offer": offer, "demand": demand})
    events = f"/api/market/deals/{deal['id']}/events"
    api.call("POST", events, 201, headers=broker, json={"kind": "stage", "stage": "evaluation"})
    api.call("POST", events, 400, headers=broker, json={"kind": "stage", "stage": "payment"})
    api.call("POST", events, 409, headers={**broker, "If-Match": '"1"'},
             json={"kind": "note", "note": "x"})
    api.call("POST", events, 404, headers=curator, json={"kind": "note", "note": "x"})
    api.call("GET", f"/api/market/deals/{deal['id']}", 200, headers=broker)
    api.call("GET", "/api/market/deals", 200, headers=broker)
    api.call("GET", "/api/market/ledger", 200, headers=admin)
    api.call("GET", "/api/market/brokers/wang/performance", 200, headers=broker)
    body = {"title": "Marine enzymes", "title_zh": "海洋酶专场", "issued": "2026-12-01",
            "offers": [offer]}
    made = api.json("POST", "/api/market/releases", 201, headers=admin, json=body)
    one = f"/api/market/releases/{made['id']}"
    api.call("POST", "/api/market/releases", 400, headers=admin,
             json={**body, "offers": [demand]})
    api.call("PUT", one, 200, headers=admin, json={**body, "title": "Marine enzymes 2026"})
    api.call("POST", f"{one}/publish", 200, headers=admin)
    api.call("PUT", one, 400, headers=admin, json=body)
    api.call("GET", one, 200)
    api.call("GET", "/api/market/releases/999", 404)
    api.call("GET", "/api/market/releases", 200)
    api.call("GET", "/api/market/releases.atom", 200)
    api.call("POST", "/api/market/notify", 200, headers=admin)
    need = api.json("POST", "/api/market/financing", 201, headers=admin, json={
        "title": "pilot line", "amount": "5000000", "stage": "A", "use_of_funds": "a line",
        "organisation": org})
    api.call("POST", "/api/market/financing", 400, headers=admin, json={
        "title": "pilot line", "amount": "-1", "stage": "A", "use_of_funds": "a line",
        "organisation": org})
    api.call("GET", "/api/market/financing", 200, headers=admin)
    api.call("GET", f"/api/market/financing/{need['id']}", 200, headers=admin)
    api.call("GET", f"/api/market/financing/{need['id']}", 404, headers=broker)
    api.call("POST", f"/api/market/financing/{need['id']}/close", 200, headers=admin)
    api.call("GET", "/api/market/inbox", 200, headers=broker)
    api.call("GET", "/api/market/inbox.atom", 200, headers=broker)
    api.call("POST", "/api/market/inbox/99/read", 404, headers=broker)


def _catalogue(api: Checked, people: dict[str, dict[str, str]]) -> str:
    """Records: create, read, list and page, change with If-Match, links, lineage,
    history, exports, catalogue search, and the errors people meet on the way; the
    strain's accession."""
    curator, reader = people["curator"], people["reader"]
    api.call("GET", "/api/kinds", 200)
    api.call("GET", "/api/stats", 200)
    sample = api.json("POST", "/api/samples", 201, json={**SAMPLE, "note": "from OSD"},
                      headers=curator)["accession"]
    strain = api.json("POST", "/api/strains", 201, json=ZOBELLIA, headers=curator)[
        "accession"]
    for depth in ("200 m", "1500 m", "3000 m"):
        api.call("POST", "/api/samples", 201, headers=curator, json={
            **SAMPLE, "samp_name": f"OSD deep {depth}", "depth": depth})
    api.call("POST", "/api/deposits", 201, headers=curator, json={
        "deposit_accession": "CGMCC No. 12345", "depositary": "CGMCC",
        "deposit_date": "2021-05-17", "depositor": "Lanhai test lab",
        "rule_6_1_statement": "pure culture"})
    api.call("POST", "/api/strains", 409, json=ZOBELLIA, headers=curator)
    api.call("POST", "/api/samples", 422, json={**SAMPLE, "lat_lon": "95 10"},
             headers=curator)
    api.call("POST", "/api/samples", 422, json={"samp_name": ["not", "text"]},
             headers=curator)
    api.call("POST", "/api/samples", 400, content=b"{not json", headers={
        **curator, "Content-Type": "application/json"})
    api.call("POST", "/api/samples", 413, content=b"[" + b"0," * 600_000 + b"0]", headers={
        **curator, "Content-Type": "application/json"})
    api.call("POST", "/api/samples", 401, json=SAMPLE)
    api.call("POST", "/api/samples", 401, json=SAMPLE,
             headers={"Authorization": "Bearer lh_unknown"})
    api.call("POST", "/api/samples", 403, json=SAMPLE, headers=reader)
    api.call("GET", f"/api/samples/{sample}", 200)
    api.call("GET", f"/api/records/{strain.lower()}", 200)
    api.call("GET", "/api/records/LHSM0099999", 404)
    api.call("GET", "/api/widgets", 404)
    api.call("PATCH", f"/api/samples/{sample}", 200, json={"temp": "12.5"},
             headers={**curator, "If-Match": '"1"'})
    api.call("PATCH", f"/api/samples/{sample}", 409, json={"temp": "13"},
             headers={**curator, "If-Match": '"1"'})
    api.call("PUT", f"/api/samples/{sample}", 200, json={**SAMPLE, "temp": "14"},
             headers=curator)
    page = api.json("GET", "/api/samples?where=depth_m>100&limit=2&sort=-depth_m", 200)
    assert page["total"] == 3 and page["next"]
    api.call("GET", page["next"], 200)
    api.call("GET", "/api/samples?where=depth_m>>1", 400)
    link = {"source": strain, "rel": "isolated_from", "target": sample}
    api.call("POST", "/api/links", 201, json=link, headers=curator)
    api.call("POST", "/api/links", 404, json={**link, "target": "LHSM0099999"},
             headers=curator)
    api.call("GET", f"/api/records/{strain}/links", 200)
    api.call("GET", f"/api/records/{sample}/lineage?depth=3", 200)
    api.call("GET", f"/api/records/{sample}/history", 200)
    api.call("GET", f"/api/records/{sample}/history.csv", 200)
    deep = api.json("POST", "/api/samples", 201, headers=curator, json={
        **SAMPLE, "samp_name": "to unlink", "depth": "10 m"})["accession"]
    api.call("POST", "/api/links", 201, headers=curator, json={
        "source": deep, "rel": "isolated_from", "target": strain})
    api.call("DELETE", "/api/links", 204, headers=curator, json={
        "source": deep, "rel": "isolated_from", "target": strain})
    for form in ("csv", "tsv", "json", "dwca"):
        api.call("GET", f"/api/samples/export?format={form}", 200)
    api.call("GET", "/api/samples/export?format=sbol3", 400)
    api.call("GET", "/api/search?q=Zobellia", 200)
    api.call("GET", "/api/search?q=OSD&kind=sample&depth_min=1000&format=tsv", 200)
    api.call("GET", "/api/search?date_from=2020-02-30", 400)
    api.call("POST", "/api/compounds", 201, headers=curator, json={
        "compound_name": "neoagarobiose", "compound_class": "oligosaccharide",
        "smiles": "OCC1OC(O)C(O)C(O)C1O", "source_organism": "Zobellia galactanivorans",
        "source_ids": "LHTEST-GLYCAN-1"})
    found = api.json("GET", "/api/search/compounds?smiles=OCC1OC(O)C(O)C(O)C1O"
                     "&mode=similar", 200)
    assert found["total"] == 1
    api.call("GET", "/api/search/compounds?smarts=C1CCOC1&format=tsv", 200)
    return str(strain)


def _people(api: Checked, people: dict[str, dict[str, str]]) -> None:
    """Who one is, users, tokens, a password change, the sign-in log."""
    admin, curator, mei = people["admin"], people["curator"], people["mei"]
    assert api.json("GET", "/api/me", 200)["role"] == "anonymous"
    api.call("GET", "/api/me", 200, headers=curator)
    api.call("GET", "/api/users", 200, headers=admin)
    api.call("GET", "/api/users", 403, headers=curator)
    api.call("POST", "/api/users", 201, headers=admin, json={
        "username": "li", "role": "reader", "display_name": "Li Wei"})
    api.call("POST", "/api/users", 409, headers=admin, json={"username": "li",
                                                             "role": "reader"})
    api.call("PATCH", "/api/users/li", 200, headers=admin, json={"role": "curator"})
    api.call("GET", "/api/users/li", 200, headers=admin)
    api.call("GET", "/api/users/li", 404, headers=curator)
    made = api.json("POST", "/api/tokens", 201, headers=curator, json={
        "name": "import pipeline", "expires_days": 30})
    api.call("GET", "/api/tokens", 200, headers=curator)
    api.call("DELETE", f"/api/tokens/{made['prefix']}", 204, headers=curator)
    api.call("DELETE", f"/api/tokens/{made['prefix']}", 404, headers=curator)
    api.call("POST", "/api/me/password", 204, headers=mei, json={
        "current": "an old password 1", "new": "kelp forests of Roscoff"})
    for _ in range(5):
        api.call("POST", "/api/me/password", 422, headers=mei, json={
            "current": "a wrong guess", "new": "kelp forests of Roscoff 2"})
    api.call("POST", "/api/me/password", 429, headers=mei, json={
        "current": "a wrong guess", "new": "kelp forests of Roscoff 2"})
    api.call("GET", "/api/sign-in-log?username=mei", 200, headers=admin)


def _tables(api: Checked, curator: dict[str, str]) -> None:
    """Bulk import: a dry run, the import, and a file with a problem (the report too)."""
    header = ("samp_name,project_name,samp_taxon_id,collection_date,geo_loc_name,Latitude,"
              "Longitude,env_broad_scale,env_local_scale,env_medium,depth\n")
    row = ('{0},Oslofjord survey,408172,2020-01-0{1},"Norway: Oslofjord",{2},10.6,'
           '"marine biome [ENVO:00000447]","coastal water body [ENVO:02000049]",'
           '"sea water [ENVO:00002149]",5 m\n')
    good = (header + row.format("OF1", 2, 59.1) + row.format("OF2", 3, 59.2)).encode()
    bad = (header + row.format("OF3", 4, 95.0)).encode()
    for data, status in ((good, 200), (bad, 422)):
        api.call("POST", "/api/samples/import", status, headers=curator,
                 files={"file": ("oslofjord.csv", data, "text/csv")}, data={"dry_run": "true"})
    report = api.json("POST", "/api/samples/import", 200, headers=curator,
                      files={"file": ("oslofjord.csv", good, "text/csv")})
    assert report["created"] == 2
    refused = api.json("POST", "/api/samples/import", 422, headers=curator,
                       files={"file": ("oslofjord.csv", bad, "text/csv")})
    assert refused["report"]["problem_count"] == 1


#: a run of Zobellia galactanivorans DsijT proteins holding an agar PUL (GH29, SusC/SusD,
#: GH16 ZOBELLIA_3573 = agaB)
PUL_FROM, PUL_TO = "ZOBELLIA_3560", "ZOBELLIA_3580"


def _proteome() -> tuple[bytes, list[tuple[str, str]]]:
    """The PUL's proteins, with six '#NAME?' records a spreadsheet left among them."""
    proteins = records(ZOBELLIA_PROTEOME)
    short = [ident.split("_[")[0] for ident, _ in proteins]
    kept = proteins[short.index(PUL_FROM):short.index(PUL_TO)]
    lines = []
    for number, (ident, sequence) in enumerate(kept):
        lines.append(f">{ident}\n{sequence.rstrip('*')}\n")
        if number in (1, 4, 7, 10, 13, 16):
            lines.append(f">ZOBELLIA_SHEET_{number}\n#NAME?\n")
    return "".join(lines).encode(), kept


def _sequences(api: Checked, curator: dict[str, str], strain: str) -> None:
    """A proteome of ``strain`` with bad records: refused whole, then stored with them set
    aside; annotated; read back; searched by family, HMM and sequence (also as a job)."""
    fasta, kept = _proteome()
    acc = api.json("POST", "/api/assemblies", 201, headers=curator, json={
        "assembly_name": "Zobellia galactanivorans DsijT agar PUL",
        "assembly_type": "isolate genome", "seq_meth": "Sanger",
        "assembly_software": "Arachne"})["accession"]
    api.call("POST", "/api/links", 201, headers=curator, json={
        "source": strain, "rel": "sequenced_as", "target": acc})
    upload = {"file": ("zobellia_pul.faa", fasta, "text/plain")}
    api.call("POST", f"/api/assemblies/{acc}/sequences", 422, headers=curator, files=upload,
             data={"kind": "proteome"})
    stored = api.json("POST", f"/api/assemblies/{acc}/sequences", 201, headers=curator,
                      files=upload, data={"kind": "proteome", "set_aside_bad": "true"})
    assert stored["set_aside_count"] == 6 and stored["summary"]["protein_count"] == len(kept)
    api.call("POST", f"/api/assemblies/{acc}/sequences", 200, headers=curator, files=upload,
             data={"kind": "proteome", "set_aside_bad": "true"})
    api.call("GET", f"/api/assemblies/{acc}/sequences", 200)
    api.call("GET", f"/api/assemblies/{acc}/annotations/families", 404)
    job = api.json("POST", f"/api/assemblies/{acc}/annotate", 202, headers=curator,
                   json={"packs": ["marine-cazy", "sus"], "steps": ["families"]})
    api.wait(job, curator)
    api.call("GET", "/api/jobs", 200, headers=curator)
    for what in ("families", "substrates", "loci", "hits", "plastics"):
        api.call("GET", f"/api/assemblies/{acc}/annotations/{what}", 200)
    loci = api.json("GET", f"/api/assemblies/{acc}/annotations/loci", 200)
    assert loci and loci[0]["susc_susd_pairs"] == 1
    api.call("GET", f"/api/assemblies/{acc}/annotations/clusters", 404)
    api.call("GET", f"/api/assemblies/{acc}/proteins.fasta", 200)
    api.call("GET", f"/api/assemblies/{acc}/genbank", 400)
    hits = api.json("GET", "/api/search/families?family=GH16&depth_max=100", 200)
    assert hits["total"] >= 1 and hits["items"][0]["strain"] == strain
    for form in ("tsv", "fasta", "genbank"):
        api.call("GET", f"/api/search/families?family=GH16&format={form}", 200)
    hmm = gzip.decompress(SUS_HMM.read_bytes())
    found = api.json("POST", "/api/search/families", 200,
                     files={"hmm": ("sus.hmm", hmm, "text/plain")})
    assert found["proteins_searched"] == len(kept)
    query = "".join(f">{ident}\n{seq.rstrip('*')}\n" for ident, seq in kept[:2])
    answer = api.json("POST", "/api/search/sequence", 200, json={"fasta": query,
                                                                 "max_hits": 3})
    assert answer["hits"][0]["lineage"]["assembly"]["accession"] == acc
    api.call("POST", "/api/search/sequence?max_hits=2", 200, content=query.encode(),
             headers={"Content-Type": "text/plain"})
    many = "".join(f">q{n}\n{kept[n % len(kept)][1].rstrip('*')}\n" for n in range(51))
    job = api.json("POST", "/api/search/sequence", 202, json={"fasta": many})
    api.wait(job, {})
    api.call("GET", "/api/jobs/0123456789abcdef0123456789abcdef", 404)


def _genome(api: Checked, curator: dict[str, str]) -> None:
    """A GenBank region: genes, families and gene clusters; its files."""
    acc = api.json("POST", "/api/assemblies", 201, json=REGION, headers=curator)[
        "accession"]
    api.call("POST", f"/api/assemblies/{acc}/sequences", 201, headers=curator, files={
        "file": ("BGC0001866.gbk", GENBANK.read_bytes(), "text/plain")})
    job = api.json("POST", f"/api/assemblies/{acc}/annotate", 202, headers=curator, json={
        "packs": ["pfam-gecco"], "steps": ["genes", "families", "clusters"]})
    api.wait(job, curator)
    clusters = api.json("GET", f"/api/assemblies/{acc}/annotations/clusters", 200)
    assert clusters and clusters[0]["type"] == "Polyketide"
    api.call("GET", f"/api/assemblies/{acc}/annotations/hits", 200)
    api.call("GET", f"/api/assemblies/{acc}/annotations/widgets", 404)
    api.call("GET", f"/api/assemblies/{acc}/genes.gff3", 200)
    api.call("GET", f"/api/assemblies/{acc}/genbank", 200)


def _breeding(api: Checked, curator: dict[str, str]) -> None:
    """A breeding dataset: imported, listed, QC, relationships, REML, breeding values,
    matings, cross-validation as a job and its table."""
    plink = [("genotypes", (name, (BREEDING / name).read_bytes()))
             for name in ("simfish.bed", "simfish.bim", "simfish.fam")]
    tables = [(field, (name, (BREEDING / name).read_bytes())) for field, name in (
        ("pedigree", "simfish_pedigree.csv"), ("phenotypes", "simfish_phenotypes.csv"))]
    form = {"name": "simfish", "publish": "true"}
    api.call("POST", "/api/breeding/datasets", 200, headers=curator, files=plink + tables,
             data={**form, "dry_run": "true"})
    api.call("POST", "/api/breeding/datasets", 201, headers=curator, files=plink + tables,
             data=form)
    api.call("GET", "/api/breeding/datasets", 200)
    api.call("GET", "/api/breeding/datasets/simfish", 200)
    api.call("GET", "/api/breeding/datasets/no-such-fish", 404)
    model = {"dataset": "simfish", "trait": "weight", "model": "pblup"}
    api.call("POST", "/api/breeding/qc", 200, headers=curator, data={"dataset": "simfish"})
    api.call("POST", "/api/breeding/grm", 200, headers=curator, data={"dataset": "simfish"})
    api.call("POST", "/api/breeding/grm?format=tsv", 200, headers=curator,
             data={"dataset": "simfish", "matrix": "A"})
    api.call("POST", "/api/breeding/reml", 200, headers=curator, data=model)
    api.call("POST", "/api/breeding/predict", 200, headers=curator, data=model)
    api.call("POST", "/api/breeding/predict?format=csv", 200, headers=curator, data=model)
    api.call("POST", "/api/breeding/predict", 422, headers=curator,
             data={**model, "trait": "length"})
    api.call("POST", "/api/breeding/mate", 200, headers=curator,
             data={**model, "matings": "5", "delta_f": "0.01"})
    job = api.json("POST", "/api/breeding/cv", 202, headers=curator,
                   data={**model, "folds": "3"})
    api.wait(job, curator)
    api.call("GET", f"/api/breeding/jobs/{job['id']}/result.csv", 200, headers=curator)


# --- the checks themselves can fail -----------------------------------------------------------

@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Document:
    from lanhai.db.engine import make_engine, migrate

    engine = make_engine("sqlite://")
    migrate(engine)
    folder = tmp_path_factory.mktemp("document")
    client = make_client(engine, Settings(data_dir=folder))
    return Document(client.get("/openapi.json").json())


RECORD = {"accession": "LHSM0000001", "kind": "sample", "name": "OSD1_2014-06-21_0m",
          "restricted": False, "version": 1, "created_at": "2025-03-14T09:26:53+00:00",
          "updated_at": "2025-03-14T09:26:53+00:00", "created_by": "ana",
          "updated_by": "ana", "identifiers": [], "fields": {"depth_m": 0.0}}
JSON = {"content-type": "application/json"}


def _problems(document: Document, method: str, url: str, status: int, body: Any,
              headers: dict[str, str] | None = None) -> list[str]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return document.problems(method, url, status, headers or JSON, data)


def test_the_checks_accept_a_conforming_answer(document: Document) -> None:
    assert _problems(document, "GET", "/api/records/LHSM0000001", 200, RECORD,
                     {**JSON, "etag": '"1"'}) == []
    assert _problems(document, "GET", "/api/samples/LHSM0000001", 404, {
        "error": {"code": "not_found", "message": "no record 'LHSM0000001'"}}) == []


@pytest.mark.parametrize(("method", "url", "status", "body", "headers", "why"), [
    ("GET", "/api/records/LHSM0000001", 200, {k: v for k, v in RECORD.items()
                                              if k != "accession"}, None,
     "'accession' is a required property"),
    ("GET", "/api/records/LHSM0000001", 200, {**RECORD, "version": "1"}, None,
     "is not of type 'integer'"),
    ("GET", "/api/records/LHSM0000001", 200, {**RECORD, "created_at": "yesterday"}, None,
     "is not a 'date-time'"),
    ("GET", "/api/stats", 200, {"counts": {"sample": 1}, "total": 1, "extra": 2}, None,
     "Additional properties are not allowed"),
    ("GET", "/api/samples/LHSM0000001", 404, {"detail": "Not Found"}, None,
     "'error' is a required property"),
    ("GET", "/api/samples/LHSM0000001", 404,
     {"error": {"code": "not_found", "message": "x", "hint": "y"}}, None,
     "Additional properties are not allowed"),
    ("GET", "/api/stats", 418, {}, None, "status not documented"),
    ("GET", "/api/stats", 200, b"<html></html>", {"content-type": "text/html"},
     "media type 'text/html' not documented"),
    ("POST", "/api/samples", 201, RECORD, None, "declared header Location not sent"),
    ("GET", "/api/assemblies/LHAS0000001/annotations/loci", 200, [{"locus_id": "PUL1"}],
     None, "is not valid under any of the given schemas"),
    ("POST", "/api/search/sequence", 202, {"id": "x"}, None, "is a required property"),
])
def test_the_checks_refuse_an_answer_the_document_does_not_describe(
        document: Document, method: str, url: str, status: int, body: Any,
        headers: dict[str, str] | None, why: str) -> None:
    sent = {**JSON, "etag": '"1"', **(headers or {})}
    found = _problems(document, method, url, status, body, sent)
    assert any(why in problem for problem in found), found


# --- the document as a reference --------------------------------------------------------------

def test_every_answer_has_a_real_schema(document: Document) -> None:
    """No catch-alls: every answer of every operation has a description and, when it has a
    body, a schema that says something (a component, a type, or alternatives); JSON
    objects list their keys."""
    spec = document.spec
    vague = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                said = f"{method.upper()} {path} {status}"
                if not answer.get("description"):
                    vague.append(f"{said}: no description")
                if status == "204":
                    continue
                if not answer.get("content"):
                    vague.append(f"{said}: no content")
                for media, content in answer.get("content", {}).items():
                    schema = content.get("schema") or {}
                    if not {"$ref", "type", "anyOf", "oneOf"} & set(schema):
                        vague.append(f"{said} {media}: schema {schema}")
    for name, schema in spec["components"]["schemas"].items():
        if schema.get("type") == "object" and not schema.get("properties"):
            vague.append(f"component {name}: no properties")
    assert vague == []


def test_the_document_says_who_may_call_what(document: Document) -> None:
    spec = document.spec
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            who = operation["x-lanhai-access"]
            assert who in ("anyone", "signed in", "member or curator", "curator", "admin"), \
                (method, path)
            needs_token = [{"bearer": []}]
            assert operation["security"] == (
                [{}, {"bearer": []}] if who == "anyone" else needs_token), (method, path)
            if who in ("member or curator", "curator", "admin"):
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
            assert "401" in operation["responses"]  # a bad token, on any route
    paths = spec["paths"]
    assert paths["/api/{kind}"]["post"]["x-lanhai-access"] == "member or curator"
    assert paths["/api/links"]["post"]["x-lanhai-access"] == "curator"
    assert paths["/api/users"]["get"]["x-lanhai-access"] == "admin"
    assert paths["/api/tokens"]["post"]["x-lanhai-access"] == "signed in"
    assert paths["/api/{kind}"]["get"]["x-lanhai-access"] == "anyone"
    assert "429" in paths["/api/me/password"]["post"]["responses"]
    ingest = paths["/api/assemblies/{accession}/sequences"]["post"]
    form = ingest["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert "set_aside_bad" in json.dumps(spec["components"]["schemas"].get(
        form.get("$ref", "").rsplit("/", 1)[-1], form))


def test_the_answers_have_examples_that_fit_them(document: Document) -> None:
    """Every JSON answer of a success shows an example, and every example in the
    components is valid against its own schema."""
    spec = document.spec
    components = spec["components"]["schemas"]
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                content = answer.get("content", {}).get("application/json")
                if not status.startswith("2") or content is None:
                    continue
                schema = content["schema"]
                target = components.get(schema.get("$ref", "").rsplit("/", 1)[-1], schema)
                if not (content.get("example") or target.get("examples")):
                    missing.append(f"{method.upper()} {path} {status}")
    assert missing == []
    wrong = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                for media, content in answer.get("content", {}).items():
                    if "example" in content and _JSON.match(media):
                        wrong += [f"{method.upper()} {path} {status}: {why}" for why in
                                  document.invalid(content["schema"], content["example"])]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():  # JSON request bodies too
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            schema = content["application/json"]["schema"]
            named = [components[s["$ref"].rsplit("/", 1)[-1]] for s in
                     [schema, *schema.get("anyOf", [])] if "$ref" in s]
            examples = ([content["application/json"]["example"]]
                        if "example" in content["application/json"] else
                        [e for target in [schema, *named] for e in target.get("examples", [])])
            if not examples:
                missing.append(f"{method.upper()} {path} request")
            for example in examples:
                wrong += [f"{method.upper()} {path} request: {why}"
                          for why in document.invalid(schema, example)]
    assert missing == []
    for name, schema in components.items():
        for example in schema.get("examples", []):
            wrong += [f"{name}: {why}" for why in document.invalid(
                {"$ref": f"#/components/schemas/{name}"}, example)]
    assert wrong == []
