"""The catalog database: the one object that opens connections and transactions.

Services hold a :class:`Database` and pass the connection it gives them (:data:`Conn`) to the
store's functions; they never build SQL themselves. ``read()`` is a connection without a
transaction of its own to commit; ``write()`` is one transaction, committed when the block
ends and rolled back if it raises, so a use case is all or nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from lanhai.db.engine import (
    SERVER_POOL,
    WRITE_OPTION,
    current_revision,
    head_revision,
    make_engine,
    migrate,
)
from lanhai.errors import Busy, ConcurrentChange, NoSpace
from lanhai.settings import safe_url

#: a connection the store's functions take (services pass it, never look inside)
Conn = Connection
#: SQLite's codes for a write that found no room: SQLITE_FULL, and SQLITE_IOERR or
#: SQLITE_IOERR_WRITE (what a write past a quota or the file-size limit gives, in a write
#: transaction); PostgreSQL's disk_full
_NO_SPACE_SQLITE = frozenset({13, 10, 778})
_NO_SPACE_SQLSTATE = "53100"


def _no_space(error: BaseException | None) -> bool:
    """Whether a driver error says the database could not grow."""
    if getattr(error, "sqlite_errorcode", None) in _NO_SPACE_SQLITE:
        return True
    return getattr(error, "sqlstate", None) == _NO_SPACE_SQLSTATE


class Transaction:
    """An open transaction: ``conn`` for the store's functions, then commit or roll back."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self._trans = conn.begin()

    def commit(self) -> None:
        if self._trans.is_active:
            self._trans.commit()

    def rollback(self) -> None:
        if self._trans.is_active:
            self._trans.rollback()


class Database:
    """The catalog at one SQLAlchemy URL (SQLite or PostgreSQL)."""

    def __init__(self, url: str, engine: Engine | None = None, *,
                 pool: int = SERVER_POOL) -> None:
        self.url = url
        self.engine = engine or make_engine(url, pool=pool)
        #: :meth:`exclusive` on an in-memory database (nobody else opens it), by name
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return str(self.engine.dialect.name)

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        return safe_url(self.url)

    @property
    def where(self) -> str:
        """The catalogue in messages: its file for SQLite, its URL otherwise."""
        database = self.engine.url.database
        if self.dialect == "sqlite" and database and database != ":memory:":
            return f"the catalogue database {database}"
        return f"the catalogue database ({self.safe_url})"

    @contextmanager
    def read(self) -> Iterator[Conn]:
        """A connection for reading. On a server database its statements run without a
        transaction of their own (each sees what was committed when it starts, as in the
        server's default READ COMMITTED transaction), so returning it to the pool costs no
        ROLLBACK round trip."""
        with self.engine.connect() as conn:
            if self.dialect != "sqlite":
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    @contextmanager
    def write(self) -> Iterator[Conn]:
        """One transaction: committed at the end of the block, rolled back on an error."""
        with self.transaction() as tx:
            yield tx.conn
            tx.commit()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A transaction the caller commits (rolled back otherwise). Clashes with another
        writer become :class:`~lanhai.errors.ConcurrentChange` (a unique value taken
        meanwhile) or :class:`~lanhai.errors.Busy` (the database stayed locked)."""
        conn = self.engine.connect().execution_options(**{WRITE_OPTION: True})
        tx = Transaction(conn)
        try:
            yield tx
        except IntegrityError as err:
            tx.rollback()
            raise ConcurrentChange(
                "another change to the bank wrote the same identifier while this one ran "
                f"({str(err.orig)[:150]}); nothing was written: try again") from None
        except OperationalError as err:
            with contextlib.suppress(Exception):  # a failed write may have ended it already
                tx.rollback()
            if "locked" in str(err.orig).lower() or "deadlock" in str(err.orig).lower():
                raise Busy("the bank is busy with another write; nothing was written: try "
                           "again in a moment") from None
            if _no_space(err.orig):
                raise NoSpace(self.where) from None
            raise
        finally:
            with contextlib.suppress(Exception):
                tx.rollback()
            conn.close()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold the bank-wide lock ``name`` for the block: one holder at a time among every
        process on this database (the servers' processes, commands), waiting for it. On
        PostgreSQL an advisory lock; on SQLite a lock file beside the database (processes
        on one machine, as SQLite's are); an in-memory database is this object's alone."""
        if self.dialect != "sqlite":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big",
                                 signed=True)
            with self.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            return
        database = self.engine.url.database
        if not database or database == ":memory:":
            with self._locks_lock:
                lock = self._locks.setdefault(name, threading.Lock())
            with lock:
                yield
            return
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        with open(Path(f"{database}.{slug}.lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def connect(self) -> Conn:
        """A connection the caller closes (a long import manages its own transaction)."""
        return self.engine.connect()

    def migrate(self) -> None:
        """Create or upgrade the schema (Alembic, SQLite and PostgreSQL)."""
        migrate(self.engine)

    def revision(self) -> str | None:
        """The schema revision the catalog is at (None before `lanhai init`)."""
        return current_revision(self.engine)

    @staticmethod
    def head_revision() -> str:
        """The schema revision this version of Lanhai needs."""
        return head_revision()

    def dispose(self) -> None:
        self.engine.dispose()
