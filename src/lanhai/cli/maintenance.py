"""CLI commands for the bank's upkeep: ``lanhai doctor`` (health and leftovers of interrupted
runs) and ``lanhai clean`` (removes those leftovers). See docs/operations.md."""

from __future__ import annotations

from typing import Any

import click

from lanhai.cli.common import emit, handles_errors, json_option, local_actor, settings
from lanhai.services.maintenance import MaintenanceService, human_size

_MARK = {"ok": "ok", "warning": "warning", "problem": "PROBLEM"}
_COLOUR = {"ok": "green", "warning": "yellow", "problem": "red"}


def register(cli: click.Group) -> None:
    """Add the upkeep commands to ``cli``."""
    cli.add_command(doctor)
    cli.add_command(clean)


@click.command()
@json_option
@handles_errors
def doctor(as_json: bool) -> None:
    """Check the bank: data folder, disk space, schema, jobs, and what interrupted runs left
    behind (with their size, age and why). Exits 1 when a check finds a problem."""
    with MaintenanceService.for_settings(settings()) as service:
        report = service.report(local_actor())

    def text() -> None:
        click.echo(f"bank: {report['data_dir']} ({report['database_url']})")
        for check in report["checks"]:
            status = check["status"]
            click.echo("  " + click.style(f"{_MARK[status]:8}", fg=_COLOUR[status])
                       + f" {check['check']:12} {check['message']}")
            if check.get("fix"):
                click.echo(f"  {'':8} {'':12} → {check['fix']}")
        if report["leftovers"]:
            click.echo("leftovers:")
            for item in report["leftovers"]:
                _show_item(item)

    emit(report, as_json, text)
    if report["status"] == "problem":
        raise SystemExit(1)


@click.command()
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@click.option("--keep-downloads", is_flag=True,
              help="Keep the partial downloads of profile installs (a rerun resumes them).")
@json_option
@handles_errors
def clean(dry_run: bool, keep_downloads: bool, as_json: bool) -> None:
    """Remove what interrupted runs left in the data folder (and partial files of exports
    written elsewhere); never anything a running process is still using."""
    with MaintenanceService.for_settings(settings()) as service:
        result = service.clean(local_actor(), dry_run=dry_run, downloads=not keep_downloads)

    def text() -> None:
        for item in result["cleaned"]:
            click.echo(f"{item['result']:14} {human_size(item['size']):>10}  {item['path']}  "
                       f"({item['why']})")
        for item in result["kept"]:
            click.echo(f"{'kept, ' + item['state']:14} {human_size(item['size']):>10}  "
                       f"{item['path']}  ({item['why']})")
        verb = "would free" if dry_run else "freed"
        click.echo(f"{len(result['cleaned'])} item(s) {'to clean' if dry_run else 'cleaned'}"
                   f", {verb} {human_size(result['freed_bytes'])}; {len(result['kept'])} kept",
                   err=True)

    emit(result, as_json, text)


def _show_item(item: dict[str, Any]) -> None:
    click.echo(f"  {item['state']:18} {human_size(item['size']):>10} "
               f"{_age(item['age_seconds']):>6}  {item['path']}")
    click.echo(f"  {'':18} {'':>10} {'':>6}  {item['why']}")


def _age(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
