"""The catalogue backends a benchmark runs on: the embedded SQLite bank and PostgreSQL.

Every catalogue benchmark takes ``--database-url URL`` (one backend: the embedded SQLite
bank when it is empty, as before, or a PostgreSQL URL) or ``--backends sqlite,postgresql``
(both in the same run, then a side-by-side table of their figures, each with the load
average it was measured at). The PostgreSQL URL is ``--database-url`` when it names
PostgreSQL, else ``$LANHAI_BENCH_DATABASE_URL``, else :data:`DEFAULT_POSTGRESQL`.

On PostgreSQL each bank a benchmark builds is a database of its own on that server, named
after the URL's database and the bank (``lanhai_bench_text`` for the bank ``text`` of
``…/lanhai_bench``), created when missing; its schema, indexes and full-text setup come from
Lanhai's migrations (``init_bank``), as for any bank.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import make_url, text
from sqlalchemy.engine import URL

DEFAULT_POSTGRESQL = "postgresql+psycopg://lanhai:lanhai@127.0.0.1:5432/lanhai_bench"
NAMES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Backend:
    """One backend: ``url`` is empty for the embedded SQLite bank."""

    name: str
    url: str

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    def bank_url(self, bank: str, fresh: bool = False) -> str:
        """The database URL of the bank named ``bank`` ("" for SQLite: the bank's folder
        holds it); on PostgreSQL its database is created, or dropped and created if
        ``fresh``."""
        if self.is_sqlite:
            return ""
        url = make_url(self.url)
        name = f"{url.database}_{bank}"
        _ensure_database(url, name, fresh)
        return url.set(database=name).render_as_string(hide_password=False)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--database-url`` and ``--backends``."""
    parser.add_argument("--database-url", default="",
                        help="the catalogue to benchmark: empty for the embedded SQLite bank "
                             "(the default), or a postgresql+psycopg:// URL")
    parser.add_argument("--backends", default="",
                        help="run on several backends in this run and print them side by "
                             "side: sqlite,postgresql")


def chosen(args: argparse.Namespace) -> list[Backend]:
    """The backends ``--database-url`` / ``--backends`` ask for, in order."""
    url: str = args.database_url
    if url.startswith("sqlite"):
        raise SystemExit("--database-url: the SQLite bank is the benchmark's own; leave it "
                         "empty for SQLite")
    postgresql = url or os.environ.get("LANHAI_BENCH_DATABASE_URL", "") or DEFAULT_POSTGRESQL
    if args.backends:
        names = [n.strip() for n in args.backends.split(",") if n.strip()]
        unknown = [n for n in names if n not in NAMES]
        if unknown or not names:
            raise SystemExit(f"--backends: choose among {', '.join(NAMES)}")
    else:
        names = ["postgresql" if url else "sqlite"]
    return [Backend(n, "" if n == "sqlite" else postgresql) for n in dict.fromkeys(names)]


def _ensure_database(url: URL, name: str, fresh: bool) -> None:
    from sqlalchemy import create_engine

    # the server's maintenance database: the URL's own database may not exist yet
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            quoted = '"' + name.replace('"', '""') + '"'
            if fresh:
                conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name}).first()
            if found is None:
                conn.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        admin.dispose()


def database_megabytes(url: str) -> float:
    """The size of a PostgreSQL database on disk, MB."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
    finally:
        engine.dispose()
    return float(size or 0) / 1e6


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (``uptime``), as printed beside every figure."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


@dataclass(frozen=True)
class Figure:
    """One measured figure of one backend, with its target and the load it was taken at."""

    backend: str
    figure: str
    value: float
    unit: str
    target: float | None
    load: str

    @property
    def met(self) -> str:
        if self.target is None:
            return "-"
        return "met" if self.value < self.target else "NOT met"


def measure_each(args: argparse.Namespace,
                 measure: Callable[[Backend, argparse.Namespace], list[Figure]],
                 title: str) -> int:
    """Run ``measure`` on every chosen backend; with more than one, print them side by side."""
    backends = chosen(args)
    figures = [figure for backend in backends for figure in measure(backend, args)]
    if len(backends) > 1:
        side_by_side(title, figures)
    return 0


def side_by_side(title: str, figures: list[Figure]) -> None:
    """Print the figures as a table: one line per figure and backend."""
    print(f"\n{title}: side by side")
    head = (f"{'figure':50} {'backend':11} {'value':>12} {'target':>10} {'met?':>8} "
            f"{'load average':>16}")
    print(head)
    print("-" * len(head))
    order = {name: i for i, name in enumerate(dict.fromkeys(f.figure for f in figures))}
    for f in sorted(figures, key=lambda f: (order[f.figure], NAMES.index(f.backend))):
        target = "" if f.target is None else f"< {f.target:g} {f.unit}"
        value = f"{f.value:.2f}" if abs(f.value) < 10 else f"{f.value:,.1f}"
        print(f"{f.figure:50} {f.backend:11} {value:>9} {f.unit:2} {target:>10} "
              f"{f.met:>8} {f.load:>16}")
