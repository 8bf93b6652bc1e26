"""PostgreSQL catalogue search: identifiers found through their words, not their trigrams.

pg_trgm finds a word's candidates by its trigrams and then checks each candidate's whole
text. Identifiers are made of few distinct trigrams (digits, ``tara``, ``_b1``): in a bank
of a million records, ``TARA_B1000004`` has 75,350 candidates for its 7,535 matches, and
checking them cost a quarter of a second.

An identifier-like word (letters, digits and ``_`` only, with a digit) can only occur
inside one run of such characters in a text. So each record's **identifier words** (its
runs of ``[a-z0-9_]`` that hold a digit, from the lower-cased text) are kept in
``records_search.id_words`` under a GIN index.
``search_words`` keeps every distinct identifier word of the bank, with a trigram index. A
search first finds the identifier words that contain the query word (a few, in a table of
short strings), then the records holding any of them, through the GIN index. These are the
same records as ``folded LIKE '%word%'``. A word found in very many identifier words keeps the
trigram path (``lanhai.store.search``).

The triggers of revision 0006 compute each written record's identifier words once, and add
them to ``search_words``. Both new GIN indexes take a 16 MB pending list, so that a bulk
import merges their entries in large sorted batches. Words of deleted or changed records stay
in ``search_words``; they match no record and cost nothing. SQLite is unchanged (FTS5 finds
identifiers fast).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: a record's identifier words: its runs of [a-z0-9_] holding a digit, in text order
_FUNCTION = (
    "CREATE OR REPLACE FUNCTION lanhai_id_words(t text) RETURNS text[] LANGUAGE sql "
    "IMMUTABLE PARALLEL SAFE AS $$ SELECT array(SELECT m[1] FROM regexp_matches(t, "
    "'([a-z0-9_]*[0-9][a-z0-9_]*)', 'g') AS m) $$")
_COLUMNS = ("id, kind, restricted, accession, name, taxon, depth_m, event_date, latitude, "
            "longitude, availability, folded")
_VALUES = ("r.id, r.kind, r.restricted, r.accession, r.name, r.taxon, r.depth_m, "
           "r.event_date, r.latitude, r.longitude, "
           "CASE WHEN r.kind = 'strain' THEN r.fields ->> 'status' END, lower(r.search_text)")
#: the copy of the written records with their identifier words (computed once), whose words
#: join the dictionary
_COPY = (f"WITH added AS (INSERT INTO records_search ({_COLUMNS}, id_words) SELECT {_VALUES}, "
         "lanhai_id_words(lower(r.search_text)) FROM new_records r RETURNING id_words) "
         "INSERT INTO search_words (word) SELECT DISTINCT w FROM added, unnest(added.id_words) w "
         "ON CONFLICT DO NOTHING;")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FUNCTION)
    op.execute("ALTER TABLE records_search ADD COLUMN IF NOT EXISTS id_words text[]")
    op.execute("UPDATE records_search SET id_words = lanhai_id_words(folded)")
    op.execute("CREATE TABLE IF NOT EXISTS search_words (word TEXT PRIMARY KEY)")
    op.execute("INSERT INTO search_words (word) SELECT DISTINCT w FROM records_search, "
               "unnest(id_words) w ON CONFLICT DO NOTHING")
    op.execute("CREATE INDEX IF NOT EXISTS ix_search_words_trgm ON search_words "
               "USING gin (word gin_trgm_ops) WITH (gin_pending_list_limit = 16384)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_records_search_id_words ON records_search "
               "USING gin (id_words) WITH (gin_pending_list_limit = 16384)")
    op.execute("CREATE OR REPLACE FUNCTION records_search_insert() RETURNS trigger "
               f"LANGUAGE plpgsql AS $$ BEGIN {_COPY} RETURN NULL; END $$")
    op.execute("CREATE OR REPLACE FUNCTION records_search_update() RETURNS trigger "
               "LANGUAGE plpgsql AS $$ BEGIN "
               "DELETE FROM records_search s USING new_records r WHERE s.id = r.id; "
               f"{_COPY} RETURN NULL; END $$")
    op.execute("ANALYZE search_words")
    op.execute("ANALYZE records_search")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE OR REPLACE FUNCTION records_search_insert() RETURNS trigger "
               "LANGUAGE plpgsql AS $$ BEGIN "
               f"INSERT INTO records_search ({_COLUMNS}) SELECT {_VALUES} "
               "FROM new_records r; RETURN NULL; END $$")
    op.execute("CREATE OR REPLACE FUNCTION records_search_update() RETURNS trigger "
               "LANGUAGE plpgsql AS $$ BEGIN "
               "DELETE FROM records_search s USING new_records r WHERE s.id = r.id; "
               f"INSERT INTO records_search ({_COLUMNS}) SELECT {_VALUES} "
               "FROM new_records r; RETURN NULL; END $$")
    op.execute("DROP INDEX IF EXISTS ix_records_search_id_words")
    op.execute("ALTER TABLE records_search DROP COLUMN IF EXISTS id_words")
    op.execute("DROP TABLE IF EXISTS search_words")
    op.execute("DROP FUNCTION IF EXISTS lanhai_id_words(text)")
