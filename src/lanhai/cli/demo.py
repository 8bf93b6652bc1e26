"""CLI command ``lanhai demo``: build the demo bank from real public records and serve it."""

from __future__ import annotations

import click

from lanhai.bank import init_bank
from lanhai.cli.common import echo_err, emit, handles_errors, json_option, local_actor, settings
from lanhai.demo import DemoSummary, build_demo
from lanhai.demo.report import summary_text


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(demo)


@click.command()
@click.option("--no-serve", is_flag=True, help="Build (or check) the demo bank and exit.")
@click.option("--no-annotate", is_flag=True,
              help="Skip annotating the shipped sequences, mining their parts and the "
                   "search job (about a minute the first time; finished work is never "
                   "redone).")
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
        summary = build_demo(opened, local_actor(), progress=echo_err,
                             annotate=not no_annotate)
    finally:
        opened.close()
    url = f"http://{host or conf.host}:{port or conf.port}"
    links = what_to_open(url, summary)
    emit({**summary.to_dict(), "data_dir": str(conf.data_dir.resolve()), "open": links,
          "serving": not no_serve}, as_json,
         lambda: click.echo(summary_text(summary, url, str(conf.data_dir))))
    if no_serve:
        return
    import uvicorn

    from lanhai.app import create_app, warm

    app = create_app(conf)
    warm(app)
    echo_err(f"serving the demo bank on {url} (Ctrl-C to stop)")
    uvicorn.run(app, host=host or conf.host, port=port or conf.port,
                log_level="warning")


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
