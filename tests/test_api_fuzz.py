"""No input makes the server fail, and every answer is one the OpenAPI document describes.

Schemathesis generates requests for every operation of ``/openapi.json`` (valid ones, and
ones that break the schema: wrong types, huge numbers, odd strings, missing fields) and
sends each twice, as an anonymous caller and as an admin, to a bank holding records of
several kinds. No answer may be a 5xx, every error must be the envelope, and every answer
must conform to the document: its status listed for the operation, its media type listed
for that status, its body valid against that media type's schema (Schemathesis' own
status_code_conformance, content_type_conformance and response_schema_conformance).

Random requests rarely reach stored sequences, finished jobs or search hits: a normal
session holds the document to those (``tests/test_api_document.py``). Hypothesis then
feeds the parsers (filters, dates, FASTA queries, accessions, limit settings, import
tables, FASTA/GenBank files, plain or gzip or zip) arbitrary input: each either parses or
raises one of Lanhai's own errors, never anything else.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import string
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lanhai.app import create_app
from lanhai.errors import LanhaiError
from lanhai.imports.reader import open_table
from lanhai.kinds import kind_of_accession
from lanhai.limits import limits_from_env
from lanhai.model import parse_filter
from lanhai.search.filters import CatalogFilters
from lanhai.sequence.reader import SequenceReader
from lanhai.services.catalog import check_accession
from lanhai.services.sequence_search import read_query
from tests.support import (
    CURATOR,
    DEPOSIT,
    SAMPLE,
    ZOBELLIA,
    add_token,
    bank_on,
    create_user,
)

#: generated requests per operation (each sent twice); LANHAI_FUZZ_EXAMPLES=500 for a long run
EXAMPLES = int(os.environ.get("LANHAI_FUZZ_EXAMPLES", "40"))


@pytest.fixture(scope="module")
def app_with_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    from lanhai.db.engine import make_engine, migrate

    folder = tmp_path_factory.mktemp("fuzz")
    engine = make_engine(f"sqlite:///{folder / 'bank.sqlite'}")
    migrate(engine)
    bank = bank_on(engine, folder, secret_key="fuzz")
    sample = bank.catalog.create(CURATOR, "sample", SAMPLE).accession
    strain = bank.catalog.create(CURATOR, "strain", ZOBELLIA).accession
    bank.catalog.create(CURATOR, "deposit", DEPOSIT)
    bank.catalog.link(CURATOR, sample, "isolated_from", strain)
    create_user(engine, "root", "admin")
    token = add_token(engine, "root")
    app = create_app(bank=bank)
    yield app, token
    bank.close()


#: what every answer is checked for, besides no 5xx and the envelope
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]
#: besides the envelope, an error may carry the report of what was refused (bulk imports)
ERROR_EXTRAS = {"report"}


def _is_envelope(response: Any) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and "error" in body and set(body) - {"error"} <= ERROR_EXTRAS \
        and isinstance(body["error"], dict) and {"code", "message"} <= set(body["error"])


def test_every_route_answers_only_what_it_documents(app_with_token: tuple[Any, str]) -> None:
    app, token = app_with_token
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40

    # a generated value may spell another route's fixed path (kind "kinds" in /api/{kind}
    # is /api/kinds): that request is the other operation's, answered by its schema
    fixed = {op.path for op in operations if "{" not in op.path}
    for operation in operations:
        _fuzz(operation, token, failures, fixed)
    assert failures == [], "\n".join(sorted(set(failures))[:30])


def _fuzz(operation: Any, token: str, failures: list[str], fixed: set[str]) -> None:
    """Send generated requests for one operation (that fit its schema, and that break it),
    as anonymous and as an admin; a request whose path is one of the ``fixed`` paths of
    other operations is theirs, and left out."""
    documented = set(operation.definition.raw.get("responses", {}))

    @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE)))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        if "{" in operation.path and case.formatted_path in fixed:
            return
        for auth in (None, f"Bearer {token}"):
            # the document declares the bearer scheme, so cases may come with a made-up
            # token: the anonymous call sends none, the admin call the admin's
            for name in [h for h in (case.headers or {}) if h.lower() == "authorization"]:
                del case.headers[name]
            response = case.call(headers={"Authorization": auth} if auth else {})
            status = response.status_code
            said = f"{case.method} {case.formatted_path} -> {status}"
            if status >= 500 or str(status) not in documented or (
                    status >= 400 and not _is_envelope(response)):
                failures.append(f"{said} (documented {sorted(documented)}): "
                                f"{response.text[:160]}")
                return
            try:
                case.validate_response(response, checks=CONFORMANCE)
            except FailureGroup as group:  # failed checks: say which and why
                for failure in group.exceptions:
                    where = getattr(failure, "instance_path", None)
                    why = getattr(failure, "_raw_message", None) or failure.message
                    failures.append(f"{said}: {failure.title}"
                                    + (f" at /{'/'.join(map(str, where))}"
                                       if where is not None else "")
                                    + f": {str(why).strip()[:300]}")
                return

    check()


def test_the_document_lists_the_envelope_for_errors(app_with_token: tuple[Any, str]) -> None:
    spec = TestClient(app_with_token[0]).get("/openapi.json").json()
    assert "Error" in spec["components"]["schemas"]
    patch = spec["paths"]["/api/{kind}/{accession}"]["patch"]["responses"]
    assert {"200", "400", "401", "403", "404", "409", "413", "422", "503"} <= set(patch)
    assert patch["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    assert "403" in spec["paths"]["/api/users"]["get"]["responses"]


def test_a_405_lists_every_method_of_the_path(app_with_token: tuple[Any, str]) -> None:
    client = TestClient(app_with_token[0])
    answer = client.delete("/api/users")
    assert answer.status_code == 405
    assert {"GET", "POST"} <= set(answer.headers["Allow"].split(", "))
    assert answer.json()["error"]["code"] == "method_not_allowed"


def test_malformed_numbers_and_nesting_are_400s_not_failures(
        app_with_token: tuple[Any, str]) -> None:
    app, token = app_with_token
    client = TestClient(app)
    auth = {"Authorization": f"Bearer {token}"}
    for path in ("/api/samples?offset=99999999999999999999", "/api/records?limit=1e999",
                 "/browse/samples?offset=99999999999999999999",
                 "/search.json?depth_min=nan", "/search.json?date_from=2020-13-45",
                 "/api/search?date_from=2020-02-30"):
        answer = client.get(path)
        assert answer.status_code in (400, 422), (path, answer.text[:200])
    nested = "[" * 100_000 + "]" * 100_000
    answer = client.post("/api/samples", content=nested, headers={
        **auth, "Content-Type": "application/json"})
    assert answer.status_code == 400 and _is_envelope(answer)
    answer = client.post("/api/search/sequence", json={"fasta": ">q\nMKV\n",
                                                       "evalue": "Infinity"})
    assert answer.status_code in (400, 422)


# --- the parsers ------------------------------------------------------------------------------

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
ASCII = st.text(alphabet=string.printable, max_size=80)


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_filters_parse_or_say_why(text: str) -> None:
    with contextlib.suppress(LanhaiError):
        parse_filter(text)


@given(st.one_of(TEXT, ASCII), st.one_of(TEXT, ASCII))
@settings(max_examples=300, deadline=None)
def test_dates_of_search_filters_parse_or_say_why(first: str, second: str) -> None:
    with contextlib.suppress(LanhaiError):
        CatalogFilters(date_from=first or None, date_to=second or None)


@given(st.one_of(TEXT, st.binary(max_size=400).map(lambda b: b.decode("latin-1")),
                 st.lists(st.sampled_from([">q", "MKV", "ACGT", "*", "", ">", "\x00", "X" * 50]),
                          max_size=20).map("\n".join)))
@settings(max_examples=300, deadline=None)
def test_fasta_queries_parse_or_say_why(text: str) -> None:
    with contextlib.suppress(LanhaiError):
        read_query(text)


@given(ASCII)
@settings(max_examples=300, deadline=None)
def test_accessions_parse_or_say_why(text: str) -> None:
    try:
        accession = check_accession(text)
    except LanhaiError:
        assert kind_of_accession(text) is None
    else:
        assert kind_of_accession(accession) is not None


@given(st.dictionaries(st.sampled_from(["LANHAI_MAX_BODY", "LANHAI_MAX_CELLS",
                                        "LANHAI_MAX_RATIO"]), ASCII, max_size=3))
@settings(max_examples=200, deadline=None)
def test_limit_settings_parse_or_say_why(env: dict[str, str]) -> None:
    try:
        limits = limits_from_env(env)
    except LanhaiError:
        return
    assert limits.body >= 1 and limits.cells >= 1


def test_the_schema_covers_every_api_route(app_with_token: tuple[Any, str]) -> None:
    from tests.support import app_routes

    spec = TestClient(app_with_token[0]).get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    hidden = {("GET", "/docs"), ("GET", "/openapi.json")}
    assert app_routes(app_with_token[0]) - hidden <= documented



_TABLE_TEXT = st.lists(st.sampled_from(["samp_name,depth", "a,b", '"x""y",1', "\t", ";", "é",
                                        "\x00", "=1+2", ",,,", '"open', "\r\n", "\n"]),
                       max_size=30).map("".join)


@given(st.one_of(st.binary(max_size=1500), _TABLE_TEXT.map(str.encode),
                 _TABLE_TEXT.map(lambda t: gzip.compress(t.encode())),
                 st.binary(max_size=600).map(lambda b: b"PK\x03\x04" + b),
                 st.binary(max_size=600).map(lambda b: b"\x1f\x8b" + b)),
       st.sampled_from(["t.csv", "t.tsv", "t.xlsx", "t.csv.gz", "t.txt"]))
@settings(max_examples=300, deadline=None)
def test_table_files_read_or_say_why(data: bytes, name: str) -> None:
    """Any bytes as an import table: rows, or problems and Lanhai's own errors."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        with contextlib.suppress(LanhaiError), open_table(path) as table:
            for _ in table.rows():
                pass


_FASTA = st.lists(st.sampled_from([">a", ">b desc", "ACGT", "MKV*", "NNNN", ">", "", "\x00",
                                   "LOCUS x", "ORIGIN", "//", "1 acgt", "é"]),
                  max_size=30).map("\n".join)


@given(st.one_of(st.binary(max_size=1500), _FASTA.map(str.encode),
                 _FASTA.map(lambda t: gzip.compress(t.encode())),
                 st.binary(max_size=600).map(lambda b: b"\x1f\x8b" + b)),
       st.sampled_from(["genome", "proteome"]))
@settings(max_examples=300, deadline=None)
def test_sequence_files_read_or_say_why(data: bytes, kind: str) -> None:
    """Any bytes as a FASTA/GenBank file: records, or problems and Lanhai's own errors."""
    with contextlib.suppress(LanhaiError):
        for _ in SequenceReader(io.BytesIO(data), kind=kind, name="x"):
            pass
