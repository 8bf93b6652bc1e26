"""Bulk import of CSV, TSV and XLSX tables: options, mapping files, and the report.

The engine (:mod:`lanhai.imports.engine`) streams the file, validates every row, reports
every problem as (row, column, value, reason, fix), and commits all rows or none.

A mapping file (TOML) lets a curator import a real public table without editing it::

    kind = "sample"                      # record kind the table holds
    date_format = "%d-%m-%Y"             # only for non-ISO dates; never guessed
    encoding = "utf-8"                   # e.g. "latin-1"
    delimiter = "\\t"                     # default: from the extension (.csv , / .tsv tab)
    sheet = "Strains"                    # XLSX sheet (default: the first)

    [columns]                            # source header -> Lanhai field
    "Sample label (BioSample)" = "biosample"

    [templates]                          # field -> several columns combined
    lat_lon = "{Latitude} {Longitude}"
    env_broad_scale = "{Biome} [{purl_biome}]"

    [set]                                # constants for fields the table lacks
    project_name = "Ocean Sampling Day 2014"

    [units]                              # unit of bare numbers, per field
    depth = "m"

The same things come from the command line as ``--map SOURCE=FIELD``,
``--set FIELD=VALUE``, ``--unit FIELD=UNIT`` and ``--date-format``; they override the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lanhai.errors import Problem

#: how rows meet records already in the bank
MODES = ("upsert", "create", "update")


@dataclass
class ImportOptions:
    """What to import and how to read it."""

    kind: str
    columns: dict[str, str] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    #: upsert: create new records, update matched ones (on external identifiers);
    #: create: every row must be new; update: every row must match a record and only the
    #: columns present are changed (batch update)
    mode: str = "upsert"
    dry_run: bool = False
    #: note stored with every version the import writes
    note: str | None = None


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a failed file, would have done)."""

    kind: str
    file: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: problems not listed because there were too many (the count is still exact)
    problems_omitted: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    #: the file's column headers, in order, and which field each feeds ('' for none)
    header: list[str] = field(default_factory=list)
    #: field -> what gives it: a column header, 'A + B' for combined columns, '--set field'
    sources: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False
    committed: bool = False
    #: accessions created or updated, in row order (omitted past 10,000 rows)
    accessions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "file": self.file, "rows": self.rows, "created": self.created,
            "updated": self.updated, "unchanged": self.unchanged, "dry_run": self.dry_run,
            "committed": self.committed, "ignored_columns": self.ignored_columns,
            "header": self.header, "sources": self.sources,
            "problem_count": len(self.problems) + self.problems_omitted,
            "problems": [p.to_dict() for p in self.problems],
            "accessions": self.accessions,
        }
