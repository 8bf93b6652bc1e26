"""PostgreSQL full text: a narrow, lower-cased copy of each record's search text.

pg_trgm finds the records whose text holds a word's trigrams, then checks every one of them
against the word (the index does not know where in the text each trigram is: an identifier
such as ``TARA_B1000004`` has tens of thousands of such candidates in a million records).
That check was ``search_text ILIKE``, which lower-cases the whole text of every candidate
(in a wide ``records`` row, often compressed with the record's fields) — most of a
search's time. ``records_text`` holds the search text lower-cased once, when it is written,
in narrow rows; its trigram index replaces the one on ``records``, and a search checks
candidates with a plain ``LIKE`` of the lower-cased word: the same matches as ``ILIKE``
(which is ``lower(text) LIKE lower(word)``), several times faster. A trigger keeps it in step
with ``records``; deleting a record deletes its copy (foreign key). SQLite is unchanged
(FTS5, revision 0001).

Like ``records_fts`` and ``records_search``, the table is managed here and not declared in
``lanhai.db.schema``.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # a copy left by a catalogue dropped table by table (its records gone) is stale
    op.execute("DROP TABLE IF EXISTS records_text")
    op.execute("CREATE TABLE records_text (id INTEGER PRIMARY KEY REFERENCES records (id) "
               "ON DELETE CASCADE, folded TEXT NOT NULL)")
    op.execute("INSERT INTO records_text (id, folded) SELECT id, lower(search_text) "
               "FROM records")
    op.execute("CREATE INDEX ix_records_text_trgm ON records_text "
               "USING gin (folded gin_trgm_ops)")
    # new records once per statement (a bulk insert is one statement per thousand rows);
    # a changed search text row by row (a trigger on a column cannot see a statement's rows)
    op.execute("CREATE OR REPLACE FUNCTION records_text_insert() RETURNS trigger "
               "LANGUAGE plpgsql AS $$ "
               "BEGIN INSERT INTO records_text (id, folded) "
               "SELECT id, lower(search_text) FROM new_records; RETURN NULL; END $$")
    op.execute("CREATE TRIGGER records_text_ai AFTER INSERT ON records "
               "REFERENCING NEW TABLE AS new_records "
               "FOR EACH STATEMENT EXECUTE FUNCTION records_text_insert()")
    op.execute("CREATE OR REPLACE FUNCTION records_text_update() RETURNS trigger "
               "LANGUAGE plpgsql AS $$ "
               "BEGIN UPDATE records_text SET folded = lower(NEW.search_text) "
               "WHERE id = NEW.id; RETURN NULL; END $$")
    op.execute("CREATE TRIGGER records_text_au AFTER UPDATE OF search_text ON records "
               "FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text) "
               "EXECUTE FUNCTION records_text_update()")
    op.execute("DROP INDEX IF EXISTS ix_records_search_trgm")
    op.execute("ANALYZE records_text")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX IF NOT EXISTS ix_records_search_trgm ON records "
               "USING gin (search_text gin_trgm_ops)")
    for name in ("records_text_ai", "records_text_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON records")
    for name in ("records_text_insert", "records_text_update"):
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute("DROP TABLE IF EXISTS records_text")
