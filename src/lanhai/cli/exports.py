"""CLI command: ``lanhai export KIND --format …`` (CSV, TSV, JSON, DwC-A, MCPD, SBOL3)."""

from __future__ import annotations

import codecs
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, cast

import click

from lanhai.cli.common import bank, echo_err, emit, handles_errors, is_tty, json_option, local_actor
from lanhai.errors import UsageError
from lanhai.exports import (
    FORMATS,
    DatasetInfo,
    ExportSummary,
    Progress,
    formats_by_kind,
    get_format,
)
from lanhai.exports.dwca import LICENSES
from lanhai.exports.sbol import RDF_FORMATS
from lanhai.kinds import PLURALS, kind_spec
from lanhai.services.access import Actor


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(export)


@click.command(epilog=f"Formats by kind: {formats_by_kind()}.")
@click.argument("kind")
@click.option("--format", "-f", "fmt", required=True, metavar="FORMAT",
              help="One of: " + ", ".join(FORMATS) + ". dwca (Darwin Core Archive for GBIF) "
                   "never includes restricted records.")
@click.option("--where", "-w", multiple=True, metavar="EXPR",
              help="Filter FIELD OP VALUE (OP: = != > >= < <= ~), repeatable: "
                   "--where depth_m>1000 --where taxon~Zobellia.")
@click.option("-q", "--query", default=None, help="Full-text search over names and identifiers.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (atomically); stdout when omitted (dwca needs a file).")
@click.option("--public", is_flag=True,
              help="Export only what a reader may see (no restricted records, no deposits).")
@click.option("--rdf-format", default="turtle", show_default=True,
              type=click.Choice(list(RDF_FORMATS)), help="SBOL3 serialisation.")
@click.option("--title", default="", help="DwC-A dataset title (eml.xml).")
@click.option("--creator", default="", help="DwC-A creator and contact organisation (eml.xml).")
@click.option("--contact-email", default="", help="DwC-A contact e-mail (eml.xml).")
@click.option("--license", "license_", default="CC-BY-4.0", show_default=True,
              type=click.Choice(list(LICENSES)), help="DwC-A licence (eml.xml).")
@json_option
@handles_errors
def export(kind: str, fmt: str, where: tuple[str, ...], query: str | None,
           output: Path | None, public: bool, rdf_format: str, title: str, creator: str,
           contact_email: str, license_: str, as_json: bool) -> None:
    """Export the records of KIND as csv, tsv, json, dwca, mcpd or sbol3.

    Restricted records and patent deposits are included only for curators and admins (the
    local user is an admin; --public exports what a reader sees). A Darwin Core Archive
    (dwca) is bound for GBIF and never includes a restricted record. The file is written
    to a temporary name beside -o and renamed when complete, so an interrupted export
    leaves no half file. With --json, a summary {kind, format, records, file} goes to
    stdout (to stderr when the data itself goes to stdout).
    """
    spec = kind_spec(kind)
    chosen = get_format(fmt, spec.name)
    if chosen.binary and output is None:
        raise UsageError(f"{chosen.name} writes a zip archive; give -o FILE, e.g. "
                         f"-o {PLURALS[spec.name]}.{chosen.extension}")
    local = local_actor()
    actor = Actor(local.username, "reader") if public else local
    with bank() as opened:
        options = replace(
            opened.exports.options, rdf_format=rdf_format,
            dataset=DatasetInfo(title=title, creator=creator or DatasetInfo().creator,
                                contact_email=contact_email, license=license_))
        with _progress(output is not None and not as_json) as progress:
            if output is None:
                sys.stdout.flush()
                out = _binary_stdout()
                summary = opened.exports.write(actor, spec.name, chosen.name, out, where,
                                               query, options=options, progress=progress)
            else:
                summary = opened.exports.write(actor, spec.name, chosen.name, output, where,
                                               query, options=options, progress=progress)
    _report(summary, as_json, to_stdout=output is not None)


class _Utf8Text(io.RawIOBase):
    """Bytes written to a text-only stream (stdout replaced by a StringIO)."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8")()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.stream.write(self.decoder.decode(bytes(data)))
        return len(data)

    def flush(self) -> None:
        self.stream.flush()


def _binary_stdout() -> IO[bytes]:
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        return cast(IO[bytes], buffer)
    return cast(IO[bytes], _Utf8Text(sys.stdout))


def _report(summary: ExportSummary, as_json: bool, to_stdout: bool) -> None:
    noun = PLURALS[summary.kind] if summary.records != 1 else summary.kind
    where = summary.file or "stdout"
    message = f"exported {summary.records} {noun} as {summary.format} to {where}"
    if to_stdout:
        emit(summary.to_dict(), as_json, lambda: echo_err(message))
    elif as_json:
        import json

        echo_err(json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        echo_err(message)


@contextmanager
def _progress(show: bool) -> Iterator[Progress | None]:
    """A record counter on stderr when it is a terminal; library code only calls back."""
    if not (show and is_tty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress as Bar
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    with Bar(SpinnerColumn(), TextColumn("{task.completed} records"), TimeElapsedColumn(),
             console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("export", total=None)
        yield lambda done: bar.update(task, completed=done)
