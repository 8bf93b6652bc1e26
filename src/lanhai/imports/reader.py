"""Reading CSV, TSV and XLSX tables (plain or gzip) as a stream of rows.

Nothing here raises for a bad file: a fault in the bytes (wrong encoding, a truncated gzip
or workbook, an unclosed quote, more cells than the header) becomes a
:class:`~lanhai.errors.Problem` naming the row. Only bad *options* raise
:class:`~lanhai.errors.UsageError` (an unknown encoding, a sheet that does not exist).

Row numbers are what a spreadsheet shows: the header is row 1 and the first data row is row 2
(blank lines count, as they do in a spreadsheet).

A file past the :class:`~lanhai.limits.Limits` handed in raises
:class:`~lanhai.limits.TooLarge` as soon as the reader gets there, holding no more than the
limit: a gzip file is decompressed once, counted (``expanded``, ``ratio``), before its first
row is read, and counted again as it is read; an XLSX workbook's parts are checked by their
declared sizes and counted again while openpyxl reads them; a text line is measured before
it is parsed (``line``, which also bounds a row whose quoted cell spans lines); and the
cells of a row (``cells``) and the rows of the file (``rows``) are counted.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import re
import zlib
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from lanhai.errors import Problem, UsageError
from lanhai.limits import GuardedZip, Limits, TooLarge, gunzip, read_line

#: suffixes read as tables; anything else is sniffed
TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None}
XLSX_SUFFIXES = (".xlsx", ".xlsm")
_MARK = "lanhai.mark"
_MARKED = re.compile("[\udc80-\udcff]")
_DELIMITER_WORDS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


@dataclass
class Row:
    """One data row: its spreadsheet number, cells, and faults found in its bytes."""

    number: int
    cells: Sequence[Any]
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Table:
    """An open table. ``problems`` holds faults that stop reading (checked after ``rows``)."""

    name: str
    header: list[str] = field(default_factory=list)
    header_row: int = 1
    problems: list[Problem] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    _rows: Iterator[Row] = field(default_factory=lambda: iter(()))

    def rows(self) -> Iterator[Row]:
        """Data rows in file order; blank rows are skipped."""
        return self._rows

    def fail(self, reason: str, fix: str, row: int | None = None) -> None:
        self.problems.append(Problem(reason=reason, fix=fix, row=row, file=self.name))

    def too_many_cells(self, row: int, count: int) -> TooLarge:
        return self.limits.refuse(
            f"{self.name}, row {row}: the number of cells ({count:,})", "cells",
            self.limits.cells, "check that the delimiter is right and the file is a table; "
            "if it is, split the columns into several files or raise LANHAI_MAX_CELLS")


def delimiter_of(value: str | None) -> str | None:
    """The delimiter an option names ('\\t', 'tab', ',', ';'); None to decide from the file."""
    if value is None or value == "":
        return None
    if value in _DELIMITER_WORDS:
        return _DELIMITER_WORDS[value]
    if len(value) != 1:
        raise UsageError(f"the delimiter must be one character (or 'tab'), not {value!r}")
    return value


def check_encoding(encoding: str | None) -> None:
    """UsageError for an encoding Python does not know."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(f"unknown encoding {encoding!r}; use e.g. utf-8, latin-1, cp1252, "
                             "gb18030 or utf-16") from None


@contextmanager
def open_table(path: Path, *, encoding: str | None = None, delimiter: str | None = None,
               sheet: str | None = None, name: str | None = None,
               limits: Limits | None = None) -> Iterator[Table]:
    """Open ``path`` and read its header; rows stream from :meth:`Table.rows`.

    Raises :class:`~lanhai.limits.TooLarge` (here or while the rows stream) for a file past
    ``limits`` (default: :class:`~lanhai.limits.Limits()`)."""
    check_encoding(encoding)
    sep = delimiter_of(delimiter)
    table = Table(name=name or path.name, limits=limits or Limits())
    with ExitStack() as stack:
        try:
            magic = _magic(path)
        except OSError as err:
            table.fail(f"cannot be read ({err.strerror or err})", "check the file path")
            yield table
            return
        suffixes = [s.lower() for s in path.suffixes[-2:]]
        suffix = suffixes[-1] if suffixes else ""
        if not _known_format(table, magic, suffix):
            yield table
            return
        if magic.startswith(b"PK"):
            _open_xlsx(table, path, sheet, stack)
        else:
            if sheet:
                raise UsageError(f"--sheet applies to XLSX workbooks; {table.name} is a text "
                                 "table")
            gzipped = magic.startswith(b"\x1f\x8b")
            if gzipped:
                suffix = suffixes[0] if len(suffixes) == 2 else ""
            if sep is None and suffix in TEXT_SUFFIXES:
                sep = TEXT_SUFFIXES[suffix]
            _open_text(table, path, gzipped, encoding, sep, stack)
        yield table


def _magic(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(8)


def _known_format(table: Table, magic: bytes, suffix: str) -> bool:
    if not magic:
        table.fail("the file is empty", "give a table with a header row and data rows")
        return False
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        table.fail("is an old Excel .xls workbook, which cannot be read",
                   "open it and save it as .xlsx, or as CSV (UTF-8)")
        return False
    if suffix == ".ods":
        table.fail("is an OpenDocument spreadsheet, which cannot be read",
                   "save it as .xlsx, or as CSV (UTF-8)")
        return False
    if suffix in XLSX_SUFFIXES and not magic.startswith(b"PK"):
        table.fail("is not an XLSX workbook (it does not start like one): it is truncated, "
                   "corrupt or renamed", "save the workbook again from the spreadsheet program")
        return False
    if suffix == ".gz" and not magic.startswith(b"\x1f\x8b"):
        table.fail("is named .gz but is not gzip-compressed",
                   "rename it without .gz, or compress it with gzip")
        return False
    return True


# --- XLSX ------------------------------------------------------------------------------------

def _load_workbook(path: Path, limits: Limits, name: str) -> Any:
    """openpyxl's read-only workbook over a :class:`~lanhai.limits.GuardedZip`: the parts'
    declared sizes are checked before openpyxl parses any (the shared strings are read whole
    when the workbook opens), and every part is counted while it is read."""
    from openpyxl.reader.excel import ExcelReader

    reader = ExcelReader(path, read_only=True, data_only=True)
    reader.archive.close()
    reader.archive = GuardedZip(path, limits, name)
    reader.valid_files = reader.archive.namelist()
    reader.read()
    return reader.wb


def _open_xlsx(table: Table, path: Path, sheet: str | None, stack: ExitStack) -> None:
    try:
        workbook = _load_workbook(path, table.limits, table.name)
    except TooLarge:
        raise
    except Exception as err:  # openpyxl raises many types for broken zips and XML
        table.fail(f"is not a readable XLSX workbook: it is truncated or corrupt "
                   f"({type(err).__name__}: {err})"[:300],
                   "save the workbook again from the spreadsheet program, or export it as CSV")
        return
    stack.callback(workbook.close)
    names = list(workbook.sheetnames)
    if sheet is not None:
        if sheet not in names:
            raise UsageError(f"{table.name} has no sheet {sheet!r}; its sheets are: "
                             + ", ".join(repr(n) for n in names))
        worksheet = workbook[sheet]
    elif names:
        worksheet = workbook[names[0]]
    else:
        table.fail("the workbook has no sheets", "give a workbook with a data sheet")
        return
    if hasattr(worksheet, "reset_dimensions"):
        worksheet.reset_dimensions()  # stored dimensions are often wrong: read every cell
    values = worksheet.iter_rows(values_only=True)
    rows = _xlsx_rows(table, values)
    if _read_header(table, rows):
        table._rows = _data_rows(table, rows)


def _xlsx_rows(table: Table, values: Iterator[tuple[Any, ...]]) -> Iterator[Row]:
    number = 0
    try:
        for number, cells in enumerate(values, start=1):
            if len(cells) > table.limits.cells:
                used = len(cells) - next((i for i, v in enumerate(reversed(cells))
                                          if v is not None), len(cells))
                if used > table.limits.cells:
                    raise table.too_many_cells(number, used)
                cells = cells[:used]
            yield Row(number, [_xlsx_cell(v) for v in cells])
    except TooLarge:
        raise
    except Exception as err:  # a cut-off zip member or broken XML inside the workbook
        table.fail(f"the workbook is truncated or corrupt: reading stopped after row {number} "
                   f"({type(err).__name__}: {err})"[:300],
                   "save the workbook again from the spreadsheet program, or export it as CSV",
                   row=number + 1)


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dt.time):
        return value.isoformat()
    return value


# --- CSV / TSV -------------------------------------------------------------------------------

def _mark_bytes(err: UnicodeError) -> tuple[str, int]:
    """Codec error handler: keep each undecodable byte as a lone surrogate to report later."""
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start:err.end]
    return "".join(chr(0xDC00 + b) for b in bad), err.end


def _open_text(table: Table, path: Path, gzipped: bool, encoding: str | None,
               sep: str | None, stack: ExitStack) -> None:
    codecs.register_error(_MARK, _mark_bytes)
    binary: io.BufferedReader = path.open("rb")
    stack.callback(binary.close)
    if gzipped:
        _measure(binary, table)
        binary = gunzip(binary, table.limits, table.name)
        stack.callback(binary.close)
    try:
        head = binary.peek(4)[:4]
    except (OSError, EOFError, zlib.error) as err:
        table.fail(f"the gzip file is truncated or corrupt ({err})", "compress it again with "
                   "gzip, or give the uncompressed file")
        return
    if head.startswith(b"PK"):
        table.fail("is a compressed workbook", "give the .xlsx itself (not gzipped)")
        return
    if not head:
        table.fail("the file is empty", "give a table with a header row and data rows")
        return
    chosen = encoding or _from_bom(head)
    text: TextIO = io.TextIOWrapper(binary, encoding=chosen, errors=_MARK, newline="")
    label = encoding or "UTF-8"
    records = _text_rows(table, text, sep, label, explicit=encoding is not None)
    if _read_header(table, records):
        table._rows = _data_rows(table, records)


def _measure(raw: io.BufferedReader, table: Table) -> None:
    """Decompress the whole gzip file once, counting, before any row is read: a bomb is
    refused at once rather than after its first rows were checked (decompressing costs
    little beside checking rows). Faults of the gzip data are left to the reading that
    follows, which tells after which row they come."""
    with contextlib.suppress(OSError, EOFError, zlib.error), \
            gunzip(raw, table.limits, table.name) as probe:
        while probe.read1(1 << 20):
            pass
    raw.seek(0)


def _from_bom(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return "utf-8-sig"


def _sniff(line: str) -> str:
    counts = {sep: line.count(sep) for sep in ("\t", ",", ";")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


class _Lines:
    """The lines of a text table as csv.reader takes them, each read within the line limit.

    The lines of one row (a quoted cell may hold line breaks) are within the limit together,
    and a line without quotes (whose cells are its delimiters plus one) is refused before
    csv splits it when it has more cells than the limit. :meth:`next_row` starts the next
    row's count (csv asks for a row's lines only, never the next row's)."""

    def __init__(self, table: Table, text: TextIO) -> None:
        self.table, self.text = table, text
        self.sep = ","
        self.row = 1
        self.used = 0
        self.lines = 0
        self.pending: str | None = None

    def first(self) -> str:
        """The first line, kept to be read again (to choose the delimiter from it)."""
        self.pending = self._read()
        return self.pending

    def use(self, sep: str) -> None:
        self.sep = sep
        if self.pending:
            self._check_cells(self.pending)

    def next_row(self) -> None:
        self.row += 1
        self.used = self.lines = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.pending is not None:
            line, self.pending = self.pending, None
        else:
            line = self._read()
            self._check_cells(line)
        if not line:
            raise StopIteration
        return line

    def _read(self) -> str:
        limit = self.table.limits.line
        line = read_line(self.text, max(0, limit - self.used))
        if line is None:
            raise self._too_long(limit)
        self.used += len(line)
        self.lines += 1
        return line

    def _check_cells(self, line: str) -> None:
        if self.lines > 1 or '"' in line:
            return  # quoted cells: csv counts them, within the line limit
        cells = line.rstrip("\r\n").rstrip(self.sep).count(self.sep) + 1
        if cells > self.table.limits.cells:
            raise self.table.too_many_cells(self.row, cells)

    def _too_long(self, limit: int) -> TooLarge:
        name = self.table.name
        if self.lines:
            return self.table.limits.refuse(
                f"{name}, row {self.row}: the row (a quoted cell runs on over "
                f"{self.lines + 1:,} lines)", "line", limit,
                "a cell that starts with \" must end with \", and a \" inside it is written "
                "\"\"; correct the quotes on this row, or raise LANHAI_MAX_LINE if its cells "
                "are genuinely this long")
        return self.table.limits.refuse(
            f"{name}, row {self.row}: the line", "line", limit,
            "check that the file is a text table (CSV or TSV) with one row a line; if its rows "
            "are genuinely this long, raise LANHAI_MAX_LINE")


def _text_rows(table: Table, text: TextIO, sep: str | None, label: str,
               explicit: bool) -> Iterator[Row]:
    number = 0
    limits = table.limits
    csv.field_size_limit(limits.line + 2)  # a cell is within its row: the line limit decides
    try:
        lines = _Lines(table, text)
        first = lines.first()
        if sep is None:
            sep = _sniff(first)
        lines.use(sep)
        for number, cells in enumerate(csv.reader(lines, delimiter=sep, strict=True), start=1):
            lines.next_row()
            if len(cells) > limits.cells:
                used = len(cells) - next((i for i, c in enumerate(reversed(cells)) if c),
                                         len(cells))
                if used > limits.cells:
                    raise table.too_many_cells(number, used)
                cells = cells[:used]
            problems: list[Problem] = []
            if not all(map(str.isascii, cells)):
                cells = _unmark(table, cells, number, label, explicit, problems)
            yield Row(number, cells, problems)
    except csv.Error as err:
        message = str(err)
        if "unexpected end of data" in message:
            reason = "has a quote (\") that opens a cell and is never closed"
        elif "field larger than field limit" in message:
            reason = (f"has a cell longer than {limits.line:,} characters: probably a quote "
                      "(\") that opens a cell and is never closed")
        else:
            reason = f"cannot be read as {_delimiter_name(sep)}-separated text ({message})"
        table.fail(reason, "check the quotes on this row: a cell that starts with \" must end "
                   "with \", and a \" inside it is written \"\"", row=number + 1)
    except (OSError, EOFError, zlib.error) as err:
        table.fail(f"the gzip file is truncated or corrupt: reading stopped after row {number} "
                   f"({err})", "compress the table again with gzip, or give it uncompressed",
                   row=number + 1)
    except UnicodeError as err:  # only codecs without byte-level recovery (UTF-16 halves)
        table.fail(f"is not valid {label} text ({err})",
                   "give the right --encoding, or save the file as UTF-8", row=number + 1)


def _delimiter_name(sep: str | None) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon"}.get(sep or ",", repr(sep))


def _unmark(table: Table, cells: list[str], number: int, label: str, explicit: bool,
            problems: list[Problem]) -> list[str]:
    """Report undecodable bytes by cell, and replace them with U+FFFD so checks can go on."""
    out = list(cells)
    for index, cell in enumerate(cells):
        if cell.isascii() or not _MARKED.search(cell):
            continue
        out[index] = _MARKED.sub("\ufffd", cell)
        bad = [ord(ch) - 0xDC00 for ch in cell if 0xDC80 <= ord(ch) <= 0xDCFF]
        distinct = list(dict.fromkeys(bad))
        byte_list = ("byte " if len(distinct) == 1 else "bytes ") + ", ".join(
            f"0x{b:02X}" for b in distinct)
        if explicit:
            fix = f"the file is not {label}: give the right --encoding"
        else:
            fix = ("the file is not UTF-8; it is probably Latin-1 or Windows-1252: give "
                   "--encoding latin-1 (or --encoding cp1252; gb18030 for Chinese), or save "
                   "it as CSV UTF-8")
        column = (table.header[index] if index < len(table.header) and table.header[index]
                  else f"(column {index + 1})")
        verb = "is" if len(distinct) == 1 else "are"
        problems.append(Problem(reason=f"has {byte_list} that {verb} not valid {label}",
                                fix=fix, row=number, column=column if table.header else None,
                                value=out[index][:200]))
    return out


# --- shared ----------------------------------------------------------------------------------

def _blank(cells: Sequence[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _read_header(table: Table, rows: Iterator[Row]) -> bool:
    """Take the first non-blank row as the header; False (with a problem) if there is none."""
    for row in rows:
        if _blank(row.cells):
            continue
        header = ["" if c is None else str(c).strip() for c in row.cells]
        if header:
            header[0] = header[0].lstrip("\ufeff")
        while header and not header[-1]:
            header.pop()
        table.header, table.header_row = header, row.number
        table.problems.extend(Problem(reason=p.reason, fix=p.fix, row=p.row, column=None,
                                      value=p.value, file=table.name) for p in row.problems)
        return True
    if not table.problems:
        table.fail("has no header row (the file has no non-blank rows)",
                   "give a table whose first row names the columns")
    return False


def _data_rows(table: Table, rows: Iterator[Row]) -> Iterator[Row]:
    width = len(table.header)
    most = table.limits.rows
    for row in rows:
        if row.number - table.header_row > most:
            raise table.limits.refuse(
                f"{table.name}, row {row.number:,}: the number of rows", "rows", most,
                "split the table into several files and import each, or raise "
                "LANHAI_MAX_ROWS")
        if _blank(row.cells):
            continue
        extra = [(i, c) for i, c in enumerate(row.cells[width:], start=width)
                 if c is not None and not (isinstance(c, str) and not c.strip())]
        if extra:
            index, value = extra[0]
            row.problems.append(Problem(
                reason=f"has {len(extra)} more cell{'s' if len(extra) > 1 else ''} than the "
                       f"header has columns ({width})",
                fix="add a header for the extra column, or quote cells that contain the "
                    "delimiter", row=row.number, column=f"(column {index + 1})",
                value=str(value)[:200]))
        yield row
