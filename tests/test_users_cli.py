"""`lanhai users …` and `lanhai tokens …`: exit codes, --json output, and that a token made
on the command line works against the API."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lanhai.app import create_app
from lanhai.bank import init_bank
from lanhai.cli.main import main
from lanhai.settings import Settings


@pytest.fixture
def bank_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    init_bank(Settings(data_dir=tmp_path)).close()
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> Any:
    """Run with --json; check the exit code; return the parsed stdout."""
    capsys.readouterr()
    assert main([*args, "--json"]) == code
    out = capsys.readouterr().out
    return json.loads(out) if out.strip() else None


def test_add_list_and_set_users(bank_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ana = run(capsys, "users", "add", "ana", "--role", "curator", "--display-name", "Ana Li")
    assert ana == {**ana, "username": "ana", "role": "curator", "display_name": "Ana Li",
                   "active": True}
    run(capsys, "users", "add", "rui", "--role", "reader")
    listed = run(capsys, "users", "list")
    assert [(u["username"], u["role"]) for u in listed] == [("ana", "curator"),
                                                            ("rui", "reader")]
    changed = run(capsys, "users", "set", "rui", "--role", "curator", "--disable")
    assert (changed["role"], changed["active"]) == ("curator", False)
    assert run(capsys, "users", "set", "rui", "--enable")["active"] is True

    # data errors exit 1 with the envelope on stdout; usage errors exit 2
    duplicate = run(capsys, "users", "add", "ana", "--role", "reader", code=1)
    assert duplicate["error"]["code"] == "conflict"
    assert run(capsys, "users", "set", "nobody", "--role", "admin",
               code=1)["error"]["code"] == "not_found"
    assert run(capsys, "users", "set", "ana", code=2)["error"]["code"] == "usage"
    assert main(["users", "add", "eve", "--role", "boss"]) == 2
    assert main(["users", "add", "eve"]) == 2  # --role is required
    assert main(["users", "add", "bad name!", "--role", "reader"]) == 2


def test_human_output_goes_to_stdout_and_logs_to_stderr(
        bank_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "list"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "no users yet" in err
    assert main(["users", "add", "ana", "--role", "curator"]) == 0
    assert main(["users", "list"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[-1].split()[:3] == ["ana", "curator", "active"]
    assert main(["tokens", "create", "ana"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().startswith("lh_") and len(out.strip().splitlines()) == 1
    assert "not shown again" in err


def test_password_from_stdin(bank_dir: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    run(capsys, "users", "add", "ana", "--role", "admin", "--password-stdin")
    bank = init_bank(Settings(data_dir=bank_dir))
    assert bank.users.sign_in("ana", "correct horse battery") is not None
    assert bank.users.sign_in("ana", "wrong") is None
    bank.close()
    for weak, reason in (("short\n", "at least 10"), ("password123\n", "too easy to guess"),
                         ("iloveyou2026\n", "too easy to guess")):
        monkeypatch.setattr("sys.stdin", io.StringIO(weak))
        refused = run(capsys, "users", "add", "bo", "--role", "reader", "--password-stdin",
                      code=1)["error"]
        assert refused["code"] == "invalid" and reason in refused["problems"][0]["reason"]
        assert refused["problems"][0]["fix"]
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert run(capsys, "users", "add", "ANA", "--role", "reader", "--password-stdin",
               code=1)["error"]["code"] == "conflict"  # names are the same whatever the case
    assert run(capsys, "users", "add", "Anonymous", "--role", "reader",
               code=2)["error"]["code"] == "usage"  # reserved


def test_users_set_changes_the_password(bank_dir: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    run(capsys, "users", "add", "demo", "--role", "curator")  # no password: no web sign-in
    monkeypatch.setattr("sys.stdin", io.StringIO("tide pool sampler\n"))
    assert run(capsys, "users", "set", "demo", "--password-stdin")["role"] == "curator"
    bank = init_bank(Settings(data_dir=bank_dir))
    assert bank.users.sign_in("demo", "tide pool sampler") is not None
    bank.close()
    monkeypatch.setattr("sys.stdin", io.StringIO("\0" * 12 + "\n"))
    assert run(capsys, "users", "set", "demo", "--password-stdin",
               code=1)["error"]["code"] == "invalid"


def test_tokens_create_list_revoke_and_use(bank_dir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "users", "add", "ana", "--role", "curator")
    made = run(capsys, "tokens", "create", "ana", "--name", "pipeline", "--expires-days", "7")
    secret = made["token"]
    assert secret.startswith(made["prefix"]) and made["status"] == "active"
    assert made["expires_at"] is not None and made["name"] == "pipeline"
    assert run(capsys, "tokens", "create", "nobody", code=1)["error"]["code"] == "not_found"
    assert main(["tokens", "create", "ana", "--expires-days", "0"]) == 2

    bank = init_bank(Settings(data_dir=bank_dir))
    api = TestClient(create_app(bank=bank))
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/me", headers=headers).json()["username"] == "ana"

    listed = run(capsys, "tokens", "list", "ana")
    assert [(t["prefix"], t["status"]) for t in listed] == [(made["prefix"], "active")]
    assert all("token" not in t for t in listed)
    assert run(capsys, "tokens", "list") == listed
    assert run(capsys, "tokens", "list", "nobody", code=1)["error"]["code"] == "not_found"

    assert run(capsys, "tokens", "revoke", made["prefix"]) == {"revoked": made["prefix"]}
    assert api.get("/api/me", headers=headers).status_code == 401
    assert run(capsys, "tokens", "list")[0]["status"] == "revoked"
    assert run(capsys, "tokens", "revoke", made["prefix"], code=1)["error"]["code"] == \
        "not_found"
    bank.close()


def test_commands_without_a_bank_say_how_to_make_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path / "none"))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    assert main(["users", "list"]) == 2
    assert "lanhai init" in capsys.readouterr().err
