"""Every API error has one shape: {"error": {"code", "message", "problems"?}}.

Problems say where (field), what (value), why (reason) and how to fix it (fix).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support import SAMPLE, add_user, make_client

PROBLEM_KEYS = {"reason", "fix", "field", "value", "row", "column", "record", "file"}


def check_envelope(answer: Any, status: int, code: str, *, problems: bool = False
                   ) -> dict[str, Any]:
    """Assert the envelope's exact shape and return the error object."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert list(body) == ["error"]
    error: dict[str, Any] = body["error"]
    assert set(error) == ({"code", "message", "problems"} if problems else {"code", "message"})
    assert error["code"] == code
    assert isinstance(error["message"], str) and len(error["message"]) > 10
    if problems:
        assert error["problems"], "problems, when present, are never empty"
        for problem in error["problems"]:
            assert set(problem) <= PROBLEM_KEYS
            assert problem["reason"] and problem["fix"]
    return error


@pytest.fixture
def api(engine: Engine) -> TestClient:
    return make_client(engine)


@pytest.fixture
def curator(engine: Engine) -> dict[str, str]:
    return add_user(engine, "ana", "curator")


def test_400_bad_filter_sort_and_malformed_json(api: TestClient,
                                                curator: dict[str, str]) -> None:
    error = check_envelope(api.get("/api/samples?where=depth_m>>deep"), 400, "usage")
    assert "depth_m" in error["message"]
    check_envelope(api.get("/api/samples?sort=colour"), 400, "usage")
    error = check_envelope(
        api.post("/api/samples", content=b'{"samp_name": ', headers={
            **curator, "content-type": "application/json"}), 400, "bad_json")
    assert "not valid JSON" in error["message"]


def test_401_without_or_with_a_bad_token(engine: Engine, api: TestClient) -> None:
    answer = api.post("/api/samples", json=SAMPLE)
    error = check_envelope(answer, 401, "unauthorized")
    assert answer.headers["www-authenticate"] == "Bearer"
    assert "curator token" in error["message"]
    answer = api.get("/api/samples", headers={"Authorization": "Bearer lh_nonsense"})
    check_envelope(answer, 401, "unauthorized")
    assert answer.headers["www-authenticate"] == "Bearer"


def test_403_for_a_reader_writing(engine: Engine, api: TestClient) -> None:
    reader = add_user(engine, "rui", "reader")
    error = check_envelope(api.post("/api/samples", json=SAMPLE, headers=reader), 403,
                           "forbidden")
    assert "reader" in error["message"]


def test_404_record_kind_and_route(api: TestClient) -> None:
    check_envelope(api.get("/api/records/LHSM0000042"), 404, "not_found")
    error = check_envelope(api.get("/api/widgets"), 404, "not_found")
    assert "samples" in error["message"]  # says which kinds exist
    error = check_envelope(api.get("/no/such/route"), 404, "not_found")
    assert "/no/such/route" in error["message"]
    check_envelope(api.get("/api/records/LHSM0000001/nothing"), 404, "not_found")


def test_405_names_the_allowed_methods(api: TestClient) -> None:
    answer = api.delete("/api/kinds")
    error = check_envelope(answer, 405, "method_not_allowed")
    assert "GET" in error["message"] and "GET" in answer.headers["allow"]


def test_409_duplicate_identifier(api: TestClient, curator: dict[str, str]) -> None:
    assert api.post("/api/samples", json=SAMPLE, headers=curator).status_code == 201
    error = check_envelope(api.post("/api/samples", json=SAMPLE, headers=curator), 409,
                           "conflict")
    assert "LHSM0000001" in error["message"]


def test_422_invalid_fields_list_every_problem(api: TestClient,
                                               curator: dict[str, str]) -> None:
    bad = {**SAMPLE, "lat_lon": "95 10", "depth": "deep", "colour": "blue"}
    error = check_envelope(api.post("/api/samples", json=bad, headers=curator), 422,
                           "invalid", problems=True)
    by_field = {p["field"]: p for p in error["problems"]}
    assert set(by_field) == {"lat_lon", "depth", "colour"}
    assert by_field["lat_lon"]["value"] == "95 10"
    assert "samp_name" in by_field["colour"]["fix"]  # lists the valid fields


def test_422_request_shape(api: TestClient, curator: dict[str, str]) -> None:
    error = check_envelope(api.get("/api/samples?limit=many"), 422, "invalid_request",
                           problems=True)
    assert error["problems"][0]["field"] == "limit"
    assert error["problems"][0]["value"] == "many"
    check_envelope(api.post("/api/samples", json=[SAMPLE], headers=curator), 422,
                   "invalid_request", problems=True)
    error = check_envelope(api.post("/api/links", json={"source": "LHSM0000001"},
                                    headers=curator), 422, "invalid_request", problems=True)
    assert {p["field"] for p in error["problems"]} == {"rel", "target"}
