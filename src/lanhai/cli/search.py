"""`lanhai search …`: one group; its commands live in search_sequences (seq) and
search_catalog (text, compound, family)."""

from __future__ import annotations

import click


@click.group("search")
def search_group() -> None:
    """Search the bank by sequence, protein family, compound structure or text and facets."""


def register(cli: click.Group) -> None:
    """Add `lanhai search` and its subcommands to ``cli``."""
    from lanhai.cli import search_catalog, search_sequences

    search_sequences.add_commands(search_group)
    search_catalog.add_commands(search_group)
    cli.add_command(search_group)
