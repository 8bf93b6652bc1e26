"""CLI commands `lanhai indicators …` and `lanhai report PERIOD`: the programme's targets,
their figures, reported updates and their review, closing quarters and the funder's
report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from lanhai.cli.common import bank, emit, handles_errors, json_option, local_actor, write_file
from lanhai.errors import UsageError
from lanhai.kinds import kind_of_accession


def register(cli: click.Group) -> None:
    """Add `indicators` and `report` to ``cli``."""
    cli.add_command(indicators)
    cli.add_command(report)


@click.group("indicators")
def indicators() -> None:
    """The programme's indicators: every 2027 target of the plan, counted from the bank's
    records or reported with evidence, quarter by quarter."""


def _value(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


@indicators.command("list")
@click.option("--period", help="A quarter (2026-Q3): its frozen figures once closed.")
@json_option
@handles_errors
def list_indicators(period: str | None, as_json: bool) -> None:
    """Every indicator with its value, target and status (live, or at PERIOD)."""
    with bank() as opened:
        figures = (opened.programme.snapshot(local_actor(), period) if period
                   else opened.programme.live(local_actor()))

    def text() -> None:
        state = "closed" if figures.get("closed") else "live"
        click.echo(f"{figures['title']} · {figures['period']} ({state}, as of "
                   f"{figures['as_of']})")
        for task in figures["tasks"]:
            click.echo(f"\n{task['en']} / {task['zh']}")
            for row in figures["indicators"]:
                if row["task"] != task["key"]:
                    continue
                click.echo(f"  {row['key']:<32} {_value(row['value']):>9} / "
                           f"{row['target']['text'] or '—':<8} {row['status_en']:<16} "
                           f"{row['method']}")
        summary = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in figures["summary"].items()
                            if n)
        click.echo(f"\n{len(figures['indicators'])} indicators: {summary}")

    emit(figures, as_json, text)


@indicators.command("show")
@click.argument("key")
@json_option
@handles_errors
def show(key: str, as_json: bool) -> None:
    """One indicator: definition, how it is counted, its series and breakdowns."""
    with bank() as opened:
        found = opened.programme.indicator(local_actor(), key)

    def text() -> None:
        click.echo(f"{found['key']}: {found['en']} / {found['zh']}")
        click.echo(f"  target: {found['target']['text'] or 'tracked'} by "
                   f"{found['target_year']}  unit: {found['unit'] or '—'}")
        click.echo(f"  responsible: {found['responsible']} {found['responsible_zh']}")
        click.echo(f"  {found['method']}: {found['how']}")
        live = found.get("live")
        if live:
            click.echo(f"  value: {_value(live['value'])}  status: {live['status_en']}  "
                       f"projected: {_value(live['projected'])}")
            for point in live["series"]:
                click.echo(f"    {point['period']}  {_value(point['value'])}")
            for by, counts in (live.get("breakdown") or {}).items():
                shown = ", ".join(f"{k or '(none)'} {n}" for k, n in sorted(counts.items()))
                click.echo(f"  by {by}: {shown}")

    emit(found, as_json, text)


@indicators.command("edit")
@click.argument("key")
@click.option("--set", "changes", multiple=True, metavar="FIELD=VALUE", required=True,
              help="A part of the definition, the value in JSON or plain text: "
                   "target=35, 'target=[1,2]', target=true, responsible=…")
@click.option("--reason", required=True, help="Why it changes (kept with the version).")
@json_option
@handles_errors
def edit(key: str, changes: tuple[str, ...], reason: str, as_json: bool) -> None:
    """Change (or add) an indicator; every edit is kept as a new version."""
    parsed: dict[str, Any] = {}
    for change in changes:
        name, sep, raw = change.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set {change!r}: write FIELD=VALUE, e.g. target=35")
        try:
            parsed[name.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            parsed[name.strip()] = raw
    with bank() as opened:
        found = opened.programme.edit(local_actor(), key, parsed, reason)
    emit(found, as_json, f"{found['key']} is now version {found['version']}: target "
                         f"{found['target']['text'] or 'tracked'} by {found['target_year']}")


@indicators.command("history")
@click.argument("key")
@json_option
@handles_errors
def history(key: str, as_json: bool) -> None:
    """Every version of an indicator (0 is the shipped definition)."""
    with bank() as opened:
        found = opened.programme.history(local_actor(), key)

    def text() -> None:
        for version in found:
            target = version["definition"].get("target")
            click.echo(f"v{version['version']}  {version['changed_at'] or '(shipped)'}  "
                       f"{version['changed_by']}  target={target}  {version['reason']}")

    emit(found, as_json, text)


@indicators.command("records")
@click.argument("key")
@click.option("--period", help="A closed quarter; the live records when left out.")
@click.option("--limit", default=100, show_default=True)
@json_option
@handles_errors
def records(key: str, period: str | None, limit: int, as_json: bool) -> None:
    """What a value rests on: the records counted, or the approved update."""
    with bank() as opened:
        found = opened.programme.behind(local_actor(), key, period, limit)

    def text() -> None:
        if found["method"] == "reported":
            click.echo(json.dumps(found["update"], ensure_ascii=False, indent=2))
            return
        click.echo(f"{found.get('total')} records")
        for accession in found.get("records") or []:
            click.echo(f"  {accession}")

    emit(found, as_json, text)


def _evidence(items: tuple[str, ...], opened: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if item.lower().startswith(("http://", "https://")):
            out.append({"url": item})
        elif kind_of_accession(item) is not None:
            out.append({"record": item})
        else:
            path = Path(item)
            if not path.is_file():
                raise UsageError(f"evidence {item!r} is neither a link, a record accession "
                                 "nor a file")
            kept = opened.programme.save_document(local_actor(), path.name, path.read_bytes())
            out.append({"document": kept["document"], "sha256": kept["sha256"]})
    return out


@indicators.command("submit")
@click.argument("key")
@click.option("--period", required=True, help="The quarter, e.g. 2026-Q3.")
@click.option("--value", required=True, help="The value at the quarter's end (1 = yes).")
@click.option("--evidence", multiple=True, required=True,
              help="A link, a record accession (LH…) or a document file; repeatable.")
@click.option("--as-of", help="The day observed, within the quarter (default its end).")
@click.option("--note", default="")
@json_option
@handles_errors
def submit(key: str, period: str, value: str, evidence: tuple[str, ...], as_of: str | None,
           note: str, as_json: bool) -> None:
    """Report a value of a reported indicator, with evidence (it counts once approved)."""
    with bank() as opened:
        made = opened.programme.submit(local_actor(), key, period=period, value=value,
                                       evidence=_evidence(evidence, opened), note=note,
                                       as_of=as_of)
    emit(made, as_json, f"update {made['id']}: {key} = {_value(made['value'])} at "
                        f"{made['period']} submitted for review")


@indicators.command("updates")
@click.option("--indicator")
@click.option("--status", type=click.Choice(["submitted", "approved", "returned"]))
@click.option("--period")
@json_option
@handles_errors
def updates(indicator: str | None, status: str | None, period: str | None,
            as_json: bool) -> None:
    """Reported updates, newest first."""
    with bank() as opened:
        found = opened.programme.updates(local_actor(), indicator=indicator, status=status,
                                         period=period)

    def text() -> None:
        for u in found:
            click.echo(f"{u['id']:>5}  {u['period']}  {u['indicator']:<30} "
                       f"{_value(u['value']):>8}  {u['status']:<9} {u['unit'] or 'office'}  "
                       f"{len(u['evidence'])} evidence")

    emit(found, as_json, text)


@indicators.command("approve")
@click.argument("update_id", type=int)
@click.option("--note", default="")
@json_option
@handles_errors
def approve(update_id: int, note: str, as_json: bool) -> None:
    """Approve an update: it counts from now on."""
    with bank() as opened:
        done = opened.programme.review(local_actor(), update_id, "approve", note)
    emit(done, as_json, f"update {update_id} approved")


@indicators.command("return")
@click.argument("update_id", type=int)
@click.option("--note", required=True, help="What the unit should fix.")
@json_option
@handles_errors
def return_update(update_id: int, note: str, as_json: bool) -> None:
    """Return an update to its reporting unit with what to fix."""
    with bank() as opened:
        done = opened.programme.review(local_actor(), update_id, "return", note)
    emit(done, as_json, f"update {update_id} returned")


@indicators.command("periods")
@json_option
@handles_errors
def periods(as_json: bool) -> None:
    """The quarters reported on, closed or open, with updates waiting for review."""
    with bank() as opened:
        found = opened.programme.periods(local_actor())

    def text() -> None:
        for p in found:
            state = f"closed {p['closed_at']} by {p['closed_by']}" if p["closed"] else (
                "ended, open" if p["ended"] else "open")
            pending = f", {p['pending']} pending" if p["pending"] else ""
            click.echo(f"{p['period']}  {p['start']}..{p['end']}  {state}{pending}")

    emit(found, as_json, text)


@indicators.command("close")
@click.argument("period")
@json_option
@handles_errors
def close(period: str, as_json: bool) -> None:
    """Close an ended quarter: its figures are frozen and published."""
    with bank() as opened:
        done = opened.programme.close(local_actor(), period)
    emit(done, as_json, f"{done['period']} closed: {done['indicators']} indicators frozen "
                        f"(sha256 {done['sha256'][:16]}…)")


@click.command("report")
@click.argument("period")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the funder's workbook here.")
@json_option
@handles_errors
def report(period: str, xlsx: Path | None, as_json: bool) -> None:
    """The funder's report of a quarter: the workbook (--xlsx FILE) and its figures; the
    printable bilingual report is the page /programme/report/PERIOD."""
    with bank() as opened:
        figures = opened.programme.snapshot(local_actor(), period)
        data = opened.programme.report_xlsx(local_actor(), period) if xlsx else b""
    if xlsx is not None:
        write_file(xlsx, data)
    state = "closed" if figures.get("closed") else "open (live figures)"
    emit(figures, as_json, f"{figures['period']} {state}: {len(figures['indicators'])} "
                           f"indicators, {figures['summary']}"
                           + (f"; workbook written to {xlsx}" if xlsx else ""))
