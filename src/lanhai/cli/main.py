"""Entry point: ``lanhai`` (``main(argv=None) -> int``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from lanhai import __version__
from lanhai.cli import (
    breed,
    demo,
    exports,
    imports,
    parts_mining,
    profiles,
    records,
    search,
    sequences,
    users,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="lanhai")
def cli() -> None:
    """Lanhai (蓝海): marine bioresource bank — records, lineage, import, export, API.

    The bank is chosen by LANHAI_DATA_DIR (default ./lanhai-data) and
    LANHAI_DATABASE_URL (default a SQLite file in the data folder).
    """


for module in (records, imports, exports, users, sequences, parts_mining, search, demo, breed,
               profiles):
    module.register(cli)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 bad data, 2 usage)."""
    try:
        cli.main(args=list(argv) if argv is not None else sys.argv[1:],
                 prog_name="lanhai", standalone_mode=False)
    except click.exceptions.Exit as exit_:
        return int(exit_.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as err:
        err.show()
        return 2 if isinstance(err, click.UsageError) else 1
    except SystemExit as exit_:
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
