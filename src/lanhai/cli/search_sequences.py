"""`lanhai search seq` and `lanhai search index`: similarity search and its MMseqs2 index."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from lanhai.cli.common import bank, emit, handles_errors, json_option, local_actor
from lanhai.errors import UsageError
from lanhai.exports.common import spreadsheet_safe
from lanhai.services.sequence_search import DBS, as_rows


def add_commands(group: click.Group) -> None:
    """Add this module's commands to the `lanhai search` group."""
    group.add_command(seq)
    group.add_command(index)


def _read(path: str) -> tuple[bytes, str]:
    if path == "-":
        return sys.stdin.buffer.read(), "stdin"
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{path}: no such file (give a FASTA file, or '-' for stdin)")
    return file.read_bytes(), file.name


@click.command("seq")
@click.argument("query")
@click.option("--db", type=click.Choice(DBS), default="proteins", show_default=True,
              help="Search every stored protein (query: protein FASTA) or every contig "
                   "(query: nucleotide FASTA).")
@click.option("--evalue", type=float, default=1e-3, show_default=True,
              help="Report hits with an e-value (over the whole bank) at most this.")
@click.option("--min-identity", type=float, default=0.0, show_default=True,
              help="Report hits with at least this identity (fraction, 0-1).")
@click.option("--max-hits", type=int, default=10, show_default=True,
              help="Hits per query sequence.")
@click.option("--sensitive", is_flag=True,
              help="For remote homologs: every pair through the ungapped prefilter (up to "
                   "50 M pairs per segment), else iterative profile search.")
@click.option("--format", "fmt", type=click.Choice(["text", "tsv"]), default="text",
              show_default=True, help="tsv: one hit a line with its lineage columns.")
@click.option("--no-update", is_flag=True,
              help="Search the index as it is, without first indexing new assemblies.")
@click.option("--jobs", type=int, default=0, show_default=True,
              help="Threads for MMseqs2 (0 = all cores).")
@json_option
@handles_errors
def seq(query: str, db: str, evalue: float, min_identity: float, max_hits: int,
        sensitive: bool, fmt: str, no_update: bool, jobs: int, as_json: bool) -> None:
    """Find proteins (or contigs) similar to the sequences in QUERY (FASTA; '-' = stdin),
    with each hit's assembly, strain, sample and access terms."""
    data, name = _read(query)
    with bank() as opened:
        service = opened.sequence_search.with_jobs(jobs)
        if not no_update:
            service.update_index(dbs=[db])
        result = service.search(local_actor(), data, db=db, evalue=evalue,
                                min_identity=min_identity, max_hits=max_hits,
                                sensitive=sensitive, name=name)
    if fmt == "tsv" and not as_json:
        _tsv(as_rows(result))
        return
    emit(result, as_json, lambda: _text(result))


def _tsv(rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0]) if rows else ["query", "target", "assembly", "evalue", "bits",
                                          "identity"]
    click.echo("\t".join(columns))
    for row in rows:
        click.echo("\t".join(_cell(row.get(c)) for c in columns))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return spreadsheet_safe(value)


def _text(result: dict[str, Any]) -> None:
    info = result["index"]
    click.echo(f"{len(result['hits'])} hits for {len(result['queries'])} queries "
               f"({result['mode']} mode) in {info['sequences']:,} {result['db']} "
               f"({info['segments']} segments)", err=True)
    if info.get("pending"):
        click.echo(f"note: {info['pending']} assemblies are not indexed yet; run "
                   "`lanhai search index`", err=True)
    for row in as_rows(result):
        where = " ".join(x for x in (row["taxon"], row["sample"], row["lat_lon"] and
                                     f"@{row['lat_lon']}", row["depth_m"] and
                                     f"{row['depth_m']} m") if x)
        click.echo(f"{row['query']}\t{row['target']}\t{row['assembly']}\t"
                   f"{row['identity']:.3f}\t{row['evalue']:.2e}\t{row['bits']:.1f}\t{where}")


@click.command("index")
@click.option("--db", type=click.Choice([*DBS, "all"]), default="all", show_default=True,
              help="Which index.")
@click.option("--rebuild", is_flag=True, help="Index every stored assembly again, in one "
                                              "segment (the incremental update never needs it).")
@click.option("--compact", is_flag=True,
              help="Merge small segments and drop masked (removed or replaced) assemblies.")
@click.option("--status", "status_only", is_flag=True,
              help="Only report the index and what an update would do.")
@click.option("--warm", is_flag=True,
              help="Load the index into the page cache for fast interactive searches.")
@click.option("--jobs", type=int, default=0, show_default=True,
              help="Threads for MMseqs2 (0 = all cores).")
@json_option
@handles_errors
def index(db: str, rebuild: bool, compact: bool, status_only: bool, warm: bool, jobs: int,
          as_json: bool) -> None:
    """Bring the sequence index up to date with the stored assemblies (incrementally: new
    assemblies go into a new segment, removed or replaced ones are masked)."""
    if sum((rebuild, compact, status_only)) > 1:
        raise UsageError("give at most one of --rebuild, --compact, --status")
    out: dict[str, Any] = {}
    with bank() as opened:
        service = opened.sequence_search.with_jobs(jobs)
        for name in (DBS if db == "all" else (db,)):
            done: dict[str, Any] = {}
            if rebuild:
                done = service.rebuild_index(name)
            elif compact:
                done = service.compact_index(name)
            elif not status_only:
                done = service.update_index(dbs=[name])[name]
            if warm:
                done["warmed"] = service.warm_index(name)["warmed"]
            out[name] = {"action": done, "status": service.index_status(name)}

    def text() -> None:
        for name, item in out.items():
            st, act = item["status"], item["action"]
            if act.get("added") or act.get("masked"):
                click.echo(f"{name}: added {len(act['added'])}, masked {len(act['masked'])} "
                           f"assemblies", err=True)
            if act.get("replaced"):
                click.echo(f"{name}: compacted {len(act['replaced'])} segments", err=True)
            click.echo(f"{name}\t{st['assemblies']} assemblies\t{st['sequences']:,} sequences"
                       f"\t{st['residues']:,} residues\t{len(st['segments'])} segments\t"
                       + ("up to date" if st["up_to_date"] else
                          f"pending: +{len(st['pending_add'])} -{len(st['pending_remove'])}"))

    emit(out, as_json, text)
