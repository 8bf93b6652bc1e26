"""What every command shares: options, the bank, the acting user, output and exit codes.

Exit codes: 0 ok, 1 bad data (validation, not found, conflict), 2 usage.
Data goes to stdout (JSON with --json), logs and errors to stderr.
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from lanhai.bank import Bank, open_bank
from lanhai.errors import LanhaiError
from lanhai.services.access import Actor
from lanhai.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    """Add --json to a command."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print machine-readable JSON to stdout.")(func)


def settings() -> Settings:
    return Settings.from_env()


@contextmanager
def bank() -> Iterator[Bank]:
    """The bank named by LANHAI_DATA_DIR / LANHAI_DATABASE_URL."""
    opened = open_bank(settings())
    try:
        yield opened
    finally:
        opened.close()


def local_actor() -> Actor:
    """Commands on the bank's own machine act as an admin; the name goes in the audit trail.

    The name is LANHAI_USER, else the operating-system user.
    """
    name = os.environ.get("LANHAI_USER") or _os_user()
    return Actor(name, "admin", local=True)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in containers without /etc/passwd entries
        return "local"


def emit(data: Any, as_json: bool, text: Callable[[], None] | str | None = None) -> None:
    """Print ``data`` as JSON, or the human form (a string, or a function that prints)."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    elif callable(text):
        text()
    elif text is not None:
        click.echo(text)
    else:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def report_error(err: LanhaiError, as_json: bool) -> None:
    """Errors go to stderr; with --json the envelope also goes to stdout."""
    if as_json:
        click.echo(json.dumps({"error": err.to_dict()}, ensure_ascii=False, indent=2))
    click.secho(f"error: {err.message}", fg="red", err=True)
    for problem in err.problems[:200]:
        click.echo(f"  - {problem.describe()}", err=True)
    if len(err.problems) > 200:
        click.echo(f"  … and {len(err.problems) - 200} more (use --json for all)", err=True)


def handles_errors(func: F) -> F:
    """Turn service errors into a message and exit code 1 (data) or 2 (usage)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LanhaiError as err:
            report_error(err, bool(kwargs.get("as_json")))
            raise SystemExit(err.exit_code) from None

    return wrapper  # type: ignore[return-value]


def echo_err(message: str) -> None:
    click.echo(message, err=True)


def is_tty() -> bool:
    return sys.stderr.isatty()


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a partial file beside it, renamed when whole, so
    a reader never sees half a file."""
    partial = path.with_name(f".{path.name}.part")
    partial.write_bytes(data)
    partial.replace(path)


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar on stderr (``enabled``: it is a terminal and the output is text),
    called as (done, total, what); otherwise a callback that does nothing."""
    if not enabled:
        yield lambda done, total, what: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(f"{label} {{task.description}}"), BarColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("", total=None)
        yield lambda done, total, what: bar.update(task, completed=done, total=total or None,
                                                   description=what)
