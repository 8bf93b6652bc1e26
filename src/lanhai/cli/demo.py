"""CLI command ``lanhai demo``: build the demo bank from real public records and serve it."""

from __future__ import annotations

from typing import Any

import click

from lanhai.bank import Bank, init_bank
from lanhai.cli.common import echo_err, emit, handles_errors, json_option, local_actor, settings
from lanhai.demo import DemoSummary, build_demo
from lanhai.demo.links import LINK_RULES


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(demo)


@click.command()
@click.option("--no-serve", is_flag=True, help="Build (or check) the demo bank and exit.")
@click.option("--no-annotate", is_flag=True,
              help="Skip annotating the shipped proteome (about a minute the first time; "
                   "a finished annotation is never redone).")
@click.option("--host", default=None, help="Address to bind (default LANHAI_HOST, 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default LANHAI_PORT, 8000).")
@json_option
@handles_errors
def demo(no_serve: bool, no_annotate: bool, host: str | None, port: int | None,
         as_json: bool) -> None:
    """Build the demo bank in LANHAI_DATA_DIR from real public records, then serve it.

    Safe to run again: records are matched on their external identifiers, so a second
    run creates and changes nothing. Progress goes to stderr, the summary to stdout.
    """
    conf = settings()
    opened = init_bank(conf)
    try:
        summary = build_demo(opened, local_actor(), progress=echo_err)
        annotated = None if no_annotate else annotate_proteomes(opened, summary)
    finally:
        opened.close()
    url = f"http://{host or conf.host}:{port or conf.port}"
    links = what_to_open(url, summary)
    emit({**summary.to_dict(), "annotation": annotated,
          "data_dir": str(conf.data_dir.resolve()), "open": links,
          "serving": not no_serve}, as_json,
         lambda: print_summary(summary, links, str(conf.data_dir)))
    if no_serve:
        return
    import uvicorn

    from lanhai.app import create_app, warm

    app = create_app(conf)
    warm(app)
    echo_err(f"serving the demo bank on {url} (Ctrl-C to stop)")
    uvicorn.run(app, host=host or conf.host, port=port or conf.port,
                log_level="warning")


def annotate_proteomes(opened: Bank, summary: DemoSummary) -> dict[str, Any]:
    """Annotate the demo's proteomes with every shipped pack (resumable: done once)."""
    accessions = [item["accession"] for item in summary.sequences]
    echo_err(f"annotating {', '.join(accessions)} with the shipped profile packs "
             "(families, substrates, PULs; done once)")
    return opened.sequences.annotate(local_actor(), accessions, jobs=1, threads=None)


def what_to_open(url: str, summary: DemoSummary) -> dict[str, str]:
    """The addresses worth opening first."""
    links = {"dashboard": f"{url}/", "stats": f"{url}/api/stats",
             "samples": f"{url}/api/samples",
             "docs": f"{url}/docs", "openapi": f"{url}/openapi.json"}
    for name, accession in summary.highlights.items():
        links[name] = f"{url}/api/records/{accession}"
        links[f"{name}_lineage"] = f"{url}/api/records/{accession}/lineage"
        links[f"{name}_page"] = f"{url}/records/{accession}"
    return links


def print_summary(summary: DemoSummary, links: dict[str, str], data_dir: str) -> None:
    """The human summary: counts per kind, what each source did, links, what to open."""
    click.echo(f"Lanhai demo bank: {summary.database_url}")
    click.echo(f"  {'kind':<12}{'records':>8}")
    for kind, count in sorted(summary.counts.items()):
        click.echo(f"  {kind:<12}{count:>8}")
    click.echo(f"  {'total':<12}{sum(summary.counts.values()):>8}")
    click.echo("")
    click.echo(f"  {'source':<46}{'rows':>6}{'created':>9}{'updated':>9}{'unchanged':>11}")
    for s in summary.sources:
        click.echo(f"  {s.file:<46}{s.rows:>6}{s.created:>9}{s.updated:>9}{s.unchanged:>11}")
    click.echo(f"  this run: {summary.created} created, {summary.updated} updated")
    for s in summary.sources:
        if s.matched and s.created == 0 and s.name == "osd2014_vliz":
            click.echo(f"  merged: all {s.rows} rows of {s.file} met samples already imported "
                       "from osd2014_osd_sample.tsv (same BioSample): one record each, not two")
    click.echo("")
    by_rule: dict[str, int] = {}
    for link in summary.links:
        by_rule[link.rule] = by_rule.get(link.rule, 0) + 1
    click.echo(f"  links: {len(summary.links)} ({summary.links_created} new this run)")
    for rule, count in by_rule.items():
        rel, why = LINK_RULES[rule]
        click.echo(f"    {count:>3} {rel:<13} {rule}: {why}")
    click.echo("")
    if summary.curator_created:
        click.echo(f"  created the user {summary.curator!r} (curator)")
    click.echo(f"  a curator token: LANHAI_DATA_DIR={data_dir} lanhai tokens create "
               f"{summary.curator}")
    click.echo(f"  web sign-in:     echo 'a-long-password' | LANHAI_DATA_DIR={data_dir} "
               f"lanhai users set {summary.curator} --password-stdin")
    click.echo("")
    click.echo("  open:")
    for name, url in links.items():
        click.echo(f"    {name:<26}{url}")
