"""CLI commands `lanhai market …`: the technology market from the shell."""

from __future__ import annotations

from typing import Any

import click

from lanhai.cli.common import bank, emit, handles_errors, json_option, local_actor


def register(cli: click.Group) -> None:
    """Add `market` to ``cli``."""
    cli.add_command(market)


@click.group("market")
def market() -> None:
    """The technology market: offers (成果), demands (需求) and their matches."""


@market.command("match")
@click.argument("accession")
@click.option("--top", default=10, show_default=True, help="How many matches to show.")
@json_option
@handles_errors
def match(accession: str, top: int, as_json: bool) -> None:
    """Rank the offers for a demand (LHDM…), or the demands for an offer (LHOF…), in
    either language, each with its score and why: the concepts both name, the bank's
    records behind the offer, and the conditions met or missed."""
    with bank() as opened:
        result = opened.market.match(local_actor(), accession, top)

    def text() -> None:
        click.echo(f"{result['accession']}  {result['name']}: {len(result['matches'])} of "
                   f"{result['candidates']} {result['candidates_kind']}s")
        for rank, row in enumerate(result["matches"], 1):
            click.echo(f"{rank:>3}. {row['accession']}  {row['score']:.3f}  "
                       f"{row['name'] or row.get('title_zh') or ''}")
            shared = ", ".join(_concept(c) for c in row["shared_concepts"][:4])
            if shared:
                click.echo(f"       shared: {shared}")
            if row["shared_words"]:
                click.echo(f"       words: {', '.join(row['shared_words'][:6])}")
            missed = [c["constraint"] for c in row["constraints"] if not c["met"]]
            if missed:
                click.echo(f"       missed: {', '.join(missed)}")
            for item in row["evidence"]:
                click.echo(f"       evidence: {item['accession']} {item['kind']} "
                           f"{item['name']}")

    emit(result, as_json, text)


def _concept(concept: dict[str, Any]) -> str:
    label = concept["en"] if concept["en"] == concept["zh"] else \
        f"{concept['en']} ({concept['zh']})"
    said = "/".join(dict.fromkeys([*concept["query_says"], *concept["candidate_says"]]))
    return f"{label} [{said}]"
