"""PostgreSQL catalogue search: a narrow copy of each record's facet columns and lower-cased
search text.

pg_trgm finds the records whose text holds a word's trigrams, then checks every one of them
against the word (the index does not know where in the text each trigram is: an identifier
such as ``TARA_B1000004`` has tens of thousands of such candidates in a million records),
and a search then reads the facet columns of every match. Both were done on the wide
``records`` rows (the JSON fields and the search text, often compressed together), with
``search_text ILIKE``, which lower-cases the whole text of every candidate, and the strain
status parsed out of the JSON fields of every strain matched: most of a search's time.

``records_search`` (SQLite has its own since revision 0002) holds, one narrow row per
record, the facet columns and ``folded``, the search text lower-cased once when it is
written; its trigram index replaces the one on ``records``. A search checks candidates with
a plain ``LIKE`` of the lower-cased word (the same matches as ``ILIKE``, which is
``lower(text) LIKE lower(word)``) and reads the facets from the same rows. Triggers keep it
in step with ``records``, a statement at a time; deleting a record deletes its copy
(foreign key). SQLite is unchanged.

Like ``records_fts``, the table is managed here and not declared in ``lanhai.db.schema``.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COLUMNS = ("id, kind, restricted, accession, name, taxon, depth_m, event_date, latitude, "
            "longitude, availability, folded")


def _values(row: str) -> str:
    return (f"{row}.id, {row}.kind, {row}.restricted, {row}.accession, {row}.name, "
            f"{row}.taxon, {row}.depth_m, {row}.event_date, {row}.latitude, {row}.longitude, "
            f"CASE WHEN {row}.kind = 'strain' THEN {row}.fields ->> 'status' END, "
            f"lower({row}.search_text)")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # a copy left by a catalogue dropped table by table (its records gone) is stale
    op.execute("DROP TABLE IF EXISTS records_search")
    op.execute("CREATE TABLE records_search (id INTEGER PRIMARY KEY REFERENCES records (id) "
               "ON DELETE CASCADE, kind VARCHAR(16) NOT NULL, restricted BOOLEAN NOT NULL, "
               "accession VARCHAR(16) NOT NULL, name VARCHAR(300) NOT NULL, "
               "taxon VARCHAR(300), depth_m FLOAT, event_date VARCHAR(32), latitude FLOAT, "
               "longitude FLOAT, availability TEXT, folded TEXT NOT NULL)")
    op.execute(f"INSERT INTO records_search ({_COLUMNS}) SELECT {_values('records')} "
               "FROM records")
    op.execute("CREATE INDEX ix_records_search_folded ON records_search "
               "USING gin (folded gin_trgm_ops)")
    # once per statement: a bulk insert is one statement per thousand rows
    op.execute("CREATE OR REPLACE FUNCTION records_search_insert() RETURNS trigger "
               "LANGUAGE plpgsql AS $$ BEGIN "
               f"INSERT INTO records_search ({_COLUMNS}) SELECT {_values('r')} "
               "FROM new_records r; RETURN NULL; END $$")
    op.execute("CREATE TRIGGER records_search_ai AFTER INSERT ON records "
               "REFERENCING NEW TABLE AS new_records "
               "FOR EACH STATEMENT EXECUTE FUNCTION records_search_insert()")
    op.execute("CREATE OR REPLACE FUNCTION records_search_update() RETURNS trigger "
               "LANGUAGE plpgsql AS $$ BEGIN "
               "DELETE FROM records_search s USING new_records r WHERE s.id = r.id; "
               f"INSERT INTO records_search ({_COLUMNS}) SELECT {_values('r')} "
               "FROM new_records r; RETURN NULL; END $$")
    op.execute("CREATE TRIGGER records_search_au AFTER UPDATE ON records "
               "REFERENCING NEW TABLE AS new_records "
               "FOR EACH STATEMENT EXECUTE FUNCTION records_search_update()")
    op.execute("DROP INDEX IF EXISTS ix_records_search_trgm")
    op.execute("ANALYZE records_search")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX IF NOT EXISTS ix_records_search_trgm ON records "
               "USING gin (search_text gin_trgm_ops)")
    for name in ("records_search_ai", "records_search_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON records")
    for name in ("records_search_insert", "records_search_update"):
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute("DROP TABLE IF EXISTS records_search")
