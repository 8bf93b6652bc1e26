"""Export formats: one kind's records as CSV, TSV, JSON, Darwin Core Archive, MCPD or SBOL3.

Each format is a writer over batches of records (:mod:`lanhai.exports.common`); which
records a caller gets, and the streaming, are :mod:`lanhai.services.exports`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from lanhai.errors import UsageError
from lanhai.exports import dwca, mcpd, sbol, tables
from lanhai.exports.common import DatasetInfo, ExportOptions, Writer
from lanhai.kinds import PLURALS, kind_spec
from lanhai.settings import Settings

Progress = Callable[[int], None]


class BinaryOutput(Protocol):
    """Where an export's bytes go: a binary file, sys.stdout.buffer, a BytesIO…"""

    def write(self, data: bytes, /) -> int | None: ...

    def flush(self) -> None: ...


@dataclass(frozen=True)
class Format:
    """An export format: its writer, the kinds it serves and how it is delivered."""

    name: str
    writer: Writer
    #: kinds it is valid for; empty means every kind
    kinds: tuple[str, ...]
    media_type: str
    extension: str
    description: str
    #: bound for a public aggregator (GBIF): never includes restricted records
    public_only: bool = False
    #: binary output (a zip): needs a file, not a terminal
    binary: bool = False
    needs_links: bool = False


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("csv", tables.write_csv, (), "text/csv; charset=utf-8", "csv",
           "CSV, one row per record (every kind)"),
    Format("tsv", tables.write_tsv, (), "text/tab-separated-values; charset=utf-8", "tsv",
           "tab-separated values (every kind)"),
    Format("json", tables.write_json, (), "application/json", "json",
           "JSON array of records with their links (every kind)", needs_links=True),
    Format("dwca", dwca.write_dwca, ("sample", "strain"), "application/zip", "dwca.zip",
           "Darwin Core Archive for GBIF (samples, strains; public records only)",
           public_only=True, binary=True),
    Format("mcpd", mcpd.write_mcpd, ("germplasm",), "text/csv; charset=utf-8", "mcpd.csv",
           "FAO MCPD v2.1 passport CSV (germplasm)"),
    Format("sbol3", sbol.write_sbol3, ("part",), "text/turtle", "ttl",
           "SBOL3 document, Turtle by default (parts)", needs_links=True),
)}


def formats_by_kind() -> str:
    """'csv, tsv, json: every kind; dwca: sample, strain; …' for error messages and help."""
    general = [f.name for f in FORMATS.values() if not f.kinds]
    special = [f"{f.name}: {', '.join(f.kinds)}" for f in FORMATS.values() if f.kinds]
    return "; ".join([f"{', '.join(general)}: every kind", *special])


def get_format(name: str, kind: str) -> Format:
    """The format ``name`` if it can export ``kind``; a usage error saying what can."""
    spec = kind_spec(kind)
    fmt = FORMATS.get(name.strip().lower())
    if fmt is None:
        raise UsageError(f"unknown export format {name!r}; formats are: {formats_by_kind()}")
    if fmt.kinds and spec.name not in fmt.kinds:
        raise UsageError(f"format {fmt.name!r} cannot export {PLURALS[spec.name]}; "
                         f"formats by kind: {formats_by_kind()}")
    return fmt


def options_from_settings(settings: Settings, **changes: Any) -> ExportOptions:
    """Export options with the bank's settings (SBOL3 namespace) and ``changes`` applied."""
    return replace(ExportOptions(sbol_namespace=settings.sbol_namespace), **changes)


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    kind: str
    format: str
    records: int
    file: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "format": self.format, "records": self.records,
                "file": self.file}


def write_atomic(path: Path, chunks: Generator[bytes, None, None]) -> None:
    """Write ``chunks`` to a temporary file beside ``path``, then rename it into place.

    An export that fails or is interrupted leaves no half-written file behind.
    """
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        raise UsageError(f"{target} is a folder; give a file name, e.g. {target}/export.csv")
    if not folder.is_dir():
        raise UsageError(f"folder {folder} does not exist; create it or choose another -o")
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle, contextlib.closing(chunks):
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


__all__ = [
    "FORMATS",
    "BinaryOutput",
    "DatasetInfo",
    "ExportOptions",
    "ExportSummary",
    "Format",
    "Progress",
    "formats_by_kind",
    "get_format",
    "options_from_settings",
    "write_atomic",
]
