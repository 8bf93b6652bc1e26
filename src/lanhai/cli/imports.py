"""CLI command ``lanhai import KIND FILE``: bulk import with every problem reported."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from lanhai.cli.common import bank, emit, handles_errors, is_tty, json_option, local_actor
from lanhai.errors import UsageError
from lanhai.imports import MODES, ImportOptions, ImportReport
from lanhai.imports.mapping import apply_overrides, load_mapping, parse_pairs
from lanhai.kinds import kind_spec


def register(cli: click.Group) -> None:
    """Add ``import`` to ``cli``."""
    cli.add_command(import_)


@click.command("import")
@click.argument("kind")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--mapping", type=click.Path(path_type=Path, dir_okay=False),
              help="TOML mapping file (columns, templates, constants, units, date format).")
@click.option("--map", "maps", multiple=True, metavar="SOURCE=FIELD",
              help="Read column SOURCE as FIELD (repeatable); FIELD '-' ignores the column.")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
              help="Give FIELD the same VALUE on every row (repeatable).")
@click.option("--unit", "units", multiple=True, metavar="FIELD=UNIT",
              help="Unit of bare numbers in FIELD, e.g. --unit depth=ft (repeatable).")
@click.option("--date-format", metavar="FMT",
              help="strftime layout of non-ISO dates, e.g. %d-%m-%Y (never guessed).")
@click.option("--encoding", metavar="ENC", help="Text encoding (default UTF-8), e.g. latin-1.")
@click.option("--delimiter", metavar="CHAR",
              help="Cell separator of a text table (default: from .csv/.tsv, else sniffed).")
@click.option("--sheet", metavar="NAME", help="XLSX sheet to read (default: the first).")
@click.option("--mode", metavar="|".join(MODES),
              help="upsert (default): create new records and update matched ones; create: "
                   "new records only; update: change only the given columns of existing "
                   "records.")
@click.option("--dry-run", is_flag=True, help="Check everything and count; write nothing.")
@click.option("--note", help="Note stored with every version the import writes.")
@json_option
@handles_errors
def import_(kind: str, file: Path, mapping: Path | None, maps: tuple[str, ...],
            sets: tuple[str, ...], units: tuple[str, ...], date_format: str | None,
            encoding: str | None, delimiter: str | None, sheet: str | None, mode: str | None,
            dry_run: bool, note: str | None, as_json: bool) -> None:
    """Import a CSV, TSV or XLSX table (plain or .gz) as records of KIND.

    Every row is checked and every problem reported (row, column, value, reason, fix);
    all rows are written or none. Rows matching existing records by an external identifier
    (BioSample, collection number …) update them, so importing a file again changes nothing.

    Exit codes: 0 imported (or a clean dry run), 1 the file has problems, 2 usage error.
    """
    options = build_options(kind, mapping, maps, sets, units, date_format=date_format,
                            encoding=encoding, delimiter=delimiter, sheet=sheet, mode=mode,
                            dry_run=dry_run or None, note=note)
    if not file.exists():
        raise UsageError(f"no file {str(file)!r}")
    with bank() as opened, _progress(enabled=is_tty() and not as_json) as progress:
        report = opened.imports.run(local_actor(), file, options, progress)
    emit(report.to_dict(), as_json, lambda: _show(report))
    if report.problems or report.problems_omitted:
        sys.exit(1)


def build_options(kind: str, mapping: Path | None, maps: tuple[str, ...], sets: tuple[str, ...],
                  units: tuple[str, ...], **scalars: object) -> ImportOptions:
    """Options from the mapping file (if any) with the command line on top."""
    base = load_mapping(mapping, kind) if mapping else ImportOptions(kind=kind_spec(kind).name)
    return apply_overrides(base, columns=parse_pairs(maps, "--map", split_last=True),
                           constants=parse_pairs(sets, "--set"),
                           units=parse_pairs(units, "--unit"), **scalars)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A rows-done counter on stderr (only on a terminal)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("importing: {task.completed:,.0f} rows"),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("import", total=None)
        yield lambda rows: bar.update(task, completed=rows)


def _show(report: ImportReport) -> None:
    count = len(report.problems) + report.problems_omitted
    counts = (f"{report.created:,} created, {report.updated:,} updated, "
              f"{report.unchanged:,} unchanged")
    rows = f"{report.rows:,} row{'s' if report.rows != 1 else ''}"
    if report.committed:
        click.echo(f"imported {report.file}: {rows}: {counts}")
    elif not count:
        click.echo(f"dry run of {report.file}: {rows} are valid and would give {counts}; "
                   "nothing was written")
    else:
        click.echo(f"{report.file}: {count:,} problem{'s' if count != 1 else ''} in {rows}; "
                   "nothing was written")
    if report.ignored_columns:
        click.echo("ignored columns (not imported): "
                   + ", ".join(repr(c) for c in report.ignored_columns), err=True)
    for problem in report.problems:
        click.echo(problem.describe(), err=True)
    if report.problems_omitted:
        click.echo(f"… and {report.problems_omitted:,} more problems not listed", err=True)
