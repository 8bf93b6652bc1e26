"""List and search queries over catalog records: filters, full text, paging, counts."""

from __future__ import annotations

import difflib
from collections.abc import Generator, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    or_,
    select,
    text,
)

from lanhai.db.schema import identifiers, records
from lanhai.errors import UsageError
from lanhai.kinds import KindSpec, fts_phrase, kind_spec
from lanhai.model import Filter, Record
from lanhai.store.records import record_from_row
from lanhai.store.search import has_search_table, records_search

#: fields stored as a range or a pair, and the numbers to compare instead
_NUMBER_OF = {"depth": "depth_m (metres, the shallower end)",
              "lat_lon": "latitude and longitude", "tot_depth_water_col": "depth_m"}
_COLUMN_FILTERS = {"accession", "name", "taxon", "latitude", "longitude", "depth_m",
                   "event_date", "restricted", "created_at", "updated_at", "created_by",
                   "updated_by", "version"}


#: how a stored true or false reads back on either database
_TRUTH = {"true": ("true", "1"), "yes": ("true", "1"), "false": ("false", "0"),
          "no": ("false", "0")}


def _contains(conn: Connection, name: str, needle: str) -> ColumnElement[bool]:
    """Field ``name`` holds text containing ``needle`` (any case): the value itself, or
    any value of a list. Matched on the values, never on the JSON that stores them (where
    every value is quoted and lists have commas)."""
    pattern = "%" + needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace(
        "_", "\\_") + "%"
    if conn.dialect.name == "sqlite":
        each = func.json_each(records.c.fields, f"$.{name}").table_valued("value")
        return select(literal(1)).select_from(each).where(
            func.lower(cast(each.c.value, String)).like(pattern, escape="\\")).exists()
    element = records.c.fields[name]
    values = func.json_array_elements_text(element).table_valued("value")
    in_list = select(literal(1)).select_from(values).where(
        func.lower(values.c.value).like(pattern, escape="\\")).exists()
    return case((func.json_typeof(element) == "array", in_list),
                else_=func.lower(element.as_string()).like(pattern, escape="\\"))


def _condition(conn: Connection, spec: KindSpec | None, flt: Filter) -> ColumnElement[bool]:
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
            names = sorted({*spec.field_names, *spec.computed, *_COLUMN_FILTERS})
            close = difflib.get_close_matches(flt.field, names, n=1, cutoff=0.6)
            raise UsageError(
                f"{spec.name} has no field {flt.field!r}"
                + (f"; did you mean {close[0]!r}?" if close else "")
                + " Filter on one of: " + ", ".join(names))
        if flt.field in _NUMBER_OF and flt.op in (">", ">=", "<", "<="):
            raise UsageError(
                f"{flt.field} holds a range or a pair, not one number; compare "
                f"{_NUMBER_OF[flt.field]} instead (e.g. {_NUMBER_OF[flt.field].split()[0]}"
                f"{flt.op}{flt.value})")
        element = records.c.fields[flt.field]
        truth = str(value).strip().lower()
        if flt.op in ("=", "!=") and truth in _TRUTH:
            # a yes/no field holds JSON true/false, which SQLite reads as 1/0
            said = func.lower(cast(element.as_string(), String)).in_(_TRUTH[truth])
            return said if flt.op == "=" else ~said
        if numeric is not None and flt.op in (">", ">=", "<", "<="):
            column, value = element.as_float(), numeric
        elif flt.op == "~":
            return _contains(conn, flt.field, str(value))
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


def filter_condition(conn: Connection, kind: str, flt: Filter) -> ColumnElement[bool]:
    """The condition one filter (``depth_m>1000``) sets on records of ``kind``."""
    return _condition(conn, kind_spec(kind), flt)


def match_conditions(conn: Connection, kind: str, filters: Sequence[Filter],
                     query: str | None) -> list[ColumnElement[bool]]:
    """The conditions a list of ``kind`` applies for its filters and words (checked now: a
    bad filter is a usage error)."""
    spec = kind_spec(kind)
    found = [_condition(conn, spec, f) for f in filters]
    if query and query.strip():
        found.append(_text_match(conn, query))
    return found


def _text_match(conn: Connection, query: str) -> ColumnElement[bool]:
    query = query.strip()
    looked_up = fts_phrase(query)
    if conn.dialect.name == "sqlite" and looked_up is not None:
        phrase = '"' + looked_up.replace('"', '""') + '"'
        fts = text("SELECT rowid FROM records_fts WHERE records_fts MATCH :q").bindparams(
            q=phrase).columns(column("rowid", Integer))
        return records.c.id.in_(fts)
    pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace(
        "_", "\\_") + "%"
    if conn.dialect.name != "sqlite" and has_search_table(conn):
        # the search text lower-cased already, under the trigram index (migration 0006)
        return records.c.id.in_(select(records_search.c.id).where(
            records_search.c.folded.like(pattern, escape="\\")))
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
    owner: str | None = None,
    limit: int = 50,
    offset: int = 0,
    sort: str = "accession",
    with_total: bool = True,
) -> tuple[list[Record], int | None]:
    """Records of ``kind`` (or all kinds) matching every filter; (page, total). ``owner``:
    an organisation whose own offers and demands are listed even when restricted (its
    members' drafts, submitted and invitation-only entries)."""
    spec = kind_spec(kind) if kind else None
    conditions: list[ColumnElement[bool]] = []
    if spec is not None:
        conditions.append(records.c.kind == spec.name)
    if not include_restricted:
        conditions.append(_visible(conn, owner))
    conditions.extend(_condition(conn, spec, f) for f in filters)
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
    return [record_from_row(r) for r in rows], total


def iter_records(
    conn: Connection,
    kind: str,
    filters: Sequence[Filter] = (),
    *,
    query: str | None = None,
    include_restricted: bool = False,
    owner: str | None = None,
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
        conditions.append(_visible(conn, owner))
    conditions.extend(_condition(conn, spec, f) for f in filters)
    if query and query.strip():
        conditions.append(_text_match(conn, query))
    return _record_batches(conn, conditions, spec.prefix, max(1, batch_size))


#: the record kinds an organisation owns (its members see them whatever their status)
OWNED_KINDS = ("offer", "demand")


def _visible(conn: Connection, owner: str | None) -> ColumnElement[bool]:
    """Public records, and ``owner``'s own offers and demands when an organisation is
    given."""
    public = records.c.restricted == literal(False)
    if owner is None:
        return public
    own = _condition(conn, kind_spec("offer"), Filter("organisation", "=", owner))
    return or_(public, and_(records.c.kind.in_(OWNED_KINDS), own))


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
        yield [record_from_row(row, ids[row.id]) for row in rows]
        if len(rows) < batch_size:
            return
        last = rows[-1].accession


def count_by_kind(conn: Connection, include_restricted: bool) -> dict[str, int]:
    stmt = select(records.c.kind, func.count()).group_by(records.c.kind)
    if not include_restricted:
        stmt = stmt.where(records.c.restricted == literal(False))
    return {kind: int(n) for kind, n in conn.execute(stmt)}


def restricted_of_kind(conn: Connection, kind: str) -> set[str]:
    """Accessions of the restricted records of ``kind``."""
    return set(conn.execute(select(records.c.accession).where(
        records.c.kind == kind, records.c.restricted == literal(True))).scalars())


def versions_of_kind(conn: Connection, kind: str, include_restricted: bool) -> dict[str, int]:
    """accession -> version of every record of ``kind`` (those public only, unless
    ``include_restricted``): what a cache keyed by record needs to see what changed."""
    stmt = select(records.c.accession, records.c.version).where(records.c.kind == kind)
    if not include_restricted:
        stmt = stmt.where(records.c.restricted == literal(False))
    return {acc: int(version) for acc, version in conn.execute(stmt)}
