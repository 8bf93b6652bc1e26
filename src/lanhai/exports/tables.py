"""CSV, TSV and JSON exports of any record kind.

Columns: ``accession``, ``name``, the kind's fields in spec order (then its computed
fields), and ``identifiers`` (every external identifier of the record). Cells read back
through ``lanhai import``: lists are joined with '; ', depth and temperature ranges are
written as '0-5 m' and '20-25', coordinates as 'lat lon', yes/no as true/false, and
lifecycle events and other structured values as JSON text.

JSON is an array of record objects as :meth:`Record.to_dict` gives them, each with its
``links``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from lanhai.exports.common import (
    Batch,
    ExportOptions,
    TableWriter,
    TextSink,
    json_text,
    number_text,
)
from lanhai.kinds import KindSpec, vocab
from lanhai.kinds.fields import Field
from lanhai.model import Record


def columns(spec: KindSpec) -> list[str]:
    """Header of a table export of ``spec``."""
    names = [f.name for f in spec.fields if f.name != "identifiers"]
    # a kind whose display name is its own field (platform: name) has the column once
    return list(dict.fromkeys(["accession", "name", *names, *spec.computed, "identifiers"]))


def cell(value: Any, fld: Field | None = None) -> str:
    """One value as table text (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_text(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value
    ):
        if fld is not None and len(value) == 2:
            low, high = (number_text(v) if not isinstance(v, str) else v for v in value)
            span = low if low == high else f"{low}-{high}"
            if fld.normalise is vocab.depth:
                return f"{span} m"
            if fld.normalise is vocab.temperature:
                return span
            if fld.normalise is vocab.lat_lon:
                return f"{low} {high}"
        return "; ".join(number_text(v) if not isinstance(v, str) else v for v in value)
    return json_text(value)


def row(spec: KindSpec, record: Record) -> list[str]:
    """The cells of ``record`` in :func:`columns` order."""
    by_name = {f.name: f for f in spec.fields}
    out = [record.accession, record.name]
    for name in columns(spec)[2:-1]:
        if name == "restricted":
            out.append(cell(record.restricted))
        else:
            out.append(cell(record.fields.get(name), by_name.get(name)))
    out.append("; ".join(record.identifiers))
    return out


def _table(spec: KindSpec, batches: Iterable[Batch], dialect: str) -> Iterator[bytes]:
    sink = TextSink()
    writer = (TableWriter(sink, tsv=True, lineterminator="\n") if dialect == "tsv"
              else TableWriter(sink))
    writer.writerow(columns(spec))
    yield sink.drain()
    for batch in batches:
        writer.writerows(row(spec, item.record) for item in batch)
        yield sink.drain()


def write_csv(spec: KindSpec, batches: Iterable[Batch], options: ExportOptions
              ) -> Iterator[bytes]:
    """RFC 4180 CSV (comma, CRLF, UTF-8 without BOM)."""
    return _table(spec, batches, "csv")


def write_tsv(spec: KindSpec, batches: Iterable[Batch], options: ExportOptions
              ) -> Iterator[bytes]:
    """Tab-separated values (LF, UTF-8); cells with tabs or newlines are quoted."""
    return _table(spec, batches, "tsv")


def write_json(spec: KindSpec, batches: Iterable[Batch], options: ExportOptions
               ) -> Iterator[bytes]:
    """A JSON array of record objects, one per line, each with its links."""
    yield b"["
    first = True
    for batch in batches:
        parts = []
        for item in batch:
            body = item.record.to_dict()
            body["links"] = [link.to_dict() for link in item.links]
            parts.append(("\n" if first else ",\n") + json.dumps(body, ensure_ascii=False))
            first = False
        yield "".join(parts).encode("utf-8")
    yield b"\n]\n" if not first else b"]\n"
