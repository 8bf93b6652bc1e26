"""A record's audit trail as CSV (one line per changed field) or JSON (one object per version).

``lanhai history ACCESSION --format csv`` and ``GET /api/records/{accession}/history.csv``
both call :func:`write_history`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

from lanhai.errors import UsageError
from lanhai.exports.common import TableWriter, json_text
from lanhai.exports.tables import cell
from lanhai.model import Version

HISTORY_FORMATS = ("csv", "json")
COLUMNS = ("version", "action", "changed_at", "changed_by", "field", "old", "new", "note")


def _value(value: Any) -> str:
    """Scalars as the table exports write them; lists and objects as JSON (old/new exact)."""
    return json_text(value) if isinstance(value, (list, dict)) else cell(value)


def history_rows(versions: Sequence[Version]) -> Iterator[list[str]]:
    """One row per changed field of each version (a version without changes gets one row)."""
    for version in versions:
        head = [str(version.version), version.action, version.changed_at.isoformat(),
                version.changed_by]
        changes = version.changes or {"": [None, None]}
        for name, change in changes.items():
            old, new = change if isinstance(change, (list, tuple)) and len(change) == 2 \
                else (None, change)
            yield [*head, name, _value(old), _value(new), version.note or ""]


def _text_writer(out: IO[Any]) -> Callable[[str], None]:
    """Write text to a text stream, or UTF-8 bytes to a binary one."""
    binary = not (isinstance(out, io.TextIOBase) or hasattr(out, "encoding"))

    def write(text: str) -> None:
        out.write(text.encode("utf-8") if binary else text)

    return write


def write_history(versions: Sequence[Version], fmt: str, out: IO[Any]) -> int:
    """Write ``versions`` to ``out`` (a text or binary stream) as csv or json; rows written.

    CSV columns: version, action, changed_at, changed_by, field, old, new, note. Values that
    are lists or objects are JSON text. JSON is an array of versions as
    :meth:`Version.to_dict` gives them.
    """
    fmt = fmt.strip().lower()
    if fmt not in HISTORY_FORMATS:
        raise UsageError(f"unknown history format {fmt!r}; use one of: "
                         + ", ".join(HISTORY_FORMATS))
    write = _text_writer(out)
    if fmt == "json":
        write(json.dumps([v.to_dict() for v in versions], ensure_ascii=False, indent=2) + "\n")
        return len(versions)
    buffer = io.StringIO(newline="")
    writer = TableWriter(buffer)
    writer.writerow(COLUMNS)
    count = 0
    for row in history_rows(versions):
        writer.writerow(row)
        count += 1
    write(buffer.getvalue())
    return count
