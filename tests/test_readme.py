"""Docs are tested: the README's tour runs, and every command, route and setting is
documented in the README."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import click
import pytest

from lanhai.cli.main import cli, main
from lanhai.settings import SETTINGS_DOC
from tests.support import bank_on

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")
#: the README and the topic pages in docs/ together document every command and route
DOCS = "\n".join([README, *(p.read_text("utf-8") for p in sorted((ROOT / "docs").glob("*.md")))])


def _tested_block(name: str) -> list[str]:
    match = re.search(rf"<!-- tested: {name} -->\s*```sh\n(.*?)```", README, re.S)
    assert match, f"README has no tested block {name!r}"
    return [line for line in match[1].splitlines() if line.strip()]


#: ``NAME=$(lanhai … --json | jq -r .FIELD)``: keep a field of a command's answer in $NAME
_KEEP = re.compile(r"^(\w+)=\$\((lanhai .*--json) \| jq -r \.(\w+)\)$")


def test_readme_tour_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path / "bank"))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    kept: dict[str, str] = {}
    for line in _tested_block("cli-tour"):
        keep = _KEEP.match(line)
        command = keep[2] if keep else line
        for name, value in kept.items():
            command = command.replace(f'"${name}"', value).replace(f"${name}", value)
        args = shlex.split(command)
        assert args[0] == "lanhai" and "$" not in command, line
        capsys.readouterr()
        assert main(args[1:]) == 0, line
        if keep:
            kept[keep[1]] = str(json.loads(capsys.readouterr().out)[keep[3]])


def _commands(group: click.Group, prefix: str) -> list[tuple[str, str]]:
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # loads each command's module
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):  # its commands, and theirs (market deal open)
            out.extend(_commands(command, f"{prefix} {name}"))
        else:
            out.append((prefix, name))
    return out


def test_every_command_is_documented() -> None:
    missing = []
    for parent, name in _commands(cli, "lanhai"):
        lines = [ln for ln in DOCS.splitlines() if f"`{parent} " in ln or f"{parent} " in ln]
        if not any(re.search(rf"\b{re.escape(name)}\b", ln) for ln in lines):
            missing.append(f"{parent} {name}")
    assert missing == [], "document these commands in README.md or docs/*.md"


def test_every_route_is_documented(sqlite_engine: object) -> None:
    from lanhai.app import create_app

    app = create_app(bank=bank_on(sqlite_engine))  # type: ignore[arg-type]
    # the OpenAPI document lists every route (FastAPI nests included routers in app.routes)
    paths = app.openapi()["paths"]
    assert len(paths) > 10
    missing = [f"{method.upper()} {path}" for path, ops in paths.items() for method in ops
               if f"`{method.upper()} {path}`" not in DOCS]
    assert missing == [], "document these routes in README.md or docs/*.md"


def test_every_setting_is_documented() -> None:
    assert [k for k in SETTINGS_DOC if f"`{k}`" not in README] == []


def test_every_command_has_json() -> None:
    """DESIGN.md convention 3: every command has --json."""
    missing = []
    for parent, name in _commands(cli, "lanhai"):
        group = cli
        for part in parent.split()[1:]:
            sub = group.commands[part]
            assert isinstance(sub, click.Group)
            group = sub
        command = group.commands[name]
        if not any("--json" in p.opts for p in command.params):
            missing.append(f"{parent} {name}")
    assert missing == []
