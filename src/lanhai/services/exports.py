"""Exports of one kind's records, as the caller may see them, streamed in batches.

:meth:`ExportService.write` is the entry point for the CLI; the API streams
:meth:`Export.chunks` of :meth:`ExportService.plan`. Records are read in keyset-paginated
batches and written batch by batch, so memory stays flat for 100,000 records.

Visibility is the catalogue's: an export holds exactly the records (and links) the caller
would list. Darwin Core Archives are bound for GBIF and never include a restricted record,
whoever asks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path

from lanhai.exports import (
    BinaryOutput,
    ExportSummary,
    Format,
    Progress,
    get_format,
    sbol,
)
from lanhai.exports.common import Batch, ExportOptions, Item
from lanhai.kinds import PLURALS, KindSpec, kind_spec
from lanhai.model import Record, parse_filter
from lanhai.services.access import Actor
from lanhai.services.catalog import CatalogService
from lanhai.store.leftovers import PartialFiles


class Export:
    """A checked export, ready to stream with :meth:`chunks`; counts what it wrote."""

    def __init__(self, catalog: CatalogService, actor: Actor, spec: KindSpec, fmt: Format,
                 where: Sequence[str], query: str | None, options: ExportOptions) -> None:
        self.catalog, self.actor, self.spec, self.format = catalog, actor, spec, fmt
        self.where, self.query, self.options = list(where), query, options
        self.records = 0

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
        """Raise now for a bad filter, query or option, before anything is written."""
        with self._records() as batches:
            batches.close()
        if self.format.name == "sbol3":
            sbol.check_namespace(self.options.sbol_namespace)
            sbol.rdf_format(self.options.rdf_format)

    def _records(self) -> contextlib.AbstractContextManager[
            Generator[list[Record], None, None]]:
        return self.catalog.each(self.actor, self.spec.name, self.where, query=self.query,
                                 batch_size=self.options.batch_size,
                                 public_only=self.format.public_only)

    def _batches(self, records: Iterator[list[Record]], progress: Progress | None
                 ) -> Iterator[Batch]:
        for batch in records:
            links = (self.catalog.links_of_many(self.actor, batch, self.format.public_only)
                     if self.format.needs_links else {})
            yield [Item(rec, links.get(rec.accession, [])) for rec in batch]
            self.records += len(batch)
            if progress is not None:
                progress(self.records)

    def chunks(self, progress: Progress | None = None) -> Generator[bytes, None, None]:
        """The encoded export, chunk by chunk (one database connection while it runs)."""
        self.records = 0
        with self._records() as records:
            yield from self.format.writer(self.spec, self._batches(records, progress),
                                          self.options)


class ExportService:
    """Exports over one bank's catalog."""

    def __init__(self, catalog: CatalogService, options: ExportOptions, *,
                 files: PartialFiles | None = None) -> None:
        self.catalog = catalog
        #: the bank's defaults (its SBOL3 namespace)
        self.options = options
        #: how a file is written: a locked partial file beside it, renamed into place (noted
        #: in the bank's data folder while it is written, so that a killed run's is found)
        self.files = files or PartialFiles(None)

    def plan(self, actor: Actor, kind: str, fmt: str, where: Sequence[str] = (),
             query: str | None = None, options: ExportOptions | None = None) -> Export:
        """Check kind, format, filters and options; return the export to stream.

        Raises :class:`~lanhai.errors.UsageError` for an unknown kind or format, a format the
        kind cannot use (it says which kinds each format supports) or a bad filter.
        """
        spec = kind_spec(kind)
        for expression in where:
            parse_filter(expression)
        export = Export(self.catalog, actor, spec, get_format(fmt, spec.name), where, query,
                        options or self.options)
        export.check()
        return export

    def write(self, actor: Actor, kind: str, fmt: str, out: BinaryOutput | str | Path,
              where: Sequence[str] = (), query: str | None = None, *,
              options: ExportOptions | None = None, progress: Progress | None = None
              ) -> ExportSummary:
        """Export the records of ``kind`` that ``actor`` may see, matching ``where`` and
        ``query``. ``out`` is a binary stream or a path (written atomically); a Darwin Core
        Archive (``dwca``, bound for GBIF) never includes restricted records."""
        export = self.plan(actor, kind, fmt, where, query, options)
        if isinstance(out, (str, Path)):
            with contextlib.closing(export.chunks(progress)) as chunks:
                self.files.write(Path(out), chunks, f"an export of {PLURALS[export.spec.name]}"
                                 f" ({export.format.name})")
            file: str | None = str(out)
        else:
            with contextlib.closing(export.chunks(progress)) as chunks:
                for chunk in chunks:
                    out.write(chunk)
            out.flush()
            name = getattr(out, "name", None)
            file = name if isinstance(name, str) and not name.startswith("<") else None
        return ExportSummary(export.spec.name, export.format.name, export.records, file)


__all__ = ["Export", "ExportService"]
