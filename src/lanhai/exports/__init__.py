"""Exports: one kind's records as CSV, TSV, JSON, Darwin Core Archive, MCPD or SBOL3.

:func:`export_records` is the entry point for the CLI; the API streams
:meth:`Export.chunks` of a :func:`plan_export`. Records are read in keyset-paginated
batches and written batch by batch, so memory stays flat for 100,000 records.

Visibility: restricted records, and every patent deposit (Budapest Rule 9.2: readers never
learn one exists), are exported only to curators and admins. Darwin Core Archives are
bound for GBIF and never include a restricted record, whoever asks.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from lanhai.errors import UsageError
from lanhai.exports import dwca, mcpd, sbol, tables
from lanhai.exports.common import Batch, DatasetInfo, ExportOptions, Item, Writer
from lanhai.kinds import PLURALS, KindSpec, kind_of_accession, kind_spec
from lanhai.services.catalog import Actor
from lanhai.settings import Settings
from lanhai.store import links as link_store
from lanhai.store import queries
from lanhai.store import records as store
from lanhai.store.links import Link
from lanhai.store.queries import Filter

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


class Export:
    """A checked export, ready to stream with :meth:`chunks`; counts what it wrote."""

    def __init__(self, engine: Engine, actor: Actor, spec: KindSpec, fmt: Format,
                 filters: Sequence[Filter], query: str | None, options: ExportOptions
                 ) -> None:
        self.engine, self.actor, self.spec, self.format = engine, actor, spec, fmt
        self.filters, self.query, self.options = list(filters), query, options
        self.records = 0
        self.include_restricted = actor.can_see_restricted and not fmt.public_only
        #: patent deposits are confidential whatever their flag: none for readers
        self.hidden = spec.name == "deposit" and not actor.can_see_restricted

    @property
    def media_type(self) -> str:
        if self.format.name == "sbol3":
            return sbol.rdf_format(self.options.rdf_format)[1]
        return self.format.media_type

    @property
    def filename(self) -> str:
        """Suggested file name: lanhai-samples.csv, lanhai-strains.dwca.zip, lanhai-parts.ttl."""
        extension = self.format.extension
        if self.format.name == "sbol3":
            extension = sbol.rdf_format(self.options.rdf_format)[2]
        return f"lanhai-{PLURALS[self.spec.name]}.{extension}"

    def check(self) -> None:
        """Raise now for a bad filter or query, before anything is written."""
        with self.engine.connect() as conn:
            self._record_batches(conn).close()
        if self.format.name == "sbol3":
            sbol.check_namespace(self.options.sbol_namespace)
            sbol.rdf_format(self.options.rdf_format)

    def _record_batches(self, conn: Connection
                        ) -> Generator[list[store.Record], None, None]:
        return queries.iter_records(conn, self.spec.name, self.filters, query=self.query,
                                  include_restricted=self.include_restricted,
                                  batch_size=self.options.batch_size)

    def _visible_link(self, link: Link) -> bool:
        if self.actor.can_see_restricted:
            return True
        ends = (kind_of_accession(link.source), kind_of_accession(link.target))
        return all(end is None or end.name != "deposit" for end in ends)

    def _batches(self, conn: Connection, progress: Progress | None) -> Iterator[Batch]:
        if self.hidden:
            return
        for records in self._record_batches(conn):
            links: dict[str, list[Link]] = {}
            if self.format.needs_links:
                links = link_store.links_of_many(conn, records, self.include_restricted)
            yield [Item(rec, [lk for lk in links.get(rec.accession, [])
                              if self._visible_link(lk)]) for rec in records]
            self.records += len(records)
            if progress is not None:
                progress(self.records)

    def chunks(self, progress: Progress | None = None) -> Generator[bytes, None, None]:
        """The encoded export, chunk by chunk (one database connection while it runs)."""
        self.records = 0
        with self.engine.connect() as conn:
            yield from self.format.writer(self.spec, self._batches(conn, progress),
                                          self.options)


def plan_export(engine: Engine, actor: Actor, kind: str, fmt: str,
                where: Sequence[str] = (), query: str | None = None,
                options: ExportOptions | None = None) -> Export:
    """Check kind, format, filters and options; return the export to stream.

    Raises :class:`~lanhai.errors.UsageError` for an unknown kind or format, a format the
    kind cannot use (it says which kinds each format supports) or a bad filter.
    """
    spec = kind_spec(kind)
    export = Export(engine, actor, spec, get_format(fmt, spec.name),
                    [queries.parse_filter(w) for w in where], query,
                    options or ExportOptions())
    export.check()
    return export


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


def export_records(engine: Engine, actor: Actor, kind: str, fmt: str,
                   out: BinaryOutput | str | Path, where: Sequence[str] = (),
                   query: str | None = None, *, options: ExportOptions | None = None,
                   progress: Progress | None = None) -> ExportSummary:
    """Export the records of ``kind`` that ``actor`` may see, matching ``where`` and ``query``.

    ``out`` is a binary stream or a path (written atomically). Restricted records and patent
    deposits go only to curators and admins; a Darwin Core Archive (``dwca``, bound for
    GBIF) never includes restricted records at all.
    """
    export = plan_export(engine, actor, kind, fmt, where, query, options)
    if isinstance(out, (str, Path)):
        write_atomic(Path(out), export.chunks(progress))
        file: str | None = str(out)
    else:
        with contextlib.closing(export.chunks(progress)) as chunks:
            for chunk in chunks:
                out.write(chunk)
        out.flush()
        name = getattr(out, "name", None)
        file = name if isinstance(name, str) and not name.startswith("<") else None
    return ExportSummary(export.spec.name, export.format.name, export.records, file)


__all__ = [
    "FORMATS",
    "BinaryOutput",
    "DatasetInfo",
    "Export",
    "ExportOptions",
    "ExportSummary",
    "Format",
    "Progress",
    "export_records",
    "formats_by_kind",
    "get_format",
    "options_from_settings",
    "plan_export",
    "write_atomic",
]
