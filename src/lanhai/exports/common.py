"""What every export writer shares: the items it is fed, its options, and value helpers.

A writer is a function ``(spec, batches, options) -> Iterator[bytes]``: it pulls batches of
:class:`Item` (a record and the links the caller may see) and yields encoded chunks, at
least one per batch, so a caller can stream them to a file or an HTTP response with flat
memory.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lanhai.kinds import KindSpec
from lanhai.kinds.vocab import missing_term
from lanhai.model import Link, Record

DEFAULT_SBOL_NAMESPACE = "https://w3id.org/lanhai"

#: how a spreadsheet cell starts a formula (Excel, LibreOffice, Google Sheets), full-width
#: forms included; a text cell starting so is written with a leading apostrophe
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d",
                  "\uff20")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def spreadsheet_safe(value: object) -> str:
    """A cell for a CSV/TSV file someone may open in a spreadsheet: text that would start a
    formula (``=HYPERLINK(…)``, ``+cmd|…``, ``@SUM(…)``) gets a leading apostrophe, which
    spreadsheets show as text; numbers (``-4.22``, ``+1e3``) and a lone ``-`` stay as they
    are."""
    text = "" if value is None else str(value)
    if (text.startswith(FORMULA_STARTS) and text not in ("-", "+")
            and not _PLAIN_NUMBER.match(text)):
        return "'" + text
    return text


class TableWriter:
    """``csv.writer`` whose every cell is :func:`spreadsheet_safe`."""

    def __init__(self, sink: Any, tsv: bool = False, lineterminator: str = "\r\n") -> None:
        self._writer = (csv.writer(sink, dialect="excel-tab", lineterminator=lineterminator)
                        if tsv else csv.writer(sink, lineterminator=lineterminator))

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([spreadsheet_safe(c) for c in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


@dataclass(frozen=True)
class Item:
    """One record to export and the links into and out of it the caller may see."""

    record: Record
    links: Sequence[Link] = ()


Batch = Sequence[Item]


@dataclass(frozen=True)
class DatasetInfo:
    """Dataset-level metadata written into a Darwin Core Archive's eml.xml."""

    title: str = ""
    creator: str = "Lanhai marine bioresource bank"
    contact_email: str = ""
    abstract: str = ""
    #: one of :data:`lanhai.exports.dwca.LICENSES`
    license: str = "CC-BY-4.0"


@dataclass(frozen=True)
class ExportOptions:
    """Per-export options (the defaults suit a CLI run on the bank's machine)."""

    #: URL prefix of SBOL3 identities and of the accession URIs provenance points to
    sbol_namespace: str = DEFAULT_SBOL_NAMESPACE
    #: SBOL3 serialisation: turtle, rdf-xml, json-ld, n-triples, sorted-n-triples
    rdf_format: str = "turtle"
    dataset: DatasetInfo = field(default_factory=DatasetInfo)
    #: records fetched per database round trip
    batch_size: int = 1000


Writer = Callable[[KindSpec, Iterable[Batch], ExportOptions], Iterator[bytes]]


def number_text(value: float | int) -> str:
    """12.0 -> '12', 12.5 -> '12.5' (shortest text that reads back as the same number)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def known_value(value: Any) -> Any:
    """``value``, or None when it is absent or an INSDC missing-value term."""
    if value is None or value == "" or missing_term(value) is not None:
        return None
    return value


def json_text(value: Any) -> str:
    """Compact JSON, non-ASCII kept (for events and other structured values in a cell)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


class TextSink:
    """A text buffer a writer fills and drains once per batch (``drain`` -> UTF-8 bytes)."""

    def __init__(self) -> None:
        self.buffer = io.StringIO(newline="")

    def write(self, text: str) -> int:
        return self.buffer.write(text)

    def drain(self) -> bytes:
        data = self.buffer.getvalue().encode("utf-8")
        self.buffer.seek(0)
        self.buffer.truncate()
        return data


class ByteSink(io.RawIOBase):
    """A write-only, unseekable byte stream drained by the writer (for zip output)."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def drain(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data
