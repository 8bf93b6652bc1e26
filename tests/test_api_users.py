"""Users and tokens over the API: an admin adds a curator, the curator gets a token, uses
it, lists and revokes it; the secret is shown once and only its hash is stored."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from lanhai.db.schema import api_tokens
from lanhai.services.users import hash_token
from tests.support import SAMPLE, add_user, make_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_admin_adds_a_curator_who_gets_and_revokes_a_token(engine: Engine) -> None:
    api: TestClient = make_client(engine)
    admin = add_user(engine, "root", "admin")
    made = api.post("/api/users", json={"username": "ana", "role": "curator",
                                        "display_name": "Ana Li"}, headers=admin)
    assert made.status_code == 201 and made.headers["location"] == "/api/users/ana"
    assert made.json() == {**made.json(), "username": "ana", "role": "curator",
                           "active": True}
    assert api.post("/api/users", json={"username": "ana", "role": "reader"},
                    headers=admin).status_code == 409
    bad = api.post("/api/users", json={"username": "a b", "role": "boss"}, headers=admin)
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["error"]["problems"]} == {"username", "role"}

    issued = api.post("/api/tokens", json={"username": "ana", "name": "pipeline",
                                           "expires_days": 30}, headers=admin)
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert token.startswith("lh_") and token.startswith(issued.json()["prefix"])
    expires = dt.datetime.fromisoformat(issued.json()["expires_at"])
    assert dt.timedelta(days=29) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=30)
    with engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)
                              .where(api_tokens.c.prefix == issued.json()["prefix"])).scalar()
    assert stored == hash_token(token) and token not in str(stored)

    me = api.get("/api/me", headers=bearer(token)).json()
    assert me == {"username": "ana", "role": "curator", "can_write": True,
                  "can_see_restricted": True, "display_name": "Ana Li"}
    assert api.post("/api/samples", json=SAMPLE, headers=bearer(token)).status_code == 201

    mine = api.get("/api/tokens", headers=bearer(token)).json()["tokens"]
    assert [(t["name"], t["status"]) for t in mine] == [("pipeline", "active")]
    assert all("token" not in t and "token_hash" not in t for t in mine)
    everyone = api.get("/api/tokens", headers=admin).json()["tokens"]
    assert {t["username"] for t in everyone} == {"root", "ana"}
    only_ana = api.get("/api/tokens?username=ana", headers=admin).json()["tokens"]
    assert [t["username"] for t in only_ana] == ["ana"]

    prefix = mine[0]["prefix"]
    assert api.delete(f"/api/tokens/{prefix}", headers=bearer(token)).status_code == 204
    assert api.get("/api/me", headers=bearer(token)).status_code == 401
    listed = api.get("/api/tokens?username=ana", headers=admin).json()["tokens"]
    assert listed[0]["status"] == "revoked"
    assert api.delete(f"/api/tokens/{prefix}", headers=admin).status_code == 404


def test_role_change_takes_effect_on_the_next_request(engine: Engine) -> None:
    api = make_client(engine)
    admin = add_user(engine, "root", "admin")
    reader = add_user(engine, "rui", "reader")
    assert api.post("/api/samples", json=SAMPLE, headers=reader).status_code == 403
    promoted = api.patch("/api/users/rui", json={"role": "curator"}, headers=admin)
    assert promoted.json()["role"] == "curator"
    assert api.post("/api/samples", json=SAMPLE, headers=reader).status_code == 201
    listed = api.get("/api/users", headers=admin).json()["users"]
    assert [(u["username"], u["role"]) for u in listed] == [("root", "admin"),
                                                            ("rui", "curator")]
    assert api.patch("/api/users/nobody", json={"role": "reader"},
                     headers=admin).status_code == 404
    assert api.patch("/api/users/root", json={"role": "reader"},
                     headers=admin).status_code == 409
    assert api.get("/api/users/rui", headers=reader).json()["role"] == "curator"


def test_anonymous_me(engine: Engine) -> None:
    me = make_client(engine).get("/api/me").json()
    assert me == {"username": "anonymous", "role": "anonymous", "can_write": False,
                  "can_see_restricted": False}
