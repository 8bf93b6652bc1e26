"""A server database keeps a connection open for each of the web server's reading threads."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.pool import QueuePool

from lanhai.bank import init_bank
from lanhai.db.engine import SERVER_POOL, make_engine
from lanhai.errors import UsageError
from lanhai.settings import Settings
from tests.conftest import PG_URL

URL = PG_URL or "postgresql+psycopg://lanhai:secret@127.0.0.1:5432/nowhere"


def test_a_server_database_keeps_connections_for_the_web_server_threads() -> None:
    engine = make_engine(URL)  # no connection is made until one is used
    try:
        pool = engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.size() == SERVER_POOL // 2 >= 16
        # every thread of the web server's pool (anyio's 40) can hold a connection at once
        assert pool.size() + pool._max_overflow == SERVER_POOL >= 40
    finally:
        engine.dispose()


def test_the_pool_follows_lanhai_database_pool(tmp_path: Path) -> None:
    """Several servers on one database stay under its max_connections with a smaller pool."""
    settings = Settings.from_env({"LANHAI_DATABASE_URL": URL, "LANHAI_DATABASE_POOL": "9"})
    assert settings.database_pool == 9
    engine = make_engine(URL, pool=settings.database_pool)
    try:
        assert engine.pool.size() == 4 and engine.pool._max_overflow == 5  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    for bad in ("0", "-3", "many"):
        with pytest.raises(UsageError, match="LANHAI_DATABASE_POOL="):
            Settings.from_env({"LANHAI_DATABASE_POOL": bad})
    if PG_URL:  # the bank a server opens uses it
        bank = init_bank(Settings(data_dir=tmp_path, database_url=PG_URL, database_pool=6))
        try:
            assert bank.db.engine.pool.size() == 3  # type: ignore[attr-defined]
        finally:
            bank.close()


def test_settings_given_win() -> None:
    engine = make_engine(URL, pool_size=3, max_overflow=0)
    try:
        assert engine.pool.size() == 3
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="LANHAI_TEST_DATABASE_URL is not set")
def test_connections_are_reused_under_concurrent_reads() -> None:
    """Twenty threads reading at once, again and again, open twenty connections once."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from sqlalchemy import event, text

    engine = make_engine(PG_URL)
    opened = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    barrier = Barrier(20)

    def read(_: int) -> int:
        with engine.connect() as conn:
            barrier.wait(10)  # all hold a connection at once
            return int(conn.execute(text("SELECT 1")).scalar_one())

    try:
        with ThreadPoolExecutor(20) as threads:
            for _ in range(3):
                barrier.reset()
                assert sum(threads.map(read, range(20))) == 20
        assert len(opened) == 20
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="LANHAI_TEST_DATABASE_URL is not set")
def test_a_connection_closed_while_idle_is_replaced_and_a_busy_one_is_not_checked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy server reads with one round trip (no check on a connection used a moment
    ago); a pooled connection the server closed while it sat idle (a restart, an idle
    timeout) is checked before reuse and replaced, and the read succeeds."""
    from sqlalchemy import text

    from lanhai.db import engine as engine_module

    engine = make_engine(PG_URL, pool_size=1, max_overflow=0)
    pings: list[int] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping",
                        lambda conn: pings.append(1) or real_ping(conn))
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        for _ in range(3):  # used a moment ago: not checked
            with engine.connect() as conn:
                assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == first
        assert pings == []
        # the server closes the pooled connection; it has been idle "long enough"
        other = make_engine(PG_URL, pool_size=1, max_overflow=0)
        try:
            with other.connect() as conn:
                assert conn.execute(text("SELECT pg_terminate_backend(:pid)"),
                                    {"pid": first}).scalar_one()
        finally:
            other.dispose()
        monkeypatch.setattr(engine_module, "IDLE_CHECK_SECONDS", 0.0)
        with engine.connect() as conn:
            second = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert second != first and len(pings) >= 1
    finally:
        engine.dispose()
