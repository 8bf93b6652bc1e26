"""Alembic migrations build exactly the schema the code declares, on every backend."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from lanhai.db.engine import current_revision, migrate
from lanhai.db.schema import metadata


def test_migrated_schema_matches_declared_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    # the full-text index objects are managed by the migration, not the metadata
    diff = [d for d in diff if "fts" not in str(d) and "ix_records_search_trgm" not in str(d)
            and "uq_users_username_lower" not in str(d)  # 0004: an index on lower(username)
            and "records_search" not in str(d)  # 0002, 0006: the search facet copy
            and "search_words" not in str(d)]  # 0011: the identifier words (PostgreSQL)
    assert diff == []
    assert current_revision(engine) == "0012"


def test_migrate_is_idempotent(engine: Engine) -> None:
    migrate(engine)
    assert {"records", "identifiers", "links", "versions", "users", "api_tokens"} <= set(
        inspect(engine).get_table_names())


def test_usernames_that_differ_only_in_case_are_told_apart_on_upgrade(tmp_path: Path) -> None:
    """Revision 0004 makes usernames unique whatever their case: of two such users the
    later is renamed name~id and disabled (it could not sign in as itself any more)."""
    import datetime as dt

    from sqlalchemy import insert, select

    from lanhai.db.engine import make_engine
    from lanhai.db.schema import users

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    migrate(engine, "0003")
    stamp = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        for name in ("admin1", "ADMIN1", "ana"):
            conn.execute(insert(users).values(username=name, role="admin", display_name="",
                                              active=True, created_at=stamp))
    migrate(engine)
    with engine.connect() as conn:
        rows = {r.username: r.active for r in conn.execute(select(users))}
    assert rows == {"admin1": True, "ADMIN1~2": False, "ana": True}
