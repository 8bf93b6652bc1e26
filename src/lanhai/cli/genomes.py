"""CLI commands `lanhai genomes …`: genome projects, their target species and statuses,
progress per taxon, GoaT status files and NCBI assembly tables."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from lanhai.cli.common import bank, emit, handles_errors, json_option, local_actor
from lanhai.errors import UsageError


def register(cli: click.Group) -> None:
    """Add `genomes` to ``cli``."""
    cli.add_command(genomes)


@click.group("genomes")
def genomes() -> None:
    """Genome projects (the 10,000 fish genomes, marine microbial genomes): target species,
    their sequencing status, progress per taxon and the assemblies' quality."""


def _counts(counts: dict[str, Any] | None) -> str:
    if not counts:
        return "no targets"
    return (f"{counts['done']} done, {counts['in_progress']} in progress, "
            f"{counts['targeted']} targeted of {counts['total']}")


@genomes.command("projects")
@json_option
@handles_errors
def projects(as_json: bool) -> None:
    """The genome projects with their counts."""
    with bank() as opened:
        found = opened.genomes.projects(local_actor())

    def text() -> None:
        for p in found:
            reported = f"; reports {p['reported_done']:,} done" if p["reported_done"] else ""
            click.echo(f"{p['key']:<20} {p['name']}: {_counts(p['counts'])}{reported}")

    emit(found, as_json, text)


_PROJECT_OPTIONS = (("--name", "name"), ("--name-zh", "name_zh"), ("--goal", "goal"),
                    ("--scope", "taxon_scope"), ("--target-count", "target_count"),
                    ("--started", "started"), ("--ends", "ends"),
                    ("--done-status", "done_status"), ("--reported-done", "reported_done"),
                    ("--reported-on", "reported_on"),
                    ("--reported-source", "reported_source"))


def _project_options(func: Any) -> Any:
    for option, name in reversed(_PROJECT_OPTIONS):
        func = click.option(option, name, default=None)(func)
    return func


@genomes.command("create")
@click.argument("key")
@_project_options
@json_option
@handles_errors
def create(key: str, as_json: bool, **values: Any) -> None:
    """A new project: KEY (fish10k) and --name; the goal, taxon scope, target count and
    dates as known; --reported-done for a count the project reports itself."""
    given = {k: v for k, v in values.items() if v is not None}
    with bank() as opened:
        made = opened.genomes.create_project(local_actor(), key, given)
    emit(made, as_json, f"created genome project {made['key']}: {made['name']}")


@genomes.command("update")
@click.argument("key")
@_project_options
@json_option
@handles_errors
def update_project(key: str, as_json: bool, **values: Any) -> None:
    """Change a project's fields."""
    given = {k: v for k, v in values.items() if v is not None}
    if not given:
        raise UsageError("say what changes, e.g. --reported-done 883 --reported-on 2025-06-30")
    with bank() as opened:
        made = opened.genomes.update_project(local_actor(), key, given)
    emit(made, as_json, f"{made['key']} is now version {made['version']}")


@genomes.command("show")
@click.argument("key")
@json_option
@handles_errors
def show(key: str, as_json: bool) -> None:
    """A project: its counts, projected completion and next best species."""
    with bank() as opened:
        found = opened.genomes.project(local_actor(), key)

    def text() -> None:
        progress = found["progress"]
        click.echo(f"{found['key']}: {found['name']} {found['name_zh']}".rstrip())
        click.echo(f"  {_counts(progress['projects'].get(found['key']))} "
                   f"(done = {progress['done_step']} or beyond)")
        if found["reported_done"] is not None:
            click.echo(f"  reported by the project: {found['reported_done']:,} done "
                       f"({found['reported_on'] or 'undated'}; {found['reported_source']})")
        projection = progress["projections"].get(found["key"])
        if projection:
            click.echo(f"  projected completion: {projection['completion'] or '—'} "
                       f"({projection['reason']})")
        for c in progress["next_best"][:10]:
            click.echo(f"  next: {c['scientific_name']} ({c['taxid']}): {c['reason']}")

    emit(found, as_json, text)


@genomes.command("targets")
@click.argument("key")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@handles_errors
def targets(key: str, file: Path, as_json: bool) -> None:
    """Import a target list (a GoaT status list, or a table with taxon ids and scientific
    names; class and order columns add ranks); all rows or none."""
    with bank() as opened:
        done = opened.genomes.import_targets(local_actor(), key, file)
    emit(done, as_json, f"{file.name}: {done['added']} targets added, {done['updated']} "
                        f"updated, {done['statuses']} statuses recorded in {done['project']}")


@genomes.command("status")
@click.argument("key")
@click.argument("taxid", type=int)
@click.argument("status", metavar="STATUS")
@click.option("--day", help="The day it was reached (default today).")
@click.option("--evidence", multiple=True,
              help="A record (LH…) or an INSDC accession (GCA_…, SAMEA…, PRJNA…); repeatable.")
@click.option("--note", default="")
@click.option("--allow-skip", is_flag=True, help="Passing over steps is meant.")
@click.option("--allow-back", is_flag=True, help="Going back (a failed library) is meant.")
@json_option
@handles_errors
def set_status(key: str, taxid: int, status: str, day: str | None, evidence: tuple[str, ...],
               note: str, allow_skip: bool, allow_back: bool, as_json: bool) -> None:
    """Record that a target species reached STATUS: targeted, sample_collected,
    sample_acquired, data_generation, in_assembly, insdc_submitted, insdc_open, published
    (GoaT's ladder; `lanhai genomes statuses` lists every step and alias). Going back or
    passing over a step is refused unless --allow-back or --allow-skip says it is meant."""
    with bank() as opened:
        done = opened.genomes.set_status(local_actor(), key, taxid, status, day, evidence,
                                         note, allow_skip, allow_back)
    last = done["events"][-1]
    emit(done, as_json, f"{taxid} in {key}: {last['status']} since {last['day']}")


@genomes.command("statuses")
@json_option
@handles_errors
def statuses(as_json: bool) -> None:
    """The status ladder, least advanced first, with each step's names."""
    from lanhai.genomes.status import LADDER

    steps = [{"status": s.name, "en": s.label, "zh": s.label_zh, "optional": s.optional,
              "description": s.description}
             for s in LADDER]

    def text() -> None:
        for s in steps:
            optional = " (optional)" if s["optional"] else ""
            click.echo(f"{s['status']:<20} {s['en']} / {s['zh']}{optional}")

    emit(steps, as_json, text)


@genomes.command("species")
@click.argument("key")
@click.argument("taxid", type=int)
@json_option
@handles_errors
def species(key: str, taxid: int, as_json: bool) -> None:
    """A target species: its ranks, status and every status event."""
    with bank() as opened:
        found = opened.genomes.species(local_actor(), key, taxid)

    def text() -> None:
        click.echo(f"{found['scientific_name']} ({found['taxid']}): {found['status']}")
        for e in found["events"]:
            evidence = ", ".join(e["evidence"])
            click.echo(f"  {e['day']}  {e['status']:<18} {evidence}  {e['note']}".rstrip())

    emit(found, as_json, text)


@genomes.command("progress")
@click.argument("key", required=False)
@click.option("--rank", type=click.Choice(["class", "order", "family"]), default="order",
              show_default=True)
@json_option
@handles_errors
def progress(key: str | None, rank: str, as_json: bool) -> None:
    """Progress per project and per taxon at RANK."""
    with bank() as opened:
        found = opened.genomes.progress(local_actor(), key)

    def text() -> None:
        for project, counts in found["projects"].items():
            click.echo(f"{project}: {_counts(counts)}")
        for row in found["by_rank"][rank]:
            click.echo(f"  {row['project']:<12} {row['name']:<32} {row['done']:>5} done "
                       f"{row['in_progress']:>5} in progress {row['targeted']:>5} targeted")

    emit(found, as_json, text)


@genomes.command("export")
@click.argument("key")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here (default: standard output).")
@json_option
@handles_errors
def export(key: str, output: Path | None, as_json: bool) -> None:
    """The project's targets and statuses as a GoaT status list (tab-separated)."""
    with bank() as opened:
        text = opened.genomes.goat_status(local_actor(), key)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    rows = max(0, text.count("\n") - 1)
    if as_json:
        emit({"project": key, "rows": rows, "file": str(output) if output else None,
              "text": None if output else text}, True)
    elif output is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote {rows} species of {key} to {output}", err=True)


@genomes.command("quality")
@click.argument("accession")
@click.option("--busco", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="BUSCO's short summary (short_summary.*.txt).")
@click.option("--compleasm", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="compleasm's summary.txt.")
@click.option("--lineage", help="The lineage of a compleasm summary holding several.")
@click.option("--merqury-qv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Merqury's .qv file.")
@click.option("--merqury-completeness",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Merqury's .completeness.stats file.")
@click.option("--assembly", help="The row of a Merqury file listing several assemblies.")
@json_option
@handles_errors
def quality_reports(accession: str, busco: Path | None, compleasm: Path | None,
                    lineage: str | None, merqury_qv: Path | None,
                    merqury_completeness: Path | None, assembly: str | None,
                    as_json: bool) -> None:
    """Read BUSCO, compleasm and Merqury reports into an assembly record's quality fields,
    and show the standards it now meets and the EBP criteria it fails."""
    def text_of(path: Path | None) -> str | None:
        return path.read_text("utf-8") if path else None

    with bank() as opened:
        done = opened.genomes.attach_reports(
            local_actor(), accession, busco=text_of(busco), compleasm=text_of(compleasm),
            lineage=lineage, merqury_qv=text_of(merqury_qv),
            merqury_completeness=text_of(merqury_completeness), assembly=assembly)

    def text() -> None:
        click.echo(f"{done['accession']}: {', '.join(done['changed'])} read; best standard "
                   f"met: {done['quality_standard']}; EBP 6.C.Q40: {done['ebp_verdict']}")
        for failure in done["ebp_failures"] or []:
            click.echo(f"  fails: {failure}")

    emit(done, as_json, text)


@genomes.command("assemblies")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--only", help="Keep rows whose selected_as is this (e.g. fish).")
@click.option("--dry-run", is_flag=True, help="Check every row, write nothing.")
@json_option
@handles_errors
def assemblies(file: Path, only: str | None, dry_run: bool, as_json: bool) -> None:
    """Import an NCBI assembly summary table (assembly_summary.txt) or the team's assembly
    table as assembly records with their quality judged against the EBP/VGP standards."""
    with bank() as opened:
        report = opened.genomes.import_assemblies(local_actor(), file, only, dry_run)
    if report["problems"] and not as_json:
        for p in report["problems"][:50]:
            click.echo(f"line {p.get('row')}, {p.get('field')}: {p.get('reason')}. "
                       f"Fix: {p.get('fix')}", err=True)
    emit(report, as_json, f"{file.name}: {report['created']} created, {report['updated']} "
                          f"updated, {report['unchanged']} unchanged"
                          + (" (dry run)" if dry_run else "")
                          + ("" if report["committed"] or dry_run else "; nothing was written"))
    if not report["committed"] and not dry_run:
        sys.exit(1)


__all__ = ["genomes", "register"]
