"""Engine factory and migrations; nothing connects at import time."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, StaticPool

MIGRATIONS = Path(__file__).with_name("migrations")


#: execution option of a connection whose transaction will write (SQLite: BEGIN IMMEDIATE)
WRITE_OPTION = "lanhai_write"
#: most connections one process opens to a server database (the size of the web server's
#: thread pool), half of them kept open (LANHAI_DATABASE_POOL)
SERVER_POOL = 40
#: a pooled server connection unused for longer than this is checked with one round trip
#: before it is handed out (a server restart or an idle timeout may have closed it); one
#: used more recently is trusted, so a busy server reads with one round trip, not two
IDLE_CHECK_SECONDS = 10.0
#: where a pooled connection's last return time is kept (its pool record's ``info``)
_RETURNED_AT = "lanhai_returned_at"


def make_engine(url: str, *, pool: int = SERVER_POOL, **kwargs: Any) -> Engine:
    """Create the catalog engine; SQLite gets WAL, foreign keys and a busy timeout; a server
    database at most ``pool`` connections, half of them kept open."""
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs.setdefault("poolclass", StaticPool)
        else:
            path = Path(url.split("///", 1)[1])
            path.parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # the driver's own transaction handling would start a transaction only at the
            # first write, after the reads that decided it: transactions are begun below
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # a write takes the database's write lock before its first read, so what it read
            # cannot change before it writes (waiting up to the busy timeout for the lock)
            if conn.connection.dbapi_connection.in_transaction:
                return  # an in-memory database shares one connection: already begun
            write = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    # a server database is read from the web server's thread pool (40 threads): connections
    # kept open for every thread that commonly reads at once, and room for all of them;
    # with the default 5 kept, each read beyond 5 at once opened and closed a connection of
    # its own (a server process each time: ~20x the p99 of a lookup under load)
    kwargs.setdefault("pool_size", max(1, pool // 2))
    kwargs.setdefault("max_overflow", max(0, pool - max(1, pool // 2)))
    engine = create_engine(url, **kwargs)
    _check_idle_connections(engine)
    return engine


def _check_idle_connections(engine: Engine) -> None:
    """Check a pooled connection before reuse when it sat idle for more than
    :data:`IDLE_CHECK_SECONDS` (SQLAlchemy's ``pool_pre_ping`` checks every checkout: a
    second round trip on every read). A closed one is replaced (SQLAlchemy retries the
    checkout with a new connection)."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_conn: Any, record: ConnectionPoolEntry,
               _proxy: PoolProxiedConnection) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned <= IDLE_CHECK_SECONDS:
            return  # new, or in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as err:
            raise DisconnectionError(f"a pooled connection was closed: {err}") from err
        if not alive:
            raise DisconnectionError("a pooled connection was closed")


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the catalog schema to ``revision`` with Alembic (SQLite and PostgreSQL)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn, conn.execution_options(**{WRITE_OPTION: True}).begin():
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the catalog is at (None before `lanhai init`)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The schema revision this version of Lanhai needs (the newest migration)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head
