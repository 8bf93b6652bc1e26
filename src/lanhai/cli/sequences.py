"""CLI commands for sequences: ingest, annotate, annotations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from lanhai.bank import Bank
from lanhai.cli.common import (
    bank,
    emit,
    handles_errors,
    is_tty,
    json_option,
    local_actor,
    report_error,
)
from lanhai.errors import Problem, UsageError, ValidationFailed
from lanhai.services.catalog import check_accession
from lanhai.services.sequences import Progress, SequenceService

#: columns of `lanhai annotations --genes` as TSV (the sequence is in --format fasta)
GENE_COLUMNS = ("protein_id", "contig", "start", "end", "strand", "partial_begin",
                "partial_end", "start_type", "rbs_motif", "rbs_spacer", "gc", "score",
                "translation_table")


def register(cli: click.Group) -> None:
    """Add the sequence commands to ``cli``."""
    for command in (ingest, annotate, annotations_):
        cli.add_command(command)


def _service(opened: Bank) -> SequenceService:
    return SequenceService(opened.engine, opened.settings.data_dir)


@contextmanager
def _progress(enabled: bool, label: str, unit: str) -> Iterator[Progress]:
    """A progress bar on stderr when it is a terminal; otherwise a no-op callback."""
    if not enabled:
        yield lambda done, total, what: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(f"{label} {{task.description}}"), BarColumn(),
                  TextColumn(f"{{task.completed:,.0f}}/{{task.total:,.0f}} {unit}"),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("", total=None)
        yield lambda done, total, what: bar.update(task, completed=done, total=total,
                                                   description=what)


@click.command()
@click.argument("accession")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(["genome", "proteome"]), default="genome",
              show_default=True, help="genome: nucleotide contigs; proteome: protein FASTA "
                                      "(gene calling is then skipped).")
@click.option("--replace", is_flag=True,
              help="Replace sequences already stored (their annotation is dropped).")
@click.option("--allow-stops", is_flag=True,
              help="Accept internal '*' (stops) in proteins instead of reporting them.")
@json_option
@handles_errors
def ingest(accession: str, file: Path, kind: str, replace: bool, allow_stops: bool,
           as_json: bool) -> None:
    """Validate FASTA or GenBank (plain or gzip) and store it as the sequences of an
    assembly record, with its statistics. A file with any problem stores nothing."""
    with bank() as opened, _progress(is_tty() and not as_json, "reading", "bytes") as bar:
        result = _service(opened).ingest(local_actor(), check_accession(accession), file,
                                         kind=kind, replace=replace, allow_stops=allow_stops,
                                         progress=bar)

    def text() -> None:
        summary = result["summary"]
        click.echo(f"{result['accession']}: {result['status']} {result['file']} "
                   f"({result['format']}{', gzip' if result['compressed'] else ''})")
        for name, value in summary.items():
            if value is not None:
                click.echo(f"  {name}: {value}")

    emit(result, as_json, text)


@click.command()
@click.argument("accessions", nargs=-1, required=True)
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(0),
              help="Assemblies annotated at once, in separate processes (0 = all cores).")
@click.option("--threads", type=click.IntRange(1), default=None,
              help="Gene-finder threads inside each assembly (default: cores / jobs).")
@json_option
@handles_errors
def annotate(accessions: tuple[str, ...], jobs: int, threads: int | None,
             as_json: bool) -> None:
    """Call genes with pyrodigal: single mode trained on the genome for isolate genomes,
    metagenomic mode for MAGs, SAGs and metagenomes; proteomes are skipped. Resumable:
    finished assemblies are not redone."""
    wanted = [check_accession(a) for a in accessions]
    with bank() as opened, _progress(is_tty() and not as_json, "annotating",
                                     "assemblies") as bar:
        report = _service(opened).annotate(local_actor(), wanted, jobs=jobs,
                                           threads=threads, progress=bar)

    def text() -> None:
        for item in report["assemblies"]:
            counts = (f"{item['gene_count']} genes ({item['mode']} mode)"
                      if "gene_count" in item else item.get("reason", item.get("error", "")))
            click.echo(f"{item['accession']}\t{item['status']}\t{counts}")

    emit(report, as_json, text)
    if report["failed"]:
        # the report (with its "failed" list) is the JSON output; problems go to stderr
        report_error(ValidationFailed(
            f"gene calling failed for {len(report['failed'])} assembly(ies); the others "
            "finished", [Problem(**p) for p in report["failed"]]), False)
        raise SystemExit(1)


@click.command("annotations")
@click.argument("accession")
@click.option("--genes", "what", flag_value="genes", help="The called genes.")
@click.option("--proteins", "what", flag_value="proteins",
              help="The proteins (called, or as given for a proteome).")
@click.option("--stats", "what", flag_value="stats",
              help="Assembly statistics and gene-calling summary.")
@click.option("--format", "fmt", type=click.Choice(["tsv", "fasta", "gff3"]), default="tsv",
              show_default=True, help="fasta: protein or gene sequences; gff3: genes.")
@json_option
@handles_errors
def annotations_(accession: str, what: str | None, fmt: str, as_json: bool) -> None:
    """Read an assembly's results: --genes, --proteins or --stats (TSV, FASTA, GFF3, JSON)."""
    if what is None:
        raise UsageError("say what to show: --genes, --proteins or --stats")
    if what == "stats" and fmt != "tsv":
        raise UsageError("--stats is shown as text or --json, not --format")
    if fmt == "gff3" and what != "genes":
        raise UsageError("GFF3 describes gene coordinates: use --genes --format gff3")
    acc = check_accession(accession)
    with bank() as opened:
        service = _service(opened)
        if what == "stats":
            stats = service.stats(local_actor(), acc)
            emit(stats, as_json, lambda: _show_stats(stats))
        elif as_json:
            _json_rows(service, acc, what)
        elif fmt == "fasta":
            for chunk in service.fasta(local_actor(), acc, what):
                click.echo(chunk, nl=False)
        elif fmt == "gff3":
            for line in service.gff3(local_actor(), acc):
                click.echo(line, nl=False)
        else:
            _tsv(service, acc, what)


def _json_rows(service: SequenceService, accession: str, what: str) -> None:
    """A JSON array written row by row, so a metagenome's genes are never all in memory."""
    rows = service.rows(local_actor(), accession, what)
    click.echo("[", nl=False)
    for number, row in enumerate(rows):
        click.echo(("," if number else "") + "\n  " + json.dumps(row, ensure_ascii=False),
                   nl=False)
    click.echo("\n]")


def _tsv(service: SequenceService, accession: str, what: str) -> None:
    columns: tuple[str, ...] = GENE_COLUMNS if what == "genes" else ("id", "length",
                                                                     "description")
    click.echo("\t".join(columns))
    for row in service.rows(local_actor(), accession, what):
        click.echo("\t".join(_cell(row[c]) for c in columns))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _show_stats(stats: dict[str, Any]) -> None:
    click.echo(f"{stats['accession']}  {stats['name']}  [{stats.get('assembly_type')}]")
    click.echo(f"  file: {stats['file']} ({stats['kind']}, {stats['format']}, sha256 "
               f"{stats['sha256'][:12]}…)")
    for name, value in stats["summary"].items():
        if value is not None:
            click.echo(f"  {name}: {value}")
    genes = stats.get("genes")
    if genes:
        click.echo(f"  genes: {genes['gene_count']} ({genes['reason']}; {genes['tool']})")
    elif stats["kind"] == "genome":
        click.echo(f"  genes: not called yet (run `lanhai annotate {stats['accession']}`)")
