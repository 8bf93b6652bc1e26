"""The import engine: stream a table, validate every row, match rows to records by their
external identifiers, and write every row in one transaction, or none.

How a row meets the bank (``options.mode``):

* **upsert** (default): a row whose identifiers (or Lanhai ``accession`` column) match a
  record updates it, if anything changed; the others become new records. The file speaks
  for the columns it has: an empty cell in a mapped column clears that field, a field no
  column gives is kept. ``restricted`` is kept unless the row sets it.
* **create**: every row must be new.
* **update** (batch update): every row must match a record; only non-empty cells change it,
  and the required fields are checked on the merged record.

A row whose identifiers belong to two records, or that describes the same record as an
earlier row, is a problem naming both.

Memory stays flat: rows are read one at a time and written in chunks of
:data:`CHUNK_ROWS` inside the one transaction. What is kept between chunks is small: the row
number of each record this import touched (an array for records it created), so the same
record on two rows of the file is reported with both row numbers.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lanhai.errors import ConcurrentChange, NotFound, Problem, writing
from lanhai.imports import ImportOptions, ImportReport
from lanhai.imports.columns import ColumnPlan, build_plan
from lanhai.imports.mapping import apply_overrides, parse_pairs, resolve_options
from lanhai.imports.reader import Row, open_table
from lanhai.kinds import KindSpec, kind_spec
from lanhai.kinds.fields import Fields, validate_fields
from lanhai.kinds.vocab import ValueContext
from lanhai.limits import Limits, TooLarge
from lanhai.model import NewRecord, Record, Upload, identifier_key
from lanhai.services.access import Actor, require_writer
from lanhai.services.catalog import (
    CatalogBatch,
    CatalogService,
    reference_problems,
    referenced,
    restricted_of,
)
from lanhai.store.uploads import UploadStore

#: rows validated and written together (all inside the one transaction)
CHUNK_ROWS = 2000
#: problems listed in the report; the rest are counted in ``problems_omitted``
MAX_PROBLEMS = 1000
#: accessions listed in the report
MAX_ACCESSIONS = 10_000
#: identifiers of rejected rows remembered to report duplicates against them
_MAX_REJECTED_KEYS = 200_000


class ImportService:
    """Bulk imports of spreadsheet tables into the catalog."""

    def __init__(self, catalog: CatalogService, uploads: UploadStore,
                 limits: Limits | None = None) -> None:
        self.catalog = catalog
        self.uploads = uploads
        #: what a table may hold (lines, cells, rows, decompressed size)
        self.limits = limits or Limits()

    # -- an upload checked first, committed later (the import page) -----------------------
    def stage(self, actor: Actor, kind: str, filename: str | None) -> Upload:
        """Room for an uploaded table of ``kind``, kept for ``actor`` until committed (or a
        day); the caller writes the file to ``upload.path``, then :meth:`check_staged`."""
        require_writer(actor)
        return self.uploads.new(filename, {"owner": actor.username,
                                           "kind": kind_spec(kind).name})

    def check_staged(self, actor: Actor, upload: Upload,
                     reading: Mapping[str, Any] | None = None) -> ImportReport:
        """Dry-run a staged upload, read as ``reading`` says (see :func:`reading_options`).

        The upload is kept (for the same curator, a day) so that the columns can be mapped
        again and the check repeated without uploading the file again; one past the limits
        is removed. The reading is remembered and :meth:`commit_staged` uses it."""
        options = reading_options(upload.meta["kind"], reading or {})
        try:
            report = self.run(actor, upload.path, replace(options, dry_run=True))
        except TooLarge:
            self.uploads.remove(upload.id)
            raise
        self.uploads.update(upload.id, {"reading": dict(reading or {}), "last_report": {
            "header": report.header, "sources": report.sources}})
        return report

    def staged(self, actor: Actor, upload_id: str) -> Upload:
        """``actor``'s staged upload ``upload_id``; NotFound once committed or expired."""
        require_writer(actor)
        upload = self.uploads.get(upload_id)
        if upload is None:
            raise NotFound("this upload is no longer waiting to be committed (committed "
                           "already, or older than a day); upload the file again")
        if upload.meta.get("owner") != actor.username:
            raise NotFound("this upload is not yours; upload the file again")
        return upload

    def commit_staged(self, actor: Actor, upload_id: str) -> ImportReport:
        """Import a staged upload of ``actor``'s for real, read as last checked; it is gone
        afterwards unless the bank was busy (then commit it again)."""
        upload = self.staged(actor, upload_id)
        options = reading_options(upload.meta["kind"], upload.meta.get("reading") or {})
        report = self.run(actor, upload.path, options)
        if report.committed:
            self.uploads.remove(upload.id)
        return report

    def run(self, actor: Actor, path: Path, options: ImportOptions,
            progress: Callable[[int], None] | None = None) -> ImportReport:
        """Import the table at ``path`` as records of ``options.kind``.

        Never raises for bad data: every problem goes into the report and nothing is
        written (``committed`` is False). Raises UsageError for bad options,
        Unauthorized/Forbidden when ``actor`` may not change records, Busy when another
        write holds the bank, TooLarge for a file past the limits (a decompression bomb, a
        line, row or file too long), NoSpace when the device fills up; in each case nothing
        is written. ``progress`` is called with the number of rows done so far.
        """
        require_writer(actor)
        options = resolve_options(options)
        with writing(self.catalog.db.where, "nothing was imported"):
            return self._run(actor, path, options, progress)

    def _run(self, actor: Actor, path: Path, options: ImportOptions,
             progress: Callable[[int], None] | None) -> ImportReport:
        spec = kind_spec(options.kind)
        report = ImportReport(kind=spec.name, file=path.name, dry_run=options.dry_run)
        sink = _Problems(report)
        with open_table(path, encoding=options.encoding, delimiter=options.delimiter,
                        sheet=options.sheet, limits=self.limits) as table:
            if table.problems and not table.header:
                for problem in table.problems:
                    sink.add(problem)
                return report
            plan = build_plan(spec, table.header, table.header_row, options)
            report.ignored_columns = plan.ignored
            report.header, report.sources = list(table.header), dict(plan.labels)
            for problem in [*table.problems, *plan.problems]:
                sink.add(problem)
            table.problems.clear()
            run = _Run(spec, actor, options, plan, report, sink)
            try:
                with self.catalog.batch(actor, spec.name, run.note) as batch:
                    for row in table.rows():
                        run.read(row)
                        if len(run.pending) >= CHUNK_ROWS:
                            run.flush(batch)
                            if progress:
                                progress(report.rows)
                    run.flush(batch)
                    for problem in reversed(table.problems):  # a file cut short comes first
                        sink.add(problem, first=True)
                    if report.rows == 0 and not table.problems:
                        sink.add(Problem(reason="has a header but no data rows",
                                         fix="add rows under the header row",
                                         row=table.header_row + 1, file=table.name))
                    run.finish()
                    if sink.count == 0 and not options.dry_run:
                        batch.commit()
                report.committed = batch.committed
            except ConcurrentChange as err:
                report.committed = False
                sink.add(Problem(reason=err.message.replace("; nothing was written: try again",
                                                            ""),
                                 fix="run the import again; nothing was written"))
        run.close()
        if progress:
            progress(report.rows)
        return report


class _Problems:
    """Collects problems into the report: the first MAX_PROBLEMS listed, all counted."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.count = 0

    def add(self, problem: Problem, first: bool = False) -> None:
        self.count += 1
        listed = self.report.problems
        if first:
            listed.insert(0, problem)
            if len(listed) <= MAX_PROBLEMS:
                return
            listed.pop()
        elif len(listed) < MAX_PROBLEMS:
            listed.append(problem)
            return
        self.report.problems_omitted += 1


@dataclass
class _Pending:
    """A row read and checked on its own, waiting for its chunk to be matched and written."""

    row: int
    raw: dict[str, Any]
    fields: Fields
    #: faults of the bytes (encoding, extra cells) and of the values on their own
    cell_problems: list[Problem]
    problems: list[Problem]
    ids: list[str]
    keys: list[str]
    accession: str | None


@dataclass
class _Missing:
    """A required field no column gives: counted, reported once."""

    rows: int = 0
    first: list[int] = field(default_factory=list)
    last: int = 0


class _Run:
    """State of one import across chunks."""

    def __init__(self, spec: KindSpec, actor: Actor, options: ImportOptions, plan: ColumnPlan,
                 report: ImportReport, sink: _Problems) -> None:
        self.spec, self.actor, self.options, self.plan = spec, actor, options, plan
        self.report, self.sink = report, sink
        self.ctx = ValueContext(date_format=options.date_format, units=dict(options.units))
        self.update_only = options.mode == "update"
        self.note = options.note or f"imported from {report.file}"
        self.pending: list[_Pending] = []
        #: accession -> row, for existing records this import matched
        self.touched: dict[str, int] = {}
        #: rows of the records this import created, by accession number (they are contiguous)
        self.created_rows = array("l")
        self.first_created: int | None = None
        self.rejected_keys: dict[str, int] = {}
        self.accessions: list[tuple[str, bool]] = []
        self.uncovered = set(spec.required) - plan.fields
        self.missing: dict[str, _Missing] = {}

    # -- reading ----------------------------------------------------------------------------
    def read(self, row: Row) -> None:
        """Check one row on its own (values, required fields) and queue it."""
        self.report.rows += 1
        raw = self.plan.raw(row.cells, keep_blank=not self.update_only)
        cell_problems = row.problems + self.plan.row_problems(row.cells, row.number)
        fields, problems = self._validate(raw, row.number)
        ids = self._ids(fields)
        self.pending.append(_Pending(row.number, raw, fields, cell_problems, problems, ids,
                                     [identifier_key(v) for v in ids],
                                     self.plan.accession_of(row.cells)))

    def _validate(self, raw: dict[str, Any], row: int, existing: Fields | None = None
                  ) -> tuple[Fields, list[Problem]]:
        try:
            return validate_fields(self.spec, raw, self.ctx, existing=existing, row=row,
                                   columns=self.plan.labels)
        except Exception as err:  # a normaliser that fails on odd input must not stop the run
            return {}, [Problem(reason=f"could not be checked ({type(err).__name__}: {err})"
                                [:300], fix="check the values on this row", row=row)]

    def _ids(self, fields: Fields) -> list[str]:
        """The record's external identifiers, one per key."""
        try:
            values = self.spec.identifiers(fields)
        except Exception:  # fields of a rejected row may lack what identity needs
            return []
        out: dict[str, str] = {}
        for value in values:
            if value and value.strip():
                out.setdefault(identifier_key(value), value)
        return list(out.values())

    # -- matching and writing -----------------------------------------------------------------
    def flush(self, batch: CatalogBatch) -> None:
        """Match the queued rows to records, then create, update or reject each."""
        if not self.pending:
            return
        named = {a for p in self.pending for a in referenced(self.spec, p.fields)}
        if named:  # the organisations (and offers) rows name must exist
            kinds = {a: r.kind for a, r in batch.records(named).items()}
            for p in self.pending:
                p.problems.extend(reference_problems(self.spec, p.fields, kinds, p.row))
        values = [v for p in self.pending for v in p.ids]
        owners = batch.owners(values)
        wanted = {*owners.values(), *(p.accession for p in self.pending if p.accession)}
        found = batch.records(wanted)
        chunk_keys: dict[str, int] = {}
        new: list[tuple[int, NewRecord]] = []
        done: list[tuple[int, str, bool]] = []
        for pending in self.pending:
            self._decide(batch, pending, owners, found, chunk_keys, new, done)
        if new:
            made = batch.insert([item for _, item in new])
            for (row, _), accession in zip(new, made, strict=True):
                self._remember(accession, row)
                done.append((row, accession, True))
            self.report.created += len(made)
        room = MAX_ACCESSIONS - len(self.accessions)
        if room > 0:
            self.accessions.extend((a, c) for _, a, c in sorted(done)[:room])
        self.pending = []

    def _decide(self, batch: CatalogBatch, p: _Pending, owners: dict[str, str],
                found: dict[str, Record], chunk_keys: dict[str, int],
                new: list[tuple[int, NewRecord]], done: list[tuple[int, str, bool]]) -> None:
        spec, mode = self.spec, self.options.mode
        owned: dict[str, str] = {}
        for value, key in zip(p.ids, p.keys, strict=True):
            if key in owners:
                owned.setdefault(owners[key], value)
        target, identity = self._target(p, owned, found)
        if identity:
            return self._reject(p, [*identity, *self._own(p)])
        if target is None:
            if mode == "update":
                shown = ", ".join(p.ids) or "none"
                miss = Problem(reason=f"matches no {spec.name} in the bank (identifiers: "
                                      f"{shown})", row=p.row,
                               fix="batch update changes existing records only: check the "
                                   "identifier columns, or import with --mode upsert to create "
                                   "new records")
                return self._reject(p, [miss, *self._own(p)])
            problems = [*p.cell_problems, *p.problems,
                        *self._duplicates(p, p.ids, p.keys, p.fields, chunk_keys,
                                          rejected=not p.problems)]
            if problems:
                return self._reject(p, problems)
            new.append((p.row, NewRecord(spec, p.fields, p.ids, restricted_of(spec, p.fields))))
            chunk_keys.update(dict.fromkeys(p.keys, p.row))
            return None
        earlier = self._row_of(target)
        if earlier is not None:
            same = Problem(reason=f"describes the same record ({target}) as row {earlier}",
                           fix="keep one row per record: merge the two rows", row=p.row,
                           record=target)
            return self._reject(p, [same, *self._own(p)])
        if mode == "create":
            value = owned.get(target, target)
            exists = Problem(reason=f"is already in the bank as {target}", record=target,
                             fix="leave the row out, or import with --mode upsert to update "
                                 "existing records", row=p.row,
                             column=self._column_of(value, p.fields), value=value)
            return self._reject(p, [exists, *self._own(p)])
        return self._update(batch, p, found[target], owners, chunk_keys, done)

    def _target(self, p: _Pending, owned: dict[str, str], found: dict[str, Record]
                ) -> tuple[str | None, list[Problem]]:
        """The record a row is about, or problems when its identity is contradictory."""
        spec = self.spec
        problems = []
        if p.accession:
            column = self.plan.labels.get("accession", "accession")
            if self.options.mode == "create":
                return None, [Problem(reason="has a Lanhai accession, so it is not a new record",
                                      fix="import with --mode update (or upsert) to change "
                                          "existing records", row=p.row, column=column,
                                      value=p.accession)]
            record = found.get(p.accession)
            if record is None or record.kind != spec.name:
                return None, [Problem(reason=f"is not the accession of a {spec.name} in the "
                                             "bank", fix="check the accession column",
                                      row=p.row, column=column, value=p.accession)]
            for other, value in owned.items():
                if other != p.accession:
                    problems.append(Problem(
                        reason=f"belongs to another {spec.name}, {other}, not to "
                               f"{p.accession}", record=other, row=p.row,
                        fix="correct the identifier, or the accession",
                        column=self._column_of(value, p.fields), value=value))
            return p.accession, problems
        if len(owned) > 1:
            which = "; ".join(f"{value!r} is {acc}" for acc, value in owned.items())
            problems.append(Problem(
                reason=f"has identifiers of {len(owned)} different records in the bank ({which})",
                fix="a row describes one record: correct the identifiers, or merge the records "
                    "first", row=p.row, value=", ".join(owned.values())))
            return None, problems
        return next(iter(owned), None), []

    def _update(self, batch: CatalogBatch, p: _Pending, record: Record, owners: dict[str, str],
                chunk_keys: dict[str, int], done: list[tuple[int, str, bool]]) -> None:
        """Apply a row to the record it matched (the merged record must be valid)."""
        spec = self.spec
        base = spec.editable_fields(record.fields)
        fields, problems = self._validate(p.raw, p.row, existing=base)
        ids = self._ids(fields)
        keys = [identifier_key(v) for v in ids]
        mine = {identifier_key(v) for v in record.identifiers}
        unknown = [v for v, k in zip(ids, keys, strict=True) if k not in mine and k not in owners]
        others = {**owners, **(batch.owners(unknown) if unknown
                               else {})}
        for value, key in zip(ids, keys, strict=True):
            other = others.get(key)
            if key not in mine and other and other != record.accession:
                problems.append(Problem(
                    reason=f"belongs to another {spec.name}, {other}", record=other, row=p.row,
                    fix="correct the identifier", column=self._column_of(value, fields),
                    value=value))
        problems = [*p.cell_problems, *problems,
                    *self._duplicates(p, ids, keys, fields, chunk_keys, rejected=True)]
        if problems:
            return self._reject(p, problems)
        changed = batch.update(record, fields, ids, restricted_of(self.spec, fields, record))
        self.touched[record.accession] = p.row
        chunk_keys.update(dict.fromkeys(keys, p.row))
        if changed:
            self.report.updated += 1
            done.append((p.row, record.accession, False))
        else:
            self.report.unchanged += 1
        return None

    def _duplicates(self, p: _Pending, ids: list[str], keys: list[str], fields: Fields,
                    chunk_keys: dict[str, int], rejected: bool) -> list[Problem]:
        """One problem per earlier row that has one of this row's identifiers."""
        problems: list[Problem] = []
        seen: set[int] = set()
        for value, key in zip(ids, keys, strict=True):
            other = chunk_keys.get(key)
            if other is None and rejected:
                other = self.rejected_keys.get(key)
            if other is None or other == p.row or other in seen:
                continue
            seen.add(other)
            problems.append(Problem(
                reason=f"is also an identifier on row {other}: two rows describe the same "
                       f"{self.spec.name}", row=p.row, column=self._column_of(value, fields),
                value=value, fix="keep one row per record (merge the two rows), or correct "
                                 "the identifier"))
        return problems

    def _own(self, p: _Pending) -> list[Problem]:
        """The row's own faults, less 'required but missing' for fields it does not give
        (the record it updates may have them)."""
        absent = {name for name in self.spec.required if name not in p.raw}
        return [*p.cell_problems,
                *(q for q in p.problems if not (q.field in absent and q.value is None))]

    def _reject(self, p: _Pending, problems: list[Problem]) -> None:
        for problem in problems:
            if problem.field in self.uncovered and problem.value is None:
                tally = self.missing.setdefault(problem.field or "", _Missing())
                tally.rows += 1
                tally.last = p.row
                if len(tally.first) < 3:
                    tally.first.append(p.row)
            else:
                self.sink.add(problem)
        if len(self.rejected_keys) < _MAX_REJECTED_KEYS:
            for key in p.keys:
                self.rejected_keys.setdefault(key, p.row)

    def _remember(self, accession: str, row: int) -> None:
        tail = accession[len(self.spec.prefix):]
        if not tail.isdigit():  # a held accession (a row created restricted)
            self.touched[accession] = row
            return
        number = int(tail)
        if self.first_created is None:
            self.first_created = number
        if number == self.first_created + len(self.created_rows):
            self.created_rows.append(row)
        else:  # not contiguous (cannot happen while the import holds the lock); be safe
            self.touched[accession] = row

    def _row_of(self, accession: str) -> int | None:
        """The row of this file that already touched ``accession``, if any."""
        if accession in self.touched:
            return self.touched[accession]
        if self.first_created is None or not accession.startswith(self.spec.prefix) \
                or not accession[len(self.spec.prefix):].isdigit():
            return None
        index = int(accession[len(self.spec.prefix):]) - self.first_created
        return self.created_rows[index] if 0 <= index < len(self.created_rows) else None

    def _column_of(self, value: str, fields: Fields) -> str | None:
        """The column a row's identifier came from, when one field holds it."""
        for name, label in self.plan.labels.items():
            held = fields.get(name)
            if held == value or (isinstance(held, list) and value in held):
                return label
        return None

    # -- the end ----------------------------------------------------------------------------
    def finish(self) -> None:
        """Report required fields no column gives, once each, at the top."""
        for name, tally in sorted(self.missing.items(), reverse=True):
            rows = ", ".join(map(str, tally.first))
            if tally.rows > len(tally.first):
                rows += f" … {tally.last}"
            plural = "s" if tally.rows > 1 else ""
            self.sink.add(Problem(
                reason=f"is required by {self.spec.standard} but no column gives it, so "
                       f"{tally.rows} row{plural} lack it (row{plural} {rows})",
                fix=f"add a column {name!r}, map one with --map 'COLUMN={name}', or give one "
                    f"value for all rows with --set {name}=VALUE", field=name), first=True)

    def close(self) -> None:
        """Fill the report's accession list (records created only if they were kept)."""
        self.report.accessions = [a for a, created in self.accessions
                                  if not created or self.report.committed]


#: what the import page may say about reading a table, besides the file
READING = ("map", "set", "unit", "date_format", "sheet")


def reading_options(kind: str, reading: Mapping[str, Any]) -> ImportOptions:
    """Import options from the import page's choices: ``map``/``set``/``unit`` as lists of
    ``A=B`` (the same as ``--map``/``--set``/``--unit``), ``date_format`` and ``sheet``."""
    unknown = set(reading) - set(READING)
    if unknown:
        raise TypeError(f"unknown reading options {sorted(unknown)}")

    def pairs(name: str, option: str, split_last: bool = False) -> list[tuple[str, str]]:
        return parse_pairs(list(reading.get(name) or []), option, split_last=split_last)

    options = apply_overrides(
        ImportOptions(kind=kind_spec(kind).name), columns=pairs("map", "--map", True),
        constants=pairs("set", "--set"), units=pairs("unit", "--unit"),
        date_format=reading.get("date_format") or None, sheet=reading.get("sheet") or None)
    return resolve_options(options)
