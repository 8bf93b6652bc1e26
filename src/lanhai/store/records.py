"""Reading and writing catalog records on a SQLAlchemy connection.

Only this package knows SQL. Callers own the transaction (``with engine.begin() as conn``)
so a bulk import is one transaction: all rows or none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    update,
)

from lanhai.db.schema import accession_counters, identifiers, records, versions
from lanhai.errors import StaleVersion
from lanhai.kinds import (
    KindSpec,
    display_name,
    format_accession,
    held_accession,
    kind_spec,
    search_text,
)
from lanhai.kinds.fields import Fields
from lanhai.model import NewRecord, Record, Version, identifier_key

#: the key under which a version records a change of the record's indexed identifiers
IDENTIFIER_INDEX = "identifier index"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def record_from_row(row: Any, ids: list[str] | None = None) -> Record:
    return Record(
        accession=row.accession, kind=row.kind, name=row.name, fields=dict(row.fields),
        restricted=bool(row.restricted), version=row.version,
        created_at=as_utc(row.created_at), updated_at=as_utc(row.updated_at),
        created_by=row.created_by, updated_by=row.updated_by, identifiers=ids or [], _id=row.id,
    )


def _columns(spec: KindSpec, fields: Fields, ids: list[str]) -> dict[str, Any]:
    """The indexed columns copied out of a record's fields."""
    date = fields.get("collection_date") or fields.get("deposit_date") or fields.get(
        "acqdate") or fields.get("isolation_date")
    taxon = fields.get(spec.taxon_field) if spec.taxon_field else None
    return {
        "name": display_name(spec, fields)[:300],
        "taxon": str(taxon)[:300] if taxon else None,
        "latitude": fields.get("latitude"),
        "longitude": fields.get("longitude"),
        "depth_m": fields.get("depth_m"),
        "event_date": str(date)[:32] if date else None,
        "search_text": search_text(spec, fields, ids),
    }


# --- accessions ----------------------------------------------------------------------------

def reserve_accessions(conn: Connection, spec: KindSpec, count: int) -> list[str]:
    """Hand out ``count`` new accessions for ``spec`` (row-locked on PostgreSQL)."""
    if count <= 0:
        return []
    result = conn.execute(
        update(accession_counters)
        .where(accession_counters.c.kind == spec.name)
        .values(last_number=accession_counters.c.last_number + count)
        .returning(accession_counters.c.last_number)
    ).first()
    if result is None:
        conn.execute(insert(accession_counters).values(kind=spec.name, last_number=count))
        last = count
    else:
        last = int(result[0])
    return [format_accession(spec, n) for n in range(last - count + 1, last + 1)]


def held_accessions(conn: Connection, spec: KindSpec, count: int) -> list[str]:
    """``count`` new random accessions for records created restricted (none in use)."""
    out: set[str] = set()
    while len(out) < count:
        drawn = sorted({held_accession(spec) for _ in range(count - len(out))} - out)
        taken: set[str] = set()
        for start in range(0, len(drawn), 500):
            taken.update(conn.execute(select(records.c.accession).where(
                records.c.accession.in_(drawn[start:start + 500]))).scalars())
        out.update(a for a in drawn if a not in taken)
    return sorted(out)


# --- reading -------------------------------------------------------------------------------

#: the get-by-accession query, built once: building a statement per call cost more than
#: running it (the API's hot path; see benchmarks/bench_api_get.py)
_BY_ACCESSION = (
    select(records, identifiers.c.value.label("identifier_value"))
    .outerjoin(identifiers, identifiers.c.record_id == records.c.id)
    .where(records.c.accession == bindparam("accession"))
    .order_by(identifiers.c.id)
)


_LOCK = (select(records.c.id).where(records.c.accession.in_(bindparam("accessions",
                                                                       expanding=True)))
         .order_by(records.c.id).with_for_update())


def _lock(conn: Connection, accessions: Sequence[str]) -> None:
    """Lock these records' rows until the transaction ends (PostgreSQL; a SQLite write
    holds the whole database). Locked first and read after, so the read (a new statement)
    sees what was committed before the lock was granted, identifiers included."""
    if accessions and conn.dialect.name != "sqlite":
        conn.execute(_LOCK, {"accessions": list(accessions)}).all()


def get_record(conn: Connection, accession: str, for_update: bool = False) -> Record | None:
    """The record with this accession, with its identifiers, or None. ``for_update`` locks
    it first, for a read that decides a write."""
    if for_update:
        _lock(conn, [accession.upper()])
    rows = conn.execute(_BY_ACCESSION, {"accession": accession.upper()}).all()
    if not rows:
        return None
    ids = [r.identifier_value for r in rows if r.identifier_value is not None]
    return record_from_row(rows[0], ids)


def restricted_accessions(conn: Connection, accessions: Iterable[str]) -> set[str]:
    """Those of ``accessions`` that belong to restricted records."""
    wanted = sorted(set(accessions))
    out: set[str] = set()
    for start in range(0, len(wanted), 500):
        out.update(conn.execute(
            select(records.c.accession).where(records.c.accession.in_(wanted[start:start + 500]),
                                              records.c.restricted == literal(True))
        ).scalars())
    return out


def record_ids_by_identifier(conn: Connection, kind: str, values: Iterable[str]
                             ) -> dict[str, int]:
    """Map identifier key -> record id for the identifiers that already exist."""
    keys = list({identifier_key(v) for v in values if v})
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        for key, record_id in conn.execute(
            select(identifiers.c.key, identifiers.c.record_id)
            .where(identifiers.c.kind == kind, identifiers.c.key.in_(chunk))
        ):
            found[key] = record_id
    return found


def get_records_by_ids(conn: Connection, ids: Sequence[int]) -> dict[int, Record]:
    out: dict[int, Record] = {}
    for start in range(0, len(ids), 500):
        for row in conn.execute(select(records).where(records.c.id.in_(ids[start:start + 500]))):
            out[row.id] = record_from_row(row)
    return out


# --- writing -------------------------------------------------------------------------------

def _diff(old: Fields, new: Fields) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            changes[key] = [old.get(key), new.get(key)]
    return changes


def insert_records(conn: Connection, items: Sequence[NewRecord], actor: str,
                   note: str | None = None) -> list[str]:
    """Insert new records (with identifiers and a 'create' version); return accessions."""
    if not items:
        return []
    stamp = now()
    by_kind: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        by_kind.setdefault(item.spec.name, []).append(index)
    accessions: list[str] = [""] * len(items)
    for kind, indexes in by_kind.items():
        numbered = [i for i in indexes if not items[i].restricted]
        for index, acc in zip(numbered, reserve_accessions(conn, kind_spec(kind),
                                                           len(numbered)), strict=True):
            accessions[index] = acc
        held = [i for i in indexes if items[i].restricted]
        for index, acc in zip(held, held_accessions(conn, kind_spec(kind), len(held)),
                              strict=True):
            accessions[index] = acc
    rows = [
        {"accession": acc, "kind": item.spec.name, "fields": item.fields,
         "restricted": item.restricted, "version": 1, "created_at": stamp,
         "updated_at": stamp, "created_by": actor, "updated_by": actor,
         **_columns(item.spec, item.fields, item.identifiers)}
        for acc, item in zip(accessions, items, strict=True)
    ]
    conn.execute(insert(records), rows)
    ids: dict[str, int] = {}
    for start in range(0, len(accessions), 500):
        for acc, rec_id in conn.execute(
            select(records.c.accession, records.c.id)
            .where(records.c.accession.in_(accessions[start:start + 500]))
        ):
            ids[acc] = rec_id
    id_rows = [
        {"record_id": ids[acc], "kind": item.spec.name, "key": identifier_key(value),
         "value": value}
        for acc, item in zip(accessions, items, strict=True)
        for value in item.identifiers
    ]
    if id_rows:
        conn.execute(insert(identifiers), id_rows)
    conn.execute(insert(versions), [
        {"record_id": ids[acc], "version": 1, "action": "create", "changed_at": stamp,
         "changed_by": actor, "changes": {k: [None, v] for k, v in item.fields.items()},
         "note": note}
        for acc, item in zip(accessions, items, strict=True)
    ])
    return accessions


def update_record(conn: Connection, record: Record, spec: KindSpec, fields: Fields,
                  ids: list[str], restricted: bool, actor: str, note: str | None = None
                  ) -> bool:
    """Store new fields for ``record`` if anything changed; return whether it did."""
    changes = _diff(record.fields, fields)  # exact, so fields_at can undo it
    if restricted != record.restricted and "restricted" not in changes:
        changes["restricted"] = [record.restricted, restricted]
    old_keys = {identifier_key(v): v for v in record.identifiers}
    new_keys = {identifier_key(v): v for v in ids}
    if set(old_keys) != set(new_keys):  # a key no field has (there is an identifiers field)
        changes[IDENTIFIER_INDEX] = [record.identifiers, ids]
    if not changes:
        return False
    stamp = now()
    version = record.version + 1
    done = conn.execute(
        update(records).where(records.c.id == record._id, records.c.version == record.version)
        .values(fields=fields, restricted=restricted, version=version, updated_at=stamp,
                updated_by=actor, **_columns(spec, fields, ids))
    )
    if done.rowcount != 1:  # changed since it was read: never write over that change
        current = conn.execute(select(records.c.version).where(
            records.c.id == record._id)).scalar_one()
        raise StaleVersion(f"{record.accession} changed while this change was made "
                           f"(version {record.version} was read, {current} is stored); "
                           "nothing was written: read it again and repeat the change",
                           current)
    gone = [k for k in old_keys if k not in new_keys]
    if gone:
        conn.execute(identifiers.delete().where(identifiers.c.record_id == record._id,
                                                identifiers.c.key.in_(gone)))
    added = [{"record_id": record._id, "kind": spec.name, "key": k, "value": v}
             for k, v in new_keys.items() if k not in old_keys]
    if added:
        conn.execute(insert(identifiers), added)
    conn.execute(insert(versions).values(
        record_id=record._id, version=version, action="update", changed_at=stamp,
        changed_by=actor, changes=changes, note=note))
    record.fields, record.version, record.restricted = fields, version, restricted
    record.identifiers, record.updated_at, record.updated_by = ids, stamp, actor
    return True


def refresh_statistics(conn: Connection) -> None:
    """Let PostgreSQL's planner see the rows this transaction wrote (ANALYZE counts them).

    A long bulk write looks records up by identifier as it goes; planned for the tables as
    they were before it (on a new bank: empty), such a lookup read every identifier of the
    kind, so an import took time growing with the square of its rows. Tables another
    transaction is analysing are skipped rather than waited for. SQLite plans by its
    indexes: nothing to do."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE (SKIP_LOCKED) records, identifiers")


def identifier_owners(conn: Connection, kind: str, values: Iterable[str]) -> dict[str, str]:
    """identifier key -> accession of the record holding it."""
    keys = list({identifier_key(v) for v in values if v})
    out: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        for key, acc in conn.execute(
            select(identifiers.c.key, records.c.accession)
            .join(records, records.c.id == identifiers.c.record_id)
            .where(identifiers.c.kind == kind, identifiers.c.key.in_(keys[start:start + 500]))
        ):
            out[key] = acc
    return out


def get_records(conn: Connection, accessions: Iterable[str], for_update: bool = False
                ) -> dict[str, Record]:
    """accession -> record (with its identifiers) for a batch; unknown accessions left out.
    ``for_update`` locks their rows as :func:`get_record` does."""
    wanted = list(dict.fromkeys(a.upper() for a in accessions))
    out: dict[str, Record] = {}
    for start in range(0, len(wanted), 500):
        if for_update:
            _lock(conn, wanted[start:start + 500])
        rows = conn.execute(select(records).where(
            records.c.accession.in_(wanted[start:start + 500]))).all()
        ids: dict[int, list[str]] = {row.id: [] for row in rows}
        if ids:
            for record_id, value in conn.execute(
                select(identifiers.c.record_id, identifiers.c.value)
                .where(identifiers.c.record_id.in_(list(ids))).order_by(identifiers.c.id)
            ):
                ids[record_id].append(value)
        for row in rows:
            out[row.accession] = record_from_row(row, ids[row.id])
    return out


def lock_kind(conn: Connection, spec: KindSpec) -> None:
    """Start the write now: SQLite takes its write lock, PostgreSQL locks the kind's
    accession counter, so a long import sees a stable bank and is not interleaved with
    other writes of the same kind."""
    conn.execute(update(accession_counters).where(accession_counters.c.kind == spec.name)
                 .values(last_number=accession_counters.c.last_number))


# --- history -------------------------------------------------------------------------------

def fields_at(conn: Connection, record: Record, version: int) -> Fields:
    """``record``'s fields as they were at ``version``: its fields now, with every later
    change undone (newest first)."""
    fields = dict(record.fields)
    later = conn.execute(
        select(versions.c.changes).where(versions.c.record_id == record._id,
                                         versions.c.version > version,
                                         versions.c.action == "update")
        .order_by(versions.c.version.desc(), versions.c.id.desc())).scalars()
    for changes in later:
        for name, (old, _new) in changes.items():
            if name == IDENTIFIER_INDEX:  # what the identifiers were indexed as, not a field
                continue
            if old is None:
                fields.pop(name, None)
            else:
                fields[name] = old
    return fields


def history(conn: Connection, record: Record) -> list[Version]:
    """Every change of ``record``, oldest first."""
    return [
        Version(r.version, r.action, as_utc(r.changed_at), r.changed_by, dict(r.changes), r.note)
        for r in conn.execute(select(versions).where(versions.c.record_id == record._id)
                              .order_by(versions.c.version, versions.c.id))
    ]


def growth(conn: Connection, include_restricted: bool) -> list[tuple[str, str, int]]:
    """(kind, YYYY-MM, records created that month), from the audit trail."""
    month = func.substr(cast(versions.c.changed_at, String), 1, 7)
    stmt = (select(records.c.kind, month, func.count())
            .join(records, records.c.id == versions.c.record_id)
            .where(versions.c.action == "create").group_by(records.c.kind, month)
            .order_by(month))
    if not include_restricted:
        stmt = stmt.where(records.c.restricted == literal(False))
    return [(k, m, int(n)) for k, m, n in conn.execute(stmt)]
