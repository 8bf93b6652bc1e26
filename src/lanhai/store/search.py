"""The SQL of catalogue search: which records match words and filters, their facet columns.

Words go through the full-text index (SQLite FTS5 trigram; PostgreSQL pg_trgm over the
lower-cased text of ``records_search``); filters on the indexed columns. The facet columns
are read from ``records_search``, the narrow copy migrations 0002 (SQLite) and 0006
(PostgreSQL) keep in step by triggers, so reading many matches never reads the wide records
rows. Restricted records are excluded here for callers who may not see them, so they
never reach a page or a count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    column,
    exists,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from lanhai.db.schema import records, versions
from lanhai.kinds import fts_phrase
from lanhai.model import Record
from lanhai.search.filters import BBox, CatalogFilters, words_of
from lanhai.store.records import record_from_row
from lanhai.store.search_columns import Columns, Vocabularies

#: a narrow copy of each record's facet columns (SQLite: migration 0002; PostgreSQL: 0006,
#: with ``folded``, the search text lower-cased, under the trigram index), kept in step by
#: triggers, so reading the facets of many matches never reads the wide records rows
records_search = Table(
    "records_search", MetaData(),
    Column("id", Integer, primary_key=True), Column("kind", String(16)),
    Column("restricted", Boolean), Column("accession", String(16)), Column("name", String(300)),
    Column("taxon", String(300)), Column("depth_m", Float), Column("event_date", String(32)),
    Column("latitude", Float), Column("longitude", Float), Column("availability", Text),
    Column("folded", Text),  # PostgreSQL only
    Column("id_words", ARRAY(Text)),  # PostgreSQL only: the text's identifier words (0011)
)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


#: a word looked up among the bank's identifier words (PostgreSQL, migration 0011): letters,
#: digits and ``_`` only, a digit among them, three characters or more
IDENTIFIER_WORD = re.compile(r"(?=[a-z_]*[0-9])[a-z0-9_]{3,}")
#: a word found in more identifier words than this is matched by its trigrams instead
MAX_IDENTIFIER_WORDS = 1000


def identifier_words(conn: Connection, word: str) -> list[str] | None:
    """The bank's identifier words that contain ``word`` (PostgreSQL), or None when the word
    is not identifier-like or is in too many of them (then its trigrams find it)."""
    lowered = word.lower()
    if not IDENTIFIER_WORD.fullmatch(lowered):
        return None
    found = [row[0] for row in conn.execute(
        text("SELECT word FROM search_words WHERE word LIKE :pattern ESCAPE '\\' "
             "LIMIT :most"),
        {"pattern": "%" + _escape(lowered) + "%", "most": MAX_IDENTIFIER_WORDS + 1})]
    return None if len(found) > MAX_IDENTIFIER_WORDS else found


def _availability(table: Table = records) -> ColumnElement[Any]:
    """A strain's status field (available, not available, in preparation); NULL otherwise."""
    if table is records_search:
        return records_search.c.availability
    return case((records.c.kind == "strain", records.c.fields["status"].as_string()),
                else_=None)


def _box(bbox: BBox, table: Table) -> ColumnElement[bool]:
    lat, lon = table.c.latitude, table.c.longitude
    inside_lat = and_(lat >= bbox.south, lat <= bbox.north)
    if bbox.west <= bbox.east:
        return and_(inside_lat, lon >= bbox.west, lon <= bbox.east)
    return and_(inside_lat, or_(lon >= bbox.west, lon <= bbox.east))


def filter_conditions(filters: CatalogFilters, table: Table = records
                      ) -> list[ColumnElement[bool]]:
    """The conditions on indexed columns of ``table`` (``records`` or ``records_search``);
    the lineage filters (has genome, has family) are applied by the service as id sets."""
    found: list[ColumnElement[bool]] = []
    if filters.kinds:
        found.append(table.c.kind.in_(filters.kinds))
    if filters.taxon:
        found.append(table.c.taxon.ilike(_escape(filters.taxon.strip()) + "%", escape="\\"))
    if filters.depth_min is not None:
        found.append(table.c.depth_m >= filters.depth_min)
    if filters.depth_max is not None:
        found.append(table.c.depth_m <= filters.depth_max)
    if filters.date_from:
        found.append(table.c.event_date >= filters.date_from)
    if filters.date_to:
        # '2010' includes every day of 2010: compare below the next character
        found.append(table.c.event_date <= filters.date_to + "~")
    if filters.bbox is not None:
        found.append(_box(filters.bbox, table))
    if filters.available:
        found.append(_availability(table) == "available")
    return found


def has_search_table(conn: Connection) -> bool:
    """Whether the bank has ``records_search`` (SQLite: migration 0002, PostgreSQL: 0006)."""
    if conn.dialect.name != "sqlite":
        return conn.exec_driver_sql(
            "SELECT to_regclass('records_search') IS NOT NULL").scalar() is True
    return conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records_search'"
    ).first() is not None


class TextMatch:
    """The conditions a text query puts on records, ready for either way of searching."""

    def __init__(self, conn: Connection, query: str, table: Table) -> None:
        self.conditions: list[ColumnElement[bool]] = []
        self.fts: Any | None = None
        #: whether matches are ranked by their name (there are words to rank by)
        self.ranked = False
        tokens = words_of(query)
        if not tokens:
            return
        if conn.dialect.name != "sqlite":
            # pg_trgm, too, finds only words of three characters or more through the index:
            # a one- or two-character Han word is looked up as the search text spells it
            # out (the same records: every Han run is stored spelled out as well)
            patterns = ["%" + _escape(fts_phrase(t) or t) + "%" for t in tokens]
            if table is records_search:  # its lower-cased text: LIKE gives ILIKE's matches
                for token, pattern in zip(tokens, patterns, strict=True):
                    # an identifier lies inside one of the record's identifier words
                    # (migration 0011): the records holding a word that contains it
                    words = identifier_words(conn, token)
                    if words is not None:
                        self.conditions.append(records_search.c.id_words.op("&&")(
                            bindparam(None, words, type_=ARRAY(Text))))
                    else:
                        self.conditions.append(
                            records_search.c.folded.like(func.lower(pattern), escape="\\"))
            else:
                self.conditions += [records.c.search_text.ilike(p, escape="\\")
                                    for p in patterns]
            self.ranked = True
            return
        phrases = [p for p in (fts_phrase(t) for t in tokens) if p is not None]
        # trigram FTS5 needs three characters (short Han words are stored spelled out to
        # reach three); short Latin words are checked by LIKE on the rows the other words
        # found (or, alone, by a scan)
        for short in (t for t in tokens if fts_phrase(t) is None):
            like = records.c.search_text.ilike("%" + _escape(short) + "%", escape="\\")
            self.conditions.append(like if table is records else exists(
                select(literal(1)).where(records.c.id == table.c.id, like)))
        if phrases:
            match = " AND ".join('"' + t.replace('"', '""') + '"' for t in phrases)
            self.fts = (text("SELECT rowid AS rid FROM records_fts "
                             "WHERE records_fts MATCH :match").bindparams(match=match)
                        .columns(column("rid", Integer)).subquery("fts"))
            self.ranked = True

    @property
    def empty(self) -> bool:
        return not self.conditions and self.fts is None


def text_ids(conn: Connection, query: str) -> NDArray[np.int64] | None:
    """Ids of the records holding every word (None for no words): FTS5 on SQLite."""
    match = TextMatch(conn, query, records)
    if match.empty:
        return None
    if match.fts is not None and not match.conditions:
        stmt = select(match.fts.c.rid)
    elif match.fts is not None:
        stmt = (select(records.c.id)
                .select_from(match.fts.join(records, records.c.id == match.fts.c.rid))
                .where(and_(*match.conditions)))
    else:
        stmt = select(records.c.id).where(and_(*match.conditions))
    result = conn.execute(stmt)
    found = np.fromiter((r[0] for r in result.cursor.fetchall()), dtype=np.int64)
    result.close()
    return found


def matching_rows(conn: Connection, query: str, filters: CatalogFilters,
                  include_restricted: bool) -> Columns:
    """The facet columns of every match, read by one SQL query (PostgreSQL, or a one-off
    command on SQLite)."""
    table = records_search if has_search_table(conn) else records
    match = TextMatch(conn, query, table)
    conditions = filter_conditions(filters, table)
    if not include_restricted:
        conditions.append(table.c.restricted == literal(False))
    conditions.extend(match.conditions)
    stmt = select(table.c.id, table.c.accession, table.c.kind, table.c.name,
                  table.c.taxon, table.c.depth_m, table.c.event_date,
                  table.c.latitude, table.c.longitude, _availability(table).label("avail"),
                  table.c.restricted)
    if match.fts is not None:
        stmt = stmt.select_from(match.fts.join(table, table.c.id == match.fts.c.rid))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    # plain tuples straight from the driver: every column is a plain number or string
    result = conn.execute(stmt)
    rows = result.cursor.fetchall()
    result.close()
    return Columns.from_rows(rows, Vocabularies.new())


def records_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, Record]:
    """The full records of a result page, by database id."""
    if not ids:
        return {}
    return {row.id: record_from_row(row)
            for row in conn.execute(select(records).where(records.c.id.in_(list(ids))))}


def ids_of(conn: Connection, accessions: Sequence[str], include_restricted: bool) -> set[int]:
    """Database ids of the records named (those the caller may see)."""
    wanted = sorted(set(accessions))
    ids: set[int] = set()
    for start in range(0, len(wanted), 500):
        stmt = select(records.c.id).where(records.c.accession.in_(wanted[start:start + 500]))
        if not include_restricted:
            stmt = stmt.where(records.c.restricted == literal(False))
        ids.update(r[0] for r in conn.execute(stmt))
    return ids


def latest_change(conn: Connection) -> int | None:
    """The newest audit-trail id: it moves with every create, update, link and unlink."""
    value = conn.execute(select(func.max(versions.c.id))).scalar()
    return None if value is None else int(value)
