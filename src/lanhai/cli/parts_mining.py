"""CLI command `lanhai mine-parts`: parts from the hits of an annotated assembly."""

from __future__ import annotations

import click

from lanhai.cli.common import bank, emit, handles_errors, json_option, local_actor
from lanhai.services.catalog import check_accession
from lanhai.services.parts_mining import CDS_ROLE


def register(cli: click.Group) -> None:
    """Add `mine-parts` to ``cli``."""
    cli.add_command(mine_parts)


@click.command("mine-parts")
@click.argument("accession")
@click.option("--family", "families", multiple=True, metavar="F",
              help="Mine every protein with a hit to this family (repeatable).")
@click.option("--protein", "proteins", multiple=True, metavar="ID",
              help="Mine this protein (its id as in `lanhai annotations ACC --proteins`; "
                   "repeatable).")
@click.option("--role", default=CDS_ROLE, show_default=True,
              help="Sequence Ontology role of the parts (SO:nnnnnnn or a name).")
@json_option
@handles_errors
def mine_parts(accession: str, families: tuple[str, ...], proteins: tuple[str, ...],
               role: str, as_json: bool) -> None:
    """Turn chosen hits or proteins of an annotated assembly into part records (the CDS, or
    the protein for a proteome), linked `assembly --mined_from--> part`, with their
    evidence. Mining the same protein again creates nothing."""
    with bank() as opened:
        result = opened.parts.mine(
            local_actor(), check_accession(accession), families=families, proteins=proteins,
            role=role)

    def text() -> None:
        for part in result["parts"]:
            click.echo(f"{part['accession']}\t{part['status']}\t{part['display_id']}\t"
                       f"{part['family'] or ''}")
        click.echo(f"{result['created']} part(s) created, "
                   f"{len(result['parts']) - result['created']} already there", err=True)

    emit(result, as_json, text)
