"""One-record reads on a server database: a few threads at once, and no transaction of their
own (no ROLLBACK round trip when the connection goes back to the pool)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import anyio
from sqlalchemy import Engine, text

from lanhai.api import records as api_records
from lanhai.store.database import Database


def test_server_reads_run_a_few_threads_at_once() -> None:
    bank: Any = SimpleNamespace(catalog=SimpleNamespace(embedded=False))
    running, most = 0, 0
    lock = threading.Lock()

    def read(number: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return number

    async def main() -> list[int]:
        done: list[int] = []

        async def one(number: int) -> None:
            done.append(await api_records._read(bank, read, number))

        async with anyio.create_task_group() as group:
            for number in range(24):
                group.start_soon(one, number)
        return done

    assert sorted(anyio.run(main)) == list(range(24))
    assert most == api_records.SERVER_READ_THREADS


def test_embedded_reads_run_inline() -> None:
    bank: Any = SimpleNamespace(catalog=SimpleNamespace(embedded=True))

    async def main() -> int:
        return await api_records._read(bank, threading.get_ident)

    assert anyio.run(main) == threading.get_ident()


def test_a_read_has_no_transaction_of_its_own_on_a_server(engine: Engine) -> None:
    db = Database(str(engine.url), engine)
    with db.read() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
        driver: Any = conn.connection.driver_connection
        if engine.dialect.name == "postgresql":
            assert driver.autocommit is True
            # no transaction is open on the server while reading
            assert driver.info.transaction_status.name == "IDLE"
    with db.write() as conn:  # the same pooled connection writes in a transaction again
        driver = conn.connection.driver_connection
        if engine.dialect.name == "postgresql":
            assert driver.autocommit is False
        conn.execute(text("SELECT 1"))
