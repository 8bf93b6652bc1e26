"""Read tables of NCBI assemblies into :class:`~lanhai.genomes.quality.AssemblyMetrics`.

Two layouts, told apart by their header:

- **assembly_summary**: NCBI's ``assembly_summary.txt`` (``genomes/ASSEMBLY_REPORTS``): a
  ``#   See ftp://…README_assembly_summary.txt`` comment, then a header line starting
  ``#assembly_accession`` (older files: ``# assembly_accession``), tab-separated, "na" for a
  missing value. Read: assembly_accession, asm_name, taxid, organism_name, assembly_level,
  seq_rel_date (``YYYY/MM/DD``), and where present genome_size (the total length),
  scaffold_count and contig_count. NCBI's summary has no N50, QV or BUSCO.
- **ncbi_assemblies**: the team's ``ncbi_assemblies.tsv`` (NCBI statistics joined with the
  VGP assembly manuscript's compleasm/BUSCO and share assigned to chromosomes), one header
  line starting ``accession``. BUSCO (5.7.1, vertebrata_odb10) is used where the row has it,
  else compleasm (0.2.6, busco mode, vertebrata_odb10); shares are count / 3354, the size of
  vertebrata_odb10. compleasm's "I" class is not in that table, so it stays unknown. Only
  NCBI's statistics are read, not the manuscript's own ``vgpms_*`` recomputations.

Every row is checked (:func:`~lanhai.genomes.quality.check_metrics`: taxon ids, accessions,
levels, dates, impossible values). The result holds the sound rows **and** a problem per
fault, each with its line number; whether a file with problems is used at all is the
caller's decision.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from lanhai.errors import LanhaiError, Problem, ValidationFailed
from lanhai.genomes.quality import ACCESSION, AssemblyLevel, AssemblyMetrics, Busco, check_metrics

Layout = Literal["assembly_summary", "ncbi_assemblies"]
T = TypeVar("T")
#: genes in BUSCO's vertebrata_odb10 lineage, which the team table's counts are out of
VERTEBRATA_ODB10 = 3354
_MISSING = ("", "na", "NA", "n/a")
_DATE = re.compile(r"^(\d{4})[-/](\d{2})[-/](\d{2})$")
_CLASSES = ("single", "duplicated", "fragmented", "missing")

#: metrics field -> column, per layout (for placing problems on the right cell)
_COLUMNS: dict[Layout, dict[str, str]] = {
    "assembly_summary": {
        "accession": "assembly_accession", "assembly_name": "asm_name", "taxid": "taxid",
        "organism": "organism_name", "assembly_level": "assembly_level",
        "release_date": "seq_rel_date", "total_length_bp": "genome_size",
        "scaffold_count": "scaffold_count", "contig_count": "contig_count"},
    "ncbi_assemblies": {
        "accession": "accession", "assembly_name": "assembly_name",
        "taxid": "ncbi_taxon_id", "organism": "ncbi_organism_name",
        "assembly_level": "assembly_level", "release_date": "release_date",
        "total_length_bp": "total_length_bp", "contig_n50_bp": "contig_n50_bp",
        "scaffold_n50_bp": "scaffold_n50_bp", "contig_count": "contig_count",
        "scaffold_count": "scaffold_count", "chromosome_count": "chromosome_count",
        "assigned_to_chromosomes_pct": "assigned_to_chromosomes_pct"},
}
_REQUIRED: dict[Layout, tuple[str, ...]] = {
    "assembly_summary": ("assembly_accession", "taxid", "organism_name", "assembly_level",
                         "seq_rel_date", "asm_name"),
    "ncbi_assemblies": ("accession", "ncbi_taxon_id", "assembly_level", "release_date"),
}
_SOURCE: dict[Layout, str] = {
    "assembly_summary": "NCBI assembly_summary.txt",
    "ncbi_assemblies": "NCBI statistics with VGP manuscript compleasm/BUSCO",
}


@dataclass(frozen=True)
class AssemblyTable:
    """What a table gave: the sound rows (``rows``, with their line numbers in ``lines``)
    and a problem per fault (``problems``, each naming its line)."""

    layout: Layout
    rows: list[AssemblyMetrics]
    lines: list[int]
    problems: list[Problem]


class _Cell(Exception):
    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.reason, self.fix = reason, fix


def read_assembly_table(source: str | Iterable[str], *, file: str | None = None,
                        keep: Callable[[Mapping[str, str]], bool] | None = None,
                        today: dt.date | None = None) -> AssemblyTable:
    """Read an assembly table in either layout (text, or its lines). ``keep`` chooses rows
    by their cells before they are read (e.g. ``lambda r: r["selected_as"] == "fish"``);
    ``today`` bounds release dates (default: the UTC date). Refuses, with
    :class:`ValidationFailed`, text with neither header or without a required column."""
    lines = source.splitlines() if isinstance(source, str) else source
    layout: Layout | None = None
    header: list[str] = []
    table = AssemblyTable("ncbi_assemblies", [], [], [])
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if layout is None:
            found = _header(line)
            if found is None:
                if line.startswith("#") or not line.strip():
                    continue
                raise _not_a_table(number, line, file)
            layout, header = found
            table = AssemblyTable(layout, [], [], [])
            lacking = [c for c in _REQUIRED[layout] if c not in header]
            if lacking:
                raise ValidationFailed(f"the {layout} table lacks {', '.join(lacking)}", [
                    Problem(reason=f"the header lacks the column {c}", row=number,
                            column=c, file=file, fix="give the table as the source wrote it")
                    for c in lacking])
            continue
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != len(header):
            table.problems.append(Problem(
                reason=f"has {len(cells)} cells, not {len(header)}", row=number, file=file,
                fix="one tab-separated cell per column of the header"))
            continue
        row = dict(zip(header, (c.strip() for c in cells), strict=True))
        if keep is not None and not keep(row):
            continue
        metrics, problems = _read_row(layout, row, number, file, today)
        accession = row[_COLUMNS[layout]["accession"]]
        if accession in seen:
            problems.append(Problem(
                reason=f"the accession is already on line {seen[accession]}", row=number,
                column=_COLUMNS[layout]["accession"], value=accession, file=file,
                fix="keep one row per assembly version"))
        else:
            seen[accession] = number
        if problems or metrics is None:
            table.problems.extend(problems)
            continue
        table.rows.append(metrics)
        table.lines.append(number)
    if layout is None:
        raise ValidationFailed("no assembly table header found", [Problem(
            reason="no header line", file=file, fix=_HEADER_FIX)])
    return table


def read_assembly_file(path: str | Path, *,
                       keep: Callable[[Mapping[str, str]], bool] | None = None,
                       today: dt.date | None = None) -> AssemblyTable:
    """:func:`read_assembly_table` over a file (UTF-8), streamed line by line."""
    where = Path(path)
    with where.open(encoding="utf-8", newline="") as handle:
        return read_assembly_table(handle, file=where.name, keep=keep, today=today)


_HEADER_FIX = ("give NCBI's assembly_summary.txt (header '#assembly_accession …') or the "
               "assembly table (header 'accession …'), tab-separated")


def _header(line: str) -> tuple[Layout, list[str]] | None:
    if line.startswith("#"):
        names = line.lstrip("#").strip().split("\t")
        if names and names[0].strip() == "assembly_accession":
            return "assembly_summary", [n.strip() for n in names]
        return None
    names = [n.strip() for n in line.split("\t")]
    if names and names[0] == "accession":
        return "ncbi_assemblies", names
    return None


def _not_a_table(number: int, line: str, file: str | None) -> ValidationFailed:
    return ValidationFailed("not an assembly table", [Problem(
        reason="is not a header of an assembly table", row=number, value=line[:80],
        file=file, fix=_HEADER_FIX)])


def _read_row(layout: Layout, row: Mapping[str, str], number: int, file: str | None,
              today: dt.date | None) -> tuple[AssemblyMetrics | None, list[Problem]]:
    columns = _COLUMNS[layout]
    problems: list[Problem] = []
    accession = row[columns["accession"]]

    def cell(field: str, parse: Callable[[str], T]) -> T | None:
        column = columns.get(field)
        if column is None or column not in row or row[column] in _MISSING:
            return None
        try:
            return parse(row[column])
        except _Cell as err:
            problems.append(Problem(reason=err.reason, fix=err.fix, row=number,
                                    column=column, value=row[column], record=accession,
                                    file=file))
            return None

    if not ACCESSION.match(accession):
        problems.append(Problem(
            reason="is not an INSDC assembly accession", row=number,
            column=columns["accession"], value=accession, file=file,
            fix="write GCA_ or GCF_, nine digits and a version, e.g. GCA_014839685.1"))
    taxid = cell("taxid", _taxid)
    if taxid is None and row.get(columns["taxid"], "") in _MISSING:
        problems.append(Problem(reason="the taxon id is missing", row=number,
                                column=columns["taxid"], record=accession, file=file,
                                fix="give the NCBI Taxonomy id of the organism"))
    organism = cell("organism", str)
    if organism is None and layout == "ncbi_assemblies":
        organism = row.get("species_name") or None
    busco, tool = (_busco(row, number, file, accession, problems)
                   if layout == "ncbi_assemblies" else (None, None))
    metrics = AssemblyMetrics(
        accession=accession, assembly_name=cell("assembly_name", str), taxid=taxid,
        organism=organism, assembly_level=cell("assembly_level", _level),
        release_date=cell("release_date", _date),
        total_length_bp=cell("total_length_bp", _whole),
        contig_n50_bp=cell("contig_n50_bp", _whole),
        scaffold_n50_bp=cell("scaffold_n50_bp", _whole),
        contig_count=cell("contig_count", _whole),
        scaffold_count=cell("scaffold_count", _whole),
        chromosome_count=cell("chromosome_count", _whole),
        assigned_to_chromosomes_pct=cell("assigned_to_chromosomes_pct", _decimal),
        busco=busco, source=_SOURCE[layout])
    for p in check_metrics(metrics, today=today):
        field = p.field or ""
        if field == "accession":
            continue  # already placed above
        column = (f"{tool}_{field.removeprefix('busco.')}" if field.startswith("busco.")
                  else columns.get(field, field))
        problems.append(Problem(reason=p.reason, fix=p.fix, row=number, column=column,
                                value=p.value, record=accession, file=file))
    return (None if problems else metrics), problems


def _busco(row: Mapping[str, str], number: int, file: str | None, accession: str,
           problems: list[Problem]) -> tuple[Busco | None, str | None]:
    """BUSCO's counts where the row has them, else compleasm's."""
    for tool in ("busco", "compleasm"):
        cells = {c: row.get(f"{tool}_{c}", "") for c in _CLASSES}
        given = [c for c, v in cells.items() if v not in _MISSING]
        if not given:
            continue
        if len(given) < len(_CLASSES):
            lacking = ", ".join(f"{tool}_{c}" for c in _CLASSES if c not in given)
            problems.append(Problem(reason=f"{tool} counts are partly missing ({lacking})",
                                    row=number, column=f"{tool}_{given[0]}", record=accession,
                                    file=file, fix=f"give every {tool} count or none"))
            return None, tool
        counts: dict[str, int] = {}
        for c, v in cells.items():
            try:
                counts[c] = _whole(v)
            except _Cell as err:
                problems.append(Problem(reason=err.reason, fix=err.fix, row=number,
                                        column=f"{tool}_{c}", value=v, record=accession,
                                        file=file))
        if len(counts) < len(_CLASSES):
            return None, tool
        try:
            busco = Busco.from_counts(counts["single"], counts["duplicated"],
                                      counts["fragmented"], counts["missing"],
                                      VERTEBRATA_ODB10, lineage="vertebrata_odb10",
                                      tool="busco" if tool == "busco" else "compleasm")
        except LanhaiError as err:
            problems.append(Problem(reason=err.message, row=number, record=accession,
                                    column=f"{tool}_single", file=file))
            return None, tool
        complete = row.get(f"{tool}_complete", "")
        if complete not in _MISSING and complete != str(counts["single"] +
                                                        counts["duplicated"]):
            problems.append(Problem(
                reason=f"{tool} complete {complete} is not single {counts['single']} + "
                       f"duplicated {counts['duplicated']}", row=number,
                column=f"{tool}_complete", value=complete, record=accession, file=file,
                fix="copy every count from the same run"))
        return busco, tool
    return None, None


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _Cell("is not a whole number", "give a whole number like 42") from None


def _decimal(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise _Cell("is not a number", "give a decimal number like 12.5") from None


def _taxid(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _Cell("is not a taxon id", "give the NCBI Taxonomy id, a positive whole "
                    "number like 8078") from None
    if value < 1:
        raise _Cell("is not a taxon id (a positive whole number)",
                    "give the NCBI Taxonomy id, e.g. 8078")
    return value


def _level(text: str) -> AssemblyLevel:
    try:
        return AssemblyLevel.parse(text)
    except LanhaiError:
        raise _Cell("is not an assembly level",
                    "write Contig, Scaffold, Chromosome or Complete Genome") from None


def _date(text: str) -> dt.date:
    found = _DATE.match(text)
    if found is not None:
        try:
            return dt.date(*(int(g) for g in found.groups()))
        except ValueError:
            pass
    raise _Cell("is not a date", "write the date as YYYY-MM-DD (NCBI: YYYY/MM/DD)")
