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
    settings,
)
from lanhai.errors import Problem, UsageError, ValidationFailed
from lanhai.exports.common import spreadsheet_safe
from lanhai.sequence.loci import MAX_GAP
from lanhai.services.catalog import check_accession
from lanhai.services.maintenance import write_output
from lanhai.services.sequences import STEPS, Progress, SequenceService

#: columns of `lanhai annotations --genes` as TSV (the sequence is in --format fasta)
GENE_COLUMNS = ("protein_id", "contig", "start", "end", "strand", "partial_begin",
                "partial_end", "start_type", "rbs_motif", "rbs_spacer", "gc", "score",
                "translation_table")


def register(cli: click.Group) -> None:
    """Add the sequence commands to ``cli``."""
    for command in (ingest, annotate, annotations_):
        cli.add_command(command)


def _service(opened: Bank) -> SequenceService:
    return opened.sequences


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
@click.option("--set-aside-bad", is_flag=True,
              help="Store the valid records and list the ones with problems (id, line, "
                   "reason) instead of refusing the whole file.")
@json_option
@handles_errors
def ingest(accession: str, file: Path, kind: str, replace: bool, allow_stops: bool,
           set_aside_bad: bool, as_json: bool) -> None:
    """Validate FASTA or GenBank (plain or gzip) and store it as the sequences of an
    assembly record, with its statistics. A file with any problem stores nothing, unless
    --set-aside-bad: then records with problems of their own are left out and listed."""
    with bank() as opened, _progress(is_tty() and not as_json, "reading", "bytes") as bar:
        result = _service(opened).ingest(local_actor(), check_accession(accession), file,
                                         kind=kind, replace=replace, allow_stops=allow_stops,
                                         set_aside_bad=set_aside_bad, progress=bar)

    def text() -> None:
        summary = result["summary"]
        click.echo(f"{result['accession']}: {result['status']} {result['file']} "
                   f"({result['format']}{', gzip' if result['compressed'] else ''})")
        for name, value in summary.items():
            if value is not None:
                click.echo(f"  {name}: {value}")
        _echo_set_aside(result)

    emit(result, as_json, text)


def _echo_set_aside(result: dict[str, Any]) -> None:
    """The records an ingest left out, one per line."""
    count = result.get("set_aside_count", 0)
    if not count:
        return
    listed = result.get("set_aside", [])
    click.echo(f"  set aside: {count} record{'s' if count != 1 else ''} with problems "
               "(not stored)")
    for item in listed:
        click.echo(f"    {item['id']}\tline {item['line']}\t{item['reason']}")
    if count > len(listed):
        click.echo(f"    … and {count - len(listed)} more")


@click.command()
@click.argument("accessions", nargs=-1)
@click.option("--all-pending", is_flag=True,
              help="Every assembly with ingested sequences and a step still to do.")
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(0),
              help="Assemblies annotated at once, in separate processes (0 = all cores).")
@click.option("--threads", type=click.IntRange(1), default=None,
              help="pyrodigal/pyhmmer threads inside each assembly (default: cores / jobs; "
                   "1 on a cluster).")
@click.option("--scheduler", envvar="LANHAI_DASK_SCHEDULER", default="", metavar="ADDRESS",
              help="Run on the Dask cluster of this scheduler (tcp://host:8786), one task per "
                   "assembly [env: LANHAI_DASK_SCHEDULER]; --scheduler '' runs here.")
@click.option("--packs", default=None, metavar="A,B",
              help="Profile packs to search (default: every available pack; see "
                   "`lanhai profiles list`).")
@click.option("--steps", default=",".join(STEPS), show_default=True, metavar="S,T",
              help="Steps to run: genes (gene calling), families (hits, substrates, PULs), "
                   "clusters (biosynthetic gene clusters with GECCO).")
@click.option("--max-gap", default=MAX_GAP, show_default=True, type=click.IntRange(0),
              help="PULs: most non-signature genes allowed between two signature genes.")
@json_option
@handles_errors
def annotate(accessions: tuple[str, ...], all_pending: bool, jobs: int, threads: int | None,
             scheduler: str, packs: str | None, steps: str, max_gap: int,
             as_json: bool) -> None:
    """Annotate assemblies: genes (pyrodigal; single mode for isolates, metagenomic mode
    otherwise; proteomes keep their proteins), protein families against profile packs
    (pyhmmer) with substrate calls and polysaccharide utilisation loci, and biosynthetic
    gene clusters (GECCO). Resumable: finished assemblies and steps are not redone. On a
    Dask cluster (--scheduler) each assembly is one task on a worker."""
    if bool(accessions) == all_pending:
        raise UsageError("name the assemblies to annotate, or pass --all-pending (not both)")
    wanted = [check_accession(a) for a in accessions]
    names = [p.strip() for p in packs.split(",") if p.strip()] if packs is not None else None
    chosen = [s.strip() for s in steps.split(",") if s.strip()]
    with bank() as opened, _progress(is_tty() and not as_json, "annotating",
                                     "assemblies") as bar:
        service = _service(opened)
        report = service.annotate(local_actor(),
                                  service.stored_accessions() if all_pending else wanted,
                                  jobs=jobs, threads=threads, progress=bar, pack_names=names,
                                  steps=chosen, max_gap=max_gap, scheduler=scheduler,
                                  only_pending=all_pending)

    def text() -> None:
        for item in report["assemblies"]:
            counts = [f"{item[k]} {label}" for k, label in (
                ("gene_count", "genes"), ("hit_count", "hits"), ("loci_count", "PULs"),
                ("cluster_count", "BGCs")) if k in item]
            click.echo(f"{item['accession']}\t{item['status']}\t{', '.join(counts)}"
                       + (f"\t{item['error']}" if "error" in item else ""))
            for step, state in item["steps"].items():
                click.echo(f"  {step}: {state}")

    emit(report, as_json, text)
    if report["failed"]:
        # the report (with its "failed" list) is the JSON output; problems go to stderr
        report_error(ValidationFailed(
            f"annotation failed for {len(report['failed'])} assembly(ies); the others "
            "finished", [Problem(**p) for p in report["failed"]]), False)
        raise SystemExit(1)


WHATS = ("genes", "proteins", "stats", "families", "substrates", "plastics", "loci",
         "clusters", "hits")


@click.command("annotations")
@click.argument("accession")
@click.option("--genes", "what", flag_value="genes", help="The called genes.")
@click.option("--proteins", "what", flag_value="proteins",
              help="The proteins (called, or as given for a proteome).")
@click.option("--stats", "what", flag_value="stats",
              help="Assembly statistics and gene-calling summary.")
@click.option("--families", "what", flag_value="families",
              help="Protein families found: proteins and domains per family and pack.")
@click.option("--substrates", "what", flag_value="substrates",
              help="Marine polysaccharide substrates: CAZyme families and protein counts.")
@click.option("--plastics", "what", flag_value="plastics",
              help="Hits of plastic-degrading enzyme packs.")
@click.option("--loci", "what", flag_value="loci",
              help="Polysaccharide utilisation loci with their predicted substrate.")
@click.option("--clusters", "what", flag_value="clusters",
              help="Biosynthetic gene clusters (GECCO).")
@click.option("--hits", "what", flag_value="hits", help="Every domain hit (TSV or Parquet).")
@click.option("--format", "fmt",
              type=click.Choice(["tsv", "fasta", "gff3", "genbank", "parquet"]),
              default="tsv", show_default=True,
              help="fasta: protein or gene sequences; gff3: genes with their hits; genbank: "
                   "contigs with CDS, hits, PUL and BGC features; parquet: --hits only.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write to this file (atomically) instead of stdout.")
@json_option
@handles_errors
def annotations_(accession: str, what: str | None, fmt: str, output: Path | None,
                 as_json: bool) -> None:
    """Read an assembly's results: --genes, --proteins, --stats, --families, --substrates,
    --plastics, --loci, --clusters, --hits (text/TSV, FASTA, GFF3, GenBank, Parquet, JSON)."""
    if what is None:
        raise UsageError("say what to show: " + ", ".join(f"--{w}" for w in WHATS))
    allowed = {"genes": ("tsv", "fasta", "gff3", "genbank"), "proteins": ("tsv", "fasta"),
               "hits": ("tsv", "parquet")}.get(what, ("tsv",))
    if fmt not in allowed:
        raise UsageError(f"--{what} is written as {' or '.join(allowed)}"
                         + (", or --json" if not as_json else ""))
    if fmt == "parquet" and output is None:
        raise UsageError("Parquet is binary: give --output FILE")
    acc = check_accession(accession)
    with bank() as opened:
        service = _service(opened)
        actor = local_actor()
        if what == "hits" and output is not None and not as_json:
            count = service.write_hits(actor, acc, fmt, output)
            click.echo(f"wrote {count} hits to {output}", err=True)
        elif what == "stats":
            stats = service.stats(actor, acc)
            emit(stats, as_json, lambda: _show_stats(stats))
        elif what in ("families", "substrates", "plastics", "loci", "clusters"):
            _show_results(service, acc, what, as_json, output)
        elif as_json:
            _write(output, _json_chunks(service.rows(actor, acc, what)))
        elif fmt == "fasta":
            _write(output, service.fasta(actor, acc, what))
        elif fmt == "gff3":
            _write(output, service.annotated_gff3(actor, acc))
        elif fmt == "genbank":
            _write(output, service.genbank(actor, acc))
        elif what == "hits":
            _write(output, service.hit_tsv(actor, acc))
        else:
            _write(output, _tsv_lines(service, acc, what))


def _write(output: Path | None, chunks: Iterator[str]) -> None:
    """Stream text to stdout, or to ``output`` atomically (a temporary file renamed)."""
    if output is None:
        for chunk in chunks:
            click.echo(chunk, nl=False)
        return
    write_output(settings(), output, (chunk.encode("utf-8") for chunk in chunks),
                 "annotation results")


def _json_chunks(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    """A JSON array written row by row, so a metagenome's genes are never all in memory."""
    yield "["
    for number, row in enumerate(rows):
        yield ("," if number else "") + "\n  " + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"


RESULT_COLUMNS = {
    "families": ("pack", "pack_version", "category", "family", "family_accession", "proteins",
                 "domains", "best_evalue", "substrates", "description"),
    "plastics": ("protein_id", "pack", "pack_version", "family", "substrates", "evalue",
                 "score", "ali_from", "ali_to", "coverage"),
    "loci": ("locus_id", "contig", "start", "end", "first_protein", "last_protein",
             "gene_count", "cazyme_count", "sulfatase_count", "susc_susd_pairs", "substrate",
             "substrate_confidence", "substrate_evidence"),
    "clusters": ("cluster_id", "contig", "start", "end", "type", "average_probability",
                 "max_probability", "proteins", "domains"),
}


def _show_results(service: SequenceService, acc: str, what: str, as_json: bool,
                  output: Path | None) -> None:
    actor = local_actor()
    if what == "substrates":
        found = service.substrates(actor, acc)
        if as_json:
            _write(output, iter([json.dumps(found, indent=1, ensure_ascii=False) + "\n"]))
        else:
            text = found["lines"] or ["no CAZyme with a known substrate was found"]
            _write(output, iter(line + "\n" for line in text))
        return
    rows: list[dict[str, Any]] | Iterator[dict[str, Any]]
    if what == "families":
        rows = service.families(actor, acc)
    elif what == "plastics":
        rows = service.plastics(actor, acc)
    else:
        if what == "clusters":
            service.clusters_status(actor, acc)
        else:
            service.annotation_summary(actor, acc)
        rows = service.rows(actor, acc, what)
    if as_json:
        _write(output, _json_chunks(iter(rows)))
        return
    columns = RESULT_COLUMNS[what]

    def lines() -> Iterator[str]:
        yield "\t".join(columns) + "\n"
        for row in rows:
            yield "\t".join(_cell(row.get(c)) for c in columns) + "\n"

    _write(output, lines())


def _tsv_lines(service: SequenceService, accession: str, what: str) -> Iterator[str]:
    columns: tuple[str, ...] = GENE_COLUMNS if what == "genes" else ("id", "length",
                                                                     "description")
    yield "\t".join(columns) + "\n"
    for row in service.rows(local_actor(), accession, what):
        yield "\t".join(_cell(row[c]) for c in columns) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return spreadsheet_safe(";".join(str(v) for v in value))
    if isinstance(value, float):
        return f"{value:.6g}"
    return spreadsheet_safe(value)


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
    _echo_set_aside(stats)
