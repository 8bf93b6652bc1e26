"""Reading CSV, TSV and XLSX tables (plain or gzip) as a stream of rows.

Nothing here raises for a bad file: a fault in the bytes (wrong encoding, a truncated gzip
or workbook, an unclosed quote, more cells than the header) becomes a
:class:`~lanhai.errors.Problem` naming the row. Only bad *options* raise
:class:`~lanhai.errors.UsageError` (an unknown encoding, a sheet that does not exist).

Row numbers are what a spreadsheet shows: the header is row 1 and the first data row is row 2
(blank lines count, as they do in a spreadsheet).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import re
import zlib
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO, cast

from lanhai.errors import Problem, UsageError

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
    _rows: Iterator[Row] = field(default_factory=lambda: iter(()))

    def rows(self) -> Iterator[Row]:
        """Data rows in file order; blank rows are skipped."""
        return self._rows

    def fail(self, reason: str, fix: str, row: int | None = None) -> None:
        self.problems.append(Problem(reason=reason, fix=fix, row=row, file=self.name))


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
               sheet: str | None = None, name: str | None = None) -> Iterator[Table]:
    """Open ``path`` and read its header; rows stream from :meth:`Table.rows`."""
    check_encoding(encoding)
    sep = delimiter_of(delimiter)
    table = Table(name=name or path.name)
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

def _open_xlsx(table: Table, path: Path, sheet: str | None, stack: ExitStack) -> None:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
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
            yield Row(number, [_xlsx_cell(v) for v in cells])
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
    binary: io.BufferedIOBase = path.open("rb")
    stack.callback(binary.close)
    if gzipped:
        binary = gzip.GzipFile(fileobj=binary, mode="rb")
        stack.callback(binary.close)
    try:
        head = binary.read(4)
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
    binary.seek(0)
    text: TextIO = io.TextIOWrapper(cast(BinaryIO, binary), encoding=chosen, errors=_MARK,
                                    newline="")
    label = encoding or "UTF-8"
    records = _text_rows(table, text, sep, label, explicit=encoding is not None)
    if _read_header(table, records):
        table._rows = _data_rows(table, records)


def _from_bom(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return "utf-8-sig"


def _sniff(line: str) -> str:
    counts = {sep: line.count(sep) for sep in ("\t", ",", ";")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _text_rows(table: Table, text: TextIO, sep: str | None, label: str,
               explicit: bool) -> Iterator[Row]:
    number = 0
    try:
        first = text.readline()
        if sep is None:
            sep = _sniff(first)
        lines = _chain(first, text)
        for number, cells in enumerate(csv.reader(lines, delimiter=sep, strict=True), start=1):
            problems: list[Problem] = []
            if not all(map(str.isascii, cells)):
                cells = _unmark(table, cells, number, label, explicit, problems)
            yield Row(number, cells, problems)
    except csv.Error as err:
        message = str(err)
        if "unexpected end of data" in message:
            reason = "has a quote (\") that opens a cell and is never closed"
        elif "field larger than field limit" in message:
            reason = ("has a cell longer than 131,072 characters: probably a quote (\") that "
                      "opens a cell and is never closed")
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


def _chain(first: str, rest: TextIO) -> Iterator[str]:
    yield first
    yield from rest


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
    for row in rows:
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
