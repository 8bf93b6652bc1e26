"""CLI commands for the catalog: init, kinds, show, list, create, update, link, unlink,
lineage, history, serve."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from lanhai.bank import init_bank, open_bank
from lanhai.cli.common import bank, emit, handles_errors, json_option, local_actor, settings
from lanhai.errors import UsageError
from lanhai.kinds import KINDS, LINK_RULES, PLURALS, kind_spec
from lanhai.kinds.vocab import ValueContext
from lanhai.model import MAX_OFFSET, Record
from lanhai.services.catalog import check_accession
from lanhai.settings import safe_url


def register(cli: click.Group) -> None:
    """Add the catalog commands to ``cli``."""
    for command in (init, kinds, show, list_, create, update, deposit_event, link, unlink,
                    lineage, history, serve):
        cli.add_command(command)


@click.command()
@json_option
@handles_errors
def init(as_json: bool) -> None:
    """Create or upgrade the bank (database schema and data folder). Safe to run again."""
    conf = settings()
    opened = init_bank(conf)
    opened.close()
    emit({"data_dir": str(conf.data_dir.resolve()), "database_url": safe_url(conf.database_url)},
         as_json, f"bank ready: {safe_url(conf.database_url)} (data in {conf.data_dir})")


@click.command()
@json_option
@handles_errors
def kinds(as_json: bool) -> None:
    """List the record kinds, their standards, required fields and the allowed links."""
    data = {
        "kinds": [{"kind": s.name, "plural": PLURALS[s.name], "prefix": s.prefix,
                   "standard": s.standard, "required": s.required,
                   "fields": s.field_names} for s in KINDS.values()],
        "links": [{"rel": r.name, "from": list(r.sources), "to": list(r.targets),
                   "description": r.description} for r in LINK_RULES.values()],
    }

    def text() -> None:
        for spec in KINDS.values():
            click.echo(f"{spec.name:10} {spec.prefix}nnnnnnn  {spec.standard}")
            click.echo(f"{'':10} required: {', '.join(spec.required)}")
        click.echo("\nlinks (from --rel--> to):")
        for rule in LINK_RULES.values():
            click.echo(f"  {rule.name:14} {'/'.join(rule.sources)} -> {'/'.join(rule.targets)}")

    emit(data, as_json, text)


@click.command()
@click.argument("accession")
@json_option
@handles_errors
def show(accession: str, as_json: bool) -> None:
    """Show one record with its fields, identifiers and links."""
    with bank() as opened:
        actor = local_actor()
        record = opened.catalog.get(actor, check_accession(accession))
        links = opened.catalog.links(actor, record.accession)
    data = {**record.to_dict(), "links": [lk.to_dict() for lk in links]}

    def text() -> None:
        spec = kind_spec(record.kind)
        click.echo(f"{record.accession}  {record.name}  [{record.kind}, version "
                   f"{record.version}{', restricted' if record.restricted else ''}]")
        if record.identifiers:
            click.echo(f"  identifiers: {'; '.join(record.identifiers)}")
        group = None
        for fld in spec.fields:
            if fld.name not in record.fields:
                continue
            if fld.group != group:
                group = fld.group
                click.echo(f"  {group}")
            click.echo(f"    {fld.name}: {_show_value(record.fields[fld.name])}")
        computed = [c for c in spec.computed if c in record.fields]
        if computed:
            click.echo("  Computed")
            for name in computed:
                click.echo(f"    {name}: {_show_value(record.fields[name])}")
        for lk in links:
            click.echo(f"  link: {lk.source} --{lk.rel}--> {lk.target}")

    emit(data, as_json, text)


def _show_value(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "; ".join(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@click.command("list")
@click.argument("kind", required=False)
@click.option("--where", "-w", multiple=True, metavar="EXPR",
              help="Filter FIELD OP VALUE (OP: = != > >= < <= ~); repeat to AND, "
                   "e.g. --where 'depth_m>1000' --where 'taxon~Zobellia'.")
@click.option("-q", "--query", help="Full-text search (names, identifiers, places; 中文 too).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100000))
@click.option("--offset", default=0, show_default=True,
              type=click.IntRange(0, MAX_OFFSET))
@click.option("--sort", default="accession", show_default=True,
              help="accession, name, taxon, depth_m, event_date, created_at, updated_at; "
                   "prefix '-' for descending.")
@json_option
@handles_errors
def list_(kind: str | None, where: tuple[str, ...], query: str | None, limit: int,
          offset: int, sort: str, as_json: bool) -> None:
    """List records of KIND (all kinds when omitted) matching the filters."""
    if kind:
        kind_spec(kind)
    with bank() as opened:
        items, total = opened.catalog.list(local_actor(), kind, where, query=query,
                                           limit=limit, offset=offset, sort=sort)
    data = {"total": total, "limit": limit, "offset": offset,
            "items": [_summary(r) for r in items]}

    def text() -> None:
        for rec in items:
            click.echo(f"{rec.accession}\t{rec.kind}\t{rec.name}")
        click.echo(f"{len(items)} of {total} shown", err=True)

    emit(data, as_json, text)


def _summary(record: Record) -> dict[str, Any]:
    return {"accession": record.accession, "kind": record.kind, "name": record.name,
            "restricted": record.restricted, "identifiers": record.identifiers,
            "fields": record.fields}


def _read_fields(pairs: tuple[str, ...], from_file: str | None) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    if from_file:
        text = sys.stdin.read() if from_file == "-" else Path(from_file).read_text("utf-8")
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as err:
            raise UsageError(f"{from_file}: not valid JSON ({err})") from None
        if not isinstance(loaded, dict):
            raise UsageError(f"{from_file}: give one JSON object of field: value")
        raw.update(loaded)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set {pair!r}: write FIELD=VALUE")
        raw[name.strip()] = value
    return raw


@click.command()
@click.argument("kind")
@click.option("--set", "pairs", multiple=True, metavar="FIELD=VALUE", help="A field value.")
@click.option("--from-json", "from_file", metavar="FILE",
              help="Read fields from a JSON object ('-' for stdin).")
@click.option("--date-format", help="strftime layout for non-ISO dates, e.g. %d-%m-%Y.")
@click.option("--note", help="Why the record is added (kept in its history).")
@json_option
@handles_errors
def create(kind: str, pairs: tuple[str, ...], from_file: str | None, date_format: str | None,
           note: str | None, as_json: bool) -> None:
    """Create one record of KIND from --set FIELD=VALUE pairs or a JSON object."""
    raw = _read_fields(pairs, from_file)
    with bank() as opened:
        record = opened.catalog.create(local_actor(), kind, raw,
                                       ValueContext(date_format=date_format), note)
    emit(record.to_dict(), as_json, f"created {record.accession}  {record.name}")


@click.command()
@click.argument("accession")
@click.option("--set", "pairs", multiple=True, metavar="FIELD=VALUE",
              help="A field to change; an empty value removes an optional field.")
@click.option("--from-json", "from_file", metavar="FILE",
              help="Read fields from a JSON object ('-' for stdin).")
@click.option("--date-format", help="strftime layout for non-ISO dates.")
@click.option("--note", help="Why it changed (kept in its history).")
@click.option("--if-version", type=click.IntRange(1), metavar="N",
              help="Change it only if it is still at version N (as you last read it); "
                   "otherwise nothing is written and the current version is reported.")
@json_option
@handles_errors
def update(accession: str, pairs: tuple[str, ...], from_file: str | None,
           date_format: str | None, note: str | None, if_version: int | None,
           as_json: bool) -> None:
    """Change fields of one record; every change is versioned. Fields others change at
    the same time stay as they set them."""
    raw = _read_fields(pairs, from_file)
    if not raw:
        raise UsageError("nothing to change: give --set FIELD=VALUE or --from-json FILE")
    with bank() as opened:
        record = opened.catalog.update(local_actor(), check_accession(accession), raw,
                                       ValueContext(date_format=date_format), note,
                                       expected_version=if_version)
    emit(record.to_dict(), as_json, f"updated {record.accession} (version {record.version})")


@click.command("deposit-event")
@click.argument("accession")
@click.argument("event_kind", type=click.Choice(["receipt", "viability", "furnishing"]))
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", required=True,
              help="Event details: receipt needs date, form (e.g. BP/4); viability needs "
                   "date, result (viable / not viable); furnishing needs date, recipient "
                   "(and rule, e.g. 11.3).")
@click.option("--note", help="Kept in the record's history.")
@json_option
@handles_errors
def deposit_event(accession: str, event_kind: str, pairs: tuple[str, ...], note: str | None,
                  as_json: bool) -> None:
    """Record a patent-deposit lifecycle event; the retention clock is recomputed."""
    kind = {"receipt": "receipts", "viability": "viability_tests",
            "furnishing": "furnishings"}[event_kind]
    event = _read_fields(pairs, None)
    with bank() as opened:
        record = opened.catalog.add_deposit_event(local_actor(), check_accession(accession),
                                                  kind, event, note)
    emit(record.to_dict(), as_json,
         f"{record.accession}: {event_kind} recorded; retention until "
         f"{record.fields.get('retention_end')}")


@click.command()
@click.argument("source")
@click.argument("rel")
@click.argument("target")
@json_option
@handles_errors
def link(source: str, rel: str, target: str, as_json: bool) -> None:
    """Link two records: SOURCE REL TARGET, e.g. `lanhai link LHST0000001 isolated_from
    LHSM0000001` (either reading direction of an allowed link works)."""
    with bank() as opened:
        made = opened.catalog.link(local_actor(), check_accession(source), rel,
                                   check_accession(target))
    emit(made.to_dict(), as_json, f"linked {made.source} --{made.rel}--> {made.target}")


@click.command()
@click.argument("source")
@click.argument("rel")
@click.argument("target")
@json_option
@handles_errors
def unlink(source: str, rel: str, target: str, as_json: bool) -> None:
    """Remove a link between two records."""
    with bank() as opened:
        opened.catalog.unlink(local_actor(), check_accession(source), rel,
                              check_accession(target))
    emit({"source": source, "rel": rel, "target": target, "removed": True}, as_json,
         f"unlinked {source} --{rel}--> {target}")


@click.command()
@click.argument("accession")
@click.option("--depth", default=10, show_default=True, type=click.IntRange(1, 50))
@json_option
@handles_errors
def lineage(accession: str, depth: int, as_json: bool) -> None:
    """Ancestors and descendants of a record through the lineage graph."""
    with bank() as opened:
        data = opened.catalog.lineage(local_actor(), check_accession(accession), depth)

    def text() -> None:
        names = {n["accession"]: f"{n['accession']} {n['name']}" for n in data["nodes"]}
        click.echo(f"{data['accession']} {data['name']} [{data['kind']}]")
        for title, edges in (("ancestors", data["ancestors"]),
                             ("descendants", data["descendants"])):
            click.echo(f"  {title}:" + ("" if edges else " none"))
            for edge in edges:
                click.echo(f"    {'  ' * (edge['depth'] - 1)}{names.get(edge['source'])} "
                           f"--{edge['rel']}--> {names.get(edge['target'])}")

    emit(data, as_json, text)


@click.command()
@click.argument("accession")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True, help="csv: one line per changed field.")
@json_option
@handles_errors
def history(accession: str, fmt: str, as_json: bool) -> None:
    """Every change to a record: who, when, what (exportable as CSV or JSON)."""
    with bank() as opened:
        versions = opened.catalog.history(local_actor(), check_accession(accession))
    if fmt == "csv":
        from lanhai.exports.history import write_history

        write_history(versions, "csv", sys.stdout)
        return
    data = [v.to_dict() for v in versions]

    def text() -> None:
        for v in versions:
            click.echo(f"v{v.version} {v.changed_at:%Y-%m-%d %H:%M:%S} {v.changed_by} {v.action}"
                       + (f" ({v.note})" if v.note else ""))
            for name, (old, new) in v.changes.items():
                click.echo(f"    {name}: {_show_value(old)} -> {_show_value(new)}")

    emit(data, as_json or fmt == "json", text)


@click.command()
@click.option("--host", default=None, help="Address to bind (default LANHAI_HOST, 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default LANHAI_PORT, 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Server processes answering on the address (one process uses one core; "
                   "up to one per core, each with its own database connections).")
@json_option
@handles_errors
def serve(host: str | None, port: int | None, workers: int, as_json: bool) -> None:
    """Serve the HTTP API (and pages) for this bank."""
    import uvicorn

    from lanhai.app import create_app, warm

    conf = settings()
    opened = open_bank(conf)
    # what runs killed earlier left (staging folders, partial files, uploads of requests
    # that died) goes in the background; `lanhai doctor` reports the rest
    opened.maintenance.start_cleanup(local_actor())
    bind_host, bind_port = host or conf.host, port or conf.port
    url = f"http://{bind_host}:{bind_port}"
    message = (f"serving {safe_url(conf.database_url)} on {url} (API: {url}/api, "
               f"OpenAPI: {url}/openapi.json)")
    data = {"url": url, "api": f"{url}/api", "openapi": f"{url}/openapi.json",
            "database_url": safe_url(conf.database_url), "workers": workers}
    if workers > 1:
        # each process builds the application from the same environment (lanhai.app.serve)
        emit(data, as_json, f"{message}, {workers} processes")
        uvicorn.run("lanhai.app:serve", factory=True, host=bind_host, port=bind_port,
                    workers=workers, log_level="warning")
        return
    app = create_app(conf, bank=opened)
    warm(app)  # dashboard and facet totals computed once now, not on the first visit
    emit(data, as_json, message)
    uvicorn.run(app, host=bind_host, port=bind_port, log_level="warning")
