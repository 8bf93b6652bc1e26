"""Entry point: ``lanhai`` (``main(argv=None) -> int``)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from lanhai import __version__

#: each command and the module that defines it (imported only when the command runs, so
#: `lanhai records list` does not load the sequence or breeding engines)
COMMANDS = {
    **dict.fromkeys(("init", "kinds", "create", "show", "list", "update", "deposit-event",
                     "link", "unlink", "lineage", "history", "serve"), "records"),
    "import": "imports", "export": "exports", "users": "users", "tokens": "users",
    **dict.fromkeys(("ingest", "annotate", "annotations"), "sequences"),
    "mine-parts": "parts_mining", "search": "search", "demo": "demo", "breed": "breed",
    "profiles": "profiles", "doctor": "maintenance", "clean": "maintenance",
    "market": "market", "indicators": "programme", "report": "programme",
    "genomes": "genomes", "screen": "screen", "design": "design",
}


class Commands(click.Group):
    """The ``lanhai`` group, loading each command's module the first time it is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        if cmd_name not in self.commands:
            importlib.import_module(f"lanhai.cli.{module}").register(self)
        return self.commands.get(cmd_name)


@click.group(cls=Commands,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="lanhai")
def cli() -> None:
    """Lanhai (蓝海): marine bioresource bank — records, lineage, import, export, API.

    The bank is chosen by LANHAI_DATA_DIR (default ./lanhai-data) and
    LANHAI_DATABASE_URL (default a SQLite file in the data folder).
    """


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
