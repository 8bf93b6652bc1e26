"""Resource limits: how much a request, a file or a row may hold before it is refused.

Every limit is a setting (``LANHAI_MAX_*``, see :data:`lanhai.settings.SETTINGS_DOC`) with a
default that suits a bank on one machine; exceeding one is a clear error (HTTP 413 or 400,
exit code 1) naming the limit and the setting, and nothing is written. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from lanhai.errors import LanhaiError, UsageError

KIB, MIB, GIB = 1024, 1024 ** 2, 1024 ** 3

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.I)
_UNITS = {"": 1, "k": KIB, "m": MIB, "g": GIB, "t": 1024 * GIB}


class TooLarge(LanhaiError):
    """An input went past one of the limits; nothing was written."""

    code = "too_large"
    http_status = 413


@dataclass(frozen=True)
class Limits:
    """The limits of one bank (``Settings.limits``)."""

    #: bytes of a JSON or form request body (records, links, users, search forms)
    body: int = 1 * MIB
    #: bytes of a search request (pasted or uploaded FASTA, an HMM): anyone may send one
    query: int = 32 * MIB
    #: bytes of an uploaded file (an import table, sequences, breeding data): writers only
    upload: int = 4 * GIB
    #: bytes a compressed file (gzip, a zip member, an XLSX part) may expand to
    expanded: int = 20 * GIB
    #: how many times larger than its compressed size a file may expand, once past 64 MiB
    ratio: int = 200
    #: bytes of one line of a text table
    line: int = 1 * MIB
    #: cells in one row of a table
    cells: int = 10_000
    #: rows in one import
    rows: int = 10_000_000
    #: residues of one sequence (a chromosome) in a FASTA or GenBank file
    sequence: int = 2_000_000_000

    def refuse(self, what: str, name: str, limit: int, fix: str = "") -> TooLarge:
        """The error for ``what`` going past the limit ``name`` (a field of this class)."""
        setting = SETTING_OF[name]
        shown = size_text(limit) if name in SIZES else f"{limit:,}"
        return TooLarge(f"{what} is over the limit of {shown} ({setting}); nothing was "
                        f"written" + (f": {fix}" if fix else ""))


#: the setting of each limit
SETTING_OF = {
    "body": "LANHAI_MAX_BODY", "query": "LANHAI_MAX_QUERY", "upload": "LANHAI_MAX_UPLOAD",
    "expanded": "LANHAI_MAX_EXPANDED", "ratio": "LANHAI_MAX_RATIO",
    "line": "LANHAI_MAX_LINE", "cells": "LANHAI_MAX_CELLS", "rows": "LANHAI_MAX_ROWS",
    "sequence": "LANHAI_MAX_SEQUENCE",
}
#: limits given in bytes (the rest are counts)
SIZES = frozenset({"body", "query", "upload", "expanded", "line"})
assert set(SETTING_OF) == {f.name for f in fields(Limits)}


def size_text(size: int) -> str:
    """1048576 -> '1 MiB'."""
    for unit, factor in (("TiB", 1024 * GIB), ("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def parse_size(text: str, setting: str) -> int:
    """'64M', '2 GiB', '1048576' -> bytes."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"{setting}={text!r} is not a size; write e.g. 1048576, 512K, 64M "
                         "or 2G")
    return int(float(match[1]) * _UNITS[match[2].lower()])


def parse_count(text: str, setting: str) -> int:
    """'10000' or '10_000' -> 10000."""
    cleaned = text.strip().replace("_", "").replace(",", "")
    if not cleaned.isdigit() or int(cleaned) < 1:
        raise UsageError(f"{setting}={text!r} is not a whole number of at least 1")
    return int(cleaned)


def limits_from_env(env: dict[str, str] | None) -> Limits:
    """The limits ``LANHAI_MAX_*`` set, the defaults for the rest."""
    values: dict[str, int] = {}
    for name, setting in SETTING_OF.items():
        text = (env or {}).get(setting)
        if text is not None and text.strip():
            values[name] = (parse_size(text, setting) if name in SIZES
                            else parse_count(text, setting))
            if values[name] < 1:
                raise UsageError(f"{setting} must be at least 1")
    return Limits(**values)
