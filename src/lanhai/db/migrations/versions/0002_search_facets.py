"""Catalogue search: a narrow copy of each record's facet columns (SQLite only).

Full-text search with facets reads the kind, taxon, depth, date, place and status of every
match. On SQLite those live in wide ``records`` rows (the JSON fields and the search text,
often spilling onto overflow pages), so each match cost a wide-row read. ``records_search``
holds just those columns, one narrow row per record keyed by the same id, and triggers keep
it in step with ``records`` as ``records_fts`` is kept. PostgreSQL reads the indexed columns
of ``records`` directly (pg_trgm), so nothing changes there.

Like ``records_fts``, the table is managed here and not declared in ``lanhai.db.schema``:
schema.py is unchanged, so revision 0001's definitions (built from schema.py) stay valid.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLUMNS = ("id, kind, restricted, accession, name, taxon, depth_m, event_date, latitude, "
            "longitude, availability")


def _values(row: str) -> str:
    return (f"{row}.id, {row}.kind, {row}.restricted, {row}.accession, {row}.name, "
            f"{row}.taxon, {row}.depth_m, {row}.event_date, {row}.latitude, {row}.longitude, "
            f"CASE WHEN {row}.kind = 'strain' THEN json_extract({row}.fields, '$.status') END")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE records_search (id INTEGER PRIMARY KEY, kind VARCHAR(16) NOT NULL, "
               "restricted BOOLEAN NOT NULL, accession VARCHAR(16) NOT NULL, "
               "name VARCHAR(300) NOT NULL, taxon VARCHAR(300), depth_m FLOAT, "
               "event_date VARCHAR(32), latitude FLOAT, longitude FLOAT, availability TEXT)")
    op.execute(f"INSERT INTO records_search ({_COLUMNS}) SELECT {_values('records')} "
               "FROM records")
    op.execute("CREATE TRIGGER records_search_ai AFTER INSERT ON records BEGIN "
               f"INSERT INTO records_search ({_COLUMNS}) VALUES ({_values('new')}); END")
    op.execute("CREATE TRIGGER records_search_au AFTER UPDATE ON records BEGIN "
               f"INSERT OR REPLACE INTO records_search ({_COLUMNS}) VALUES ({_values('new')});"
               " END")
    op.execute("CREATE TRIGGER records_search_ad AFTER DELETE ON records BEGIN "
               "DELETE FROM records_search WHERE id = old.id; END")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in ("records_search_ai", "records_search_au", "records_search_ad"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS records_search")
