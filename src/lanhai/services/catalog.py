"""Catalog use cases: create, update, get, list, link, lineage, history, with access control.

The CLI, the HTTP API and the web pages all call these; none of them talks SQL. This is the
one way records are written: single records here, bulk imports through :meth:`batch` (one
transaction, the same store functions), summaries of stored sequences through
:meth:`set_summary`.
"""

from __future__ import annotations

import builtins
import dataclasses
import json
import re
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from lanhai.errors import (
    Conflict,
    NotFound,
    Problem,
    StaleVersion,
    UsageError,
    ValidationFailed,
)
from lanhai.kinds import (
    ACCESSION_PATTERN,
    LINK_RULES,
    check_link,
    kind_of_accession,
    kind_spec,
)
from lanhai.kinds.fields import Fields, KindSpec, validate_fields
from lanhai.kinds.vocab import ValueContext
from lanhai.model import (
    MAX_OFFSET,
    LineageEdge,
    Link,
    NewRecord,
    Record,
    Version,
    identifier_key,
    parse_filter,
)
from lanhai.services.access import (
    ENTRY_KINDS,
    NDA_FIELDS,
    Actor,
    may_see,
    redacted,
    require_record_writer,
    require_some_writer,
    require_writer,
    visible,
)
from lanhai.store import links as link_store
from lanhai.store import queries
from lanhai.store import records as store
from lanhai.store.database import Conn, Database

_ACCESSION_IN_TEXT = re.compile(rf"\b{ACCESSION_PATTERN}\b")


def restricted_of(spec: KindSpec, fields: Fields, before: Record | None = None) -> bool:
    """Whether a record with ``fields`` is hidden from readers: suppressed and withdrawn
    records always (they leave every list); else as its ``restricted`` field says; else as
    it was ``before`` this change (not counting a status it had then); else the kind's
    default (patent deposits are held)."""
    if fields.get("record_status"):
        return True
    if "restricted" in fields:
        return bool(fields["restricted"])
    if before is None or before.fields.get("record_status"):
        return spec.restricted_by_default
    return before.restricted


def _refuse_crossed_changes(record: Record, since: Mapping[str, Any], fields: Fields,
                            raw: Mapping[str, Any]) -> None:
    """Refuse the change if a field in ``raw`` was also changed by someone else since the
    version its author saw (``since``: the fields then) to a different value."""
    crossed = []
    for name in raw:
        theirs, yours = record.fields.get(name), fields.get(name)
        if theirs != since.get(name) and yours != theirs:
            crossed.append(Problem(
                field=name, value=_shown(yours), record=record.accession,
                reason=f"changed by {record.updated_by or 'someone'} since you opened it, "
                       f"to {_shown(theirs)!r}",
                fix="keep one of the two values and save again"))
    if crossed:
        raise StaleVersion(f"{record.accession} was changed by someone else since you opened "
                           f"it (version {record.version} now); nothing was written",
                           record.version, crossed)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def referenced(spec: KindSpec, fields: Fields) -> list[str]:
    """The accessions of the records a market or industry record names: an offer's or
    demand's organisation, an incubation project's offer and host, and the organisation,
    host, holder or manager of a platform, project, achievement, team, fund, product or
    approval."""
    from lanhai.kinds.industry import INDUSTRY_KINDS, ORGANISATION_REFERENCES

    if spec.name == "design":
        chassis = str(fields.get("chassis") or "")
        return [*([chassis] if chassis.startswith("LH") else []),
                *(str(p) for p in fields.get("parts", []))]
    if spec.name not in (*ENTRY_KINDS, "incubation", *INDUSTRY_KINDS):
        return []
    return [str(fields[n]) for n in (*ORGANISATION_REFERENCES, "offer") if fields.get(n)]


def reference_problems(spec: KindSpec, fields: Fields, kinds: Mapping[str, str],
                       row: int | None = None) -> list[Problem]:
    """What is wrong with the records ``fields`` names, given the kind of each that exists
    (``kinds``: accession -> kind)."""
    from lanhai.kinds.industry import ORGANISATION_REFERENCES

    if not referenced(spec, fields):
        return []
    if spec.name == "design":
        return _design_reference_problems(fields, kinds, row)
    problems = []
    for name in (*ORGANISATION_REFERENCES, "offer"):
        value = fields.get(name)
        if not value:
            continue
        kind = kinds.get(str(value))
        if name == "offer" and kind != "offer":
            problems.append(Problem(
                reason=f"{value} is not an offer of this bank", field=name, value=value,
                row=row, fix="give the accession of an offer (LHOF…) this bank holds"))
        elif name != "offer" and kind != "organisation":
            problems.append(Problem(
                reason=f"{value} is not an organisation of this bank", field=name,
                value=value, row=row,
                fix="create the organisation first (`lanhai create organisation` or "
                    "`lanhai import organisation FILE`) and give its accession"))
    return problems


def _design_reference_problems(fields: Fields, kinds: Mapping[str, str], row: int | None
                               ) -> list[Problem]:
    """A design's chassis record and parts exist and are of those kinds."""
    problems = []
    chassis = str(fields.get("chassis") or "")
    if chassis.startswith("LH") and kinds.get(chassis) != "chassis":
        problems.append(Problem(
            reason=f"{chassis} is not a chassis of this bank", field="chassis", value=chassis,
            row=row, fix="give a chassis accession (LHCH…) or a bundled model's name "
                         "(textbook, iJO1366, salmonella)"))
    for part in fields.get("parts", []):
        if kinds.get(str(part)) != "part":
            problems.append(Problem(
                reason=f"{part} is not a part of this bank", field="parts", value=str(part),
                row=row, fix="give the accessions of the bank's parts (LHPT0000001)"))
    return problems


def _check_references(conn: Conn, spec: KindSpec, fields: Fields) -> None:
    """The records a market or industry record names exist and are of the right kind."""
    wanted = referenced(spec, fields)
    if not wanted:
        return
    kinds = {a: r.kind for a, r in store.get_records(conn, wanted).items()}
    problems = reference_problems(spec, fields, kinds)
    if problems:
        raise ValidationFailed(f"the {spec.name} is not valid", problems)


def check_accession(accession: str) -> str:
    """Upper-cased accession, or a usage error naming the valid form."""
    acc = accession.strip().upper()
    if kind_of_accession(acc) is None:
        raise UsageError(f"{accession!r} is not a Lanhai accession (e.g. LHST0000001)")
    return acc


class CatalogBatch:
    """Bulk writes of one kind inside one transaction (an import: all rows or none).

    Made by :meth:`CatalogService.batch`; the caller decides at the end whether to
    :meth:`commit` (otherwise everything is rolled back).
    """

    #: rows written before the database's statistics are first refreshed; again each time
    #: the rows written have doubled since (:func:`lanhai.store.records.refresh_statistics`)
    STATISTICS_AFTER = 2_000

    def __init__(self, conn: Conn, actor: Actor, spec: KindSpec, note: str | None) -> None:
        self._conn, self.actor, self.spec, self.note = conn, actor, spec, note
        self.committed = False
        self._written = 0
        self._statistics_at = self.STATISTICS_AFTER

    def owners(self, values: Iterable[str]) -> dict[str, str]:
        """identifier key -> accession of the record of this kind holding it."""
        return store.identifier_owners(self._conn, self.spec.name, values)

    def records(self, accessions: Iterable[str]) -> dict[str, Record]:
        """accession -> record (any kind; the caller checks), for those that exist."""
        return store.get_records(self._conn, accessions, for_update=True)

    def insert(self, items: Sequence[NewRecord]) -> list[str]:
        """Insert validated new records; their accessions, in order."""
        made = store.insert_records(self._conn, items, self.actor.username, self.note)
        self._written += len(made)
        if self._written >= self._statistics_at:
            store.refresh_statistics(self._conn)
            self._statistics_at = 2 * self._written
        return made

    def update(self, record: Record, fields: Fields, ids: list[str], restricted: bool) -> bool:
        """Store new validated fields of ``record``; whether anything changed."""
        return store.update_record(self._conn, record, self.spec, fields, ids, restricted,
                                   self.actor.username, self.note)

    def commit(self) -> None:
        self.committed = True


class CatalogService:
    """Use cases over one catalog database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def embedded(self) -> bool:
        """Whether the catalog is an embedded database (SQLite): a one-record read then
        costs tens of microseconds, less than handing it to another thread."""
        return self.db.dialect == "sqlite"

    # -- reading --------------------------------------------------------------------------
    def get(self, actor: Actor, accession: str) -> Record:
        with self.db.read() as conn:
            return redacted(actor, visible(actor, store.get_record(conn, accession),
                                           accession))

    def find(self, actor: Actor, accessions: Iterable[str]) -> dict[str, Record]:
        """accession -> record, for those of ``accessions`` that exist and ``actor`` may see."""
        with self.db.read() as conn:
            found = store.get_records(conn, accessions)
        return {acc: redacted(actor, rec) for acc, rec in found.items()
                if may_see(actor, rec.restricted)}

    def by_identifier(self, actor: Actor, kind: str, identifier: str) -> Record | None:
        """The record of ``kind`` holding this external identifier, if ``actor`` may see it."""
        with self.db.read() as conn:
            owners = store.identifier_owners(conn, kind, [identifier])
            accession = owners.get(identifier_key(identifier))
            record = store.get_record(conn, accession) if accession else None
        return redacted(actor, record) if record is not None and \
            may_see(actor, record.restricted) else None

    def list(self, actor: Actor, kind: str | None, where: Sequence[str] = (), *,
             query: str | None = None, limit: int = 50, offset: int = 0,
             sort: str = "accession") -> tuple[builtins.list[Record], int | None]:
        if not 1 <= limit <= MAX_OFFSET or not 0 <= offset <= MAX_OFFSET:
            raise UsageError(f"limit must be at least 1 and offset between 0 and "
                             f"{MAX_OFFSET:,}")
        filters = [parse_filter(w) for w in where]
        with self.db.read() as conn:
            found, total = queries.list_records(conn, kind, filters, query=query,
                                                include_restricted=actor.can_see_restricted,
                                                owner=actor.member_of,
                                                limit=limit, offset=offset, sort=sort)
        return [redacted(actor, r) for r in found], total

    @contextmanager
    def each(self, actor: Actor, kind: str, where: Sequence[str] = (), *,
             query: str | None = None, batch_size: int = 1000, public_only: bool = False
             ) -> Iterator[Generator[builtins.list[Record], None, None]]:
        """Every record of ``kind`` ``actor`` may see (public ones only with
        ``public_only``), in accession order and batches, on one connection held for the
        ``with`` block. A bad filter raises before the block starts."""
        filters = [parse_filter(w) for w in where]
        include = actor.can_see_restricted and not public_only
        with self.db.read() as conn:
            yield ([redacted(actor, r) for r in batch] for batch in queries.iter_records(
                conn, kind, filters, query=query, include_restricted=include,
                owner=None if public_only else actor.member_of, batch_size=batch_size))

    def links(self, actor: Actor, accession: str) -> builtins.list[Link]:
        with self.db.read() as conn:
            record = visible(actor, store.get_record(conn, accession), accession)
            return link_store.links_of(conn, record, actor.can_see_restricted)

    def links_of_many(self, actor: Actor, batch: Sequence[Record], public_only: bool = False
                      ) -> dict[str, builtins.list[Link]]:
        """accession -> links into and out of each of ``batch`` whose ends ``actor`` may see."""
        with self.db.read() as conn:
            return link_store.links_of_many(conn, batch,
                                            actor.can_see_restricted and not public_only)

    def lineage(self, actor: Actor, accession: str, max_depth: int = 10
                ) -> dict[str, Any]:
        """Ancestors and descendants of any record, as edges and the records they touch."""
        seen = actor.can_see_restricted
        with self.db.read() as conn:
            record = visible(actor, store.get_record(conn, accession), accession)
            up = link_store.lineage(conn, record, link_store.UP, max_depth, seen)
            down = link_store.lineage(conn, record, link_store.DOWN, max_depth, seen)
            accessions = {e.source for e in up + down} | {e.target for e in up + down}
            found = store.get_records(conn, accessions)
        nodes = [{"accession": acc, "kind": found[acc].kind, "name": found[acc].name}
                 for acc in sorted(accessions) if acc in found]
        return {"accession": record.accession, "kind": record.kind, "name": record.name,
                "ancestors": [_edge(e) for e in up], "descendants": [_edge(e) for e in down],
                "nodes": nodes}

    def history(self, actor: Actor, accession: str) -> builtins.list[Version]:
        """Every change of a record; for readers, without link entries that would reveal a
        restricted record (a reader must not learn a confidential deposit exists)."""
        with self.db.read() as conn:
            record = visible(actor, store.get_record(conn, accession), accession)
            versions = store.history(conn, record)
            if redacted(actor, record) is not record:  # under NDA: no details in the diffs
                versions = [dataclasses.replace(v, changes={k: c for k, c in v.changes.items()
                                                if k not in NDA_FIELDS}) for v in versions]
            if actor.can_see_restricted:
                return versions
            named = {acc for v in versions if v.action in ("link", "unlink")
                     for acc in _ACCESSION_IN_TEXT.findall(json.dumps(v.changes))}
            hidden = store.restricted_accessions(conn, named)
        return [v for v in versions if v.action not in ("link", "unlink")
                or not set(_ACCESSION_IN_TEXT.findall(json.dumps(v.changes))) & hidden]

    def restricted_accessions(self, kind: str) -> set[str]:
        """Every restricted record of ``kind``: for services that keep what only curators
        may see apart (the sequence index); never shown to a caller as such."""
        with self.db.read() as conn:
            return queries.restricted_of_kind(conn, kind_spec(kind).name)

    def counts(self, actor: Actor) -> dict[str, int]:
        with self.db.read() as conn:
            return queries.count_by_kind(conn, actor.can_see_restricted)

    # -- writing --------------------------------------------------------------------------
    def create(self, actor: Actor, kind: str, raw: Mapping[str, Any],
               ctx: ValueContext | None = None, note: str | None = None, *,
               summary: Mapping[str, Any] | None = None) -> Record:
        """Validate and store one new record; identifiers must not belong to another.
        ``summary``: computed summary fields a service measured (a chassis model's checks),
        written with the record in the same version."""
        require_some_writer(actor)
        spec = kind_spec(kind)
        if actor.member_of and spec.name in ENTRY_KINDS and "organisation" not in raw:
            raw = {**raw, "organisation": actor.member_of}  # a member writes for its own
        fields, problems = validate_fields(spec, raw, ctx)
        if summary:
            fields.update({k: v for k, v in summary.items()
                           if k in spec.summary_fields and v is not None})
        require_record_writer(actor, spec.name, fields)
        if problems:
            raise ValidationFailed(f"the {spec.name} is not valid", problems)
        ids = spec.identifiers(fields)
        with self.db.write() as conn:
            _check_references(conn, spec, fields)
            owners = store.identifier_owners(conn, spec.name, ids)
            if owners:
                clashes = ", ".join(f"{v} ({owners[identifier_key(v)]})" for v in ids
                                    if identifier_key(v) in owners)
                raise Conflict(f"a {spec.name} with these identifiers exists: {clashes}; "
                               "update that record instead")
            [accession] = store.insert_records(
                conn, [NewRecord(spec, fields, ids, restricted_of(spec, fields))],
                actor.username, note)
            created = store.get_record(conn, accession)
        assert created is not None
        return created

    @contextmanager
    def batch(self, actor: Actor, kind: str, note: str | None = None
              ) -> Iterator[CatalogBatch]:
        """A bulk write of ``kind`` in one transaction that holds the kind's write lock;
        committed only if the caller calls ``commit()`` on it, else rolled back."""
        require_writer(actor)
        spec = kind_spec(kind)
        with self.db.transaction() as tx:
            store.lock_kind(tx.conn, spec)
            writes = CatalogBatch(tx.conn, actor, spec, note)
            yield writes
            if writes.committed:
                tx.commit()
            else:
                tx.rollback()

    def update(self, actor: Actor, accession: str, raw: Mapping[str, Any],
               ctx: ValueContext | None = None, note: str | None = None,
               replace: bool = False, *, expected_version: int | None = None,
               since_version: int | None = None) -> Record:
        """Change the given fields of a record (all fields if ``replace``).

        The record is read and written in one transaction that holds it, so concurrent
        changes of different fields all stay. ``expected_version``: write only if the
        record is still at that version (an API ``If-Match``), else
        :class:`~lanhai.errors.StaleVersion`. ``since_version``: the fields in ``raw`` were
        changed by someone looking at that version (an edit form): changes made since by
        others stay, and only a field changed on both sides to different values is refused
        (StaleVersion naming each such field with both values).
        """
        require_some_writer(actor)
        for attempt in range(3):
            try:
                with self.db.write() as conn:
                    record = visible(actor, store.get_record(conn, accession, for_update=True),
                                     accession)
                    if expected_version is not None and record.version != expected_version:
                        raise StaleVersion(
                            f"{record.accession} is at version {record.version}, not "
                            f"{expected_version}: someone changed it since you read it; "
                            "nothing was written: read it again and repeat the change",
                            record.version)
                    since = (None if since_version is None or since_version == record.version
                             else store.fields_at(conn, record, since_version))
                    return self._update_in(conn, actor, record, raw, ctx, note, replace,
                                           since)
            except StaleVersion:
                # only a caller that named no version gets its change applied to whatever
                # is stored now (another writer slipped in between the read and the write)
                if expected_version is not None or since_version is not None or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def at_version(self, actor: Actor, accession: str, version: int) -> Record:
        """The record as it was at ``version`` (its fields; the rest as now)."""
        with self.db.read() as conn:
            record = visible(actor, store.get_record(conn, accession), accession)
            if not 1 <= version <= record.version:
                raise UsageError(f"{record.accession} has versions 1 to {record.version}, "
                                 f"not {version}")
            if version != record.version:
                record.fields = store.fields_at(conn, record, version)
                record.version = version
            return redacted(actor, record)

    def _update_in(self, conn: Conn, actor: Actor, record: Record,
                   raw: Mapping[str, Any], ctx: ValueContext | None, note: str | None,
                   replace: bool, since: Mapping[str, Any] | None = None) -> Record:
        spec = kind_spec(record.kind)
        # summary fields (an assembly's N50 …) come from stored data, not from the fields
        # a curator edits, so even a full replace keeps them
        base = ({k: v for k, v in record.fields.items() if k in spec.summary_fields}
                if replace else spec.editable_fields(record.fields))
        fields, problems = validate_fields(spec, raw, ctx, existing=base)
        require_record_writer(actor, spec.name, fields, record.fields)
        if problems:
            raise ValidationFailed(f"the change to {record.accession} is not valid",
                                   [_with_record(p, record.accession) for p in problems])
        _check_references(conn, spec, fields)
        if since is not None:
            _refuse_crossed_changes(record, since, fields, raw)
        ids = spec.identifiers(fields)
        owners = store.identifier_owners(conn, spec.name, ids)
        clash = [v for v in ids if owners.get(identifier_key(v), record.accession)
                 != record.accession]
        if clash:
            raise Conflict(f"identifiers {', '.join(clash)} already belong to another "
                           f"{spec.name}: {', '.join(sorted(set(owners.values())))}")
        store.update_record(conn, record, spec, fields, ids,
                            restricted_of(spec, fields, record), actor.username, note)
        return record

    def set_summary(self, actor: Actor, accession: str, values: Mapping[str, Any],
                    note: str | None) -> None:
        """Write computed summary fields (an assembly's statistics, gene counts) onto a
        record, versioned like any change; ``None`` removes a field."""
        require_writer(actor)
        with self.db.write() as conn:
            record = visible(actor, store.get_record(conn, accession, for_update=True),
                             accession)
            spec = kind_spec(record.kind)
            fields = dict(record.fields)
            for name, value in values.items():
                if value is None:
                    fields.pop(name, None)
                else:
                    fields[name] = value
            # what is computed from the fields (an assembly's quality verdict) is computed
            # again; a contradiction leaves it unset and says so in the history
            unjudged = "; ".join(p.reason for p in spec.derive(fields))
            if unjudged:
                note = f"{note or ''}; not judged: {unjudged}"[:500].lstrip("; ")
            store.update_record(conn, record, spec, fields, spec.identifiers(fields),
                                record.restricted, actor.username, note)

    def add_deposit_event(self, actor: Actor, accession: str, event_kind: str,
                          event: Mapping[str, Any], note: str | None = None) -> Record:
        """Append a Budapest lifecycle event to a deposit and recompute its clocks.

        ``event_kind`` is receipts (Rule 7), viability_tests (Rule 10) or furnishings
        (Rule 11); a furnished sample extends retention to 5 years after it.
        """
        from lanhai.kinds.deposits import EVENT_KEYS

        require_writer(actor)
        if event_kind not in EVENT_KEYS:
            raise UsageError(f"unknown deposit event {event_kind!r}; use one of: "
                             + ", ".join(EVENT_KEYS))
        with self.db.write() as conn:
            record = visible(actor, store.get_record(conn, accession, for_update=True),
                             accession)
            if record.kind != "deposit":
                raise UsageError(f"{record.accession} is a {record.kind}, not a deposit")
            events = [*record.fields.get(event_kind, []), dict(event)]
            return self._update_in(conn, actor, record, {event_kind: events}, None,
                                   note or f"{event_kind} event", False)

    def link(self, actor: Actor, source: str, rel: str, target: str) -> Link:
        """Link two records; 'A REL B' is read in either direction if only one is allowed."""
        require_writer(actor)
        if rel not in LINK_RULES:
            raise UsageError(f"unknown relation {rel!r}; relations are: "
                             + ", ".join(LINK_RULES))
        with self.db.write() as conn:
            src = visible(actor, store.get_record(conn, source), source)
            dst = visible(actor, store.get_record(conn, target), target)
            if src._id == dst._id:
                raise ValidationFailed("a record cannot be linked to itself",
                                       [Problem("source and target are the same record",
                                                "give two different accessions",
                                                record=src.accession)])
            if not check_link(rel, src.kind, dst.kind):
                if rel != "derived_from" and check_link(rel, dst.kind, src.kind):
                    src, dst = dst, src
                else:
                    rule = LINK_RULES[rel]
                    raise ValidationFailed(
                        f"{src.kind} --{rel}--> {dst.kind} is not an allowed link",
                        [Problem(f"{rel} links {'/'.join(rule.sources)} to "
                                 f"{'/'.join(rule.targets)}" +
                                 (" of the same kind" if rel == "derived_from" else ""),
                                 f"check the accessions; {rule.description}",
                                 record=f"{source} {rel} {target}")])
            if rel == "derived_from" and _reaches(conn, dst, src):
                raise ValidationFailed("this link would make a cycle",
                                       [Problem(f"{src.accession} already descends from "
                                                f"{dst.accession}", "link the other way round",
                                                record=src.accession)])
            link_store.add_link(conn, src, rel, dst, actor.username)
            found = [lk for lk in link_store.links_of(conn, src, True)
                     if lk.rel == rel and lk.target == dst.accession]
        return found[0]

    def unlink(self, actor: Actor, source: str, rel: str, target: str) -> None:
        require_writer(actor)
        with self.db.write() as conn:
            src = visible(actor, store.get_record(conn, source), source)
            dst = visible(actor, store.get_record(conn, target), target)
            if not (link_store.remove_link(conn, src, rel, dst, actor.username)
                    or link_store.remove_link(conn, dst, rel, src, actor.username)):
                raise NotFound(f"no link {source} --{rel}--> {target}")


def _reaches(conn: Conn, start: Record, goal: Record) -> bool:
    edges = link_store.lineage(conn, start, link_store.DOWN, 50, True)
    return any(e.target == goal.accession for e in edges)


def _edge(edge: LineageEdge) -> dict[str, Any]:
    return {"source": edge.source, "rel": edge.rel, "target": edge.target, "depth": edge.depth}


def _with_record(problem: Problem, accession: str) -> Problem:
    return Problem(reason=problem.reason, fix=problem.fix, field=problem.field,
                   value=problem.value, record=accession)


__all__ = ["CatalogBatch", "CatalogService", "check_accession"]
