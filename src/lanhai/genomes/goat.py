"""Reading and writing GoaT status lists (Genomes on a Tree, goat.genomehubs.org).

Two layouts are read, told apart by their headers:

- **GoaT's import files** (genomehubs/goat-data ``sources/status_lists/*_expanded.tsv``):
  ``ncbi_taxon_id`` (or ``NCBI_taxon_id``, ``#NCBI_taxon_id``), ``genus``, ``species`` (the
  epithet, or the whole name), ``family``, ``target_list_status``, ``sequencing_status``,
  ``synonym``, ``project``, the target-list columns ``long_list``, ``family_representative``,
  ``other_priority``, and one column per status (``sample_collected``, ``sample_acquired``,
  ``in_progress``, ``data_generation``, ``in_assembly``, ``insdc_submitted``, ``open``,
  ``insdc_open``, ``published``) holding the project's name when it reached it;
- **GoaT's search export**: ``taxon_id``, ``scientific_name`` and the same attribute
  columns, list cells holding several projects separated by commas (``DTOL,VGP``).

A row gives one species in each project it names (``project`` or ``long_list``, else the
``project`` the caller gives). Its status in a project is the most advanced status column
naming the project, else ``sequencing_status`` (``eurofish_insdc_open`` and GoaT's
``publication_available`` are understood), else ``targeted``. The priority is 1 when the row
is a family representative for the project, 2 when other priority, 3 otherwise.

Problems come with the file's row numbers (the header is row 1): a taxon id that is not a
positive whole number, a status that is not GoaT's, a ``sequencing_status`` that disagrees
with the status columns, a row with no project, a species given twice for a project, and a
name that is not the taxon id's name (nor one of the row's synonyms) when the caller gives a
taxon id → name lookup. A row with a problem is left out of the rows.

:func:`write_goat` writes the import layout back (GoaT's column names, in the order of its
own expanded files): each status column holds the project when the species reached that
status or one that implies it, as GoaT's ``expand_sequencing_status`` fills them
(published → insdc_open → open → in_progress → sample_acquired → sample_collected; a step of
data generation, assembly or submission → in_progress).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from lanhai.errors import Problem
from lanhai.genomes.progress import Target
from lanhai.genomes.status import POSITION, STATUSES, STEPS, SpeciesStatus, status_name

#: GoaT's per-status columns, in its files' order
STATUS_COLUMNS: tuple[str, ...] = (
    "sample_collected", "sample_acquired", "in_progress", "data_generation", "in_assembly",
    "insdc_submitted", "open", "insdc_open", "published")
#: GoaT's target-list columns
LIST_COLUMNS: tuple[str, ...] = ("long_list", "family_representative", "other_priority")
#: the columns :func:`write_goat` writes (GoaT's ``*_expanded.tsv`` header)
IMPORT_COLUMNS: tuple[str, ...] = (
    "ncbi_taxon_id", "genus", "species", "family", "target_list_status", "sequencing_status",
    "synonym", "project", *LIST_COLUMNS, *STATUS_COLUMNS)
#: the statuses GoaT itself uses (``targeted`` is Lanhai's name for "no status yet")
GOAT_STATUSES: tuple[str, ...] = tuple(s for s in STATUSES if s != "targeted")
_TAXON_HEADERS = ("ncbi_taxon_id", "taxon_id", "ncbi_taxid", "taxid")
_NAME_HEADERS = ("scientific_name", "species_name")
#: what each status implies in GoaT's expansion
_IMPLIES: dict[str, tuple[str, ...]] = {
    "published": ("insdc_open",), "insdc_open": ("open",), "open": ("in_progress",),
    "insdc_submitted": ("in_progress",), "in_assembly": ("in_progress",),
    "data_generation": ("in_progress",), "in_progress": ("sample_acquired",),
    "sample_acquired": ("sample_collected",),
}
_SPLIT = re.compile(r"\s*[,;]\s*")


class _Fail(Protocol):
    """Reports a problem of the row being read."""

    def __call__(self, reason: str, fix: str, column: str | None = None,
                 value: str | None = None) -> None: ...


@dataclass(frozen=True)
class GoatRow:
    """One species in one project, as a GoaT status list gives it."""

    project: str
    taxid: int
    scientific_name: str
    status: str = "targeted"
    #: 1 = family representative, 2 = other priority, 3 = long list
    priority: int = 3
    family: str = ""
    genus: str = ""
    synonyms: tuple[str, ...] = ()
    #: the row of the file it came from (0 when it was not read from a file)
    row: int = 0

    def target(self, lineage: Mapping[str, str] | None = None) -> Target:
        """The row as a progress target; ``lineage`` adds ranks the file lacks (class,
        order), the file's family and genus win."""
        ranks = dict(lineage or {})
        if self.family:
            ranks["family"] = self.family
        if self.genus:
            ranks["genus"] = self.genus
        return Target(self.project, self.taxid, self.scientific_name, ranks, self.priority)


@dataclass
class GoatFile:
    """What a GoaT file held: its rows and what is wrong with the rest."""

    rows: list[GoatRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: "import" (GoaT's status-list files) or "export" (GoaT's search download)
    layout: str = "import"


def _cells(value: str | None) -> list[str]:
    return [v for v in _SPLIT.split(value.strip())] if value and value.strip() else []


def _names(value: str | None) -> list[str]:
    return [v.upper() for v in _cells(value)]


def _norm_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def _status_value(text: str, project: str) -> str | None:
    """A ``sequencing_status`` cell as a ladder name: GoaT's ``<project>_<status>`` and
    ``publication_available`` forms, aliases."""
    value = text.strip()
    prefix = project.lower() + "_"
    if value.lower().startswith(prefix):
        value = value[len(prefix):]
    return status_name(value)


def _compatible(a: str, b: str) -> bool:
    return a == b or a in STEPS[b].covers or b in STEPS[a].covers


def parse_goat(text: str | Iterable[str], *, project: str | None = None,
               names: Mapping[int, str] | None = None, file: str | None = None) -> GoatFile:
    """Read a GoaT status list from its text (or lines). ``project`` is used for rows that
    name none; ``names`` (taxon id → scientific name, may be None) checks the names."""
    lines = io.StringIO(text) if isinstance(text, str) else text
    reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    out = GoatFile()
    header: list[str] | None = None
    seen: dict[tuple[str, int], int] = {}
    for number, cells in enumerate(reader, start=1):
        if header is None:
            if not cells or not any(c.strip() for c in cells):
                continue
            header = [c.strip().lstrip("#").strip().lower().lstrip("\ufeff") for c in cells]
            problem = _check_header(header, number, file)
            if problem is not None:
                out.problems.append(problem)
                return out
            out.layout = "export" if "scientific_name" in header else "import"
            continue
        if not cells or not any(c.strip() for c in cells) or cells[0].startswith("#"):
            continue
        row = {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}
        rows, problems = _read_row(row, number, project, names, file)
        for found in rows:
            first = seen.setdefault((found.project, found.taxid), number)
            if first != number:
                problems.append(Problem(
                    f"taxon {found.taxid} is already on row {first} for {found.project}",
                    "give each species once per project", value=str(found.taxid),
                    row=number, column=next(h for h in _TAXON_HEADERS if h in header),
                    file=file))
        if problems:
            out.problems.extend(problems)
        else:
            out.rows.extend(rows)
    if header is None:
        out.problems.append(Problem("the file is empty", "give a GoaT status list with a "
                                    "header row and a row per species", row=1, file=file))
    return out


def read_goat(path: str | Path, *, project: str | None = None,
              names: Mapping[int, str] | None = None) -> GoatFile:
    """Read a GoaT status list file (UTF-8, tab-separated); see :func:`parse_goat`."""
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return parse_goat(handle, project=project, names=names, file=path.name)


def _check_header(header: Sequence[str], number: int, file: str | None) -> Problem | None:
    if not any(h in header for h in _TAXON_HEADERS):
        return Problem("no taxon id column", "name the column of NCBI taxon ids "
                       "ncbi_taxon_id (GoaT's import files) or taxon_id (GoaT's export)",
                       row=number, file=file)
    if not any(h in header for h in _NAME_HEADERS) and "genus" not in header \
            and "species" not in header:
        return Problem("no species name column", "give scientific_name, species_name, or "
                       "genus and species", row=number, file=file)
    return None


def _row_name(row: Mapping[str, str]) -> str:
    for header in _NAME_HEADERS:
        if row.get(header):
            return " ".join(row[header].split())
    genus, species = row.get("genus", ""), row.get("species", "")
    if genus and species and not species.lower().startswith(genus.lower() + " "):
        return f"{genus} {species}"
    return " ".join((species or genus).split())


def _read_row(row: Mapping[str, str], number: int, default_project: str | None,
              names: Mapping[int, str] | None, file: str | None
              ) -> tuple[list[GoatRow], list[Problem]]:
    problems: list[Problem] = []

    def fail(reason: str, fix: str, column: str | None = None, value: str | None = None
             ) -> None:
        problems.append(Problem(reason, fix, value=value, row=number, column=column,
                                file=file))

    taxon_column = next(h for h in _TAXON_HEADERS if h in row)
    raw_taxid = row[taxon_column]
    taxid = int(raw_taxid) if raw_taxid.isascii() and raw_taxid.isdigit() else 0
    if taxid <= 0:
        fail("a taxon id is a positive whole number (NCBI Taxonomy)",
             "give the species' NCBI taxon id, for example 8284", taxon_column, raw_taxid)
    name = _row_name(row)
    synonyms = tuple(s for s in _cells(row.get("synonym")) if s)
    if not name:
        fail("the species name is missing", "give the scientific name (or genus and "
             "species)", "scientific_name" if "scientific_name" in row else "species")
    elif names is not None and taxid > 0:
        known = names.get(taxid)
        if known and _norm_name(known) != _norm_name(name) \
                and _norm_name(known) not in {_norm_name(s) for s in synonyms}:
            fail(f"is not the name of taxon {taxid}, which is {known!r}",
                 "check the taxon id, or correct the name (a synonym may go in the synonym "
                 "column)", "scientific_name" if "scientific_name" in row else "species",
                 name)
    projects = list(dict.fromkeys([*_names(row.get("project")), *_names(row.get("long_list"))]))
    if not projects and default_project:
        projects = [default_project.strip().upper()]
    if not projects:
        fail("names no project", "give a project or long_list column, or read the file "
             "for a named project", "project")
    out: list[GoatRow] = []
    for project in projects:
        status = _project_status(row, project, len(projects) == 1, fail)
        if status is None:
            continue
        listed = {c: project in _names(row.get(c)) for c in LIST_COLUMNS}
        list_status = row.get("target_list_status", "").lower()
        if listed["family_representative"] or list_status in (
                f"{project.lower()}_family_representative", "family_representative"):
            priority = 1
        elif listed["other_priority"] or list_status in (
                f"{project.lower()}_other_priority", "other_priority"):
            priority = 2
        else:
            priority = 3
        out.append(GoatRow(project, taxid, name, status, priority, row.get("family", ""),
                           row.get("genus", "") or name.split(" ")[0], synonyms, number))
    return ([] if problems else out), problems


def _project_status(row: Mapping[str, str], project: str, only: bool,
                    fail: _Fail) -> str | None:
    """The project's status on a row, or None after reporting why it has none."""
    reached = [c for c in STATUS_COLUMNS if project in _names(row.get(c))]
    from_columns = max(reached, key=POSITION.__getitem__) if reached else None
    declared: str | None = None
    own = row.get(f"sequencing_status_{project.lower()}", "")
    text = own or (row.get("sequencing_status", "") if only else "")
    if text:
        declared = _status_value(text, project)
        if declared is None:
            column = f"sequencing_status_{project.lower()}" if own else "sequencing_status"
            fail("is not a GoaT sequencing status", f"use one of {', '.join(GOAT_STATUSES)}",
                 column, text)
            return None
    if declared and from_columns and not _compatible(declared, from_columns):
        fail(f"says {declared} but the status columns reach {from_columns}",
             "make sequencing_status the most advanced status the project reached",
             "sequencing_status", text)
        return None
    if declared and from_columns:
        return max(declared, from_columns, key=POSITION.__getitem__)
    return declared or from_columns or "targeted"


def statuses_of(rows: Iterable[GoatRow]) -> dict[tuple[str, int], SpeciesStatus]:
    """The rows' statuses as progress takes them (no dates: a file is a snapshot)."""
    return {(r.project, r.taxid): SpeciesStatus(r.project, r.taxid, r.status) for r in rows}


def targets_of(rows: Iterable[GoatRow],
               lineages: Mapping[int, Mapping[str, str]] | None = None) -> list[Target]:
    """The rows as progress targets, ``lineages`` (taxon id → rank → name) adding ranks."""
    return [r.target((lineages or {}).get(r.taxid)) for r in rows]


def _marked(status: str) -> set[str]:
    marked: set[str] = set()
    todo = [status]
    while todo:
        current = todo.pop()
        if current in marked or current == "targeted":
            continue
        marked.add(current)
        todo.extend(_IMPLIES.get(current, ()))
    return marked & set(STATUS_COLUMNS)


def _clean(value: str) -> str:
    return " ".join(value.split())


def goat_lines(rows: Iterable[GoatRow]) -> list[str]:
    """The lines (with their line ends) of a GoaT import file for ``rows``."""
    lines = ["\t".join(IMPORT_COLUMNS) + "\n"]
    for row in rows:
        project = row.project.upper()
        genus = row.genus or row.scientific_name.split(" ")[0]
        epithet = (row.scientific_name[len(genus) + 1:]
                   if row.scientific_name.startswith(genus + " ") else row.scientific_name)
        level = {1: "family_representative", 2: "other_priority"}.get(row.priority,
                                                                       "long_list")
        marked = _marked(row.status)
        cells = {
            "ncbi_taxon_id": str(row.taxid), "genus": genus, "species": epithet,
            "family": row.family, "target_list_status": f"{project.lower()}_{level}",
            "sequencing_status": "" if row.status == "targeted" else row.status,
            "synonym": ", ".join(row.synonyms), "project": project, "long_list": project,
            "family_representative": project if row.priority == 1 else "",
            "other_priority": project if row.priority == 2 else "",
            **{c: project if c in marked else "" for c in STATUS_COLUMNS},
        }
        lines.append("\t".join(_clean(cells[c]) for c in IMPORT_COLUMNS) + "\n")
    return lines


def write_goat(rows: Iterable[GoatRow], out: TextIO | str | Path) -> None:
    """Write ``rows`` as a GoaT import file (UTF-8, tab-separated) to a path or stream."""
    lines = goat_lines(rows)
    if isinstance(out, (str, Path)):
        Path(out).write_text("".join(lines), encoding="utf-8")
    else:
        out.writelines(lines)


def rows_of(targets: Iterable[Target], statuses: Mapping[tuple[str, int], SpeciesStatus]
            ) -> list[GoatRow]:
    """Targets and their statuses as rows for :func:`write_goat`."""
    out = []
    for target in targets:
        state = statuses.get((target.project, target.taxid))
        out.append(GoatRow(target.project, target.taxid, target.scientific_name,
                           state.status if state else "targeted", target.priority,
                           target.lineage.get("family", ""), target.lineage.get("genus", "")))
    return out
