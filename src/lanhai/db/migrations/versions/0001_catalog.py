"""Catalog: records, identifiers, links, versions, users, tokens, full-text index.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from lanhai.db.schema import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TABLES = ["records", "identifiers", "links", "versions", "accession_counters", "users",
           "api_tokens"]


def upgrade() -> None:
    bind = op.get_bind()
    # First revision: the tables exactly as schema.py defines them. Any later change to
    # schema.py needs a new revision (tests/test_migrations.py compares the two).
    for name in _TABLES:
        metadata.tables[name].create(bind)
    if bind.dialect.name == "sqlite":
        # Trigram tokenizer: substring search that works for Chinese as well as English.
        op.execute("CREATE VIRTUAL TABLE records_fts USING fts5(search_text, "
                   "content='records', content_rowid='id', tokenize='trigram')")
        op.execute("CREATE TRIGGER records_fts_ai AFTER INSERT ON records BEGIN "
                   "INSERT INTO records_fts(rowid, search_text) VALUES (new.id, new.search_text);"
                   " END")
        op.execute("CREATE TRIGGER records_fts_ad AFTER DELETE ON records BEGIN "
                   "INSERT INTO records_fts(records_fts, rowid, search_text) "
                   "VALUES ('delete', old.id, old.search_text); END")
        op.execute("CREATE TRIGGER records_fts_au AFTER UPDATE OF search_text ON records BEGIN "
                   "INSERT INTO records_fts(records_fts, rowid, search_text) "
                   "VALUES ('delete', old.id, old.search_text); "
                   "INSERT INTO records_fts(rowid, search_text) VALUES (new.id, new.search_text);"
                   " END")
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_records_search_trgm ON records "
                   "USING gin (search_text gin_trgm_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS records_fts")
    for name in reversed(_TABLES):
        op.drop_table(name)
