"""Shared fixtures. Store and API tests run on in-memory SQLite, and again on PostgreSQL
when LANHAI_TEST_DATABASE_URL is set (CI sets it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from lanhai.db.engine import make_engine, migrate
from lanhai.db.schema import metadata

DATA = Path(__file__).parent / "data"
PG_URL = os.environ.get("LANHAI_TEST_DATABASE_URL", "")

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)] if PG_URL \
    else ["sqlite"]


@pytest.fixture(scope="session")
def _pg_engine() -> Iterator[Engine]:
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty catalog on each backend."""
    if request.param == "sqlite":
        eng = make_engine("sqlite://")
        migrate(eng)
        yield eng
        # not disposed: its one shared connection may still be in use by a background job
        # a test started and did not wait for, and closing it under that thread crashes
        # sqlite3; it is closed when the last reference to the engine goes
        return
    yield _emptied(request.getfixturevalue("_pg_engine"))


def _emptied(pg: Engine) -> Engine:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with pg.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return pg


@pytest.fixture(params=BACKENDS)
def shared_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A catalog several connections use at once (concurrent writers): a SQLite file, or
    PostgreSQL. (The in-memory SQLite of :func:`engine` is one shared connection.)"""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'bank.sqlite'}")
        migrate(eng)
        yield eng
        eng.dispose()
        return
    yield _emptied(request.getfixturevalue("_pg_engine"))


@pytest.fixture
def sqlite_engine() -> Iterator[Engine]:
    """A migrated in-memory SQLite catalog (for tests about our own logic only)."""
    eng = make_engine("sqlite://")
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def bank_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bank made by `lanhai init` for commands run in the test (LANHAI_DATA_DIR)."""
    from lanhai.cli.main import main

    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path / "bank"))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    monkeypatch.setenv("LANHAI_USER", "miner-li")
    assert main(["init"]) == 0
    return tmp_path / "bank"


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A demo bank built once per run by `lanhai demo --no-serve --json` in an empty folder,
    and what the command printed. Tests copy the folder (``tests.support.copy_of_demo``)
    before they change anything, so each starts from the same first build."""
    import io
    import json
    from contextlib import redirect_stdout

    from lanhai.cli.main import main

    folder = tmp_path_factory.mktemp("built-demo") / "demo-data"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LANHAI_DATA_DIR", str(folder))
        env.delenv("LANHAI_DATABASE_URL", raising=False)
        env.setenv("LANHAI_USER", "demo-test")
        out = io.StringIO()
        with redirect_stdout(out):
            assert main(["demo", "--no-serve", "--json"]) == 0
    return folder, json.loads(out.getvalue())

