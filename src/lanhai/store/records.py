"""Reading and writing catalog records on a SQLAlchemy connection.

Only this package knows SQL. Callers own the transaction (``with engine.begin() as conn``)
so a bulk import is one transaction: all rows or none.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    column,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)

from lanhai.db.schema import accession_counters, identifiers, links, records, versions
from lanhai.errors import UsageError
from lanhai.kinds import KindSpec, display_name, format_accession, kind_spec, search_text
from lanhai.kinds.fields import Fields


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def identifier_key(value: str) -> str:
    """Case- and spacing-insensitive key of an external identifier ('dsm  12345' = 'DSM 12345')."""
    return re.sub(r"[\s_.:=\-/#]+", "", value).casefold()


@dataclass
class Record:
    """A catalog record as services see it (the database id never leaves the store)."""

    accession: str
    kind: str
    name: str
    fields: Fields
    restricted: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str
    updated_by: str
    identifiers: list[str] = field(default_factory=list)
    _id: int = field(default=0, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accession": self.accession, "kind": self.kind, "name": self.name,
            "restricted": self.restricted, "version": self.version,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
            "created_by": self.created_by, "updated_by": self.updated_by,
            "identifiers": self.identifiers, "fields": self.fields,
        }


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _record(row: Any, ids: list[str] | None = None) -> Record:
    return Record(
        accession=row.accession, kind=row.kind, name=row.name, fields=dict(row.fields),
        restricted=bool(row.restricted), version=row.version,
        created_at=_as_utc(row.created_at), updated_at=_as_utc(row.updated_at),
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


# --- reading -------------------------------------------------------------------------------

#: the get-by-accession query, built once: building a statement per call cost more than
#: running it (the API's hot path; see benchmarks/bench_api_get.py)
_BY_ACCESSION = (
    select(records, identifiers.c.value.label("identifier_value"))
    .outerjoin(identifiers, identifiers.c.record_id == records.c.id)
    .where(records.c.accession == bindparam("accession"))
    .order_by(identifiers.c.id)
)


def get_record(conn: Connection, accession: str) -> Record | None:
    """The record with this accession, with its identifiers, or None."""
    rows = conn.execute(_BY_ACCESSION, {"accession": accession.upper()}).all()
    if not rows:
        return None
    return _record(rows[0], [r.identifier_value for r in rows if r.identifier_value is not None])


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
            out[row.id] = _record(row)
    return out


@dataclass(frozen=True)
class Filter:
    """One condition of a list query: ``field op value``."""

    field: str
    op: str
    value: str


_FILTER = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(!=|>=|<=|=|>|<|~)\s*(.*?)\s*$")
_COLUMN_FILTERS = {"accession", "name", "taxon", "latitude", "longitude", "depth_m",
                   "event_date", "restricted", "created_at", "updated_at", "created_by",
                   "updated_by", "version"}


def parse_filter(expression: str) -> Filter:
    """Parse 'depth_m>1000', 'taxon~Zobellia', 'collection_date>=2010'."""
    match = _FILTER.match(expression)
    if not match:
        raise UsageError(
            f"cannot read the filter {expression!r}: write FIELD OP VALUE with OP one of "
            "= != > >= < <= ~ (contains), e.g. depth_m>1000 or taxon~Zobellia"
        )
    return Filter(match[1], match[2], match[3])


def _condition(spec: KindSpec | None, flt: Filter) -> ColumnElement[bool]:
    value: Any = flt.value
    numeric: float | None
    try:
        numeric = float(value)
    except ValueError:
        numeric = None
    if flt.field in _COLUMN_FILTERS:
        column: Any = records.c[flt.field]
        if flt.field == "restricted":
            value = value.lower() in ("1", "true", "yes")
        elif flt.field in ("latitude", "longitude", "depth_m", "version"):
            if numeric is None:
                raise UsageError(f"filter {flt.field} needs a number, got {value!r}")
            value = numeric
    else:
        if spec is not None and flt.field not in spec.field_names and flt.field not in (
            *spec.computed, "taxon_name"
        ):
            raise UsageError(
                f"{spec.name} has no field {flt.field!r}; filter on one of: "
                + ", ".join(sorted({*spec.field_names, *spec.computed, *_COLUMN_FILTERS}))
            )
        element = records.c.fields[flt.field]
        if numeric is not None and flt.op in (">", ">=", "<", "<="):
            column, value = element.as_float(), numeric
        elif flt.op == "~":
            column = cast(element, String)
        else:
            column = element.as_string()
            if numeric is not None and flt.op in ("=", "!="):
                either: ColumnElement[bool] = or_(element.as_string() == value,
                                                  element.as_float() == numeric)
                return either if flt.op == "=" else ~either
    ops: dict[str, Any] = {
        "=": lambda c, v: c == v, "!=": lambda c, v: c != v, ">": lambda c, v: c > v,
        ">=": lambda c, v: c >= v, "<": lambda c, v: c < v, "<=": lambda c, v: c <= v,
        "~": lambda c, v: func.lower(cast(c, String)).contains(str(v).lower(),
                                                               autoescape=True),
    }
    made: ColumnElement[bool] = ops[flt.op](column, value)
    return made


def _text_match(conn: Connection, query: str) -> ColumnElement[bool]:
    query = query.strip()
    if conn.dialect.name == "sqlite" and len(query) >= 3:
        phrase = '"' + query.replace('"', '""') + '"'
        fts = text("SELECT rowid FROM records_fts WHERE records_fts MATCH :q").bindparams(
            q=phrase).columns(column("rowid", Integer))
        return records.c.id.in_(fts)
    pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace(
        "_", "\\_") + "%"
    return func.lower(records.c.search_text).like(pattern, escape="\\")


_SORTABLE = {"accession", "name", "taxon", "depth_m", "event_date", "created_at",
             "updated_at", "latitude", "longitude"}


def list_records(
    conn: Connection,
    kind: str | None,
    filters: Sequence[Filter] = (),
    *,
    query: str | None = None,
    include_restricted: bool = False,
    limit: int = 50,
    offset: int = 0,
    sort: str = "accession",
    with_total: bool = True,
) -> tuple[list[Record], int | None]:
    """Records of ``kind`` (or all kinds) matching every filter; (page, total)."""
    spec = kind_spec(kind) if kind else None
    conditions: list[ColumnElement[bool]] = []
    if spec is not None:
        conditions.append(records.c.kind == spec.name)
    if not include_restricted:
        conditions.append(records.c.restricted == literal(False))
    conditions.extend(_condition(spec, f) for f in filters)
    if query and query.strip():
        conditions.append(_text_match(conn, query))
    where = and_(*conditions) if conditions else literal(True) == literal(True)
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in _SORTABLE:
        raise UsageError(f"cannot sort by {key!r}; sort by one of: {', '.join(sorted(_SORTABLE))}")
    order = records.c[key].desc() if descending else records.c[key].asc()
    rows = conn.execute(
        select(records).where(where).order_by(order, records.c.id).limit(limit).offset(offset)
    ).all()
    total = None
    if with_total:
        total = conn.execute(select(func.count()).select_from(records).where(where)).scalar_one()
    return [_record(r) for r in rows], total


def iter_records(
    conn: Connection,
    kind: str,
    filters: Sequence[Filter] = (),
    *,
    query: str | None = None,
    include_restricted: bool = False,
    batch_size: int = 1000,
) -> Generator[list[Record], None, None]:
    """Every matching record of ``kind`` in accession order, in batches, with identifiers.

    Keyset-paginated (``accession > last``), so memory stays flat however many records
    match. The filters are checked now: a bad filter raises before the first batch.
    """
    spec = kind_spec(kind)
    # The kind is the accession prefix: a range on the unique accession index selects it
    # and keeps each page an index range scan (no sort of the whole kind per page).
    after_kind = spec.prefix[:-1] + chr(ord(spec.prefix[-1]) + 1)  # LHSM -> LHSN
    conditions: list[ColumnElement[bool]] = [records.c.accession < after_kind]
    if not include_restricted:
        conditions.append(records.c.restricted == literal(False))
    conditions.extend(_condition(spec, f) for f in filters)
    if query and query.strip():
        conditions.append(_text_match(conn, query))
    return _record_batches(conn, conditions, spec.prefix, max(1, batch_size))


def _record_batches(conn: Connection, conditions: list[ColumnElement[bool]], last: str,
                    batch_size: int) -> Generator[list[Record], None, None]:
    while True:
        rows = conn.execute(
            select(records).where(and_(*conditions, records.c.accession > last))
            .order_by(records.c.accession).limit(batch_size)
        ).all()
        if not rows:
            return
        ids: dict[int, list[str]] = {row.id: [] for row in rows}
        for record_id, value in conn.execute(
            select(identifiers.c.record_id, identifiers.c.value)
            .where(identifiers.c.record_id.in_(list(ids))).order_by(identifiers.c.id)
        ):
            ids[record_id].append(value)
        yield [_record(row, ids[row.id]) for row in rows]
        if len(rows) < batch_size:
            return
        last = rows[-1].accession


def count_by_kind(conn: Connection, include_restricted: bool) -> dict[str, int]:
    stmt = select(records.c.kind, func.count()).group_by(records.c.kind)
    if not include_restricted:
        stmt = stmt.where(records.c.restricted == literal(False))
    return {kind: int(n) for kind, n in conn.execute(stmt)}


# --- writing -------------------------------------------------------------------------------

def _diff(old: Fields, new: Fields) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            changes[key] = [old.get(key), new.get(key)]
    return changes


@dataclass
class NewRecord:
    """A validated record ready to insert."""

    spec: KindSpec
    fields: Fields
    identifiers: list[str]
    restricted: bool


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
        for index, acc in zip(indexes, reserve_accessions(conn, kind_spec(kind), len(indexes)),
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
    changes = _diff(record.fields, fields)
    if restricted != record.restricted:
        changes["restricted"] = [record.restricted, restricted]
    old_keys = {identifier_key(v): v for v in record.identifiers}
    new_keys = {identifier_key(v): v for v in ids}
    if set(old_keys) != set(new_keys):
        changes["identifiers"] = [record.identifiers, ids]
    if not changes:
        return False
    stamp = now()
    version = record.version + 1
    conn.execute(
        update(records).where(records.c.id == record._id).values(
            fields=fields, restricted=restricted, version=version, updated_at=stamp,
            updated_by=actor, **_columns(spec, fields, ids))
    )
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


def get_records(conn: Connection, accessions: Iterable[str]) -> dict[str, Record]:
    """accession -> record (with its identifiers) for a batch; unknown accessions left out."""
    wanted = list(dict.fromkeys(a.upper() for a in accessions))
    out: dict[str, Record] = {}
    for start in range(0, len(wanted), 500):
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
            out[row.accession] = _record(row, ids[row.id])
    return out


def lock_kind(conn: Connection, spec: KindSpec) -> None:
    """Start the write now: SQLite takes its write lock, PostgreSQL locks the kind's
    accession counter, so a long import sees a stable bank and is not interleaved with
    other writes of the same kind."""
    conn.execute(update(accession_counters).where(accession_counters.c.kind == spec.name)
                 .values(last_number=accession_counters.c.last_number))


# --- links and lineage ---------------------------------------------------------------------

@dataclass(frozen=True)
class Link:
    source: str
    rel: str
    target: str
    created_at: dt.datetime
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "rel": self.rel, "target": self.target,
                "created_at": self.created_at.isoformat(), "created_by": self.created_by}


def add_link(conn: Connection, source: Record, rel: str, target: Record, actor: str) -> bool:
    """Create ``source --rel--> target``; False if it already existed."""
    exists = conn.execute(select(links.c.id).where(
        links.c.source_id == source._id, links.c.rel == rel, links.c.target_id == target._id
    )).first()
    if exists:
        return False
    stamp = now()
    conn.execute(insert(links).values(source_id=source._id, rel=rel, target_id=target._id,
                                      created_at=stamp, created_by=actor))
    for rec, other, direction in ((source, target, "to"), (target, source, "from")):
        _bump(conn, rec, "link", {"link": [None, f"{direction} {other.accession} ({rel})"]},
              actor, stamp)
    return True


def remove_link(conn: Connection, source: Record, rel: str, target: Record, actor: str) -> bool:
    result = conn.execute(links.delete().where(
        links.c.source_id == source._id, links.c.rel == rel, links.c.target_id == target._id))
    if not result.rowcount:
        return False
    stamp = now()
    for rec, other, direction in ((source, target, "to"), (target, source, "from")):
        _bump(conn, rec, "unlink", {"link": [f"{direction} {other.accession} ({rel})", None]},
              actor, stamp)
    return True


def _bump(conn: Connection, rec: Record, action: str, changes: dict[str, Any], actor: str,
          stamp: dt.datetime) -> None:
    version = conn.execute(select(records.c.version).where(records.c.id == rec._id)
                           ).scalar_one() + 1
    conn.execute(update(records).where(records.c.id == rec._id).values(
        version=version, updated_at=stamp, updated_by=actor))
    conn.execute(insert(versions).values(record_id=rec._id, version=version, action=action,
                                         changed_at=stamp, changed_by=actor, changes=changes))
    rec.version = version


def links_of(conn: Connection, record: Record, include_restricted: bool) -> list[Link]:
    """Links into and out of ``record`` whose other end the caller may see."""
    src = records.alias("src")
    dst = records.alias("dst")
    stmt = (
        select(src.c.accession, links.c.rel, dst.c.accession, links.c.created_at,
               links.c.created_by, src.c.restricted, dst.c.restricted)
        .join(src, src.c.id == links.c.source_id).join(dst, dst.c.id == links.c.target_id)
        .where(or_(links.c.source_id == record._id, links.c.target_id == record._id))
        .order_by(links.c.id)
    )
    out = []
    for s, rel, t, at, by, s_restricted, t_restricted in conn.execute(stmt):
        if not include_restricted and (s_restricted or t_restricted):
            continue
        out.append(Link(s, rel, t, _as_utc(at), by))
    return out


def links_of_many(conn: Connection, batch: Sequence[Record], include_restricted: bool
                  ) -> dict[str, list[Link]]:
    """accession -> links into and out of it (as :func:`links_of`), for a batch of records."""
    by_id = {rec._id: rec.accession for rec in batch}
    out: dict[str, list[Link]] = {rec.accession: [] for rec in batch}
    src = records.alias("src")
    dst = records.alias("dst")
    stmt = (
        select(src.c.accession, links.c.rel, dst.c.accession, links.c.created_at,
               links.c.created_by, src.c.restricted, dst.c.restricted, links.c.source_id,
               links.c.target_id)
        .join(src, src.c.id == links.c.source_id).join(dst, dst.c.id == links.c.target_id)
        .where(or_(links.c.source_id.in_(list(by_id)), links.c.target_id.in_(list(by_id))))
        .order_by(links.c.id)
    )
    for s, rel, t, at, by, s_res, t_res, s_id, t_id in conn.execute(stmt):
        if not include_restricted and (s_res or t_res):
            continue
        link = Link(s, rel, t, _as_utc(at), by)
        for rec_id in dict.fromkeys((s_id, t_id)):
            if rec_id in by_id:
                out[by_id[rec_id]].append(link)
    return out


@dataclass(frozen=True)
class LineageEdge:
    source: str
    rel: str
    target: str
    depth: int


def lineage(conn: Connection, record: Record, direction: str, max_depth: int,
            include_restricted: bool) -> list[LineageEdge]:
    """Edges reachable upstream (ancestors) or downstream (descendants), breadth first.

    A restricted record the caller may not see stops the walk: neither it nor what lies
    beyond it through it is returned.
    """
    frontier = {record._id}
    seen = {record._id}
    edges: list[LineageEdge] = []
    for depth in range(1, max_depth + 1):
        if not frontier:
            break
        near, far = ((links.c.target_id, links.c.source_id) if direction == "up"
                     else (links.c.source_id, links.c.target_id))
        src = records.alias("src")
        dst = records.alias("dst")
        rows = conn.execute(
            select(links.c.rel, src.c.accession, dst.c.accession, src.c.restricted,
                   dst.c.restricted, far)
            .join(src, src.c.id == links.c.source_id).join(dst, dst.c.id == links.c.target_id)
            .where(near.in_(list(frontier))).order_by(links.c.id)
        ).all()
        next_frontier: set[int] = set()
        for rel, s_acc, t_acc, s_res, t_res, far_id in rows:
            if not include_restricted and (s_res or t_res):
                continue
            edges.append(LineageEdge(s_acc, rel, t_acc, depth))
            if far_id not in seen:
                seen.add(far_id)
                next_frontier.add(far_id)
        frontier = next_frontier
    return edges


# --- history -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Version:
    version: int
    action: str
    changed_at: dt.datetime
    changed_by: str
    changes: dict[str, Any]
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "action": self.action,
                "changed_at": self.changed_at.isoformat(), "changed_by": self.changed_by,
                "changes": self.changes, "note": self.note}


def history(conn: Connection, record: Record) -> list[Version]:
    """Every change of ``record``, oldest first."""
    return [
        Version(r.version, r.action, _as_utc(r.changed_at), r.changed_by, dict(r.changes), r.note)
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
